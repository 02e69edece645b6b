//! EMAIL_OTP and SMS: six-digit codes sent to a proven address or phone. The two differ
//! only in where a code goes (a mail through SES v2, a text through SNS) and what the
//! factor holds (the address; the phone number, sealed like an authenticator secret);
//! every rule of the codes themselves is the one delivery rule's (`delivery`): stored as a
//! MAC, ten minutes, once, bound to purpose (setup or login) and factor, sent after the
//! send slot is taken. A phone number is checked with libphonenumber and kept in E.164.
//! Below the pure rules: setup, completion, sending a login code, and the login check.

use super::{Completed, Started, backup_codes};
use crate::App;
use crate::auth::Principal;
use crate::crypto::{ExposeSecret, Keyring, SecretString};
use crate::delivery::{self, Message, Prepared, PresentedCode, Stored};
use crate::factors::{Factor, Material, mask_address, mask_phone};
use crate::mail::{Mail, html_escape};
use crate::model::{CodeItem, MfaType, PendingSetup, Purpose, UserMfaRecord};
use crate::policy::{Action, Actor, Change};
use crate::refusal::Refusal;
use crate::store::Write;
use crate::update::{self, Failure};

/// Where a code factor's codes go.
#[derive(Clone, Debug)]
pub enum Target {
    Address(String),
    /// In E.164.
    Phone(String),
}

impl Target {
    pub fn method(&self) -> MfaType {
        match self {
            Target::Address(_) => MfaType::EmailOtp,
            Target::Phone(_) => MfaType::Sms,
        }
    }

    /// What the user may be shown of it: a masked address or number.
    pub fn hint(&self) -> String {
        match self {
            Target::Address(a) => mask_address(a),
            Target::Phone(p) => mask_phone(p),
        }
    }

    /// The material of a factor whose codes go here (a phone sealed for `user`).
    pub fn material(&self, keyring: &Keyring, user: &str) -> Material {
        match self {
            Target::Address(address) => Material::EmailOtp { address: address.clone() },
            Target::Phone(number) => {
                Material::Sms { phone: keyring.seal(number.as_bytes(), &phone_context(user)), hint: mask_phone(number) }
            }
        }
    }

    /// The message that carries `code`.
    fn message(&self, purpose: Purpose, code: &SecretString) -> Message {
        let code = code.expose_secret();
        let minutes = delivery::LIFETIME / 60;
        match (self, purpose) {
            (Target::Phone(to), Purpose::Activate) => Message::Text {
                to: to.clone(),
                body: format!("{code} is your code to add this phone for signing in. It expires in {minutes} minutes."),
            },
            (Target::Phone(to), Purpose::Login) => Message::Text {
                to: to.clone(),
                body: format!("{code} is your sign-in code. It expires in {minutes} minutes. Do not share it."),
            },
            (Target::Address(to), purpose) => {
                let (subject, intro) = match purpose {
                    Purpose::Activate => ("Confirm this address for sign-in codes", "Enter this code to confirm it:"),
                    Purpose::Login => ("Your sign-in code", "Enter this code to finish signing in:"),
                };
                let ignore = "If you did not ask for it, ignore this email; nothing happens without the code.";
                let text = format!("{intro}\n\n{code}\n\nIt works once and expires in {minutes} minutes.\n{ignore}\n");
                let html = format!(
                    "<!doctype html><html><body style=\"font-family:sans-serif\"><p>{}</p>\
                     <p style=\"font-size:1.6em;letter-spacing:0.2em\"><b>{code}</b></p>\
                     <p>It works once and expires in {minutes} minutes.</p><p>{}</p></body></html>",
                    html_escape(intro),
                    html_escape(ignore),
                );
                Message::Mail(Mail { to: to.clone(), subject: subject.into(), text, html })
            }
        }
    }
}

fn phone_context(user: &str) -> String {
    format!("{user}/sms")
}

