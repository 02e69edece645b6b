//! EMAIL_OTP and SMS end to end: codes read from the local SES store and the local SNS
//! (moto's server), set up and logged in with over HTTP; expiry on an injected clock;
//! replay, purpose and factor binding; 20 concurrent uses of one code; the lockout shared
//! with the other methods; the resend cool-down that leaves the failure count alone; the
//! per-number send limit; a phone number never stored or listed in plain text.

use std::sync::Arc;

use mfa_shared::factors::FactorState;
use mfa_shared::model::MfaType;
use mfa_tests::{
    Api, Person, TestApp, assert_error, assert_first_factor, claims_of, enroll_totp, mails_to, nth_mail_code,
    nth_text_code, phone_number, remember_secret, seed, stand_in, store, texts_to, unique,
};
use serde_json::{Value, json};

async fn factors(api: &Api, token: &str) -> Vec<Value> {
    api.get("/mfa/factors", Some(token)).await.body["data"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn email_codes_set_up_log_in_and_each_works_once() {
    let api = Api::new();
    let me = Person::new();
    let pre = me.platform_token();
    let address = format!("{}@codes.example", unique("me"));
    let r = api.post("/mfa/setup", Some(&pre), json!({"mfaType": "EMAIL_OTP", "email": address})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.body["data"]["email"].clone(), r.body["data"]["verificationRequired"].clone()),
        (json!(address), json!(true))
    );
    let code = nth_mail_code(&address, 1).await;
    // A setup code does not log in.
    let r = api.post("/mfa/verify-login", Some(&pre), json!({"mfaType": "EMAIL_OTP", "code": code})).await;
    assert_error(&r, 409, "METHOD_NOT_ENABLED");
    let r = api.post("/mfa/verify-setup", Some(&pre), json!({"mfaType": "EMAIL_OTP", "code": code})).await;
    assert_first_factor(&r.body, "MFA setup verified and enabled");
    let r = api.post("/mfa/verify-setup", Some(&pre), json!({"mfaType": "EMAIL_OTP", "code": code})).await;
    assert_error(&r, 400, "INVALID_CODE");
    let status = api.get("/mfa/status", Some(&pre)).await.body["data"].clone();
    assert_eq!(status["enabledMethods"], json!(["EMAIL_OTP"]));

    // A login code, once. Sending again within a minute waits (one message a minute per
    // user), so it is asked for a minute later, through the handler on a moved clock.
    let r = api.send("POST", "/mfa/email-code/send", Some(&pre), None).await;
    assert_error(&r, 429, "RATE_LIMITED");
    let later = TestApp::at(mfa_tests::now() + 61).await;
    let (status, body) = later.call("mfa-email-code-send", Some(&pre), json!(null)).await;
    assert_eq!(status, 200, "{body}");
    let code = nth_mail_code(&address, 2).await;
    let r = api.post("/mfa/verify-login", Some(&pre), json!({"mfaType": "EMAIL_OTP", "code": code})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let amr = claims_of(r.body["fullAccessToken"].as_str().unwrap())["amr"].clone();
    assert!(amr.as_array().unwrap().contains(&json!("email")), "{amr}");
    let r = api.post("/mfa/verify-login", Some(&pre), json!({"mfaType": "EMAIL_OTP", "code": code})).await;
    assert_error(&r, 400, "INVALID_CODE");
    // The mail holds the code and nothing else secret; the factor list masks the address.
    let list = serde_json::to_string(&factors(&api, &pre).await).unwrap();
    assert!(!list.contains(&address) && list.contains("@codes.example"), "{list}");
}

#[tokio::test]
async fn sms_codes_set_up_and_log_in_and_the_number_is_never_shown() {
    let api = Api::new();
    let me = Person::new();
    let pre = me.platform_token();
    for bad in ["4155550100", "+1", "not a number", "+999999999999"] {
        let r = api.post("/mfa/setup", Some(&pre), json!({"mfaType": "SMS", "phoneNumber": bad})).await;
        assert_error(&r, 400, "INVALID_FIELD");
    }
    assert_error(&api.post("/mfa/setup", Some(&pre), json!({"mfaType": "SMS"})).await, 400, "INVALID_FIELD");
    let number = phone_number();
    let spaced = format!("{} {} {}", &number[..2], &number[2..5], &number[5..]);
    let r = api.post("/mfa/setup", Some(&pre), json!({"mfaType": "SMS", "phoneNumber": spaced})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let shown = r.body["data"]["phoneNumber"].as_str().unwrap().to_string();
    assert!(!shown.contains(&number[5..]) && shown.ends_with(&number[number.len() - 2..]), "masked: {shown}");
    let code = nth_text_code(&number, 1).await;
    let r = api.post("/mfa/verify-setup", Some(&pre), json!({"mfaType": "SMS", "code": code})).await;
    assert_first_factor(&r.body, "MFA setup verified and enabled");

    // A minute later (one message a minute per user and per number), a login code.
    let later = TestApp::at(mfa_tests::now() + 61).await;
    let (status, body) = later.call("mfa-sms-send", Some(&pre), json!(null)).await;
    assert_eq!(status, 200, "{body}");
    let code = nth_text_code(&number, 2).await;
    let r = api.post("/mfa/verify-login", Some(&pre), json!({"mfaType": "SMS", "code": code})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    remember_secret(r.body["refreshToken"].as_str().unwrap());
    let amr = claims_of(r.body["fullAccessToken"].as_str().unwrap())["amr"].clone();
    assert!(amr.as_array().unwrap().contains(&json!("sms")), "{amr}");
    let list = serde_json::to_string(&factors(&api, &pre).await).unwrap();
    assert!(!list.contains(&number) && list.contains(&shown), "{list}");
    // The record holds the number sealed, never in plain text.
    let sdk = aws_config::load_from_env().await;
    let item = aws_sdk_dynamodb::Client::new(&sdk)
        .get_item()
        .table_name(&mfa_tests::stack().table)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(format!("USER#{}", me.id)))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("MFA".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert!(!format!("{item:?}").contains(&number[2..]), "the number is sealed");
}

#[tokio::test]
async fn a_code_expires_after_ten_minutes_and_is_bound_to_its_purpose_and_factor() {
    let me = Person::new();
    let first = stand_in(MfaType::EmailOtp, FactorState::Enabled, &me);
    let mut second = stand_in(MfaType::EmailOtp, FactorState::Enabled, &me);
    let other = format!("{}@second.example", unique("me"));
    second.material = mfa_shared::factors::Material::EmailOtp { address: other.clone() };
    second.last_used_at = Some(mfa_tests::now() + 5);
    seed(&me, |r| r.factors.extend([first.clone(), second.clone()])).await;
    let t = mfa_tests::now();
    let test = TestApp::at(t).await;
    let pre = me.platform_token();
    // Without a factor named, the code goes to the one used most recently.
    let (status, body) = test.call("mfa-email-code-send", Some(&pre), json!(null)).await;
    assert_eq!(status, 200, "{body}");
    let code = nth_mail_code(&other, 1).await;
    assert!(mails_to(&me.email).await.is_empty(), "not to the other address");
    let principal = me.principal();
    // Bound to its factor: another factor's id refuses it.
    let e = mfa_tests::verify_sent_code(&test.app, &principal, MfaType::EmailOtp, &code, Some(&first.id))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "INVALID_CODE");
    // Bound to its purpose: a login code does not complete a setup.
    let (status, body) = test.call("mfa-verify-setup", Some(&pre), json!({"mfaType": "EMAIL_OTP", "code": code})).await;
    assert_eq!((status, body["code"].clone()), (400, json!("INVALID_CODE")), "{body}");
    // Ten minutes and one second later it is over.
    test.clock.advance(10 * 60 + 1);
    let e = mfa_tests::verify_sent_code(&test.app, &principal, MfaType::EmailOtp, &code, None).await.unwrap_err();
    assert_eq!(e.code(), "INVALID_CODE");
    // A fresh one to the first address, named, works within its life.
    let (status, body) = test.call("mfa-email-code-send", Some(&pre), json!({"factorId": first.id})).await;
    assert_eq!(status, 200, "{body}");
    let code = nth_mail_code(&me.email, 1).await;
    test.clock.advance(9 * 60);
    mfa_tests::verify_sent_code(&test.app, &principal, MfaType::EmailOtp, &code, Some(&first.id))
        .await
        .expect("a live code of the named factor");
    let (record, _) = store().await.load_user_and_policy(&me.id, None).await.unwrap();
    assert_eq!(record.lock.failures(), 0, "a success resets the count");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn one_text_code_in_20_concurrent_requests_succeeds_once() {
    let me = Person::new();
    let factor = stand_in(MfaType::Sms, FactorState::Enabled, &me);
    seed(&me, |r| r.factors.push(factor.clone())).await;
    let test = TestApp::new().await;
    let (status, body) = test.call("mfa-sms-send", Some(&me.platform_token()), json!(null)).await;
    assert_eq!(status, 200, "{body}");
    let number = texts_to_factor(&test, &me, &factor).await;
    let code = nth_text_code(&number, 1).await;
    let app = Arc::new(mfa_tests::app().await);
    let principal = me.principal();
    let barrier = Arc::new(tokio::sync::Barrier::new(20));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (app, principal, code, barrier) = (app.clone(), principal.clone(), code.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                mfa_tests::verify_sent_code(&app, &principal, MfaType::Sms, &code, None).await
            })
        })
        .collect();
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap().is_ok() {
            ok += 1;
        }
    }
    assert_eq!(ok, 1, "exactly one of 20 concurrent uses of one code succeeds");
}

