//! The local stack's helpers, shared by the `mfa-local` command and the tests: key
//! material for a developer machine, the table created exactly as `template.yaml`
//! declares it, and platform tokens for a demo user.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    StreamSpecification, StreamViewType, TableStatus, TimeToLiveSpecification,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use serde_norway::Value as Yaml;

pub mod generate;
pub mod load;

/// The table's shape as `template.yaml` declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableSpec {
    /// `(attribute, HASH | RANGE)`.
    pub key_schema: Vec<(String, String)>,
    /// `(attribute, S | N | B)`.
    pub attributes: Vec<(String, String)>,
    pub ttl_attribute: Option<String>,
    /// The stream's view (`NEW_IMAGE`, …), when the table has one.
    pub stream_view: Option<String>,
}

/// Reads the one `AWS::DynamoDB::Table` resource of a SAM/CloudFormation template.
pub fn table_spec(template: &str) -> Result<TableSpec, String> {
    let doc: Yaml = serde_norway::from_str(template).map_err(|e| format!("template is not YAML: {e}"))?;
    let resources = doc.get("Resources").and_then(Yaml::as_mapping).ok_or("template has no Resources")?;
    let mut tables =
        resources.values().filter(|r| r.get("Type").and_then(Yaml::as_str) == Some("AWS::DynamoDB::Table"));
    let table = tables.next().ok_or("template declares no AWS::DynamoDB::Table")?;
    if tables.next().is_some() {
        return Err("template declares more than one table".into());
    }
    let props = table.get("Properties").ok_or("the table has no Properties")?;
    let pairs = |list: &str, a: &str, b: &str| -> Result<Vec<(String, String)>, String> {
        props
            .get(list)
            .and_then(Yaml::as_sequence)
            .ok_or(format!("the table has no {list}"))?
            .iter()
            .map(|e| {
                let x = e.get(a).and_then(Yaml::as_str);
                let y = e.get(b).and_then(Yaml::as_str);
                match (x, y) {
                    (Some(x), Some(y)) => Ok((x.to_string(), y.to_string())),
                    _ => Err(format!("an entry of {list} lacks {a} or {b}")),
                }
            })
            .collect()
    };
    let ttl = props.get("TimeToLiveSpecification");
    let ttl_enabled = ttl.and_then(|t| t.get("Enabled")).and_then(Yaml::as_bool).unwrap_or(false);
    Ok(TableSpec {
        key_schema: pairs("KeySchema", "AttributeName", "KeyType")?,
        attributes: pairs("AttributeDefinitions", "AttributeName", "AttributeType")?,
        ttl_attribute: ttl
            .filter(|_| ttl_enabled)
            .and_then(|t| t.get("AttributeName"))
            .and_then(Yaml::as_str)
            .map(str::to_string),
        stream_view: props
            .get("StreamSpecification")
            .and_then(|s| s.get("StreamViewType"))
            .and_then(Yaml::as_str)
            .map(str::to_string),
    })
}

/// A stream of the table's changes with `view` (`NEW_IMAGE`, …).
fn stream(view: &str) -> Result<StreamSpecification, String> {
    StreamSpecification::builder()
        .stream_enabled(true)
        .stream_view_type(StreamViewType::from(view))
        .build()
        .map_err(|e| e.to_string())
}

