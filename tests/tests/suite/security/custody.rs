//! The seams between routes, tried as an attacker would over HTTP through `cargo lambda
//! watch` (the authorizer in process): a rule decided in one place must hold from every
//! neighbouring route.
//! 1. recovery codes are stored keyed; one in the earlier plain SHA-256 form works once and
//!    is rewritten keyed at the record's next write;
//! 2. an organization's `allowedMethods` binds every change that adds a factor of a method:
//!    starting, completing and switching back on;
//! 3. an organization's rules follow the member's record, not the token a session began
//!    with (no organization, or another one);
//! 4. a remembered device's session never passes the authorizer's maximum age;
//! 5. every recovery code spent as a change's proof is in the trail and in the user's mail.

use mfa_shared::authorizer::{AuthorizerRequest, MaxAges, authorize};
use mfa_shared::factors::FactorState;
use mfa_shared::methods::totp;
use mfa_shared::model::MfaType;
use mfa_tests::{
    Api, Person, TestApp, assert_error, begin_totp_setup, enroll_totp, enroll_totp_with_codes, factor_of,
    login_remembering, login_with_device, login_with_totp, login_with_totp_step, mails_to, now, remember_secret, seed,
    set_policy, stand_in, store, unique,
};
use serde_json::{Value, json};

async fn status(api: &Api, p: &Person) -> Value {
    api.get("/mfa/status", Some(&p.platform_token())).await.body["data"].clone()
}

