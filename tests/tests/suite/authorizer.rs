//! The Lambda authorizer for integrators' routes (`mfa_shared::authorizer`), on the
//! application a function builds at cold start and DynamoDB Local: a live session's
//! full-access token passes, with what the route's integration receives; an expired,
//! platform-only, ended-session or (on a route with a maximum age) stale token does not.

use mfa_shared::authorizer::{AuthorizerRequest, MaxAges, authorize};
use mfa_tests::{Person, TestApp};
use serde_json::json;

/// `events/mfa-authorizer.json` for `route`, with `token` (or none) in its places.
fn request(route: &str, token: Option<&str>) -> AuthorizerRequest {
    let text = std::fs::read_to_string(mfa_tests::repo_root().join("events/mfa-authorizer.json")).unwrap();
    let mut event: serde_json::Value = serde_json::from_str(&text).expect("the authorizer's event is JSON");
    event["routeKey"] = json!(route);
    match token {
        Some(t) => {
            event["identitySource"] = json!([format!("Bearer {t}")]);
            event["headers"]["authorization"] = json!(format!("Bearer {t}"));
        }
        None => {
            event["identitySource"] = json!(null);
            event["headers"].as_object_mut().unwrap().remove("authorization");
        }
    }
    serde_json::from_value(event).expect("an authorizer event of payload format 2.0")
}

#[tokio::test]
async fn a_live_sessions_full_access_token_passes_and_nothing_else_does() {
    let test = TestApp::new().await;
    let ages = MaxAges::parse("POST /payments=300").unwrap();
    let me = Person::in_org(&mfa_tests::unique("org"), "OWNER");
    let fresh = me.full_access_token(test.clock.now()).await;
    let route = "GET /example/protected";

    let passed = authorize(&test.app, &ages, &request(route, Some(&fresh))).await.unwrap();
    assert!(passed.is_authorized, "{passed:?}");
    assert_eq!(passed.context["userId"], json!(me.id));
    assert_eq!(passed.context["orgRole"], json!("OWNER"));
    assert_eq!(passed.context["authTime"], json!(test.clock.now()));
    assert!(passed.context["sessionId"].as_str().is_some_and(|s| !s.is_empty()));

    let expired = me.expired_full_access_token(120).await;
    let platform = me.platform_token();
    let ended = me.ended_session_token(test.clock.now());
    for (what, token) in [
        ("no token", None),
        ("not a JWT", Some("not-a-jwt")),
        ("an expired full-access token", Some(expired.as_str())),
        ("the platform token (password only)", Some(platform.as_str())),
        ("a full-access token of an ended session", Some(ended.as_str())),
    ] {
        let decision = authorize(&test.app, &ages, &request(route, token)).await.unwrap();
        assert!(!decision.is_authorized, "{what} must not pass: {decision:?}");
        assert_eq!(decision.context, json!({}), "{what}: nothing is passed on");
    }
}

#[tokio::test]
async fn a_route_with_a_maximum_age_wants_a_recent_second_factor() {
    let test = TestApp::new().await;
    let ages = MaxAges::parse("POST /payments=300").unwrap();
    let me = Person::new();
    let token = me.full_access_token(test.clock.now()).await;
    let payments = request("POST /payments", Some(&token));
    assert!(authorize(&test.app, &ages, &payments).await.unwrap().is_authorized, "a second factor just now");
    test.clock.advance(301);
    assert!(!authorize(&test.app, &ages, &payments).await.unwrap().is_authorized, "over 5 minutes old");
    let other = request("GET /example/protected", Some(&token));
    assert!(authorize(&test.app, &ages, &other).await.unwrap().is_authorized, "a route with no maximum age");
}

#[tokio::test]
async fn a_session_that_ends_stops_passing_at_once() {
    let test = TestApp::new().await;
    let ages = MaxAges::default();
    let me = Person::new();
    let token = me.full_access_token(test.clock.now()).await;
    let req = request("GET /example/protected", Some(&token));
    assert!(authorize(&test.app, &ages, &req).await.unwrap().is_authorized);
    // The record stops listing the session (a factor change elsewhere, an administrator's
    // reset or a recovery ended it).
    mfa_tests::seed(&me, |r| r.sessions.clear()).await;
    assert!(!authorize(&test.app, &ages, &req).await.unwrap().is_authorized, "the session's end is seen at once");
}
