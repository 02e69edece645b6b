//! Fuzzing the event → request path: API Gateway events of every route, damaged in their
//! method, headers, token and body (any bytes, base64-encoded or not), go through the
//! runtime's event parsing and the function's real handler against DynamoDB Local. The
//! answer is always JSON in the envelope, never a panic, never a 5xx; every refusal
//! carries one of the listed codes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mfa_shared::Refusal;
use mfa_shared::routes::{FALLBACK_FUNCTION, ROUTES};
use mfa_tests::{Person, TestApp, repo_root};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{Value, json};

/// Cases per function.
const CASES: usize = 48;

#[derive(Clone, Debug)]
struct Damage {
    method: Option<String>,
    token: Option<Option<String>>,
    content_type: Option<String>,
    body: BodyDamage,
}

#[derive(Clone, Debug)]
enum BodyDamage {
    Keep,
    None,
    Text(String),
    Json(Value),
    Binary(Vec<u8>),
}

fn damage() -> impl Strategy<Value = Damage> {
    let method = proptest::option::of(prop_oneof![
        Just("GET".to_string()),
        Just("POST".to_string()),
        Just("PUT".to_string()),
        Just("DELETE".to_string()),
        "[A-Z]{1,8}",
    ]);
    let token = proptest::option::of(proptest::option::of(prop_oneof![
        Just("VALID".to_string()),
        ".{0,80}",
        "[A-Za-z0-9_.-]{0,200}"
    ]));
    let content_type = proptest::option::of(prop_oneof![
        Just("application/json".to_string()),
        Just("text/plain".to_string()),
        ".{0,30}"
    ]);
    let json = prop_oneof![
        Just(json!({"mfaType": "GOOGLE_AUTH", "code": "123456"})),
        Just(json!({"mfaType": "PASSKEY", "credential": {"response": {"clientDataJSON": "e30"}}})),
        Just(json!({"mfaType": "MAGIC_LINK", "email": "x@y.z"})),
        Just(json!({"enforced": "no"})),
        Just(json!({"resetUserId": 5, "enable": "yes"})),
        Just(json!({"refreshToken": null})),
        Just(json!([1, 2, 3])),
        ".{0,40}".prop_map(|s| json!({"mfaType": s, "code": s, "token": s, "refreshToken": s, "challenge": s})),
    ];
    let body = prop_oneof![
        Just(BodyDamage::Keep),
        Just(BodyDamage::None),
        ".{0,200}".prop_map(BodyDamage::Text),
        json.prop_map(BodyDamage::Json),
        prop::collection::vec(any::<u8>(), 0..300).prop_map(BodyDamage::Binary),
    ];
    (method, token, content_type, body).prop_map(|(method, token, content_type, body)| Damage {
        method,
        token,
        content_type,
        body,
    })
}

fn event_of(function: &str, damage: &Damage, valid_token: &str) -> String {
    let text = std::fs::read_to_string(repo_root().join("events").join(format!("{function}.json"))).unwrap();
    let mut event: Value = serde_json::from_str(&text).unwrap();
    if let Some(m) = &damage.method {
        event["requestContext"]["http"]["method"] = json!(m);
    }
    match &damage.token {
        None => event["headers"]["authorization"] = json!(format!("Bearer {valid_token}")),
        Some(None) => {
            event["headers"].as_object_mut().unwrap().remove("authorization");
        }
        Some(Some(t)) if t == "VALID" => event["headers"]["authorization"] = json!(format!("Bearer {valid_token}")),
        Some(Some(t)) => event["headers"]["authorization"] = json!(t),
    }
    if let Some(ct) = &damage.content_type {
        event["headers"]["content-type"] = json!(ct);
    }
    match &damage.body {
        BodyDamage::Keep => {}
        BodyDamage::None => {
            event.as_object_mut().unwrap().remove("body");
        }
        BodyDamage::Text(t) => event["body"] = json!(t),
        BodyDamage::Json(v) => event["body"] = json!(v.to_string()),
        BodyDamage::Binary(b) => {
            event["body"] = json!(STANDARD.encode(b));
            event["isBase64Encoded"] = json!(true);
        }
    }
    event.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn damaged_events_of_every_route_are_answered_in_the_envelope() {
    let test = TestApp::new().await;
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let strategy = damage();
    let functions: Vec<&str> = ROUTES.iter().map(|r| r.function).chain([FALLBACK_FUNCTION]).collect();
    let (mut cases, mut unparsed, mut refusals) = (0, 0, 0);
    for function in functions {
        for _ in 0..CASES {
            let damage = strategy.new_tree(&mut runner).unwrap().current();
            let me = Person::in_org(&mfa_tests::unique("org"), "OWNER");
            let event = event_of(function, &damage, &me.platform_token());
            // A payload the runtime itself cannot read never reaches a function.
            let Ok(req) = lambda_http::request::from_str(&event) else {
                unparsed += 1;
                continue;
            };
            cases += 1;
            let response = if function == FALLBACK_FUNCTION {
                mfa_shared::handlers::fallback(req).await
            } else {
                mfa_tests::handle(&test.app, &mfa_tests::jwks_document(), function, req).await
            };
            let status = response.status().as_u16();
            assert_eq!(response.headers()["content-type"], "application/json", "{function} {damage:?}");
            let (_, body) = mfa_tests::parse(&response);
            assert!(status < 500, "{function} answered {status} to {damage:?}: {body}");
            if status >= 400 {
                refusals += 1;
                assert_eq!(body["success"], json!(false), "{function} {damage:?}");
                let code = body["code"].as_str().unwrap_or_default();
                assert!(Refusal::CODES.contains(&code), "{function}: unlisted code {code}");
                assert!(body["error"].as_str().is_some_and(|e| e.ends_with('.')), "{function}: {body}");
            }
        }
    }
    println!(
        "fuzz: {cases} damaged events through the handlers ({refusals} refused in the envelope), {unparsed} not readable as events"
    );
    assert!(cases > 500);
}
