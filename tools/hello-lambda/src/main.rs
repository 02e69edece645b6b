//! A hello-world `lambda_http` function, built like the service's functions (the same
//! one-thread runtime, the same release profile): what a function's cold start is
//! measured against.
use lambda_http::{Body, Error, Request, Response, run, service_fn, tracing};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    run(service_fn(|_req: Request| async {
        let mut response = Response::new(Body::Text(r#"{"success":true,"message":"hello"}"#.into()));
        response.headers_mut().insert("content-type", "application/json".parse().unwrap());
        Ok::<_, Error>(response)
    }))
    .await
}
