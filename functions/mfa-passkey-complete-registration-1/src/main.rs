//! `POST /mfa/passkey/complete-registration-1`: the same, under the path older clients use.
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("mfa-passkey-complete-registration-1").await?;
    run(service_fn(|req| async {
        Ok::<_, Error>(mfa_shared::handlers::passkey_complete_registration(&app, req).await)
    }))
    .await
}
