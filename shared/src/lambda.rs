//! The Lambda side of every function, compiled once here: a function's `main` names its
//! handler and calls [`function`] (or [`run`] and [`serve`] with state of its own).
//!
//! The runtime's generic machinery (the Runtime API client, the event's parsing, the
//! answer's writing, the tokio runtime) is instantiated in this crate for one handler
//! type, a boxed future, instead of once in every binary for its handler's closure. The
//! deploy build links every function; that per-binary copy was most of its time.

use std::future::Future;
use std::pin::Pin;

pub use lambda_http::Error;
use lambda_http::{Body, Request, Response, service_fn};

use crate::App;

pub use crate::edge::{BoxFuture, Handler};

/// The `main` of a route's function: builds once what `function`'s row of the route
/// table needs, then answers each request through the edge (`edge::answer`) with
/// `handler` until the environment ends.
pub fn function(function: &str, handler: Handler) -> Result<(), Error> {
    run(Box::pin(async move {
        let row = crate::routes::route(function).ok_or_else(|| format!("no row of the route table is {function}"))?;
        let app = App::for_function(function).await?;
        serve(&|req| Box::pin(crate::edge::answer(&app, row, req, handler))).await
    }))
}

/// Runs `main` on the runtime every function uses, logging as Lambda asks
/// (`AWS_LAMBDA_LOG_FORMAT`, `RUST_LOG`). One thread: an execution environment handles
/// one event at a time, and a worker pool's threads would only be started at cold start
/// and left idle. `main` runs on this thread, so it need not be `Send`.
pub fn run(main: Pin<Box<dyn Future<Output = Result<(), Error>> + '_>>) -> Result<(), Error> {
    lambda_http::tracing::init_default_subscriber();
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(main)
}

/// Answers API Gateway's (HTTP API, payload 2.0) requests with `handler`.
pub async fn serve<'a>(
    handler: &'a (dyn Fn(Request) -> BoxFuture<'a, Response<Body>> + Sync + 'a),
) -> Result<(), Error> {
    lambda_http::run(service_fn(|req| async move { Ok::<_, Error>(handler(req).await) })).await
}
