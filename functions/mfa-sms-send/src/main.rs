//! `POST /mfa/sms/send`: texts a login code (SMS).
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-sms-send", |app, req| Box::pin(handlers::send_sms_code(app, req)))
}
