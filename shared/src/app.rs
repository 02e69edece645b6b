//! What a function builds once per cold start and hands to its handler by reference.

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_dynamodb::config::{BehaviorVersion, Region, SharedHttpClient, StalledStreamProtectionConfig};
use aws_smithy_async::rt::sleep::TokioSleep;
use aws_smithy_async::time::SharedTimeSource;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_types::SdkConfig;
use aws_types::service_config::{LoadServiceConfig, ServiceConfigKey};

use crate::auth::{TokenSigner, TokenVerifier};
use crate::clock::Clock;
use crate::config::{ConfigError, Environment, MailConfig, Reader, RelyingPartyConfig, Source, StoreConfig};
use crate::crypto::Keyring;
use crate::mail::Mailer;
use crate::mail::Texter;
use crate::mfa_type::MfaType;
use crate::refusal::Refusal;
use crate::store::Store;

pub use crate::routes::Needs;

/// A dependency that is down or hung must cost a request less than 3 seconds, so the
/// caller gets a `503` with `Retry-After` in the envelope, never a Lambda timeout
/// answered outside it. DynamoDB answers in milliseconds when it answers at all: a
/// connection gets 250 ms, an attempt 750 ms, and the whole operation (one retry, after a
/// short backoff) 1.5 s. Throttling is retried once too, then answered with a 503. A
/// request stops at the first call that fails, so 1.5 s bounds a route's wait on a store
/// that is down, leaving room for the rest of the request within 3 s.
///
/// The SDK's stalled-stream protection (a body that moves under 1 B/s for 5 s is cut) is
/// off for every client: an attempt's timeout already ends any request long before it,
/// and its watch wraps each request's and answer's body, work every call paid for.
pub fn dynamodb_client(sdk: &SdkConfig) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::config::Builder::from(sdk)
        .timeout_config(timeouts(Duration::from_millis(750), Duration::from_millis(1500)))
        .retry_config(retries())
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// SES gets 1 s an attempt and 1.5 s in all: a mail is sent after the store's work (a
/// link or a code), so a request that also waited on the store stays under 3 s; the
/// audit writer mails notices with the same bounds (`outbox::MAIL_MARGIN`).
pub fn sesv2_client(sdk: &SdkConfig) -> aws_sdk_sesv2::Client {
    let config = aws_sdk_sesv2::config::Builder::from(sdk)
        .timeout_config(timeouts(Duration::from_secs(1), Duration::from_millis(1500)))
        .retry_config(retries())
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .build();
    aws_sdk_sesv2::Client::from_conf(config)
}

/// SNS gets SES's bounds, 1 s an attempt and 1.5 s in all: a text is sent after the
/// store's work, and an undelivered code is removed after it, so a request that texts
/// stays under 3 s.
pub fn sns_client(sdk: &SdkConfig) -> aws_sdk_sns::Client {
    let config = aws_sdk_sns::config::Builder::from(sdk)
        .timeout_config(timeouts(Duration::from_secs(1), Duration::from_millis(1500)))
        .retry_config(retries())
        .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
        .build();
    aws_sdk_sns::Client::from_conf(config)
}

/// The roots AWS service endpoints chain to (Amazon Trust Services: Amazon Root CA 1–4,
/// and the Starfield root that cross-signs them), from Debian's `ca-certificates`.
const AWS_ROOTS: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

/// Which certificate authorities the HTTPS client trusts (`MFA_TLS_TRUST`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsTrust {
    /// `aws` (the default): only the roots AWS endpoints chain to. Narrower trust, and a
    /// cold start that reads no certificate files: loading the system store (about 140
    /// roots, file by file) was most of a function's init time.
    AwsRoots,
    /// `system`: the platform's store, for endpoints behind another authority (a proxy).
    System,
}

impl TlsTrust {
    fn read(r: &mut Reader) -> Self {
        match r.or("MFA_TLS_TRUST", "aws").as_str() {
            "aws" => TlsTrust::AwsRoots,
            "system" => TlsTrust::System,
            _ => {
                r.invalid("MFA_TLS_TRUST", "must be aws or system");
                TlsTrust::AwsRoots
            }
        }
    }
}

