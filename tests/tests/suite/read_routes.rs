//! `GET /mfa/status` and `GET /mfa/methods` end to end: HTTP through `cargo lambda watch`
//! to the real function binaries, state in DynamoDB Local.

use mfa_shared::factors::FactorState;
use mfa_shared::model::{MfaType, OrgPolicy};
use mfa_tests::{Api, Person, now, store, unique};
use serde_json::json;

#[tokio::test]
async fn new_user_has_no_mfa() {
    let api = Api::new();
    let me = Person::new();
    let r = api.get("/mfa/status", Some(&me.platform_token())).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(
        r.body,
        json!({"success": true, "data": {
            "isEnabled": false, "isRequired": false, "isEnforced": false,
            "enabledMethods": [], "sessionVerified": false,
            "rememberDevice": {"isAllowedToRemember": true, "lifetimeSeconds": 1_209_600}
        }})
    );

    let r = api.get("/mfa/methods", Some(&me.platform_token())).await;
    assert_eq!(r.status, 200);
    let list = r.body["data"].as_array().expect("data is a list");
    let types: Vec<_> = list.iter().map(|m| m["type"].as_str().unwrap()).collect();
    // The test stack offers every method (`MFA_METHODS`).
    assert_eq!(types, ["GOOGLE_AUTH", "MAGIC_LINK", "PASSKEY", "EMAIL_OTP", "SMS"]);
    for m in list {
        assert_eq!(m["isAvailable"], json!(true));
        assert_eq!(m["isConfigured"], json!(false));
        assert_eq!(m["isEnabled"], json!(false));
        assert!(m["name"].as_str().is_some_and(|n| !n.is_empty()));
        assert!(m["description"].as_str().is_some_and(|d| !d.is_empty()));
    }
}

#[tokio::test]
async fn seeded_method_state_is_reported() {
    let api = Api::new();
    let me = Person::new();
    let store = store().await;
    let (mut record, _) = store.load_user_and_policy(&me.id, None).await.unwrap();
    record.factors.push(mfa_tests::stand_in(MfaType::GoogleAuth, FactorState::Enabled, &me));
    record.factors.push(mfa_tests::stand_in(MfaType::MagicLink, FactorState::Disabled, &me));
    record.factors.push(mfa_tests::stand_in(MfaType::Passkey, FactorState::Pending, &me));
    // The chosen primary is disabled: the first enabled method stands in.
    record.primary_method = Some(MfaType::MagicLink);
    store.save_user(&mut record).await.unwrap();

    let r = api.get("/mfa/status", Some(&me.platform_token())).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body["data"],
        json!({"isEnabled": true, "isRequired": false, "isEnforced": false,
               "enabledMethods": ["GOOGLE_AUTH"], "primaryMethod": "GOOGLE_AUTH", "sessionVerified": false,
               "rememberDevice": {"isAllowedToRemember": true, "lifetimeSeconds": 1_209_600}})
    );

    let r = api.get("/mfa/methods", Some(&me.platform_token())).await;
    let states: Vec<_> = r.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["type"].clone(), m["isConfigured"].clone(), m["isEnabled"].clone()))
        .collect();
    assert_eq!(
        states,
        [
            (json!("GOOGLE_AUTH"), json!(true), json!(true)),
            (json!("MAGIC_LINK"), json!(true), json!(false)),
            (json!("PASSKEY"), json!(false), json!(false)),
            (json!("EMAIL_OTP"), json!(false), json!(false)),
            (json!("SMS"), json!(false), json!(false)),
        ]
    );

    // A full-access token marks the session verified.
    let r = api.get("/mfa/status", Some(&me.full_access_token(now()).await)).await;
    assert_eq!(r.body["data"]["sessionVerified"], json!(true), "{}", r.body);
}

#[tokio::test]
async fn members_of_an_enforced_organization_are_required() {
    let api = Api::new();
    let org = unique("org");
    let member = Person::in_org(&org, "MEMBER");
    let outsider = Person::in_org(&unique("org"), "MEMBER");
    let store = store().await;
    let mut policy = OrgPolicy { org_id: org.clone(), enforced: true, ..Default::default() };
    store.save_policy(&mut policy).await.unwrap();

    let r = api.get("/mfa/status", Some(&member.platform_token())).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"]["isEnforced"], json!(true));
    assert_eq!(r.body["data"]["isRequired"], json!(true));
    assert_eq!(r.body["data"]["isEnabled"], json!(false));

    let r = api.get("/mfa/status", Some(&outsider.platform_token())).await;
    assert_eq!(r.body["data"]["isEnforced"], json!(false));
    assert_eq!(r.body["data"]["isRequired"], json!(false));

    // Lifting enforcement shows at once.
    policy.enforced = false;
    store.save_policy(&mut policy).await.unwrap();
    let r = api.get("/mfa/status", Some(&member.platform_token())).await;
    assert_eq!(r.body["data"]["isEnforced"], json!(false));
}

#[tokio::test]
async fn a_user_marked_required_is_required_without_an_organization() {
    let api = Api::new();
    let me = Person::new();
    let store = store().await;
    let (mut record, _) = store.load_user_and_policy(&me.id, None).await.unwrap();
    record.is_required = true;
    store.save_user(&mut record).await.unwrap();
    let r = api.get("/mfa/status", Some(&me.platform_token())).await;
    assert_eq!(r.body["data"]["isRequired"], json!(true));
    assert_eq!(r.body["data"]["isEnforced"], json!(false));
}
