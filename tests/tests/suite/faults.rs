//! Dependencies that fail, through the real binaries: a second `cargo lambda watch` whose
//! functions reach DynamoDB or SES at an endpoint that hangs (accepts, never answers),
//! refuses connections, or (DynamoDB) only throttles. Every route answers `503` in the
//! envelope with `Retry-After` within 3 seconds, and nothing is left half-written. Then
//! DynamoDB Local, on disk, is stopped and started again under running functions: they
//! recover without a restart and every acknowledged write is still there. And a removal
//! whose store answers slowly still lands through a storm of refreshes.

use std::time::{Duration, Instant};

use mfa_shared::factors::FactorState;
use mfa_shared::methods::totp;
use mfa_shared::model::MfaType;
use mfa_shared::routes::ROUTES;
use mfa_tests::faults::{DiskDynamo, Hung, Slow, Throttling, Watch, refused};
use mfa_tests::{Person, Reply, enroll_totp, mails_to, now, remember_secret, seed_magic_link, tokens_of, unique};
use serde_json::{Value, json};

/// The 3 seconds every refusal and dependency failure must be answered within.
const BOUND: Duration = Duration::from_secs(3);

/// A request to `function` that gets as far as the store.
fn reaching_the_store(function: &str) -> (&'static str, Value) {
    let token43 = "A".repeat(43);
    match function {
        "mfa-status" | "mfa-methods" | "mfa-factors" => ("GET", Value::Null),
        "mfa-factor-rename" => ("PATCH", json!({"name": "New name"})),
        "mfa-factor-remove" => ("DELETE", Value::Null),
        "mfa-devices" | "mfa-remember-device" | "mfa-events" => ("GET", Value::Null),
        "mfa-device-forget" | "mfa-devices-forget" => ("DELETE", Value::Null),
        "mfa-setup" => ("POST", json!({"mfaType": "GOOGLE_AUTH"})),
        "mfa-verify-setup" => ("POST", json!({"mfaType": "GOOGLE_AUTH", "code": "123456"})),
        "mfa-enable" | "mfa-disable" | "mfa-primary" => ("POST", json!({"mfaType": "GOOGLE_AUTH"})),
        "mfa-reset" | "mfa-magic-link-send" | "mfa-passkey-auth-options" | "mfa-backup-codes" => ("POST", Value::Null),
        "mfa-email-code-send" | "mfa-sms-send" => ("POST", Value::Null),
        // An activation token names its user after a `.`.
        "mfa-magic-link-activate" => ("POST", json!({"token": format!("{token43}.dXNlcg")})),
        "mfa-passkey-complete-registration" | "mfa-passkey-complete-registration-1" => {
            ("POST", json!({"credential": {"id": "x", "response": {}}, "challenge": token43}))
        }
        "mfa-verify-login" => ("POST", json!({"mfaType": "GOOGLE_AUTH", "code": "123456"})),
        "mfa-recover" => ("POST", json!({"code": "AAAA-AAAA-AAAA-AAAA"})),
        "mfa-token-refresh" => ("POST", json!({"refreshToken": format!("{token43}.0.{token43}")})),
        "mfa-organization-enforce" => ("POST", json!({"enforced": true})),
        // Frontegg's: the bearer stands in for `mfaToken` when the body has none.
        "frontegg-login-verify" | "frontegg-login-authenticator-verify" => ("POST", json!({"value": "123456"})),
        "frontegg-login-recover" => ("POST", json!({"email": "SELF", "recoveryCode": "AAAA-AAAA-AAAA-AAAA"})),
        "frontegg-login-authenticator-enroll"
        | "frontegg-login-sms-send"
        | "frontegg-login-emailcode-send"
        | "frontegg-login-webauthn-enroll"
        | "frontegg-login-webauthn-options"
        | "frontegg-authenticator-enroll"
        | "frontegg-mfa-enroll"
        | "frontegg-sms-disable-send"
        | "frontegg-webauthn-disable-options" => ("POST", Value::Null),
        "frontegg-login-authenticator-enroll-verify"
        | "frontegg-authenticator-enroll-verify"
        | "frontegg-mfa-enroll-verify"
        | "frontegg-authenticator-disable"
        | "frontegg-mfa-disable" => ("POST", json!({"token": "123456"})),
        "frontegg-login-sms-enroll" | "frontegg-sms-enroll" => ("POST", json!({"phoneNumber": "+14155550100"})),
        "frontegg-login-sms-enroll-verify"
        | "frontegg-login-sms-verify"
        | "frontegg-login-emailcode-verify"
        | "frontegg-sms-enroll-verify"
        | "frontegg-sms-disable" => ("POST", json!({"otcToken": "dSomeDeviceId0001", "code": "123456"})),
        "frontegg-login-webauthn-enroll-verify" | "frontegg-login-webauthn-verify" | "frontegg-webauthn-disable" => {
            ("POST", json!({"webauthnToken": token43, "options": {"id": "x", "response": {}}}))
        }
        "frontegg-allow-remember-device" | "frontegg-devices" => ("GET", Value::Null),
        other => panic!("no request for {other}: add one that reaches the store"),
    }
}

