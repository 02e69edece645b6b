//! Round trips and warm latency per route, in process against DynamoDB Local, next to the
//! bare DynamoDB calls they are made of, measured in the same run.

use std::time::Instant;

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use mfa_shared::methods::totp;
use mfa_tests::budget::{Counting, refusals, successes};
use mfa_tests::{Person, TestApp, now, stack};
use serde_json::{Value, json};

pub async fn round_trips() -> Value {
    let c = Counting::new().await;
    let mut rows = successes(&c).await;
    rows.extend(refusals(&c).await);
    println!("{:<38} {:<26} {:>6} {:>6} {:>6}", "function", "request", "status", "reads", "writes");
    let mut out = Vec::new();
    for r in &rows {
        if r.case == "bad token" || r.case == "bad input" {
            continue;
        }
        println!("{:<38} {:<26} {:>6} {:>6} {:>6}", r.function, r.case, r.status, r.reads, r.writes);
        out.push(json!({"function": r.function, "request": r.case, "status": r.status, "reads": r.reads, "writes": r.writes}));
    }
    let refused: Vec<_> = rows.iter().filter(|r| r.case == "bad token" || r.case == "bad input").collect();
    let zero = refused.iter().filter(|r| r.reads == 0 && r.writes == 0).count();
    println!("refusals of a bad token or bad input: {} measured, {} with no round trip", refused.len(), zero);
    json!({"successes": out, "refusals": refused.len(), "refusals_without_round_trips": zero})
}

fn percentiles(mut ms: Vec<f64>) -> (f64, f64, f64) {
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let at = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
    (at(0.50), at(0.95), at(0.99))
}

/// One kind of request's samples: its time in process, of that its own work (the time
/// less what its round trips spent sent and answered), and the CPU time the process spent
/// on it (its own work without the time the core served another process).
#[derive(Default)]
struct Samples {
    total: Vec<f64>,
    own: Vec<f64>,
    cpu: Vec<f64>,
}

impl Samples {
    fn push(&mut self, total_ms: f64, away_ms: f64, cpu_ms: f64) {
        self.total.push(total_ms);
        self.own.push(total_ms - away_ms);
        self.cpu.push(cpu_ms);
    }
}

/// Runs `function`'s request on `c`'s app and adds its sample; returns the status and body.
async fn sample(c: &Counting, into: &mut Samples, function: &str, token: Option<&str>, body: Value) -> (u16, Value) {
    let (t, status, body) = c.timed(function, None, token, body).await;
    into.push(t.ms, t.away_ms, t.cpu_ms);
    (status, body)
}

/// Runs a bare DynamoDB call `op` (on a client timed into `c`) and adds its sample.
async fn bare<F: std::future::Future<Output = ()>>(c: &Counting, into: &mut Samples, op: F) {
    let ((), t) = c.time(op).await;
    into.push(t.ms, t.away_ms, t.cpu_ms);
}

/// Waits (up to a minute) until the audit writer has stored what the table's stream held
/// when asked: the events of a loop's preparation are not stored while it is measured, by
/// the stack's processes on the same two cores.
async fn quiet() {
    if !mfa_tests::audit_settled_within(std::time::Duration::from_secs(60)).await {
        println!("the audit writer did not catch up within a minute; measuring anyway");
    }
}

/// Users with an authenticator, enrolled in process: each login spends one time step.
async fn enrolled(test: &TestApp, n: usize) -> Vec<(String, Vec<u8>)> {
    let setup = json!({"mfaType": "GOOGLE_AUTH"});
    let mut out = Vec::new();
    for _ in 0..n {
        let p = Person::new();
        let t = p.platform_token();
        test.clock.set(now());
        let (_, body) = test.call("mfa-setup", Some(&t), setup.clone()).await;
        let raw = totp::decode_secret(body["data"]["secret"].as_str().unwrap()).unwrap();
        let code = json!({"mfaType": "GOOGLE_AUTH", "code": totp::code_at(&raw, now() - 30)});
        assert_eq!(test.call("mfa-verify-setup", Some(&t), code).await.0, 200);
        out.push((t, raw));
    }
    out
}

