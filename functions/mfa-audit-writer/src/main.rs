//! The audit writer: stores the audit events the table's stream carries in users' login
//! states as items of their own, then mails the change notices they carry
//! (`mfa_shared::outbox`).
use lambda_runtime::{LambdaEvent, run, service_fn};
use mfa_shared::lambda;
use mfa_shared::outbox::{self, StreamBatch};

fn main() -> Result<(), lambda::Error> {
    lambda::run(Box::pin(async {
        let app = mfa_shared::App::from_env(outbox::NEEDS).await?;
        run(service_fn(|event: LambdaEvent<StreamBatch>| {
            let app = &app;
            async move {
                let written = outbox::write(app, event.payload).await?;
                let outbox::Written { stored, mailed, refused } = written;
                tracing::info!(stored, mailed, refused, "audit events stored, notices mailed");
                Ok::<_, lambda::Error>(serde_json::json!({ "stored": stored, "mailed": mailed, "refused": refused }))
            }
        }))
        .await
    }))
}
