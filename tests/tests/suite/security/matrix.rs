//! The authorization matrix, generated from the route table: every route (and, for the
//! routes that take two actions, each of them) against every kind of caller, each cell
//! on a fresh user in DynamoDB Local, through the shared handlers (`TestApp::call` runs
//! each function's as its binary would). A full-access token older than 15 minutes is
//! made by moving the application's clock, not by minting an odd token; a token of an
//! ended session is one whose session the user's record does not list. Every cell is the
//! contract's answer: its status and, for a refusal, its code.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use mfa_shared::App;
use mfa_shared::crypto::{ExposeSecret, random_bytes, sha256_hex};
use mfa_shared::factors::{FactorState, Material};
use mfa_shared::methods::{backup_codes, totp};
use mfa_shared::model::RememberedDevice;
use mfa_shared::model::{LiveSession, MfaType, PendingSetup, StepUp};
use mfa_shared::routes::{AuthKind, ROUTES, route};
use mfa_shared::sessions;
use mfa_tests::{Person, TestApp, now, remember_secret, seed, stack, stand_in, unique};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Who calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    NoToken,
    Malformed,
    ExpiredBeyondLeeway,
    WrongKey,
    AlgNone,
    MissingIssuerAndAudience,
    /// The user's platform token; the user has no MFA.
    PlatformWithoutMfa,
    /// The user's platform token; the user has MFA.
    PlatformWithMfa,
    /// The user's full-access token, second factor just now.
    FreshFullAccess,
    /// The same token, 16 minutes later on the application's clock.
    StaleFullAccess,
    /// A `MEMBER` of the organization, with a fresh full-access token of their own.
    Member,
    /// An `OWNER` of another organization, with a fresh full-access token of their own.
    AdminOfAnotherOrganization,
    /// The user's full-access token, second factor just now, of a session that has ended.
    EndedSession,
    /// The user's full-access token, second factor just now, of a session begun with a
    /// platform token that named no organization (the record stays bound to its own).
    SessionNamingNoOrganization,
    /// The same, the token naming another organization (where the user is an `OWNER`).
    SessionNamingAnotherOrganization,
    /// The platform's backend: a server credential, `frontegg-user-id` naming the user (and
    /// `frontegg-tenant-id` their organization) where the route declares them.
    Server,
    /// The user's full-access token, second factor just now, with `frontegg-user-id`
    /// naming another user.
    UserNamingAnother,
}

const CALLERS: [Caller; 17] = [
    Caller::NoToken,
    Caller::Malformed,
    Caller::ExpiredBeyondLeeway,
    Caller::WrongKey,
    Caller::AlgNone,
    Caller::MissingIssuerAndAudience,
    Caller::PlatformWithoutMfa,
    Caller::PlatformWithMfa,
    Caller::FreshFullAccess,
    Caller::StaleFullAccess,
    Caller::Member,
    Caller::AdminOfAnotherOrganization,
    Caller::EndedSession,
    Caller::SessionNamingNoOrganization,
    Caller::SessionNamingAnotherOrganization,
    Caller::Server,
    Caller::UserNamingAnother,
];

