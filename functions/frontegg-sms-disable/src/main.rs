//! `POST /resources/users/v1/mfa/sms/{deviceId}/disable/verify` (and under `/frontegg/identity`): removes that phone (proof in the request).
use mfa_shared::{frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-sms-disable", |app, req| Box::pin(frontegg::sms_disable(app, req)))
}
