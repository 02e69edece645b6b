//! `POST /mfa/email-code/send`: mails a login code (EMAIL_OTP).
#![recursion_limit = "256"]
use mfa_shared::{edge, handlers, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("mfa-email-code-send", |call| Box::pin(edge::run(call, handlers::codes::send_email_code)))
}
