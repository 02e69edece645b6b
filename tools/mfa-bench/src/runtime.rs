//! A local Lambda Runtime API, enough for a function to start, take invocations and
//! answer them: what a cold start is timed against (spawn → first answer), and what feeds
//! a warm loop of invocations to one process.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, mpsc};

/// Invocations to hand out, and the answers coming back.
pub struct RuntimeApi {
    pub address: String,
    feed: mpsc::Sender<String>,
    answers: Mutex<mpsc::Receiver<(Instant, String)>>,
    task: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let address = listener.local_addr().unwrap().to_string();
        let (feed, events) = mpsc::channel::<String>(1024);
        let (answer_tx, answers) = mpsc::channel::<(Instant, String)>(1024);
        let shared = Arc::new(Mutex::new(events));
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, shared.clone(), answer_tx.clone()));
            }
        });
        Self { address, feed, answers: Mutex::new(answers), task }
    }

    /// Queues an invocation (an API Gateway event).
    pub async fn invoke(&self, event: String) {
        self.feed.send(event).await.expect("the runtime API runs");
    }

    /// The next answer, when it came and its body.
    pub async fn answer(&self, within: Duration) -> Option<(Instant, String)> {
        tokio::time::timeout(within, self.answers.lock().await.recv()).await.ok().flatten()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut socket: TcpStream,
    events: Arc<Mutex<mpsc::Receiver<String>>>,
    answers: mpsc::Sender<(Instant, String)>,
) {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    let mut id = 0u64;
    loop {
        // One request: head, then its body.
        let (head, body) = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..end]).to_string();
                let length = head
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0);
                if buf.len() >= end + 4 + length {
                    let body = buf[end + 4..end + 4 + length].to_vec();
                    buf.drain(..end + 4 + length);
                    break (head, body);
                }
            }
            match socket.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let line = head.lines().next().unwrap_or_default().to_string();
        let response = if line.starts_with("GET") && line.contains("/invocation/next") {
            let Some(event) = events.lock().await.recv().await else { return };
            id += 1;
            let deadline =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() + 30_000;
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nlambda-runtime-aws-request-id: req-{id}\r\nlambda-runtime-deadline-ms: {deadline}\r\nlambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:000000000000:function:bench\r\nlambda-runtime-trace-id: Root=1-00000000-000000000000000000000000\r\ncontent-length: {}\r\n\r\n{event}",
                event.len()
            )
        } else {
            if line.contains("/response") || line.contains("/error") {
                let _ = answers.send((Instant::now(), String::from_utf8_lossy(&body).to_string())).await;
            }
            "HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n".to_string()
        };
        if socket.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}
