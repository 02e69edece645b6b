//! What logins consume, for the cost of a million: each request of a login (status,
//! verify-login, one refresh; and the same with a remembered device) run in process as a
//! warm function runs it, against DynamoDB Local, with a client that asks for the capacity
//! each request consumes (`ReturnConsumedCapacity: TOTAL`). Per request: the wall time,
//! the process's CPU time (the function's own work, apart from waiting on DynamoDB), the
//! round trips and the read and write units. `report.py` prices them.

use std::time::Instant;

use aws_sdk_dynamodb::types::AttributeValue;
use mfa_local::cpu_ms;
use mfa_shared::methods::totp;
use mfa_shared::store::Store;
use mfa_tests::{Person, TestApp, now, stack, totp_code};
use serde_json::{Value, json};

/// Logins measured per flow (`MFA_BENCH_LOGINS`, 40 unless told).
fn logins() -> usize {
    std::env::var("MFA_BENCH_LOGINS").ok().and_then(|n| n.parse().ok()).unwrap_or(40)
}

#[derive(Default)]
struct Samples {
    wall: Vec<f64>,
    cpu: Vec<f64>,
    reads: usize,
    writes: usize,
    units: mfa_local::Units,
    /// The write units AWS bills, worked out item by item from the items' sizes.
    billed_write: f64,
    /// Each item written, by what it is and how: its sizes (bytes) and billed units.
    items: Vec<(String, Vec<usize>, f64)>,
    /// Audit events the requests' writes carried (the audit writer stores them).
    events: usize,
}

/// What a written item is, from its sort key.
fn what(sort_key: &str) -> &'static str {
    if sort_key == mfa_shared::store::LOGIN_STATE_SORT_KEY {
        return "the user's login state";
    }
    match sort_key.split('#').next().unwrap_or_default() {
        "MFA" => "the user's settings",
        "MFA~AUDIT" => "an audit event",
        "CEREMONY" => "a passkey ceremony",
        "CODE" => "a code",
        "TOKEN" => "a link token",
        _ => "another item",
    }
}

struct Meter {
    test: TestApp,
    trips: mfa_local::RoundTrips,
    capacity: mfa_local::Capacity,
    /// A client that counts nothing, to read the sizes of the items a request wrote.
    plain: aws_sdk_dynamodb::Client,
}

impl Meter {
    async fn new() -> Self {
        let (trips, capacity) = (mfa_local::RoundTrips::default(), mfa_local::Capacity::default());
        let sdk = aws_config::load_from_env().await;
        let counted = trips.client(&sdk);
        let client =
            aws_sdk_dynamodb::Client::from_conf(counted.config().to_builder().interceptor(capacity.clone()).build());
        let mut test = TestApp::new().await;
        test.app = test.app.with_store(Store::new(client, stack().table.clone()));
        let plain = mfa_shared::app::dynamodb_client(&sdk);
        Self { test, trips, capacity, plain }
    }

    /// A request not measured (the state the measured ones need).
    async fn prepare(&self, function: &str, token: &str, body: Value) -> Value {
        self.test.clock.set(now());
        let (status, body) = self.test.call(function, Some(token), body).await;
        assert_eq!(status, 200, "{function}: {body}");
        self.trips.take();
        self.capacity.take();
        body
    }

    /// One measured request, added to `into`.
    async fn measure(&self, into: &mut Samples, function: &str, token: &str, body: Value) -> Value {
        self.test.clock.set(now());
        self.trips.take();
        self.capacity.take();
        let (cpu, wall) = (cpu_ms(), Instant::now());
        let (status, body) = self.test.call(function, Some(token), body).await;
        into.wall.push(wall.elapsed().as_secs_f64() * 1000.0);
        into.cpu.push(cpu_ms() - cpu);
        assert_eq!(status, 200, "{function}: {body}");
        let ((reads, writes), (u, written)) = (self.trips.take(), self.capacity.take_written());
        for w in written {
            let size = w.size(&self.plain, &stack().table).await;
            let units = w.units(size);
            into.billed_write += units;
            let label = format!(
                "{} ({}{})",
                what(&w.sort_key()),
                w.action,
                if w.transactional { ", in a transaction" } else { "" }
            );
            into.add(label, size, units);
            // The audit events it carries, which the audit writer puts as items of their
            // own from the stream (a plain put each).
            if w.sort_key() == mfa_shared::store::LOGIN_STATE_SORT_KEY {
                for size in self.pending_event_sizes(&w.key).await {
                    let units = size.div_ceil(1024).max(1) as f64;
                    into.billed_write += units;
                    into.events += 1;
                    into.add("an audit event (put by the audit writer, from the stream)".into(), size, units);
                }
            }
        }
        into.reads += reads;
        into.writes += writes;
        into.units.read += u.read;
        into.units.write += u.write;
        into.units.transact_read += u.transact_read;
        into.units.transact_write += u.transact_write;
        body
    }

