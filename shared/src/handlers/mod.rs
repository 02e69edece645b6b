//! Route handlers. Each is a plain `async fn` taking its dependencies by reference and
//! always answering with a response: failures become the JSON envelope, never an `Err`
//! that API Gateway would turn into a bare 502.

mod account;
mod fallback;
mod login;
mod magic_link;
mod manage;
mod methods;
mod passkey;
mod reset;
mod setup;
mod status;
mod verify_setup;

pub use account::{enforce, jwks, jwks_document, regenerate_backup_codes};
pub use fallback::fallback;
pub use login::{recover, refresh as token_refresh, verify_login};
pub use magic_link::{activate as magic_link_activate, send as magic_link_send};
pub use manage::{disable, enable, primary};
pub use methods::methods;
pub use passkey::{auth_options as passkey_auth_options, complete_registration as passkey_complete_registration};
pub use reset::reset;
pub use setup::setup;
pub use status::status;
pub use verify_setup::verify_setup;

use lambda_http::Request;
use serde::Deserialize;

use crate::envelope::ApiError;
use crate::model::MfaType;
use crate::routes::allowed_methods;

/// Refuses any method but `expected` with 405 (`cargo lambda watch` sends every method
/// of a path to its function; API Gateway sends them to the fallback).
fn require_method(req: &Request, expected: &'static str) -> Result<(), ApiError> {
    if req.method().as_str() == expected {
        return Ok(());
    }
    let path = req.uri().path();
    Err(ApiError::method_not_allowed(req.method().as_str(), path, allowed_methods(path).unwrap_or(expected)))
}

/// `{mfaType}`: the body of enable, disable and primary.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MethodInput {
    mfa_type: MfaType,
}