/// The SDK's settings, from what Lambda puts in the environment: the region, the function
/// role's credentials, the FIPS and dual-stack endpoint switches, and `AWS_ENDPOINT_URL_*`
/// (local endpoints), with the HTTPS client. Built directly: aws-config's loader also builds
/// providers for profiles, SSO, web identity, ECS and IMDS that a function never uses, and
/// links an STS client into every binary.
fn sdk_config(source: &dyn Source, trust: TlsTrust) -> SdkConfig {
    let mut sdk = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(https_client(trust))
        .sleep_impl(TokioSleep::new())
        .time_source(SharedTimeSource::default())
        .use_fips(source.get("AWS_USE_FIPS_ENDPOINT").is_some_and(|v| v.eq_ignore_ascii_case("true")))
        .use_dual_stack(source.get("AWS_USE_DUALSTACK_ENDPOINT").is_some_and(|v| v.eq_ignore_ascii_case("true")))
        .service_config(Endpoints::read(source));
    if let Some(region) = source.get("AWS_REGION").or_else(|| source.get("AWS_DEFAULT_REGION")) {
        sdk = sdk.region(Region::new(region));
    }
    match (source.get("AWS_ACCESS_KEY_ID"), source.get("AWS_SECRET_ACCESS_KEY")) {
        (Some(id), Some(secret)) => {
            let credentials = Credentials::new(id, secret, source.get("AWS_SESSION_TOKEN"), None, "environment");
            sdk = sdk.credentials_provider(SharedCredentialsProvider::new(credentials));
        }
        // Lambda always gives a function its role's credentials; without them every call
        // fails (a 503), so say why once, at cold start.
        _ => tracing::error!("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set: calls to AWS will fail"),
    }
    sdk.build()
}

/// Where a client sends its requests instead of the service's AWS endpoint (the local
/// stack), as aws-config reads it: `AWS_ENDPOINT_URL_<SERVICE ID>`, else `AWS_ENDPOINT_URL`.
#[derive(Debug)]
struct Endpoints(Vec<(&'static str, String)>);

impl Endpoints {
    const NAMES: [&'static str; 4] =
        ["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SESV2", "AWS_ENDPOINT_URL_SNS", "AWS_ENDPOINT_URL"];

    fn read(source: &dyn Source) -> Self {
        Self(Self::NAMES.iter().filter_map(|n| source.get(n).map(|v| (*n, v))).collect())
    }

    fn get(&self, name: &str) -> Option<String> {
        self.0.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
    }
}

impl LoadServiceConfig for Endpoints {
    fn load_config(&self, key: ServiceConfigKey<'_>) -> Option<String> {
        if key.profile() != "endpoint_url" {
            return None;
        }
        let service = key.service_id().to_ascii_uppercase().replace(' ', "_");
        self.get(&format!("{}_{service}", key.env())).or_else(|| self.get(key.env()))
    }
}

/// The HTTPS client of the SDK clients (rustls on aws-lc), built once per cold start.
fn https_client(trust: TlsTrust) -> SharedHttpClient {
    let store = match trust {
        TlsTrust::AwsRoots => TrustStore::empty().with_pem_certificate(AWS_ROOTS),
        TlsTrust::System => TrustStore::default(),
    };
    let context = TlsContext::builder().with_trust_store(store).build().expect("the embedded roots are valid PEM");
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc))
        .tls_context(context)
        .build_https()
}

fn timeouts(attempt: Duration, operation: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_millis(250))
        .operation_attempt_timeout(attempt)
        .operation_timeout(operation)
        .build()
}

fn retries() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(2)
        .with_initial_backoff(Duration::from_millis(25))
        .with_max_backoff(Duration::from_millis(100))
}

/// An SDK client built at its first use from what cold start read: a function that can
/// mail or text sends nothing for most requests (refusals, and every change that is not a
/// factor's), so the SES and SNS clients cost its cold start nothing.
struct OnFirstUse<S, T> {
    setup: Option<S>,
    build: fn(&S) -> T,
    /// What the log says when the function was started without the settings.
    missing: &'static str,
    built: std::sync::OnceLock<T>,
}

