//! API Gateway's `$default` route: every request no route matches.

use lambda_http::{Body, Request, Response};

use crate::envelope::respond;
use crate::refusal::Refusal;
use crate::routes::allowed_methods;

/// 405 for a known path with the wrong method, 404 otherwise, both in the envelope.
/// Needs no configuration.
pub async fn fallback(req: Request) -> Response<Body> {
    let path = req.uri().path().to_string();
    let method = req.method().as_str().to_string();
    respond(Err(match allowed_methods(&path) {
        Some(allow) => Refusal::MethodNotAllowed { method, path, allow },
        None => Refusal::RouteNotFound { method, path },
    }))
}
