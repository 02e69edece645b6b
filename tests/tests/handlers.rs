//! The shared handlers fed the `events/` files (real API Gateway HTTP API events), with
//! their state in DynamoDB Local: what `cargo lambda invoke --data-file` would exercise.

use mfa_shared::handlers;
use mfa_shared::model::{MethodState, MfaType};
use mfa_tests::{Person, app, event, parse, store};
use serde_json::json;

#[tokio::test]
async fn status_event() {
    let app = app().await;
    let me = Person::new();
    let (code, body) = parse(&handlers::status(&app, event("mfa-status", Some(&me.platform_token()))).await);
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["data"]["isEnabled"], json!(false));

    let store = store().await;
    let (mut record, _) = store.load_user_and_policy(&me.id, None).await.unwrap();
    record.methods.insert(MfaType::Passkey, MethodState::Enabled);
    store.save_user(&mut record).await.unwrap();
    let (_, body) = parse(&handlers::status(&app, event("mfa-status", Some(&me.platform_token()))).await);
    assert_eq!(body["data"]["enabledMethods"], json!(["PASSKEY"]));
    assert_eq!(body["data"]["primaryMethod"], json!("PASSKEY"));

    let (code, body) = parse(&handlers::status(&app, event("mfa-status", None)).await);
    assert_eq!((code, body["code"].clone()), (401, json!("MISSING_TOKEN")));
}

#[tokio::test]
async fn methods_event() {
    let app = app().await;
    let me = Person::new();
    let (code, body) = parse(&handlers::methods(&app, event("mfa-methods", Some(&me.platform_token()))).await);
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["data"].as_array().map(Vec::len), Some(3));
    let (code, _) = parse(&handlers::methods(&app, event("mfa-methods", Some("garbage"))).await);
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
    first.methods.insert(MfaType::GoogleAuth, MethodState::Enabled);
    store.save_user(&mut first).await.unwrap();
    second.methods.insert(MfaType::MagicLink, MethodState::Enabled);
    let err = store.save_user(&mut second).await.unwrap_err();
    assert!(matches!(err, mfa_shared::store::StoreError::Conflict), "{err}");
    assert_eq!(second.version, 0, "a failed write leaves the version as read");
    let (stored, _) = store.load_user_and_policy(&me.id, None).await.unwrap();
    assert_eq!(stored.enabled_methods(), vec![MfaType::GoogleAuth]);
}
