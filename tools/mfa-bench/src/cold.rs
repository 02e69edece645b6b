//! Cold starts, memory and sizes of the release binaries.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use mfa_shared::authorizer;
use mfa_shared::routes::{FALLBACK_FUNCTION, ROUTES};
use serde_json::{Value, json};

use crate::runtime::RuntimeApi;

const BASELINE: &str = "hello-lambda";
/// The same hello world built with fat LTO and one codegen unit (`scripts/bench` builds it
/// into `MFA_BENCH_LTO_BASELINE`): the second baseline, of the smallest and fastest build.
const LTO_BASELINE: &str = "hello-lambda-lto";
/// Spawns of each binary, round robin (`MFA_BENCH_RUNS`): medians of 60 hold still on a
/// noisy machine where 20 wander by a tenth.
fn runs() -> usize {
    std::env::var("MFA_BENCH_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(60)
}

fn root() -> PathBuf {
    mfa_tests::repo_root()
}

/// Where the measured binaries are: `MFA_BENCH_BIN_DIR`, or beside this benchmark, which
/// `scripts/bench` builds with them (`scripts/package --compare` names each build option's
/// own).
fn binary(name: &str) -> PathBuf {
    if name == LTO_BASELINE {
        return PathBuf::from(std::env::var_os("MFA_BENCH_LTO_BASELINE").expect("MFA_BENCH_LTO_BASELINE"));
    }
    match std::env::var_os("MFA_BENCH_BIN_DIR") {
        Some(dir) => PathBuf::from(dir).join(name),
        None => std::env::current_exe().expect("the benchmark's own path").with_file_name(name),
    }
}

/// The function's event with no bearer token: answered without any dependency (401,
/// or the route's own answer where it takes none), so a cold start is measured, not
/// DynamoDB.
fn event_without_dependencies(function: &str) -> String {
    if function == authorizer::FUNCTION {
        // API Gateway's request for a route, with no Authorization header: denied on the
        // spot.
        return json!({"version": "2.0", "type": "REQUEST", "routeKey": "GET /example/protected",
            "headers": {"user-agent": "bench"}})
        .to_string();
    }
    let file = if function == BASELINE || function == LTO_BASELINE { "mfa-status" } else { function };
    let text = std::fs::read_to_string(root().join("events").join(format!("{file}.json"))).expect("the event file");
    let mut event: Value = serde_json::from_str(&text).unwrap();
    event["headers"].as_object_mut().unwrap().remove("authorization");
    event.to_string()
}

/// The baseline, every function and the authorizer (`MFA_BENCH_ONLY=a,b` measures just those, with the baseline).
fn functions() -> Vec<&'static str> {
    let only: Option<Vec<String>> =
        std::env::var("MFA_BENCH_ONLY").ok().map(|o| o.split(',').map(String::from).collect());
    let mut all = vec![BASELINE];
    if std::env::var_os("MFA_BENCH_LTO_BASELINE").is_some() {
        all.push(LTO_BASELINE);
    }
    all.extend(ROUTES.iter().map(|r| r.function));
    all.push(FALLBACK_FUNCTION);
    all.push(authorizer::FUNCTION);
    all.retain(|f| *f == BASELINE || *f == LTO_BASELINE || only.as_ref().is_none_or(|o| o.iter().any(|x| x == f)));
    all
}

