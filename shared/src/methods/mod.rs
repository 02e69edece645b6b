//! The MFA methods, each owning its rules end to end in its own module (pure rules on
//! top, the store-backed steps below): authenticator codes (`totp`), email magic links
//! (`magic_link`), passkeys (`passkey`), codes sent by mail or text (`codes`: EMAIL_OTP
//! and SMS), plus the backup codes that come with them.
//!
//! This module is where a request reaches the method it names. Each `match` over
//! [`MfaType`] or a proof (`proof.rs`) below has an arm per method and no catch-all, so a
//! new method does not compile until it can be set up, completed and checked at login.

pub mod backup_codes;
pub mod codes;
pub mod magic_link;
pub mod passkey;
pub mod totp;

use serde_json::Value;

use crate::App;
use crate::auth::Principal;
use crate::crypto::SecretString;
use crate::lockout::Failure;
use crate::model::{MfaType, UserMfaRecord};
use crate::notify::Notice;
use crate::proof::{LoginProof, SetupProof};
use crate::refusal::Refusal;
use crate::store::Write;

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

/// The enabled factor of `method` a login code or link goes to: `factor_id` when the
/// caller names one, else the one used (or added) most recently.
pub fn login_factor<'r>(
    record: &'r UserMfaRecord,
    method: MfaType,
    factor_id: Option<&'r str>,
) -> Result<&'r crate::factors::Factor, Refusal> {
    if factor_id.is_some_and(|id| record.factor(id).is_none_or(|f| f.kind() != method)) {
        return Err(Refusal::FactorNotFound);
    }
    record.login_factor(method, factor_id).ok_or(Refusal::MethodNotEnabled(method))
}

/// Who hears that a setup began on `record` (the state before it): every address of a
/// user who has MFA; nobody for a user enrolling a first factor.
pub fn setup_recipients(record: &UserMfaRecord, actor_email: Option<&str>) -> Vec<String> {
    if record.has_mfa_enabled() { crate::notify::recipients(record, actor_email) } else { Vec::new() }
}

/// What a setup names, beyond its method: an address, a phone number, a factor name.
#[derive(Debug, Default)]
pub struct SetupRequest {
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub name: Option<String>,
}

/// `POST /mfa/setup`: begins setting up `method`.
pub async fn setup(
    app: &App,
    principal: &Principal,
    method: MfaType,
    request: SetupRequest,
) -> Result<Started, Refusal> {
    let SetupRequest { email, phone_number, name } = request;
    match app.offers(method)? {
        MfaType::GoogleAuth => totp::setup(app, principal, name).await,
        MfaType::MagicLink => magic_link::setup(app, principal, email).await,
        MfaType::Passkey => passkey::setup(app, principal, name).await,
        MfaType::EmailOtp => {
            let target = codes::Target::Address(crate::mail::requested_address(email, principal)?);
            codes::setup(app, principal, target, name).await
        }
        MfaType::Sms => {
            let raw = phone_number.ok_or_else(|| {
                Refusal::InvalidField("Field `phoneNumber` is required for SMS (international form, +…).".into())
            })?;
            codes::setup(app, principal, codes::Target::Phone(codes::parse_phone(&raw)?), name).await
        }
    }
}

/// `POST /mfa/verify-setup`: completes a pending setup with what the caller presents (for
/// PASSKEY, the registration `credential`, as complete-registration takes it).
pub async fn complete(app: &App, principal: &Principal, proof: SetupProof) -> Result<Completed, Refusal> {
    app.offers(proof.method())?;
    match proof {
        SetupProof::Authenticator { code, factor_id } => {
            totp::complete(app, principal, &code, factor_id.as_deref()).await
        }
        SetupProof::Sent { method, code, factor_id } => {
            codes::complete(app, principal, method, &code, factor_id.as_deref()).await
        }
        SetupProof::Link { token } => magic_link::complete(app, principal, &token).await,
        SetupProof::Registration { credential, challenge, factor_id } => {
            passkey::complete(app, principal, credential, challenge.as_deref(), factor_id.as_deref()).await
        }
    }
}

/// A login's second factor, checked as far as it can be before the user's record is
/// read (reads of its one-time item, signature checks); [`Login::check`] decides in the
/// record's write.
pub enum Login {
    /// An authenticator code, for the factor named or any enabled authenticator.
    Authenticator(SecretString, Option<String>),
    Sent(codes::SentCode),
    Link(magic_link::FoundLink),
    Assertion(passkey::CheckedAssertion),
}

impl Login {
    /// The factor, and the caller's record when it was read in the same round trip as the
    /// factor's one-time item (then the check does not read it again).
    pub async fn prepare(
        app: &App,
        principal: &Principal,
        proof: LoginProof,
    ) -> Result<(Login, Option<UserMfaRecord>), Refusal> {
        app.offers(proof.method())?;
        Ok(match proof {
            LoginProof::Authenticator { code, factor_id } => (Login::Authenticator(code, factor_id), None),
            LoginProof::Sent { method, code, factor_id } => {
                let (sent, record) = codes::find_login_code(app, principal, method, code, factor_id).await?;
                (Login::Sent(sent), Some(record))
            }
            LoginProof::Link { token } => {
                let (found, record) = magic_link::find_login_link(app, principal, &token).await?;
                (Login::Link(found), record)
            }
            LoginProof::Assertion { credential } => {
                let (checked, record) = passkey::read_assertion(app, principal, credential).await?;
                (Login::Assertion(checked), record)
            }
        })
    }

    /// The `amr` value the method adds to a full-access token.
    pub fn amr(&self) -> &'static str {
        match self {
            Login::Authenticator(..) => "otp",
            Login::Sent(sent) => match sent.method {
                MfaType::Sms => "sms",
                MfaType::EmailOtp | MfaType::GoogleAuth | MfaType::MagicLink | MfaType::Passkey => "email",
            },
            Login::Link(_) => "email",
            Login::Assertion(_) => "hwk",
        }
    }

    /// The check in the record's write: the one-time writes it spends, or why it failed.
    pub fn check(&self, app: &App, record: &mut UserMfaRecord, now: i64) -> Result<Vec<Write>, Failure> {
        match self {
            Login::Authenticator(code, factor_id) => {
                totp::check(record, app.keyring()?, code, factor_id.as_deref(), now).map(|()| Vec::new())
            }
            Login::Sent(sent) => codes::check_login(app, record, sent, now),
            Login::Link(found) => magic_link::check_login(app, record, found, now),
            Login::Assertion(checked) => passkey::check_assertion(app, record, checked, now),
        }
    }

    /// The answer when the one-time item was spent by a concurrent request.
    pub fn spent(&self) -> Refusal {
        match self {
            Login::Authenticator(..) => Refusal::CodeAlreadyUsed,
            Login::Sent(_) => Refusal::InvalidCode { backup: false },
            Login::Link(_) => Refusal::InvalidLink,
            Login::Assertion(_) => Refusal::CeremonyExpired,
        }
    }
}
