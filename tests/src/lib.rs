//! The test kit: everything the handler and end-to-end tests need to talk to the local
//! stack that `scripts/test` starts (DynamoDB Local, the local SES, `cargo lambda watch`).
//! [`TestApp`] bundles the three ways in: HTTP to the real binaries, the handlers in
//! process (on a clock the test may move), and the store. Each test makes its own users
//! and organizations, so tests run in parallel.

#![recursion_limit = "256"]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use lambda_http::Request;
use lambda_http::http::HeaderValue;
use mfa_shared::auth::{FullAccessClaims, IdentityClaims, TokenSigner};
use mfa_shared::factors::{Factor, FactorState, Material};
use mfa_shared::store::Store;
use serde_json::{Value, json};

pub use mfa_local::{now, totp_code};

pub mod budget;
pub mod dispatch;
pub mod faults;

/// The stack's settings, from the environment `scripts/test` exports.
pub struct Stack {
    pub api_url: String,
    pub platform_secret: String,
    pub platform_issuer: Option<String>,
    pub platform_audience: Option<String>,
    pub signer: TokenSigner,
    pub table: String,
}

fn var(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: these tests need the local stack; run them with scripts/test"))
}

pub fn stack() -> &'static Stack {
    static STACK: OnceLock<Stack> = OnceLock::new();
    STACK.get_or_init(|| {
        let stage = std::env::var("MFA_STAGE").unwrap_or_else(|_| "dev".into());
        let issuer = std::env::var("MFA_TOKEN_ISSUER").unwrap_or_else(|_| mfa_shared::auth::default_issuer(&stage));
        Stack {
            api_url: var("MFA_API_URL"),
            platform_secret: var("MFA_PLATFORM_JWT_KEY"),
            platform_issuer: std::env::var("MFA_PLATFORM_JWT_ISSUER").ok(),
            platform_audience: std::env::var("MFA_PLATFORM_JWT_AUDIENCE").ok(),
            signer: TokenSigner::from_spec(&var("MFA_TOKEN_SIGNING_KEY"), &issuer)
                .expect("MFA_TOKEN_SIGNING_KEY is valid"),
            table: var("MFA_TABLE_NAME"),
        }
    })
}

/// A fresh, unique id (users, organizations).
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// Who a token is for.
#[derive(Clone, Debug, Default)]
pub struct Person {
    pub id: String,
    pub email: String,
    pub org: Option<String>,
    pub role: Option<String>,
}

impl Person {
    pub fn new() -> Self {
        let id = unique("user");
        Self { email: format!("{id}@example.com"), id, org: None, role: None }
    }

    pub fn in_org(org: &str, role: &str) -> Self {
        Self { org: Some(org.into()), role: Some(role.into()), ..Self::new() }
    }

    /// The same person, with a token that names `org` (or none).
    pub fn naming(&self, org: Option<&str>) -> Self {
        Self { org: org.map(String::from), ..self.clone() }
    }

    fn claims(&self) -> Value {
        let mut c = json!({"sub": self.id, "email": self.email});
        if let Some(org) = &self.org {
            c["orgId"] = json!(org);
        }
        if let Some(role) = &self.role {
            c["orgRole"] = json!(role);
        }
        let s = stack();
        if let Some(iss) = &s.platform_issuer {
            c["iss"] = json!(iss);
        }
        if let Some(aud) = &s.platform_audience {
            c["aud"] = json!(aud);
        }
        c
    }

    /// A platform token (after the password step), valid for an hour.
    pub fn platform_token(&self) -> String {
        self.platform_token_with(json!({}), 3600)
    }

    /// A platform token with claims added or overridden, expiring in `ttl` seconds.
    pub fn platform_token_with(&self, extra: Value, ttl: i64) -> String {
        let mut claims = self.claims();
        if let (Some(c), Some(e)) = (claims.as_object_mut(), extra.as_object()) {
            c.extend(e.clone());
        }
        mfa_local::platform_token(&stack().platform_secret, &claims, ttl)
    }

    /// Who the service sees behind this person's platform token.
    pub fn principal(&self) -> mfa_shared::auth::Principal {
        mfa_shared::auth::Principal {
            user_id: mfa_shared::auth::UserId::parse(&self.id).expect("a valid user id"),
            email: Some(self.email.clone()),
            org_id: self.org.clone(),
            org_role: self.role.clone(),
            session_verified: false,
            auth_time: None,
            session_id: None,
            by_device: false,
            origin: Default::default(),
            server: None,
        }
    }

    /// A full-access token as this service issues it after a second factor at
    /// `auth_time`, of a new session that the person's record lists (as a login would
    /// leave it; the record is created if there is none).
    pub async fn full_access_token(&self, auth_time: i64) -> String {
        let session = self.live_session(auth_time).await;
        self.sign_full_access(&session, auth_time)
    }

    /// A new session begun at `auth_time`, listed in the person's record; its id.
    async fn live_session(&self, auth_time: i64) -> String {
        let session = unique("session");
        seed(self, |r| {
            let live = mfa_shared::model::LiveSession {
                started_at: auth_time,
                ends_at: auth_time + 12 * 3600,
                by_device: false,
                device: None,
                ..Default::default()
            };
            r.sessions.insert(session.clone(), live);
        })
        .await;
        session
    }

