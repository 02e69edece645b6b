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
use crate::model::{MfaType, UserMfaRecord};
use crate::policy::ProofKind;
use crate::proof::{LoginProof, SetupProof};
use crate::refusal::Refusal;
use crate::store::Write;
use crate::update::Failure;
use crate::update::Loaded;

/// A setup that was completed: the backup codes issued with it when it enabled the user's
/// first factor (shown once), and the session it started when it was also a login
/// ([`Finish::log_in`]). The user hears of it from the change's write (`notify`).
#[derive(Debug)]
pub struct Completed {
    pub backup_codes: Option<Vec<SecretString>>,
    pub session: Option<crate::sessions::Session>,
}

/// What a completion also does, in its own write.
#[derive(Clone, Copy, Debug)]
pub struct Finish {
    /// Start a session too (Frontegg's enrolment at login: the new factor is the login's
    /// second factor), remembering the device when `remember` is set.
    pub log_in: bool,
    pub remember: bool,
    /// How many backup codes a first factor brings (an authenticator's are chosen when
    /// its setup begins: [`SetupRequest::backup_codes`]).
    pub backup_codes: usize,
}

impl Default for Finish {
    fn default() -> Self {
        Self { log_in: false, remember: false, backup_codes: backup_codes::COUNT }
    }
}

impl Finish {
    /// The session a completion that logs in starts on `record`, `amr` naming the new
    /// factor's method.
    pub fn session(
        &self,
        app: &App,
        principal: &Principal,
        amr: &str,
        record: &mut UserMfaRecord,
        now: i64,
    ) -> Result<Option<crate::sessions::Session>, Refusal> {
        if !self.log_in {
            return Ok(None);
        }
        let remember = self.remember.then(|| crate::sessions::Remember {
            name: crate::devices::name_from(principal.origin.user_agent.as_deref()),
            lifetime: app.device_lifetime,
        });
        crate::sessions::start(app, principal, &["pwd", amr, "mfa"], record, now, remember.as_ref()).map(Some)
    }
}

/// A setup that was begun: what the caller needs to finish it (each API renders it in its
/// own shape). A user who already had MFA hears of it from the change's write (`notify`).
#[derive(Debug)]
pub struct Started {
    pub setup: Setup,
}

/// What a begun setup hands back, by method.
#[derive(Debug)]
pub enum Setup {
    /// The new secret, shown once: as text, as an `otpauth://` URL and as a QR code (a PNG
    /// data URL); the backup codes a first factor brings.
    Authenticator {
        factor_id: String,
        secret: SecretString,
        otpauth_url: SecretString,
        qr_code: SecretString,
        backup_codes: Vec<SecretString>,
    },
    /// An activation link was mailed to `email`.
    Link { factor_id: String, email: String },
    /// A setup code was sent to the address or (masked) phone number.
    Code { factor_id: String, to: codes::Shown },
    /// The creation options of a passkey ceremony, answered by `challenge`.
    Passkey {
        factor_id: String,
        challenge: String,
        relying_party: (String, String, String),
        user_name: String,
        public_key: Value,
    },
}

impl Setup {
    /// The factor the setup began.
    pub fn factor_id(&self) -> &str {
        match self {
            Setup::Authenticator { factor_id, .. }
            | Setup::Link { factor_id, .. }
            | Setup::Code { factor_id, .. }
            | Setup::Passkey { factor_id, .. } => factor_id,
        }
    }

