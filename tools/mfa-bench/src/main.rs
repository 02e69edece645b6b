//! `mfa-bench`: the benchmark. Run by `scripts/bench`, which builds the release binaries
//! and starts the local stack first. Every figure comes from this one run on this one
//! machine; comparisons are ratios within it. Writes `BENCHMARKS.md` and the figures as
//! JSON (`scripts/bench` draws the chart from them).

mod cold;
mod cost;
mod crypto;
mod runtime;
mod warm;

use std::path::PathBuf;

use serde_json::{Value, json};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = PathBuf::from(args.first().cloned().unwrap_or_else(|| ".local/bench".into()));
    std::fs::create_dir_all(&out).expect("an output directory");
    let mut results = json!({});
    results["machine"] = json!(machine());
    if std::env::var("MFA_BENCH_COST_ONLY").is_ok() {
        println!("== what logins consume (in process, against DynamoDB Local)");
        results["cost"] = cost::run().await;
        let path = out.join("cost.json");
        std::fs::write(&path, serde_json::to_string_pretty(&results).unwrap()).expect("results written");
        return;
    }
    if std::env::var("MFA_BENCH_CRYPTO_ONLY").is_ok() {
        println!("== crypto throughput (one core)");
        crypto::run();
        return;
    }
    if let Ok(which) = std::env::var("MFA_BENCH_PROFILE") {
        if which == "routes" {
            // Every route's requests, as the benchmark measures them (the flame graph keeps
            // the measured requests' stacks: those under `measure_on`).
            on_one_thread(|| Box::pin(warm::per_route()));
            return;
        }
        if which == "latency" {
            // The warm latency table alone (its loops, and the preparation before each).
            on_one_thread(|| Box::pin(warm::latency()));
            on_one_thread(|| Box::pin(warm::passkey_latency()));
            return;
        }
        let n = std::env::var("MFA_BENCH_PROFILE_N").ok().and_then(|n| n.parse().ok()).unwrap_or(2000);
        on_one_thread(move || Box::pin(async move { warm::profile(&which, n).await }));
        return;
    }
    println!("== cold starts (spawn -> first invocation answered, release binaries, local Runtime API)");
    results["cold"] = cold::run().await;
    if std::env::var("MFA_BENCH_COLD_ONLY").is_ok() {
        return;
    }
    println!("== round trips per request (counted at the DynamoDB client)");
    results["round_trips"] = warm::round_trips().await;
    println!("== warm latency (in process, against DynamoDB Local)");
    results["warm"] = on_one_thread(|| Box::pin(warm::latency()));
    println!("== every route's slowest request (in process, {} rounds)", warm::rounds());
    results["rounds"] = json!(warm::rounds());
    results["per_route"] = on_one_thread(|| Box::pin(warm::per_route()));
    println!("== warm latency of a passkey login (in process, against DynamoDB Local)");
    let passkey = on_one_thread(|| Box::pin(warm::passkey_latency()));
    results["warm"].as_array_mut().expect("the latency rows").push(passkey);
    println!("== memory (peak RSS of a function process under a warm loop)");
    results["memory"] = cold::memory().await;
    println!("== crypto throughput (one core)");
    results["crypto"] = crypto::run();
    println!("== what logins consume (in process, against DynamoDB Local)");
    results["cost"] = cost::run().await;
    results["sizes"] = cold::sizes();
    let path = out.join("results.json");
    std::fs::write(&path, serde_json::to_string_pretty(&results).unwrap()).expect("results written");
    println!("results: {}", path.display());
}

/// Runs a warm measurement as a function runs its handler: on a runtime of one thread (the
/// functions' own, `mfa_shared::lambda::run`), here on a thread of its own, so no wake-up
/// crosses threads.
fn on_one_thread<T: Send + 'static>(
    work: impl FnOnce() -> std::pin::Pin<Box<dyn std::future::Future<Output = T>>> + Send + 'static,
) -> T {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        runtime.block_on(work())
    })
    .join()
    .expect("the measurement's thread")
}

/// What machine this is, in a line.
fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").parse::<u64>().unwrap_or(0) / 1024 / 1024)
        })
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_string();
    json!({"cpu": cpu, "cores": cores, "memory_gib": memory, "kernel": kernel, "arch": std::env::consts::ARCH})
}
