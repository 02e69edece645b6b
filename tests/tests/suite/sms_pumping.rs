//! The SMS pumping defences (`sms`, decided in the one delivery rule): the country list
//! and an organization's narrowing of it over HTTP through `cargo lambda watch` (both
//! APIs); the prefix's velocity and block, and the deployment's hourly budget under 20
//! concurrent sends, in process with small limits, against DynamoDB Local and the local
//! SNS, on a clock of their own (the counters are hourly, and a far hour is this test's
//! alone).

use std::sync::Arc;

use mfa_shared::sms::SmsRules;
use mfa_tests::{
    Api, Person, TestApp, assert_error, code_in, mails_to, now, phone_number, remember_secret, set_policy, store,
    texts_to, unique,
};
use serde_json::json;

/// A valid number in one of the United Kingdom's mobile ranges.
fn uk_number() -> String {
    // One number after another from a random start, never the same twice in a run: two
    // tests texting one number within a minute would meet its send limit.
    static NEXT: std::sync::OnceLock<std::sync::atomic::AtomicU32> = std::sync::OnceLock::new();
    let next = NEXT.get_or_init(|| u32::from_be_bytes(mfa_shared::crypto::random_bytes::<4>()).into());
    let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 1000;
    let number = format!("+447911123{n:03}");
    remember_secret(&number);
    number
}

/// A valid number in Germany (a mobile range).
fn german_number() -> String {
    let n = u32::from_be_bytes(mfa_shared::crypto::random_bytes::<4>()) % 10_000_000;
    let number = format!("+49151{n:07}0");
    remember_secret(&number);
    number
}

/// A San Francisco number in the exchange `exchange` (a prefix of six digits after +1).
fn number_in(exchange: u32) -> String {
    let n = u32::from_be_bytes(mfa_shared::crypto::random_bytes::<4>()) % 10_000;
    let number = format!("+1415{exchange}{n:04}");
    remember_secret(&number);
    number
}

/// Two different exchanges of 415 that are not N11 codes, for this test's prefixes.
fn exchanges(count: usize) -> Vec<u32> {
    let mut out = Vec::new();
    while out.len() < count {
        let e = 200 + u32::from_be_bytes(mfa_shared::crypto::random_bytes::<4>()) % 800;
        if e % 100 != 11 && !out.contains(&e) {
            out.push(e);
        }
    }
    out
}

/// An application with these limits on a clock standing at `time`.
async fn limited(time: i64, rules: SmsRules) -> TestApp {
    let mut test = TestApp::at(time).await;
    test.app = test.app.with_sms(rules);
    test
}

/// A far hour of this test's own: the hourly counters there are touched by nothing else.
fn far_hour() -> i64 {
    let hours = 24 * 365 * 20 + (u32::from_be_bytes(mfa_shared::crypto::random_bytes::<4>()) % 100_000) as i64;
    (now() / 3600 + hours) * 3600 + 60
}

/// Starts an SMS setup for a new person to `number` in process.
async fn setup_to(test: &TestApp, number: &str) -> (u16, serde_json::Value) {
    let me = Person::new();
    test.call("mfa-setup", Some(&me.platform_token()), json!({"mfaType": "SMS", "phoneNumber": number})).await
}

#[tokio::test]
async fn a_text_to_a_country_not_listed_is_refused_on_both_apis_and_never_sent() {
    let api = Api::new();
    let me = Person::new();
    let token = me.platform_token();
    let german = german_number();
    let r = api.post("/mfa/setup", Some(&token), json!({"mfaType": "SMS", "phoneNumber": german})).await;
    assert_error(&r, 403, "SMS_COUNTRY_NOT_ALLOWED");
    let sentence = r.body["error"].as_str().unwrap();
    assert!(sentence.contains("+49") && sentence.contains("use another method"), "{sentence}");
    // Frontegg's enrolment takes the same rule.
    let r = api.post("/resources/users/v1/mfa/sms/enroll", Some(&token), json!({"phoneNumber": german})).await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.to_string().contains("+49"), "{}", r.body);
    // Nothing went out and nothing was written: no factor waits for a code.
    assert!(texts_to(&german).await.is_empty(), "no text to a country not listed");
    let factors = api.get("/mfa/factors", Some(&token)).await;
    assert_eq!(factors.status, 200, "{}", factors.body);
    assert_eq!(factors.body["data"], json!([]), "{}", factors.body);
    // A listed country is served.
    let uk = uk_number();
    let r = api.post("/mfa/setup", Some(&token), json!({"mfaType": "SMS", "phoneNumber": uk})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(texts_to(&uk).await.len(), 1);
}