/// A phone number as typed, if libphonenumber knows it as a valid number in international
/// form (`+` and the country code): its E.164 form.
pub fn parse_phone(raw: &str) -> Result<String, Refusal> {
    let bad = || {
        Refusal::InvalidField(
            "Field `phoneNumber` must be a valid phone number in international form, such as +14155550100.".into(),
        )
    };
    let raw = raw.trim();
    if !raw.starts_with('+') || raw.len() > 32 {
        return Err(bad());
    }
    let number = phonenumber::parse(None, raw).map_err(|_| bad())?;
    if !phonenumber::is_valid(&number) {
        return Err(bad());
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

/// Where the codes of a stored code factor go.
fn target_of(keyring: &Keyring, user: &str, factor: &Factor) -> Result<Target, Refusal> {
    match &factor.material {
        Material::EmailOtp { address } => Ok(Target::Address(address.clone())),
        Material::Sms { phone, .. } => {
            let number = keyring.open(phone, &phone_context(user)).map_err(|e| {
                tracing::error!(error = %e, "a stored phone number does not decrypt");
                Refusal::Internal
            })?;
            String::from_utf8(number).map(Target::Phone).map_err(|_| Refusal::Internal)
        }
        // Not a factor codes are sent to.
        _ => {
            tracing::error!("a code was asked for a factor that takes none");
            Err(Refusal::Internal)
        }
    }
}

// Against the store ------------------------------------------------------------------------

/// Where a setup code went, as the caller may see it: the address, or the phone number
/// masked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shown {
    Address(String),
    Phone(String),
}

/// `POST /mfa/setup` for EMAIL_OTP and SMS: a new pending factor for `target`, and a setup
/// code sent there.
pub async fn setup(app: &App, principal: &Principal, target: Target, name: Option<String>) -> Result<Started, Refusal> {
    let keyring = app.keyring()?;
    let method = target.method();
    let now = app.clock.now();
    let user = principal.user_id.as_str();
    let code = delivery::new_code();
    let material = target.material(keyring, user);
    let change = Change::starting(method, principal, now);
    let factor_id = delivery::send(app, user, &change, |record| {
        let setup = PendingSetup { step_up: change.step_up(), item: None, started_at: now };
        let name = name.clone().unwrap_or_else(|| target.hint());
        let id = record.begin_setup(material.clone(), name, setup, now)?;
        let item = delivery::code_item(app, user, &id, method, Purpose::Activate, &code, now)?;
        Ok(Prepared {
            message: target.message(Purpose::Activate, &code),
            stored: Stored::Code { item, method, purpose: Purpose::Activate },
            answer: id,
        })
    })
    .await?;
    let shown = match &target {
        Target::Address(address) => Shown::Address(address.clone()),
        Target::Phone(_) => Shown::Phone(target.hint()),
    };
    let setup = super::Setup::Code { factor_id, to: shown };
    Ok(Started { setup })
}

/// `POST /mfa/verify-setup` for EMAIL_OTP and SMS: the setup code enables its factor (a
/// user's first factor brings backup codes). A wrong code counts as a failure.
pub async fn complete(
    app: &App,
    principal: &Principal,
    method: MfaType,
    code: &SecretString,
    factor_id: Option<&str>,
    finish: super::Finish,
) -> Result<Completed, Refusal> {
    let now = app.clock.now();
    let user = principal.user_id.as_str();
    let (record, item, rules) =
        app.store.load_user_and_code(user, method, Purpose::Activate, principal.org_id.as_deref()).await?;
    let change = Change::completing(method, Actor::User(principal), now);
    let (codes, hashes) = backup_codes::generate_n(app.keyring()?, user, finish.backup_codes);
    let (first, session) = update::attempt(
        app,
        user,
        Some((record, rules)),
        change,
        None,
        |record, _| {
            let session = change.acting_session(record).map(String::from);
            let first = !record.has_mfa_enabled();
            let presented = PresentedCode { method, purpose: Purpose::Activate, code, factor_id };
            let (factor, writes) = delivery::check_code(app, record, item.as_ref(), presented, now)?;
            record
                .complete_setup(method, None, Some(&factor), now)
                .ok_or(Failure::Uncounted(Refusal::SetupNotPending(method)))?;
            backup_codes::issue_with_first_factor(record, first, &hashes, session);
            let amr = if method == MfaType::Sms { "sms" } else { "email" };
            let session = finish.session(app, principal, amr, record, now)?;
            Ok(((first, session), writes))
        },
        || Refusal::InvalidCode { backup: false },
    )
    .await?;
    let backup_codes = first.then_some(codes);
    Ok(Completed { backup_codes, session })
}

/// `POST /mfa/email-code/send` and `POST /mfa/sms/send`: a login code to the factor named,
/// or to the one used (or added) most recently. Returns that factor's id and its masked
/// address or number.
pub async fn send_login(
    app: &App,
    principal: &Principal,
    method: MfaType,
    factor_id: Option<&str>,
) -> Result<(String, String), Refusal> {
    app.offers(method)?;
    let keyring = app.keyring()?;
    let now = app.clock.now();
    let user = principal.user_id.as_str();
    let code = delivery::new_code();
    let change = Change::by_user(Action::Verify, principal, now);
    delivery::send(app, user, &change, |record| {
        let factor = super::login_factor(record, method, factor_id)?;
        let target = target_of(keyring, user, factor)?;
        let item = delivery::code_item(app, user, &factor.id, method, Purpose::Login, &code, now)?;
        Ok(Prepared {
            message: target.message(Purpose::Login, &code),
            stored: Stored::Code { item, method, purpose: Purpose::Login },
            answer: (factor.id.clone(), target.hint()),
        })
    })
    .await
}

/// A login code as presented, with the live login code read with the record.
pub struct SentCode {
    pub method: MfaType,
    pub code: SecretString,
    pub factor_id: Option<String>,
    item: Option<CodeItem>,
}

/// Reads the user's live login code of `method` with their record (and the policy of
/// `org_id`, when named), in one round trip.
pub async fn find_login_code(
    app: &App,
    principal: &Principal,
    method: MfaType,
    code: SecretString,
    factor_id: Option<String>,
    org_id: Option<&str>,
) -> Result<(SentCode, crate::update::Loaded), Refusal> {
    let user = principal.user_id.as_str();
    let (record, item, policy) = app.store.load_user_and_code(user, method, Purpose::Login, org_id).await?;
    Ok((SentCode { method, code, factor_id, item }, (record, policy)))
}

/// The login check, in the record's write: the code must be the live login code of an
/// enabled factor of the method; returns the write that spends it. A wrong, expired,
/// spent or foreign code counts as a failure.
pub fn check_login(app: &App, record: &mut UserMfaRecord, sent: &SentCode, now: i64) -> Result<Vec<Write>, Failure> {
    if !record.state(sent.method).is_enabled() {
        return Err(Refusal::MethodNotEnabled(sent.method).into());
    }
    let presented = PresentedCode {
        method: sent.method,
        purpose: Purpose::Login,
        code: &sent.code,
        factor_id: sent.factor_id.as_deref(),
    };
    let (factor, writes) = delivery::check_code(app, record, sent.item.as_ref(), presented, now)?;
    let Some(factor) = record.factor_mut(&factor).filter(|f| f.is_enabled()) else {
        return Err(Failure::Counted(Refusal::InvalidCode { backup: false }));
    };
    factor.last_used_at = Some(now);
    Ok(writes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_checked_and_kept_in_e164() {
        assert_eq!(parse_phone("+1 (415) 555-0100").unwrap(), "+14155550100");
        assert_eq!(parse_phone("+49 151 12345678").unwrap(), "+4915112345678");
        for bad in ["4155550100", "+1", "+12345", "12345", "+1 415 555 01", "", "+999999999999999"] {
            assert!(parse_phone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_code_is_the_only_secret_in_a_message() {
        let code: SecretString = "042917".to_string().into();
        match Target::Phone("+14155550100".into()).message(Purpose::Login, &code) {
            Message::Text { to, body } => {
                assert_eq!(to, "+14155550100");
                assert!(body.starts_with("042917") && body.contains("10 minutes"), "{body}");
            }
            Message::Mail(_) => panic!("a text"),
        }
        match Target::Address("ada@example.com".into()).message(Purpose::Activate, &code) {
            Message::Mail(m) => {
                assert!(m.text.contains("042917") && m.html.contains("042917") && !m.text.contains("http"))
            }
            Message::Text { .. } => panic!("a mail"),
        }
    }
}