/// Creates the table (on demand) with `spec`'s keys, TTL and stream, unless it exists
/// already (a table kept from before it had a stream gets one).
pub async fn ensure_table(client: &Client, name: &str, spec: &TableSpec) -> Result<(), String> {
    let exists = client.describe_table().table_name(name).send().await.is_ok();
    if !exists {
        let mut create = client.create_table().table_name(name).billing_mode(BillingMode::PayPerRequest);
        for (attr, kind) in &spec.key_schema {
            create = create.key_schema(
                KeySchemaElement::builder()
                    .attribute_name(attr)
                    .key_type(KeyType::from(kind.as_str()))
                    .build()
                    .map_err(|e| e.to_string())?,
            );
        }
        for (attr, kind) in &spec.attributes {
            create = create.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(attr)
                    .attribute_type(ScalarAttributeType::from(kind.as_str()))
                    .build()
                    .map_err(|e| e.to_string())?,
            );
        }
        if let Some(view) = &spec.stream_view {
            create = create.stream_specification(stream(view)?);
        }
        if let Err(e) = create.send().await {
            // Created meanwhile by someone else: fine, it is checked below.
            let in_use = e.as_service_error().is_some_and(|se| se.is_resource_in_use_exception());
            if !in_use {
                return Err(format!("creating table {name}: {}", display_sdk(&e)));
            }
        }
    }
    for _ in 0..100 {
        let out = client.describe_table().table_name(name).send().await.map_err(|e| display_sdk(&e))?;
        if out.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A table kept from before it had a stream gets one.
    if let Some(view) = &spec.stream_view {
        let out = client.describe_table().table_name(name).send().await.map_err(|e| display_sdk(&e))?;
        let enabled = out.table().and_then(|t| t.stream_specification()).is_some_and(|s| s.stream_enabled());
        if !enabled {
            client
                .update_table()
                .table_name(name)
                .stream_specification(stream(view)?)
                .send()
                .await
                .map_err(|e| format!("enabling the stream of {name}: {}", display_sdk(&e)))?;
        }
    }
    if let Some(attr) = &spec.ttl_attribute {
        let current = client.describe_time_to_live().table_name(name).send().await.map_err(|e| display_sdk(&e))?;
        let enabled = current.time_to_live_description().and_then(|d| d.attribute_name()).is_some_and(|a| a == attr);
        if !enabled {
            client
                .update_time_to_live()
                .table_name(name)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .attribute_name(attr)
                        .enabled(true)
                        .build()
                        .map_err(|e| e.to_string())?,
                )
                .send()
                .await
                .map_err(|e| format!("enabling TTL on {name}: {}", display_sdk(&e)))?;
        }
    }
    Ok(())
}

pub struct ScanReport {
    pub items: usize,
    /// `(pk, sk)` of every item holding one of the values.
    pub hits: Vec<(String, String)>,
}

/// Scans the whole table for any of `secrets` as a substring of any attribute.
pub async fn scan_for_secrets(client: &Client, table: &str, secrets: &Secrets) -> Result<ScanReport, String> {
    let mut report = ScanReport { items: 0, hits: Vec::new() };
    let mut pages = client.scan().table_name(table).into_paginator().items().send();
    while let Some(item) = pages.next().await {
        let item = item.map_err(|e| display_sdk(&e))?;
        report.items += 1;
        let text = format!("{item:?}");
        if secrets.found_in(&text) > 0 {
            let key = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            report.hits.push((key("pk"), key("sk")));
        }
    }
    Ok(report)
}

/// The secret values a test run was given, searched for all at once (Aho-Corasick: one
/// pass over a text, however many values), each by [`contains_secret`]'s rule.
pub struct Secrets {
    values: Vec<String>,
    matcher: aho_corasick::AhoCorasick,
}

impl Secrets {
    /// The lines of a secrets file of at least 6 characters, each once.
    pub fn parse(text: &str) -> Self {
        let set: std::collections::BTreeSet<&str> = text.lines().map(str::trim).filter(|l| l.len() >= 6).collect();
        let values: Vec<String> = set.into_iter().map(String::from).collect();
        let matcher = aho_corasick::AhoCorasick::new(&values).expect("the secret values build a matcher");
        Self { values, matcher }
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// How many distinct values appear in `text`.
    pub fn found_in(&self, text: &str) -> usize {
        let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        let mut found = std::collections::BTreeSet::new();
        for m in self.matcher.find_overlapping_iter(text) {
            let (start, end) = (m.start(), m.end());
            let whole = self.values[m.pattern().as_usize()].len() >= 12
                || (!word(text[..start].chars().next_back()) && !word(text[end..].chars().next()));
            if whole {
                found.insert(m.pattern().as_usize());
            }
        }
        found.len()
    }
}

/// Whether `secret` appears in `text`. A short one (a six-digit code) counts only as a
/// whole word, never inside a longer run of letters and digits: a timestamp or a request id
/// holds every six digits now and then, and a code stored or logged in plain text stands
/// alone (`"123456"`, `code=123456`).
pub fn contains_secret(text: &str, secret: &str) -> bool {
    if secret.len() >= 12 {
        return text.contains(secret);
    }
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    text.match_indices(secret)
        .any(|(i, _)| !word(text[..i].chars().next_back()) && !word(text[i + secret.len()..].chars().next()))
}

fn display_sdk<E: std::fmt::Debug>(e: &E) -> String {
    format!("{e:?}")
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    aws_lc_rs::rand::fill(&mut buf).expect("the system random generator works");
    buf
}

/// Fresh local key material as `NAME='value'` lines for an env file: the platform's HS256
/// secret, this service's ES256 signing key and its public JWKS, the AES-256-GCM keyring
/// for stored secrets, and the key of the platform backend's server credentials.
pub fn generate_keys_env() -> String {
    let kid = format!("local-{}", hex(&random_bytes::<4>()));
    let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).expect("P-256 key generation works");
    let pkcs8 = pair.to_pkcs8v1().expect("a generated key serializes");
    let point = pair.public_key().as_ref();
    let (x, y) = (&point[1..33], &point[33..65]);
    let jwks = json!({"keys": [{
        "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
        "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y),
    }]});
    let enc_kid = format!("k{}", hex(&random_bytes::<4>()));
    [
        "# Local key material, generated on first run. Never commit this file.".to_string(),
        "MFA_PLATFORM_JWT_ALG='HS256'".to_string(),
        format!("MFA_PLATFORM_JWT_KEY='{}'", URL_SAFE_NO_PAD.encode(random_bytes::<32>())),
        format!("MFA_TOKEN_SIGNING_KEY='{kid}:{}'", URL_SAFE_NO_PAD.encode(pkcs8.as_ref())),
        format!("MFA_TOKEN_PUBLIC_KEYS='{jwks}'"),
        format!("MFA_ENCRYPTION_KEYS='{enc_kid}:{}'", URL_SAFE_NO_PAD.encode(random_bytes::<32>())),
        server_key_line(),
        String::new(),
    ]
    .join("\n")
}

