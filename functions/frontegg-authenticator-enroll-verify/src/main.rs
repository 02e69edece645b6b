//! `POST /resources/users/v1/mfa/authenticator/enroll/verify` (and under `/frontegg/identity`): completes the authenticator.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("frontegg-authenticator-enroll-verify").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::frontegg::authenticator_enroll_verify(&app, req).await) }))
        .await
}