impl<S, T> OnFirstUse<S, T> {
    fn new(setup: Option<S>, build: fn(&S) -> T, missing: &'static str) -> Self {
        Self { setup, build, missing, built: std::sync::OnceLock::new() }
    }

    fn get(&self) -> Result<&T, Refusal> {
        if let Some(built) = self.built.get() {
            return Ok(built);
        }
        let Some(setup) = &self.setup else {
            tracing::error!("{}", self.missing);
            return Err(Refusal::Internal);
        };
        Ok(self.built.get_or_init(|| (self.build)(setup)))
    }

    /// Uses `built` instead (a test's client).
    fn replace(&mut self, built: T) {
        self.built = std::sync::OnceLock::from(built);
    }
}

pub struct App {
    auth: Option<TokenVerifier>,
    pub store: Store,
    pub clock: Clock,
    keyring: Option<Keyring>,
    mailer: OnFirstUse<(SdkConfig, MailConfig), Mailer>,
    texter: OnFirstUse<SdkConfig, Texter>,
    /// The SMS defences' settings (`sms`): the functions that text, when SMS is offered.
    sms: Option<crate::sms::SmsRules>,
    webauthn: Option<webauthn_rs::Webauthn>,
    pub relying_party: Option<RelyingPartyConfig>,
    signer: Option<TokenSigner>,
    /// The issuer shown in authenticator apps (`MFA_TOTP_ISSUER`, default "MFA").
    pub totp_issuer: String,
    /// The methods this deployment offers (`MFA_METHODS`; every function that takes a
    /// bearer token reads it).
    pub offered: Vec<MfaType>,
    /// How long audit events are kept, in seconds (`MFA_AUDIT_RETENTION`, default 400
    /// days; every function with the store reads it).
    pub audit_retention: u64,
    /// How long a device may be remembered, in seconds (`MFA_DEVICE_LIFETIME`, default 14
    /// days, 0: never), before an organization shortens it.
    pub device_lifetime: u64,
}

/// The passkey relying party of `config`: its id, origin and name, and the ceremonies'
/// timeout.
pub fn relying_party(config: &RelyingPartyConfig) -> Result<webauthn_rs::Webauthn, String> {
    let origin =
        webauthn_rs::prelude::Url::parse(&config.origin).map_err(|_| "MFA_RP_ORIGIN is not a URL".to_string())?;
    let timeout = std::time::Duration::from_secs(crate::config::CEREMONY_LIFETIME as u64);
    webauthn_rs::WebauthnBuilder::new(&config.id, &origin)
        .and_then(|b| b.rp_name(&config.name).timeout(timeout).build())
        .map_err(|e| format!("MFA_RP_ID and MFA_RP_ORIGIN do not fit together ({e})"))
}

impl App {
    /// What `function` needs, from its row of the route table, read from the process
    /// environment: a function's `main` starts here.
    pub async fn for_function(function: &str) -> Result<Self, ConfigError> {
        let route = crate::routes::route(function).ok_or(ConfigError::UnknownFunction)?;
        Self::from_env(route.needs).await
    }

    /// Reads the configuration from the process environment and builds the clients.
    pub async fn from_env(needs: Needs) -> Result<Self, ConfigError> {
        Self::from_source(&Environment, needs).await
    }