/// Users with a registered soft passkey, each with a login ceremony opened and signed, in
/// process: `(platform token, assertion)`.
async fn with_passkey_ceremonies(test: &TestApp, n: usize) -> Vec<(String, Value)> {
    use webauthn_authenticator_rs::WebauthnAuthenticator;
    let mut out = Vec::new();
    for _ in 0..n {
        let p = Person::new();
        let t = p.platform_token();
        test.clock.set(now());
        let (status, body) = test.call("mfa-setup", Some(&t), json!({"mfaType": "PASSKEY"})).await;
        assert_eq!(status, 200, "{body}");
        let data = &body["data"];
        let mut key = webauthn_authenticator_rs::softpasskey::SoftPasskey::new(true);
        let options = serde_json::from_value(json!({"publicKey": data["publicKey"]})).unwrap();
        let credential = key.do_registration(mfa_tests::rp_origin(), options).unwrap();
        let complete = json!({"credential": credential, "challenge": data["challenge"]});
        let (status, body) = test.call("mfa-passkey-complete-registration", Some(&t), complete).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = test.call("mfa-passkey-auth-options", Some(&t), Value::Null).await;
        assert_eq!(status, 200, "{body}");
        let options = serde_json::from_value(json!({"publicKey": body["data"]["publicKey"]})).unwrap();
        let assertion = key.do_authentication(mfa_tests::rp_origin(), options).unwrap();
        out.push((t, serde_json::to_value(assertion).unwrap()));
    }
    out
}

pub async fn latency() -> Value {
    let sdk = aws_config::load_from_env().await;
    let table = stack().table.clone();
    let key = |pk: &str| {
        std::collections::HashMap::from([
            ("pk".to_string(), AttributeValue::S(pk.to_string())),
            ("sk".to_string(), AttributeValue::S("BENCH".into())),
        ])
    };
    let n = 300;
    let c = Counting::new().await;
    // The bare calls go through a client built as the service builds it, timed as the
    // routes' are: their own work is the SDK's alone (building, signing, reading).
    let client = c.trips.client(&sdk);
    let test = &c.test;
    let user = Person::new();
    let token = user.platform_token();
    let bare_get = || {
        let (c, t, k) = (client.clone(), table.clone(), key("BENCH#get"));
        async move {
            c.get_item().table_name(t).set_key(Some(k)).consistent_read(true).send().await.unwrap();
        }
    };
    let bare_put = |i: usize| {
        let (c, t, mut item) = (client.clone(), table.clone(), key("BENCH#put"));
        item.insert("n".into(), AttributeValue::N(i.to_string()));
        async move {
            c.put_item().table_name(t).set_item(Some(item)).send().await.unwrap();
        }
    };
    let bare_transact = |i: usize| {
        let (c, t, mut item) = (client.clone(), table.clone(), key("BENCH#transact"));
        item.insert("n".into(), AttributeValue::N(i.to_string()));
        async move {
            let put = Put::builder().table_name(t).set_item(Some(item)).build().unwrap();
            c.transact_write_items()
                .transact_items(TransactWriteItem::builder().put(put).build())
                .send()
                .await
                .unwrap();
        }
    };
    // DynamoDB Local (a JVM) warms up first; then every kind of request takes its turn, round
    // robin, so the bare calls and the routes meet the same machine.
    for i in 0..n {
        bare_get().await;
        bare_put(i).await;
        bare_transact(i).await;
        test.call("mfa-status", Some(&token), Value::Null).await;
    }
    let (mut get, mut put, mut transact) = (Samples::default(), Samples::default(), Samples::default());
    let (mut status, mut methods, mut refusal) = (Samples::default(), Samples::default(), Samples::default());
    for i in 0..n {
        bare(&c, &mut get, bare_get()).await;
        bare(&c, &mut put, bare_put(i)).await;
        bare(&c, &mut transact, bare_transact(i)).await;
        assert_eq!(sample(&c, &mut status, "mfa-status", Some(&token), Value::Null).await.0, 200);
        assert_eq!(sample(&c, &mut methods, "mfa-methods", Some(&token), Value::Null).await.0, 200);
        assert_eq!(sample(&c, &mut refusal, "mfa-status", Some("not-a-jwt"), Value::Null).await.0, 401);
    }
    let mut rows: Vec<(String, Samples, &str)> = vec![
        ("status".into(), status, "read"),
        ("methods".into(), methods, "read"),
        ("refusal (bad token)".into(), refusal, "none"),
    ];
    let setup = json!({"mfaType": "GOOGLE_AUTH"});
    let mut setups = Samples::default();
    for _ in 0..100 {
        assert_eq!(sample(&c, &mut setups, "mfa-setup", Some(&token), setup.clone()).await.0, 200);
    }
    rows.push(("setup GOOGLE_AUTH".into(), setups, "read+transact"));
    // Logins: each on a user enrolled in process beforehand (a time step is spent once).
    let users = enrolled(test, 100).await;
    quiet().await;
    let mut login = Samples::default();
    let mut refresh = String::new();
    for (t, raw) in &users {
        test.clock.set(now());
        let body = json!({"mfaType": "GOOGLE_AUTH", "code": totp::code_at(raw, now())});
        let (status, body) = sample(&c, &mut login, "mfa-verify-login", Some(t), body).await;
        assert_eq!(status, 200, "{body}");
        refresh = body["refreshToken"].as_str().unwrap().to_string();
    }
    rows.push(("verify-login GOOGLE_AUTH".into(), login, "read+put"));
    quiet().await;
    let last = users.last().unwrap().0.clone();
    let mut current = refresh;
    let mut rotations = Samples::default();
    for _ in 0..200 {
        test.clock.set(now());
        let body = json!({"refreshToken": current});
        let (status, body) = sample(&c, &mut rotations, "mfa-token-refresh", Some(&last), body).await;
        assert_eq!(status, 200, "{body}");
        current = body["refreshToken"].as_str().unwrap().to_string();
    }
    rows.push(("refresh".into(), rotations, "read+update"));

    println!(
        "{:<28} {:>8} {:>8} {:>8} {:>10} {:>10} {:>10}",
        "request", "p50 ms", "p95 ms", "p99 ms", "own p50", "own p95", "CPU p50"
    );
    let mut out = Vec::new();
    for (name, samples) in [("GetItem (bare)", get), ("PutItem (bare)", put), ("TransactWriteItems (bare)", transact)] {
        let (p50, p95, p99) = percentiles(samples.total);
        let (own50, own95, _) = percentiles(samples.own);
        let (cpu50, _, _) = percentiles(samples.cpu);
        println!("{name:<28} {p50:>8.2} {p95:>8.2} {p99:>8.2} {own50:>10.2} {own95:>10.2} {cpu50:>10.2}");
        out.push(json!({"request": name, "p50_ms": p50, "p95_ms": p95, "p99_ms": p99,
            "sdk_own_p50_ms": own50, "sdk_own_p95_ms": own95, "cpu_p50_ms": cpu50}));
    }
    for (name, samples, trips) in rows {
        let (p50, p95, p99) = percentiles(samples.total);
        let (own50, own95, _) = percentiles(samples.own);
        let (cpu50, cpu95, _) = percentiles(samples.cpu);
        println!("{name:<28} {p50:>8.2} {p95:>8.2} {p99:>8.2} {own50:>10.2} {own95:>10.2} {cpu50:>10.2}");
        out.push(json!({"request": name, "p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "round_trips": trips,
            "overhead_p50_ms": own50, "overhead_p95_ms": own95, "cpu_p50_ms": cpu50, "cpu_p95_ms": cpu95}));
    }
    json!(out)
}