    /// The sizes of the audit events the login state at `key` carries now (as the write
    /// that was just measured left it).
    async fn pending_event_sizes(&self, key: &std::collections::HashMap<String, AttributeValue>) -> Vec<usize> {
        let out = self.plain.get_item().table_name(&stack().table).set_key(Some(key.clone())).consistent_read(true);
        let item = out.send().await.expect("the login state reads").item.unwrap_or_default();
        match item.get(mfa_shared::store::PENDING_EVENTS) {
            Some(AttributeValue::L(events)) => events
                .iter()
                .filter_map(|e| if let AttributeValue::M(e) = e { Some(mfa_local::item_size(e)) } else { None })
                .collect(),
            _ => Vec::new(),
        }
    }
}

impl Samples {
    fn add(&mut self, label: String, size: usize, units: f64) {
        match self.items.iter_mut().find(|(l, _, _)| *l == label) {
            Some((_, sizes, total)) => {
                sizes.push(size);
                *total += units;
            }
            None => self.items.push((label, vec![size], units)),
        }
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

/// How many units DynamoDB bills per unit DynamoDB Local reports, kind by kind: one small
/// item read and written plainly and in a transaction, against what AWS documents for an
/// item under 1 KB (1 read unit for a strongly consistent read, 1 write unit; twice that
/// in a transaction). DynamoDB Local 3 reports a transaction's units once, not twice.
async fn calibrate(capacity: &mfa_local::Capacity) -> Value {
    use aws_sdk_dynamodb::types::{AttributeValue, Get, Put, TransactGetItem, TransactWriteItem};
    let client = capacity.client(&aws_config::load_from_env().await);
    let table = stack().table.clone();
    let key = std::collections::HashMap::from([
        ("pk".to_string(), AttributeValue::S("BENCH#capacity".into())),
        ("sk".to_string(), AttributeValue::S("BENCH".into())),
    ]);
    capacity.take();
    client.put_item().table_name(&table).set_item(Some(key.clone())).send().await.unwrap();
    client.get_item().table_name(&table).set_key(Some(key.clone())).consistent_read(true).send().await.unwrap();
    let put = Put::builder().table_name(&table).set_item(Some(key.clone())).build().unwrap();
    client.transact_write_items().transact_items(TransactWriteItem::builder().put(put).build()).send().await.unwrap();
    let get = Get::builder().table_name(&table).set_key(Some(key)).build().unwrap();
    client.transact_get_items().transact_items(TransactGetItem::builder().get(get).build()).send().await.unwrap();
    let u = capacity.take();
    let factor = |aws: f64, local: f64| if local > 0.0 { aws / local } else { f64::NAN };
    let out = json!({
        "local": {"read": u.read, "write": u.write, "transact_read": u.transact_read, "transact_write": u.transact_write},
        "factor": {"read": factor(1.0, u.read), "write": factor(1.0, u.write),
                   "transact_read": factor(2.0, u.transact_read), "transact_write": factor(2.0, u.transact_write)},
    });
    println!(
        "one small item as DynamoDB Local reports it: {}; billed per reported unit: {}",
        out["local"], out["factor"]
    );
    out
}

fn row(flow: &str, request: &str, s: Samples, factor: &Value) -> Value {
    let n = s.wall.len() as f64;
    let f = |k: &str| factor[k].as_f64().filter(|f| f.is_finite()).unwrap_or(1.0);
    let read_units = (s.units.read * f("read") + s.units.transact_read * f("transact_read")) / n;
    let reported_write_units = (s.units.write * f("write") + s.units.transact_write * f("transact_write")) / n;
    let write_units = s.billed_write / n;
    let items: Vec<Value> = s
        .items
        .iter()
        .map(|(what, sizes, units)| {
            json!({"item": what, "bytes_p50": median(sizes.iter().map(|&b| b as f64).collect()),
                   "bytes_max": sizes.iter().max(), "write_units": units / n})
        })
        .collect();
    let r = json!({
        "flow": flow, "request": request, "samples": s.wall.len(),
        "wall_ms_p50": median(s.wall.clone()), "cpu_ms_p50": median(s.cpu.clone()),
        "cpu_ms_mean": s.cpu.iter().sum::<f64>() / n,
        "reads": s.reads as f64 / n, "writes": s.writes as f64 / n,
        "read_units": read_units, "write_units": write_units,
        "write_units_as_dynamodb_local_reports": reported_write_units, "items": items,
        "audit_events": s.events as f64 / n,
        "reported": {"read": s.units.read / n, "write": s.units.write / n,
                     "transact_read": s.units.transact_read / n, "transact_write": s.units.transact_write / n},
    });
    println!(
        "{flow:<22} {request:<26} wall p50 {:>6.2} ms  cpu p50 {:>6.2} ms  trips {}+{}  RRU {:.2}  WRU {:.2}",
        r["wall_ms_p50"].as_f64().unwrap(),
        r["cpu_ms_p50"].as_f64().unwrap(),
        r["reads"],
        r["writes"],
        r["read_units"].as_f64().unwrap(),
        r["write_units"].as_f64().unwrap()
    );
    for item in r["items"].as_array().unwrap() {
        println!(
            "    {:<58} {:>6} B p50 {:>6} B max {:>5.2} WRU",
            item["item"].as_str().unwrap(),
            item["bytes_p50"],
            item["bytes_max"],
            item["write_units"].as_f64().unwrap()
        );
    }
    r
}

pub async fn run() -> Value {
    let m = Meter::new().await;
    let factor = calibrate(&m.capacity).await;
    let (mut status, mut login, mut refresh) = (Samples::default(), Samples::default(), Samples::default());
    let (mut r_status, mut r_login, mut r_refresh) = (Samples::default(), Samples::default(), Samples::default());
    let (mut d_status, mut d_login, mut d_refresh) = (Samples::default(), Samples::default(), Samples::default());
    // Warm up the process and DynamoDB Local (a JVM) first.
    for _ in 0..300 {
        m.prepare("mfa-status", &Person::new().platform_token(), Value::Null).await;
    }
    for _ in 0..logins() {
        // A user with an authenticator app (not measured).
        let me = Person::new();
        let pre = me.platform_token();
        let setup = m.prepare("mfa-setup", &pre, json!({"mfaType": "GOOGLE_AUTH"})).await;
        let raw = totp::decode_secret(setup["data"]["secret"].as_str().unwrap()).unwrap();
        let code = totp_code(&raw, -1).await;
        m.prepare("mfa-verify-setup", &pre, json!({"mfaType": "GOOGLE_AUTH", "code": code})).await;

        // A login: status, the code, one refresh.
        m.measure(&mut status, "mfa-status", &pre, Value::Null).await;
        let code = totp_code(&raw, 0).await;
        let body = json!({"mfaType": "GOOGLE_AUTH", "code": code});
        let reply = m.measure(&mut login, "mfa-verify-login", &pre, body).await;
        let token = reply["refreshToken"].as_str().expect("a refresh token").to_string();
        m.measure(&mut refresh, "mfa-token-refresh", &pre, json!({"refreshToken": token})).await;

        // The next login, with the next code, remembering the device.
        m.measure(&mut r_status, "mfa-status", &pre, Value::Null).await;
        let code = totp_code(&raw, 1).await;
        let body = json!({"mfaType": "GOOGLE_AUTH", "code": code, "rememberDevice": true});
        let reply = m.measure(&mut r_login, "mfa-verify-login", &pre, body).await;
        let device = reply["deviceToken"].as_str().expect("a device token").to_string();
        let token = reply["refreshToken"].as_str().expect("a refresh token").to_string();
        m.measure(&mut r_refresh, "mfa-token-refresh", &pre, json!({"refreshToken": token})).await;

        // The next login, on the device it remembered.
        m.measure(&mut d_status, "mfa-status", &pre, Value::Null).await;
        let body = json!({"mfaType": "DEVICE", "deviceToken": device});
        let reply = m.measure(&mut d_login, "mfa-verify-login", &pre, body).await;
        let token = reply["refreshToken"].as_str().expect("a refresh token").to_string();
        m.measure(&mut d_refresh, "mfa-token-refresh", &pre, json!({"refreshToken": token})).await;
    }
    let flow = "authenticator code";
    let remembering = "authenticator code (remembering the device)";
    let device = "remembered device";
    let f = &factor;
    json!({"logins": logins(), "calibration": factor, "rows": [
        row(flow, "status", status, f),
        row(flow, "verify-login GOOGLE_AUTH", login, f),
        row(flow, "refresh", refresh, f),
        row(remembering, "status", r_status, f),
        row(remembering, "verify-login GOOGLE_AUTH", r_login, f),
        row(remembering, "refresh", r_refresh, f),
        row(device, "status", d_status, f),
        row(device, "verify-login DEVICE", d_login, f),
        row(device, "refresh", d_refresh, f),
    ]})
}