#[tokio::test]
async fn an_organization_narrows_the_countries_its_members_are_texted_in() {
    let api = Api::new();
    let org = unique("org");
    set_policy(&org, |p| p.sms_country_codes = Some(vec![44])).await;
    let me = Person::in_org(&org, "MEMBER");
    let token = me.platform_token();
    let us = phone_number();
    let r = api.post("/mfa/setup", Some(&token), json!({"mfaType": "SMS", "phoneNumber": us})).await;
    assert_error(&r, 403, "SMS_COUNTRY_NOT_ALLOWED");
    assert!(texts_to(&us).await.is_empty());
    let uk = uk_number();
    let r = api.post("/mfa/setup", Some(&token), json!({"mfaType": "SMS", "phoneNumber": uk})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(texts_to(&uk).await.len(), 1);
    // A narrowing never widens: Germany stays refused though the organization names it.
    set_policy(&org, |p| p.sms_country_codes = Some(vec![44, 49])).await;
    let other = Person::in_org(&org, "MEMBER");
    let r = api
        .post("/mfa/setup", Some(&other.platform_token()), json!({"mfaType": "SMS", "phoneNumber": german_number()}))
        .await;
    assert_error(&r, 403, "SMS_COUNTRY_NOT_ALLOWED");
    // The administrator's route checks what it is given before anything else.
    let admin = Person::in_org(&org, "ADMINISTRATOR");
    let r = api
        .post(
            "/mfa/organization/enforce",
            Some(&admin.platform_token()),
            json!({"enforced": false, "smsCountryCodes": ["44", "abc"]}),
        )
        .await;
    assert_error(&r, 400, "INVALID_FIELD");
    assert!(r.body["error"].as_str().unwrap().contains("smsCountryCodes"), "{}", r.body);
}

#[tokio::test]
async fn a_prefix_with_unused_codes_is_blocked_another_is_served_and_the_block_lifts() {
    let t = far_hour();
    let [blocked, other, credited]: [u32; 3] = exchanges(3).try_into().unwrap();
    let rules = SmsRules {
        countries: vec![1],
        prefix_digits: 6,
        prefix_per_hour: 100,
        prefix_unverified: 3,
        block_hours: 2,
        hourly_budget: 1000,
    };
    let test = limited(t, rules.clone()).await;
    // Three codes to one prefix that nobody enters: the third reaches the threshold.
    for _ in 0..3 {
        let (status, body) = setup_to(&test, &number_in(blocked)).await;
        assert_eq!(status, 200, "{body}");
    }
    let refused = number_in(blocked);
    let (status, body) = setup_to(&test, &refused).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("SMS_PREFIX_BLOCKED")), "{body}");
    assert!(texts_to(&refused).await.is_empty(), "no text to a blocked prefix");
    // Another prefix is served meanwhile.
    let (status, body) = setup_to(&test, &number_in(other)).await;
    assert_eq!(status, 200, "{body}");
    // An hour later the block holds (it lasts two hours from the hour it was set in): in
    // this instance, which learnt it, without a write; and in the store, for any other.
    test.clock.advance(3600);
    let (status, body) = setup_to(&test, &number_in(blocked)).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("SMS_PREFIX_BLOCKED")), "{body}");
    mfa_shared::delivery::forget_refusals();
    let (status, body) = setup_to(&test, &number_in(blocked)).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("SMS_PREFIX_BLOCKED")), "{body}");
    // A login code to a number its user proved is spared the prefix's rules.
    let enrolled = Person::new();
    let factor_number = number_in(blocked);
    let mut factor =
        mfa_tests::stand_in(mfa_shared::model::MfaType::Sms, mfa_shared::factors::FactorState::Enabled, &enrolled);
    factor.material = mfa_shared::methods::codes::Target::Phone(factor_number.clone())
        .material(test.app.keyring().unwrap(), &enrolled.id);
    mfa_tests::seed(&enrolled, |r| r.factors.push(factor.clone())).await;
    let (status, body) = test.call("mfa-sms-send", Some(&enrolled.platform_token()), json!(null)).await;
    assert_eq!(status, 200, "a login code to an enrolled number in a blocked prefix: {body}");
    assert_eq!(texts_to(&factor_number).await.len(), 1);
    // …and two hours after that hour began, it has lifted.
    test.clock.set(t - 60 + 2 * 3600);
    let served = number_in(blocked);
    let (status, body) = setup_to(&test, &served).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(texts_to(&served).await.len(), 1);

    // Codes that are entered do not count toward the block.
    let test = limited(t + 5 * 3600, rules).await;
    let me = Person::new();
    let pre = me.platform_token();
    let number = number_in(credited);
    let (status, body) =
        test.call("mfa-setup", Some(&pre), json!({"mfaType": "SMS", "phoneNumber": number.clone()})).await;
    assert_eq!(status, 200, "{body}");
    let code = code_in(&texts_to(&number).await[0]);
    let (status, body) = test.call("mfa-verify-setup", Some(&pre), json!({"mfaType": "SMS", "code": code})).await;
    assert_eq!(status, 200, "{body}");
    for _ in 0..3 {
        let (status, body) = setup_to(&test, &number_in(credited)).await;
        assert_eq!(status, 200, "three unused codes after one entered: {body}");
    }
    let hour = mfa_shared::sms::hour(test.clock.now());
    let counter = store().await.sms_counter(Some(&format!("+1415{credited}")), hour).await.unwrap();
    assert_eq!(counter, (4, 3), "four sent, three not entered");
    let (status, body) = setup_to(&test, &number_in(credited)).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("SMS_PREFIX_BLOCKED")), "{body}");
}