    /// [`Person::full_access_token`] of a session begun with a platform token that named
    /// `org` (or no organization): the session is listed in the person's record, which stays
    /// bound as it is; the token names `org`.
    pub async fn full_access_token_naming(&self, org: Option<&str>, auth_time: i64) -> String {
        let session = self.live_session(auth_time).await;
        Person { org: org.map(String::from), ..self.clone() }.sign_full_access(&session, auth_time)
    }

    /// A full-access token of a session that has ended (the record does not list it).
    pub fn ended_session_token(&self, auth_time: i64) -> String {
        self.sign_full_access(&unique("ended"), auth_time)
    }

    /// A full-access token of a live session that expired `ago` seconds ago.
    pub async fn expired_full_access_token(&self, ago: i64) -> String {
        let auth_time = now() - 900 - ago;
        let session = self.live_session(auth_time).await;
        self.sign_full_access_at(&session, auth_time, auth_time)
    }

    fn sign_full_access(&self, session: &str, auth_time: i64) -> String {
        self.sign_full_access_at(session, auth_time, now())
    }

    fn sign_full_access_at(&self, session: &str, auth_time: i64, now: i64) -> String {
        let s = stack();
        s.signer
            .sign(&FullAccessClaims {
                identity: IdentityClaims {
                    sub: Some(self.id.clone()),
                    user_id: None,
                    email: Some(self.email.clone()),
                    org_id: self.org.clone(),
                    org_role: self.role.clone(),
                },
                iss: s.signer.issuer.clone(),
                aud: mfa_shared::auth::FULL_ACCESS_AUDIENCE.into(),
                iat: now,
                exp: now + 900,
                aal: 2,
                amr: vec!["otp".into()],
                auth_time,
                sid: session.to_string(),
                jti: unique("jti"),
            })
            .expect("signing works")
    }
}

/// What a test talks to: the API over HTTP through `cargo lambda watch` (the real
/// binaries), the application in process as a function builds it at cold start (its
/// handlers called directly, on `clock`), and the store on DynamoDB Local.
pub struct TestApp {
    pub api: Api,
    pub app: mfa_shared::App,
    pub clock: mfa_shared::clock::Clock,
}

impl TestApp {
    /// On a clock that stands at now until the test moves it.
    pub async fn new() -> Self {
        Self::at(now()).await
    }

    /// On a clock that stands at `time` until the test moves it.
    pub async fn at(time: i64) -> Self {
        let clock = mfa_shared::clock::Clock::fixed(time);
        Self { api: Api::new(), app: app().await.with_clock(clock.clone()), clock }
    }

    pub fn store(&self) -> &Store {
        &self.app.store
    }

    /// Runs `function`'s handler in process on `events/<function>.json` with `token` as
    /// the bearer and `body` (`null`: no body).
    pub async fn call(&self, function: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        parse(&self.respond(function, token, body).await)
    }

    /// [`TestApp::call`] for a route with a path parameter (`{factorId}`): the event's is
    /// replaced by `id`.
    pub async fn call_on(&self, function: &str, id: &str, token: Option<&str>, body: Value) -> (u16, Value) {
        let req = with_path_id(request(function, token, body), id);
        parse(&handle(&self.app, &jwks_document(), function, req).await)
    }

    /// [`TestApp::call`] (or [`TestApp::call_on`], with `id`) with extra request headers.
    pub async fn call_with(
        &self,
        function: &str,
        id: Option<&str>,
        token: Option<&str>,
        headers: &[(&str, String)],
        body: Value,
    ) -> (u16, Value) {
        let mut req = request(function, token, body);
        for (name, value) in headers {
            let name = lambda_http::http::HeaderName::from_bytes(name.as_bytes()).expect("a header name");
            req.headers_mut().insert(name, HeaderValue::from_str(value).expect("a header value"));
        }
        if let Some(id) = id {
            req = with_path_id(req, id);
        }
        parse(&handle(&self.app, &jwks_document(), function, req).await)
    }

    /// [`TestApp::call`], keeping the whole response (headers too).
    pub async fn respond(
        &self,
        function: &str,
        token: Option<&str>,
        body: Value,
    ) -> lambda_http::Response<lambda_http::Body> {
        handle(&self.app, &jwks_document(), function, request(function, token, body)).await
    }
}

/// `req` with `id` as its path's `{factorId}` or `{deviceId}` (a route has one or neither).
pub fn with_path_id(req: Request, id: &str) -> Request {
    use lambda_http::RequestExt;
    let params = std::collections::HashMap::from([
        ("factorId".to_string(), id.to_string()),
        ("deviceId".to_string(), id.to_string()),
    ]);
    req.with_path_parameters(params)
}