/// Spawns `name` against a fresh local Runtime API with one invocation queued; returns
/// the time from spawn to its answer, and the process (still running).
async fn spawn_and_answer(name: &str, event: &str) -> (Duration, tokio::process::Child, RuntimeApi) {
    let api = RuntimeApi::start().await;
    api.invoke(event.to_string()).await;
    let started = Instant::now();
    let child = tokio::process::Command::new(binary(name))
        .env("AWS_LAMBDA_RUNTIME_API", &api.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {name}: {e} (scripts/bench builds the release binaries)"));
    let (at, _) = api.answer(Duration::from_secs(20)).await.unwrap_or_else(|| panic!("{name} answered no invocation"));
    (at - started, child, api)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

pub async fn run() -> Value {
    let names = functions();
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    // Round robin, so a drift of the machine's speed touches every binary alike.
    let runs = runs();
    for _ in 0..runs {
        for (i, name) in names.iter().enumerate() {
            let (elapsed, mut child, _api) = spawn_and_answer(name, &event_without_dependencies(name)).await;
            times[i].push(elapsed.as_secs_f64() * 1000.0);
            let _ = child.kill().await;
        }
    }
    let baseline = median(times[0].clone());
    let lto = names.iter().position(|n| *n == LTO_BASELINE).map(|i| median(times[i].clone()));
    println!("{:<40} {:>9} {:>9} {:>9} {:>8} {:>8}", "binary", "min ms", "median", "max ms", "ratio", "vs LTO");
    let mut rows = Vec::new();
    for (name, t) in names.iter().zip(times) {
        let (min, max) = (t.iter().cloned().fold(f64::MAX, f64::min), t.iter().cloned().fold(0.0, f64::max));
        let med = median(t);
        let vs_lto = lto.map(|l| med / l);
        println!(
            "{name:<40} {min:>9.2} {med:>9.2} {max:>9.2} {:>8.2} {:>8}",
            med / baseline,
            vs_lto.map(|r| format!("{r:.2}")).unwrap_or_default()
        );
        rows.push(json!({"binary": name, "min_ms": min, "median_ms": med, "max_ms": max, "ratio": med / baseline,
            "ratio_lto": vs_lto}));
    }
    json!({"runs": runs, "baseline": BASELINE, "lto_baseline": lto.map(|_| LTO_BASELINE), "rows": rows})
}

/// Peak RSS of one function process serving a warm loop of real invocations (a status
/// with a valid token: token check, one DynamoDB read, the answer).
pub async fn memory() -> Value {
    let me = mfa_tests::Person::new();
    let text = std::fs::read_to_string(root().join("events/mfa-status.json")).unwrap();
    let mut event: Value = serde_json::from_str(&text).unwrap();
    event["headers"]["authorization"] = json!(format!("Bearer {}", me.platform_token()));
    let event = event.to_string();
    let mut rows = Vec::new();
    for name in ["hello-lambda", "mfa-status", "mfa-verify-login", "mfa-setup", "mfa-passkey-complete-registration"] {
        let (_, mut child, api) = spawn_and_answer(name, &event).await;
        let pid = child.id().expect("a running process");
        for _ in 0..1000 {
            api.invoke(event.clone()).await;
            api.answer(Duration::from_secs(10)).await.expect("an answer");
        }
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let kib = |key: &str| {
            status
                .lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let (peak, now) = (kib("VmHWM:") / 1024.0, kib("VmRSS:") / 1024.0);
        println!("{name:<40} peak RSS {peak:>6.1} MiB after 1000 warm invocations (now {now:.1} MiB)");
        rows.push(json!({"binary": name, "peak_rss_mib": peak, "rss_mib": now, "invocations": 1000}));
        let _ = child.kill().await;
        // Its Runtime API stops with it (a connection may still be waiting for the next
        // invocation, holding the queue).
        drop(api);
    }
    json!({"rows": rows})
}

/// Release binary sizes (this machine's architecture), and zipped as Lambda takes them.
pub fn sizes() -> Value {
    let mut rows = Vec::new();
    println!("== sizes ({} release binaries, zipped as deployed)", std::env::consts::ARCH);
    for name in functions() {
        let path = binary(name);
        let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let zipped = zipped_size(&path);
        println!("{name:<40} {:>8.2} MB {:>8.2} MB zipped", bytes as f64 / 1e6, zipped as f64 / 1e6);
        rows.push(json!({"binary": name, "bytes": bytes, "zipped_bytes": zipped}));
    }
    json!({"arch": std::env::consts::ARCH, "rows": rows})
}

/// The size of a zip holding the binary as `bootstrap` (Python's zipfile, deflate).
fn zipped_size(path: &std::path::Path) -> u64 {
    let zip = std::env::temp_dir().join(format!("bench-{}.zip", std::process::id()));
    let script = "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED, compresslevel=9) as z:\n    z.write(sys.argv[1], 'bootstrap')\n";
    let ok = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .arg(&zip)
        .status()
        .is_ok_and(|s| s.success());
    let size = if ok { std::fs::metadata(&zip).map(|m| m.len()).unwrap_or(0) } else { 0 };
    let _ = std::fs::remove_file(&zip);
    size
}