/// The `MFA_SERVER_TOKEN_KEY` line of a key file (also added to a file written before it
/// existed).
pub fn server_key_line() -> String {
    format!("MFA_SERVER_TOKEN_KEY='{}'", URL_SAFE_NO_PAD.encode(random_bytes::<32>()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Milliseconds since the epoch.
pub fn now_millis() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
}

/// A short random label (user ids of one load run).
pub fn random_label() -> String {
    URL_SAFE_NO_PAD.encode(mfa_shared::crypto::random_bytes::<6>())
}

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// The authenticator code of `raw` for the time step `steps` away from the current one
/// (-1 the previous, 0 the current, 1 the next), safe to send: the service accepts one
/// step either side of its own, so a code of the previous step sent in a step's last
/// seconds may land one step too late. In the last 5 seconds of a step this waits for the
/// next step first.
pub async fn totp_code(raw: &[u8], steps: i64) -> String {
    let into_step = (now_millis() % 30_000) as u64;
    if into_step > 25_000 {
        tokio::time::sleep(std::time::Duration::from_millis(30_000 - into_step + 200)).await;
    }
    mfa_shared::methods::totp::code_at(raw, now() + steps * 30)
}

/// A platform token as the host platform would issue it after the password step:
/// HS256 with the platform secret, `exp` `ttl` seconds from now (negative: already expired).
/// `claims` adds or overrides claims (`sub`, `email`, `orgId`, `orgRole`, `iss`, …).
pub fn platform_token(secret: &str, claims: &Value, ttl: i64) -> String {
    let now = now();
    let mut all = json!({"iat": now, "exp": now + ttl});
    if let (Some(all), Some(extra)) = (all.as_object_mut(), claims.as_object()) {
        all.extend(extra.clone());
    }
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &all, &EncodingKey::from_secret(secret.as_bytes()))
        .expect("HS256 signing works")
}

/// A server credential as the platform's backend mints it: HS256 under the server
/// credentials' key, audience `mfa-server`, no user, `exp` `ttl` seconds from now, and the
/// `name` the audit trail shows (`server:<name>`) when one is given.
pub fn server_token(key: &str, name: Option<&str>, ttl: i64) -> String {
    let now = now();
    let mut claims = json!({"aud": mfa_shared::auth::SERVER_AUDIENCE, "iat": now, "exp": now + ttl});
    if let Some(name) = name {
        claims["name"] = json!(name);
    }
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(key.as_bytes()))
        .expect("HS256 signing works")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_scan_finds_what_contains_secret_finds_all_at_once() {
        let secrets = Secrets::parse("123456\n654321\nabc\nAAAA-BBBB-CCCC-DDDD\nlong-token-value-1\n123456\n");
        assert_eq!(secrets.len(), 4, "short lines dropped, duplicates once");
        let texts = [
            ("code=123456 and 654321", 2),
            ("ts 1712345678 holds 123456 inside a number only as 17123456789", 1),
            ("x17123456789", 0),
            ("recovery AAAA-BBBB-CCCC-DDDD, token xlong-token-value-1x", 2),
            ("nothing here", 0),
        ];
        for (text, want) in texts {
            let by_one = secrets.values.iter().filter(|s| contains_secret(text, s)).count();
            assert_eq!((secrets.found_in(text), by_one), (want, want), "{text}");
        }
    }

    #[test]
    fn reads_the_table_from_a_template_with_intrinsic_tags() {
        let spec = table_spec(
            r#"
Resources:
  Fn:
    Type: AWS::Serverless::Function
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: !Sub "mfa-${Stage}"
      KeySchema:
        - { AttributeName: pk, KeyType: HASH }
        - { AttributeName: sk, KeyType: RANGE }
      AttributeDefinitions:
        - { AttributeName: pk, AttributeType: S }
        - { AttributeName: sk, AttributeType: S }
      TimeToLiveSpecification: { AttributeName: expiresAt, Enabled: true }
"#,
        )
        .unwrap();
        assert_eq!(spec.key_schema, vec![("pk".into(), "HASH".into()), ("sk".into(), "RANGE".into())]);
        assert_eq!(spec.ttl_attribute.as_deref(), Some("expiresAt"));
    }

    #[test]
    fn generated_keys_are_usable() {
        let env = generate_keys_env();
        let value = |name: &str| {
            env.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}=")))
                .map(|v| v.trim_matches('\'').to_string())
                .unwrap()
        };
        let signer = mfa_shared::auth::TokenSigner::from_spec(&value("MFA_TOKEN_SIGNING_KEY"), "t").unwrap();
        let keys = mfa_shared::auth::parse_jwks(&value("MFA_TOKEN_PUBLIC_KEYS")).unwrap();
        assert_eq!(keys.len(), 1);
        let claims = mfa_shared::auth::FullAccessClaims {
            identity: Default::default(),
            iss: "t".into(),
            aud: mfa_shared::auth::FULL_ACCESS_AUDIENCE.into(),
            iat: now(),
            exp: now() + 60,
            aal: 2,
            amr: vec!["otp".into()],
            auth_time: now(),
            sid: "s".into(),
            jti: "j".into(),
        };
        // The token is a JWS that jsonwebtoken verifies with the published key, byte for
        // byte: a changed claim or signature is refused.
        let token = signer.sign(&claims).unwrap();
        let (kid, key) = keys.into_iter().next().unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!((header.alg, header.kid.as_deref()), (jsonwebtoken::Algorithm::ES256, Some(kid.as_str())));
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
        validation.set_audience(&[mfa_shared::auth::FULL_ACCESS_AUDIENCE]);
        let data = jsonwebtoken::decode::<mfa_shared::auth::FullAccessClaims>(&token, &key, &validation).unwrap();
        assert_eq!((data.claims.sid.as_str(), data.claims.amr.clone()), ("s", vec!["otp".to_string()]));
        let (message, signature) = token.rsplit_once('.').unwrap();
        let other = signer.sign(&mfa_shared::auth::FullAccessClaims { sid: "t".into(), ..claims }).unwrap();
        let forged = format!("{message}.{}", other.rsplit_once('.').unwrap().1);
        assert!(jsonwebtoken::decode::<mfa_shared::auth::FullAccessClaims>(&forged, &key, &validation).is_err());
        assert_ne!(signature, other.rsplit_once('.').unwrap().1);
    }
}

