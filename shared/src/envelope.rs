//! The JSON envelope and the one place where errors become HTTP responses.
//!
//! Success: `{"success": true, "data": …}` or `{"success": true, "message": "…"}`.
//! Failure: `{"success": false, "error": "<a sentence a person can act on>", "code": "…"}`.

use std::borrow::Cow;

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::json;

/// An error answered to the client. The message is safe to show: it never carries a
/// secret, and internal causes are logged, not returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: Cow<'static, str>,
    /// Seconds, sent as `Retry-After` (429 and 503).
    pub retry_after: Option<u64>,
    /// Sent as `Allow` (405).
    pub allow: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self { status, code, message: message.into(), retry_after: None, allow: None }
    }

    /// 400: the input is malformed or names an unknown value.
    pub fn bad_request(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401: the token is missing, malformed, forged or expired.
    pub fn unauthorized(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// 403: role, organization policy or step-up.
    pub fn forbidden(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// 404: unknown user, resource or route.
    pub fn not_found(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// 405: the route exists with another method.
    pub fn method_not_allowed(method: &str, path: &str, allow: &'static str) -> Self {
        Self {
            allow: Some(allow),
            ..Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                format!("{path} does not accept {method}; use {allow}."),
            )
        }
    }

    /// 409: the user's MFA state does not allow this change.
    pub fn conflict(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 413: the body is over the limit.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            format!("Request body is larger than {} KiB; send a smaller JSON body.", limit / 1024),
        )
    }

    /// 429: locked out or rate limited.
    pub fn too_many_requests(code: &'static str, message: impl Into<Cow<'static, str>>, retry_after: u64) -> Self {
        Self { retry_after: Some(retry_after.max(1)), ..Self::new(StatusCode::TOO_MANY_REQUESTS, code, message) }
    }

    /// 503: a dependency (DynamoDB, SES) is unavailable.
    pub fn unavailable(message: impl Into<Cow<'static, str>>, retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after.max(1)),
            ..Self::new(StatusCode::SERVICE_UNAVAILABLE, "SERVICE_UNAVAILABLE", message)
        }
    }

    /// 500: something unexpected; the cause is logged by the caller, never returned.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "Something went wrong on our side; try again, and contact support if it persists.",
        )
    }

    pub fn into_response(self) -> Response<Body> {
        let body = json!({ "success": false, "error": self.message, "code": self.code });
        let mut response = json_response(self.status, &body);
        let headers = response.headers_mut();
        if let Some(seconds) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(allow) = self.allow {
            headers.insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        response
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

/// `{"success": true, "data": data}`.
pub fn data<T: Serialize>(data: &T) -> Response<Body> {
    json_response(StatusCode::OK, &json!({ "success": true, "data": data }))
}

/// `{"success": true, "message": message}`.
pub fn message(message: &str) -> Response<Body> {
    json_response(StatusCode::OK, &json!({ "success": true, "message": message }))
}

/// A JSON response with the given status and an already-shaped body.
pub fn json_response<T: Serialize>(status: StatusCode, body: &T) -> Response<Body> {
    // Serializing our own response types cannot fail; fall back to a fixed 500 body if it ever does.
    let text = serde_json::to_string(body).unwrap_or_else(|_| {
        r#"{"success":false,"error":"Something went wrong on our side.","code":"INTERNAL_ERROR"}"#.to_string()
    });
    let mut response = Response::new(Body::Text(text));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Turns a handler's outcome into the response, logging failures at a level that fits:
/// client mistakes at info, server faults at error.
pub fn respond(outcome: Result<Response<Body>, ApiError>) -> Response<Body> {
    match outcome {
        Ok(response) => response,
        Err(error) => {
            if error.status.is_server_error() {
                tracing::error!(status = error.status.as_u16(), code = error.code, "request failed");
            } else {
                tracing::info!(status = error.status.as_u16(), code = error.code, "request refused");
            }
            error.into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_json(r: &Response<Body>) -> serde_json::Value {
        match r.body() {
            Body::Text(t) => serde_json::from_str(t).unwrap(),
            other => panic!("unexpected body {other:?}"),
        }
    }

    #[test]
    fn errors_use_the_envelope_and_headers() {
        let r = ApiError::too_many_requests("LOCKED", "Too many attempts; wait.", 90).into_response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()["retry-after"], "90");
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(
            body_json(&r),
            json!({"success": false, "error": "Too many attempts; wait.", "code": "LOCKED"})
        );
    }

    #[test]
    fn method_not_allowed_names_the_allowed_method() {
        let r = ApiError::method_not_allowed("POST", "/mfa/status", "GET").into_response();
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.headers()["allow"], "GET");
        assert_eq!(body_json(&r)["code"], "METHOD_NOT_ALLOWED");
    }

    #[test]
    fn success_shapes() {
        assert_eq!(body_json(&data(&json!({"a": 1}))), json!({"success": true, "data": {"a": 1}}));
        assert_eq!(body_json(&message("done")), json!({"success": true, "message": "done"}));
    }
}
