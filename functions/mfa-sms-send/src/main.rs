//! `POST /mfa/sms/send`: texts a login code (SMS).
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-sms-send", |call| Box::pin(edge::run(call, handlers::codes::send_sms_code)))
}