    pub async fn from_source(source: &dyn Source, needs: Needs) -> Result<Self, ConfigError> {
        let mut r = Reader::new(source);
        let table = if needs.store { StoreConfig::read(&mut r).table_name } else { String::new() };
        let auth = if needs.auth {
            let mut verifier = TokenVerifier::read(&mut r);
            if needs.backend.takes_server() {
                if let Some(v) = verifier.as_mut() {
                    v.read_server_key(&mut r);
                }
            }
            verifier
        } else if needs.sessions_only {
            TokenVerifier::read_sessions_only(&mut r)
        } else {
            None
        };
        let keyring = if needs.keyring { Keyring::read(&mut r) } else { None };
        let mail = needs.mail.then(|| MailConfig::read(&mut r));
        let relying_party = needs.webauthn.then(|| RelyingPartyConfig::read(&mut r));
        let webauthn = match &relying_party {
            Some(rp) if !r.has_problems() => match self::relying_party(rp) {
                Ok(w) => Some(w),
                Err(reason) => {
                    r.invalid("MFA_RP_ORIGIN", reason);
                    None
                }
            },
            _ => None,
        };
        let signer = if needs.signer { TokenSigner::read(&mut r) } else { None };
        let totp_issuer = if needs.keyring { r.or("MFA_TOTP_ISSUER", "MFA") } else { String::new() };
        let offered = if needs.auth { crate::config::offered_methods(&mut r) } else { Vec::new() };
        let sms = (needs.sms && offered.contains(&MfaType::Sms)).then(|| crate::sms::SmsRules::read(&mut r));
        let audit_retention = if needs.store {
            r.seconds("MFA_AUDIT_RETENTION", crate::config::DEFAULT_AUDIT_RETENTION, 86_400..=3650 * 86_400)
        } else {
            crate::config::DEFAULT_AUDIT_RETENTION
        };
        let device_lifetime = if needs.auth {
            r.seconds("MFA_DEVICE_LIFETIME", crate::config::DEFAULT_DEVICE_LIFETIME, 0..=90 * 86_400)
        } else {
            0
        };
        let tls_trust =
            if needs.store || needs.mail || needs.sms { TlsTrust::read(&mut r) } else { TlsTrust::AwsRoots };
        r.finish()?;
        let sdk = sdk_config(source, tls_trust);
        let store = Store::on_first_use(sdk.clone(), dynamodb_client, table);
        let mailer = OnFirstUse::new(
            mail.map(|config| (sdk.clone(), config)),
            |(sdk, config)| Mailer::new(sesv2_client(sdk), config.clone()),
            "this function was started without mail settings",
        );
        let texter = OnFirstUse::new(
            needs.sms.then(|| sdk.clone()),
            |sdk| Texter::new(sns_client(sdk)),
            "this function was started without text message sending",
        );
        Ok(Self {
            auth,
            store,
            clock: Clock::system(),
            keyring,
            mailer,
            texter,
            sms,
            webauthn,
            relying_party,
            signer,
            totp_issuer,
            offered,
            audit_retention,
            device_lifetime,
        })
    }

    /// The same application on another clock (tests move time instead of sleeping).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The same application on another store (tests count its round trips).
    pub fn with_store(mut self, store: Store) -> Self {
        self.store = store;
        self
    }

    /// The same application sending mail through another SES client (tests point it at an
    /// endpoint that is down).
    pub fn with_mailer(mut self, mailer: Mailer) -> Self {
        self.mailer.replace(mailer);
        self
    }

    /// `method`, when this deployment offers it; else a `400` that names the ones it does.
    pub fn offers(&self, method: MfaType) -> Result<MfaType, Refusal> {
        if self.offered.contains(&method) {
            return Ok(method);
        }
        let names: Vec<&str> = self.offered.iter().map(|m| m.as_str()).collect();
        Err(Refusal::InvalidField(
            format!("{} is not offered here; `mfaType` must be one of {}.", method.as_str(), names.join(", ")).into(),
        ))
    }

    /// The token verifier (every function whose route takes a bearer token).
    pub fn auth(&self) -> Result<&TokenVerifier, Refusal> {
        self.auth.as_ref().ok_or_else(|| {
            tracing::error!("this function was started without token verification settings");
            Refusal::Internal
        })
    }

    pub fn mailer(&self) -> Result<&Mailer, Refusal> {
        self.mailer.get()
    }

    pub fn texter(&self) -> Result<&Texter, Refusal> {
        self.texter.get()
    }

    /// The SMS defences' settings.
    pub fn sms(&self) -> Result<&crate::sms::SmsRules, Refusal> {
        self.sms.as_ref().ok_or_else(|| {
            tracing::error!("this function was started without the SMS settings");
            Refusal::Internal
        })
    }

    /// The same application with other SMS defences' settings (tests set small limits).
    pub fn with_sms(mut self, rules: crate::sms::SmsRules) -> Self {
        self.sms = Some(rules);
        self
    }

    /// The same application texting through another SNS client (tests point it at an
    /// endpoint that is down).
    pub fn with_texter(mut self, texter: Texter) -> Self {
        self.texter.replace(texter);
        self
    }

