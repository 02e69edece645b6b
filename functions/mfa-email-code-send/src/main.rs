//! `POST /mfa/email-code/send`: mails a login code (EMAIL_OTP).
use mfa_shared::{handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-email-code-send", |app, req| Box::pin(handlers::send_email_code(app, req)))
}