/// A request path of a route's path (a factor id for its `{factorId}`).
fn concrete(route_path: &str) -> String {
    route_path.replace("{factorId}", "fSomeFactorId0001").replace("{deviceId}", "dSomeDeviceId0001")
}

/// Starts `path`'s function in `url`'s watch with a request that touches no dependency
/// (no token, no body), so what is timed next is the dependency, not a cold start.
async fn warm(url: &str, method: &str, path: &str) {
    let reply = mfa_tests::Api::at(url).send(method, path, None, None).await;
    assert!(matches!(reply.status, 400 | 401), "a warm-up of {path} touched nothing: {}", reply.body);
}

async fn call(url: &str, method: &str, path: &str, token: Option<&str>, body: Value) -> (Reply, Duration) {
    let api = mfa_tests::Api::at(url);
    let started = Instant::now();
    let body = (!body.is_null()).then(|| body.to_string());
    let reply = api.send(method, path, token, body).await;
    (reply, started.elapsed())
}

fn assert_unavailable(what: &str, reply: &Reply, elapsed: Duration) {
    assert_eq!(reply.status, 503, "{what}: {}", reply.body);
    assert_eq!(reply.body["code"], json!("SERVICE_UNAVAILABLE"), "{what}");
    assert_eq!(reply.body["success"], json!(false), "{what}");
    assert!(reply.headers.contains_key("retry-after"), "{what}: Retry-After");
    assert!(elapsed < BOUND, "{what}: answered after {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_broken_dynamodb_is_a_503_within_3_seconds_on_every_route() {
    let hung = Hung::start().await;
    let throttling = Throttling::start().await;
    let refused = refused();
    let mut figures = Vec::new();
    for (kind, endpoint) in
        [("hung", hung.url.as_str()), ("refused", refused.as_str()), ("throttling", throttling.url.as_str())]
    {
        let watch = Watch::start(&format!("dynamodb-{kind}"), &[("AWS_ENDPOINT_URL_DYNAMODB", endpoint)]);
        let me = Person::in_org(&unique("org"), "OWNER");
        let token = me.platform_token();
        let routes: Vec<_> = ROUTES.iter().filter(|r| r.needs.store).collect();
        let warming = routes.iter().map(|route| {
            let (url, path, token) = (watch.url.clone(), concrete(route.path), token.clone());
            let (method, _) = reaching_the_store(route.function);
            let function = route.function;
            tokio::spawn(async move {
                warm(&url, method, &path).await;
                // The phone-number metadata loads at a function's first number (slow in a
                // debug build): not the dependency being timed.
                if function.ends_with("sms-enroll") {
                    let body = Some(json!({"phoneNumber": "+10000000000"}).to_string());
                    let reply = mfa_tests::Api::at(&url).send(method, &path, Some(&token), body).await;
                    assert_eq!(reply.status, 400, "{function}: {}", reply.body);
                }
            })
        });
        for task in warming.collect::<Vec<_>>() {
            task.await.unwrap();
        }
        let calls = routes.iter().map(|route| {
            let (url, token) = (watch.url.clone(), token.clone());
            let (method, mut body) = reaching_the_store(route.function);
            if body["email"] == json!("SELF") {
                body["email"] = json!(me.email);
            }
            let (path, function) = (concrete(route.path), route.function);
            tokio::spawn(async move {
                let (reply, elapsed) = call(&url, method, &path, Some(&token), body).await;
                (function, reply, elapsed)
            })
        });
        let mut slowest = Duration::ZERO;
        for task in calls.collect::<Vec<_>>() {
            let (function, reply, elapsed) = task.await.unwrap();
            assert_unavailable(&format!("{function} with DynamoDB {kind}"), &reply, elapsed);
            slowest = slowest.max(elapsed);
        }
        figures.push(format!("DynamoDB {kind}: every route 503, slowest {:.2} s", slowest.as_secs_f64()));
        // Nothing reached the real table.
        let (record, _) = mfa_tests::store().await.load_user_and_policy(&me.id, None).await.unwrap();
        assert_eq!(record.version, 0, "nothing was written for {}", me.id);
    }
    println!("faults: {}", figures.join("; "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_broken_ses_is_a_503_for_links_and_never_holds_up_a_change() {
    let hung = Hung::start().await;
    let refused = refused();
    let mut figures = Vec::new();
    for (kind, endpoint) in [("hung", hung.url.as_str()), ("refused", refused.as_str())] {
        let watch = Watch::start(&format!("ses-{kind}"), &[("AWS_ENDPOINT_URL_SESV2", endpoint)]);
        // An activation link: the slot and token were stored first; the token is gone again.
        for (method, path) in [("POST", "/mfa/setup"), ("POST", "/mfa/magic-link/send"), ("POST", "/mfa/disable")] {
            warm(&watch.url, method, path).await;
        }
        let me = Person::new();
        let body = json!({"mfaType": "MAGIC_LINK"});
        let (reply, setup) = call(&watch.url, "POST", "/mfa/setup", Some(&me.platform_token()), body).await;
        assert_unavailable(&format!("setup MAGIC_LINK with SES {kind}"), &reply, setup);
        assert!(tokens_of(&me.id).await.is_empty(), "no token is left for a mail that was not sent");
        assert!(mails_to(&me.email).await.is_empty());
        // A login link.
        let other = Person::new();
        seed_magic_link(&other).await;
        let (reply, send) =
            call(&watch.url, "POST", "/mfa/magic-link/send", Some(&other.platform_token()), Value::Null).await;
        assert_unavailable(&format!("magic-link send with SES {kind}"), &reply, send);
        assert!(tokens_of(&other.id).await.is_empty());
        // A change whose notice cannot be mailed is still made, in time.
        let third = Person::new();
        enroll_totp(&mfa_tests::Api::new(), &third).await;
        let fresh = third.full_access_token(now()).await;
        let (reply, disable) =
            call(&watch.url, "POST", "/mfa/disable", Some(&fresh), json!({"mfaType": "GOOGLE_AUTH"})).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(disable < BOUND, "disable with SES {kind} took {disable:?}");
        figures.push(format!(
            "SES {kind}: setup 503 in {:.2} s, send 503 in {:.2} s, disable 200 in {:.2} s",
            setup.as_secs_f64(),
            send.as_secs_f64(),
            disable.as_secs_f64()
        ));
    }
    println!("faults: {}", figures.join("; "));
}

/// The code items of `user_id` (`CODE#…`) in the table.
async fn codes_of(user_id: &str) -> usize {
    use aws_sdk_dynamodb::types::AttributeValue;
    let sdk = aws_config::load_from_env().await;
    let out = aws_sdk_dynamodb::Client::new(&sdk)
        .query()
        .table_name(&mfa_tests::stack().table)
        .key_condition_expression("pk = :pk AND begins_with(sk, :code)")
        .expression_attribute_values(":pk", AttributeValue::S(format!("USER#{user_id}")))
        .expression_attribute_values(":code", AttributeValue::S("CODE#".into()))
        .send()
        .await
        .expect("the query works");
    out.count() as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_broken_sns_is_a_503_within_3_seconds_and_leaves_no_code() {
    let hung = Hung::start().await;
    let refused = refused();
    let mut figures = Vec::new();
    for (kind, endpoint) in [("hung", hung.url.as_str()), ("refused", refused.as_str())] {
        let watch = Watch::start(&format!("sns-{kind}"), &[("AWS_ENDPOINT_URL_SNS", endpoint)]);
        for path in ["/mfa/setup", "/mfa/sms/send"] {
            warm(&watch.url, "POST", path).await;
        }
        // The phone-number metadata loads at the function's first number (slow in a debug
        // build): a well-formed number that is not valid loads it, and texts nothing.
        let warming = Person::new();
        let body = Some(json!({"mfaType": "SMS", "phoneNumber": "+10000000000"}).to_string());
        let reply =
            mfa_tests::Api::at(&watch.url).send("POST", "/mfa/setup", Some(&warming.platform_token()), body).await;
        assert_eq!(reply.status, 400, "setup warm-up: {}", reply.body);
        // A setup code: the pending phone is recorded, its code is gone again.
        let me = Person::new();
        let number = mfa_tests::phone_number();
        let body = json!({"mfaType": "SMS", "phoneNumber": number});
        let (reply, setup) = call(&watch.url, "POST", "/mfa/setup", Some(&me.platform_token()), body).await;
        assert_unavailable(&format!("setup SMS with SNS {kind}"), &reply, setup);
        assert_eq!(codes_of(&me.id).await, 0, "no code is left for a text that was not sent");
        // A login code.
        let other = Person::new();
        let factor = mfa_tests::stand_in(MfaType::Sms, FactorState::Enabled, &other);
        mfa_tests::seed(&other, |r| r.factors.push(factor.clone())).await;
        let (reply, send) = call(&watch.url, "POST", "/mfa/sms/send", Some(&other.platform_token()), Value::Null).await;
        assert_unavailable(&format!("sms send with SNS {kind}"), &reply, send);
        assert_eq!(codes_of(&other.id).await, 0);
        assert!(mfa_tests::texts_to(&number).await.is_empty(), "nothing reached the real local SNS");
        figures.push(format!(
            "SNS {kind}: setup 503 in {:.2} s, send 503 in {:.2} s",
            setup.as_secs_f64(),
            send.as_secs_f64()
        ));
    }
    println!("faults: {}", figures.join("; "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn functions_recover_when_dynamodb_restarts_and_acknowledged_writes_stay() {
    let mut db = DiskDynamo::start();
    let table = mfa_tests::stack().table.clone();
    let sdk = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk).endpoint_url(db.url()).build(),
    );
    let template = std::fs::read_to_string(mfa_tests::repo_root().join("template.yaml")).unwrap();
    mfa_local::ensure_table(&client, &table, &mfa_local::table_spec(&template).unwrap()).await.unwrap();
    let watch = Watch::start("dynamodb-restart", &[("AWS_ENDPOINT_URL_DYNAMODB", &db.url())]);
    let api = mfa_tests::Api::at(&watch.url);

    // Users enrol; an answer of 200 is an acknowledged write.
    let enrol = |api: mfa_tests::Api| async move {
        let me = Person::new();
        let token = me.platform_token();
        let r = api.post("/mfa/setup", Some(&token), json!({"mfaType": "GOOGLE_AUTH"})).await;
        if r.status != 200 {
            return (me, None, r.status);
        }
        let secret = r.body["data"]["secret"].as_str().unwrap().to_string();
        remember_secret(&secret);
        r.body["data"]["backupCodes"].as_array().unwrap().iter().for_each(|c| remember_secret(c.as_str().unwrap()));
        let raw = totp::decode_secret(&secret).unwrap();
        let r = api
            .post(
                "/mfa/verify-setup",
                Some(&token),
                json!({"mfaType": "GOOGLE_AUTH", "code": mfa_tests::totp_code(&raw, -1).await}),
            )
            .await;
        (me, (r.status == 200).then_some(raw), r.status)
    };
    let mut acknowledged = Vec::new();
    for _ in 0..5 {
        let (me, raw, status) = enrol(mfa_tests::Api::at(&watch.url)).await;
        assert_eq!(status, 200);
        acknowledged.push((me, raw.unwrap()));
    }

    // Down: fast 503s, no hang (the status function started first, so what is timed is
    // the store, not a cold start).
    warm(&watch.url, "GET", "/mfa/status").await;
    db.stop();
    let (first, _) = &acknowledged[0];
    let started = Instant::now();
    let r = api.get("/mfa/status", Some(&first.platform_token())).await;
    assert_unavailable("status while DynamoDB is down", &r, started.elapsed());

    // Up again: the same function processes serve, and everything acknowledged is there.
    db.resume();
    let mut recovered = None;
    for attempt in 0..50 {
        let r = api.get("/mfa/status", Some(&first.platform_token())).await;
        if r.status == 200 {
            recovered = Some(attempt);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(recovered.is_some(), "the functions recovered without a restart");
    for _ in 0..3 {
        let (me, raw, status) = enrol(mfa_tests::Api::at(&watch.url)).await;
        assert_eq!(status, 200);
        acknowledged.push((me, raw.unwrap()));
    }
    for (me, raw) in &acknowledged {
        let r = api.get("/mfa/status", Some(&me.platform_token())).await;
        assert_eq!(r.body["data"]["enabledMethods"], json!(["GOOGLE_AUTH"]), "{}: {}", me.id, r.body);
        let code = mfa_tests::totp_code(raw, 0).await;
        let r = api
            .post("/mfa/verify-login", Some(&me.platform_token()), json!({"mfaType": "GOOGLE_AUTH", "code": code}))
            .await;
        assert_eq!(r.status, 200, "{}: {}", me.id, r.body);
        remember_secret(r.body["refreshToken"].as_str().unwrap());
    }
    println!(
        "faults: DynamoDB restarted on disk: {} acknowledged enrolments all present, functions recovered",
        acknowledged.len()
    );
}

/// Refreshes racing a forget (as in `devices::`), while the store takes 300 ms over each
/// of the forget's round trips (the refreshes' are as fast as ever): each of its tries
/// loses, and its second loss comes after the second its retries may take. It holds the
/// record all the same (refreshes are held off), and then lands.
///
/// Both sides' clocks stand still (the forget's set to now just before it), so its hold
/// lasts for the refreshes until it lands: the test is of when a hold is set and that it
/// lets its change land, not of the hold's end. The slow client has the SDK's default
/// timeouts, not the functions' (750 ms an attempt): on a loaded machine 300 ms more
/// would make it a test of those. Here, not beside other tests: the refreshes load the
/// shared DynamoDB Local for seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn a_forget_on_a_slow_store_still_lands_through_the_refreshes() {
    let upstream = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("the local stack's DynamoDB endpoint");
    let slow = Slow::start(&upstream, Duration::from_millis(300)).await;
    let sdk = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk).endpoint_url(&slow.url).build(),
    );
    let mut forgetting = mfa_tests::TestApp::new().await;
    forgetting.app = forgetting.app.with_store(mfa_shared::store::Store::new(client, mfa_tests::stack().table.clone()));
    let race = crate::devices::refreshes_race_a_forget("through a slow store", |me| async move {
        forgetting.clock.set(now());
        forgetting.call("mfa-devices-forget", Some(&me.platform_token()), Value::Null).await
    })
    .await;
    assert!(
        race.held_off > 0,
        "the forget landed without holding the record: the store was not slow enough to test it"
    );
}
