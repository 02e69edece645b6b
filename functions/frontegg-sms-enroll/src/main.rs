//! `POST /resources/users/v1/mfa/sms/enroll` (and under `/frontegg/identity`): begins a phone.
use mfa_shared::{frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-sms-enroll", |app, req| Box::pin(frontegg::sms_enroll(app, req)))
}
