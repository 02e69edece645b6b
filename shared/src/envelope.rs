//! The JSON envelope, and the one place where refusals and the store's and mailer's
//! errors become HTTP responses.
//!
//! Success: `{"success": true, "data": …}` or `{"success": true, "message": "…"}`.
//! Failure: `{"success": false, "error": "<a sentence a person can act on>", "code": "…"}`.
//!
//! Frontegg's routes answer their successes in Frontegg's shapes, without the envelope
//! ([`frontegg`]), and their failures in the envelope with Frontegg's fields added,
//! `errors: [error]` and `errorCode: code`, which its client's `FronteggApiError` reads
//! ([`Shape::Frontegg`]).

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::json;

use crate::mail::MailError;
use crate::refusal::{Dependency, Refusal};
use crate::store::StoreError;

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => Refusal::ConcurrentUpdate,
            StoreError::Spent(_) => Refusal::AlreadyUsed,
            StoreError::Unavailable(detail) => {
                tracing::error!(%detail, "DynamoDB unavailable");
                Refusal::Unavailable(Dependency::Store)
            }
            StoreError::Failed(detail) | StoreError::Malformed(detail) => {
                tracing::error!(%detail, "DynamoDB request failed");
                Refusal::Internal
            }
        }
    }
}

impl From<MailError> for Refusal {
    fn from(e: MailError) -> Self {
        tracing::error!(error = %e, "sending mail failed");
        Refusal::Unavailable(Dependency::Mail)
    }
}

/// The two shapes of a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// The envelope.
    Ours,
    /// The envelope with `errors` and `errorCode` (Frontegg's routes).
    Frontegg,
}

impl Refusal {
    pub fn into_response(self) -> Response<Body> {
        self.into_shaped(Shape::Ours)
    }

    pub fn into_shaped(self, shape: Shape) -> Response<Body> {
        let (sentence, code) = (self.sentence(), self.code());
        let body = match shape {
            Shape::Ours => json!({ "success": false, "error": sentence, "code": code }),
            Shape::Frontegg => {
                json!({ "success": false, "error": sentence, "code": code, "errors": [sentence], "errorCode": code })
            }
        };
        let mut response = json_response(self.status(), &body);
        let headers = response.headers_mut();
        if let Some(seconds) = self.retry_after() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(allow) = self.allow() {
            if let Ok(allow) = HeaderValue::from_str(allow) {
                headers.insert(header::ALLOW, allow);
            }
        }
        response
    }
}

/// `{"success": true, "data": data}`.
pub fn data<T: Serialize>(data: &T) -> Response<Body> {
    json_response(StatusCode::OK, &json!({ "success": true, "data": data }))
}

/// `{"success": true, "message": message}`.
pub fn message(message: &str) -> Response<Body> {
    json_response(StatusCode::OK, &json!({ "success": true, "message": message }))
}

/// `{"success": true, "message": message, "data": data}`: a message with something to
/// show once (the backup codes of a first factor).
pub fn message_with_data<T: Serialize>(message: &str, data: &T) -> Response<Body> {
    json_response(StatusCode::OK, &json!({ "success": true, "message": message, "data": data }))
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

/// Turns a handler's outcome into the response, logging refusals at a level that fits:
/// client mistakes at info, server faults at error.
pub fn respond(outcome: Result<Response<Body>, Refusal>) -> Response<Body> {
    respond_as(Shape::Ours, outcome)
}

/// [`respond`] in `shape`.
pub fn respond_as(shape: Shape, outcome: Result<Response<Body>, Refusal>) -> Response<Body> {
    match outcome {
        Ok(response) => response,
        Err(refusal) => {
            let status = refusal.status();
            if status.is_server_error() {
                tracing::error!(status = status.as_u16(), code = refusal.code(), "request failed");
            } else {
                tracing::info!(status = status.as_u16(), code = refusal.code(), "request refused");
            }
            refusal.into_shaped(shape)
        }
    }
}

/// A success of a Frontegg route: its own body, no envelope (`201` for the pre-login
/// `POST`s, `200` otherwise).
pub fn frontegg<T: Serialize>(status: StatusCode, body: &T) -> Response<Body> {
    json_response(status, body)
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
    fn refusals_use_the_envelope_and_headers() {
        let r = Refusal::TooManyAttempts { seconds: 90 }.into_response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()["retry-after"], "90");
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(
            body_json(&r),
            json!({"success": false, "error": "Too many failed verification attempts; try again in 2 minute(s).", "code": "TOO_MANY_ATTEMPTS"})
        );
    }

    #[test]
    fn method_not_allowed_names_the_allowed_method() {
        let r = Refusal::MethodNotAllowed { method: "POST".into(), path: "/mfa/status".into(), allow: "GET".into() }
            .into_response();
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.headers()["allow"], "GET");
        assert_eq!(body_json(&r)["code"], "METHOD_NOT_ALLOWED");
    }

    #[test]
    fn store_errors_map_to_precise_answers() {
        assert_eq!(Refusal::from(StoreError::Conflict).status(), StatusCode::CONFLICT);
        assert_eq!(Refusal::from(StoreError::Unavailable("x".into())).status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(Refusal::from(StoreError::Failed("x".into())).status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn frontegg_failures_carry_its_fields_beside_ours() {
        let r = Refusal::StepUpRequired.into_shaped(Shape::Frontegg);
        let body = body_json(&r);
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(body["code"], "STEP_UP_REQUIRED");
        assert_eq!(body["errorCode"], body["code"]);
        assert_eq!(body["errors"], json!([body["error"]]));
    }

    #[test]
    fn success_shapes() {
        assert_eq!(body_json(&data(&json!({"a": 1}))), json!({"success": true, "data": {"a": 1}}));
        assert_eq!(body_json(&message("done")), json!({"success": true, "message": "done"}));
    }
}
