//! What a function builds once per cold start and hands to its handler by reference.

use crate::auth::{TokenSigner, TokenVerifier};
use crate::clock::Clock;
use crate::config::{ConfigError, Environment, MailConfig, Reader, RelyingPartyConfig, Source, StoreConfig};
use crate::crypto::Keyring;
use crate::mail::Mailer;
use crate::refusal::Refusal;
use crate::store::Store;

pub use crate::routes::Needs;

pub struct App {
    auth: Option<TokenVerifier>,
    pub store: Store,
    pub clock: Clock,
    keyring: Option<Keyring>,
    mailer: Option<Mailer>,
    webauthn: Option<webauthn_rs::Webauthn>,
    pub relying_party: Option<RelyingPartyConfig>,
    signer: Option<TokenSigner>,
    /// The issuer shown in authenticator apps (`MFA_TOTP_ISSUER`, default "MFA").
    pub totp_issuer: String,
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
        let auth = if needs.auth { TokenVerifier::read(&mut r) } else { None };
        let keyring = if needs.keyring { Keyring::read(&mut r) } else { None };
        let mail = needs.mail.then(|| MailConfig::read(&mut r));
        let relying_party = needs.webauthn.then(|| RelyingPartyConfig::read(&mut r));
        let webauthn = match &relying_party {
            Some(rp) if !r.has_problems() => match crate::methods::passkey::relying_party(rp) {
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
        r.finish()?;
        // The SDK reads the region, credentials and `AWS_ENDPOINT_URL_DYNAMODB` itself.
        let sdk = aws_config::load_from_env().await;
        let store = Store::new(aws_sdk_dynamodb::Client::new(&sdk), table);
        let mailer = mail.map(|config| Mailer::new(aws_sdk_sesv2::Client::new(&sdk), config));
        Ok(Self { auth, store, clock: Clock::system(), keyring, mailer, webauthn, relying_party, signer, totp_issuer })
    }

    /// The same application on another clock (tests move time instead of sleeping).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The same application sending mail through another SES client (tests point it at an
    /// endpoint that is down).
    pub fn with_mailer(mut self, mailer: Mailer) -> Self {
        self.mailer = Some(mailer);
        self
    }

    /// The token verifier (every function whose route takes a bearer token).
    pub fn auth(&self) -> Result<&TokenVerifier, Refusal> {
        self.auth.as_ref().ok_or_else(|| {
            tracing::error!("this function was started without token verification settings");
            Refusal::Internal
        })
    }

    pub fn mailer(&self) -> Result<&Mailer, Refusal> {
        self.mailer.as_ref().ok_or_else(|| {
            tracing::error!("this function was started without mail settings");
            Refusal::Internal
        })
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
}
