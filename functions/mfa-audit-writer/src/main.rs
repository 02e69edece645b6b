//! The audit writer: stores the audit events the table's stream carries in users' login
//! states as items of their own (`mfa_shared::outbox`).
use lambda_runtime::{LambdaEvent, run, service_fn};
use mfa_shared::lambda;
use mfa_shared::outbox::{self, StreamBatch};

fn main() -> Result<(), lambda::Error> {
    lambda::run(Box::pin(async {
        let app = mfa_shared::App::from_env(outbox::NEEDS).await?;
        run(service_fn(|event: LambdaEvent<StreamBatch>| {
            let app = &app;
            async move {
                let stored = outbox::write(&app.store, event.payload).await?;
                tracing::info!(stored, "audit events stored");
                Ok::<_, lambda::Error>(serde_json::json!({ "stored": stored }))
            }
        }))
        .await
    }))
}
