//! What an operator sees without a round trip: CloudWatch Embedded Metric Format (EMF)
//! lines on standard output, which CloudWatch Logs turns into metrics. One namespace per
//! stage (`MFA/<MFA_STAGE>`), few dimensions (each combination is a metric billed
//! monthly), and the rest as properties, searchable in Logs Insights. A line names no
//! user, address, number or value: only kinds, methods, rules and figures.
//!
//! | metric | unit | dimensions | counted where |
//! |---|---|---|---|
//! | `Logins` | Count | `Method`, `Outcome` (`succeeded`, `failed`) | the audit events of a login (`update`) |
//! | `LockedAttempts` | Count | none | a check refused while the lockout holds (`update::attempt`) |
//! | `Lockouts` | Count | none | the `locked_out` event |
//! | `SessionsEnded` | Count | none | the `sessions_ended` event (how many) |
//! | `StepUpRefusals` | Count | none | a `STEP_UP_REQUIRED` answer (`edge`) |
//! | `MessagesSent` | Count | `Channel` (`mail`, `text`) | a link or code that left (`delivery`) |
//! | `MessagesRefused` | Count | `Channel`, `Rule` | a link or code a limit refused (`delivery`) |
//! | `DependencyFailures` | Count | `Dependency` (`store`, `mail`, `sms`) | a `503` for a dependency (`edge`), a change notice SES refused (`notify`) |
//! | `RequestDuration` | Milliseconds | none (`Function`, `Status` as properties) | every request (`edge`) |

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use crate::audit::{Event, EventKind};
use crate::refusal::{Dependency, Refusal};

/// Every metric's name, as the template's alarms and dashboard name them.
pub const NAMES: [&str; 9] = [
    "Logins",
    "LockedAttempts",
    "Lockouts",
    "SessionsEnded",
    "StepUpRefusals",
    "MessagesSent",
    "MessagesRefused",
    "DependencyFailures",
    "RequestDuration",
];

/// The namespace of this stage's metrics.
pub fn namespace() -> &'static str {
    static NAMESPACE: OnceLock<String> = OnceLock::new();
    NAMESPACE.get_or_init(|| {
        let stage = std::env::var("MFA_STAGE").ok().filter(|s| !s.trim().is_empty());
        format!("MFA/{}", stage.as_deref().unwrap_or("local"))
    })
}

/// The function's name, as Lambda (and `cargo lambda watch`) set it.
fn function() -> &'static str {
    static FUNCTION: OnceLock<String> = OnceLock::new();
    FUNCTION.get_or_init(|| std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default())
}

/// One EMF line: `value` of `name` in `unit`, with `dimensions` (name, value) and extra
/// `properties`.
pub fn line(name: &str, unit: &str, value: f64, dimensions: &[(&str, &str)], properties: &[(&str, Value)]) -> String {
    let keys: Vec<&str> = dimensions.iter().map(|(k, _)| *k).collect();
    let mut root = Map::new();
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
            "CloudWatchMetrics": [{
                "Namespace": namespace(),
                "Dimensions": [keys],
                "Metrics": [{"Name": name, "Unit": unit}],
            }],
        }),
    );
    for (k, v) in dimensions {
        root.insert((*k).into(), json!(v));
    }
    for (k, v) in properties {
        root.insert((*k).into(), v.clone());
    }
    if !function().is_empty() {
        root.entry("Function").or_insert_with(|| json!(function()));
    }
    root.insert(name.into(), json!(value));
    Value::Object(root).to_string()
}

fn emit(name: &str, unit: &str, value: f64, dimensions: &[(&str, &str)], properties: &[(&str, Value)]) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    // A metric that cannot be written is lost, never a request's failure.
    let _ = writeln!(out, "{}", line(name, unit, value, dimensions, properties));
}

fn count(name: &str, dimensions: &[(&str, &str)]) {
    emit(name, "Count", 1.0, dimensions, &[]);
}

