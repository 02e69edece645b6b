//! `mfa-local load`: many users at once against a local API (loopback only), each doing
//! setup → verify-setup → verify-login → status → refresh, again and again with new
//! users, for a fixed time. Then every user's final state is checked against what the
//! successful responses said (an enabled authenticator; a refresh token that still
//! rotates). Prints requests per second and p50/p95/p99 per route; fails on any response
//! of 500 or more and on any lost update.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mfa_shared::methods::totp;
use serde_json::{Value, json};

pub struct Options {
    pub api: String,
    pub users: usize,
    pub seconds: u64,
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Options { api: "http://127.0.0.1:9000".into(), users: 16, seconds: 15 };
        for pair in args.chunks(2) {
            let [flag, value] = pair else { return Err(format!("{} needs a value", pair[0])) };
            match flag.as_str() {
                "--api" => options.api = value.clone(),
                "--users" => options.users = value.parse().map_err(|_| "--users takes a number")?,
                "--seconds" => options.seconds = value.parse().map_err(|_| "--seconds takes a number")?,
                other => return Err(format!("unknown option {other}")),
            }
        }
        let url = url::Url::parse(&options.api).map_err(|_| "--api is not a URL")?;
        if !matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")) {
            return Err("--api must be on loopback: the load command never leaves this machine".into());
        }
        if options.users == 0 || options.users > 256 || options.seconds == 0 || options.seconds > 3600 {
            return Err("--users takes 1 to 256 and --seconds 1 to 3600".into());
        }
        Ok(options)
    }
}

/// What the run saw, shared by the workers.
#[derive(Default)]
struct Tally {
    latencies: BTreeMap<&'static str, Vec<Duration>>,
    server_errors: usize,
    unexpected: BTreeMap<String, usize>,
    /// Users whose verify-setup was answered 200, with their authenticator secret.
    enrolled: Vec<(String, String)>,
    /// Users whose refresh was answered 200, with the refresh token it returned.
    refreshed: Vec<(String, String)>,
}

struct Client {
    http: reqwest::Client,
    api: String,
    secret: String,
    tally: Arc<Mutex<Tally>>,
}

impl Client {
    fn token(&self, user: &str) -> String {
        let mut claims = json!({"sub": user, "email": format!("{user}@load.example")});
        for (var, claim) in [("MFA_PLATFORM_JWT_ISSUER", "iss"), ("MFA_PLATFORM_JWT_AUDIENCE", "aud")] {
            if let Ok(v) = std::env::var(var) {
                claims[claim] = json!(v);
            }
        }
        crate::platform_token(&self.secret, &claims, 3600)
    }

    /// One request; its latency and outcome are tallied under `route`.
    async fn call(
        &self,
        route: &'static str,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Option<Value> {
        let mut req = self.http.request(method.parse().unwrap(), format!("{}{path}", self.api)).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let started = Instant::now();
        let outcome = req.send().await;
        self.tally.lock().unwrap().latencies.entry(route).or_default().push(started.elapsed());
        let response = match outcome {
            Ok(r) => r,
            Err(e) => {
                *self.tally.lock().unwrap().unexpected.entry(format!("{route}: no answer ({e})")).or_default() += 1;
                return None;
            }
        };
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status == 200 {
            return Some(body);
        }
        let mut tally = self.tally.lock().unwrap();
        if status >= 500 {
            tally.server_errors += 1;
        }
        *tally.unexpected.entry(format!("{route}: {status} {}", body["code"].as_str().unwrap_or(""))).or_default() += 1;
        None
    }