/// Counts a DynamoDB client's calls, as reads or writes by the operation its `X-Amz-Target`
/// names: what the budget of one read and one write per request is measured with. A call
/// the SDK sends again (its attempt timed out, or DynamoDB answered a transient fault) is
/// one call, with its attempt counted apart (`resent`): the SDK's retries are the
/// deployment's, not a request's design. A write that lost to a transaction on the same
/// items at the same moment (`TransactionConflict`) ends a try (`tries`): the request reads
/// and writes again, as it must, and the budget holds for each try. It also adds up the
/// time the attempts spend on the wire and in DynamoDB (from the moment one is sent to the
/// moment its answer's bytes are in, before the SDK reads them): what a request's own work
/// is measured without. Attempts in flight together (a notice mailed to two addresses at
/// once) count once for the time any of them is away.
#[derive(Clone, Debug, Default)]
pub struct RoundTrips(std::sync::Arc<std::sync::Mutex<Trips>>);

#[derive(Debug, Default)]
struct Trips {
    resent: usize,
    /// The calls of each try, `(reads, writes)`: a new try begins at each write lost to a
    /// transaction on the same items. Empty until the first call.
    tries: Vec<(usize, usize)>,
    /// Round trips sent and not yet answered, and since when one has been.
    in_flight: usize,
    away_since: Option<std::time::Instant>,
    away: std::time::Duration,
}

impl RoundTrips {
    /// `(reads, writes)` since the last call, and zero again (the time away too).
    pub fn take(&self) -> (usize, usize) {
        let t = self.take_all();
        (t.reads(), t.writes())
    }

