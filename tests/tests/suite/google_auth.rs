//! GOOGLE_AUTH end to end: setup, an independent authenticator (`oathtool`) and QR reader
//! (`zbarimg`), verify-setup, one-time time steps (also under 20 concurrent requests
//! racing the shared verification against DynamoDB Local), and the lockout on an
//! injected clock.

use std::process::Command;
use std::sync::Arc;

use base64::Engine;
use mfa_shared::clock::Clock;
use mfa_shared::lockout::LOCK_SECONDS;
use mfa_shared::methods::totp;
use mfa_tests::{Api, Person, app, assert_error, enroll_totp, now, parse, remember_secret, store};
use serde_json::json;

fn oathtool(secret_base32: &str) -> String {
    let out = Command::new("oathtool")
        .args(["--totp", "--base32", secret_base32])
        .output()
        .expect("oathtool runs (scripts/test installs it)");
    assert!(out.status.success(), "oathtool failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

fn zbarimg(png: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("qr-{}.png", mfa_tests::unique("t")));
    std::fs::write(&path, png).unwrap();
    let out = Command::new("zbarimg")
        .args(["--quiet", "--raw"])
        .arg(&path)
        .output()
        .expect("zbarimg runs (scripts/test installs it)");
    let _ = std::fs::remove_file(&path);
    assert!(out.status.success(), "zbarimg could not read the QR code: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[tokio::test]
async fn setup_with_an_independent_authenticator_then_status() {
    let api = Api::new();
    let me = Person::new();
    let token = me.platform_token();
    let r = api.post("/mfa/setup", Some(&token), json!({"mfaType": "GOOGLE_AUTH"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let data = &r.body["data"];
    let secret = data["secret"].as_str().unwrap();
    remember_secret(secret);
    let raw = totp::decode_secret(secret).expect("the secret is base32");
    assert!(raw.len() * 8 >= 160, "at least 160 bits");
    let url = data["otpauthUrl"].as_str().unwrap();
    assert!(url.starts_with("otpauth://totp/"), "{url}");
    assert!(url.contains(&format!("secret={secret}")) && url.contains("issuer="), "{url}");
    assert!(url.contains(&me.email.replace('@', "%40")), "the account is the user's email: {url}");
    let codes: Vec<String> =
        data["backupCodes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
    assert_eq!(codes.len(), 10);
    codes.iter().for_each(|c| remember_secret(c));

    // The QR code is a PNG that decodes to exactly the otpauth URL.
    let qr = data["qrCode"].as_str().unwrap();
    let png = base64::engine::general_purpose::STANDARD
        .decode(qr.strip_prefix("data:image/png;base64,").expect("a PNG data URI"))
        .unwrap();
    assert_eq!(zbarimg(&png), url);

    // Pending until verified.
    let r = api.get("/mfa/status", Some(&token)).await;
    assert_eq!(r.body["data"]["isEnabled"], json!(false));

    let bad = api.post("/mfa/verify-setup", Some(&token), json!({"mfaType": "GOOGLE_AUTH", "code": "000000"})).await;
    if bad.status != 200 {
        assert_error(&bad, 400, "INVALID_CODE");
    }
    let code = oathtool(secret);
    let r = api.post("/mfa/verify-setup", Some(&token), json!({"mfaType": "GOOGLE_AUTH", "code": code})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!({"success": true, "message": "MFA setup verified and enabled"}));

    let r = api.get("/mfa/status", Some(&token)).await;
    assert_eq!(
        r.body["data"],
        json!({"isEnabled": true, "isRequired": false, "isEnforced": false,
               "enabledMethods": ["GOOGLE_AUTH"], "primaryMethod": "GOOGLE_AUTH", "sessionVerified": false,
               "rememberDevice": {"isAllowedToRemember": true, "lifetimeSeconds": 1_209_600}})
    );
    // Nothing is pending any more.
    let r = api.post("/mfa/verify-setup", Some(&token), json!({"mfaType": "GOOGLE_AUTH", "code": code})).await;
    assert_error(&r, 409, "SETUP_NOT_PENDING");
}

#[tokio::test]
async fn verify_setup_input_errors() {
    let api = Api::new();
    let token = Person::new().platform_token();
    assert_error(
        &api.post("/mfa/verify-setup", Some(&token), json!({"mfaType": "GOOGLE_AUTH", "code": "123456"})).await,
        409,
        "SETUP_NOT_PENDING",
    );
    assert_error(
        &api.post("/mfa/verify-setup", Some(&token), json!({"mfaType": "GOOGLE_AUTH"})).await,
        400,
        "INVALID_FIELD",
    );
    assert_error(
        &api.post("/mfa/verify-setup", Some(&token), json!({"mfaType": "VOICE", "code": "1"})).await,
        400,
        "INVALID_FIELD",
    );
    assert_error(
        &api.post("/mfa/verify-setup", Some(&token), json!({"mfaType": "GOOGLE_AUTH", "code": 123456})).await,
        400,
        "INVALID_FIELD",
    );
    assert_error(
        &api.send("POST", "/mfa/setup", Some(&token), Some("{\"mfaType\":".into())).await,
        400,
        "INVALID_JSON",
    );
    assert_error(&api.send("POST", "/mfa/setup", Some(&token), None).await, 400, "MISSING_BODY");
    let big = json!({"mfaType": "GOOGLE_AUTH", "pad": "x".repeat(70_000)});
    assert_error(&api.post("/mfa/setup", Some(&token), big).await, 413, "PAYLOAD_TOO_LARGE");
    assert_error(&api.post("/mfa/setup", None, json!({"mfaType": "GOOGLE_AUTH"})).await, 401, "MISSING_TOKEN");
}

#[tokio::test]
async fn setting_up_again_while_pending_replaces_the_pending_secret() {
    let api = Api::new();
    let me = Person::new();
    let token = me.platform_token();
    let first = api.post("/mfa/setup", Some(&token), json!({"mfaType": "GOOGLE_AUTH"})).await;
    let second = api.post("/mfa/setup", Some(&token), json!({"mfaType": "GOOGLE_AUTH"})).await;
    assert_eq!((first.status, second.status), (200, 200));
    let s1 = totp::decode_secret(first.body["data"]["secret"].as_str().unwrap()).unwrap();
    let s2 = totp::decode_secret(second.body["data"]["secret"].as_str().unwrap()).unwrap();
    remember_secret(first.body["data"]["secret"].as_str().unwrap());
    remember_secret(second.body["data"]["secret"].as_str().unwrap());
    assert_ne!(s1, s2);
    let old = totp::code_at(&s1, now());
    let new = totp::code_at(&s2, now());
    if old != new {
        let r = api.post("/mfa/verify-setup", Some(&token), json!({"mfaType": "GOOGLE_AUTH", "code": old})).await;
        assert_error(&r, 400, "INVALID_CODE");
    }
    let r = api.post("/mfa/verify-setup", Some(&token), json!({"mfaType": "GOOGLE_AUTH", "code": new})).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn a_time_step_is_accepted_once() {
    let api = Api::new();
    let me = Person::new();
    let raw = enroll_totp(&api, &me).await;
    let app = app().await;
    let user = me.principal();
    // verify-setup spent the current step; the next one is within the skew window.
    let code = totp::code_at(&raw, now() + 30);
    mfa_tests::verify_code(&app, &user, &code).await.expect("a fresh code is accepted");
    let again = mfa_tests::verify_code(&app, &user, &code).await.unwrap_err();
    assert_eq!((again.status().as_u16(), again.code()), (400, "CODE_ALREADY_USED"));
    // An older step than the last accepted one is refused too.
    let older = totp::code_at(&raw, now());
    assert!(mfa_tests::verify_code(&app, &user, &older).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn the_same_code_in_20_concurrent_requests_succeeds_once() {
    let api = Api::new();
    let me = Person::new();
    let raw = enroll_totp(&api, &me).await;
    let app = Arc::new(app().await);
    let user = me.principal();
    let code = totp::code_at(&raw, now() + 30);
    let barrier = Arc::new(tokio::sync::Barrier::new(20));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (app, user, code, barrier) = (app.clone(), user.clone(), code.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                mfa_tests::verify_code(&app, &user, &code).await
            })
        })
        .collect();
    let mut successes = 0;
    for t in tasks {
        if t.await.unwrap().is_ok() {
            successes += 1;
        }
    }
    assert_eq!(successes, 1, "exactly one of 20 concurrent uses of one code succeeds");
}

#[tokio::test]
async fn five_failures_lock_for_15_minutes_on_an_injected_clock() {
    let me = Person::new();
    let start = now();
    let clock = Clock::fixed(start);
    let app = app().await.with_clock(clock.clone());
    let token = me.platform_token();
    // The POST events with this user's token and the given body.
    let post = |event: &str, body: serde_json::Value| {
        let mut req = mfa_tests::event(event, Some(&token));
        *req.body_mut() = lambda_http::Body::Text(body.to_string());
        req
    };
    let (status, body) =
        parse(&mfa_tests::handle(&app, "", "mfa-setup", post("mfa-setup", json!({"mfaType": "GOOGLE_AUTH"}))).await);
    assert_eq!(status, 200, "{body}");
    let secret = body["data"]["secret"].as_str().unwrap();
    remember_secret(secret);
    let raw = totp::decode_secret(secret).unwrap();
    let wrong = format!("{:06}", (totp::code_at(&raw, start).parse::<u32>().unwrap() + 1) % 1_000_000);
    let verify = |code: &str| post("mfa-verify-setup", json!({"mfaType": "GOOGLE_AUTH", "code": code}));

    for attempt in 1..=4 {
        let (status, body) = parse(&mfa_tests::handle(&app, "", "mfa-verify-setup", verify(&wrong)).await);
        assert_eq!((status, body["code"].as_str()), (400, Some("INVALID_CODE")), "attempt {attempt}");
    }
    let resp = mfa_tests::handle(&app, "", "mfa-verify-setup", verify(&wrong)).await;
    assert_eq!(resp.headers()["retry-after"], LOCK_SECONDS.to_string().as_str());
    let (status, body) = parse(&resp);
    assert_eq!((status, body["code"].as_str()), (429, Some("TOO_MANY_ATTEMPTS")));

    // Locked: even the right code is refused, and the wait shrinks with time.
    clock.advance(LOCK_SECONDS - 60);
    let resp = mfa_tests::handle(&app, "", "mfa-verify-setup", verify(&totp::code_at(&raw, clock.now()))).await;
    assert_eq!(resp.status().as_u16(), 429);
    assert_eq!(resp.headers()["retry-after"], "60");

    // After the window the right code works and the count starts again.
    clock.advance(60);
    let (status, body) =
        parse(&mfa_tests::handle(&app, "", "mfa-verify-setup", verify(&totp::code_at(&raw, clock.now()))).await);
    assert_eq!(status, 200, "{body}");
    let (record, _) = store().await.load_user_and_policy(&me.id, None).await.unwrap();
    assert_eq!((record.lock.failures(), record.lock.until()), (0, None));
}
