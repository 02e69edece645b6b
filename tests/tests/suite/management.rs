//! enable, disable, primary and reset over HTTP: state checks, step-up (a password-only
//! token can never remove or replace a factor), organization enforcement, and
//! administrators acting only within their own organization.

use mfa_shared::factors::FactorState;
use mfa_shared::model::{MfaType, OrgPolicy};
use mfa_tests::{Api, Person, assert_error, enroll_totp, now, remember_secret, store, unique};
use serde_json::json;

async fn status(api: &Api, p: &Person) -> serde_json::Value {
    api.get("/mfa/status", Some(&p.platform_token())).await.body["data"].clone()
}

#[tokio::test]
async fn a_pre_mfa_token_cannot_disable_reset_or_replace_an_enabled_factor() {
    let api = Api::new();
    let me = Person::new();
    enroll_totp(&api, &me).await;
    let pre = me.platform_token();
    let stale = me.full_access_token(now() - 16 * 60).await;
    for token in [&pre, &stale] {
        let r = api.post("/mfa/disable", Some(token), json!({"mfaType": "GOOGLE_AUTH"})).await;
        assert_error(&r, 403, "STEP_UP_REQUIRED");
        let r = api.send("POST", "/mfa/reset", Some(token), None).await;
        assert_error(&r, 403, "STEP_UP_REQUIRED");
        let r = api.post("/mfa/reset", Some(token), json!({"resetUserId": me.id})).await;
        assert_error(&r, 403, "STEP_UP_REQUIRED");
        let r = api.post("/mfa/setup", Some(token), json!({"mfaType": "GOOGLE_AUTH"})).await;
        assert_error(&r, 403, "STEP_UP_REQUIRED");
    }
    assert_eq!(status(&api, &me).await["enabledMethods"], json!(["GOOGLE_AUTH"]), "nothing changed");

    // With a recent second factor each of them works.
    let fresh = me.full_access_token(now()).await;
    let r = api.post("/mfa/setup", Some(&fresh), json!({"mfaType": "GOOGLE_AUTH"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    remember_secret(r.body["data"]["secret"].as_str().unwrap());
    assert_eq!(
        status(&api, &me).await["enabledMethods"],
        json!(["GOOGLE_AUTH"]),
        "the old secret stays until the new one is verified"
    );
    let r = api.post("/mfa/disable", Some(&fresh), json!({"mfaType": "GOOGLE_AUTH"})).await;
    assert_eq!(r.body, json!({"success": true, "message": "MFA method disabled"}));
    let s = status(&api, &me).await;
    assert_eq!((s["isEnabled"].clone(), s.get("primaryMethod").cloned()), (json!(false), None));
    // With no method enabled, a plain token may reset (there is no MFA to protect).
    let r = api.send("POST", "/mfa/reset", Some(&pre), Some("null".into())).await;
    assert_eq!(r.body, json!({"success": true, "message": "MFA reset successfully"}));
    let methods = api.get("/mfa/methods", Some(&pre)).await.body["data"].clone();
    assert!(methods.as_array().unwrap().iter().all(|m| m["isConfigured"] == json!(false)));
}

#[tokio::test]
async fn enable_disable_and_primary_follow_the_method_state() {
    let api = Api::new();
    let me = Person::new();
    let pre = me.platform_token();
    assert_error(
        &api.post("/mfa/enable", Some(&pre), json!({"mfaType": "GOOGLE_AUTH"})).await,
        409,
        "METHOD_NOT_CONFIGURED",
    );
    assert_error(&api.post("/mfa/primary", Some(&pre), json!({"mfaType": "PASSKEY"})).await, 409, "METHOD_NOT_ENABLED");
    assert_error(
        &api.post("/mfa/disable", Some(&pre), json!({"mfaType": "MAGIC_LINK"})).await,
        409,
        "METHOD_NOT_ENABLED",
    );
    assert_error(&api.post("/mfa/enable", Some(&pre), json!({"mfaType": "EMAIL"})).await, 400, "INVALID_FIELD");
    assert_error(&api.post("/mfa/enable", Some(&pre), json!({})).await, 400, "INVALID_FIELD");

    // Two methods enabled (the second seeded directly), GOOGLE_AUTH primary.
    enroll_totp(&api, &me).await;
    let store = store().await;
    let (mut record, _) = store.load_user_and_policy(&me.id, None).await.unwrap();
    record.factors.push(mfa_tests::stand_in(MfaType::Passkey, FactorState::Enabled, &me));
    store.save_user(&mut record).await.unwrap();
    assert_eq!(status(&api, &me).await["primaryMethod"], json!("GOOGLE_AUTH"));

    let r = api.post("/mfa/primary", Some(&pre), json!({"mfaType": "PASSKEY"})).await;
    assert_eq!(r.body, json!({"success": true, "message": "Primary MFA method updated"}));
    assert_eq!(status(&api, &me).await["primaryMethod"], json!("PASSKEY"));

    // Disabling the primary moves primary to the other enabled method.
    let fresh = me.full_access_token(now()).await;
    let r = api.post("/mfa/disable", Some(&fresh), json!({"mfaType": "PASSKEY"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let s = status(&api, &me).await;
    assert_eq!(
        (s["enabledMethods"].clone(), s["primaryMethod"].clone()),
        (json!(["GOOGLE_AUTH"]), json!("GOOGLE_AUTH"))
    );

    // A disabled method can be enabled again (and stays configured meanwhile).
    let methods = api.get("/mfa/methods", Some(&pre)).await.body["data"].clone();
    assert_eq!(methods[2]["isConfigured"], json!(true));
    // Re-enabling adds a factor back: step-up while another method is on.
    assert_error(&api.post("/mfa/enable", Some(&pre), json!({"mfaType": "PASSKEY"})).await, 403, "STEP_UP_REQUIRED");
    let r = api.post("/mfa/enable", Some(&fresh), json!({"mfaType": "PASSKEY"})).await;
    assert_eq!(r.body, json!({"success": true, "message": "MFA method enabled"}));
    assert_eq!(status(&api, &me).await["enabledMethods"], json!(["GOOGLE_AUTH", "PASSKEY"]));
}

#[tokio::test]
async fn an_enforced_user_keeps_at_least_one_method() {
    let api = Api::new();
    let org = unique("org");
    let me = Person::in_org(&org, "MEMBER");
    enroll_totp(&api, &me).await;
    let mut policy = OrgPolicy { org_id: org.clone(), enforced: true, ..Default::default() };
    store().await.save_policy(&mut policy).await.unwrap();
    let fresh = me.full_access_token(now()).await;
    let r = api.post("/mfa/disable", Some(&fresh), json!({"mfaType": "GOOGLE_AUTH"})).await;
    assert_error(&r, 403, "ORG_ENFORCED");
    assert_eq!(status(&api, &me).await["isEnabled"], json!(true));
}

#[tokio::test]
async fn administrators_reset_only_within_their_organization() {
    let api = Api::new();
    let org = unique("org");
    let member = Person::in_org(&org, "MEMBER");
    enroll_totp(&api, &member).await;

    let colleague = Person::in_org(&org, "MEMBER");
    let foreign_admin = Person::in_org(&unique("org"), "OWNER");
    let no_org = Person::new();
    let admin = Person::in_org(&org, "ADMINISTRATOR");
    let body = json!({"resetUserId": member.id, "enable": true});

    assert_error(&api.post("/mfa/reset", Some(&colleague.platform_token()), body.clone()).await, 403, "FORBIDDEN");
    assert_error(
        &api.post("/mfa/reset", Some(&foreign_admin.full_access_token(now()).await), body.clone()).await,
        404,
        "USER_NOT_FOUND",
    );
    assert_error(&api.post("/mfa/reset", Some(&no_org.platform_token()), body.clone()).await, 400, "NO_ORGANIZATION");
    let fresh_admin = admin.full_access_token(now()).await;
    let unknown = json!({"resetUserId": unique("nobody")});
    assert_error(&api.post("/mfa/reset", Some(&fresh_admin), unknown).await, 404, "USER_NOT_FOUND");
    assert_error(&api.post("/mfa/reset", Some(&fresh_admin), json!({"resetUserId": 5})).await, 400, "INVALID_FIELD");
    // An administrator without MFA of their own is told to set it up first.
    assert_error(&api.post("/mfa/reset", Some(&admin.platform_token()), body.clone()).await, 403, "MFA_SETUP_REQUIRED");
    assert_eq!(status(&api, &member).await["isEnabled"], json!(true), "refused resets changed nothing");

    let r = api.post("/mfa/reset", Some(&fresh_admin), body.clone()).await;
    assert_eq!(r.body, json!({"success": true, "message": "MFA reset successfully"}));
    let s = status(&api, &member).await;
    assert_eq!((s["isEnabled"].clone(), s["isRequired"].clone()), (json!(false), json!(true)));

    // An administrator with MFA enabled needs a recent second factor.
    let owner = Person::in_org(&org, "OWNER");
    enroll_totp(&api, &owner).await;
    enroll_totp(&api, &member).await;
    assert_error(&api.post("/mfa/reset", Some(&owner.platform_token()), body.clone()).await, 403, "STEP_UP_REQUIRED");
    let r = api.post("/mfa/reset", Some(&owner.full_access_token(now()).await), body).await;
    assert_eq!(r.status, 200, "{}", r.body);
}
