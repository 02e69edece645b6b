//! Frontegg's own client, `@frontegg/rest-api`, unchanged, against the running API:
//! `tests/frontegg/client.mjs` drives every MFA function of its `api.auth` that maps to
//! a route of Frontegg's MFA API, for users prepared here (fresh ones, and ones seeded
//! with an authenticator, a phone or an email-code address), and checks each answer.

use std::process::Command;

use mfa_shared::factors::FactorState;
use mfa_shared::methods::codes::Target;
use mfa_shared::model::MfaType;
use mfa_tests::{
    Api, Person, app, enroll_totp_with_codes, phone_number, remember_secret, repo_root, seed, stand_in, store,
};
use serde_json::{Value, json};

/// Every function of the client's `api.auth` that maps to a Frontegg MFA route.
const FUNCTIONS: [&str; 29] = [
    "loginWithMfa",
    "recoverMfaToken",
    "preEnrollMFAAuthenticatorAppForLogin",
    "enrollMFAAuthenticatorAppForLogin",
    "verifyMFAAuthenticatorAppForLogin",
    "preEnrollMFASMSForLogin",
    "enrollMFASMSForLogin",
    "preVerifyMFASMSForLogin",
    "verifyMFASMSForLogin",
    "preEnrollMFAWebAuthnForLogin",
    "enrollMFAWebAuthnForLogin",
    "preVerifyMFAWebAuthnForLogin",
    "verifyMFAWebAuthnForLogin",
    "preVerifyMFAEmailCode",
    "verifyMFAEmailCode",
    "preEnrollMFAAuthenticatorApp",
    "enrollMFAAuthenticatorApp",
    "preEnrollMFASMS",
    "enrollMFASMS",
    "disableMFAAuthenticatorApp",
    "preDisableMFASMS",
    "disableMFASMS",
    "preDisableMFAWebAuthn",
    "disableMFAWebAuthn",
    "getMFADevices",
    "enrollMfa",
    "verifyMfa",
    "disableMfa",
    "checkIfAllowToRememberMfaDevice",
];

fn user(p: &Person) -> Value {
    json!({"id": p.id, "email": p.email, "token": p.platform_token()})
}

fn hex(raw: &[u8]) -> String {
    raw.iter().map(|b| format!("{b:02x}")).collect()
}

/// A user with an authenticator enrolled over our own API: its hex secret and factor id,
/// and the backup codes.
async fn with_authenticator(p: &Person) -> (Value, Vec<String>) {
    let (raw, codes) = enroll_totp_with_codes(&Api::new(), p).await;
    let (record, _) = store().await.load_user_and_policy(&p.id, None).await.unwrap();
    let id = record.factors.iter().find(|f| f.kind() == MfaType::GoogleAuth).unwrap().id.clone();
    let mut u = user(p);
    u["secretHex"] = json!(hex(&raw));
    u["authenticator"] = json!(id);
    (u, codes)
}

/// A user with a phone (and, with `authenticator`, an authenticator too), seeded.
async fn with_phone(p: &Person, authenticator: bool) -> Value {
    let app = app().await;
    let number = phone_number();
    let mut phone = stand_in(MfaType::Sms, FactorState::Enabled, p);
    phone.material = Target::Phone(number.clone()).material(app.keyring().unwrap(), &p.id);
    let other = stand_in(MfaType::GoogleAuth, FactorState::Enabled, p);
    seed(p, |r| {
        r.factors.push(phone.clone());
        if authenticator {
            r.factors.push(other.clone());
        }
    })
    .await;
    let mut u = user(p);
    u["phone"] = json!(number);
    u["phoneFactor"] = json!(phone.id);
    u
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frontegg_s_own_client_drives_every_mfa_function() {
    let _browser = mfa_tests::CHROMIUM.lock().await;
    let (b, c, j) = (Person::new(), Person::new(), Person::new());
    let (login_with_code, _) = with_authenticator(&b).await;
    let (login_with_that, _) = with_authenticator(&c).await;
    let (mut recover, codes) = with_authenticator(&j).await;
    recover["recoveryCode"] = json!(codes[0]);
    let mut fresh_phone = user(&Person::new());
    fresh_phone["phone"] = json!(phone_number());
    let mut logged_in_phone = user(&Person::new());
    logged_in_phone["phone"] = json!(phone_number());
    let mut server_for_user = user(&Person::new());
    server_for_user["serverToken"] = json!(mfa_tests::server_token(Some("frontegg-client")));
    server_for_user["phone"] = json!(phone_number());
    let email = Person::new();
    let factor = stand_in(MfaType::EmailOtp, FactorState::Enabled, &email);
    seed(&email, |r| r.factors.push(factor.clone())).await;
    let users = json!({
        "authenticatorAtLogin": user(&Person::new()),
        "loginWithCode": login_with_code,
        "loginWithThatAuthenticator": login_with_that,
        "phoneAtLogin": fresh_phone,
        "loginWithPhone": with_phone(&Person::new(), false).await,
        "removePhone": with_phone(&Person::new(), true).await,
        "loginWithEmailCode": user(&email),
        "passkey": user(&Person::new()),
        "authenticatorLoggedIn": user(&Person::new()),
        "legacy": user(&Person::new()),
        "phoneLoggedIn": logged_in_phone,
        "recover": recover,
        "serverForUser": server_for_user,
    });
    let out = Command::new("node")
        .arg(repo_root().join("tests/frontegg/client.mjs"))
        .env("FRONTEGG_USERS", users.to_string())
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the client's run failed:\n{stdout}\n{stderr}");
    let result: Value = serde_json::from_str(stdout.lines().last().expect("a result line")).expect("JSON result");
    for s in result["secrets"].as_array().unwrap() {
        if let Some(s) = s.as_str() {
            remember_secret(s);
        }
    }
    let passed: Vec<&str> = result["passed"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    println!("Frontegg's client (@frontegg/rest-api): {} of {} MFA functions passed", passed.len(), FUNCTIONS.len());
    assert!(result["failed"].as_array().unwrap().is_empty(), "failed: {:#}", result["failed"]);
    let missing: Vec<&&str> = FUNCTIONS.iter().filter(|f| !passed.contains(f)).collect();
    assert!(missing.is_empty(), "never exercised: {missing:?}");
}
