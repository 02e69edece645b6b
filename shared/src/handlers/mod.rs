//! Route handlers, a file per resource. Each is an `async fn` from the request that passed
//! the edge (`edge::Call`), its caller and its typed input to an `edge::Answer`; the edge
//! checked the method, authenticated by the row's auth kind and read the input, and turns a
//! refusal into the JSON envelope, never an `Err` that API Gateway would turn into a bare
//! 502.

pub mod backup_codes;
pub mod codes;
pub mod devices;
pub mod events;
pub mod factors;
pub mod fallback;
pub mod login;
pub mod magic_link;
pub mod manage;
pub mod organization;
pub mod passkey;
pub mod reset;
pub mod session;
pub mod setup;
pub mod status;

// What the hand-kept entry points (JWKS, the fallback) call.
pub use fallback::fallback;
pub use session::{jwks, jwks_document};

use lambda_http::Request;
use serde::Deserialize;

use crate::model::MfaType;
use crate::refusal::Refusal;

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

/// The `{factorId}` of the path (an unknown one is a 404 of the step, like any other id
/// that is not theirs).
pub struct FactorId(pub String);

impl crate::edge::Input for FactorId {
    fn read(req: &Request) -> Result<Self, Refusal> {
        path_id(req, "factorId", Refusal::FactorNotFound).map(FactorId)
    }
}

/// The `{deviceId}` of the path: one of the caller's remembered devices.
pub struct DeviceId(pub String);

impl crate::edge::Input for DeviceId {
    fn read(req: &Request) -> Result<Self, Refusal> {
        path_id(req, "deviceId", Refusal::DeviceNotFound).map(DeviceId)
    }
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
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct FactorChoice {
    factor_id: Option<String>,
}

/// `{mfaType}`: the body of enable, disable and primary.
#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct MethodInput {
    mfa_type: MfaType,
}

#[cfg(feature = "contract")]
impl crate::edge::contract::Described for FactorId {
    fn body(_: &mut schemars::SchemaGenerator) -> Option<(serde_json::Value, bool)> {
        None
    }
}

#[cfg(feature = "contract")]
impl crate::edge::contract::Described for DeviceId {
    fn body(_: &mut schemars::SchemaGenerator) -> Option<(serde_json::Value, bool)> {
        None
    }
}
