//! The edge every route's request passes before its handler, compiled once here and
//! driven by the route's row (`routes::Route`): the method check, the caller by the row's
//! auth kind, the body into the handler's typed input, and the outcome in the row's shape
//! (our envelope, or Frontegg's). A handler is an `async fn` from the [`Call`], its caller
//! and its input to an [`Answer`]; it never checks a method, authenticates or reads a
//! body itself. The functions' entry points (`lambda::function`) and the test kit both
//! answer through [`answer`].

use std::future::Future;

use lambda_http::{Body, Request, RequestExt, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::App;
use crate::auth::{self, Principal};
use crate::body;
use crate::envelope::{Shape, respond_as};
use crate::refusal::Refusal;
use crate::routes::{AuthKind, Route, Serving, allowed_methods};

pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A route's handler as its entry point names it: the request after the edge to its
/// response, every refusal already shaped (`|call| Box::pin(edge::run(call, handlers::status::status))`).
pub type Handler = for<'a> fn(Call<'a>) -> BoxFuture<'a, Response<Body>>;

/// A handler's outcome: its response, or the refusal the edge shapes.
pub type Answer = Result<Response<Body>, Refusal>;

/// A request that passed the edge: the application its function built at cold start, the
/// request, and the row it was served by.
#[derive(Clone, Copy)]
pub struct Call<'a> {
    pub app: &'a App,
    pub req: &'a Request,
    pub row: &'static Route,
}

/// Answers `req` for `row` with `handler`: a method other than the row's is refused with
/// `405` (`cargo lambda watch` sends every method of a path to its function; API Gateway
/// sends the others to the fallback), and the row goes on the request (`Serving`:
/// authentication reads the backend headers it declares there).
pub async fn answer(app: &App, row: &'static Route, req: Request, handler: Handler) -> Response<Body> {
    let started = std::time::Instant::now();
    let response = answer_unmeasured(app, row, req, handler).await;
    crate::metrics::request(row.function, response.status().as_u16(), started);
    response
}

async fn answer_unmeasured(app: &App, row: &'static Route, mut req: Request, handler: Handler) -> Response<Body> {
    if req.method().as_str() != row.method {
        let path = req.uri().path();
        let refusal = Refusal::MethodNotAllowed {
            method: req.method().as_str().to_string(),
            path: path.to_string(),
            allow: allowed_methods(path).unwrap_or_else(|| row.method.to_string()),
        };
        return respond_as(shape(row), Err(refusal));
    }
    req.extensions_mut().insert(Serving(row));
    handler(Call { app, req: &req, row }).await
}

/// The shape of `row`'s refusals.
fn shape(row: &Route) -> Shape {
    if row.is_frontegg() { Shape::Frontegg } else { Shape::Ours }
}