/// The latency table's passkey login, measured after the per-route table (its preparation,
/// a hundred registrations and ceremonies, stays out of the other loops): each user
/// registers a soft passkey and opens a login ceremony in process beforehand; the logins
/// then run back to back, as a warm function serves them.
pub async fn passkey_latency() -> Value {
    let c = Counting::new().await;
    let assertions = with_passkey_ceremonies(&c.test, 100).await;
    quiet().await;
    let mut passkey = Samples::default();
    for (t, assertion) in assertions {
        c.test.clock.set(now());
        let body = json!({"mfaType": "PASSKEY", "credential": assertion});
        let (status, body) = sample(&c, &mut passkey, "mfa-verify-login", Some(&t), body).await;
        assert_eq!(status, 200, "{body}");
    }
    let name = "verify-login PASSKEY";
    println!(
        "{:<28} {:>8} {:>8} {:>8} {:>10} {:>10} {:>10}",
        "request", "p50 ms", "p95 ms", "p99 ms", "own p50", "own p95", "CPU p50"
    );
    let (p50, p95, p99) = percentiles(passkey.total);
    let (own50, own95, _) = percentiles(passkey.own);
    let (cpu50, cpu95, _) = percentiles(passkey.cpu);
    println!("{name:<28} {p50:>8.2} {p95:>8.2} {p99:>8.2} {own50:>10.2} {own95:>10.2} {cpu50:>10.2}");
    json!({"request": name, "p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "round_trips": "read+transact",
        "overhead_p50_ms": own50, "overhead_p95_ms": own95, "cpu_p50_ms": cpu50, "cpu_p95_ms": cpu95})
}

