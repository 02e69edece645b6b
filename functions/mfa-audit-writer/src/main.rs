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
                let time_left = outbox::time_left(event.context.deadline, std::time::SystemTime::now());
                let written = outbox::write(app, event.payload, time_left).await?;
                let outbox::Written { stored, mailed, refused, unsent } = written;
                let time_left_ms = time_left.as_millis() as u64;
                tracing::info!(stored, mailed, refused, unsent, time_left_ms, "audit events stored, notices mailed");
                Ok::<_, lambda::Error>(serde_json::json!({
                    "stored": stored, "mailed": mailed, "refused": refused, "unsent": unsent
                }))
            }
        }))
        .await
    }))
}
