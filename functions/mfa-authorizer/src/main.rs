//! The Lambda authorizer for integrators' own routes behind an API Gateway HTTP API
//! (payload format 2.0, simple responses): a live session's full-access token passes.
use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use mfa_shared::authorizer::{self, AuthorizerRequest};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = mfa_shared::App::from_env(authorizer::NEEDS).await?;
    let ages = authorizer::max_ages_from_env()?;
    run(service_fn(|event: LambdaEvent<AuthorizerRequest>| {
        let (app, ages) = (&app, &ages);
        async move { Ok::<_, Error>(authorizer::authorize(app, ages, &event.payload).await?) }
    }))
    .await
}
