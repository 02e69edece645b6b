//! The shared handlers fed the `events/` files (real API Gateway HTTP API events), with
//! their state in DynamoDB Local: what `cargo lambda invoke --data-file` would exercise.

use mfa_shared::factors::FactorState;
use mfa_shared::handlers;
use mfa_shared::model::MfaType;
use mfa_tests::{Person, app, event, parse, store};
use serde_json::json;

#[tokio::test]
async fn status_event() {
    let app = app().await;
    let me = Person::new();
    let (code, body) =
        parse(&mfa_tests::handle(&app, "", "mfa-status", event("mfa-status", Some(&me.platform_token()))).await);
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["data"]["isEnabled"], json!(false));

    let store = store().await;
    let (mut record, _) = store.load_user_and_policy(&me.id, None).await.unwrap();
    record.factors.push(mfa_tests::stand_in(MfaType::Passkey, FactorState::Enabled, &me));
    store.save_user(&mut record).await.unwrap();
    let (_, body) =
        parse(&mfa_tests::handle(&app, "", "mfa-status", event("mfa-status", Some(&me.platform_token()))).await);
    assert_eq!(body["data"]["enabledMethods"], json!(["PASSKEY"]));
    assert_eq!(body["data"]["primaryMethod"], json!("PASSKEY"));

    let (code, body) = parse(&mfa_tests::handle(&app, "", "mfa-status", event("mfa-status", None)).await);
    assert_eq!((code, body["code"].clone()), (401, json!("MISSING_TOKEN")));
}

#[tokio::test]
async fn methods_event() {
    let app = app().await;
    let me = Person::new();
    let (code, body) =
        parse(&mfa_tests::handle(&app, "", "mfa-methods", event("mfa-methods", Some(&me.platform_token()))).await);
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["data"].as_array().map(Vec::len), Some(app.offered.len()));
    // Each method says where it stands under NIST SP 800-63B rev 4.
    let assurance: Vec<(String, String, bool)> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let (kind, level) = (m["type"].as_str().unwrap(), m["assurance"].as_str().unwrap());
            (kind.to_string(), level.to_string(), m["isPhishingResistant"].as_bool().unwrap())
        })
        .collect();
    for (kind, level, resistant) in &assurance {
        let expected = match kind.as_str() {
            "PASSKEY" => "PHISHING_RESISTANT",
            "GOOGLE_AUTH" => "AUTHENTICATOR",
            "SMS" => "RESTRICTED",
            _ => "NOT_AN_AUTHENTICATOR",
        };
        assert_eq!((level.as_str(), *resistant), (expected, kind == "PASSKEY"), "{kind}");
    }
    // A default deployment lists Flashback's three, as Flashback's client expects.
    let default = mfa_tests::default_deployment_app().await;
    let (_, body) =
        parse(&mfa_tests::handle(&default, "", "mfa-methods", event("mfa-methods", Some(&me.platform_token()))).await);
    let types: Vec<_> = body["data"].as_array().unwrap().iter().map(|m| m["type"].clone()).collect();
    assert_eq!(types, [json!("GOOGLE_AUTH"), json!("MAGIC_LINK"), json!("PASSKEY")]);
    let (code, _) = parse(&mfa_tests::handle(&app, "", "mfa-methods", event("mfa-methods", Some("garbage"))).await);
    assert_eq!(code, 401);
}

#[tokio::test]
async fn fallback_event() {
    let (code, body) = parse(&handlers::fallback(event("mfa-fallback", None)).await);
    assert_eq!(code, 404);
    assert_eq!(body["success"], json!(false));
    assert_eq!(body["code"], json!("ROUTE_NOT_FOUND"));
}

#[tokio::test]
async fn optimistic_locking_refuses_a_stale_write() {
    let me = Person::new();
    let store = store().await;
    let (mut first, _) = store.load_user_and_policy(&me.id, None).await.unwrap();
    let mut second = first.clone();
    first.factors.push(mfa_tests::stand_in(MfaType::GoogleAuth, FactorState::Enabled, &me));
    store.save_user(&mut first).await.unwrap();
    second.factors.push(mfa_tests::stand_in(MfaType::MagicLink, FactorState::Enabled, &me));
    let err = store.save_user(&mut second).await.unwrap_err();
    assert!(matches!(err, mfa_shared::store::StoreError::Conflict), "{err}");
    assert_eq!(second.version, 0, "a failed write leaves the version as read");
    let (stored, _) = store.load_user_and_policy(&me.id, None).await.unwrap();
    assert_eq!(stored.enabled_methods(), vec![MfaType::GoogleAuth]);
}

