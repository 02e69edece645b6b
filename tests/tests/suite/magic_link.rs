//! MAGIC_LINK end to end through the local SES: the mail is read from its store, the link
//! taken from the mail and used. Single use (also under 20 concurrent activations),
//! purpose-bound, expiring, rate-limited, scanner-safe, and no token left when SES fails.

use std::sync::Arc;

use mfa_shared::clock::Clock;
use mfa_shared::config::MailConfig;
use mfa_shared::mail::Mailer;
use mfa_shared::methods::magic_link;
use mfa_tests::{Api, Person, app, assert_error, event, link_in, link_mails_to, mails_to, now, nth_mail, parse, store};
use serde_json::json;

/// Sets up MAGIC_LINK for `me` over HTTP and returns the activation token from the mail.
async fn start_setup(api: &Api, me: &Person) -> String {
    let r = api.post("/mfa/setup", Some(&me.platform_token()), json!({"mfaType": "MAGIC_LINK"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let data = &r.body["data"];
    assert_eq!((data["email"].clone(), data["verificationRequired"].clone()), (json!(me.email), json!(true)));
    assert!(data["factorId"].as_str().is_some_and(|id| id.starts_with('f')), "{data}");
    let mail = nth_mail(&me.email, 1).await;
    link_in(&mail).1
}

async fn activate(api: &Api, token: &str) -> mfa_tests::Reply {
    api.post("/mfa/magic-link/activate", None, json!({"token": token})).await
}

#[tokio::test]
async fn activation_by_mail_works_once() {
    let api = Api::new();
    let me = Person::new();
    let token = start_setup(&api, &me).await;
    let mail = &link_mails_to(&me.email).await[0];
    let (link, _) = link_in(mail);
    assert!(link.starts_with(&format!("{}?token=", std::env::var("MFA_LINK_BASE_URL").unwrap())), "{link}");
    assert_eq!(mail["from"], json!(std::env::var("MFA_MAIL_FROM").unwrap()));
    let html = mail["body"]["html"].as_str().expect("an HTML body");
    assert!(html.contains(&token), "the HTML body carries the same link");
    assert_eq!(mail["body"]["text"].as_str().unwrap().matches(&token).count(), 1, "one link, one secret");

    let s = api.get("/mfa/status", Some(&me.platform_token())).await;
    assert_eq!(s.body["data"]["isEnabled"], json!(false), "pending until the link is used");

    // A scanner fetching URLs spends nothing: only the POST consumes the token.
    let r = api.send("GET", &format!("/mfa/magic-link/activate?token={token}"), None, None).await;
    assert_error(&r, 405, "METHOD_NOT_ALLOWED");

    let r = activate(&api, &token).await;
    mfa_tests::assert_first_factor(&r.body, "Magic link MFA activated successfully");
    let s = api.get("/mfa/status", Some(&me.platform_token())).await;
    assert_eq!(s.body["data"]["enabledMethods"], json!(["MAGIC_LINK"]));
    assert_eq!(s.body["data"]["primaryMethod"], json!("MAGIC_LINK"));

    assert_error(&activate(&api, &token).await, 400, "INVALID_LINK");
    assert_error(&activate(&api, "forged-token-that-is-not-even-the-right-size").await, 400, "INVALID_LINK");
    assert_error(&api.post("/mfa/magic-link/activate", None, json!({})).await, 400, "INVALID_FIELD");
    assert_error(&api.send("POST", "/mfa/magic-link/activate", None, None).await, 400, "MISSING_BODY");
}

#[tokio::test]
async fn an_expired_activation_link_is_refused() {
    let api = Api::new();
    let me = Person::new();
    let token = start_setup(&api, &me).await;
    let clock = Clock::fixed(now() + 10 * 60 + 1);
    let app = app().await.with_clock(clock.clone());
    let mut req = event("mfa-magic-link-activate", None);
    *req.body_mut() = lambda_http::Body::Text(json!({"token": token}).to_string());
    let (status, body) = parse(&mfa_tests::handle(&app, "", "mfa-magic-link-activate", req).await);
    assert_eq!((status, body["code"].clone()), (400, json!("INVALID_LINK")), "{body}");
    // Within its ten minutes the same token works.
    clock.set(now() + 9 * 60);
    let mut req = event("mfa-magic-link-activate", None);
    *req.body_mut() = lambda_http::Body::Text(json!({"token": token}).to_string());
    let (status, body) = parse(&mfa_tests::handle(&app, "", "mfa-magic-link-activate", req).await);
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn twenty_concurrent_activations_with_one_token_succeed_once() {
    let api = Api::new();
    let me = Person::new();
    let token = start_setup(&api, &me).await;
    let app = Arc::new(app().await);
    let barrier = Arc::new(tokio::sync::Barrier::new(20));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (app, token, barrier) = (app.clone(), token.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                magic_link::activate(&app, &token.clone().into(), mfa_shared::policy::Actor::LinkHolder).await
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert_eq!(e.code(), "INVALID_LINK", "{e}"),
        }
    }
    assert_eq!(ok, 1);
}

#[tokio::test]
async fn tokens_are_bound_to_their_purpose_and_user() {
    let api = Api::new();
    let me = Person::new();
    let user = me.principal();
    let activation = start_setup(&api, &me).await;
    // An activation token cannot log in (and is not spent by trying).
    let second_person = Person::new();
    let other_activation = start_setup(&api, &second_person).await;
    // A minute after the activation mails (read after they went, so a slow send cannot
    // leave the login link held back by the send limit).
    let app = app().await.with_clock(Clock::fixed(now() + 61));
    assert_eq!(activate(&api, &other_activation).await.status, 200);
    let other = second_person.principal();
    let e = mfa_tests::verify_login_link(&app, &other, &activation).await.unwrap_err();
    assert_eq!(e.code(), "INVALID_LINK", "someone else's activation token cannot log in");
    assert_eq!(activate(&api, &activation).await.status, 200, "the refused token was not spent");

    // A login token cannot activate, and belongs to its user only.
    let (status, body) = parse(
        &mfa_tests::handle(&app, "", "mfa-magic-link-send", event("mfa-magic-link-send", Some(&me.platform_token())))
            .await,
    );
    assert_eq!((status, body), (200, json!({"success": true, "message": "Magic link sent successfully"})));
    let (link, login) = link_in(&nth_mail(&me.email, 2).await);
    assert!(link.contains("purpose=login"), "{link}");
    assert_error(&activate(&api, &login).await, 400, "INVALID_LINK");
    let e = mfa_tests::verify_login_link(&app, &other, &login).await.unwrap_err();
    assert_eq!(e.code(), "INVALID_LINK", "another user cannot use my login link");
    mfa_tests::verify_login_link(&app, &user, &login).await.expect("my login link logs me in");
    let e = mfa_tests::verify_login_link(&app, &user, &login).await.unwrap_err();
    assert_eq!(e.code(), "INVALID_LINK", "a login link works once");
}

#[tokio::test]
async fn send_requires_the_method_and_is_rate_limited_without_resetting_failures() {
    let api = Api::new();
    let me = Person::new();
    let token = me.platform_token();
    assert_error(&api.send("POST", "/mfa/magic-link/send", Some(&token), None).await, 409, "METHOD_NOT_ENABLED");
    assert!(mails_to(&me.email).await.is_empty());

    let activation = start_setup(&api, &me).await;
    // Setup just sent a mail: the next one must wait a minute.
    assert_eq!(activate(&api, &activation).await.status, 200);
    let r = api.send("POST", "/mfa/magic-link/send", Some(&token), Some("{}".into())).await;
    assert_error(&r, 429, "RATE_LIMITED");
    let wait: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(link_mails_to(&me.email).await.len(), 1);

    // On a clock a minute on, sends succeed until five in the hour.
    let clock = Clock::fixed(now() + 61);
    let app = app().await.with_clock(clock.clone());
    let user = me.principal();
    for _ in 0..2 {
        assert!(
            mfa_tests::verify_login_link(&app, &user, "wrong-wrong-wrong-wrong-wrong-wrong-wrong-wr").await.is_err()
        );
    }
    let send = || mfa_tests::handle(&app, "", "mfa-magic-link-send", event("mfa-magic-link-send", Some(&token)));
    for n in 2..=5 {
        let (status, body) = parse(&send().await);
        assert_eq!(status, 200, "send #{n}: {body}");
        clock.advance(61);
    }
    let resp = send().await;
    let (status, body) = parse(&resp);
    assert_eq!((status, body["code"].clone()), (429, json!("RATE_LIMITED")));
    let (record, _) = store().await.load_user_and_policy(&me.id, None).await.unwrap();
    assert_eq!(record.lock.failures(), 2, "sending links never resets the failure count");
}

#[tokio::test]
async fn ses_down_is_503_and_leaves_no_token() {
    let me = Person::new();
    let sdk = aws_config::load_from_env().await;
    // Nothing listens on this port: the local SES is "stopped" for this app.
    let ses = aws_sdk_sesv2::Client::from_conf(
        aws_sdk_sesv2::config::Builder::from(&sdk).endpoint_url("http://127.0.0.1:9").build(),
    );
    let config =
        MailConfig { from: "mfa@example.com".into(), link_base_url: "http://localhost:8080/mfa/magic-link".into() };
    let app = app().await.with_mailer(Mailer::new(ses, config));
    let mut req = event("mfa-setup", Some(&me.platform_token()));
    *req.body_mut() = lambda_http::Body::Text(json!({"mfaType": "MAGIC_LINK"}).to_string());
    let resp = mfa_tests::handle(&app, "", "mfa-setup", req).await;
    assert!(resp.headers().contains_key("retry-after"));
    let (status, body) = parse(&resp);
    assert_eq!((status, body["code"].clone()), (503, json!("SERVICE_UNAVAILABLE")), "{body}");
    let store = store().await;
    assert!(mfa_tests::tokens_of(&me.id).await.is_empty(), "no token item for a mail that was not sent");
    // The send slot was taken before the mail (so racing sends cannot exceed the limit)
    // and stays taken: the 503's Retry-After is the wait for the next one.
    let (record, _) = store.load_user_and_policy(&me.id, None).await.unwrap();
    assert_eq!(record.sends.len(), 1);
    assert!(!record.has_mfa_enabled());
}
