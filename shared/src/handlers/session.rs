//! `POST /mfa/token/refresh` and `GET /.well-known/jwks.json`: keeping a session going,
//! and the keys that verify its access tokens.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde::Deserialize;

use crate::auth::Principal;
use crate::crypto::SecretString;
use crate::edge::{Answer, Call, Json};
use crate::envelope::json_response;
use crate::sessions;

#[derive(Debug, Deserialize)]
#[cfg_attr(feature = "contract", derive(schemars::JsonSchema))]
#[serde(rename_all = "camelCase")]
pub struct RefreshInput {
    #[cfg_attr(feature = "contract", schemars(with = "String"))]
    refresh_token: SecretString,
}

/// `POST /mfa/token/refresh`: rotates the refresh token and issues a new access token.
/// The bearer is the platform token (see `sessions`).
pub async fn refresh(Call { app, .. }: Call<'_>, principal: Principal, Json(input): Json<RefreshInput>) -> Answer {
    let session = sessions::refresh(app, &principal, &input.refresh_token).await?;
    Ok(json_response(StatusCode::OK, &session.body("Token refreshed")))
}

/// The JWKS document, built once at cold start from `MFA_TOKEN_PUBLIC_KEYS`: each key
/// rebuilt from its public fields alone (a key with any other field fails the start).
pub fn jwks_document(public_keys: &str) -> Result<String, &'static str> {
    crate::auth::parse_jwks(public_keys)?;
    let set: serde_json::Value = serde_json::from_str(public_keys).map_err(|_| "not JSON")?;
    let keys: Vec<serde_json::Value> = set["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|key| {
            let public =
                crate::auth::PUBLIC_JWK_FIELDS.iter().filter_map(|f| Some((f.to_string(), key.get(*f)?.clone())));
            serde_json::Value::Object(public.collect())
        })
        .collect();
    Ok(serde_json::json!({ "keys": keys }).to_string())
}

/// `GET /.well-known/jwks.json`: the public keys that verify full-access tokens. No auth.
pub async fn jwks(document: &str, req: Request) -> Response<Body> {
    if req.method() != lambda_http::http::Method::GET {
        return super::fallback(req).await;
    }
    let mut response = Response::new(Body::Text(document.to_string()));
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}
