//! `POST /mfa/backup-codes`: ten new backup codes (step-up).
use lambda_http::{Error, run, service_fn, tracing};
use mfa_shared::App;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let app = App::for_function("mfa-backup-codes").await?;
    run(service_fn(|req| async { Ok::<_, Error>(mfa_shared::handlers::regenerate_backup_codes(&app, req).await) }))
        .await
}
