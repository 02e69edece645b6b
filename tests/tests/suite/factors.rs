//! Factors over HTTP and through the handlers: several authenticators on one user, the
//! factor list (never a secret), renaming and removing (step-up; a removal ends the
//! user's other sessions; the last factor of a required user stays), the caps, and a
//! record written in the shape before factors, read and upgraded on DynamoDB Local.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use mfa_shared::factors::FactorState;
use mfa_shared::methods::totp;
use mfa_shared::model::{MfaType, OrgPolicy};
use mfa_tests::{
    Api, Person, TestApp, assert_error, enroll_totp, login_with_totp_step, now, remember_secret, seed, stack, stand_in,
    store, totp_code, unique,
};
use serde_json::{Value, json};

async fn factors(api: &Api, token: &str) -> Vec<Value> {
    let r = api.get("/mfa/factors", Some(token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["data"].as_array().unwrap().clone()
}

/// Logs in through the handlers at `at` with an authenticator code of that time.
async fn login_at(me: &Person, secret: &[u8], at: i64) -> (u16, Value) {
    let test = TestApp::at(at).await;
    let code = totp::code_at(secret, at);
    test.call("mfa-verify-login", Some(&me.platform_token()), json!({"mfaType": "GOOGLE_AUTH", "code": code})).await
}

#[tokio::test]
async fn two_authenticators_each_log_in_and_removing_one_leaves_the_other() {
    let api = Api::new();
    let me = Person::new();
    let first = enroll_totp(&api, &me).await;
    let (acting, _) = login_with_totp_step(&api, &me, &first, 0).await;
    let (other, _) = login_with_totp_step(&api, &me, &first, 1).await;

    // A second authenticator, named, added in the acting session.
    let r = api
        .post("/mfa/setup", Some(&acting), json!({"mfaType": "GOOGLE_AUTH", "deviceInfo": {"name": "Spare phone"}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let base32 = r.body["data"]["secret"].as_str().unwrap().to_string();
    remember_secret(&base32);
    let second = totp::decode_secret(&base32).unwrap();
    let second_id = r.body["data"]["factorId"].as_str().unwrap().to_string();
    let code = totp_code(&second, 0).await;
    let r = api.post("/mfa/verify-setup", Some(&acting), json!({"mfaType": "GOOGLE_AUTH", "code": code})).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Both listed, nothing secret in the list; the method is one, enabled.
    let list = factors(&api, &acting).await;
    let text = serde_json::to_string(&list).unwrap();
    assert!(!text.contains(&base32), "no secret in the factor list");
    let authenticators: Vec<&Value> = list.iter().filter(|f| f["mfaType"] == json!("GOOGLE_AUTH")).collect();
    assert_eq!(authenticators.len(), 2, "{text}");
    assert!(authenticators.iter().all(|f| f["state"] == json!("ENABLED")), "{text}");
    let first_id = authenticators.iter().find(|f| f["factorId"] != json!(second_id)).unwrap()["factorId"]
        .as_str()
        .unwrap()
        .to_string();
    let status = api.get("/mfa/status", Some(&acting)).await.body["data"].clone();
    assert_eq!(status["enabledMethods"], json!(["GOOGLE_AUTH"]));

    // Each one logs in; a step is still accepted once, whichever authenticator it is from.
    let t = now() + 60;
    assert_eq!(login_at(&me, &second, t).await.0, 200);
    let (code, body) = login_at(&me, &first, t).await;
    assert_eq!((code, body["code"].clone()), (400, json!("CODE_ALREADY_USED")), "{body}");
    assert_eq!(login_at(&me, &first, t + 30).await.0, 200);

    // Renaming and removing need step-up.
    let pre = me.platform_token();
    let path = format!("/mfa/factors/{first_id}");
    let r = api.send("PATCH", &path, Some(&pre), Some(json!({"name": "Old phone"}).to_string())).await;
    assert_error(&r, 403, "STEP_UP_REQUIRED");
    assert_error(&api.send("DELETE", &path, Some(&pre), None).await, 403, "STEP_UP_REQUIRED");
    let r = api.send("PATCH", &path, Some(&acting), Some(json!({"name": "  Old phone \n"}).to_string())).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api.send("PATCH", &path, Some(&acting), Some(json!({"name": " "}).to_string())).await;
    assert_error(&r, 400, "INVALID_FIELD");
    let names: Vec<Value> = factors(&api, &acting).await.iter().map(|f| f["name"].clone()).collect();
    assert!(names.contains(&json!("Old phone")) && names.contains(&json!("Spare phone")), "{names:?}");

    // Removing the first: it no longer logs in, the second does, the other session ended.
    assert_eq!(api.send("DELETE", &path, Some(&acting), None).await.status, 200);
    assert_error(&api.send("DELETE", &path, Some(&acting), None).await, 404, "FACTOR_NOT_FOUND");
    let (code, body) = login_at(&me, &first, t + 60).await;
    assert_eq!((code, body["code"].clone()), (400, json!("INVALID_CODE")), "{body}");
    assert_eq!(login_at(&me, &second, t + 90).await.0, 200);
    assert_error(&api.get("/mfa/status", Some(&other)).await, 401, "SESSION_ENDED");
    assert_eq!(api.get("/mfa/status", Some(&acting)).await.status, 200);
    assert!(
        mfa_tests::mails_to(&me.email).await.iter().any(|m| m["subject"] == json!("A sign-in method was removed")),
        "the user is told"
    );
    // A factor id of someone else's is no factor of mine.
    let stranger = Person::new();
    let r = api.send("DELETE", &format!("/mfa/factors/{second_id}"), Some(&stranger.platform_token()), None).await;
    assert_error(&r, 404, "FACTOR_NOT_FOUND");
}

#[tokio::test]
async fn the_last_factor_of_a_required_user_stays_and_the_caps_hold() {
    let api = Api::new();
    let org = unique("org");
    let me = Person::in_org(&org, "MEMBER");
    let secret = enroll_totp(&api, &me).await;
    let mut policy = OrgPolicy { org_id: org.clone(), enforced: true, ..Default::default() };
    store().await.save_policy(&mut policy).await.unwrap();
    let (fresh, _) = login_with_totp_step(&api, &me, &secret, 0).await;
    let id = factors(&api, &fresh).await[0]["factorId"].as_str().unwrap().to_string();
    let r = api.send("DELETE", &format!("/mfa/factors/{id}"), Some(&fresh), None).await;
    assert_error(&r, 403, "ORG_ENFORCED");

    // Five authenticators at most: a sixth setup is refused with the cap in the sentence.
    let extra: Vec<_> = (0..4).map(|_| stand_in(MfaType::GoogleAuth, FactorState::Enabled, &me)).collect();
    seed(&me, |r| r.factors.extend(extra.iter().cloned())).await;
    let r = api.post("/mfa/setup", Some(&fresh), json!({"mfaType": "GOOGLE_AUTH"})).await;
    assert_error(&r, 409, "FACTOR_LIMIT");
    assert!(r.body["error"].as_str().unwrap().contains('5'), "{}", r.body);
    // Paths of the factor routes: a method no route takes is 405, an empty id is 404.
    let r = api.get(&format!("/mfa/factors/{id}"), Some(&fresh)).await;
    assert_error(&r, 405, "METHOD_NOT_ALLOWED");
    assert_eq!(r.headers["allow"], "PATCH, DELETE");
}

/// An item as the code before factors wrote it.
fn old_shape(person: &Person, sealed: &mfa_shared::crypto::Sealed) -> HashMap<String, AttributeValue> {
    let s = |v: &str| AttributeValue::S(v.to_string());
    let n = |v: i64| AttributeValue::N(v.to_string());
    HashMap::from([
        ("pk".into(), s(&format!("USER#{}", person.id))),
        ("sk".into(), s("MFA")),
        ("userId".into(), s(&person.id)),
        (
            "methods".into(),
            AttributeValue::M(HashMap::from([
                ("GOOGLE_AUTH".into(), s("ENABLED")),
                ("MAGIC_LINK".into(), s("DISABLED")),
            ])),
        ),
        ("primaryMethod".into(), s("GOOGLE_AUTH")),
        (
            "totp".into(),
            AttributeValue::M(HashMap::from([(
                "active".into(),
                AttributeValue::M(HashMap::from([("kid".into(), s(&sealed.kid)), ("data".into(), s(&sealed.data))])),
            )])),
        ),
        ("magicLinkEmail".into(), s(&person.email)),
        ("email".into(), s(&person.email)),
        ("sessionEpoch".into(), n(3)),
        ("failedAttempts".into(), n(0)),
        ("isRequired".into(), AttributeValue::Bool(false)),
        ("version".into(), n(4)),
    ])
}

#[tokio::test]
async fn a_record_in_the_shape_before_factors_is_read_and_upgraded() {
    let api = Api::new();
    let me = Person::new();
    let app = mfa_tests::app().await;
    let raw = mfa_shared::crypto::random_bytes::<20>();
    let sealed = totp::seal_secret(app.keyring().unwrap(), &me.id, &raw);
    let sdk = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let table = stack().table.clone();
    client.put_item().table_name(&table).set_item(Some(old_shape(&me, &sealed))).send().await.unwrap();

    // Flashback's client, against a default deployment, sees what it saw.
    let pre = me.platform_token();
    let default = mfa_tests::default_deployment_app().await;
    let call = |function: &'static str| {
        let (app, token) = (&default, pre.clone());
        async move {
            let resp = mfa_tests::handle(app, "", function, mfa_tests::event(function, Some(&token))).await;
            mfa_tests::parse(&resp).1["data"].clone()
        }
    };
    let status = call("mfa-status").await;
    assert_eq!(
        status,
        json!({"isEnabled": true, "isRequired": false, "isEnforced": false, "enabledMethods": ["GOOGLE_AUTH"],
               "primaryMethod": "GOOGLE_AUTH", "sessionVerified": false,
               "rememberDevice": {"isAllowedToRemember": true, "lifetimeSeconds": 1_209_600}})
    );
    let methods = call("mfa-methods").await;
    let states: Vec<(Value, Value)> =
        methods.as_array().unwrap().iter().map(|m| (m["isConfigured"].clone(), m["isEnabled"].clone())).collect();
    assert_eq!(states, [(json!(true), json!(true)), (json!(true), json!(false)), (json!(false), json!(false))]);
    // The factor ids are the same at every read until the record is written.
    let (a, b) = (factors(&api, &pre).await, factors(&api, &pre).await);
    assert_eq!(a, b);
    assert_eq!(a.len(), 2, "{a:?}");

    // The old secret logs in; that write stores the record in today's shape.
    let code = totp_code(&raw, 0).await;
    let r = api.post("/mfa/verify-login", Some(&pre), json!({"mfaType": "GOOGLE_AUTH", "code": code})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    remember_secret(r.body["refreshToken"].as_str().unwrap());
    let key = HashMap::from([
        ("pk".to_string(), AttributeValue::S(format!("USER#{}", me.id))),
        ("sk".to_string(), AttributeValue::S("MFA".into())),
    ]);
    let item = client.get_item().table_name(&table).set_key(Some(key)).send().await.unwrap().item.unwrap();
    assert!(item.contains_key("factors"), "written in today's shape");
    for old in ["methods", "totp", "magicLinkEmail", "sessionEpoch"] {
        assert!(!item.contains_key(old), "{old} is gone");
    }
    let ids = |list: &[Value]| list.iter().map(|f| f["factorId"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&factors(&api, &pre).await), ids(&a), "the converted ids were kept");
}
