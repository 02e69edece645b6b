//! Route handlers, a file per resource. Each is a plain `async fn` taking its
//! dependencies by reference and always answering with a response: refusals become the
//! JSON envelope, never an `Err` that API Gateway would turn into a bare 502.

mod backup_codes;
mod codes;
mod devices;
mod events;
mod factors;
mod fallback;
mod login;
mod magic_link;
mod manage;
mod organization;
mod passkey;
mod reset;
mod session;
mod setup;
mod status;

pub use backup_codes::regenerate_backup_codes;
pub use codes::{send_email_code, send_sms_code};
pub use devices::{
    forget as forget_device, forget_all as forget_devices, list as devices, remember as remember_device,
};
pub use events::list as events;
pub use factors::{list as factors, remove as remove_factor, rename as rename_factor};
pub use fallback::fallback;
pub use login::{recover, verify_login};
pub use magic_link::{activate as magic_link_activate, send as magic_link_send};
pub use manage::{disable, enable, primary};
pub use organization::enforce;
pub use passkey::{auth_options as passkey_auth_options, complete_registration as passkey_complete_registration};
pub use reset::reset;
pub use session::{jwks, jwks_document, refresh as token_refresh};
pub use setup::{setup, verify_setup};
pub use status::{methods, status};

use lambda_http::Request;
use serde::Deserialize;

use crate::model::MfaType;
use crate::refusal::Refusal;
use crate::routes::allowed_methods;

/// The path parameter `name` (a factor's or a device's id): any id the user might hold,
/// at most 64 characters; an id that is not theirs is `missing` like an absent one.
pub(crate) fn path_id(req: &Request, name: &str, missing: Refusal) -> Result<String, Refusal> {
    use lambda_http::RequestExt;
    req.path_parameters_ref()
        .and_then(|p| p.first(name))
        .filter(|id| !id.is_empty() && id.len() <= 64)
        .map(str::to_string)
        .ok_or(missing)
}

/// Refuses any method but `expected` with 405 (`cargo lambda watch` sends every method
/// of a path to its function; API Gateway sends them to the fallback).
pub(crate) fn require_method(req: &Request, expected: &'static str) -> Result<(), Refusal> {
    if req.method().as_str() == expected {
        return Ok(());
    }
    let path = req.uri().path();
    Err(Refusal::MethodNotAllowed {
        method: req.method().as_str().to_string(),
        path: path.to_string(),
        allow: allowed_methods(path).unwrap_or_else(|| expected.to_string()),
    })
}

/// The answer of a completed setup: its message, and the backup codes issued with it when
/// it enabled the user's first factor (`data.backupCodes`, shown this once).
fn completed(
    message: &str,
    backup_codes: Option<Vec<crate::crypto::SecretString>>,
) -> lambda_http::Response<lambda_http::Body> {
    use crate::crypto::ExposeSecret;
    match backup_codes {
        None => crate::envelope::message(message),
        Some(codes) => {
            let codes: Vec<&str> = codes.iter().map(|c| c.expose_secret()).collect();
            crate::envelope::message_with_data(message, &serde_json::json!({ "backupCodes": codes }))
        }
    }
}

/// `{factorId?}`: the factor to send a login link or code to, when the user has several.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FactorChoice {
    factor_id: Option<String>,
}

/// `{mfaType}`: the body of enable, disable and primary.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MethodInput {
    mfa_type: MfaType,
}