/// What a cell must answer: a status, and a code unless it is a success.
type Expect = (u16, &'static str);
const OK: Expect = (200, "");
/// Frontegg's answer to a pre-login `POST` that succeeded.
const CREATED: Expect = (201, "");
const STEP_UP: Expect = (403, "STEP_UP_REQUIRED");

/// The answers of the six valid callers of live sessions, in `CALLERS` order from
/// `PlatformWithoutMfa`.
#[derive(Clone, Copy)]
struct Op {
    function: &'static str,
    what: &'static str,
    valid: [Expect; 6],
}

/// Every route at least once; `reset` and `organization/enforce` for each of their actions.
fn ops() -> Vec<Op> {
    let same = |e: Expect| [e; 6];
    // A change of the caller's own factors: free without MFA, step-up with it.
    let step_up = [OK, STEP_UP, OK, STEP_UP, OK, OK];
    let mut ops = vec![
        Op { function: "mfa-status", what: "status", valid: same(OK) },
        Op { function: "mfa-methods", what: "methods", valid: same(OK) },
        Op { function: "mfa-factors", what: "factors", valid: same(OK) },
        Op { function: "mfa-factor-rename", what: "rename a disabled passkey", valid: step_up },
        Op { function: "mfa-factor-remove", what: "remove a disabled passkey", valid: step_up },
        Op { function: "mfa-setup", what: "setup GOOGLE_AUTH", valid: step_up },
        Op { function: "mfa-verify-setup", what: "verify-setup of a setup begun without step-up", valid: step_up },
        Op { function: "mfa-verify-setup", what: "verify-setup of a setup stepped up 16 minutes ago", valid: step_up },
        Op {
            function: "mfa-verify-setup",
            what: "verify-setup of a setup stepped up just now in a live session",
            valid: same(OK),
        },
        Op { function: "mfa-enable", what: "enable a disabled PASSKEY", valid: step_up },
        Op {
            function: "mfa-disable",
            what: "disable GOOGLE_AUTH",
            valid: [(409, "METHOD_NOT_ENABLED"), STEP_UP, OK, STEP_UP, OK, OK],
        },
        Op {
            function: "mfa-primary",
            what: "primary GOOGLE_AUTH",
            valid: [(409, "METHOD_NOT_ENABLED"), OK, OK, OK, OK, OK],
        },
        Op { function: "mfa-reset", what: "reset oneself", valid: step_up },
        Op {
            function: "mfa-reset",
            what: "reset a member with MFA",
            valid: [(403, "MFA_SETUP_REQUIRED"), STEP_UP, OK, STEP_UP, (403, "FORBIDDEN"), (404, "USER_NOT_FOUND")],
        },
        Op {
            function: "mfa-magic-link-send",
            what: "send a login link",
            valid: [(409, "METHOD_NOT_ENABLED"), OK, OK, OK, OK, OK],
        },
        Op {
            function: "mfa-email-code-send",
            what: "send a login code by mail",
            valid: [(409, "METHOD_NOT_ENABLED"), OK, OK, OK, OK, OK],
        },
        Op {
            function: "mfa-sms-send",
            what: "send a login code by text",
            valid: [(409, "METHOD_NOT_ENABLED"), OK, OK, OK, OK, OK],
        },
        Op {
            function: "mfa-magic-link-activate",
            what: "activate an unknown link",
            valid: same((400, "INVALID_LINK")),
        },
        Op {
            function: "mfa-passkey-auth-options",
            what: "auth-options without passkeys",
            valid: same((409, "METHOD_NOT_ENABLED")),
        },
        Op {
            function: "mfa-passkey-complete-registration",
            what: "complete an unknown ceremony",
            valid: same((400, "CEREMONY_EXPIRED")),
        },
        Op {
            function: "mfa-passkey-complete-registration-1",
            what: "complete an unknown ceremony",
            valid: same((400, "CEREMONY_EXPIRED")),
        },
        Op {
            function: "mfa-verify-login",
            what: "verify-login with a current code",
            valid: [(409, "METHOD_NOT_ENABLED"), OK, OK, OK, OK, OK],
        },
        Op {
            function: "mfa-recover",
            what: "recover with a backup code",
            valid: [(400, "INVALID_CODE"), OK, OK, OK, OK, OK],
        },
        Op {
            function: "mfa-backup-codes",
            what: "regenerate backup codes",
            valid: [(409, "MFA_NOT_ENABLED"), STEP_UP, OK, STEP_UP, OK, OK],
        },
        Op {
            function: "mfa-token-refresh",
            what: "refresh a live session",
            valid: [
                OK,
                OK,
                (401, "PLATFORM_TOKEN_REQUIRED"),
                (401, "PLATFORM_TOKEN_REQUIRED"),
                (401, "PLATFORM_TOKEN_REQUIRED"),
                (401, "PLATFORM_TOKEN_REQUIRED"),
            ],
        },
        Op {
            function: "mfa-organization-enforce",
            what: "enforce MFA",
            valid: [OK, OK, OK, OK, (403, "FORBIDDEN"), OK],
        },
        Op {
            function: "mfa-organization-enforce",
            what: "lift enforcement",
            valid: [(403, "MFA_SETUP_REQUIRED"), STEP_UP, OK, STEP_UP, (403, "FORBIDDEN"), OK],
        },
        Op { function: "mfa-jwks", what: "the public keys", valid: same(OK) },
        Op { function: "mfa-devices", what: "remembered devices", valid: same(OK) },
        Op { function: "mfa-device-forget", what: "forget a remembered device", valid: same(OK) },
        Op { function: "mfa-devices-forget", what: "forget every remembered device", valid: same(OK) },
        Op { function: "mfa-remember-device", what: "whether a device may be remembered", valid: same(OK) },
        Op { function: "mfa-events", what: "one's own events", valid: [OK, STEP_UP, OK, OK, OK, OK] },
        Op {
            function: "mfa-verify-login",
            what: "verify-login with a remembered device",
            valid: [(400, "DEVICE_NOT_REMEMBERED"), OK, OK, OK, OK, OK],
        },
    ];
    ops.extend(frontegg_ops());
    ops
}

/// Frontegg's routes: `201` for a pre-login `POST` that succeeded, `200` otherwise; a
/// proof in the request stands in for a fresh second factor.
fn frontegg_ops() -> Vec<Op> {
    let same = |e: Expect| [e; 6];
    let step_up = [OK, STEP_UP, OK, STEP_UP, OK, OK];
    let step_up_created = [CREATED, STEP_UP, CREATED, STEP_UP, CREATED, CREATED];
    let with_mfa = |no_mfa: Expect, e: Expect| [no_mfa, e, e, e, e, e];
    let not_enabled = (409, "METHOD_NOT_ENABLED");
    let not_found = (404, "FACTOR_NOT_FOUND");
    let invalid_code = (400, "INVALID_CODE");
    vec![
        Op {
            function: "frontegg-login-verify",
            what: "log in with a current code",
            valid: with_mfa(not_enabled, CREATED),
        },
        Op {
            function: "frontegg-login-authenticator-verify",
            what: "log in with that authenticator's current code",
            valid: with_mfa(not_found, CREATED),
        },
        Op {
            function: "frontegg-login-recover",
            what: "recover with a recovery code",
            valid: with_mfa(invalid_code, CREATED),
        },
        Op {
            function: "frontegg-login-authenticator-enroll",
            what: "begin an authenticator at login",
            valid: step_up_created,
        },
        Op {
            function: "frontegg-login-authenticator-enroll-verify",
            what: "complete an authenticator begun without step-up",
            valid: step_up_created,
        },
        Op { function: "frontegg-login-sms-enroll", what: "text a setup code at login", valid: step_up_created },
        Op {
            function: "frontegg-login-sms-enroll-verify",
            what: "complete a phone with a wrong code",
            valid: [invalid_code, STEP_UP, invalid_code, STEP_UP, invalid_code, invalid_code],
        },
        Op {
            function: "frontegg-login-sms-send",
            what: "text a login code to that phone",
            valid: with_mfa(not_found, CREATED),
        },
        Op {
            function: "frontegg-login-sms-verify",
            what: "log in with a wrong text code",
            valid: with_mfa(not_enabled, invalid_code),
        },
        Op {
            function: "frontegg-login-emailcode-send",
            what: "mail a login code",
            valid: with_mfa(not_enabled, CREATED),
        },
        Op {
            function: "frontegg-login-emailcode-verify",
            what: "log in with a wrong mailed code",
            valid: with_mfa(not_enabled, invalid_code),
        },
        Op { function: "frontegg-login-webauthn-enroll", what: "begin a passkey at login", valid: step_up_created },
        Op {
            function: "frontegg-login-webauthn-enroll-verify",
            what: "complete an unknown ceremony",
            valid: same((400, "CEREMONY_EXPIRED")),
        },
        Op {
            function: "frontegg-login-webauthn-options",
            what: "open a ceremony for a passkey the user does not have",
            valid: same(not_found),
        },
        Op {
            function: "frontegg-login-webauthn-verify",
            what: "log in with an assertion, the user having no passkey",
            valid: same(not_enabled),
        },
        Op {
            function: "frontegg-allow-remember-device",
            what: "whether the device may be remembered",
            valid: same(OK),
        },
        Op { function: "frontegg-authenticator-enroll", what: "begin an authenticator", valid: step_up },
        Op {
            function: "frontegg-authenticator-enroll-verify",
            what: "complete an authenticator begun without step-up",
            valid: step_up,
        },
        Op { function: "frontegg-mfa-enroll", what: "begin an authenticator (legacy)", valid: step_up },
        Op {
            function: "frontegg-mfa-enroll-verify",
            what: "complete an authenticator begun without step-up (legacy)",
            valid: step_up,
        },
        Op { function: "frontegg-sms-enroll", what: "begin a phone", valid: step_up },
        Op {
            function: "frontegg-sms-enroll-verify",
            what: "complete a phone with a wrong code",
            valid: [invalid_code, STEP_UP, invalid_code, STEP_UP, invalid_code, invalid_code],
        },
        Op {
            function: "frontegg-authenticator-disable",
            what: "remove the authenticator, its current code in the request",
            valid: with_mfa(not_found, OK),
        },
        Op {
            function: "frontegg-authenticator-disable",
            what: "remove the authenticator, a wrong code in the request",
            valid: with_mfa(not_found, invalid_code),
        },
        Op {
            function: "frontegg-sms-disable-send",
            what: "text a code to prove that phone",
            valid: with_mfa(not_found, OK),
        },
        Op {
            function: "frontegg-sms-disable",
            what: "remove the phone, a wrong code in the request",
            valid: with_mfa(not_enabled, invalid_code),
        },
        Op {
            function: "frontegg-mfa-disable",
            what: "turn MFA off, a recovery code in the request",
            valid: with_mfa(invalid_code, OK),
        },
        Op { function: "frontegg-devices", what: "the device list", valid: same(OK) },
        Op {
            function: "frontegg-webauthn-disable-options",
            what: "open a ceremony for a passkey the user does not have",
            valid: same(not_found),
        },
        Op {
            function: "frontegg-webauthn-disable",
            what: "remove a passkey with an assertion, the user having no passkey",
            valid: same(not_enabled),
        },
    ]
}

/// The answer to a fresh session whose token names no organization (`no_org`) or another
/// one: the user's own record is governed by the organization it is bound to, so every
/// change of the user's own factors answers as to their fresh session; administration
/// answers for the organization the token names (none: there is nothing to administer;
/// another: the member, bound to the user's organization, is out of its reach).
fn elsewhere(op: &Op, no_org: bool) -> Expect {
    match (op.function, op.what) {
        ("mfa-reset", "reset a member with MFA") if no_org => (400, "NO_ORGANIZATION"),
        ("mfa-reset", "reset a member with MFA") => (404, "USER_NOT_FOUND"),
        ("mfa-organization-enforce", _) if no_org => (400, "NO_ORGANIZATION"),
        // A remembered device stands in for a factor only under its own organization's token.
        ("mfa-verify-login", "verify-login with a remembered device") => (400, "DEVICE_NOT_REMEMBERED"),
        _ => op.valid[2],
    }
}

/// The contract's answer for `caller`: the six invalid tokens are refused before anything
/// else on every route that takes a bearer token, and a token of an ended session on every
/// route that takes a full-access token; routes without a bearer ignore them.
fn expected(op: &Op, caller: Caller) -> Expect {
    let index = CALLERS.iter().position(|c| *c == caller).unwrap();
    let auth = route(op.function).unwrap().auth;
    if caller == Caller::EndedSession {
        return match auth {
            AuthKind::None => op.valid[0],
            AuthKind::Platform => (401, "PLATFORM_TOKEN_REQUIRED"),
            AuthKind::Either | AuthKind::MfaToken => (401, "SESSION_ENDED"),
        };
    }
    let backend = route(op.function).unwrap().needs.backend;
    match caller {
        // The backend acts with the standing of the user's password-only token (the user has
        // MFA) where the route declares the header; nowhere else is its credential taken.
        Caller::Server if backend.names_user() => return op.valid[1],
        Caller::Server if backend.takes_server() => return op.valid[1],
        Caller::Server if auth == AuthKind::None => return op.valid[0],
        Caller::Server => return (401, "INVALID_TOKEN"),
        Caller::UserNamingAnother if backend.names_user() => return (403, "FORBIDDEN"),
        Caller::UserNamingAnother => return op.valid[2],
        _ => {}
    }
    if matches!(caller, Caller::SessionNamingNoOrganization | Caller::SessionNamingAnotherOrganization) {
        return elsewhere(op, caller == Caller::SessionNamingNoOrganization);
    }
    if index >= 6 {
        return op.valid[index - 6];
    }
    if auth == AuthKind::None {
        return op.valid[0];
    }
    match caller {
        Caller::NoToken => (401, "MISSING_TOKEN"),
        Caller::ExpiredBeyondLeeway => (401, "TOKEN_EXPIRED"),
        _ => (401, "INVALID_TOKEN"),
    }
}

/// A user with MFA: an authenticator (secret returned) and magic links on, backup codes.
async fn enrol(app: &App, person: &Person) -> (Vec<u8>, String) {
    let raw = random_bytes::<20>().to_vec();
    let sealed = totp::seal_secret(app.keyring().unwrap(), &person.id, &raw);
    let (codes, hashes) = backup_codes::generate(app.keyring().unwrap(), &person.id);
    codes.iter().for_each(|c| remember_secret(c.expose_secret()));
    let mut authenticator = stand_in(MfaType::GoogleAuth, FactorState::Enabled, person);
    authenticator.material = Material::GoogleAuth { secret: sealed };
    let links = stand_in(MfaType::MagicLink, FactorState::Enabled, person);
    let email_codes = stand_in(MfaType::EmailOtp, FactorState::Enabled, person);
    let texts = stand_in(MfaType::Sms, FactorState::Enabled, person);
    seed(person, |r| {
        r.factors.extend([authenticator.clone(), links.clone(), email_codes.clone(), texts.clone()]);
        r.primary_method = Some(MfaType::GoogleAuth);
        r.backup_codes = hashes.clone();
    })
    .await;
    (raw, codes[0].expose_secret().to_string())
}

/// A pending authenticator of `person` begun at `started` (stepped up in a live session of
/// the user's, when `step_up` says so); its secret.
async fn seed_pending_authenticator(app: &App, person: &Person, step_up: Option<StepUp>, started: i64) -> Vec<u8> {
    let pending = random_bytes::<20>().to_vec();
    let sealed = totp::seal_secret(app.keyring().unwrap(), &person.id, &pending);
    seed(person, |r| {
        if let Some(s) = &step_up {
            r.sessions.insert(
                s.session.clone(),
                LiveSession {
                    started_at: s.at,
                    ends_at: s.at + 3600,
                    by_device: false,
                    device: None,
                    ..Default::default()
                },
            );
        }
        let setup = PendingSetup { step_up: step_up.clone(), item: None, started_at: started };
        let material = Material::GoogleAuth { secret: sealed.clone() };
        r.begin_setup(material, "New".into(), setup, started).expect("room for an authenticator");
    })
    .await;
    pending
}

fn unsigned(claims: &Value) -> String {
    let head = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    format!("{head}.{}.", URL_SAFE_NO_PAD.encode(claims.to_string()))
}

/// One cell: a fresh organization and users, the state the operation needs, the request.
async fn cell(op: &Op, caller: Caller) -> (u16, Value) {
    let t = now();
    let test = TestApp::at(t).await;
    let (app, clock) = (&test.app, &test.clock);
    let org = unique("org");
    let me = match caller {
        Caller::Member => Person::in_org(&org, "MEMBER"),
        Caller::AdminOfAnotherOrganization => Person::in_org(&unique("org"), "OWNER"),
        _ => Person::in_org(&org, "OWNER"),
    };
    seed(&me, |_| {}).await;
    let mut secret = None;
    let mut backup = String::new();
    if caller != Caller::PlatformWithoutMfa {
        let (raw, code) = enrol(app, &me).await;
        secret = Some(raw);
        backup = code;
    }
    if caller == Caller::StaleFullAccess {
        clock.advance(16 * 60);
    }
    let at = clock.now();
    let mut body = json!(null);
    let mut factor = None;
    // Frontegg's `{deviceId}`: the user's factor of a kind, or an id the user does not have.
    let (record, _) = test.store().load_user_and_policy(&me.id, None).await.unwrap();
    let id_of = |kind: MfaType| {
        record
            .factors
            .iter()
            .find(|f| f.kind() == kind)
            .map_or_else(|| "fNoSuchFactor0001".to_string(), |f| f.id.clone())
    };
    let current = secret.as_ref().map(|s| totp::code_at(s, at)).unwrap_or_else(|| "123456".into());
    let wrong = format!("{:06}", (current.parse::<u32>().unwrap() + 500_000) % 1_000_000);
    let recovery = if backup.is_empty() { "AAAA-AAAA-AAAA-AAAA".to_string() } else { backup.clone() };
    let no_ceremony = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
    match (op.function, op.what) {
        ("mfa-setup", _) => body = json!({"mfaType": "GOOGLE_AUTH"}),
        ("mfa-verify-setup", what) => {
            // Begun without step-up, or stepped up in a live session of the user's (not
            // the caller's) 16 minutes ago or just now.
            let (step_up, started) = match what {
                "verify-setup of a setup stepped up 16 minutes ago" => {
                    (Some(StepUp { session: unique("session"), at: at - 16 * 60 }), at - 16 * 60)
                }
                "verify-setup of a setup stepped up just now in a live session" => {
                    (Some(StepUp { session: unique("session"), at }), at)
                }
                _ => (None, t),
            };
            let pending = seed_pending_authenticator(app, &me, step_up, started).await;
            body = json!({"mfaType": "GOOGLE_AUTH", "code": totp::code_at(&pending, at)});
        }
        ("mfa-enable", _) => {
            let passkey = stand_in(MfaType::Passkey, FactorState::Disabled, &me);
            seed(&me, |r| r.factors.push(passkey.clone())).await;
            body = json!({"mfaType": "PASSKEY"});
        }
        ("mfa-factor-rename" | "mfa-factor-remove", _) => {
            let passkey = stand_in(MfaType::Passkey, FactorState::Disabled, &me);
            factor = Some(passkey.id.clone());
            seed(&me, |r| r.factors.push(passkey.clone())).await;
            if op.function == "mfa-factor-rename" {
                body = json!({"name": "Old key"});
            }
        }
        ("mfa-disable" | "mfa-primary", _) => body = json!({"mfaType": "GOOGLE_AUTH"}),
        ("mfa-reset", "reset a member with MFA") => {
            let member = Person::in_org(&org, "MEMBER");
            seed(&member, |_| {}).await;
            enrol(app, &member).await;
            body = json!({"resetUserId": member.id});
        }
        ("mfa-magic-link-activate", _) => body = json!({"token": URL_SAFE_NO_PAD.encode(random_bytes::<32>())}),
        ("mfa-passkey-complete-registration" | "mfa-passkey-complete-registration-1", _) => {
            body = json!({"credential": {"id": "x", "response": {}}, "challenge": URL_SAFE_NO_PAD.encode(random_bytes::<32>())})
        }
        ("mfa-verify-login", "verify-login with a remembered device") | ("mfa-device-forget", _) => {
            // A device remembered a minute ago by a login of the user's.
            let token = URL_SAFE_NO_PAD.encode(random_bytes::<32>());
            remember_secret(&token);
            let id = unique("d");
            let device = RememberedDevice {
                token_hash: sha256_hex(token.as_bytes()),
                name: "Chrome on Linux".into(),
                created_at: at - 60,
                last_used_at: None,
                expires_at: at + 86_400,
                amr: vec!["pwd".into(), "otp".into(), "mfa".into()],
                auth_time: at - 60,
                session_id: None,
            };
            seed(&me, |r| {
                r.devices.insert(id.clone(), device.clone());
            })
            .await;
            if op.function == "mfa-device-forget" {
                factor = Some(id);
            } else {
                body = json!({"mfaType": "DEVICE", "deviceToken": token});
            }
        }
        ("mfa-verify-login", _) => {
            let code = secret.as_ref().map(|s| totp::code_at(s, at)).unwrap_or_else(|| "123456".into());
            body = json!({"mfaType": "GOOGLE_AUTH", "code": code});
        }
        ("mfa-recover", _) => {
            body = json!({"code": if backup.is_empty() { "AAAA-AAAA-AAAA-AAAA".to_string() } else { backup.clone() }})
        }
        ("mfa-token-refresh", _) => {
            let (mut record, _) = test.store().load_user_and_policy(&me.id, None).await.unwrap();
            let session = sessions::start(app, &me.principal(), &["pwd", "otp", "mfa"], &mut record, t, None).unwrap();
            test.store().save_user(&mut record).await.unwrap();
            remember_secret(session.refresh_token.expose_secret());
            body = json!({"refreshToken": session.refresh_token.expose_secret()});
        }
        ("frontegg-login-verify", _) => body = json!({"value": current}),
        ("frontegg-login-authenticator-verify", _) => {
            factor = Some(id_of(MfaType::GoogleAuth));
            body = json!({"value": current});
        }
        ("frontegg-login-recover", _) => body = json!({"email": me.email, "recoveryCode": recovery}),
        (
            "frontegg-login-authenticator-enroll-verify"
            | "frontegg-authenticator-enroll-verify"
            | "frontegg-mfa-enroll-verify",
            _,
        ) => {
            let pending = seed_pending_authenticator(app, &me, None, t).await;
            body = json!({"token": totp::code_at(&pending, at)});
        }
        ("frontegg-login-sms-enroll" | "frontegg-sms-enroll", _) => {
            body = json!({"phoneNumber": mfa_tests::phone_number()})
        }
        ("frontegg-login-sms-enroll-verify" | "frontegg-sms-enroll-verify", _) => {
            let phone = stand_in(MfaType::Sms, FactorState::Pending, &me);
            seed(&me, |r| r.factors.push(phone.clone())).await;
            body = json!({"otcToken": phone.id, "code": "000000"});
        }
        ("frontegg-login-sms-send" | "frontegg-sms-disable-send", _) => factor = Some(id_of(MfaType::Sms)),
        ("frontegg-login-sms-verify" | "frontegg-sms-disable", _) => {
            let id = id_of(MfaType::Sms);
            body = json!({"otcToken": id, "code": "000000"});
            factor = Some(id);
        }
        ("frontegg-login-emailcode-verify", _) => {
            body = json!({"otcToken": id_of(MfaType::EmailOtp), "code": "000000"})
        }
        ("frontegg-login-webauthn-enroll-verify", _) => {
            body =
                json!({"webauthnToken": no_ceremony, "deviceType": "Platform", "options": {"id": "x", "response": {}}})
        }
        ("frontegg-login-webauthn-options" | "frontegg-webauthn-disable-options", _) => {
            factor = Some(id_of(MfaType::Passkey))
        }
        ("frontegg-login-webauthn-verify" | "frontegg-webauthn-disable", _) => {
            factor = Some(id_of(MfaType::Passkey));
            body = json!({"webauthnToken": no_ceremony, "options": {"id": "x", "response": {}}});
        }
        ("frontegg-authenticator-disable", what) => {
            factor = Some(id_of(MfaType::GoogleAuth));
            body = json!({"token": if what.contains("current") { &current } else { &wrong }});
        }
        ("frontegg-mfa-disable", _) => body = json!({"token": recovery}),
        ("mfa-organization-enforce", "enforce MFA") => body = json!({"enforced": true}),
        ("mfa-organization-enforce", _) => body = json!({"enforced": false}),
        _ => {}
    }
    let s = stack();
    let claims = json!({"sub": me.id, "email": me.email, "orgId": me.org, "orgRole": me.role, "iss": s.platform_issuer, "aud": s.platform_audience});
    let token = match caller {
        Caller::NoToken => None,
        Caller::Malformed => Some("not-a-jwt".to_string()),
        Caller::ExpiredBeyondLeeway => Some(me.platform_token_with(json!({"exp": t - 120}), 0)),
        Caller::WrongKey => Some(mfa_local::platform_token("not-the-platform-secret", &claims, 600)),
        Caller::AlgNone => {
            Some(unsigned(&json!({"sub": me.id, "iss": s.platform_issuer, "aud": s.platform_audience, "exp": t + 600})))
        }
        Caller::MissingIssuerAndAudience => Some(mfa_local::platform_token(
            &s.platform_secret,
            &json!({"sub": me.id, "orgId": me.org, "orgRole": me.role}),
            600,
        )),
        Caller::PlatformWithoutMfa | Caller::PlatformWithMfa => Some(me.platform_token()),
        Caller::FreshFullAccess | Caller::StaleFullAccess | Caller::Member | Caller::AdminOfAnotherOrganization => {
            Some(me.full_access_token(t).await)
        }
        Caller::EndedSession => Some(me.ended_session_token(t)),
        Caller::SessionNamingNoOrganization => Some(me.full_access_token_naming(None, t).await),
        Caller::SessionNamingAnotherOrganization => {
            Some(me.full_access_token_naming(Some(&unique("elsewhere")), t).await)
        }
        Caller::Server => Some(mfa_tests::server_token(Some("matrix"))),
        Caller::UserNamingAnother => Some(me.full_access_token(t).await),
    };
    let backend = route(op.function).unwrap().needs.backend;
    let mut headers = Vec::new();
    match caller {
        Caller::Server => {
            // A server credential travels only as the bearer (never as an `mfaToken`).
            headers.push(("authorization", format!("Bearer {}", token.as_deref().unwrap_or_default())));
            headers.push(("frontegg-user-id", me.id.clone()));
            if backend.names_tenant().0 {
                headers.push(("frontegg-tenant-id", org.clone()));
            }
        }
        Caller::UserNamingAnother => headers.push(("frontegg-user-id", unique("someone-else"))),
        _ => {}
    }
    let token = if caller == Caller::Server { None } else { token };
    let (status, answer) = test.call_with(op.function, factor.as_deref(), token.as_deref(), &headers, body).await;
    for field in ["refreshToken", "recoveryCode"] {
        if let Some(r) = answer[field].as_str() {
            remember_secret(r);
        }
    }
    (status, answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_route_against_every_caller() {
    let ops = ops();
    let covered: BTreeSet<&str> = ops.iter().map(|o| o.function).collect();
    let all: BTreeSet<&str> = ROUTES.iter().map(|r| r.function).collect();
    assert_eq!(covered, all, "no route of either API is left out of the matrix");

    let mut failures = Vec::new();
    let mut cells = 0;
    for op in &ops {
        let answers: Vec<_> = CALLERS
            .iter()
            .map(|caller| {
                let (caller, op) = (*caller, *op);
                tokio::spawn(async move { (caller, cell(&op, caller).await) })
            })
            .collect();
        for task in answers {
            let (caller, (status, body)) = task.await.expect("the cell ran");
            cells += 1;
            let (want_status, want_code) = expected(op, caller);
            let code = body["code"].as_str().unwrap_or("");
            // Frontegg's successes are its own bodies; its failures our envelope with
            // `errors` and `errorCode` added.
            let frontegg = route(op.function).unwrap().is_frontegg();
            let envelope_ok = if (200..300).contains(&status) {
                if frontegg {
                    body.get("success").is_none()
                } else {
                    op.function == "mfa-jwks" || body["success"] == json!(true)
                }
            } else {
                body["success"] == json!(false)
                    && body["error"].as_str().is_some_and(|e| e.ends_with('.'))
                    && (!frontegg || (body["errorCode"] == body["code"] && body["errors"][0] == body["error"]))
            };
            if status != want_status || code != want_code || !envelope_ok {
                failures.push(format!(
                    "{} ({}) as {caller:?}: got {status} {code}, want {want_status} {want_code}",
                    op.function, op.what
                ));
            }
        }
    }
    println!(
        "authorization matrix: {} operations over {} routes × {} callers = {cells} cells, {} wrong",
        ops.len(),
        all.len(),
        CALLERS.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{} cell(s) differ from the contract:\n{}", failures.len(), failures.join("\n"));
}