    /// Everything counted since the last call (see [`Taken`]), and zero again. An attempt
    /// still away (its call dropped by a caller's own timeout, so no hook ends it) is away
    /// until now.
    pub fn take_all(&self) -> Taken {
        let t = std::mem::take(&mut *self.0.lock().expect("the counter lock"));
        let away = t.away + t.away_since.map(|since| since.elapsed()).unwrap_or_default();
        Taken { resent: t.resent, tries: t.tries, away }
    }

    /// The attempt `cfg` is on is back (answered, or ended without an answer), once.
    fn back(&self, cfg: &mut aws_sdk_dynamodb::config::ConfigBag) {
        if cfg.load::<Away>().is_none() {
            return;
        }
        cfg.interceptor_state().unset::<Away>();
        let mut trips = self.0.lock().expect("the counter lock");
        trips.in_flight = trips.in_flight.saturating_sub(1);
        if trips.in_flight == 0
            && let Some(since) = trips.away_since.take()
        {
            trips.away += since.elapsed();
        }
    }

    /// A DynamoDB client on `sdk` (with the service's timeouts) that counts into `self`.
    pub fn client(&self, sdk: &aws_config::SdkConfig) -> Client {
        let service = mfa_shared::app::dynamodb_client(sdk);
        let config = service.config().to_builder().interceptor(self.clone()).build();
        Client::from_conf(config)
    }

    /// An SES client on `sdk` (as the service builds it) whose requests are timed into
    /// `self`, not counted.
    pub fn sesv2(&self, sdk: &aws_config::SdkConfig) -> aws_sdk_sesv2::Client {
        let service = mfa_shared::app::sesv2_client(sdk);
        aws_sdk_sesv2::Client::from_conf(service.config().to_builder().interceptor(self.clone()).build())
    }

    /// An SNS client on `sdk` (as the service builds it) whose requests are timed into
    /// `self`, not counted.
    pub fn sns(&self, sdk: &aws_config::SdkConfig) -> aws_sdk_sns::Client {
        let service = mfa_shared::app::sns_client(sdk);
        aws_sdk_sns::Client::from_conf(service.config().to_builder().interceptor(self.clone()).build())
    }
}

/// What [`RoundTrips`] counted: the attempts the SDK sent again, the calls of each try
/// (a try ends with a write lost to a transaction on the same items), and the time away.
#[derive(Clone, Debug, Default)]
pub struct Taken {
    pub resent: usize,
    pub tries: Vec<(usize, usize)>,
    pub away: std::time::Duration,
}

impl Taken {
    /// The read calls of every try.
    pub fn reads(&self) -> usize {
        self.tries.iter().map(|t| t.0).sum()
    }

    /// The write calls of every try.
    pub fn writes(&self) -> usize {
        self.tries.iter().map(|t| t.1).sum()
    }
}

/// In a call's config bag while its attempt is sent and not yet answered.
#[derive(Clone, Copy, Debug)]
struct Away;

impl aws_smithy_types::config_bag::Storable for Away {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

/// In a call's config bag once one of its attempts was sent: the call is counted then,
/// the attempts after it are sent again.
#[derive(Clone, Copy, Debug)]
struct Counted;

impl aws_smithy_types::config_bag::Storable for Counted {
    type Storer = aws_smithy_types::config_bag::StoreReplace<Self>;
}

impl aws_sdk_dynamodb::config::Intercept for RoundTrips {
    fn name(&self) -> &'static str {
        "RoundTrips"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _components: &aws_sdk_dynamodb::config::RuntimeComponents,
        cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let target = context.request().headers().get("x-amz-target").unwrap_or_default();
        let operation = target.rsplit('.').next().unwrap_or_default();
        let sent_before = cfg.load::<Counted>().is_some();
        cfg.interceptor_state().store_put(Counted);
        let mut trips = self.0.lock().expect("the counter lock");
        let read = matches!(operation, "GetItem" | "BatchGetItem" | "TransactGetItems" | "Query" | "Scan");
        match operation {
            // Only DynamoDB's requests are counted (SES's and SNS's are timed too).
            _ if !target.starts_with("DynamoDB") => {}
            _ if sent_before => trips.resent += 1,
            _ => {
                if trips.tries.is_empty() {
                    trips.tries.push((0, 0));
                }
                let now = trips.tries.last_mut().expect("a try");
                if read {
                    now.0 += 1;
                } else {
                    now.1 += 1;
                }
            }
        }
        if trips.in_flight == 0 {
            trips.away_since = Some(std::time::Instant::now());
        }
        trips.in_flight += 1;
        cfg.interceptor_state().store_put(Away);
        Ok(())
    }