#[tokio::test]
async fn a_prefix_gets_at_most_its_texts_an_hour() {
    let t = far_hour();
    let [exchange]: [u32; 1] = exchanges(1).try_into().unwrap();
    let rules = SmsRules { countries: vec![1], prefix_digits: 6, prefix_per_hour: 2, ..SmsRules::default() };
    let test = limited(t, rules).await;
    for _ in 0..2 {
        let (status, body) = setup_to(&test, &number_in(exchange)).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = setup_to(&test, &number_in(exchange)).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("SMS_PREFIX_RATE_LIMITED")), "{body}");
    test.clock.advance(3600);
    let (status, body) = setup_to(&test, &number_in(exchange)).await;
    assert_eq!(status, 200, "the next hour: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_deployment_budget_holds_under_20_concurrent_sends_and_mail_goes_on() {
    const BUDGET: u32 = 7;
    let t = far_hour();
    let rules = SmsRules { countries: vec![1], hourly_budget: BUDGET, ..SmsRules::default() };
    // 20 people each set up a phone of their own at once (no other limit is near).
    let test = Arc::new(limited(t, SmsRules { prefix_per_hour: 1000, prefix_unverified: 1000, ..rules }).await);
    let people: Vec<(Person, String)> = (0..20).map(|_| (Person::new(), phone_number())).collect();
    let barrier = Arc::new(tokio::sync::Barrier::new(people.len()));
    let tasks: Vec<_> = people
        .iter()
        .map(|(me, number)| {
            let (test, token, number, barrier) = (test.clone(), me.platform_token(), number.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                test.call("mfa-setup", Some(&token), json!({"mfaType": "SMS", "phoneNumber": number})).await
            })
        })
        .collect();
    let mut sent = 0;
    let mut refused = Vec::new();
    for (task, (me, _)) in tasks.into_iter().zip(&people) {
        let (status, body) = task.await.unwrap();
        match status {
            200 => sent += 1,
            _ => {
                assert_eq!((status, body["code"].as_str()), (503, Some("SMS_BUDGET_REACHED")), "{body}");
                assert!(body["error"].as_str().unwrap().contains("use another method"), "{body}");
                refused.push(me);
            }
        }
    }
    assert_eq!(sent, BUDGET, "exactly the budget is sent");
    let mut texted = 0;
    for (_, number) in &people {
        texted += texts_to(number).await.len();
    }
    assert_eq!(texted, BUDGET as usize, "the local SNS took exactly the budget");
    let counter = store().await.sms_counter(None, mfa_shared::sms::hour(t)).await.unwrap();
    assert_eq!(counter.0, BUDGET as i64);
    // Every other method keeps working: an email code goes out to a refused person.
    let me = refused[0];
    let (status, body) = test
        .call("mfa-setup", Some(&me.platform_token()), json!({"mfaType": "EMAIL_OTP", "email": me.email.clone()}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(!mails_to(&me.email).await.is_empty(), "an email code went out");
    // The breaker resets with the hour.
    test.clock.advance(3600);
    let (status, body) = setup_to(&test, &phone_number()).await;
    assert_eq!(status, 200, "the next hour: {body}");
}

#[tokio::test]
async fn narrowing_the_countries_takes_an_administrators_fresh_factor() {
    let api = Api::new();
    let org = unique("org");
    let admin = Person::in_org(&org, "ADMINISTRATOR");
    mfa_tests::enroll_totp(&api, &admin).await;
    let body = json!({"enforced": true, "smsCountryCodes": ["44"]});
    // A password-only token, and a full-access token of a session that has ended, change
    // nothing: the one policy asks for the administrator's own fresh second factor.
    let r = api.post("/mfa/organization/enforce", Some(&admin.platform_token()), body.clone()).await;
    assert_error(&r, 403, "STEP_UP_REQUIRED");
    let r = api.post("/mfa/organization/enforce", Some(&admin.ended_session_token(now())), body.clone()).await;
    assert_error(&r, 401, "SESSION_ENDED");
    let (_, policy) = store().await.load_user_and_policy("nobody", Some(&org)).await.unwrap();
    assert!(policy.is_none_or(|p| p.sms_country_codes.is_none()), "nothing was narrowed");
    // With a fresh factor it lands, and an empty list lifts it.
    let fresh = admin.full_access_token(now()).await;
    let r = api.post("/mfa/organization/enforce", Some(&fresh), body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, policy) = store().await.load_user_and_policy("nobody", Some(&org)).await.unwrap();
    assert_eq!(policy.unwrap().sms_country_codes, Some(vec![44]));
    let r = api.post("/mfa/organization/enforce", Some(&fresh), json!({"enforced": true, "smsCountryCodes": []})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, policy) = store().await.load_user_and_policy("nobody", Some(&org)).await.unwrap();
    assert_eq!(policy.unwrap().sms_country_codes, None);
}