/// `events/<function>.json` with `token` and `body` (`null`: no body): the token as the
/// bearer, or, for Frontegg's pre-login routes, where Frontegg's client sends it (the
/// body's `mfaToken`, the query's for a `GET`).
pub fn request(function: &str, token: Option<&str>, body: Value) -> Request {
    use lambda_http::RequestExt;
    let in_body = mfa_shared::routes::route(function).is_some_and(|r| r.auth == mfa_shared::routes::AuthKind::MfaToken);
    if !in_body {
        let mut req = event(function, token);
        *req.body_mut() =
            if body.is_null() { lambda_http::Body::Empty } else { lambda_http::Body::Text(body.to_string()) };
        return req;
    }
    let mut req = event(function, None);
    if req.method() == lambda_http::http::Method::GET {
        let query = token.map(|t| std::collections::HashMap::from([("mfaToken".to_string(), t.to_string())]));
        return req.with_query_string_parameters(query.unwrap_or_default());
    }
    let mut body = if body.is_null() { json!({}) } else { body };
    if let (Some(t), Some(object)) = (token, body.as_object_mut()) {
        object.insert("mfaToken".into(), json!(t));
    }
    *req.body_mut() = lambda_http::Body::Text(body.to_string());
    req
}

/// Runs `test` as a function runs its handlers: on one thread with the 8 MiB stack of a
/// process's main thread and a current-thread runtime (`lambda::run`), not on a test
/// thread's 2 MiB. A test that awaits many handlers in one future (the budget's walk of
/// every route) needs it in a debug build, where each poll holds its callee's future.
pub fn on_a_functions_stack<F: std::future::Future<Output = ()> + Send + 'static>(test: F) {
    std::thread::Builder::new()
        .stack_size(8 << 20)
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            runtime.block_on(test)
        })
        .expect("a thread")
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
}

