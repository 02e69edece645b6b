//! `mfa-local`: helpers for the local stack (used by `scripts/dev` and `scripts/test`).
//!
//! - `mfa-local keys FILE`: write fresh local key material to FILE unless it exists (a
//!   file of an earlier version gains the keys it lacks).
//! - `mfa-local create-table TEMPLATE TABLE`: create TABLE in DynamoDB Local as TEMPLATE declares it.
//! - `mfa-local token [--sub ID] [--email E] [--org ID] [--role ROLE] [--ttl SECONDS]`:
//!   print a platform token signed with `MFA_PLATFORM_JWT_KEY`.
//! - `mfa-local server-token [--name NAME] [--ttl SECONDS]`: print a server credential
//!   signed with `MFA_SERVER_TOKEN_KEY` (the platform's backend; at most an hour).
//! - `mfa-local gen [--check]`: write the per-route files from the route table (each
//!   function's package and entry point, the local router); `--check` only compares them
//!   and fails naming each file that differs.
//! - `mfa-local scan-table TABLE FILE`: fail if any line of FILE (secrets, codes, tokens
//!   the tests were given) appears in plain text anywhere in TABLE.
//! - `mfa-local scan-logs FILE LOG…`: the same for the function logs of a test run.
//! - `mfa-local load [--api URL] [--users N] [--seconds S]`: concurrent users against a
//!   local API; prints requests per second and latency percentiles per route.

use std::process::ExitCode;

use serde_json::{Map, Value};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("keys") if args.len() == 2 => keys(&args[1]),
        Some("create-table") if args.len() == 3 => create_table(&args[1], &args[2]).await,
        Some("token") => token(&args[1..]),
        Some("server-token") => server_token(&args[1..]),
        Some("gen") if args.len() <= 2 => generate(args.get(1).map(String::as_str)),
        Some("scan-table") if args.len() == 3 => scan_table(&args[1], &args[2]).await,
        Some("scan-logs") if args.len() >= 3 => scan_logs(&args[1], &args[2..]),
        Some("load") => match mfa_local::load::Options::parse(&args[1..]) {
            Ok(options) => mfa_local::load::run(options).await,
            Err(e) => Err(e),
        },
        _ => Err("usage: mfa-local keys FILE | create-table TEMPLATE TABLE | token [--sub ID] [--email E] [--org ID] [--role ROLE] [--ttl SECONDS] | server-token [--name NAME] [--ttl SECONDS] | gen [--check] | scan-table TABLE FILE | scan-logs FILE LOG… | load [--api URL] [--users N] [--seconds S]".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mfa-local: {e}");
            ExitCode::FAILURE
        }
    }
}