    fn read_after_transmit(
        &self,
        _context: &aws_sdk_dynamodb::config::interceptors::BeforeDeserializationInterceptorContextRef<'_>,
        _components: &aws_sdk_dynamodb::config::RuntimeComponents,
        cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        self.back(cfg);
        Ok(())
    }

    /// An attempt that ended unanswered (its timeout, a broken connection) is back too: the
    /// time it was away counts, and the attempt sent after it is timed on its own.
    fn read_after_attempt(
        &self,
        _context: &aws_sdk_dynamodb::config::interceptors::FinalizerInterceptorContextRef<'_>,
        _components: &aws_sdk_dynamodb::config::RuntimeComponents,
        cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        self.back(cfg);
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::AfterDeserializationInterceptorContextRef<'_>,
        _components: &aws_sdk_dynamodb::config::RuntimeComponents,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        use aws_sdk_dynamodb::error::ProvideErrorMetadata;
        use aws_sdk_dynamodb::operation::{
            delete_item::DeleteItemError, put_item::PutItemError, transact_write_items::TransactWriteItemsError,
            update_item::UpdateItemError,
        };
        let Err(error) = context.output_or_error() else { return Ok(()) };
        let Some(error) = error.as_operation_error() else { return Ok(()) };
        let conflict = |code: Option<&str>| code == Some("TransactionConflictException");
        let lost = if let Some(e) = error.downcast_ref::<TransactWriteItemsError>() {
            match e {
                TransactWriteItemsError::TransactionCanceledException(tc) => {
                    tc.cancellation_reasons().iter().any(|r| r.code() == Some("TransactionConflict"))
                }
                e => conflict(e.code()),
            }
        } else if let Some(e) = error.downcast_ref::<PutItemError>() {
            conflict(e.code())
        } else if let Some(e) = error.downcast_ref::<UpdateItemError>() {
            conflict(e.code())
        } else if let Some(e) = error.downcast_ref::<DeleteItemError>() {
            conflict(e.code())
        } else {
            false
        };
        if lost {
            // What the request sends after this answer is its next try.
            self.0.lock().expect("the counter lock").tries.push((0, 0));
        }
        Ok(())
    }
}

/// The process's CPU time so far, in milliseconds (every thread's). On a one-thread runtime
/// a request's share of it is its own work: the handler, the SDK's building, signing and
/// reading, never the time its round trips wait or the time the core serves another process.
pub fn cpu_ms() -> f64 {
    let mut t = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the timespec it is given and nothing else.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    assert_eq!(ok, 0, "the process CPU clock");
    t.tv_sec as f64 * 1000.0 + t.tv_nsec as f64 / 1e6
}

/// A DynamoDB interceptor that asks for the capacity every request consumes
/// (`ReturnConsumedCapacity: TOTAL`) and adds up what DynamoDB answers: the read and write
/// request units that an on-demand table bills, those of transactions apart. It also notes
/// every item each write touches ([`Written`]), so that the units AWS bills can be worked
/// out item by item: DynamoDB Local reports one figure for a whole transaction (6 units for
/// a login's record, refresh chain and event, 10 as AWS bills them), where AWS rounds each
/// item up to its own kilobyte, doubles it in a transaction and bills a condition check as
/// a write.
#[derive(Clone, Debug, Default)]
pub struct Capacity(std::sync::Arc<std::sync::Mutex<(Units, Vec<Written>)>>);

/// One item a write touched: how, its key, and its size when the write carries the whole
/// item (a put); the others' sizes are read from the table afterwards ([`Written::size`]).
#[derive(Clone, Debug)]
pub struct Written {
    pub action: &'static str,
    pub transactional: bool,
    pub key: std::collections::HashMap<String, AttributeValue>,
    pub size: Option<usize>,
}

impl Written {
    /// The bytes the item counts for, by AWS's rules: a put's own size, and for an update
    /// or a condition check the item as it stands now (an update bills the larger of the
    /// item before and after; the items measured here grow or stay the same). A deleted
    /// item is gone, so it counts as the smallest, 1 byte (1 unit): say so where it matters.
    pub async fn size(&self, client: &Client, table: &str) -> usize {
        if let Some(size) = self.size {
            return size;
        }
        let out =
            client.get_item().table_name(table).set_key(Some(self.key.clone())).consistent_read(true).send().await;
        out.ok().and_then(|o| o.item).map(|i| item_size(&i)).unwrap_or(1)
    }