/// Held by a test while it drives Chromium: the page on the relying party's origin has one
/// port.
pub static CHROMIUM: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The JWKS document the `mfa-jwks` binary builds at cold start (built once here too, so
/// an in-process call does not pay for it).
pub fn jwks_document() -> String {
    static JWKS: OnceLock<String> = OnceLock::new();
    JWKS.get_or_init(|| {
        mfa_shared::handlers::jwks_document(&var("MFA_TOKEN_PUBLIC_KEYS")).expect("MFA_TOKEN_PUBLIC_KEYS is a JWKS")
    })
    .clone()
}

/// The store on DynamoDB Local, for seeding and inspecting state.
pub async fn store() -> Store {
    let sdk = aws_config::load_from_env().await;
    Store::new(aws_sdk_dynamodb::Client::new(&sdk), stack().table.clone())
}

/// Waits until the audit writer has stored every audit event written so far: a change's
/// events ride in its write (in the user's login state) and the audit writer stores them
/// from the table's stream a moment later. The local event source (`local/audit_stream.py`)
/// marks the start of each poll that found the stream drained; one that began after now
/// means every earlier write's events are stored. Without that event source (a stack of a
/// test's own), nothing to wait for.
pub async fn audit_settled() {
    if !audit_settled_within(std::time::Duration::from_secs(10)).await {
        panic!("the audit writer did not catch up with the table's stream within 10 s (see audit-stream.log)");
    }
}

/// Waits up to `limit` for the audit writer to catch up with the table's stream as it is
/// now (see [`audit_settled`]); whether it did. At once when no stream runs.
pub async fn audit_settled_within(limit: std::time::Duration) -> bool {
    let Some(mark) = std::env::var_os("MFA_AUDIT_STREAM_MARK") else { return true };
    let asked = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        let drained = std::fs::read_to_string(&mark).ok().and_then(|t| t.trim().parse::<f64>().ok());
        if drained.is_some_and(|at| at > asked) {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    false
}

/// Changes `org`'s policy as stored (a new one when it has none), as an administrator's
/// `POST /mfa/organization/enforce` would.
pub async fn set_policy(org: &str, change: impl Fn(&mut mfa_shared::model::OrgPolicy)) {
    let store = store().await;
    let (_, current) = store.load_user_and_policy("nobody", Some(org)).await.unwrap();
    let mut policy =
        current.unwrap_or_else(|| mfa_shared::model::OrgPolicy { org_id: org.to_string(), ..Default::default() });
    change(&mut policy);
    store.save_policy(&mut policy).await.unwrap();
}

/// The application as a function builds it at cold start, from the same environment.
pub async fn app() -> mfa_shared::App {
    mfa_shared::App::from_env(mfa_shared::app::Needs {
        auth: true,
        store: true,
        keyring: true,
        mail: true,
        links: true,
        sms: true,
        webauthn: true,
        signer: true,
        public_keys: false,
        sessions_only: false,
        // Any route that takes Frontegg's backend headers: the server credentials' key.
        backend: mfa_shared::routes::Backend::User,
    })
    .await
    .expect("the test environment is complete")
}

/// The application as a default deployment builds it: the stack's settings but no
/// `MFA_METHODS`, so it offers Flashback's three methods only.
pub async fn default_deployment_app() -> mfa_shared::App {
    struct Unset;
    impl mfa_shared::config::Source for Unset {
        fn get(&self, name: &str) -> Option<String> {
            (name != "MFA_METHODS").then(|| mfa_shared::config::Environment.get(name)).flatten()
        }
    }
    let needs = mfa_shared::routes::route("mfa-status").expect("a row").needs;
    mfa_shared::App::from_source(&Unset, needs).await.expect("the test environment is complete")
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// `events/<name>.json` as the Lambda runtime would hand it to the function, with the
/// bearer token replaced (or the header removed when `token` is `None`).
pub fn event(name: &str, token: Option<&str>) -> Request {
    // Each file is read once (the benchmark times requests built from them).
    static TEXTS: std::sync::Mutex<BTreeMap<String, Arc<str>>> = std::sync::Mutex::new(BTreeMap::new());
    let path = repo_root().join("events").join(format!("{name}.json"));
    let text = {
        let mut texts = TEXTS.lock().expect("the event cache");
        let text = texts.entry(name.to_string()).or_insert_with(|| {
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display())).into()
        });
        text.clone()
    };
    let mut req = lambda_http::request::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not an API Gateway event: {e}", path.display()));
    match token {
        Some(t) => {
            req.headers_mut()
                .insert("authorization", HeaderValue::from_str(&format!("Bearer {t}")).expect("token is ASCII"));
        }
        None => {
            req.headers_mut().remove("authorization");
        }
    }
    req
}

/// A response's status and parsed JSON body.
pub fn parse(resp: &lambda_http::Response<lambda_http::Body>) -> (u16, Value) {
    let body = match resp.body() {
        lambda_http::Body::Text(t) => serde_json::from_str(t).expect("body is JSON"),
        lambda_http::Body::Binary(b) => serde_json::from_slice(b).expect("body is JSON"),
        _ => Value::Null,
    };
    remember_given(&body);
    (resp.status().as_u16(), body)
}

/// Records every secret the API hands out in `body` (sessions' tokens, authenticator
/// secrets and their URLs, backup codes), for the scans of the table and the logs.
fn remember_given(body: &Value) {
    for token in ["fullAccessToken", "refreshToken", "deviceToken", "accessToken", "recoveryCode"] {
        if let Some(t) = body[token].as_str() {
            remember_secret(t);
        }
    }
    let data = &body["data"];
    for field in ["secret", "otpauthUrl"] {
        if let Some(v) = data[field].as_str() {
            remember_secret(v);
        }
    }
    for code in data["backupCodes"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        remember_secret(code);
    }
}

/// The User-Agent the tests' HTTP requests carry.
pub const USER_AGENT: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/150.0 Safari/537.36 mfa-tests";

/// HTTP through `cargo lambda watch`.
pub struct Api {
    client: reqwest::Client,
    base: String,
}

pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Api {
    /// The stack's API.
    pub fn new() -> Self {
        Self::at(&stack().api_url)
    }

    /// Another `cargo lambda watch` (the fault tests start their own).
    pub fn at(base: &str) -> Self {
        // A browser's User-Agent, as a login page would send it (remembered devices are
        // named after it).
        let client = reqwest::Client::builder().user_agent(USER_AGENT).build().expect("an HTTP client");
        Self { client, base: base.to_string() }
    }

    pub async fn send(&self, method: &str, path: &str, token: Option<&str>, body: Option<String>) -> Reply {
        self.send_with(method, path, token, &[], body).await
    }

    /// [`Api::send`] with extra headers (Frontegg's `frontegg-user-id`, say).
    pub async fn send_with(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<String>,
    ) -> Reply {
        let url = format!("{}{path}", self.base);
        let mut req = self.client.request(method.parse().expect("valid method"), url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b);
        }
        let resp = req.send().await.expect("the local API answers");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("a body");
        let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
        remember_given(&body);
        Reply { status, headers, body }
    }

    /// A GET with a raw `Authorization` header value.
    pub async fn send_raw_auth(&self, path: &str, authorization: &str) -> Reply {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .header("authorization", authorization)
            .send()
            .await
            .expect("the local API answers");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = serde_json::from_str(&resp.text().await.expect("a body")).expect("JSON body");
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send("GET", path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.send("POST", path, token, Some(body.to_string())).await
    }

    /// A `POST` of the platform's backend: a server credential, and `headers`.
    pub async fn post_as_server(&self, path: &str, headers: &[(&str, &str)], body: Value) -> Reply {
        self.send_with("POST", path, Some(&server_token(None)), headers, Some(body.to_string())).await
    }
}

/// A server credential of the local stack (`MFA_SERVER_TOKEN_KEY`), as the platform's
/// backend mints it; `name` is what the audit trail shows (`server:<name>`).
pub fn server_token(name: Option<&str>) -> String {
    mfa_local::server_token(&var("MFA_SERVER_TOKEN_KEY"), name, 600)
}

impl Default for Api {
    fn default() -> Self {
        Self::new()
    }
}

/// The mails the local SES received for `to`, oldest first (its `GET /store`), once the
/// audit writer has mailed the notices of every change made before the call.
pub async fn mails_to(to: &str) -> Vec<Value> {
    audit_settled().await;
    let url = var("MFA_SES_STORE_URL");
    let store: Value = reqwest::get(&url).await.expect("the local SES answers").json().await.expect("JSON store");
    store["emails"]
        .as_array()
        .expect("an email list")
        .iter()
        .filter(|m| m["destination"]["to"].as_array().is_some_and(|t| t.iter().any(|a| a.as_str() == Some(to))))
        .cloned()
        .collect()
}

/// The texts the local SNS took for `number`, oldest first (moto's `sns.SMS`).
pub async fn texts_to(number: &str) -> Vec<String> {
    let url = var("MFA_SNS_STORE_URL");
    let data: Value = reqwest::get(&url).await.expect("the local SNS answers").json().await.expect("JSON data");
    data["sns"]["SMS"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|t| t["phone_number"].as_str() == Some(number))
        .filter_map(|t| t["message"].as_str().map(String::from))
        .collect()
}

/// The six-digit code in a message (recorded for the scans).
pub fn code_in(text: &str) -> String {
    let code = text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("no code in {text:?}"))
        .to_string();
    remember_secret(&code);
    code
}

