//! The MFA methods, each owning its rules end to end in its own module (pure rules on
//! top, the store-backed steps below): authenticator codes (`totp`), email magic links
//! (`magic_link`) and passkeys (`passkey`), plus the backup codes that come with them.
//!
//! This module is where a request reaches the method it names. Each `match` over
//! [`MfaType`] below has an arm per method and no catch-all, so a new method does not
//! compile until it can be set up, completed and checked at login.

pub mod backup_codes;
pub mod magic_link;
pub mod passkey;
pub mod totp;

use serde::Deserialize;
use serde_json::Value;

use crate::App;
use crate::auth::Principal;
use crate::crypto::SecretString;
use crate::lockout::Failure;
use crate::model::{MfaType, UserMfaRecord};
use crate::notify::Notice;
use crate::refusal::Refusal;
use crate::store::Write;

/// What a caller presents to prove a factor, as the wire carries it: an authenticator
/// code, a mailed link's token, or a WebAuthn credential (and the challenge it answers).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Presented {
    pub code: Option<SecretString>,
    pub token: Option<SecretString>,
    pub credential: Option<Value>,
    pub challenge: Option<String>,
    /// The factor the proof is for, when the caller names one.
    pub factor_id: Option<String>,
}

impl Presented {
    fn required(field: &str, method: MfaType) -> Refusal {
        Refusal::InvalidField(format!("Field `{field}` is required for {}.", method.as_str()).into())
    }

    fn code(&self, method: MfaType) -> Result<&SecretString, Refusal> {
        self.code.as_ref().filter(|c| !secret_is_blank(c)).ok_or_else(|| Self::required("code", method))
    }

    fn token(&self, method: MfaType) -> Result<&SecretString, Refusal> {
        self.token.as_ref().filter(|t| !secret_is_blank(t)).ok_or_else(|| Self::required("token", method))
    }

    fn credential(&self, method: MfaType) -> Result<&Value, Refusal> {
        self.credential.as_ref().filter(|c| c.is_object()).ok_or_else(|| Self::required("credential", method))
    }
}

fn secret_is_blank(secret: &SecretString) -> bool {
    use crate::crypto::ExposeSecret;
    secret.expose_secret().trim().is_empty()
}

/// A setup that was completed: the notice to send and every address to send it to, and
/// the backup codes issued with it when it enabled the user's first factor (shown once).
#[derive(Debug)]
pub struct Completed {
    pub notice: Notice,
    pub to: Vec<String>,
    pub backup_codes: Option<Vec<SecretString>>,
}

/// A setup that was begun: its `data`, and, when the user already had MFA, the notice
/// that a factor is being added and every address the user had to send it to.
#[derive(Debug)]
pub struct Started {
    pub data: Value,
    pub notice: Notice,
    pub to: Vec<String>,
}

/// Who hears that a setup began on `record` (the state before it): every address of a
/// user who has MFA; nobody for a user enrolling a first factor.
pub fn setup_recipients(record: &UserMfaRecord, actor_email: Option<&str>) -> Vec<String> {
    if record.has_mfa_enabled() { crate::notify::recipients(record, actor_email) } else { Vec::new() }
}

/// `POST /mfa/setup`: begins setting up `method`.
pub async fn setup(
    app: &App,
    principal: &Principal,
    method: MfaType,
    email: Option<String>,
    device_name: Option<String>,
) -> Result<Started, Refusal> {
    match method {
        MfaType::GoogleAuth => totp::setup(app, principal, device_name).await,
        MfaType::MagicLink => magic_link::setup(app, principal, email).await,
        MfaType::Passkey => passkey::setup(app, principal, device_name).await,
    }
}

/// `POST /mfa/verify-setup`: completes the pending setup of `method` with what the caller
/// presents (for PASSKEY, the registration `credential`, as complete-registration takes it).
pub async fn complete(
    app: &App,
    principal: &Principal,
    method: MfaType,
    presented: &Presented,
) -> Result<Completed, Refusal> {
    match method {
        MfaType::GoogleAuth => {
            totp::complete(app, principal, presented.code(method)?, presented.factor_id.as_deref()).await
        }
        MfaType::MagicLink => magic_link::complete(app, principal, presented.token(method)?).await,
        MfaType::Passkey => {
            let credential = presented.credential(method)?.clone();
            let (challenge, factor_id) = (presented.challenge.as_deref(), presented.factor_id.as_deref());
            passkey::complete(app, principal, credential, challenge, factor_id).await
        }
    }
}

/// A login's second factor, checked as far as it can be before the user's record is
/// read (reads of its one-time item, signature checks); [`Login::check`] decides in the
/// record's write.
pub enum Login {
    /// An authenticator code, for the factor named or any enabled authenticator.
    Code(SecretString, Option<String>),
    Link(magic_link::FoundLink),
    Assertion(passkey::CheckedAssertion),
}

impl Login {
    /// The factor, and the caller's record when it was read in the same round trip as the
    /// factor's one-time item (then the check does not read it again).
    pub async fn prepare(
        app: &App,
        principal: &Principal,
        method: MfaType,
        presented: &Presented,
    ) -> Result<(Login, Option<UserMfaRecord>), Refusal> {
        Ok(match method {
            MfaType::GoogleAuth => (Login::Code(presented.code(method)?.clone(), presented.factor_id.clone()), None),
            MfaType::MagicLink => {
                let (found, record) = magic_link::find_login_link(app, principal, presented.token(method)?).await?;
                (Login::Link(found), record)
            }
            MfaType::Passkey => {
                let credential = presented.credential(method)?.clone();
                let (checked, record) = passkey::read_assertion(app, principal, credential).await?;
                (Login::Assertion(checked), record)
            }
        })
    }

    /// The `amr` value the method adds to a full-access token.
    pub fn amr(&self) -> &'static str {
        match self {
            Login::Code(..) => "otp",
            Login::Link(_) => "email",
            Login::Assertion(_) => "hwk",
        }
    }

    /// The check in the record's write: the one-time writes it spends, or why it failed.
    pub fn check(&self, app: &App, record: &mut UserMfaRecord, now: i64) -> Result<Vec<Write>, Failure> {
        match self {
            Login::Code(code, factor_id) => {
                totp::check(record, app.keyring()?, code, factor_id.as_deref(), now).map(|()| Vec::new())
            }
            Login::Link(found) => magic_link::check_login(app, record, found, now),
            Login::Assertion(checked) => passkey::check_assertion(app, record, checked, now),
        }
    }

    /// The answer when the one-time item was spent by a concurrent request.
    pub fn spent(&self) -> Refusal {
        match self {
            Login::Code(..) => Refusal::CodeAlreadyUsed,
            Login::Link(_) => Refusal::InvalidLink,
            Login::Assertion(_) => Refusal::CeremonyExpired,
        }
    }
}