/// The number a stand-in SMS factor of `me` texts to (opened with the stack's keys).
async fn texts_to_factor(test: &TestApp, me: &Person, factor: &mfa_shared::factors::Factor) -> String {
    let mfa_shared::factors::Material::Sms { phone, .. } = &factor.material else { panic!("an SMS factor") };
    let raw = test.app.keyring().unwrap().open(phone, &format!("{}/sms", me.id)).unwrap();
    String::from_utf8(raw).unwrap()
}

#[tokio::test]
async fn resending_has_a_cool_down_that_leaves_the_failure_count_and_the_lockout_is_shared() {
    let api = Api::new();
    let me = Person::new();
    let secret = enroll_totp(&api, &me).await;
    let codes = stand_in(MfaType::EmailOtp, FactorState::Enabled, &me);
    seed(&me, |r| r.factors.push(codes.clone())).await;
    let t = mfa_tests::now();
    let test = TestApp::at(t).await;
    let pre = me.platform_token();
    assert_eq!(test.call("mfa-email-code-send", Some(&pre), json!(null)).await.0, 200);
    let wrong = json!({"mfaType": "EMAIL_OTP", "code": "000000"});
    for _ in 0..2 {
        let (status, body) = test.call("mfa-verify-login", Some(&pre), wrong.clone()).await;
        assert_eq!((status, body["code"].clone()), (400, json!("INVALID_CODE")), "{body}");
    }
    // Asking again at once: the cool-down, and the count stays.
    let (status, body) = test.call("mfa-email-code-send", Some(&pre), json!(null)).await;
    assert_eq!((status, body["code"].clone()), (429, json!("RATE_LIMITED")), "{body}");
    test.clock.advance(61);
    assert_eq!(test.call("mfa-email-code-send", Some(&pre), json!(null)).await.0, 200);
    let (record, _) = store().await.load_user_and_policy(&me.id, None).await.unwrap();
    assert_eq!(record.lock.failures(), 2, "sending never resets the failure count");
    // Two wrong authenticator codes and one more email code: five in a row, of any method.
    let right = mfa_shared::methods::totp::code_at(&secret, test.clock.now()).parse::<u32>().unwrap();
    let wrong_totp = json!({"mfaType": "GOOGLE_AUTH", "code": format!("{:06}", (right + 500_000) % 1_000_000)});
    for _ in 0..2 {
        assert_eq!(test.call("mfa-verify-login", Some(&pre), wrong_totp.clone()).await.0, 400);
    }
    let (status, body) = test.call("mfa-verify-login", Some(&pre), wrong).await;
    assert_eq!((status, body["code"].clone()), (429, json!("TOO_MANY_ATTEMPTS")), "{body}");
    let code = nth_mail_code(&me.email, 2).await;
    let (status, _) = test.call("mfa-verify-login", Some(&pre), json!({"mfaType": "EMAIL_OTP", "code": code})).await;
    assert_eq!(status, 429, "locked: even the right code waits");
}