/// Rounds of every route's requests (the budget test's, each prepared over HTTP).
pub fn rounds() -> usize {
    std::env::var("MFA_BENCH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(15)
}

/// Each route's requests (the round-trip budget's successful ones), run [`rounds`] times:
/// every request's own work at p50, and per route the slowest of its requests.
pub async fn per_route() -> Value {
    let c = Counting::new().await;
    quiet().await;
    let mut samples: Vec<((&str, &str), Samples)> = Vec::new();
    for _ in 0..rounds() {
        for r in successes(&c).await {
            let key = (r.function, r.case);
            let at = match samples.iter().position(|(k, _)| *k == key) {
                Some(at) => at,
                None => {
                    samples.push((key, Samples::default()));
                    samples.len() - 1
                }
            };
            samples[at].1.push(r.ms, r.away_ms, r.cpu_ms);
        }
    }
    // Per route, the request with the most CPU at p50.
    let mut slowest: Vec<(&str, &str, [f64; 5])> = Vec::new();
    for ((function, case), s) in samples {
        let (own50, own95, _) = percentiles(s.own.clone());
        let (cpu50, cpu95, _) = percentiles(s.cpu.clone());
        let (total50, _, _) = percentiles(s.total);
        let figures = [total50, own50, own95, cpu50, cpu95];
        match slowest.iter_mut().find(|r| r.0 == function) {
            Some(row) if row.2[3] >= cpu50 => {}
            Some(row) => *row = (function, case, figures),
            None => slowest.push((function, case, figures)),
        }
    }
    println!(
        "{:<38} {:<36} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "function", "slowest request", "p50 ms", "own p50", "own p95", "CPU p50", "CPU p95"
    );
    let mut out = Vec::new();
    for (function, case, [total50, own50, own95, cpu50, cpu95]) in slowest {
        println!("{function:<38} {case:<36} {total50:>8.2} {own50:>8.2} {own95:>8.2} {cpu50:>8.2} {cpu95:>8.2}");
        out.push(json!({"function": function, "request": case, "p50_ms": total50, "own_p50_ms": own50,
            "own_p95_ms": own95, "cpu_p50_ms": cpu50, "cpu_p95_ms": cpu95}));
    }
    json!(out)
}

/// One request in a loop, for a profiler to record (`MFA_BENCH_PROFILE=setup`,
/// `verify-login` or `refresh`): `n` of them after their preparation, which is printed
/// as done so a recording can start there.
pub async fn profile(which: &str, n: usize) {
    let c = Counting::new().await;
    let test = &c.test;
    let token = Person::new().platform_token();
    // A login spends its user's time step: the loop's logins each have a user of their own,
    // and one more user logs in first for the refresh token.
    let users = if which == "verify-login" { enrolled(test, n + 1).await } else { enrolled(test, 1).await };
    let (t, raw) = users.last().unwrap().clone();
    test.clock.set(now());
    let body = json!({"mfaType": "GOOGLE_AUTH", "code": totp::code_at(&raw, now())});
    let (_, login) = test.call("mfa-verify-login", Some(&t), body).await;
    let mut refresh = login["refreshToken"].as_str().unwrap().to_string();
    println!("prepared; {n} requests of {which}");
    // Under `scripts/profile`, perf starts recording only now (its control FIFO).
    if let Ok(fifo) = std::env::var("MFA_BENCH_PERF_CONTROL") {
        std::fs::write(&fifo, "enable\n").expect("perf's control FIFO");
    }
    let started = Instant::now();
    let mut own = Samples::default();
    for i in 0..n {
        test.clock.set(now());
        let user = users.get(i).unwrap_or(&users[0]);
        match which {
            "setup" => {
                let setup = json!({"mfaType": "GOOGLE_AUTH"});
                assert_eq!(sample(&c, &mut own, "mfa-setup", Some(&token), setup).await.0, 200);
            }
            "verify-login" => {
                let (t, raw) = user;
                let body = json!({"mfaType": "GOOGLE_AUTH", "code": totp::code_at(raw, now())});
                assert_eq!(sample(&c, &mut own, "mfa-verify-login", Some(t), body).await.0, 200);
            }
            "refresh" => {
                let body = json!({"refreshToken": refresh});
                let (status, body) = sample(&c, &mut own, "mfa-token-refresh", Some(&t), body).await;
                assert_eq!(status, 200, "{body}");
                refresh = body["refreshToken"].as_str().unwrap().to_string();
            }
            other => panic!("MFA_BENCH_PROFILE={other}: setup, verify-login or refresh"),
        }
    }
    let (own50, own95, _) = percentiles(own.own);
    let (cpu50, _, _) = percentiles(own.cpu);
    let (p50, _, _) = percentiles(own.total);
    println!(
        "{n} in {:.1} s: p50 {p50:.2} ms, own p50 {own50:.2} ms, own p95 {own95:.2} ms, CPU p50 {cpu50:.2} ms",
        started.elapsed().as_secs_f64()
    );
}
