//! The Lambda authorizer for integrators' own routes behind an API Gateway HTTP API
//! (payload format 2.0, simple responses): a live session's full-access token passes.
use lambda_runtime::{LambdaEvent, run, service_fn};
use mfa_shared::authorizer::{self, AuthorizerRequest};
use mfa_shared::lambda;

fn main() -> Result<(), lambda::Error> {
    lambda::run(Box::pin(async {
        let app = mfa_shared::App::from_env(authorizer::NEEDS).await?;
        let ages = authorizer::max_ages_from_env()?;
        run(service_fn(|event: LambdaEvent<AuthorizerRequest>| {
            let (app, ages) = (&app, &ages);
            async move { Ok::<_, lambda::Error>(authorizer::authorize(app, ages, &event.payload).await?) }
        }))
        .await
    }))
}
