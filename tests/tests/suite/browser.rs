//! The passkey flow proven once in a real browser: `tests/browser/passkey.mjs` drives
//! headless Chromium with a WebAuthn virtual authenticator against the running API; the
//! registration is completed over HTTP and the browser's assertion is checked here with
//! the same function login uses.

use std::process::Command;

use mfa_tests::{Api, Person, app, repo_root, store};
use serde_json::{Value, json};

#[tokio::test]
async fn chromium_registers_and_signs_in_with_a_passkey() {
    let me = Person::new();
    let _browser = mfa_tests::CHROMIUM.lock().await;
    let out = Command::new("node")
        .arg(repo_root().join("tests/browser/passkey.mjs"))
        .env("BROWSER_TOKEN", me.platform_token())
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "the browser ceremony failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let result: Value = serde_json::from_str(stdout.lines().last().expect("a result line")).expect("JSON result");
    mfa_tests::assert_first_factor(&result["completed"], "Passkey registration completed");

    let status = Api::new().get("/mfa/status", Some(&me.platform_token())).await;
    assert_eq!(status.body["data"]["enabledMethods"], json!(["PASSKEY"]));

    let app = app().await;
    let user = me.principal();
    mfa_tests::verify_assertion(&app, &user, result["assertion"].clone()).await.expect("Chromium's assertion verifies");
    let (record, _) = store().await.load_user_and_policy(&me.id, None).await.unwrap();
    assert_eq!(mfa_tests::passkeys(&record).len(), 1);
    assert_eq!(mfa_tests::passkeys(&record)[0].0.name, "Chromium");
    assert!(mfa_tests::passkeys(&record)[0].0.last_used_at.is_some());
}

/// The demo app (`demo/`) walked through in Chromium by `tests/browser/demo.mjs`: every
/// step it takes must show no error; the screenshots land in the run's log folder.
#[tokio::test]
async fn chromium_walks_the_demo_app_through_every_step() {
    let (me, second, third) = (Person::new(), Person::new(), Person::new());
    // The users who log in with a message, their factor already on: no user of the walk is
    // sent two messages, so none waits for the next minute.
    let (fourth, fifth, sixth) = (Person::new(), Person::new(), Person::new());
    mfa_tests::seed_magic_link(&fourth).await;
    mfa_tests::seed_email_codes(&fifth).await;
    let sixth_phone = mfa_tests::seed_sms(&sixth).await;
    let _browser = mfa_tests::CHROMIUM.lock().await;
    let out = Command::new("node")
        .arg(repo_root().join("tests/browser/demo.mjs"))
        .env("BROWSER_TOKEN", me.platform_token())
        .env("BROWSER_EMAIL", &me.email)
        .env("BROWSER2_TOKEN", second.platform_token())
        .env("BROWSER2_EMAIL", &second.email)
        .env("BROWSER3_TOKEN", third.platform_token())
        .env("BROWSER3_PHONE", mfa_tests::phone_number())
        .env("BROWSER4_TOKEN", fourth.platform_token())
        .env("BROWSER4_EMAIL", &fourth.email)
        .env("BROWSER5_TOKEN", fifth.platform_token())
        .env("BROWSER5_EMAIL", &fifth.email)
        .env("BROWSER6_TOKEN", sixth.platform_token())
        .env("BROWSER6_PHONE", &sixth_phone)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the demo walk failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let result: Value = serde_json::from_str(stdout.lines().last().expect("a result line")).expect("JSON result");
    let steps = result["steps"].as_array().unwrap();
    let shots = result["screenshots"].as_array().unwrap();
    for file in shots {
        let bytes = std::fs::metadata(file.as_str().unwrap()).expect("the screenshot exists").len();
        assert!(bytes > 1000, "{file} is an image");
    }
    println!("demo app: {} steps in Chromium, no error shown; screenshots: {}", steps.len(), shots.len());
    for step in [
        "log in with an email code",
        "log in with an SMS code",
        "log in with a backup code",
        "log in with the login link",
    ] {
        assert!(steps.iter().any(|s| s == step), "the walk took no step {step:?}");
    }
    let status = Api::new().get("/mfa/status", Some(&me.platform_token())).await;
    assert_eq!(status.body["data"]["enabledMethods"], json!([]), "the walk ended with a reset");
    let status = Api::new().get("/mfa/status", Some(&second.platform_token())).await;
    assert_eq!(status.body["data"]["enabledMethods"], json!(["EMAIL_OTP"]), "the second user has email codes");
    let status = Api::new().get("/mfa/status", Some(&third.platform_token())).await;
    assert_eq!(status.body["data"]["enabledMethods"], json!(["SMS"]), "the third user has SMS codes");
}