/// Every `events/` file is accepted by its function's handler and answered in the
/// envelope as the contract says (the events' placeholders give the expected refusals).
#[tokio::test]
async fn every_event_answers_as_the_contract_says() {
    use mfa_shared::routes::ROUTES;
    let app = app().await;
    let me = Person::new();
    let token = me.platform_token();
    let jwks = handlers::jwks_document(&std::env::var("MFA_TOKEN_PUBLIC_KEYS").unwrap()).unwrap();
    // (function, status, code or message) for a new user with a platform token.
    let expected: &[(&str, u16, &str)] = &[
        ("mfa-status", 200, ""),
        ("mfa-methods", 200, ""),
        ("mfa-factors", 200, ""),
        ("mfa-factor-rename", 404, "FACTOR_NOT_FOUND"),
        ("mfa-factor-remove", 404, "FACTOR_NOT_FOUND"),
        ("mfa-devices", 200, ""),
        ("mfa-device-forget", 404, "DEVICE_NOT_FOUND"),
        ("mfa-devices-forget", 200, ""),
        ("mfa-remember-device", 200, ""),
        ("mfa-events", 200, ""),
        ("mfa-setup", 200, ""),
        ("mfa-verify-setup", 400, "INVALID_CODE"),
        ("mfa-enable", 409, "METHOD_NOT_CONFIGURED"),
        ("mfa-disable", 409, "METHOD_NOT_ENABLED"),
        ("mfa-primary", 409, "METHOD_NOT_ENABLED"),
        ("mfa-reset", 200, ""),
        ("mfa-magic-link-send", 409, "METHOD_NOT_ENABLED"),
        ("mfa-email-code-send", 409, "METHOD_NOT_ENABLED"),
        ("mfa-sms-send", 409, "METHOD_NOT_ENABLED"),
        ("mfa-magic-link-activate", 400, "INVALID_LINK"),
        ("mfa-passkey-auth-options", 409, "METHOD_NOT_ENABLED"),
        ("mfa-passkey-complete-registration", 400, "CEREMONY_EXPIRED"),
        ("mfa-passkey-complete-registration-1", 400, "CEREMONY_EXPIRED"),
        ("mfa-verify-login", 409, "METHOD_NOT_ENABLED"),
        ("mfa-recover", 400, "INVALID_CODE"),
        ("mfa-backup-codes", 409, "MFA_NOT_ENABLED"),
        ("mfa-token-refresh", 401, "INVALID_REFRESH_TOKEN"),
        ("mfa-organization-enforce", 400, "NO_ORGANIZATION"),
        ("mfa-jwks", 200, ""),
    ];
    let ours = ROUTES.iter().filter(|r| !r.is_frontegg());
    assert_eq!(expected.len(), ours.clone().count(), "one expectation per route of our own API");
    assert!(
        ours.into_iter().all(|r| expected.iter().any(|(f, _, _)| *f == r.function)),
        "every route has an expectation"
    );
    for (function, status, code) in expected {
        let req = event(function, Some(&token));
        let resp = mfa_tests::handle(&app, &jwks, function, req).await;
        assert_eq!(resp.headers()["content-type"], "application/json", "{function}");
        let (got, body) = parse(&resp);
        assert_eq!(got, *status, "{function}: {body}");
        if *status != 200 {
            assert_eq!((body["success"].clone(), body["code"].as_str()), (json!(false), Some(*code)), "{function}");
        } else if *function != "mfa-jwks" {
            assert_eq!(body["success"], json!(true), "{function}");
        } else {
            assert!(body["keys"].as_array().is_some_and(|k| !k.is_empty()));
        }
    }
    // Frontegg's events, each for a new user (the pre-login events' `mfaToken` is a
    // placeholder: the kit puts the token there): Frontegg's shapes, never a 5xx.
    for route in ROUTES.iter().filter(|r| r.is_frontegg()) {
        let function = route.function;
        let req = mfa_tests::request(function, Some(&Person::new().platform_token()), event_body(function));
        let resp = mfa_tests::handle(&app, &jwks, function, req).await;
        assert_eq!(resp.headers()["content-type"], "application/json", "{function}");
        let (got, body) = parse(&resp);
        assert!((200..500).contains(&got), "{function}: {got} {body}");
        if got >= 400 {
            assert_eq!(body["success"], json!(false), "{function}");
            assert_eq!(body["errorCode"], body["code"], "{function}: {body}");
            assert_eq!(body["errors"], json!([body["error"]]), "{function}: {body}");
        } else {
            assert!(body.get("success").is_none(), "{function}: Frontegg's answers carry no envelope: {body}");
        }
    }
}

/// The JSON body of `events/<function>.json` (`null` when it has none).
fn event_body(function: &str) -> serde_json::Value {
    let path = mfa_tests::repo_root().join(format!("events/{function}.json"));
    let raw: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    raw["body"].as_str().map(|b| serde_json::from_str(b).unwrap()).unwrap_or(serde_json::Value::Null)
}

/// API Gateway hands a body that is not UTF-8 to the function base64-encoded; it is
/// refused as malformed JSON, in the envelope.
#[tokio::test]
async fn a_body_that_is_not_utf8_is_400() {
    use base64::Engine;
    let app = app().await;
    let me = Person::new();
    let path = mfa_tests::repo_root().join("events/mfa-enable.json");
    let mut raw: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    raw["body"] = json!(base64::engine::general_purpose::STANDARD.encode([0xffu8, 0xfe, 0x7b, 0x00]));
    raw["isBase64Encoded"] = json!(true);
    raw["headers"]["authorization"] = json!(format!("Bearer {}", me.platform_token()));
    let req = lambda_http::request::from_str(&raw.to_string()).unwrap();
    let (status, body) = parse(&mfa_tests::handle(&app, "", "mfa-enable", req).await);
    assert_eq!((status, body["code"].clone()), (400, json!("INVALID_JSON")), "{body}");
}