#[tokio::test]
async fn a_phone_number_gets_at_most_one_text_a_minute_whoever_asks() {
    let api = Api::new();
    let number = phone_number();
    let keyring = mfa_tests::app().await;
    let (a, b) = (Person::new(), Person::new());
    for p in [&a, &b] {
        let mut factor = stand_in(MfaType::Sms, FactorState::Enabled, p);
        factor.material =
            mfa_shared::methods::codes::Target::Phone(number.clone()).material(keyring.keyring().unwrap(), &p.id);
        seed(p, |r| r.factors.push(factor.clone())).await;
    }
    assert_eq!(api.send("POST", "/mfa/sms/send", Some(&a.platform_token()), None).await.status, 200);
    let r = api.send("POST", "/mfa/sms/send", Some(&b.platform_token()), None).await;
    assert_error(&r, 429, "RATE_LIMITED");
    assert_eq!(texts_to(&number).await.len(), 1, "one text to the number");
    let (record, _) = store().await.load_user_and_policy(&b.id, None).await.unwrap();
    assert!(record.sends.is_empty(), "the refused send took no slot of the user's");
}

#[tokio::test]
async fn an_organization_narrows_the_methods_its_members_set_up() {
    let api = Api::new();
    let org = unique("org");
    let owner = Person::in_org(&org, "OWNER");
    let body = json!({"enforced": true, "allowedMethods": ["PASSKEY", "GOOGLE_AUTH"]});
    // Choosing the methods needs the owner's own fresh second factor.
    let r = api.post("/mfa/organization/enforce", Some(&owner.platform_token()), body.clone()).await;
    assert_error(&r, 403, "MFA_SETUP_REQUIRED");
    let r = api.post("/mfa/organization/enforce", Some(&owner.full_access_token(mfa_tests::now()).await), body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let bad = json!({"enforced": true, "allowedMethods": []});
    let r = api.post("/mfa/organization/enforce", Some(&owner.full_access_token(mfa_tests::now()).await), bad).await;
    assert_error(&r, 400, "INVALID_FIELD");

    let member = Person::in_org(&org, "MEMBER");
    let pre = member.platform_token();
    let r = api.post("/mfa/setup", Some(&pre), json!({"mfaType": "SMS", "phoneNumber": phone_number()})).await;
    assert_error(&r, 403, "METHOD_NOT_ALLOWED_BY_ORG");
    let sentence = r.body["error"].as_str().unwrap();
    assert!(sentence.contains("PASSKEY") && sentence.contains("GOOGLE_AUTH"), "{sentence}");
    let methods = api.get("/mfa/methods", Some(&pre)).await.body["data"].clone();
    let available: Vec<(Value, Value)> =
        methods.as_array().unwrap().iter().map(|m| (m["type"].clone(), m["isAvailable"].clone())).collect();
    assert!(available.contains(&(json!("SMS"), json!(false))) && available.contains(&(json!("PASSKEY"), json!(true))));
    let r = api.post("/mfa/setup", Some(&pre), json!({"mfaType": "GOOGLE_AUTH"})).await;
    assert_eq!(r.status, 200, "an allowed method: {}", r.body);
    remember_secret(r.body["data"]["secret"].as_str().unwrap());
    // Someone outside the organization is not narrowed.
    let outsider = Person::new();
    let r = api.post("/mfa/setup", Some(&outsider.platform_token()), json!({"mfaType": "EMAIL_OTP"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
}
