//! `POST /resources/users/v1/mfa/webauthn/{deviceId}/disable` (and under `/frontegg/identity`): opens a ceremony to prove that passkey.
use mfa_shared::{frontegg, lambda};

fn main() -> Result<(), lambda::Error> {
    lambda::function("frontegg-webauthn-disable-options", |app, req| {
        Box::pin(frontegg::webauthn_disable_options(app, req))
    })
}