    /// Our API's `data` of `POST /mfa/setup`.
    pub fn data(&self) -> Value {
        use crate::crypto::ExposeSecret;
        match self {
            Setup::Authenticator { factor_id, secret, otpauth_url, qr_code, backup_codes } => serde_json::json!({
                "secret": secret.expose_secret(),
                "otpauthUrl": otpauth_url.expose_secret(),
                "qrCode": qr_code.expose_secret(),
                "backupCodes": backup_codes.iter().map(|c| c.expose_secret()).collect::<Vec<_>>(),
                "factorId": factor_id,
            }),
            Setup::Link { factor_id, email } => {
                serde_json::json!({"email": email, "verificationRequired": true, "factorId": factor_id})
            }
            Setup::Code { factor_id, to: codes::Shown::Address(email) } => {
                serde_json::json!({"factorId": factor_id, "email": email, "verificationRequired": true})
            }
            Setup::Code { factor_id, to: codes::Shown::Phone(masked) } => {
                serde_json::json!({"factorId": factor_id, "phoneNumber": masked, "verificationRequired": true})
            }
            Setup::Passkey { factor_id, challenge, relying_party: (name, id, origin), user_name, public_key } => {
                serde_json::json!({
                    "challenge": challenge,
                    "rpName": name,
                    "rpID": id,
                    "origin": origin,
                    "userName": user_name,
                    "userId": public_key["user"]["id"],
                    "publicKey": public_key,
                    "factorId": factor_id,
                })
            }
        }
    }
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

/// What a setup names, beyond its method: an address, a phone number, a factor name.
#[derive(Debug, Default)]
pub struct SetupRequest {
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub name: Option<String>,
    /// How many backup codes an authenticator that is the user's first factor brings
    /// (ten unless set: Frontegg's client shows one).
    pub backup_codes: Option<usize>,
}

/// `POST /mfa/setup`: begins setting up `method`.
pub async fn setup(
    app: &App,
    principal: &Principal,
    method: MfaType,
    request: SetupRequest,
) -> Result<Started, Refusal> {
    let SetupRequest { email, phone_number, name, backup_codes } = request;
    match app.offers(method)? {
        MfaType::GoogleAuth => totp::setup(app, principal, name, backup_codes.unwrap_or(backup_codes::COUNT)).await,
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
/// With `finish`, the completion also starts a session (a link's activation never does:
/// whoever holds the link need not be the one logging in).
pub async fn complete(
    app: &App,
    principal: &Principal,
    proof: SetupProof,
    finish: Finish,
) -> Result<Completed, Refusal> {
    app.offers(proof.method())?;
    match proof {
        SetupProof::Authenticator { code, factor_id } => {
            totp::complete(app, principal, &code, factor_id.as_deref(), finish).await
        }
        SetupProof::Sent { method, code, factor_id } => {
            codes::complete(app, principal, method, &code, factor_id.as_deref(), finish).await
        }
        SetupProof::Link { token } => magic_link::complete(app, principal, &token).await,
        SetupProof::Registration { credential, challenge, factor_id } => {
            passkey::complete(app, principal, credential, challenge.as_deref(), factor_id.as_deref(), finish).await
        }
    }
}

/// A login's second factor, checked as far as it can be before the user's record is
/// read (reads of its one-time item, signature checks); [`Login::check`] decides in the
/// record's write. It is also what a factor change presents as its proof in the request
/// (`Change::proof`).
pub enum Login {
    /// An authenticator code, for the factor named or any enabled authenticator.
    Authenticator(SecretString, Option<String>),
    Sent(codes::SentCode),
    Link(magic_link::FoundLink),
    Assertion(passkey::CheckedAssertion),
    /// A backup (recovery) code: spent, and every session of the user ends.
    BackupCode(SecretString),
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Login::Authenticator(..) => "Login::Authenticator",
            Login::Sent(_) => "Login::Sent",
            Login::Link(_) => "Login::Link",
            Login::Assertion(_) => "Login::Assertion",
            Login::BackupCode(_) => "Login::BackupCode",
        })
    }
}

impl Login {
    /// The factor, and the caller's record when it was read in the same round trip as the
    /// factor's one-time item (then the check does not read it again), with the policy of
    /// `org_id` when one is named.
    pub async fn prepare(
        app: &App,
        principal: &Principal,
        proof: LoginProof,
        org_id: Option<&str>,
    ) -> Result<(Login, Option<Loaded>), Refusal> {
        app.offers(proof.method())?;
        Ok(match proof {
            LoginProof::Authenticator { code, factor_id } => (Login::Authenticator(code, factor_id), None),
            LoginProof::Sent { method, code, factor_id } => {
                let (sent, loaded) = codes::find_login_code(app, principal, method, code, factor_id, org_id).await?;
                (Login::Sent(sent), Some(loaded))
            }
            LoginProof::Link { token } => {
                let (found, loaded) = magic_link::find_login_link(app, principal, &token).await?;
                (Login::Link(found), loaded)
            }
            LoginProof::Assertion { credential, factor_id } => {
                let (checked, loaded) = passkey::read_assertion(app, principal, credential, factor_id, org_id).await?;
                (Login::Assertion(checked), loaded)
            }
        })
    }

    /// The `amr` value the method adds to a full-access token.
    /// The method it logs in with (none for a recovery code).
    pub fn method(&self) -> Option<MfaType> {
        match self {
            Login::Authenticator(..) => Some(MfaType::GoogleAuth),
            Login::Sent(sent) => Some(sent.method),
            Login::Link(_) => Some(MfaType::MagicLink),
            Login::Assertion(_) => Some(MfaType::Passkey),
            Login::BackupCode(_) => None,
        }
    }