/// Waits for the `n`-th text to `number` and returns the code in it.
pub async fn nth_text_code(number: &str, n: usize) -> String {
    for _ in 0..50 {
        let texts = texts_to(number).await;
        if texts.len() >= n {
            return code_in(&texts[n - 1]);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no text #{n} to {number} arrived at the local SNS");
}

/// Waits for the `n`-th mail with a code to `to` and returns the code in it.
pub async fn nth_mail_code(to: &str, n: usize) -> String {
    for _ in 0..50 {
        let mails: Vec<Value> = mails_to(to)
            .await
            .into_iter()
            .filter(|m| {
                m["subject"] == json!("Your sign-in code")
                    || m["subject"] == json!("Confirm this address for sign-in codes")
            })
            .collect();
        if mails.len() >= n {
            return code_in(mails[n - 1]["body"]["text"].as_str().expect("a text body"));
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no code mail #{n} to {to} arrived in the local SES store");
}

/// The link in a mail's plain-text body and the token in it.
pub fn link_in(mail: &Value) -> (String, String) {
    let text = mail["body"]["text"].as_str().expect("a text body");
    let link = text.split_whitespace().find(|w| w.contains("token=")).expect("a link in the mail").to_string();
    let token = link.split("token=").nth(1).unwrap().split('&').next().unwrap().to_string();
    remember_secret(&token);
    (link, token)
}

/// The mails to `to` that carry a link (not the change notices).
pub async fn link_mails_to(to: &str) -> Vec<Value> {
    mails_to(to)
        .await
        .into_iter()
        .filter(|m| m["body"]["text"].as_str().is_some_and(|t| t.contains("token=")))
        .collect()
}

/// Waits for the `n`-th link mail to `to` (mail is sent before the API answers, so this
/// is normally immediate).
pub async fn nth_mail(to: &str, n: usize) -> Value {
    for _ in 0..50 {
        let mails = link_mails_to(to).await;
        if mails.len() >= n {
            return mails[n - 1].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no mail #{n} to {to} arrived in the local SES store");
}

/// Records a secret, code or token the tests were given; `scripts/test` fails if any of
/// them is found in plain text in the table after the suite.
pub fn remember_secret(value: &str) {
    use std::io::Write;
    let Ok(path) = std::env::var("MFA_TEST_SECRETS") else { return };
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("secrets file opens");
    writeln!(file, "{value}").expect("secrets file is writable");
}

/// Sets up and verifies GOOGLE_AUTH for `person` over HTTP; returns the raw secret.
/// Begins an authenticator setup for the bearer of `token` over HTTP, leaving it pending;
/// returns its secret (remembered for the secret scans, with any backup codes shown).
pub async fn begin_totp_setup(api: &Api, token: &str) -> String {
    let r = api.post("/mfa/setup", Some(token), json!({"mfaType": "GOOGLE_AUTH"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let secret = r.body["data"]["secret"].as_str().expect("the secret").to_string();
    remember_secret(&secret);
    r.body["data"]["backupCodes"].as_array().into_iter().flatten().for_each(|c| remember_secret(c.as_str().unwrap()));
    secret
}

pub async fn enroll_totp(api: &Api, person: &Person) -> Vec<u8> {
    enroll_totp_with_codes(api, person).await.0
}

/// [`enroll_totp`], also returning the backup codes. The setup is verified with the
/// previous step's code, so the current one is still free for a login.
pub async fn enroll_totp_with_codes(api: &Api, person: &Person) -> (Vec<u8>, Vec<String>) {
    let token = person.platform_token();
    let r = api.post("/mfa/setup", Some(&token), json!({"mfaType": "GOOGLE_AUTH"})).await;
    assert_eq!(r.status, 200, "setup: {}", r.body);
    let secret = r.body["data"]["secret"].as_str().expect("a secret").to_string();
    remember_secret(&secret);
    let codes: Vec<String> = r.body["data"]["backupCodes"]
        .as_array()
        .expect("backup codes")
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    codes.iter().for_each(|c| remember_secret(c));
    let raw = mfa_shared::methods::totp::decode_secret(&secret).expect("base32 secret");
    let code = totp_code(&raw, -1).await;
    let r = api.post("/mfa/verify-setup", Some(&token), json!({"mfaType": "GOOGLE_AUTH", "code": code})).await;
    assert_eq!(r.status, 200, "verify-setup: {}", r.body);
    (raw, codes)
}

/// Asserts the answer of a completed setup that enabled a user's first factor: success,
/// `message`, and the ten backup codes issued with it (recorded for the scans).
pub fn assert_first_factor(body: &Value, message: &str) {
    assert_eq!((body["success"].clone(), body["message"].clone()), (json!(true), json!(message)), "{body}");
    let codes = body["data"]["backupCodes"].as_array().unwrap_or_else(|| panic!("backup codes with it: {body}"));
    assert_eq!(codes.len(), 10, "{body}");
    codes.iter().for_each(|c| remember_secret(c.as_str().expect("a code")));
}

/// Asserts the failure envelope: status, machine code, a sentence, JSON content type.
pub fn assert_error(reply: &Reply, status: u16, code: &str) {
    assert_eq!(reply.status, status, "body: {}", reply.body);
    assert_eq!(reply.body["success"], json!(false), "body: {}", reply.body);
    assert_eq!(reply.body["code"], json!(code), "body: {}", reply.body);
    let sentence = reply.body["error"].as_str().unwrap_or_default();
    assert!(sentence.len() > 10 && sentence.ends_with('.'), "error should be a sentence: {}", reply.body);
    assert_eq!(reply.headers["content-type"], "application/json");
}

/// Changes `person`'s stored MFA record directly (a state the HTTP API would take several
/// steps and mails to reach), keeping whatever it already holds.
pub async fn seed(person: &Person, change: impl Fn(&mut mfa_shared::model::UserMfaRecord)) {
    let store = store().await;
    // Another request of the same person may write between the read and the write: then
    // read again, as the service does.
    for _ in 0..5 {
        let (mut record, _) = store.load_user_and_policy(&person.id, None).await.expect("the record loads");
        change(&mut record);
        if person.org.is_some() {
            record.org_id = person.org.clone();
        }
        record.email.get_or_insert_with(|| person.email.clone());
        match store.save_user(&mut record).await {
            Ok(()) => return,
            Err(mfa_shared::store::StoreError::Conflict) => continue,
            Err(e) => panic!("the seeded record is not saved: {e}"),
        }
    }
    panic!("the seeded record kept changing under the seed");
}

/// Logs `person` in over HTTP with an authenticator code of the current step (the kit's
/// enrolment spends the previous one); returns `(full-access token, refresh token)`.
pub async fn login_with_totp(api: &Api, person: &Person, secret: &[u8]) -> (String, String) {
    login_with_totp_step(api, person, secret, 0).await
}

/// [`login_with_totp`] with the code of the step `steps` from the current one (each step
/// logs in once: a second login in the same step takes the next).
pub async fn login_with_totp_step(api: &Api, person: &Person, secret: &[u8], steps: i64) -> (String, String) {
    let code = totp_code(secret, steps).await;
    let r = api
        .post("/mfa/verify-login", Some(&person.platform_token()), json!({"mfaType": "GOOGLE_AUTH", "code": code}))
        .await;
    assert_eq!(r.status, 200, "verify-login: {}", r.body);
    let access = r.body["fullAccessToken"].as_str().expect("a full-access token").to_string();
    let refresh = r.body["refreshToken"].as_str().expect("a refresh token").to_string();
    remember_secret(&refresh);
    (access, refresh)
}

/// A login with an authenticator code (of the step `steps` from the current one) that
/// also remembers the device: the full-access token and the device token (recorded for the
/// scans).
pub async fn login_remembering(api: &Api, person: &Person, secret: &[u8], steps: i64) -> (String, String) {
    let code = totp_code(secret, steps).await;
    let body = json!({"mfaType": "GOOGLE_AUTH", "code": code, "rememberDevice": true});
    let r = api.post("/mfa/verify-login", Some(&person.platform_token()), body).await;
    assert_eq!(r.status, 200, "verify-login: {}", r.body);
    let device = r.body["deviceToken"].as_str().expect("a device token").to_string();
    remember_secret(&device);
    remember_secret(r.body["refreshToken"].as_str().expect("a refresh token"));
    (r.body["fullAccessToken"].as_str().expect("a full-access token").to_string(), device)
}

/// A login with a remembered device: the reply as it came.
pub async fn login_with_device(api: &Api, person: &Person, device_token: &str) -> Reply {
    let body = json!({"mfaType": "DEVICE", "deviceToken": device_token});
    let r = api.post("/mfa/verify-login", Some(&person.platform_token()), body).await;
    if let Some(refresh) = r.body["refreshToken"].as_str() {
        remember_secret(refresh);
    }
    r
}

/// The claims of a token, read without verifying it (the tests check what was issued).
pub fn claims_of(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// Runs `function`'s handler on `req`, as its binary would (`jwks` is the JWKS document
/// the `mfa-jwks` binary builds at cold start). Every function of the route table has an
/// arm here; an unknown one panics, so a new route cannot be left out of the tests that
/// walk the table. Each handler's future is boxed: unboxed, the future of this function
/// would be as large as the largest of them, on a test thread's small stack.
pub async fn handle(
    app: &mfa_shared::App,
    jwks: &str,
    function: &str,
    req: Request,
) -> lambda_http::Response<lambda_http::Body> {
    match dispatch::dispatch(app, jwks, function, req).await {
        Some(response) => response,
        None => panic!("no handler for {function}: add its row to shared/src/routes.rs and run mfa-local gen"),
    }
}

/// A factor of `kind` for `person`, in `state`, as a completed (or, pending, a begun)
/// setup would leave it: an authenticator with a new secret sealed under the stack's keys,
/// links to the person's own address, a passkey without a credential (so it cannot log
/// in). Returns the factor, to push onto a record being seeded.
pub fn stand_in(kind: mfa_shared::model::MfaType, state: FactorState, person: &Person) -> Factor {
    use mfa_shared::methods::codes::Target;
    use mfa_shared::model::MfaType;
    let keyring = mfa_shared::crypto::Keyring::parse(&var("MFA_ENCRYPTION_KEYS")).expect("the stack's keys");
    let material = match kind {
        MfaType::GoogleAuth => {
            let raw = mfa_shared::crypto::random_bytes::<20>();
            Material::GoogleAuth { secret: mfa_shared::methods::totp::seal_secret(&keyring, &person.id, &raw) }
        }
        MfaType::MagicLink => Material::MagicLink { address: person.email.clone() },
        MfaType::Passkey => Material::Passkey { credential: None },
        MfaType::EmailOtp => Material::EmailOtp { address: person.email.clone() },
        MfaType::Sms => Target::Phone(phone_number()).material(&keyring, &person.id),
    };
    let setup = (state == FactorState::Pending).then(|| mfa_shared::model::PendingSetup {
        step_up: None,
        item: None,
        started_at: now(),
    });
    Factor {
        id: mfa_shared::factors::new_id(),
        name: kind.name().to_string(),
        state,
        created_at: now(),
        last_used_at: None,
        setup,
        material,
    }
}

/// The registered passkeys of a record: each factor with its credential.
pub fn passkeys(record: &mfa_shared::model::UserMfaRecord) -> Vec<(&Factor, &mfa_shared::factors::PasskeyCredential)> {
    record
        .factors
        .iter()
        .filter_map(|f| match &f.material {
            Material::Passkey { credential: Some(c) } => Some((f, c)),
            _ => None,
        })
        .collect()
}

/// A phone number of its own for a test (each one's texts are limited per number): a
/// valid San Francisco number (its exchange 200–999, never an N11 code).
pub fn phone_number() -> String {
    let n = u32::from_be_bytes(mfa_shared::crypto::random_bytes::<4>());
    let mut exchange = 200 + n % 800;
    if exchange % 100 == 11 {
        exchange += 1;
    }
    let number = format!("+1415{exchange}{:04}", (n / 800) % 10_000);
    remember_secret(&number);
    number
}

/// Turns MAGIC_LINK on for `person` in the store, links going to their own address.
pub async fn seed_magic_link(person: &Person) {
    let factor = stand_in(mfa_shared::model::MfaType::MagicLink, FactorState::Enabled, person);
    seed(person, |r| r.factors.push(factor.clone())).await;
}

/// Turns EMAIL_OTP on for `person` in the store, codes going to their own address.
pub async fn seed_email_codes(person: &Person) {
    let factor = stand_in(mfa_shared::model::MfaType::EmailOtp, FactorState::Enabled, person);
    seed(person, |r| r.factors.push(factor.clone())).await;
}

/// Turns SMS on for `person` in the store, to a new number of the test range; returns it.
pub async fn seed_sms(person: &Person) -> String {
    let keyring = mfa_shared::crypto::Keyring::parse(&var("MFA_ENCRYPTION_KEYS")).expect("the stack's keys");
    let number = phone_number();
    let mut factor = stand_in(mfa_shared::model::MfaType::Sms, FactorState::Enabled, person);
    factor.material = mfa_shared::methods::codes::Target::Phone(number.clone()).material(&keyring, &person.id);
    seed(person, |r| r.factors.push(factor.clone())).await;
    number
}

/// The relying party's origin the stack is configured with.
pub fn rp_origin() -> url::Url {
    url::Url::parse(&var("MFA_RP_ORIGIN")).expect("MFA_RP_ORIGIN is a URL")
}

/// Begins a passkey setup for the bearer of `token` over HTTP and answers it with a new
/// soft passkey: the body for complete-registration, and the key.
pub async fn passkey_registration(
    api: &Api,
    token: &str,
) -> (Value, webauthn_authenticator_rs::softpasskey::SoftPasskey) {
    use webauthn_authenticator_rs::WebauthnAuthenticator;
    let r = api.post("/mfa/setup", Some(token), json!({"mfaType": "PASSKEY"})).await;
    assert_eq!(r.status, 200, "passkey setup: {}", r.body);
    let data = &r.body["data"];
    let mut key = webauthn_authenticator_rs::softpasskey::SoftPasskey::new(true);
    let options = serde_json::from_value(json!({"publicKey": data["publicKey"]})).expect("creation options");
    let credential = key.do_registration(rp_origin(), options).expect("the soft passkey registers");
    (json!({"credential": credential, "challenge": data["challenge"]}), key)
}

/// Registers a new soft passkey for the bearer of `token` over HTTP; returns the key.
pub async fn register_passkey(api: &Api, token: &str) -> webauthn_authenticator_rs::softpasskey::SoftPasskey {
    let (body, key) = passkey_registration(api, token).await;
    let r = api.post("/mfa/passkey/complete-registration", Some(token), body).await;
    assert_eq!(r.status, 200, "complete-registration: {}", r.body);
    key
}

/// Opens a passkey login ceremony over HTTP for `person` and signs it with `key`.
pub async fn passkey_assertion(
    api: &Api,
    person: &Person,
    key: &mut webauthn_authenticator_rs::softpasskey::SoftPasskey,
) -> Value {
    use webauthn_authenticator_rs::WebauthnAuthenticator;
    let r = api.send("POST", "/mfa/passkey/auth-options", Some(&person.platform_token()), None).await;
    assert_eq!(r.status, 200, "auth-options: {}", r.body);
    let options = serde_json::from_value(json!({"publicKey": r.body["data"]["publicKey"]})).expect("request options");
    serde_json::to_value(key.do_authentication(rp_origin(), options).expect("the soft passkey signs")).expect("JSON")
}

/// Every magic-link token item of a user (a scan of the table; tests only).
pub async fn tokens_of(user_id: &str) -> Vec<Value> {
    use aws_sdk_dynamodb::types::AttributeValue;
    let sdk = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let mut found = Vec::new();
    let mut pages = client
        .scan()
        .table_name(&stack().table)
        .filter_expression("sk = :sk AND userId = :user")
        .expression_attribute_values(":sk", AttributeValue::S("TOKEN".into()))
        .expression_attribute_values(":user", AttributeValue::S(user_id.into()))
        .into_paginator()
        .items()
        .send();
    while let Some(item) = pages.next().await {
        let item = item.expect("the scan works");
        found.push(json!(item.keys().collect::<Vec<_>>()));
    }
    found
}

/// Runs one login check of `principal` through the lockout, as verify-login does but
/// issuing no session: the one-time value is spent, failures count.
async fn check_only(
    app: &mfa_shared::App,
    principal: &mfa_shared::auth::Principal,
    (login, loaded): (mfa_shared::methods::Login, Option<mfa_shared::update::Loaded>),
) -> Result<(), mfa_shared::Refusal> {
    use mfa_shared::policy::{Action, Change};
    let now = app.clock.now();
    let change = Change::by_user(Action::Verify, principal, now);
    mfa_shared::update::attempt(
        app,
        principal.user_id.as_str(),
        loaded,
        change,
        None,
        |record, _| login.check(app, record, now).map(|w| ((), w)),
        || login.spent(),
    )
    .await
}

/// Checks an authenticator code of `principal` (the step is spent).
pub async fn verify_code(
    app: &mfa_shared::App,
    principal: &mfa_shared::auth::Principal,
    code: &str,
) -> Result<(), mfa_shared::Refusal> {
    let proof = mfa_shared::proof::LoginProof::Authenticator { code: code.into(), factor_id: None };
    check_only(app, principal, mfa_shared::methods::Login::prepare(app, principal, proof, None).await?).await
}

/// Checks a code sent by mail or text (`method`) of `principal` (the code is spent).
pub async fn verify_sent_code(
    app: &mfa_shared::App,
    principal: &mfa_shared::auth::Principal,
    method: mfa_shared::model::MfaType,
    code: &str,
    factor_id: Option<&str>,
) -> Result<(), mfa_shared::Refusal> {
    let proof =
        mfa_shared::proof::LoginProof::Sent { method, code: code.into(), factor_id: factor_id.map(String::from) };
    check_only(app, principal, mfa_shared::methods::Login::prepare(app, principal, proof, None).await?).await
}

/// Spends a login link of `principal`.
pub async fn verify_login_link(
    app: &mfa_shared::App,
    principal: &mfa_shared::auth::Principal,
    token: &str,
) -> Result<(), mfa_shared::Refusal> {
    let proof = mfa_shared::proof::LoginProof::Link { token: token.into() };
    check_only(app, principal, mfa_shared::methods::Login::prepare(app, principal, proof, None).await?).await
}

/// Checks a passkey assertion of `principal` (its ceremony is spent).
pub async fn verify_assertion(
    app: &mfa_shared::App,
    principal: &mfa_shared::auth::Principal,
    credential: Value,
) -> Result<(), mfa_shared::Refusal> {
    let proof = mfa_shared::proof::LoginProof::Assertion { credential, factor_id: None };
    check_only(app, principal, mfa_shared::methods::Login::prepare(app, principal, proof, None).await?).await
}

/// The secret of `person`'s pending authenticator (Frontegg's enrolment shows only a QR
/// code), opened with the stack's keys.
pub async fn pending_authenticator_secret(person: &Person) -> Vec<u8> {
    let (record, _) = store().await.load_user_and_policy(&person.id, None).await.expect("the record");
    let factor = record
        .factors
        .iter()
        .find(|f| f.state == FactorState::Pending && f.kind() == mfa_shared::model::MfaType::GoogleAuth)
        .expect("a pending authenticator");
    let Material::GoogleAuth { secret } = &factor.material else { unreachable!("an authenticator") };
    let keyring = mfa_shared::crypto::Keyring::parse(&var("MFA_ENCRYPTION_KEYS")).expect("the stack's keys");
    keyring.open(secret, &format!("{}/totp", person.id)).expect("the secret opens")
}

/// The number an SMS factor of `person` texts to, opened with the stack's keys.
pub fn number_of(person: &Person, factor: &Factor) -> String {
    let Material::Sms { phone, .. } = &factor.material else { panic!("an SMS factor") };
    let keyring = mfa_shared::crypto::Keyring::parse(&var("MFA_ENCRYPTION_KEYS")).expect("the stack's keys");
    String::from_utf8(keyring.open(phone, &format!("{}/sms", person.id)).expect("the number opens")).unwrap()
}

/// `person`'s factor of `kind` (the first), from the store.
pub async fn factor_of(person: &Person, kind: mfa_shared::model::MfaType) -> Option<Factor> {
    let (record, _) = store().await.load_user_and_policy(&person.id, None).await.expect("the record");
    record.factors.into_iter().find(|f| f.kind() == kind)
}
