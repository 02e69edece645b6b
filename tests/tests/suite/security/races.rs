//! One-time values raced by 20 requests that really overlap: the shared handlers run on
//! the tasks of a multi-threaded runtime, released together by a barrier, against
//! DynamoDB Local and the local SES. Exactly one request may win each race.

use std::future::Future;
use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use mfa_shared::App;
use mfa_shared::handlers;
use mfa_tests::{
    Api, Person, app, enroll_totp_with_codes, event, link_in, link_mails_to, login_with_totp, nth_mail, parse,
    passkey_assertion, register_passkey, remember_secret, seed_magic_link,
};
use serde_json::{Value, json};

const RACERS: usize = 20;

/// `events/<name>.json` with `token` as bearer and `body`.
fn request(name: &str, token: &str, body: Value) -> Request {
    let mut req = event(name, Some(token));
    *req.body_mut() = Body::Text(body.to_string());
    req
}

/// Runs `RACERS` copies of one request at once; returns each `(status, body)`.
async fn race<F, Fut>(app: Arc<App>, make: impl Fn() -> Request, handler: F) -> Vec<(u16, Value)>
where
    F: Fn(Arc<App>, Request) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = Response<Body>> + Send,
{
    let barrier = Arc::new(tokio::sync::Barrier::new(RACERS));
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let (app, req, barrier, handler) = (app.clone(), make(), barrier.clone(), handler.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                parse(&handler(app, req).await)
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("the racer ran"));
    }
    out
}

fn winners(results: &[(u16, Value)]) -> usize {
    results.iter().filter(|(s, _)| *s == 200).count()
}

fn assert_one_winner(what: &str, results: &[(u16, Value)]) {
    assert_eq!(winners(results), 1, "{what}: exactly one of {RACERS} wins: {results:?}");
    for (status, body) in results.iter().filter(|(s, _)| *s != 200) {
        assert!((400..500).contains(status), "{what}: losers are refused, not failed: {status} {body}");
        assert_eq!(body["success"], json!(false), "{what}: {body}");
    }
    for (_, body) in results {
        if let Some(t) = body["refreshToken"].as_str() {
            remember_secret(t);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn twenty_sends_at_once_send_one_mail() {
    let app = Arc::new(app().await);
    let me = Person::new();
    seed_magic_link(&me).await;
    let token = me.platform_token();
    let results = race(
        app,
        || request("mfa-magic-link-send", &token, json!(null)),
        |app, req| async move { handlers::magic_link_send(&app, req).await },
    )
    .await;
    assert_one_winner("magic-link send", &results);
    assert!(results.iter().all(|(s, _)| *s == 200 || *s == 429), "{results:?}");
    assert_eq!(link_mails_to(&me.email).await.len(), 1, "the limit holds under the race");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn one_backup_code_used_twenty_times_at_once_works_once() {
    let app = Arc::new(app().await);
    let api = Api::new();
    let me = Person::new();
    let (_, codes) = enroll_totp_with_codes(&api, &me).await;
    let token = me.platform_token();
    let results = race(
        app,
        || request("mfa-recover", &token, json!({"code": codes[0]})),
        |app, req| async move { handlers::recover(&app, req).await },
    )
    .await;
    assert_one_winner("backup code", &results);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn one_login_link_used_twenty_times_at_once_works_once() {
    let app = Arc::new(app().await);
    let api = Api::new();
    let me = Person::new();
    seed_magic_link(&me).await;
    let token = me.platform_token();
    assert_eq!(api.send("POST", "/mfa/magic-link/send", Some(&token), None).await.status, 200);
    let (_, link) = link_in(&nth_mail(&me.email, 1).await);
    let body = json!({"mfaType": "MAGIC_LINK", "token": link});
    let results = race(
        app,
        || request("mfa-verify-login", &token, body.clone()),
        |app, req| async move { handlers::verify_login(&app, req).await },
    )
    .await;
    assert_one_winner("login link", &results);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn one_passkey_assertion_used_twenty_times_at_once_works_once() {
    let app = Arc::new(app().await);
    let api = Api::new();
    let me = Person::new();
    let token = me.platform_token();
    let mut key = register_passkey(&api, &token).await;
    let signed = passkey_assertion(&api, &me, &mut key).await;
    let body = json!({"mfaType": "PASSKEY", "credential": signed});
    let results = race(
        app,
        || request("mfa-verify-login", &token, body.clone()),
        |app, req| async move { handlers::verify_login(&app, req).await },
    )
    .await;
    assert_one_winner("passkey assertion", &results);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn one_refresh_token_used_twenty_times_at_once_works_once() {
    let app = Arc::new(app().await);
    let api = Api::new();
    let me = Person::new();
    let (secret, _) = enroll_totp_with_codes(&api, &me).await;
    let (_, refresh) = login_with_totp(&api, &me, &secret).await;
    let token = me.platform_token();
    let results = race(
        app,
        || request("mfa-token-refresh", &token, json!({"refreshToken": refresh})),
        |app, req| async move { handlers::token_refresh(&app, req).await },
    )
    .await;
    assert_one_winner("refresh token", &results);
    // The reuse the race amounted to ended the session: the winner's new token is void too.
    let (_, winner) = results.iter().find(|(s, _)| *s == 200).unwrap();
    let next = winner["refreshToken"].as_str().unwrap();
    let r = api.post("/mfa/token/refresh", Some(&token), json!({"refreshToken": next})).await;
    assert_eq!(r.status, 401, "{}", r.body);
}