    pub fn amr(&self) -> &'static str {
        match self {
            Login::Authenticator(..) => "otp",
            Login::Sent(sent) => match sent.method {
                MfaType::Sms => "sms",
                MfaType::EmailOtp | MfaType::GoogleAuth | MfaType::MagicLink | MfaType::Passkey => "email",
            },
            Login::Link(_) => "email",
            Login::Assertion(_) => "hwk",
            Login::BackupCode(_) => "mfa",
        }
    }

    /// What kind of proof it is, as a change made on it records it in its event.
    pub fn proof_kind(&self) -> ProofKind {
        match self {
            Login::Authenticator(..) => ProofKind::AuthenticatorCode,
            Login::Sent(sent) => match sent.method {
                MfaType::Sms => ProofKind::SmsCode,
                MfaType::EmailOtp | MfaType::GoogleAuth | MfaType::MagicLink | MfaType::Passkey => ProofKind::EmailCode,
            },
            Login::Link(_) => ProofKind::Link,
            Login::Assertion(_) => ProofKind::PasskeyAssertion,
            Login::BackupCode(_) => ProofKind::RecoveryCode,
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
            Login::BackupCode(code) => backup_codes::spend(app.keyring()?, record, code).map(|_| Vec::new()),
        }
    }

    /// The answer when the one-time item was spent by a concurrent request.
    pub fn spent(&self) -> Refusal {
        match self {
            Login::Authenticator(..) => Refusal::CodeAlreadyUsed,
            Login::Sent(_) => Refusal::InvalidCode { backup: false },
            Login::Link(_) => Refusal::InvalidLink,
            Login::Assertion(_) => Refusal::CeremonyExpired,
            Login::BackupCode(_) => Refusal::InvalidCode { backup: true },
        }
    }
}

impl crate::update::Proof for Login {
    fn kind(&self) -> ProofKind {
        self.proof_kind()
    }

    fn check(&self, app: &App, record: &mut UserMfaRecord, now: i64) -> Result<Vec<Write>, Failure> {
        Login::check(self, app, record, now)
    }
}

/// A login with a second factor (`verify-login`, and Frontegg's `…/verify` routes): the
/// factor is checked and spent, and a session starts, in one write; failures of every
/// method count toward the same lockout. With `remember`, the login also remembers its
/// device (an organization's shorter lifetime, or its ban, is applied when the device is
/// used: `devices::log_in`).
pub async fn log_in(
    app: &App,
    principal: &Principal,
    proof: LoginProof,
    remember: bool,
) -> Result<crate::sessions::Session, Refusal> {
    let now = app.clock.now();
    let remember = remember.then(|| crate::sessions::Remember {
        name: crate::devices::name_from(principal.origin.user_agent.as_deref()),
        lifetime: app.device_lifetime,
    });
    // With the rules of the organization the token names, for a record bound to none yet.
    let (login, loaded) = Login::prepare(app, principal, proof, principal.org_id.as_deref()).await?;
    let change = crate::policy::Change::by_user(crate::policy::Action::Verify, principal, now);
    crate::update::attempt(
        app,
        principal.user_id.as_str(),
        loaded,
        change,
        None,
        |record, policy| {
            // Before the factor is checked: a refused method spends nothing and is not
            // counted toward the lockout.
            crate::policy::login_allowed(login.method(), policy, now)?;
            let writes = login.check(app, record, now)?;
            let amr = ["pwd", login.amr(), "mfa"];
            let session = crate::sessions::start(app, principal, &amr, record, now, remember.as_ref())?;
            Ok((session, writes))
        },
        || login.spent(),
    )
    .await
}

/// A factor change made with `proof`, a factor's proof presented in the request
/// (Frontegg's disable routes): the proof is checked, spent and counted like a login's
/// in the change's own write (`update::attempt`), then `step` makes the change; the
/// policy decides the rest as for any change (`Change::with_proof`).
/// Resets the MFA of `principal` (every factor, backup code and session) on `proof`, a
/// second factor presented in the request (Frontegg's recovery and legacy disable); the
/// user hears of it at every address they had.
pub async fn reset_with_proof(app: &App, principal: &Principal, proof: Login) -> Result<(), Refusal> {
    with_proof(app, principal, crate::policy::Action::ResetSelf, proof, None, |record, _| {
        record.reset();
        Ok(())
    })
    .await
}

pub async fn with_proof<T>(
    app: &App,
    principal: &Principal,
    action: crate::policy::Action,
    proof: Login,
    loaded: Option<Loaded>,
    step: impl FnMut(&mut UserMfaRecord, Option<&crate::model::OrgPolicy>) -> Result<T, Refusal>,
) -> Result<T, Refusal> {
    let mut step = step;
    let change = crate::policy::Change::with_proof(action, principal, proof.proof_kind(), app.clock.now());
    crate::update::attempt(
        app,
        principal.user_id.as_str(),
        loaded,
        change,
        Some(&proof as &(dyn crate::update::Proof + Sync)),
        |record, policy| Ok((step(record, policy)?, Vec::new())),
        || proof.spent(),
    )
    .await
}