/// Runs `handler` with the caller and input its signature asks for, established here in
/// that order (a request without a valid token is `401` before its body is read), and
/// shapes its outcome. A function's entry point is `|call| Box::pin(edge::run(call, h))`.
pub async fn run<'a, C, I, F, Fut>(call: Call<'a>, handler: F) -> Response<Body>
where
    C: Caller,
    I: Input,
    F: FnOnce(Call<'a>, C, I) -> Fut,
    Fut: Future<Output = Answer>,
{
    let outcome = async {
        let caller = C::establish(&call)?;
        let input = I::read(call.req)?;
        handler(call, caller, input).await
    };
    let outcome = outcome.await;
    if let Err(refusal) = &outcome {
        crate::metrics::refusal(refusal);
    }
    respond_as(shape(call.row), outcome)
}

/// Who a handler serves, established from the row's auth kind.
pub trait Caller: Sized {
    fn establish(call: &Call<'_>) -> Result<Self, Refusal>;
}

/// A user (or the platform's backend acting for one): by the bearer on routes that take
/// a token; on Frontegg's pre-login routes ([`AuthKind::MfaToken`]) by the `mfaToken` of
/// the body (of the query, for a `GET`), the proof of the password step, else the bearer.
impl Caller for Principal {
    fn establish(call: &Call<'_>) -> Result<Self, Refusal> {
        match call.row.auth {
            AuthKind::MfaToken => call.app.auth()?.authenticate_mfa_token(call.req, mfa_token(call.req)?.as_deref()),
            AuthKind::Either | AuthKind::Platform => call.app.auth()?.authenticate(call.req),
            AuthKind::None => {
                tracing::error!(function = call.row.function, "a route without a token asked for its caller");
                Err(Refusal::Internal)
            }
        }
    }
}

/// A user, or the platform's backend asking about an organization (the routes whose
/// Frontegg description names no user).
impl Caller for auth::Caller {
    fn establish(call: &Call<'_>) -> Result<Self, Refusal> {
        let token = match call.row.auth {
            AuthKind::MfaToken => mfa_token(call.req)?,
            _ => None,
        };
        call.app.auth()?.identify(call.req, token.as_deref())
    }
}

/// Nobody in particular: a route whose credential, if any, is its input (a link's token).
pub struct Anyone;

impl Caller for Anyone {
    fn establish(_: &Call<'_>) -> Result<Self, Refusal> {
        Ok(Anyone)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MfaToken {
    mfa_token: Option<String>,
}

/// The `mfaToken` of a pre-login request: the query's for a `GET`, else the body's.
fn mfa_token(req: &Request) -> Result<Option<String>, Refusal> {
    if req.method() == lambda_http::http::Method::GET {
        return Ok(req.query_string_parameters_ref().and_then(|q| q.first("mfaToken")).map(str::to_string));
    }
    let MfaToken { mfa_token } = body::json_or_default(req)?;
    Ok(mfa_token)
}

/// A handler's input, read from the request's body.
pub trait Input: Sized {
    fn read(req: &Request) -> Result<Self, Refusal>;
}

/// No input: the body is not read.
impl Input for () {
    fn read(_: &Request) -> Result<Self, Refusal> {
        Ok(())
    }
}

/// A required JSON object (`400` naming what is missing or wrong).
pub struct Json<T>(pub T);

impl<T: DeserializeOwned> Input for Json<T> {
    fn read(req: &Request) -> Result<Self, Refusal> {
        body::json(req).map(Json)
    }
}

/// Optional input: an empty body, `null` and `{}` all give the default.
pub struct OrDefault<T>(pub T);

impl<T: DeserializeOwned + Default> Input for OrDefault<T> {
    fn read(req: &Request) -> Result<Self, Refusal> {
        body::json_or_default(req).map(OrDefault)
    }
}

/// A body that, if any, must be JSON; what it holds is not read (`POST`s that take no
/// input: Flashback's client sends `{}` or nothing).
pub struct Unused;

impl Input for Unused {
    fn read(req: &Request) -> Result<Self, Refusal> {
        body::json_or_default::<serde_json::Value>(req).map(|_| Unused)
    }
}

/// Two inputs, read in order (a path's id, then the body).
impl<A: Input, B: Input> Input for (A, B) {
    fn read(req: &Request) -> Result<Self, Refusal> {
        Ok((A::read(req)?, B::read(req)?))
    }
}

/// The request body each handler's input reads, as a JSON Schema derived from its type:
/// the contract test holds `openapi.yaml`'s request bodies to it, so the document cannot
/// drift from what the code accepts. Only built with the `contract` feature.
#[cfg(feature = "contract")]
pub mod contract {
    use std::future::Future;

    use schemars::{JsonSchema, SchemaGenerator, generate::SchemaSettings};
    use serde_json::Value;

    use super::{Call, Json, OrDefault, Unused};

    /// An input's body: its schema, and whether a body is required.
    pub trait Described {
        fn body(generator: &mut SchemaGenerator) -> Option<(Value, bool)>;
    }

    impl Described for () {
        fn body(_: &mut SchemaGenerator) -> Option<(Value, bool)> {
            None
        }
    }

    impl Described for Unused {
        fn body(_: &mut SchemaGenerator) -> Option<(Value, bool)> {
            None
        }
    }

    impl<T: JsonSchema> Described for Json<T> {
        fn body(generator: &mut SchemaGenerator) -> Option<(Value, bool)> {
            Some((generator.root_schema_for::<T>().to_value(), true))
        }
    }

    impl<T: JsonSchema> Described for OrDefault<T> {
        fn body(generator: &mut SchemaGenerator) -> Option<(Value, bool)> {
            Some((generator.root_schema_for::<T>().to_value(), false))
        }
    }

    /// A path's id with a body, or a body with a path's id.
    impl<A: Described, B: Described> Described for (A, B) {
        fn body(generator: &mut SchemaGenerator) -> Option<(Value, bool)> {
            A::body(generator).or_else(|| B::body(generator))
        }
    }

    /// The body `handler` reads (`None`: it reads none, or ignores what it is sent), its
    /// subschemas inlined.
    pub fn request<'a, C, I: Described, F, Fut>(_handler: F) -> Option<(Value, bool)>
    where
        F: FnOnce(Call<'a>, C, I) -> Fut,
        Fut: Future,
    {
        let mut generator = SchemaSettings::openapi3().with(|s| s.inline_subschemas = true).into_generator();
        I::body(&mut generator)
    }
}