fn keys(path: &str) -> Result<(), String> {
    let path = std::path::Path::new(path);
    if path.exists() {
        let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        if !text.lines().any(|l| l.starts_with("MFA_SERVER_TOKEN_KEY=")) {
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .open(path)
                .map_err(|e| format!("opening {}: {e}", path.display()))?;
            use std::io::Write;
            writeln!(file, "{}", mfa_local::server_key_line())
                .map_err(|e| format!("writing {}: {e}", path.display()))?;
        }
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    std::fs::write(path, mfa_local::generate_keys_env()).map_err(|e| format!("writing {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    eprintln!("mfa-local: wrote new local key material to {}", path.display());
    Ok(())
}

async fn create_table(template: &str, table: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(template).map_err(|e| format!("reading {template}: {e}"))?;
    let spec = mfa_local::table_spec(&text)?;
    let sdk = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    mfa_local::ensure_table(&client, table, &spec).await
}

fn generate(flag: Option<&str>) -> Result<(), String> {
    let check = match flag {
        None => false,
        Some("--check") => true,
        Some(other) => return Err(format!("unknown option {other}")),
    };
    let root = std::env::current_dir().map_err(|e| format!("the working directory: {e}"))?;
    let differ = mfa_local::generate::run(&root, check)?;
    for path in &differ {
        let shown = path.strip_prefix(&root).unwrap_or(path).display();
        eprintln!("mfa-local: {shown} {}", if check { "differs from the route table" } else { "written" });
    }
    if check && !differ.is_empty() {
        return Err(format!(
            "{} file(s) differ from the route table (shared/src/routes.rs); run `target/debug/mfa-local gen` and commit them",
            differ.len()
        ));
    }
    Ok(())
}

fn server_token(args: &[String]) -> Result<(), String> {
    let key = std::env::var("MFA_SERVER_TOKEN_KEY").map_err(|_| "MFA_SERVER_TOKEN_KEY is not set".to_string())?;
    let (mut name, mut ttl) = (None, 3600);
    for pair in args.chunks(2) {
        let [flag, value] = pair else { return Err(format!("{} needs a value", pair[0])) };
        match flag.as_str() {
            "--name" => name = Some(value.clone()),
            "--ttl" => ttl = value.parse().map_err(|_| "--ttl takes seconds")?,
            other => return Err(format!("unknown option {other}")),
        }
    }
    if !(1..=mfa_shared::auth::MAX_SERVER_CREDENTIAL_LIFETIME).contains(&ttl) {
        return Err("--ttl is at most 3600 seconds: a server credential lives an hour at most".into());
    }
    println!("{}", mfa_local::server_token(&key, name.as_deref(), ttl));
    Ok(())
}

fn token(args: &[String]) -> Result<(), String> {
    let secret = std::env::var("MFA_PLATFORM_JWT_KEY").map_err(|_| "MFA_PLATFORM_JWT_KEY is not set".to_string())?;
    let mut claims = Map::new();
    claims.insert("sub".into(), "demo-user".into());
    claims.insert("email".into(), "demo@example.com".into());
    let mut ttl = 3600;
    for pair in args.chunks(2) {
        let [flag, value] = pair else { return Err(format!("{} needs a value", pair[0])) };
        let claim = match flag.as_str() {
            "--sub" => "sub",
            "--email" => "email",
            "--org" => "orgId",
            "--role" => "orgRole",
            "--ttl" => {
                ttl = value.parse().map_err(|_| "--ttl takes seconds")?;
                continue;
            }
            other => return Err(format!("unknown option {other}")),
        };
        claims.insert(claim.into(), value.clone().into());
    }
    for (var, claim) in [("MFA_PLATFORM_JWT_ISSUER", "iss"), ("MFA_PLATFORM_JWT_AUDIENCE", "aud")] {
        if let Ok(v) = std::env::var(var) {
            claims.insert(claim.into(), v.into());
        }
    }
    println!("{}", mfa_local::platform_token(&secret, &Value::Object(claims), ttl));
    Ok(())
}

async fn scan_table(table: &str, secrets_file: &str) -> Result<(), String> {
    let text = std::fs::read_to_string(secrets_file).map_err(|e| format!("reading {secrets_file}: {e}"))?;
    let secrets = mfa_local::Secrets::parse(&text);
    let sdk = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let report = mfa_local::scan_for_secrets(&client, table, &secrets).await?;
    println!(
        "scan-table: {} items, {} secret values, {} found in plain text",
        report.items,
        secrets.len(),
        report.hits.len()
    );
    if report.hits.is_empty() {
        Ok(())
    } else {
        for (pk, sk) in &report.hits {
            eprintln!("scan-table: a secret value is stored in plain text in item {pk} / {sk}");
        }
        Err("plain-text secrets found in the table".into())
    }
}

fn scan_logs(secrets_file: &str, logs: &[String]) -> Result<(), String> {
    let text = std::fs::read_to_string(secrets_file).map_err(|e| format!("reading {secrets_file}: {e}"))?;
    let secrets = mfa_local::Secrets::parse(&text);
    let mut bytes = 0;
    let mut found = 0;
    for log in logs {
        let content = std::fs::read(log).map_err(|e| format!("reading {log}: {e}"))?;
        let content = String::from_utf8_lossy(&content);
        bytes += content.len();
        let hits = secrets.found_in(&content);
        if hits > 0 {
            // Say where, never what.
            eprintln!("scan-logs: {hits} secret value(s) appear in plain text in {log}");
            found += hits;
        }
    }
    println!("scan-logs: {} log file(s), {bytes} bytes, {} secret values, {found} found", logs.len(), secrets.len());
    if found == 0 { Ok(()) } else { Err("secrets found in the function logs".into()) }
}
