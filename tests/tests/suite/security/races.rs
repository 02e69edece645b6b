//! One-time values raced by 20 requests that really overlap: the shared handlers run on
//! the tasks of a multi-threaded runtime, released together by a barrier, against
//! DynamoDB Local and the local SES. Exactly one request may win each race.

use std::sync::Arc;

use mfa_tests::{
    Api, Person, TestApp, enroll_totp_with_codes, link_in, link_mails_to, login_with_totp, nth_mail, passkey_assertion,
    register_passkey, remember_secret, seed_magic_link,
};
use serde_json::{Value, json};

const RACERS: usize = 20;

/// Runs `RACERS` copies of one request to `function` at once, through its handler in
/// process; returns each `(status, body)`.
async fn race(test: Arc<TestApp>, function: &'static str, token: &str, body: Value) -> Vec<(u16, Value)> {
    let barrier = Arc::new(tokio::sync::Barrier::new(RACERS));
    let tasks: Vec<_> = (0..RACERS)
        .map(|_| {
            let (test, barrier, token, body) = (test.clone(), barrier.clone(), token.to_string(), body.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                test.call(function, Some(&token), body).await
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
    let test = Arc::new(TestApp::new().await);
    let me = Person::new();
    seed_magic_link(&me).await;
    let token = me.platform_token();
    let results = race(test, "mfa-magic-link-send", &token, json!(null)).await;
    assert_one_winner("magic-link send", &results);
    assert!(results.iter().all(|(s, _)| *s == 200 || *s == 429), "{results:?}");
    assert_eq!(link_mails_to(&me.email).await.len(), 1, "the limit holds under the race");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn one_backup_code_used_twenty_times_at_once_works_once() {
    let test = Arc::new(TestApp::new().await);
    let api = Api::new();
    let me = Person::new();
    let (_, codes) = enroll_totp_with_codes(&api, &me).await;
    let token = me.platform_token();
    let results = race(test, "mfa-recover", &token, json!({"code": codes[0]})).await;
    assert_one_winner("backup code", &results);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn one_login_link_used_twenty_times_at_once_works_once() {
    let test = Arc::new(TestApp::new().await);
    let api = Api::new();
    let me = Person::new();
    seed_magic_link(&me).await;
    let token = me.platform_token();
    assert_eq!(api.send("POST", "/mfa/magic-link/send", Some(&token), None).await.status, 200);
    let (_, link) = link_in(&nth_mail(&me.email, 1).await);
    let body = json!({"mfaType": "MAGIC_LINK", "token": link});
    let results = race(test, "mfa-verify-login", &token, body.clone()).await;
    assert_one_winner("login link", &results);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn one_passkey_assertion_used_twenty_times_at_once_works_once() {
    let test = Arc::new(TestApp::new().await);
    let api = Api::new();
    let me = Person::new();
    let token = me.platform_token();
    let mut key = register_passkey(&api, &token).await;
    let signed = passkey_assertion(&api, &me, &mut key).await;
    let body = json!({"mfaType": "PASSKEY", "credential": signed});
    let results = race(test, "mfa-verify-login", &token, body.clone()).await;
    assert_one_winner("passkey assertion", &results);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn one_refresh_token_used_twenty_times_at_once_works_once() {
    let test = Arc::new(TestApp::new().await);
    let api = Api::new();
    let me = Person::new();
    let (secret, _) = enroll_totp_with_codes(&api, &me).await;
    let (_, refresh) = login_with_totp(&api, &me, &secret).await;
    let token = me.platform_token();
    let results = race(test, "mfa-token-refresh", &token, json!({"refreshToken": refresh})).await;
    assert_one_winner("refresh token", &results);
    // The reuse the race amounted to ended the session: the winner's new token is void too.
    let (_, winner) = results.iter().find(|(s, _)| *s == 200).unwrap();
    let next = winner["refreshToken"].as_str().unwrap();
    let r = api.post("/mfa/token/refresh", Some(&token), json!({"refreshToken": next})).await;
    assert_eq!(r.status, 401, "{}", r.body);
}
