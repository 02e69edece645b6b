//! An organization that accepts only phishing-resistant factors (`phishingResistantOnly`,
//! passkeys): set by its administrator, it narrows the methods through the one rule of
//! `allowedMethods` (setups, completions and switching on of other methods refused, both
//! APIs) and refuses logins with other factors once its grace period is over, while
//! passkeys (and a recovery code, the way back) keep working. Over HTTP through
//! `cargo lambda watch`; Frontegg's routes in process.

use mfa_shared::factors::FactorState;
use mfa_shared::methods::totp;
use mfa_shared::model::MfaType;
use mfa_tests::{
    Api, Person, TestApp, assert_error, begin_totp_setup, enroll_totp, enroll_totp_with_codes, login_with_totp, now,
    passkey_assertion, register_passkey, seed, set_policy, stand_in, store, totp_code, unique,
};
use serde_json::json;

/// A login with the authenticator's code of the step `steps` from now (each step signs in
/// once), as the member's password-only session.
async fn totp_login(api: &Api, me: &Person, secret: &[u8], steps: i64) -> mfa_tests::Reply {
    let code = totp_code(secret, steps).await;
    api.post("/mfa/verify-login", Some(&me.platform_token()), json!({"mfaType": "GOOGLE_AUTH", "code": code})).await
}

#[tokio::test]
async fn only_passkeys_sign_in_after_the_grace_period_and_nothing_else_is_added() {
    let api = Api::new();
    let org = unique("org");

    // A member who set up an authenticator before the rule.
    let me = Person::in_org(&org, "MEMBER");
    let (secret, codes) = enroll_totp_with_codes(&api, &me).await;

    // The administrator sets it, with their own fresh second factor; it must keep passkeys.
    let owner = Person::in_org(&org, "OWNER");
    let owner_secret = enroll_totp(&api, &owner).await;
    let (fresh, _) = login_with_totp(&api, &owner, &owner_secret).await;
    let r = api
        .post(
            "/mfa/organization/enforce",
            Some(&fresh),
            json!({"enforced": true, "phishingResistantOnly": true, "allowedMethods": ["GOOGLE_AUTH"]}),
        )
        .await;
    assert_error(&r, 400, "INVALID_FIELD");
    assert!(r.body["error"].as_str().unwrap().contains("PASSKEY"), "{}", r.body);
    let r = api
        .post(
            "/mfa/organization/enforce",
            Some(&fresh),
            json!({"enforced": true, "phishingResistantOnly": true, "gracePeriodDays": 7}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, policy) = store().await.load_user_and_policy("nobody", Some(&org)).await.unwrap();
    let policy = policy.expect("the organization's policy");
    assert!(policy.phishing_resistant_only && policy.enrollment_deadline.is_some());

    // Within the grace period the member's authenticator still signs in, and that session
    // may add a passkey, but no other method.
    let r = totp_login(&api, &me, &secret, 0).await;
    assert_eq!(r.status, 200, "within the grace period: {}", r.body);
    let session = r.body["fullAccessToken"].as_str().unwrap().to_string();
    for method in ["GOOGLE_AUTH", "MAGIC_LINK", "EMAIL_OTP", "SMS"] {
        let r = api.post("/mfa/setup", Some(&session), json!({"mfaType": method, "phoneNumber": "+14155550100"})).await;
        assert_error(&r, 403, "METHOD_NOT_ALLOWED_BY_ORG");
    }
    let mut key = register_passkey(&api, &session).await;
    // Switching another method back on is adding it too.
    let phone = stand_in(MfaType::Sms, FactorState::Disabled, &me);
    seed(&me, |r| r.factors.push(phone.clone())).await;
    let r = api.post("/mfa/enable", Some(&session), json!({"mfaType": "SMS"})).await;
    assert_error(&r, 403, "METHOD_NOT_ALLOWED_BY_ORG");
    // The methods list says what is left.
    let listed = api.get("/mfa/methods", Some(&session)).await.body["data"].clone();
    for m in listed.as_array().unwrap() {
        let passkey = m["type"] == json!("PASSKEY");
        assert_eq!(m["isAvailable"], json!(passkey), "{m}");
    }

    // The grace period over: the authenticator no longer signs in, on either API, and the
    // refused code is neither spent nor counted (the same code signs in once the rule is
    // lifted).
    set_policy(&org, |p| p.enrollment_deadline = Some(now() - 1)).await;
    let r = totp_login(&api, &me, &secret, 1).await;
    assert_error(&r, 403, "PHISHING_RESISTANT_REQUIRED");
    assert!(r.body["error"].as_str().unwrap().contains("passkey"), "{}", r.body);
    let test = TestApp::new().await;
    let code = totp_code(&secret, 1).await;
    let (status, body) = test.call("frontegg-login-verify", Some(&me.platform_token()), json!({"value": code})).await;
    assert_eq!((status, body["errorCode"].as_str()), (403, Some("PHISHING_RESISTANT_REQUIRED")), "{body}");
    let (record, _) = store().await.load_user_and_policy(&me.id, None).await.unwrap();
    assert_eq!(record.lock.failures(), 0, "a refused method is not a failed check");
    // The passkey signs in.
    let assertion = passkey_assertion(&api, &me, &mut key).await;
    let r = api
        .post("/mfa/verify-login", Some(&me.platform_token()), json!({"mfaType": "PASSKEY", "credential": assertion}))
        .await;
    assert_eq!(r.status, 200, "a passkey signs in: {}", r.body);
    // A recovery code is still the way back in.
    let r = api.post("/mfa/recover", Some(&me.platform_token()), json!({"code": codes[0]})).await;
    assert_eq!(r.status, 200, "a recovery code: {}", r.body);
    // Lifted, the authenticator signs in again.
    set_policy(&org, |p| p.phishing_resistant_only = false).await;
    let r = totp_login(&api, &me, &secret, 1).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn a_setup_begun_before_the_rule_cannot_complete_on_either_api() {
    let api = Api::new();
    let org = unique("org");
    let me = Person::in_org(&org, "MEMBER");
    let token = me.platform_token();
    let secret = begin_totp_setup(&api, &token).await;
    set_policy(&org, |p| p.phishing_resistant_only = true).await;
    let code = totp::code_at(&totp::decode_secret(&secret).unwrap(), now());
    let r = api.post("/mfa/verify-setup", Some(&token), json!({"mfaType": "GOOGLE_AUTH", "code": code})).await;
    assert_error(&r, 403, "METHOD_NOT_ALLOWED_BY_ORG");
    let test = TestApp::new().await;
    let (status, body) = test.call("frontegg-mfa-enroll-verify", Some(&token), json!({"token": code})).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("METHOD_NOT_ALLOWED_BY_ORG")), "{body}");
    let (status, body) = test.call("frontegg-authenticator-enroll", Some(&token), json!({})).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("METHOD_NOT_ALLOWED_BY_ORG")), "{body}");
    // A passkey may still be set up.
    register_passkey(&api, &token).await;
}