async fn events_of(api: &Api, token: &str) -> Vec<Value> {
    mfa_tests::audit_settled().await;
    let r = api.get("/mfa/events", Some(token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["data"]["events"].as_array().unwrap().clone()
}

// 1. Recovery codes stored keyed ------------------------------------------------------------

#[tokio::test]
async fn hole2_recovery_codes_are_stored_as_keyed_macs_and_the_plain_form_is_rewritten() {
    let api = Api::new();
    let me = Person::new();
    let (_, codes) = enroll_totp_with_codes(&api, &me).await;
    let (record, _) = store().await.load_user_and_policy(&me.id, None).await.unwrap();
    for (code, stored) in codes.iter().zip(&record.backup_codes) {
        let canonical = code.replace('-', "");
        assert_ne!(
            stored,
            &mfa_shared::crypto::sha256_hex(canonical.as_bytes()),
            "a table export alone must not be enough to grind a code"
        );
        assert!(stored.contains(':'), "the key id is kept with the MAC: {stored}");
    }
    // A record written before: its codes as plain SHA-256.
    let plain: Vec<String> =
        codes.iter().map(|c| mfa_shared::crypto::sha256_hex(c.replace('-', "").as_bytes())).collect();
    seed(&me, |r| r.backup_codes = plain.clone()).await;
    let r = api.post("/mfa/recover", Some(&me.platform_token()), json!({"code": codes[0]})).await;
    assert_eq!(r.status, 200, "a code stored in the earlier form still works: {}", r.body);
    remember_secret(r.body["refreshToken"].as_str().unwrap());
    let (record, _) = store().await.load_user_and_policy(&me.id, None).await.unwrap();
    assert_eq!(record.backup_codes.len(), 9);
    assert!(
        record.backup_codes.iter().all(|c| !plain.contains(c) && c.contains(':')),
        "the others were rewritten keyed with that write: {:?}",
        record.backup_codes
    );
    let r = api.post("/mfa/recover", Some(&me.platform_token()), json!({"code": codes[0]})).await;
    assert_error(&r, 400, "INVALID_CODE");
    let r = api.post("/mfa/recover", Some(&me.platform_token()), json!({"code": codes[1]})).await;
    assert_eq!(r.status, 200, "a rewritten code works: {}", r.body);
    remember_secret(r.body["refreshToken"].as_str().unwrap());
}

// 2. One rule for "adds a factor of method m" -----------------------------------------------

#[tokio::test]
async fn hole3_a_method_the_organization_excluded_cannot_be_switched_back_on() {
    let api = Api::new();
    let org = unique("org");
    let me = Person::in_org(&org, "MEMBER");
    let secret = enroll_totp(&api, &me).await;
    let phone = stand_in(MfaType::Sms, FactorState::Disabled, &me);
    seed(&me, |r| r.factors.push(phone.clone())).await;
    set_policy(&org, |p| p.allowed_methods = Some(vec![MfaType::GoogleAuth])).await;
    let (fresh, _) = login_with_totp(&api, &me, &secret).await;
    let r = api.post("/mfa/enable", Some(&fresh), json!({"mfaType": "SMS"})).await;
    assert_error(&r, 403, "METHOD_NOT_ALLOWED_BY_ORG");
    assert_eq!(status(&api, &me).await["enabledMethods"], json!(["GOOGLE_AUTH"]));
    // What the organization allows still switches back on.
    set_policy(&org, |p| p.allowed_methods = Some(vec![MfaType::GoogleAuth, MfaType::Sms])).await;
    let r = api.post("/mfa/enable", Some(&fresh), json!({"mfaType": "SMS"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn hole3_a_setup_begun_before_the_exclusion_cannot_complete_after() {
    let api = Api::new();
    let org = unique("org");
    let me = Person::in_org(&org, "MEMBER");
    let token = me.platform_token();
    let secret = begin_totp_setup(&api, &token).await;
    set_policy(&org, |p| p.allowed_methods = Some(vec![MfaType::Passkey])).await;
    let code = totp::code_at(&totp::decode_secret(&secret).unwrap(), now());
    let r = api.post("/mfa/verify-setup", Some(&token), json!({"mfaType": "GOOGLE_AUTH", "code": code})).await;
    assert_error(&r, 403, "METHOD_NOT_ALLOWED_BY_ORG");
    assert_eq!(status(&api, &me).await["isEnabled"], json!(false));
    // Frontegg's completion is the same rule.
    let test = TestApp::new().await;
    let (status, body) = test.call("frontegg-mfa-enroll-verify", Some(&token), json!({"token": code})).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("METHOD_NOT_ALLOWED_BY_ORG")), "{body}");
}

// 3. The organization's rules follow the member ----------------------------------------------

#[tokio::test]
async fn hole4_a_session_begun_with_a_token_naming_no_or_another_organization_keeps_its_rules() {
    let api = Api::new();
    let org = unique("org");
    for other in [None, Some(unique("elsewhere"))] {
        let me = Person::in_org(&org, "MEMBER");
        let secret = enroll_totp(&api, &me).await;
        set_policy(&org, |p| p.enforced = true).await;
        let id = factor_of(&me, MfaType::GoogleAuth).await.expect("an authenticator").id;
        let elsewhere = me.naming(other.as_deref());
        // A login with that token: a fresh second factor, in a session that names another
        // organization (or none).
        let (fresh, _) = login_with_totp(&api, &elsewhere, &secret).await;
        let (record, _) = store().await.load_user_and_policy(&me.id, None).await.unwrap();
        assert_eq!(record.org_id.as_deref(), Some(org.as_str()), "{other:?}: the login did not move the member");
        let r = api.send("DELETE", &format!("/mfa/factors/{id}"), Some(&fresh), None).await;
        assert_error(&r, 403, "ORG_ENFORCED");
        let r = api.post("/mfa/disable", Some(&fresh), json!({"mfaType": "GOOGLE_AUTH"})).await;
        assert_error(&r, 403, "ORG_ENFORCED");
        assert_eq!(status(&api, &me).await["enabledMethods"], json!(["GOOGLE_AUTH"]), "{other:?}");
        // Nor does it add what the organization excludes.
        set_policy(&org, |p| p.allowed_methods = Some(vec![MfaType::GoogleAuth])).await;
        let r = api.post("/mfa/setup", Some(&fresh), json!({"mfaType": "MAGIC_LINK"})).await;
        assert_error(&r, 403, "METHOD_NOT_ALLOWED_BY_ORG");
        set_policy(&org, |p| p.allowed_methods = None).await;
        // Its status shows the organization's rules too.
        let shown = api.get("/mfa/status", Some(&fresh)).await.body["data"].clone();
        assert_eq!(shown["isEnforced"], json!(true), "{other:?}: {shown}");
    }
}

#[tokio::test]
async fn hole4_a_member_moves_to_another_organization_only_when_the_old_one_lets_go() {
    let api = Api::new();
    let (old, new) = (unique("org"), unique("org"));
    let me = Person::in_org(&old, "MEMBER");
    let (secret, codes) = enroll_totp_with_codes(&api, &me).await;
    set_policy(&old, |p| p.enforced = true).await;
    let moved = me.naming(Some(&new));
    login_with_totp_step(&api, &moved, &secret, 0).await;
    let bound = |r: mfa_shared::model::UserMfaRecord| r.org_id;
    let (record, _) = store().await.load_user_and_policy(&me.id, None).await.unwrap();
    assert_eq!(bound(record), Some(old.clone()), "an enforcing organization keeps its member");
    // Without a token naming any organization, a login never unbinds.
    set_policy(&old, |p| p.enforced = false).await;
    login_with_totp_step(&api, &me.naming(None), &secret, 1).await;
    let (record, _) = store().await.load_user_and_policy(&me.id, None).await.unwrap();
    assert_eq!(bound(record), Some(old.clone()), "a token naming no organization never unbinds");
    // Once the old organization has no rules for its members, a fresh factor under the
    // new organization's token moves the member (here a recovery with a backup code).
    let r = api.post("/mfa/recover", Some(&moved.platform_token()), json!({"code": codes[0]})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    remember_secret(r.body["refreshToken"].as_str().unwrap());
    let (record, _) = store().await.load_user_and_policy(&me.id, None).await.unwrap();
    assert_eq!(bound(record), Some(new.clone()));
}

// 4. The authorizer's maximum age -----------------------------------------------------------

fn authorizer_request(route: &str, token: &str) -> AuthorizerRequest {
    serde_json::from_value(json!({
        "version": "2.0",
        "type": "REQUEST",
        "identitySource": [format!("Bearer {token}")],
        "routeKey": route,
        "headers": {"authorization": format!("Bearer {token}")},
    }))
    .unwrap()
}

#[tokio::test]
async fn hole5_a_remembered_devices_session_never_passes_a_maximum_age() {
    let api = Api::new();
    let me = Person::new();
    let secret = enroll_totp(&api, &me).await;
    let (code_session, device) = login_remembering(&api, &me, &secret, 0).await;
    let r = login_with_device(&api, &me, &device).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let device_session = r.body["fullAccessToken"].as_str().unwrap().to_string();
    let test = TestApp::new().await;
    let ages = MaxAges::parse("POST /payments=300").unwrap();
    let payments = |t: &str| authorizer_request("POST /payments", t);
    let passed = authorize(&test.app, &ages, &payments(&code_session)).await.unwrap();
    assert!(passed.is_authorized, "a code a moment ago: {passed:?}");
    let refused = authorize(&test.app, &ages, &payments(&device_session)).await.unwrap();
    assert!(!refused.is_authorized, "no second factor was presented in the device's session: {refused:?}");
    // Where no maximum age is set, a live session is enough, the device's too.
    let other = authorize(&test.app, &ages, &authorizer_request("GET /reports", &device_session)).await.unwrap();
    assert!(other.is_authorized, "{other:?}");
}

// 5. Every spent recovery code in the trail -------------------------------------------------

fn backup_code_notices(mails: &[Value]) -> usize {
    mails.iter().filter(|m| m["subject"] == json!("A backup code was used")).count()
}

#[tokio::test]
async fn hole6_frontegg_removal_with_a_recovery_code_is_in_the_trail_and_the_mail() {
    let api = Api::new();
    let me = Person::new();
    let (_, codes) = enroll_totp_with_codes(&api, &me).await;
    let id = factor_of(&me, MfaType::GoogleAuth).await.expect("an authenticator").id;
    let path = format!("/resources/users/v1/mfa/authenticator/{id}/disable/verify");
    let r = api.post(&path, Some(&me.platform_token()), json!({"token": codes[0]})).await;
    assert!(r.status < 300, "{}", r.body);
    // The account has no factor left: any live session of the user reads its trail.
    let token = me.full_access_token(now()).await;
    let events = events_of(&api, &token).await;
    let used = events.iter().find(|e| e["kind"] == json!("BACKUP_CODE_USED")).expect("BACKUP_CODE_USED");
    assert_eq!(used["detail"], json!("9 left"), "{used}");
    let removed = events.iter().find(|e| e["kind"] == json!("FACTOR_REMOVED")).expect("FACTOR_REMOVED");
    assert_eq!(removed["detail"], json!("proof: recovery code"), "{removed}");
    assert_eq!(backup_code_notices(&mails_to(&me.email).await), 1, "the user is told");
}

#[tokio::test]
async fn hole6_the_mail_counts_the_codes_left_after_the_change_as_the_trail_does() {
    let api = Api::new();
    let me = Person::new();
    let secret = enroll_totp(&api, &me).await;
    // Codes issued in a session end with it: a removal that ends every other session leaves none.
    let (acting, _) = login_with_totp_step(&api, &me, &secret, 0).await;
    let r = api.post("/mfa/backup-codes", Some(&acting), Value::Null).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let code = r.body["data"]["backupCodes"][0].as_str().unwrap().to_string();
    let id = factor_of(&me, MfaType::GoogleAuth).await.expect("an authenticator").id;
    let path = format!("/resources/users/v1/mfa/authenticator/{id}/disable/verify");
    let r = api.post(&path, Some(&me.platform_token()), json!({"token": code})).await;
    assert!(r.status < 300, "{}", r.body);
    let token = me.full_access_token(now()).await;
    let events = events_of(&api, &token).await;
    let used = events.iter().find(|e| e["kind"] == json!("BACKUP_CODE_USED")).expect("BACKUP_CODE_USED");
    assert_eq!(used["detail"], json!("0 left"), "{used}");
    let mails = mails_to(&me.email).await;
    let notice = mails.iter().find(|m| m["subject"] == json!("A backup code was used")).expect("the notice");
    let text = notice["body"]["text"].as_str().unwrap();
    assert!(text.contains("You have 0 unused backup code(s) left."), "{text}");
}

#[tokio::test]
async fn hole6_frontegg_recovery_is_in_the_trail_and_the_mail() {
    let api = Api::new();
    let me = Person::new();
    let (_, codes) = enroll_totp_with_codes(&api, &me).await;
    let body = json!({"email": me.email, "recoveryCode": codes[0]});
    let r = api.post("/resources/auth/v1/user/mfa/recover", Some(&me.platform_token()), body).await;
    assert!(r.status < 300, "{}", r.body);
    let token = me.full_access_token(now()).await;
    let events = events_of(&api, &token).await;
    assert!(events.iter().any(|e| e["kind"] == json!("BACKUP_CODE_USED")), "{events:?}");
    let reset = events.iter().find(|e| e["kind"] == json!("RESET")).expect("RESET");
    assert_eq!(reset["detail"], json!("proof: recovery code"), "{reset}");
    assert_eq!(backup_code_notices(&mails_to(&me.email).await), 1, "the user is told");
}

#[tokio::test]
async fn hole6_a_change_made_on_a_code_in_the_request_says_so_and_spends_no_recovery_code() {
    let api = Api::new();
    let me = Person::new();
    let secret = enroll_totp(&api, &me).await;
    let id = factor_of(&me, MfaType::GoogleAuth).await.expect("an authenticator").id;
    let code = mfa_tests::totp_code(&secret, 0).await;
    let path = format!("/resources/users/v1/mfa/authenticator/{id}/disable/verify");
    let r = api.post(&path, Some(&me.platform_token()), json!({"token": code})).await;
    assert!(r.status < 300, "{}", r.body);
    let token = me.full_access_token(now()).await;
    let events = events_of(&api, &token).await;
    let removed = events.iter().find(|e| e["kind"] == json!("FACTOR_REMOVED")).expect("FACTOR_REMOVED");
    assert_eq!(removed["detail"], json!("proof: authenticator code"), "{removed}");
    assert!(!events.iter().any(|e| e["kind"] == json!("BACKUP_CODE_USED")), "{events:?}");
    assert_eq!(backup_code_notices(&mails_to(&me.email).await), 0);
}