    /// The write units AWS bills for this item of `size` bytes: one per kilobyte begun,
    /// twice in a transaction.
    pub fn units(&self, size: usize) -> f64 {
        let units = size.div_ceil(1024).max(1) as f64;
        if self.transactional { 2.0 * units } else { units }
    }

    /// The sort key, for a report (`MFA` is the user's record).
    pub fn sort_key(&self) -> String {
        match self.key.get("sk") {
            Some(AttributeValue::S(sk)) => sk.clone(),
            _ => String::new(),
        }
    }
}

/// An item's size as DynamoDB counts it for capacity
/// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
/// each attribute's name and value; a string or binary its bytes, a number about one byte
/// per two significant digits plus one, a boolean or null one byte, a list or map 3 bytes
/// plus one per element plus its elements (a map's names too), a set its elements.
pub fn item_size(item: &std::collections::HashMap<String, AttributeValue>) -> usize {
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
}

fn number_size(n: &str) -> usize {
    let digits: String = n.chars().filter(|c| c.is_ascii_digit()).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len().max(1);
    significant.div_ceil(2) + 1
}

fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(v) => 3 + v.iter().map(|e| 1 + value_size(e)).sum::<usize>(),
        AttributeValue::M(m) => 3 + m.iter().map(|(k, e)| 1 + k.len() + value_size(e)).sum::<usize>(),
        _ => 0,
    }
}

/// Request units DynamoDB reported.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Units {
    pub read: f64,
    pub write: f64,
    pub transact_read: f64,
    pub transact_write: f64,
}

#[derive(Clone, Copy)]
enum Kind {
    Read,
    Write,
    TransactRead,
    TransactWrite,
}

impl Capacity {
    /// The units since the last call, and zero again.
    pub fn take(&self) -> Units {
        self.take_written().0
    }

    /// The units and the items written since the last call, and none again.
    pub fn take_written(&self) -> (Units, Vec<Written>) {
        std::mem::take(&mut *self.0.lock().expect("the capacity lock"))
    }

    /// A DynamoDB client on `sdk` (with the service's timeouts) that counts into `self`.
    pub fn client(&self, sdk: &aws_config::SdkConfig) -> Client {
        let service = mfa_shared::app::dynamodb_client(sdk);
        Client::from_conf(service.config().to_builder().interceptor(self.clone()).build())
    }

    fn add(&self, kind: Kind, consumed: &aws_sdk_dynamodb::types::ConsumedCapacity) {
        let units = &mut self.0.lock().expect("the capacity lock").0;
        let n = consumed.capacity_units.unwrap_or(0.0);
        match kind {
            Kind::Read => units.read += n,
            Kind::Write => units.write += n,
            Kind::TransactRead => units.transact_read += n,
            Kind::TransactWrite => units.transact_write += n,
        }
    }
}

