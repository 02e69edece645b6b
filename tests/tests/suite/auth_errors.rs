//! Every way a request can fail before a handler does its work answers in the envelope
//! with the right status: missing, malformed, expired, forged or foreign tokens, unknown
//! routes and wrong methods.

use mfa_tests::{Api, Person, assert_error, stack};
use serde_json::json;

const READ_ROUTES: [&str; 2] = ["/mfa/status", "/mfa/methods"];

#[tokio::test]
async fn missing_header_is_401() {
    let api = Api::new();
    for path in READ_ROUTES {
        assert_error(&api.get(path, None).await, 401, "MISSING_TOKEN");
    }
}

#[tokio::test]
async fn malformed_tokens_are_401() {
    let api = Api::new();
    for token in ["not-a-jwt", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30"] {
        for path in READ_ROUTES {
            assert_error(&api.get(path, Some(token)).await, 401, "INVALID_TOKEN");
        }
    }
    // Not the Bearer scheme.
    let r = Api::new().send_raw_auth("/mfa/status", "Basic dXNlcjpwYXNz").await;
    assert_error(&r, 401, "INVALID_TOKEN");
}

#[tokio::test]
async fn expired_token_is_401() {
    let me = Person::new();
    let token = me.platform_token_with(json!({}), -3600);
    for path in READ_ROUTES {
        assert_error(&Api::new().get(path, Some(&token)).await, 401, "TOKEN_EXPIRED");
    }
}

#[tokio::test]
async fn wrong_signature_is_401() {
    let me = Person::new();
    let forged = mfa_local::platform_token(
        "not-the-platform-secret",
        &json!({"sub": me.id, "iss": stack().platform_issuer, "aud": stack().platform_audience}),
        3600,
    );
    assert_error(&Api::new().get("/mfa/status", Some(&forged)).await, 401, "INVALID_TOKEN");

    // A token whose signature part was swapped.
    let good = me.platform_token();
    let (head, _) = good.rsplit_once('.').unwrap();
    let other = Person::new().platform_token();
    let tampered = format!("{head}.{}", other.rsplit_once('.').unwrap().1);
    assert_error(&Api::new().get("/mfa/status", Some(&tampered)).await, 401, "INVALID_TOKEN");

    // A full-access token signed by a key this service does not hold, claiming its kid.
    let keys = mfa_local::generate_keys_env();
    let spec = keys.lines().find_map(|l| l.strip_prefix("MFA_TOKEN_SIGNING_KEY=")).unwrap().trim_matches('\'');
    let (_, der) = spec.split_once(':').unwrap();
    let real_kid = std::env::var("MFA_TOKEN_SIGNING_KEY").unwrap().split_once(':').unwrap().0.to_string();
    let impostor =
        mfa_shared::auth::TokenSigner::from_spec(&format!("{real_kid}:{der}"), &stack().signer.issuer).unwrap();
    let now = mfa_tests::now();
    let forged = impostor
        .sign(&mfa_shared::auth::FullAccessClaims {
            identity: mfa_shared::auth::IdentityClaims { sub: Some(me.id.clone()), ..Default::default() },
            iss: stack().signer.issuer.clone(),
            aud: mfa_shared::auth::FULL_ACCESS_AUDIENCE.into(),
            iat: now,
            exp: now + 600,
            aal: 2,
            amr: vec!["otp".into()],
            auth_time: now,
            sid: "s".into(),
            jti: "x".into(),
        })
        .unwrap();
    assert_error(&Api::new().get("/mfa/status", Some(&forged)).await, 401, "INVALID_TOKEN");
}

#[tokio::test]
async fn wrong_issuer_and_audience_are_401() {
    let me = Person::new();
    assert!(stack().platform_issuer.is_some(), "scripts/test configures a platform issuer");
    let token = me.platform_token_with(json!({"iss": "https://someone-else.example"}), 3600);
    assert_error(&Api::new().get("/mfa/status", Some(&token)).await, 401, "INVALID_TOKEN");
    let token = me.platform_token_with(json!({"aud": "another-app"}), 3600);
    assert_error(&Api::new().get("/mfa/status", Some(&token)).await, 401, "INVALID_TOKEN");
}

#[tokio::test]
async fn token_without_a_user_is_401() {
    let me = Person::new();
    let token = me.platform_token_with(json!({"sub": null}), 3600);
    assert_error(&Api::new().get("/mfa/status", Some(&token)).await, 401, "INVALID_TOKEN");
    // `userId` stands in for `sub`, as a string or a number.
    let token = me.platform_token_with(json!({"sub": null, "userId": 12345}), 3600);
    assert_eq!(Api::new().get("/mfa/status", Some(&token)).await.status, 200);
}

#[tokio::test]
async fn unknown_route_and_wrong_method_use_the_envelope() {
    let api = Api::new();
    let token = Person::new().platform_token();
    assert_error(&api.get("/mfa/nothing-here", Some(&token)).await, 404, "ROUTE_NOT_FOUND");
    assert_error(&api.get("/", None).await, 404, "ROUTE_NOT_FOUND");
    for path in READ_ROUTES {
        for method in ["POST", "PUT", "DELETE", "PATCH"] {
            let r = api.send(method, path, Some(&token), Some("{}".into())).await;
            assert_error(&r, 405, "METHOD_NOT_ALLOWED");
            assert_eq!(r.headers["allow"], "GET");
        }
    }
}
