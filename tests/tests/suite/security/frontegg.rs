//! The security rules through Frontegg's routes: one-time values raced by 20 requests
//! that really overlap (one SMS code, one email code, one recovery code, one WebAuthn
//! assertion: one success each), and the holes of the step-up and session rules tried
//! with Frontegg's shapes. A proof in the request counts once, for its own factor and
//! purpose, toward the lockout, and never for a token whose session has ended.

use std::sync::Arc;

use mfa_shared::factors::{Factor, FactorState};
use mfa_shared::methods::totp;
use mfa_shared::model::MfaType;
use mfa_tests::{
    Api, Person, TestApp, enroll_totp, enroll_totp_with_codes, nth_mail_code, nth_text_code, phone_number,
    register_passkey, remember_secret, rp_origin, seed, stand_in,
};
use serde_json::{Value, json};

const RACERS: usize = 20;

/// One request of a race: a function, its `{deviceId}`, its body.
type Request = (&'static str, Option<String>, Value);

/// A request with what it must answer: a function, its `{deviceId}`, its body, the status
/// and code.
type Case<'a> = (&'a str, Option<&'a str>, Value, (u16, &'a str));

/// Runs `requests` at once through their handlers in process, released together by a
/// barrier, each with `token`; returns each `(status, body)`.
async fn race(test: Arc<TestApp>, token: &str, requests: Vec<Request>) -> Vec<(u16, Value)> {
    let barrier = Arc::new(tokio::sync::Barrier::new(requests.len()));
    let tasks: Vec<_> = requests
        .into_iter()
        .map(|(function, device, body)| {
            let (test, barrier, token) = (test.clone(), barrier.clone(), token.to_string());
            tokio::spawn(async move {
                barrier.wait().await;
                match device {
                    Some(id) => test.call_on(function, &id, Some(&token), body).await,
                    None => test.call(function, Some(&token), body).await,
                }
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("the racer ran"));
    }
    out
}

/// `RACERS` copies of one request.
fn copies(function: &'static str, device: Option<&str>, body: Value) -> Vec<Request> {
    (0..RACERS).map(|_| (function, device.map(String::from), body.clone())).collect()
}

/// A refusal in Frontegg's shape: our envelope with `errors` and `errorCode` added.
fn assert_refused(what: &str, (status, body): &(u16, Value), want: (u16, &str)) {
    assert_eq!((*status, body["code"].as_str().unwrap_or("")), want, "{what}: {body}");
    assert_eq!(body["success"], json!(false), "{what}: {body}");
    assert_eq!(body["errorCode"], body["code"], "{what}: {body}");
    assert_eq!(body["errors"][0], body["error"], "{what}: {body}");
}

fn assert_one_winner(what: &str, results: &[(u16, Value)]) {
    let winners = results.iter().filter(|(s, _)| (200..300).contains(s)).count();
    assert_eq!(winners, 1, "{what}: exactly one of {} wins: {results:?}", results.len());
    for (status, body) in results.iter().filter(|(s, _)| !(200..300).contains(s)) {
        assert!((400..500).contains(status), "{what}: losers are refused, not failed: {status} {body}");
        assert_eq!(body["success"], json!(false), "{what}: {body}");
    }
    for (_, body) in results {
        for field in ["refreshToken", "recoveryCode", "deviceToken"] {
            if let Some(t) = body[field].as_str() {
                remember_secret(t);
            }
        }
    }
}

/// The id of `me`'s first factor of `kind` (any state), from the store.
async fn factor_of(me: &Person, kind: MfaType) -> Option<String> {
    mfa_tests::factor_of(me, kind).await.map(|f| f.id)
}

/// Whether `me` still has factor `id`.
async fn has_factor(me: &Person, id: &str) -> bool {
    let (record, _) = mfa_tests::store().await.load_user_and_policy(&me.id, None).await.unwrap();
    record.factor(id).is_some()
}

/// A user with an authenticator (its secret and factor id) and an enabled phone.
async fn with_authenticator_and_phone(me: &Person) -> (Vec<u8>, String, Factor) {
    let secret = enroll_totp(&Api::new(), me).await;
    let phone = stand_in(MfaType::Sms, FactorState::Enabled, me);
    seed(me, |r| r.factors.push(phone.clone())).await;
    let authenticator = factor_of(me, MfaType::GoogleAuth).await.expect("an authenticator");
    (secret, authenticator, phone)
}

/// A login through Frontegg's `…/mfa/verify` with the code of the clock's step: the access
/// token.
async fn frontegg_login(test: &TestApp, me: &Person, secret: &[u8]) -> String {
    let value = totp::code_at(secret, test.clock.now());
    let (status, body) = test.call("frontegg-login-verify", Some(&me.platform_token()), json!({"value": value})).await;
    assert_eq!(status, 201, "{body}");
    remember_secret(body["refreshToken"].as_str().unwrap());
    body["accessToken"].as_str().unwrap().to_string()
}

// Races ----------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn one_sms_code_used_twenty_times_at_once_through_frontegg_works_once() {
    let test = Arc::new(TestApp::new().await);
    let me = Person::new();
    let phone = stand_in(MfaType::Sms, FactorState::Enabled, &me);
    seed(&me, |r| r.factors.push(phone.clone())).await;
    let token = me.platform_token();
    let (status, body) = test.call_on("frontegg-login-sms-send", &phone.id, Some(&token), json!({})).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["otcToken"], json!(phone.id));
    let code = nth_text_code(&mfa_tests::number_of(&me, &phone), 1).await;
    let body = json!({"otcToken": phone.id, "code": code});
    let results = race(test, &token, copies("frontegg-login-sms-verify", Some(&phone.id), body)).await;
    assert_one_winner("one SMS code through Frontegg", &results);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn one_email_code_used_twenty_times_at_once_through_frontegg_works_once() {
    let test = Arc::new(TestApp::new().await);
    let me = Person::new();
    let codes = stand_in(MfaType::EmailOtp, FactorState::Enabled, &me);
    seed(&me, |r| r.factors.push(codes.clone())).await;
    let token = me.platform_token();
    let (status, body) = test.call("frontegg-login-emailcode-send", Some(&token), json!({})).await;
    assert_eq!(status, 201, "{body}");
    let code = nth_mail_code(&me.email, 1).await;
    let body = json!({"otcToken": body["otcToken"], "code": code});
    let results = race(test, &token, copies("frontegg-login-emailcode-verify", None, body)).await;
    assert_one_winner("one email code through Frontegg", &results);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn one_recovery_code_used_twenty_times_at_once_across_both_apis_works_once() {
    let test = Arc::new(TestApp::new().await);
    let me = Person::new();
    let (_, codes) = enroll_totp_with_codes(&Api::new(), &me).await;
    let token = me.platform_token();
    // Half through Frontegg's recovery, half through our own: one code, one success.
    let mut requests = copies("frontegg-login-recover", None, json!({"email": me.email, "recoveryCode": codes[0]}));
    requests.truncate(RACERS / 2);
    requests.extend((0..RACERS / 2).map(|_| ("mfa-recover", None, json!({"code": codes[0]}))));
    let results = race(test, &token, requests).await;
    assert_one_winner("one recovery code through both APIs", &results);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn one_webauthn_assertion_used_twenty_times_at_once_through_frontegg_works_once() {
    use webauthn_authenticator_rs::WebauthnAuthenticator;
    let test = Arc::new(TestApp::new().await);
    let me = Person::new();
    let token = me.platform_token();
    let mut key = register_passkey(&Api::new(), &token).await;
    let id = factor_of(&me, MfaType::Passkey).await.expect("a passkey");
    let (status, opened) = test.call_on("frontegg-login-webauthn-options", &id, Some(&token), json!({})).await;
    assert_eq!(status, 201, "{opened}");
    let options = serde_json::from_value(json!({"publicKey": opened["options"]})).expect("request options");
    let assertion = serde_json::to_value(key.do_authentication(rp_origin(), options).expect("signed")).unwrap();
    let body = json!({"webauthnToken": opened["webauthnToken"], "options": assertion});
    let results = race(test, &token, copies("frontegg-login-webauthn-verify", Some(&id), body)).await;
    assert_one_winner("one WebAuthn assertion through Frontegg", &results);
}

// Step-up and proofs ---------------------------------------------------------------------

#[tokio::test]
async fn a_password_only_or_stale_token_removes_nothing_without_a_valid_proof() {
    let me = Person::new();
    let (_, authenticator, phone) = with_authenticator_and_phone(&me).await;
    let test = TestApp::new().await;
    let password_only = me.platform_token();
    let wrong = json!({"token": "000000"});
    let cases: Vec<Case> = vec![
        ("frontegg-authenticator-disable", Some(&authenticator), json!({}), (400, "INVALID_FIELD")),
        ("frontegg-authenticator-disable", Some(&authenticator), wrong.clone(), (400, "INVALID_CODE")),
        (
            "frontegg-sms-disable",
            Some(&phone.id),
            json!({"otcToken": phone.id, "code": "000000"}),
            (400, "INVALID_CODE"),
        ),
        ("frontegg-mfa-disable", None, wrong.clone(), (400, "INVALID_CODE")),
    ];
    for (function, device, body, want) in &cases {
        let answer = match device {
            Some(id) => test.call_on(function, id, Some(&password_only), body.clone()).await,
            None => test.call(function, Some(&password_only), body.clone()).await,
        };
        assert_refused(&format!("{function} {body} with the password only"), &answer, *want);
    }
    // A full-access token whose second factor is 16 minutes old is no fresher (a fourth
    // wrong proof in a row: not yet the lockout's fifth).
    let stale = me.full_access_token(test.clock.now()).await;
    test.clock.advance(16 * 60);
    let answer = test.call_on("frontegg-authenticator-disable", &authenticator, Some(&stale), wrong).await;
    assert_refused("authenticator disable with a stale token", &answer, (400, "INVALID_CODE"));
    assert!(has_factor(&me, &authenticator).await && has_factor(&me, &phone.id).await, "nothing was removed");
}

#[tokio::test]
async fn a_code_that_logged_in_cannot_also_remove_and_a_login_code_cannot_log_in_twice_across_apis() {
    let me = Person::new();
    let (secret, authenticator, _) = with_authenticator_and_phone(&me).await;
    let test = TestApp::new().await;
    let code = totp::code_at(&secret, test.clock.now());
    let password_only = me.platform_token();
    let (status, body) =
        test.call("mfa-verify-login", Some(&password_only), json!({"mfaType": "GOOGLE_AUTH", "code": code})).await;
    assert_eq!(status, 200, "{body}");
    remember_secret(body["refreshToken"].as_str().unwrap());
    // The same code (its step is spent) through Frontegg's login and as a removal's proof.
    let again = test.call("frontegg-login-verify", Some(&password_only), json!({"value": code})).await;
    assert_refused("the spent code through Frontegg's login", &again, (400, "CODE_ALREADY_USED"));
    let removal = test
        .call_on("frontegg-authenticator-disable", &authenticator, Some(&password_only), json!({"token": code}))
        .await;
    assert_refused("the spent code as a removal's proof", &removal, (400, "CODE_ALREADY_USED"));
    let reset = test.call("frontegg-mfa-disable", Some(&password_only), json!({"token": code})).await;
    assert_refused("the spent code as MFA's removal proof", &reset, (400, "CODE_ALREADY_USED"));
    assert!(has_factor(&me, &authenticator).await);
}

#[tokio::test]
async fn a_setup_code_or_another_phones_code_is_no_proof_for_a_removal() {
    let me = Person::new();
    let (_, _, phone) = with_authenticator_and_phone(&me).await;
    let test = TestApp::new().await;
    // A second phone begun in a fresh session: its setup code is texted to it.
    let fresh = me.full_access_token(test.clock.now()).await;
    let other = phone_number();
    let (status, begun) = test.call("frontegg-sms-enroll", Some(&fresh), json!({"phoneNumber": other})).await;
    assert_eq!(status, 200, "{begun}");
    let setup_code = nth_text_code(&other, 1).await;
    // With the password only: the setup code proves nothing about the first phone.
    let password_only = me.platform_token();
    let body = json!({"otcToken": phone.id, "code": setup_code});
    let answer = test.call_on("frontegg-sms-disable", &phone.id, Some(&password_only), body).await;
    assert_refused("a setup code as the proof for another phone", &answer, (400, "INVALID_CODE"));
    // An otcToken of the other phone on the first phone's path is refused outright.
    let body = json!({"otcToken": begun["otcToken"], "code": setup_code});
    let answer = test.call_on("frontegg-sms-disable", &phone.id, Some(&password_only), body).await;
    assert_refused("another phone's otcToken", &answer, (400, "INVALID_FIELD"));
    assert!(has_factor(&me, &phone.id).await, "the first phone stays");
}

#[tokio::test]
async fn wrong_proofs_count_toward_the_lockout_and_a_locked_user_proves_nothing() {
    let me = Person::new();
    let (secret, authenticator, _) = with_authenticator_and_phone(&me).await;
    let test = TestApp::new().await;
    let password_only = me.platform_token();
    let right = totp::code_at(&secret, test.clock.now());
    let wrong = format!("{:06}", (right.parse::<u32>().unwrap() + 500_000) % 1_000_000);
    for n in 1..=4 {
        let answer = test
            .call_on("frontegg-authenticator-disable", &authenticator, Some(&password_only), json!({"token": wrong}))
            .await;
        assert_refused(&format!("wrong proof {n}"), &answer, (400, "INVALID_CODE"));
    }
    let answer = test.call("frontegg-mfa-disable", Some(&password_only), json!({"token": wrong})).await;
    assert_refused("the fifth wrong proof", &answer, (429, "TOO_MANY_ATTEMPTS"));
    // Locked: the right code neither removes nor logs in.
    let answer = test.call("frontegg-mfa-disable", Some(&password_only), json!({"token": right})).await;
    assert_refused("the right proof while locked", &answer, (429, "TOO_MANY_ATTEMPTS"));
    let answer = test.call("frontegg-login-verify", Some(&password_only), json!({"value": right})).await;
    assert_refused("the right login code while locked", &answer, (429, "TOO_MANY_ATTEMPTS"));
    assert!(has_factor(&me, &authenticator).await);
}

#[tokio::test]
async fn a_password_only_token_cannot_enrol_at_login_next_to_existing_mfa_nor_finish_an_enrolment_begun_before() {
    let me = Person::new();
    let test = TestApp::new().await;
    let password_only = me.platform_token();
    // Begun while the user had no MFA (allowed: the enrolment an organization requires).
    let number = phone_number();
    let (status, begun) =
        test.call("frontegg-login-sms-enroll", Some(&password_only), json!({"phoneNumber": number})).await;
    assert_eq!(status, 201, "{begun}");
    let code = nth_text_code(&number, 1).await;
    // The user then gets an authenticator: the password alone no longer adds factors.
    enroll_totp(&Api::new(), &me).await;
    let body = json!({"otcToken": begun["otcToken"], "code": code});
    let answer = test.call("frontegg-login-sms-enroll-verify", Some(&password_only), body).await;
    assert_refused("finishing an enrolment begun before MFA", &answer, (403, "STEP_UP_REQUIRED"));
    for (function, body) in [
        ("frontegg-login-authenticator-enroll", json!({})),
        ("frontegg-login-sms-enroll", json!({"phoneNumber": phone_number()})),
        ("frontegg-login-webauthn-enroll", json!({})),
        ("frontegg-authenticator-enroll", json!({})),
        ("frontegg-mfa-enroll", json!({})),
        ("frontegg-sms-enroll", json!({"phoneNumber": phone_number()})),
    ] {
        let answer = test.call(function, Some(&password_only), body).await;
        assert_refused(&format!("{function} with the password only"), &answer, (403, "STEP_UP_REQUIRED"));
    }
    let (record, _) = mfa_tests::store().await.load_user_and_policy(&me.id, None).await.unwrap();
    assert!(
        record.factors.iter().all(|f| f.kind() != MfaType::Sms || !f.is_enabled()),
        "no phone was enabled: {:?}",
        record.factors.iter().map(|f| (f.kind(), f.state)).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn recovery_names_the_token_user_and_a_device_id_names_only_the_callers_factors() {
    let (me, stranger) = (Person::new(), Person::new());
    let (_, codes) = enroll_totp_with_codes(&Api::new(), &me).await;
    let (secret, theirs, _) = with_authenticator_and_phone(&stranger).await;
    let test = TestApp::new().await;
    // My recovery code with someone else's address: refused, nothing spent or reset.
    let body = json!({"email": stranger.email, "recoveryCode": codes[0]});
    let answer = test.call("frontegg-login-recover", Some(&me.platform_token()), body).await;
    assert_refused("recovery naming another user", &answer, (400, "INVALID_FIELD"));
    assert!(factor_of(&me, MfaType::GoogleAuth).await.is_some());
    // The stranger's factor id with my own fresh session and the stranger's own code.
    let fresh = me.full_access_token(test.clock.now()).await;
    let body = json!({"token": totp::code_at(&secret, test.clock.now())});
    let answer = test.call_on("frontegg-authenticator-disable", &theirs, Some(&fresh), body).await;
    assert_refused("another user's authenticator", &answer, (404, "FACTOR_NOT_FOUND"));
    assert!(has_factor(&stranger, &theirs).await);
}

// Sessions -------------------------------------------------------------------------------

#[tokio::test]
async fn a_session_ended_by_a_factor_change_authorizes_nothing_on_frontegg_routes() {
    let me = Person::new();
    let (secret, authenticator, phone) = with_authenticator_and_phone(&me).await;
    let test = TestApp::new().await;
    let first = frontegg_login(&test, &me, &secret).await;
    test.clock.advance(30);
    let second = frontegg_login(&test, &me, &secret).await;
    // The second session removes the phone (fresh, no proof needed): the first ends.
    let (status, body) = test.call_on("frontegg-sms-disable-send", &phone.id, Some(&second), json!({})).await;
    assert_eq!(status, 200, "{body}");
    let code = nth_text_code(&mfa_tests::number_of(&me, &phone), 1).await;
    let body = json!({"otcToken": phone.id, "code": code});
    let (status, body) = test.call_on("frontegg-sms-disable", &phone.id, Some(&second), body).await;
    assert_eq!(status, 200, "{body}");
    assert!(!has_factor(&me, &phone.id).await);
    test.clock.advance(30);
    let proof = totp::code_at(&secret, test.clock.now());
    let ended: Vec<(&str, Option<&str>, Value)> = vec![
        ("frontegg-devices", None, json!(null)),
        ("frontegg-authenticator-enroll", None, json!({})),
        ("frontegg-sms-enroll", None, json!({"phoneNumber": phone_number()})),
        ("frontegg-authenticator-disable", Some(&authenticator), json!({"token": proof})),
        ("frontegg-mfa-disable", None, json!({"token": proof})),
        ("frontegg-login-verify", None, json!({"value": proof})),
        ("frontegg-login-recover", None, json!({"email": me.email, "recoveryCode": "AAAA-AAAA-AAAA-AAAA"})),
        ("frontegg-allow-remember-device", None, json!(null)),
    ];
    for (function, device, body) in ended {
        let answer = match device {
            Some(id) => test.call_on(function, id, Some(&first), body).await,
            None => test.call(function, Some(&first), body).await,
        };
        assert_refused(&format!("{function} with the ended session's token"), &answer, (401, "SESSION_ENDED"));
    }
    assert!(has_factor(&me, &authenticator).await, "the ended session removed nothing");
    // The acting session goes on.
    let (status, body) = test.call("frontegg-devices", Some(&second), json!(null)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["authenticators"], json!([{"id": authenticator}]));
    assert_eq!(body["phones"], json!([]));
}

// A proof for a change that is refused ---------------------------------------------------

#[tokio::test]
async fn a_valid_proof_for_a_refused_change_is_not_spent_and_nothing_is_written() {
    let me = Person::new();
    let (secret, codes) = enroll_totp_with_codes(&Api::new(), &me).await;
    let test = TestApp::new().await;
    let live = frontegg_login(&test, &me, &secret).await;
    let store = mfa_tests::store().await;
    let (before, _) = store.load_user_and_policy(&me.id, None).await.unwrap();
    // A stolen recovery code with the password, on a factor the user does not have.
    let body = json!({"token": codes[0]});
    let answer =
        test.call_on("frontegg-authenticator-disable", "fNoSuchFactor0001", Some(&me.platform_token()), body).await;
    assert_refused("a recovery code for a factor the user does not have", &answer, (404, "FACTOR_NOT_FOUND"));
    let (after, _) = store.load_user_and_policy(&me.id, None).await.unwrap();
    assert_eq!(
        after.version,
        before.version,
        "nothing was written: {:?} sessions before, {:?} after",
        before.sessions.len(),
        after.sessions.len()
    );
    // The live session goes on, and the code still works, once.
    let (status, body) = test.call("frontegg-devices", Some(&live), json!(null)).await;
    assert_eq!(status, 200, "the session the refused change would have ended: {body}");
    let (status, body) = test.call("mfa-recover", Some(&me.platform_token()), json!({"code": codes[0]})).await;
    assert_eq!(status, 200, "the recovery code is unspent: {body}");
    remember_secret(body["refreshToken"].as_str().unwrap());
}

#[tokio::test]
async fn a_passkeys_assertion_removes_that_passkey_only() {
    use webauthn_authenticator_rs::WebauthnAuthenticator;
    let api = Api::new();
    let me = Person::new();
    let mut first = register_passkey(&api, &me.platform_token()).await;
    let fresh = me.full_access_token(mfa_tests::now()).await;
    let _second = register_passkey(&api, &fresh).await;
    let (record, _) = mfa_tests::store().await.load_user_and_policy(&me.id, None).await.unwrap();
    let ids: Vec<String> =
        record.factors.iter().filter(|f| f.kind() == MfaType::Passkey).map(|f| f.id.clone()).collect();
    assert_eq!(ids.len(), 2, "two passkeys");
    let test = TestApp::new().await;
    let password_only = me.platform_token();
    // A ceremony for the first passkey, answered by it, presented to remove the second.
    let (status, opened) =
        test.call_on("frontegg-login-webauthn-options", &ids[0], Some(&password_only), json!({})).await;
    assert_eq!(status, 201, "{opened}");
    let options = serde_json::from_value(json!({"publicKey": opened["options"]})).expect("request options");
    let assertion = serde_json::to_value(first.do_authentication(rp_origin(), options).expect("signed")).unwrap();
    let body = json!({"webauthnToken": opened["webauthnToken"], "options": assertion});
    let answer = test.call_on("frontegg-webauthn-disable", &ids[1], Some(&password_only), body.clone()).await;
    assert_refused("the first passkey's assertion removing the second", &answer, (400, "INVALID_CREDENTIAL"));
    assert!(has_factor(&me, &ids[1]).await, "the second passkey stays");
    // Logging in names the passkey too.
    let answer = test.call_on("frontegg-login-webauthn-verify", &ids[1], Some(&password_only), body).await;
    assert!(answer.0 >= 400, "a login naming the second passkey with the first's assertion: {answer:?}");
}
