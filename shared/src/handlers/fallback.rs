use lambda_http::{Body, Request, Response};

use crate::envelope::{ApiError, respond};
use crate::routes::allowed_methods;

/// Every request no route matches (API Gateway's `$default` route): 405 for a known path
/// with the wrong method, 404 otherwise, both in the envelope. Needs no configuration.
pub async fn fallback(req: Request) -> Response<Body> {
    let path = req.uri().path().to_string();
    let method = req.method().as_str().to_string();
    respond(Err(match allowed_methods(&path) {
        Some(allow) => ApiError::method_not_allowed(&method, &path, allow),
        None => ApiError::not_found(
            "ROUTE_NOT_FOUND",
            format!("There is no route {method} {path}; check the path against the API reference."),
        ),
    }))
}
