//! PASSKEY with a software authenticator (`webauthn-authenticator-rs`, `softpasskey`):
//! registration over HTTP, the assertion check that login uses, replays, a foreign
//! origin, an expired ceremony and two concurrent completions of one challenge.

use std::sync::Arc;

use mfa_shared::clock::Clock;
use mfa_shared::methods::passkey;
use mfa_tests::{Api, Person, app, assert_error, now, store};
use serde_json::{Value, json};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

fn origin() -> Url {
    Url::parse(&std::env::var("MFA_RP_ORIGIN").unwrap()).unwrap()
}

async fn setup(api: &Api, token: &str, name: &str) -> Value {
    let r = api.post("/mfa/setup", Some(token), json!({"mfaType": "PASSKEY", "deviceInfo": {"name": name}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["data"].clone()
}

fn register(key: &mut SoftPasskey, data: &Value, origin: Url) -> Value {
    let options: CreationChallengeResponse = serde_json::from_value(json!({"publicKey": data["publicKey"]})).unwrap();
    serde_json::to_value(key.do_registration(origin, options).expect("the soft passkey registers")).unwrap()
}

fn assert_with(key: &mut SoftPasskey, data: &Value) -> Value {
    let options: RequestChallengeResponse = serde_json::from_value(json!({"publicKey": data["publicKey"]})).unwrap();
    serde_json::to_value(key.do_authentication(origin(), options).expect("the soft passkey signs")).unwrap()
}

#[tokio::test]
async fn register_then_authenticate_and_replays_are_refused() {
    let api = Api::new();
    let me = Person::new();
    let token = me.platform_token();
    let data = setup(&api, &token, "Laptop").await;
    assert_eq!(data["rpID"], json!("localhost"));
    assert_eq!(data["origin"], json!(origin().as_str().trim_end_matches('/')));
    assert_eq!(data["userName"], json!(me.email));
    assert_eq!(data["challenge"], data["publicKey"]["challenge"]);
    let mut key = SoftPasskey::new(true);
    let credential = register(&mut key, &data, origin());
    let body = json!({"credential": credential, "challenge": data["challenge"]});
    let r = api.post("/mfa/passkey/complete-registration", Some(&token), body.clone()).await;
    mfa_tests::assert_first_factor(&r.body, "Passkey registration completed");
    // The same registration again: the ceremony is spent.
    assert_error(&api.post("/mfa/passkey/complete-registration-1", Some(&token), body).await, 400, "CEREMONY_EXPIRED");

    let s = api.get("/mfa/status", Some(&token)).await.body["data"].clone();
    assert_eq!((s["enabledMethods"].clone(), s["primaryMethod"].clone()), (json!(["PASSKEY"]), json!("PASSKEY")));

    let r = api.send("POST", "/mfa/passkey/auth-options", Some(&token), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let options = r.body["data"].clone();
    assert_eq!(options["rpId"], json!("localhost"));
    assert_eq!(options["allowCredentials"].as_array().map(Vec::len), Some(1));
    let assertion = assert_with(&mut key, &options);
    let app = app().await;
    let user = me.principal();
    mfa_tests::verify_assertion(&app, &user, assertion.clone()).await.expect("the assertion verifies");
    let e = mfa_tests::verify_assertion(&app, &user, assertion).await.unwrap_err();
    assert_eq!(e.code(), "CEREMONY_EXPIRED", "a replayed assertion is refused");

    let (record, _) = store().await.load_user_and_policy(&me.id, None).await.unwrap();
    assert_eq!(mfa_tests::passkeys(&record).len(), 1);
    assert_eq!(mfa_tests::passkeys(&record)[0].0.name, "Laptop");
    assert!(mfa_tests::passkeys(&record)[0].0.last_used_at.is_some(), "last use recorded");
    assert!(mfa_tests::passkeys(&record)[0].1.counter >= 1, "signature counter updated");
}

#[tokio::test]
async fn a_foreign_origin_is_refused() {
    let api = Api::new();
    let me = Person::new();
    let token = me.platform_token();
    let data = setup(&api, &token, "Phone").await;
    let mut key = SoftPasskey::new(true);
    let credential = register(&mut key, &data, Url::parse("http://localhost:6666").unwrap());
    let r = api
        .post(
            "/mfa/passkey/complete-registration",
            Some(&token),
            json!({"credential": credential, "challenge": data["challenge"]}),
        )
        .await;
    assert_error(&r, 400, "INVALID_CREDENTIAL");
    assert_eq!(api.get("/mfa/status", Some(&token)).await.body["data"]["isEnabled"], json!(false));
}

#[tokio::test]
async fn an_expired_ceremony_is_refused() {
    let api = Api::new();
    let me = Person::new();
    let data = setup(&api, &me.platform_token(), "Old").await;
    let mut key = SoftPasskey::new(true);
    let credential = register(&mut key, &data, origin());
    let app = app().await.with_clock(Clock::fixed(now() + 5 * 60 + 1));
    let principal = app.auth().unwrap().verify(&me.platform_token()).unwrap();
    let e = passkey::complete(&app, &principal, credential, data["challenge"].as_str(), None, Default::default())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "CEREMONY_EXPIRED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_challenge_finished_by_two_concurrent_requests_succeeds_once() {
    let api = Api::new();
    let me = Person::new();
    let data = setup(&api, &me.platform_token(), "Race").await;
    let mut key = SoftPasskey::new(true);
    let credential = register(&mut key, &data, origin());
    let app = Arc::new(app().await);
    let principal = app.auth().unwrap().verify(&me.platform_token()).unwrap();
    let challenge = data["challenge"].as_str().unwrap().to_string();
    let barrier = Arc::new(tokio::sync::Barrier::new(2));
    let tasks: Vec<_> = (0..2)
        .map(|_| {
            let (app, principal, credential, challenge, barrier) =
                (app.clone(), principal.clone(), credential.clone(), challenge.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                passkey::complete(&app, &principal, credential, Some(&challenge), None, Default::default()).await
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap().is_ok() {
            ok += 1;
        }
    }
    assert_eq!(ok, 1);
    let (record, _) = store().await.load_user_and_policy(&me.id, None).await.unwrap();
    assert_eq!(mfa_tests::passkeys(&record).len(), 1);
}

#[tokio::test]
async fn more_passkeys_need_step_up_and_are_listed() {
    let api = Api::new();
    let me = Person::new();
    let pre = me.platform_token();
    let mut keys = Vec::new();
    for (n, name) in ["One", "Two", "Three"].into_iter().enumerate() {
        // The first needs no step-up; later ones do, as MFA is then enabled.
        if n > 0 {
            let r = api.post("/mfa/setup", Some(&pre), json!({"mfaType": "PASSKEY"})).await;
            assert_error(&r, 403, "STEP_UP_REQUIRED");
        }
        let token = if n == 0 { pre.clone() } else { me.full_access_token(now()).await };
        let data = setup(&api, &token, name).await;
        // Existing credentials are excluded.
        assert_eq!(data["publicKey"]["excludeCredentials"].as_array().map_or(0, Vec::len), n);
        let mut key = SoftPasskey::new(true);
        let credential = register(&mut key, &data, origin());
        let r = api
            .post(
                "/mfa/passkey/complete-registration",
                Some(&token),
                json!({"credential": credential, "challenge": data["challenge"]}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        keys.push(key);
    }
    let (record, _) = store().await.load_user_and_policy(&me.id, None).await.unwrap();
    let names: Vec<_> = mfa_tests::passkeys(&record).iter().map(|(f, _)| f.name.as_str()).collect();
    assert_eq!(names, ["One", "Two", "Three"]);
    let methods = api.get("/mfa/methods", Some(&pre)).await.body["data"].clone();
    assert_eq!((methods[2]["isConfigured"].clone(), methods[2]["isEnabled"].clone()), (json!(true), json!(true)));
    let options =
        api.send("POST", "/mfa/passkey/auth-options", Some(&pre), Some("null".into())).await.body["data"].clone();
    assert_eq!(options["allowCredentials"].as_array().map(Vec::len), Some(3));
    // Any of them can answer.
    let app = app().await;
    let assertion = assert_with(&mut keys[1], &options);
    mfa_tests::verify_assertion(&app, &me.principal(), assertion).await.expect("the second passkey signs in");
}

#[tokio::test]
async fn auth_options_without_a_passkey_is_409() {
    let api = Api::new();
    let r = api.send("POST", "/mfa/passkey/auth-options", Some(&Person::new().platform_token()), None).await;
    assert_error(&r, 409, "METHOD_NOT_ENABLED");
    let r = api
        .post("/mfa/passkey/complete-registration", Some(&Person::new().platform_token()), json!({"challenge": "x"}))
        .await;
    assert_error(&r, 400, "INVALID_FIELD");
}

#[tokio::test]
async fn verify_setup_completes_a_passkey_registration() {
    let api = Api::new();
    let me = Person::new();
    let token = me.platform_token();
    let data = setup(&api, &token, "Tablet").await;
    let mut key = SoftPasskey::new(true);
    let credential = register(&mut key, &data, origin());
    // The challenge is the one the credential answers; no need to send it separately.
    let r = api.post("/mfa/verify-setup", Some(&token), json!({"mfaType": "PASSKEY", "credential": credential})).await;
    mfa_tests::assert_first_factor(&r.body, "MFA setup verified and enabled");
    assert_eq!(api.get("/mfa/status", Some(&token)).await.body["data"]["enabledMethods"], json!(["PASSKEY"]));
    let r = api.post("/mfa/verify-setup", Some(&token), json!({"mfaType": "PASSKEY"})).await;
    assert_error(&r, 400, "INVALID_FIELD");
}
