//! `GET /example/protected`: an integrator's own route behind `mfa-authorizer`. It runs
//! only for requests the authorizer let through, and answers with what the authorizer
//! passed on (`requestContext.authorizer.lambda`: the user, the session, when the second
//! factor was verified).
use lambda_http::request::RequestContext;
use lambda_http::{Body, Error, Request, RequestExt, Response, run, service_fn, tracing};
use serde_json::json;

async fn handle(req: Request) -> Result<Response<Body>, Error> {
    let caller = match req.request_context() {
        RequestContext::ApiGatewayV2(ctx) => ctx.authorizer.map(|a| json!(a.fields)).unwrap_or_default(),
        _ => serde_json::Value::Null,
    };
    let body = json!({"success": true, "message": "Signed in with a second factor", "data": caller});
    Ok(Response::builder().status(200).header("content-type", "application/json").body(body.to_string().into())?)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    run(service_fn(handle)).await
}
