//! Configuration from the environment.
//!
//! Each area reads its own settings so a function loads only what it uses. A missing or
//! invalid setting is a startup error that names every offending variable at once and
//! never echoes a value (several of them are secrets).

use std::fmt;

use crate::mfa_type::MfaType;

/// Where settings come from: the process environment in production, a map in tests.
pub trait Source: Sync {
    /// The setting's value when it is set and not blank.
    fn get(&self, name: &str) -> Option<String>;
}

/// How long an audit event is kept, in seconds, unless `MFA_AUDIT_RETENTION` says
/// otherwise: 400 days.
pub const DEFAULT_AUDIT_RETENTION: u64 = 400 * 86_400;

/// A remembered device's lifetime, in seconds, unless `MFA_DEVICE_LIFETIME` says
/// otherwise: 14 days.
pub const DEFAULT_DEVICE_LIFETIME: u64 = 14 * 86_400;

/// How long a passkey ceremony may take, in seconds (the browser's timeout too).
pub const CEREMONY_LIFETIME: i64 = 5 * 60;

/// The process environment.
pub struct Environment;

impl Source for Environment {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl<const N: usize> Source for [(&str, &str); N] {
    fn get(&self, name: &str) -> Option<String> {
        self.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()).filter(|v| !v.trim().is_empty())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("this function is not in the route table")]
    UnknownFunction,
    #[error("configuration is incomplete: {}", describe(.missing, .required_here, .invalid))]
    Incomplete {
        missing: Vec<&'static str>,
        required_here: Vec<(&'static str, String)>,
        invalid: Vec<(&'static str, String)>,
    },
}

fn describe(
    missing: &[&'static str],
    required_here: &[(&'static str, String)],
    invalid: &[(&'static str, String)],
) -> String {
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("missing required setting(s) {}", missing.join(", ")));
    }
    for (name, reason) in required_here {
        parts.push(format!("missing setting {name}, which is required here: {reason}"));
    }
    for (name, reason) in invalid {
        parts.push(format!("{name} is invalid ({reason})"));
    }
    parts.join("; ")
}

/// Collects settings and every problem with them, so one startup error lists all.
pub struct Reader<'a> {
    source: &'a dyn Source,
    missing: Vec<&'static str>,
    required_here: Vec<(&'static str, String)>,
    invalid: Vec<(&'static str, String)>,
}

impl<'a> Reader<'a> {
    pub fn new(source: &'a dyn Source) -> Self {
        Self { source, missing: Vec::new(), required_here: Vec::new(), invalid: Vec::new() }
    }

    pub fn required(&mut self, name: &'static str) -> String {
        match self.source.get(name) {
            Some(v) => v,
            None => {
                self.missing.push(name);
                String::new()
            }
        }
    }

    /// A setting that is required here for `reason` (it is optional elsewhere).
    pub fn required_because(&mut self, name: &'static str, reason: &str) -> String {
        match self.source.get(name) {
            Some(v) => v,
            None => {
                self.required_here.push((name, reason.to_string()));
                String::new()
            }
        }
    }

    pub fn optional(&mut self, name: &'static str) -> Option<String> {
        self.source.get(name)
    }

    pub fn or(&mut self, name: &'static str, default: &str) -> String {
        self.source.get(name).unwrap_or_else(|| default.to_string())
    }

    /// A whole number of seconds within `range`, or `default` when unset.
    pub fn seconds(&mut self, name: &'static str, default: u64, range: std::ops::RangeInclusive<u64>) -> u64 {
        self.number_in(name, default, range, "whole seconds")
    }

    /// A whole number within `range`, or `default` when unset.
    pub fn whole(&mut self, name: &'static str, default: u64, range: std::ops::RangeInclusive<u64>) -> u64 {
        self.number_in(name, default, range, "a whole number")
    }

    /// A whole number within `range`, or `default` when unset; `what` names it in the
    /// problem reported.
    fn number_in(&mut self, name: &'static str, default: u64, range: std::ops::RangeInclusive<u64>, what: &str) -> u64 {
        match self.source.get(name) {
            None => default,
            Some(v) => match v.trim().parse::<u64>() {
                Ok(n) if range.contains(&n) => n,
                _ => {
                    self.invalid(name, format!("expected {what} from {} to {}", range.start(), range.end()));
                    default
                }
            },
        }
    }

    /// Records that `name` is set but unusable. `reason` must not contain the value.
    pub fn invalid(&mut self, name: &'static str, reason: impl fmt::Display) {
        self.invalid.push((name, reason.to_string()));
    }

    pub fn has_problems(&self) -> bool {
        !self.missing.is_empty() || !self.required_here.is_empty() || !self.invalid.is_empty()
    }

    pub fn finish(self) -> Result<(), ConfigError> {
        if self.has_problems() {
            Err(ConfigError::Incomplete {
                missing: self.missing,
                required_here: self.required_here,
                invalid: self.invalid,
            })
        } else {
            Ok(())
        }
    }
}

/// The methods a deployment offers (`MFA_METHODS`, comma-separated wire names; Flashback's
/// three unless set). EMAIL_OTP and SMS are off unless named: NIST SP 800-63B rev. 4
/// does not accept email as an out-of-band authenticator and classes SMS as restricted.
pub fn offered_methods(r: &mut Reader) -> Vec<MfaType> {
    let Some(raw) = r.optional("MFA_METHODS") else { return MfaType::DEFAULT_OFFERED.to_vec() };
    let mut methods = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match MfaType::parse(name) {
            Some(m) if !methods.contains(&m) => methods.push(m),
            Some(_) => {}
            None => r.invalid(
                "MFA_METHODS",
                format!("`{name}` is no method; use GOOGLE_AUTH, MAGIC_LINK, PASSKEY, EMAIL_OTP or SMS"),
            ),
        }
    }
    if methods.is_empty() {
        r.invalid("MFA_METHODS", "names no method");
    }
    methods
}

/// The DynamoDB table. The endpoint comes from the AWS SDK's own settings
/// (`AWS_ENDPOINT_URL_DYNAMODB` locally, the regional endpoint in AWS).
#[derive(Clone, Debug)]
pub struct StoreConfig {
    pub table_name: String,
}

impl StoreConfig {
    pub fn read(r: &mut Reader) -> Self {
        Self { table_name: r.required("MFA_TABLE_NAME") }
    }
}

/// WebAuthn relying party.
#[derive(Clone, Debug)]
pub struct RelyingPartyConfig {
    pub id: String,
    pub origin: String,
    pub name: String,
}

impl RelyingPartyConfig {
    pub fn read(r: &mut Reader) -> Self {
        Self { id: r.required("MFA_RP_ID"), origin: r.required("MFA_RP_ORIGIN"), name: r.or("MFA_RP_NAME", "MFA") }
    }
}

/// Mail through SES v2 (the endpoint comes from `AWS_ENDPOINT_URL_SESV2` locally).
#[derive(Clone, Debug)]
pub struct MailConfig {
    pub from: String,
    /// The client application's page that receives magic links (`?token=…`).
    pub link_base_url: String,
}

impl MailConfig {
    pub fn read(r: &mut Reader) -> Self {
        Self { from: r.required("MFA_MAIL_FROM"), link_base_url: r.required("MFA_LINK_BASE_URL") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_missing_setting_at_once() {
        let env = [("MFA_RP_NAME", "Acme")];
        let mut r = Reader::new(&env);
        StoreConfig::read(&mut r);
        let rp = RelyingPartyConfig::read(&mut r);
        assert_eq!(rp.name, "Acme");
        let err = r.finish().unwrap_err();
        assert_eq!(
            err.to_string(),
            "configuration is incomplete: missing required setting(s) MFA_TABLE_NAME, MFA_RP_ID, MFA_RP_ORIGIN"
        );
    }

    #[test]
    fn blank_values_count_as_missing() {
        let env = [("MFA_TABLE_NAME", "  ")];
        let mut r = Reader::new(&env);
        StoreConfig::read(&mut r);
        assert!(r.has_problems());
    }
}