    /// One user's whole flow.
    async fn flow(&self, user: &str) {
        let token = self.token(user);
        let Some(setup) =
            self.call("setup", "POST", "/mfa/setup", &token, Some(json!({"mfaType": "GOOGLE_AUTH"}))).await
        else {
            return;
        };
        let secret = setup["data"]["secret"].as_str().unwrap_or_default().to_string();
        let Some(raw) = totp::decode_secret(&secret) else { return };
        // The previous step's code completes the setup and the current one logs in (each
        // step is accepted once).
        let verify = json!({"mfaType": "GOOGLE_AUTH", "code": crate::totp_code(&raw, -1).await});
        if self.call("verify-setup", "POST", "/mfa/verify-setup", &token, Some(verify)).await.is_none() {
            return;
        }
        self.tally.lock().unwrap().enrolled.push((user.to_string(), secret));
        let login = json!({"mfaType": "GOOGLE_AUTH", "code": crate::totp_code(&raw, 0).await});
        let Some(session) = self.call("verify-login", "POST", "/mfa/verify-login", &token, Some(login)).await else {
            return;
        };
        self.call("status", "GET", "/mfa/status", &token, None).await;
        let refresh = json!({"refreshToken": session["refreshToken"]});
        if let Some(next) = self.call("refresh", "POST", "/mfa/token/refresh", &token, Some(refresh)).await {
            let rotated = next["refreshToken"].as_str().unwrap_or_default().to_string();
            self.tally.lock().unwrap().refreshed.push((user.to_string(), rotated));
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

pub async fn run(options: Options) -> Result<(), String> {
    let secret = std::env::var("MFA_PLATFORM_JWT_KEY").map_err(|_| "MFA_PLATFORM_JWT_KEY is not set")?;
    let tally = Arc::new(Mutex::new(Tally::default()));
    let client =
        Arc::new(Client { http: reqwest::Client::new(), api: options.api.clone(), secret, tally: tally.clone() });
    let started = Instant::now();
    let deadline = started + Duration::from_secs(options.seconds);
    let run_id = crate::random_label();
    let workers: Vec<_> = (0..options.users)
        .map(|worker| {
            let (client, run_id) = (client.clone(), run_id.clone());
            tokio::spawn(async move {
                let mut round = 0;
                while Instant::now() < deadline {
                    client.flow(&format!("load-{run_id}-{worker}-{round}")).await;
                    round += 1;
                }
            })
        })
        .collect();
    for w in workers {
        w.await.map_err(|e| format!("a worker failed: {e}"))?;
    }
    let elapsed = started.elapsed().as_secs_f64();

    // Every acknowledged write must still be there.
    let (enrolled, refreshed) = {
        let t = tally.lock().unwrap();
        (t.enrolled.clone(), t.refreshed.clone())
    };
    let mut lost = Vec::new();
    for (user, _) in &enrolled {
        let status = client.call("check: status", "GET", "/mfa/status", &client.token(user), None).await;
        if status.is_none_or(|s| s["data"]["enabledMethods"] != json!(["GOOGLE_AUTH"])) {
            lost.push(format!("{user}: its enabled authenticator"));
        }
    }
    for (user, token) in &refreshed {
        let body = json!({"refreshToken": token});
        if client.call("check: refresh", "POST", "/mfa/token/refresh", &client.token(user), Some(body)).await.is_none()
        {
            lost.push(format!("{user}: its rotated refresh token"));
        }
    }

    let t = tally.lock().unwrap();
    let requests: usize = t.latencies.iter().filter(|(r, _)| !r.starts_with("check")).map(|(_, l)| l.len()).sum();
    println!(
        "load: {} users for {:.1} s: {requests} requests, {:.1} requests/s, {} flows enrolled, {} refreshed",
        options.users,
        elapsed,
        requests as f64 / elapsed,
        enrolled.len(),
        refreshed.len()
    );
    println!("{:<16} {:>8} {:>10} {:>10} {:>10}", "route", "requests", "p50 ms", "p95 ms", "p99 ms");
    for (route, latencies) in &t.latencies {
        let mut sorted = latencies.clone();
        sorted.sort();
        println!(
            "{route:<16} {:>8} {:>10.1} {:>10.1} {:>10.1}",
            sorted.len(),
            percentile(&sorted, 0.50),
            percentile(&sorted, 0.95),
            percentile(&sorted, 0.99)
        );
    }
    println!("load: responses >= 500: {}; lost updates: {}", t.server_errors, lost.len());
    for (what, n) in &t.unexpected {
        println!("load: unexpected {what} x{n}");
    }
    for l in &lost {
        println!("load: lost {l}");
    }
    if t.server_errors > 0 || !lost.is_empty() {
        return Err(format!("{} response(s) >= 500 and {} lost update(s)", t.server_errors, lost.len()));
    }
    if enrolled.is_empty() {
        return Err("no flow completed: is the API up?".into());
    }
    Ok(())
}