    pub fn webauthn(&self) -> Result<(&webauthn_rs::Webauthn, &RelyingPartyConfig), Refusal> {
        match (&self.webauthn, &self.relying_party) {
            (Some(w), Some(rp)) => Ok((w, rp)),
            _ => {
                tracing::error!("this function was started without relying-party settings");
                Err(Refusal::Internal)
            }
        }
    }

    pub fn signer(&self) -> Result<&TokenSigner, Refusal> {
        self.signer.as_ref().ok_or_else(|| {
            tracing::error!("this function was started without MFA_TOKEN_SIGNING_KEY");
            Refusal::Internal
        })
    }

    pub fn keyring(&self) -> Result<&Keyring, Refusal> {
        self.keyring.as_ref().ok_or_else(|| {
            tracing::error!("this function was started without MFA_ENCRYPTION_KEYS");
            Refusal::Internal
        })
    }

    /// The keyring where this function holds one (most do not, by design): for work done
    /// only where it can be, never a fault where it cannot.
    pub(crate) fn keyring_if_held(&self) -> Option<&Keyring> {
        self.keyring.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_roots_are_amazon_trust_services_and_build_a_client() {
        let pem = String::from_utf8_lossy(AWS_ROOTS);
        assert_eq!(pem.matches("-----BEGIN CERTIFICATE-----").count(), 5);
        let _ = https_client(TlsTrust::AwsRoots);
    }

    #[test]
    fn endpoints_are_read_per_service_as_aws_config_reads_them() {
        // The keys the SDK clients ask for (their `From<&SdkConfig>`).
        let endpoint = |sdk: &SdkConfig, service: &str| {
            let key = ServiceConfigKey::builder().service_id(service).env("AWS_ENDPOINT_URL").profile("endpoint_url");
            sdk.service_config().and_then(|c| c.load_config(key.build().unwrap()))
        };
        let source =
            [("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000"), ("AWS_ENDPOINT_URL", "http://127.0.0.1:9")];
        let sdk = sdk_config(&source, TlsTrust::AwsRoots);
        assert_eq!(endpoint(&sdk, "DynamoDB").as_deref(), Some("http://127.0.0.1:8000"));
        assert_eq!(
            endpoint(&sdk, "SESv2").as_deref(),
            Some("http://127.0.0.1:9"),
            "the general one when none is named"
        );
        let sns_only = sdk_config(&[("AWS_ENDPOINT_URL_SNS", "http://127.0.0.1:8010")], TlsTrust::AwsRoots);
        assert_eq!(endpoint(&sns_only, "SNS").as_deref(), Some("http://127.0.0.1:8010"));
        assert_eq!(endpoint(&sns_only, "DynamoDB"), None, "AWS's own endpoint");
    }

    #[test]
    fn credentials_region_and_endpoint_switches_come_from_the_environment() {
        let source = [
            ("AWS_REGION", "us-east-2"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret-example"),
            ("AWS_SESSION_TOKEN", "session-example"),
            ("AWS_USE_FIPS_ENDPOINT", "true"),
        ];
        let sdk = sdk_config(&source, TlsTrust::AwsRoots);
        assert_eq!(sdk.region().map(|r| r.as_ref()), Some("us-east-2"));
        assert_eq!(sdk.use_fips(), Some(true));
        assert_eq!(sdk.use_dual_stack(), Some(false));
        assert!(sdk.credentials_provider().is_some());
        let shown = format!("{sdk:?}");
        assert!(!shown.contains("secret-example") && !shown.contains("session-example"), "{shown}");
        assert!(
            sdk_config(&[("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")], TlsTrust::AwsRoots).credentials_provider().is_none()
        );
    }

    #[test]
    fn the_trust_setting_is_checked() {
        let mut r = Reader::new(&[("MFA_TLS_TRUST", "everyone")]);
        TlsTrust::read(&mut r);
        assert!(r.has_problems());
        let mut r = Reader::new(&[("MFA_TLS_TRUST", "system")]);
        assert_eq!(TlsTrust::read(&mut r), TlsTrust::System);
    }
}
