//! `POST /resources/users/v1/mfa/sms/enroll/verify` (and under `/frontegg/identity`): completes the phone.
use mfa_shared::{frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-sms-enroll-verify", |app, req| Box::pin(frontegg::sms_enroll_verify(app, req)))
}
