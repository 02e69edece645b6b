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

async fn timed<F: std::future::Future<Output = ()>>(n: usize, mut op: impl FnMut(usize) -> F) -> Vec<f64> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let started = Instant::now();
        op(i).await;
        out.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    out
}

pub async fn latency() -> Value {
    let sdk = aws_config::load_from_env().await;
    let client = mfa_shared::app::dynamodb_client(&sdk);
    let table = stack().table.clone();
    let key = |pk: &str| {
        std::collections::HashMap::from([
            ("pk".to_string(), AttributeValue::S(pk.to_string())),
            ("sk".to_string(), AttributeValue::S("BENCH".into())),
        ])
    };
    let n = 300;
    let test = TestApp::new().await;
    let tick = |test: &TestApp| test.clock.set(now());
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
    let (mut get, mut put, mut transact) = (Vec::new(), Vec::new(), Vec::new());
    let (mut status, mut methods, mut refusal) = (Vec::new(), Vec::new(), Vec::new());
    let ms = |started: Instant| started.elapsed().as_secs_f64() * 1000.0;
    for i in 0..n {
        let t = Instant::now();
        bare_get().await;
        get.push(ms(t));
        let t = Instant::now();
        bare_put(i).await;
        put.push(ms(t));
        let t = Instant::now();
        bare_transact(i).await;
        transact.push(ms(t));
        let t = Instant::now();
        assert_eq!(test.call("mfa-status", Some(&token), Value::Null).await.0, 200);
        status.push(ms(t));
        let t = Instant::now();
        assert_eq!(test.call("mfa-methods", Some(&token), Value::Null).await.0, 200);
        methods.push(ms(t));
        let t = Instant::now();
        assert_eq!(test.call("mfa-status", Some("not-a-jwt"), Value::Null).await.0, 401);
        refusal.push(ms(t));
    }
    let mut rows: Vec<(String, Vec<f64>, &str)> = vec![
        ("status".into(), status, "read"),
        ("methods".into(), methods, "read"),
        ("refusal (bad token)".into(), refusal, "none"),
    ];
    let setup = json!({"mfaType": "GOOGLE_AUTH"});
    rows.push((
        "setup GOOGLE_AUTH".into(),
        timed(100, |_| async { assert_eq!(test.call("mfa-setup", Some(&token), setup.clone()).await.0, 200) }).await,
        "read+put",
    ));
    // Logins: each on a user enrolled in process beforehand (a time step is spent once).
    let mut enrolled = Vec::new();
    for _ in 0..100 {
        let p = Person::new();
        let t = p.platform_token();
        tick(&test);
        let (_, body) = test.call("mfa-setup", Some(&t), setup.clone()).await;
        let raw = totp::decode_secret(body["data"]["secret"].as_str().unwrap()).unwrap();
        let (status, _) = test
            .call(
                "mfa-verify-setup",
                Some(&t),
                json!({"mfaType": "GOOGLE_AUTH", "code": totp::code_at(&raw, now() - 30)}),
            )
            .await;
        assert_eq!(status, 200);
        enrolled.push((t, raw));
    }
    let mut login = Vec::new();
    let mut refresh = String::new();
    for (t, raw) in &enrolled {
        tick(&test);
        let body = json!({"mfaType": "GOOGLE_AUTH", "code": totp::code_at(raw, now())});
        let started = Instant::now();
        let (status, body) = test.call("mfa-verify-login", Some(t), body).await;
        login.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(status, 200, "{body}");
        refresh = body["refreshToken"].as_str().unwrap().to_string();
    }
    rows.push(("verify-login GOOGLE_AUTH".into(), login, "read+transact"));
    let last = enrolled.last().unwrap().0.clone();
    let mut current = refresh;
    let mut rotations = Vec::new();
    for _ in 0..200 {
        tick(&test);
        let started = Instant::now();
        let (status, body) = test.call("mfa-token-refresh", Some(&last), json!({"refreshToken": current})).await;
        rotations.push(started.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(status, 200, "{body}");
        current = body["refreshToken"].as_str().unwrap().to_string();
    }
    rows.push(("refresh".into(), rotations, "read+transact"));

    let (g, p, t) = (percentiles(get.clone()).0, percentiles(put.clone()).0, percentiles(transact.clone()).0);
    println!("{:<28} {:>8} {:>8} {:>8} {:>12}", "request", "p50 ms", "p95 ms", "p99 ms", "overhead p50");
    let mut out = Vec::new();
    for (name, ms, bare) in
        [("GetItem (bare)", &get, ""), ("PutItem (bare)", &put, ""), ("TransactWriteItems (bare)", &transact, "")]
    {
        let (p50, p95, p99) = percentiles(ms.clone());
        println!("{name:<28} {p50:>8.2} {p95:>8.2} {p99:>8.2} {:>12}", bare);
        out.push(json!({"request": name, "p50_ms": p50, "p95_ms": p95, "p99_ms": p99}));
    }
    for (name, ms, trips) in rows {
        let (p50, p95, p99) = percentiles(ms);
        let floor = match trips {
            "read" => g,
            "read+put" => g + p,
            "read+transact" => g + t,
            _ => 0.0,
        };
        println!("{name:<28} {p50:>8.2} {p95:>8.2} {p99:>8.2} {:>12.2}", p50 - floor);
        out.push(json!({"request": name, "p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "round_trips": trips, "overhead_p50_ms": p50 - floor}));
    }
    json!(out)
}