/// The demo journey built on the UI kit (`ui/mfa-elements.js`), walked in Chromium by
/// `tests/browser/kit.mjs`: every method enrolled and used to log in, a removal stepped up
/// in place, a lockout shown; every screen checked by axe-core and shot at two sizes.
#[tokio::test]
async fn chromium_walks_the_ui_kit_through_every_method_with_no_accessibility_violation() {
    let users: Vec<Person> = (0..8).map(|_| Person::new()).collect();
    // The users who log in with a message have their factor on already (one message each).
    mfa_tests::seed_email_codes(&users[4]).await;
    let sms_phone = mfa_tests::seed_sms(&users[5]).await;
    mfa_tests::seed_magic_link(&users[6]).await;
    mfa_tests::enroll_totp(&Api::new(), &users[7]).await;
    let enrol_phone = mfa_tests::phone_number();
    let _browser = mfa_tests::CHROMIUM.lock().await;
    let mut walk = Command::new("node");
    walk.arg(repo_root().join("tests/browser/kit.mjs")).env("KIT3_PHONE", &enrol_phone).env("KIT6_PHONE", &sms_phone);
    for (i, user) in users.iter().enumerate() {
        walk.env(format!("KIT{}_TOKEN", i + 1), user.platform_token()).env(format!("KIT{}_EMAIL", i + 1), &user.email);
    }
    let out = walk.output().expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the UI kit walk failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let result: Value = serde_json::from_str(stdout.lines().last().expect("a result line")).expect("JSON result");
    let steps: Vec<&str> = result["steps"].as_array().unwrap().iter().map(|s| s.as_str().unwrap()).collect();
    let screens = result["screens"].as_array().unwrap();
    for screen in screens {
        let name = screen["name"].as_str().unwrap();
        let violations = screen["violations"].as_array().unwrap();
        let passed = screen["passed"].as_u64().unwrap();
        println!("UI kit screen {name}: {} axe-core violations, {passed} rules passed", violations.len());
        assert!(passed >= 10, "axe-core checked little on {name}: {passed} rules passed");
        assert!(violations.is_empty(), "axe-core finds violations on {name}: {violations:#?}");
        for file in screen["screenshots"].as_array().unwrap() {
            let bytes = std::fs::metadata(file.as_str().unwrap()).expect("the screenshot exists").len();
            assert!(bytes > 1000, "{file} is an image");
        }
    }
    assert!(screens.len() >= 20, "only {} screens were checked", screens.len());
    for step in [
        "enrol an authenticator app, recovery codes shown once (copied)",
        "forget a remembered device",
        "a forgotten device is refused and no longer offered",
        "enrol a passkey on the account page",
        "enrol email codes",
        "enrol SMS codes",
        "enrol sign-in links on the landing page",
        "log in with an authenticator code, remembering the device",
        "log in with a passkey, remembering the device",
        "log in with the remembered device",
        "log in with a recovery code",
        "log in with an email code",
        "log in with an SMS code",
        "log in with a sign-in link",
        "remove the authenticator with the step-up in place",
        "get new recovery codes",
        "lockout shown with the time to wait",
        "axe-core finds an unlabelled field in a shadow root",
        "the code field offers the passkey (autofill)",
        "the plain page of the docs shows the challenge",
        "the challenge asks for the status alone before a login",
    ] {
        assert!(steps.contains(&step), "the walk took no step {step:?}");
    }
    println!("UI kit: {} steps, {} screens, 0 axe-core violations", steps.len(), screens.len());
    let api = Api::new();
    for (user, methods) in
        [(0, json!(["PASSKEY"])), (1, json!(["EMAIL_OTP"])), (2, json!(["SMS"])), (3, json!(["MAGIC_LINK"]))]
    {
        let status = api.get("/mfa/status", Some(&users[user].platform_token())).await;
        assert_eq!(status.body["data"]["enabledMethods"], methods, "user {} after the walk", user + 1);
    }
}
