//! `POST /resources/users/v1/mfa/sms/{deviceId}/disable` (and under `/frontegg/identity`): texts a code to prove that phone.
use mfa_shared::{frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-sms-disable-send", |app, req| Box::pin(frontegg::sms_disable_send(app, req)))
}