impl aws_sdk_dynamodb::config::Intercept for Capacity {
    fn name(&self) -> &'static str {
        "Capacity"
    }

    fn modify_before_serialization(
        &self,
        context: &mut aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextMut<'_>,
        _components: &aws_sdk_dynamodb::config::RuntimeComponents,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        use aws_sdk_dynamodb::operation::*;
        use aws_sdk_dynamodb::types::ReturnConsumedCapacity::Total;
        let input = context.input_mut();
        macro_rules! ask {
            ($($op:ident :: $t:ident),*) => {$(
                if let Some(i) = input.downcast_mut::<$op::$t>() {
                    i.return_consumed_capacity = Some(Total);
                }
            )*};
        }
        ask!(
            get_item::GetItemInput,
            query::QueryInput,
            transact_get_items::TransactGetItemsInput,
            put_item::PutItemInput,
            update_item::UpdateItemInput,
            delete_item::DeleteItemInput,
            transact_write_items::TransactWriteItemsInput
        );
        let key_of = |item: &std::collections::HashMap<String, AttributeValue>| {
            item.iter().filter(|(k, _)| *k == "pk" || *k == "sk").map(|(k, v)| (k.clone(), v.clone())).collect()
        };
        let mut written = Vec::new();
        let mut note =
            |action, transactional, key: Option<&std::collections::HashMap<String, AttributeValue>>, size| {
                written.push(Written { action, transactional, key: key.cloned().unwrap_or_default(), size })
            };
        if let Some(i) = input.downcast_ref::<put_item::PutItemInput>() {
            let item = i.item.clone().unwrap_or_default();
            note("put", false, Some(&key_of(&item)), Some(item_size(&item)));
        } else if let Some(i) = input.downcast_ref::<update_item::UpdateItemInput>() {
            note("update", false, i.key.as_ref(), None);
        } else if let Some(i) = input.downcast_ref::<delete_item::DeleteItemInput>() {
            note("delete", false, i.key.as_ref(), None);
        } else if let Some(i) = input.downcast_ref::<transact_write_items::TransactWriteItemsInput>() {
            for t in i.transact_items.iter().flatten() {
                if let Some(p) = &t.put {
                    note("put", true, Some(&key_of(&p.item)), Some(item_size(&p.item)));
                } else if let Some(u) = &t.update {
                    note("update", true, Some(&u.key), None);
                } else if let Some(c) = &t.condition_check {
                    note("condition check", true, Some(&c.key), None);
                } else if let Some(d) = &t.delete {
                    note("delete", true, Some(&d.key), None);
                }
            }
        }
        self.0.lock().expect("the capacity lock").1.extend(written);
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &aws_sdk_dynamodb::config::interceptors::AfterDeserializationInterceptorContextRef<'_>,
        _components: &aws_sdk_dynamodb::config::RuntimeComponents,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        use aws_sdk_dynamodb::operation::*;
        let Ok(output) = context.output_or_error() else { return Ok(()) };
        let one = |kind: Kind, c: &Option<aws_sdk_dynamodb::types::ConsumedCapacity>| {
            if let Some(c) = c {
                self.add(kind, c)
            }
        };
        let many = |kind: Kind, c: &Option<Vec<aws_sdk_dynamodb::types::ConsumedCapacity>>| {
            for c in c.iter().flatten() {
                self.add(kind, c)
            }
        };
        if let Some(o) = output.downcast_ref::<get_item::GetItemOutput>() {
            one(Kind::Read, &o.consumed_capacity);
        } else if let Some(o) = output.downcast_ref::<query::QueryOutput>() {
            one(Kind::Read, &o.consumed_capacity);
        } else if let Some(o) = output.downcast_ref::<transact_get_items::TransactGetItemsOutput>() {
            many(Kind::TransactRead, &o.consumed_capacity);
        } else if let Some(o) = output.downcast_ref::<put_item::PutItemOutput>() {
            one(Kind::Write, &o.consumed_capacity);
        } else if let Some(o) = output.downcast_ref::<update_item::UpdateItemOutput>() {
            one(Kind::Write, &o.consumed_capacity);
        } else if let Some(o) = output.downcast_ref::<delete_item::DeleteItemOutput>() {
            one(Kind::Write, &o.consumed_capacity);
        } else if let Some(o) = output.downcast_ref::<transact_write_items::TransactWriteItemsOutput>() {
            many(Kind::TransactWrite, &o.consumed_capacity);
        }
        Ok(())
    }
}

#[cfg(test)]
mod secret_scan_tests {
    use super::contains_secret;

    #[test]
    fn short_codes_count_as_whole_words_and_long_secrets_anywhere() {
        assert!(contains_secret(r#"S("123456")"#, "123456"));
        assert!(contains_secret("code=123456 sent", "123456"));
        assert!(!contains_secret("at 1764612345678", "123456"), "inside a timestamp");
        assert!(!contains_secret("id a123456b", "123456"));
        assert!(contains_secret("xxabcdefghijklmnopxx", "abcdefghijklmnop"));
    }
}

#[cfg(test)]
mod item_size_tests {
    use super::{AttributeValue, item_size};
    use std::collections::HashMap;

    #[test]
    fn sizes_count_names_values_and_the_overhead_of_lists_and_maps() {
        let item = |pairs: Vec<(&str, AttributeValue)>| -> HashMap<String, AttributeValue> {
            pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
        };
        // "pk" + "USER#1": 2 + 6.
        assert_eq!(item_size(&item(vec![("pk", AttributeValue::S("USER#1".into()))])), 8);
        // A number: one byte per two significant digits, plus one; zeros at the ends trimmed.
        assert_eq!(item_size(&item(vec![("n", AttributeValue::N("12345".into()))])), 1 + 3 + 1);
        assert_eq!(item_size(&item(vec![("n", AttributeValue::N("1000".into()))])), 1 + 1 + 1);
        // A map: 3 bytes, and per element 1 byte, its name and its value.
        let map = AttributeValue::M(item(vec![("a", AttributeValue::Bool(true))]));
        assert_eq!(item_size(&item(vec![("m", map)])), 1 + 3 + (1 + 1 + 1));
        // A list: 3 bytes, and per element 1 byte and its value.
        let list = AttributeValue::L(vec![AttributeValue::S("xy".into()), AttributeValue::Null(true)]);
        assert_eq!(item_size(&item(vec![("l", list)])), 1 + 3 + (1 + 2) + (1 + 1));
    }
}