/// The metrics of audit events just written.
pub fn events(events: &[Event]) {
    for event in events {
        match event.kind {
            EventKind::VerificationSucceeded => {
                let method = match (event.mfa_type, event.detail.as_deref()) {
                    (_, Some("backup code")) => "RECOVERY_CODE",
                    (_, Some("device")) => "DEVICE",
                    (Some(m), _) => m.as_str(),
                    (None, _) => "UNKNOWN",
                };
                count("Logins", &[("Method", method), ("Outcome", "succeeded")]);
            }
            EventKind::VerificationFailed => {
                let method = event.mfa_type.map_or("UNKNOWN", |m| m.as_str());
                count("Logins", &[("Method", method), ("Outcome", "failed")]);
            }
            EventKind::LockedOut => count("Lockouts", &[]),
            EventKind::SessionsEnded => {
                let ended = event
                    .detail
                    .as_deref()
                    .and_then(|d| d.split_whitespace().next())
                    .and_then(|n| n.parse::<f64>().ok())
                    .unwrap_or(1.0);
                emit("SessionsEnded", "Count", ended, &[], &[]);
            }
            _ => {}
        }
    }
}

/// A second-factor check refused while the lockout holds.
pub fn locked_attempt() {
    count("LockedAttempts", &[]);
}

/// How a link or code travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    Mail,
    Text,
}

impl Channel {
    fn as_str(self) -> &'static str {
        match self {
            Channel::Mail => "mail",
            Channel::Text => "text",
        }
    }
}

/// A link or code that left.
pub fn message_sent(channel: Channel) {
    count("MessagesSent", &[("Channel", channel.as_str())]);
}

/// A link or code a limit (or its dependency) refused: the rule, when it is one.
pub fn message_refused(channel: Channel, refusal: &Refusal) {
    let rule = match refusal {
        Refusal::RateLimited { .. } => "rate",
        Refusal::SmsCountryNotAllowed { .. } => "country",
        Refusal::SmsPrefixRateLimited { .. } => "prefix_rate",
        Refusal::SmsPrefixBlocked { .. } => "prefix_blocked",
        Refusal::SmsBudgetReached { .. } => "budget",
        Refusal::Unavailable(_) => "unavailable",
        _ => return,
    };
    count("MessagesRefused", &[("Channel", channel.as_str()), ("Rule", rule)]);
}

/// The metrics of a refusal the edge answers.
pub fn refusal(refusal: &Refusal) {
    match refusal {
        Refusal::StepUpRequired => count("StepUpRefusals", &[]),
        Refusal::Unavailable(dependency) => dependency_failed(*dependency),
        _ => {}
    }
}

/// A dependency that failed or hung: a `503`'s, or a change notice SES refused.
pub fn dependency_failed(dependency: Dependency) {
    let name = match dependency {
        Dependency::Store => "store",
        Dependency::Mail => "mail",
        Dependency::Sms => "sms",
    };
    count("DependencyFailures", &[("Dependency", name)]);
}

/// A request's duration and status.
pub fn request(function: &str, status: u16, started: std::time::Instant) {
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    emit(
        "RequestDuration",
        "Milliseconds",
        (ms * 1000.0).round() / 1000.0,
        &[],
        &[("Function", json!(function)), ("Status", json!(status))],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_the_documented_shape() {
        let l = line("Logins", "Count", 1.0, &[("Method", "SMS"), ("Outcome", "failed")], &[]);
        let v: Value = serde_json::from_str(&l).unwrap();
        let directive = &v["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], json!(namespace()));
        assert_eq!(directive["Dimensions"], json!([["Method", "Outcome"]]));
        assert_eq!(directive["Metrics"], json!([{"Name": "Logins", "Unit": "Count"}]));
        assert_eq!(
            (v["Method"].as_str(), v["Outcome"].as_str(), v["Logins"].as_f64()),
            (Some("SMS"), Some("failed"), Some(1.0))
        );
        assert!(v["_aws"]["Timestamp"].as_u64().unwrap() > 1_600_000_000_000);
        assert!(!l.contains('\n'));
    }
}