#[tokio::test]
async fn the_rule_alone_keeps_the_member_and_binds_a_factor_change_made_on_a_code() {
    let api = Api::new();
    let org = unique("org");
    let me = Person::in_org(&org, "MEMBER");
    let secret = enroll_totp(&api, &me).await;
    let (fresh, _) = login_with_totp(&api, &me, &secret).await;
    let mut key = register_passkey(&api, &fresh).await;
    // The organization's only rule: passkeys.
    set_policy(&org, |p| p.phishing_resistant_only = true).await;
    // A passkey login with a token naming another organization does not move the member
    // out of the rule, so the authenticator stays refused with their own organization's token.
    let elsewhere = me.naming(Some(&unique("elsewhere")));
    let assertion = passkey_assertion(&api, &elsewhere, &mut key).await;
    let r = api
        .post(
            "/mfa/verify-login",
            Some(&elsewhere.platform_token()),
            json!({"mfaType": "PASSKEY", "credential": assertion}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (record, _) = store().await.load_user_and_policy(&me.id, None).await.unwrap();
    assert_eq!(record.org_id.as_deref(), Some(org.as_str()), "the login did not move the member");
    let r = totp_login(&api, &me, &secret, 0).await;
    assert_error(&r, 403, "PHISHING_RESISTANT_REQUIRED");
    // An authenticator code is no proof for a factor change either: Frontegg's disable
    // (which resets MFA) on a phished code would let a passkey of the phisher's in.
    let test = TestApp::new().await;
    let code = totp_code(&secret, 0).await;
    let (status, body) = test.call("frontegg-mfa-disable", Some(&me.platform_token()), json!({"token": code})).await;
    assert_eq!((status, body["errorCode"].as_str()), (403, Some("PHISHING_RESISTANT_REQUIRED")), "{body}");
    let (record, _) = store().await.load_user_and_policy(&me.id, None).await.unwrap();
    assert!(record.has_mfa_enabled(), "nothing was reset");
}
