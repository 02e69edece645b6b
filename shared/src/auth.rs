//! Who is calling: verification of bearer tokens, in process, with no network call.
//!
//! Two kinds of token are accepted (docs/api.md, "Routes" and "Platform tokens"):
//! - a *platform token*, issued by the host platform after the password step and
//!   verified against configured key material (HS256 secret, or RS256/ES256 public key,
//!   optional issuer and audience);
//! - a *full-access token*, issued by this service after a second factor (ES256, its own
//!   keys, recognised by `kid`). A request made with one is "session verified".
//!
//! And, on the routes whose Frontegg description declares `frontegg-user-id` (or
//! `frontegg-tenant-id`), a *server credential*: a token the platform's backend mints
//! (HS256 under `MFA_SERVER_TOKEN_KEY`, its own key, audience [`SERVER_AUDIENCE`], naming no
//! user, living at most an hour). The header names the user the request acts for, with the
//! standing of that user's password-only token and no more.

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use lambda_http::Request;
use lambda_http::http::header::AUTHORIZATION;
use serde::{Deserialize, Deserializer, Serialize};

use crate::config::Reader;
use crate::refusal::{Refusal, TokenProblem};
use crate::routes::{Backend, Serving};
pub use crate::routes::{TENANT_HEADER, USER_HEADER};

/// The authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub email: Option<String>,
    pub org_id: Option<String>,
    pub org_role: Option<String>,
    /// True for a full-access token: the second factor was verified for this session.
    pub session_verified: bool,
    /// When the second factor was verified (full-access tokens only), Unix seconds.
    pub auth_time: Option<i64>,
    /// The session a full-access token belongs to (`sid`); honoured only while the
    /// user's record lists it (`sessions::ensure_live`).
    pub session_id: Option<String>,
    /// The session was started by a remembered device (`amr` holds `device`): its token
    /// never counts as a fresh second factor (`policy::fresh`).
    pub by_device: bool,
    /// Where the request came from (audit events carry it).
    pub origin: Origin,
    /// The platform's backend acts for the user with a server credential: the actor its
    /// audit events carry (`server`, or `server:<name>` when the credential names itself).
    /// Such a caller never counts as a fresh factor and never moves the record's
    /// organization.
    pub server: Option<String>,
}

impl Principal {
    /// `OWNER` and `ADMINISTRATOR` manage their organization's MFA.
    pub fn is_org_admin(&self) -> bool {
        matches!(self.org_role.as_deref(), Some("OWNER" | "ADMINISTRATOR"))
    }

    /// The one freshness rule, for step-up (`policy::fresh`) and the authorizer's maximum
    /// age alike: whether this caller's session presented its second factor at most
    /// `max_age` seconds before `now`. A password-only token never did, and neither did a
    /// session a remembered device started: the device stands in for the factor at login
    /// and carries the `auth_time` of the login that remembered it.
    pub fn factor_within(&self, max_age: i64, now: i64) -> bool {
        self.session_verified && !self.by_device && self.auth_time.is_some_and(|t| now - t <= max_age)
    }
}

/// Where a request came from, as API Gateway saw it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Origin {
    /// The source IP API Gateway saw and the User-Agent (at most 256 characters, without
    /// control characters).
    pub fn of(req: &lambda_http::Request) -> Origin {
        use lambda_http::RequestExt;
        use lambda_http::request::RequestContext;
        let source_ip = match req.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
            _ => None,
        };
        let user_agent = req
            .headers()
            .get(lambda_http::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().filter(|c| !c.is_control()).take(256).collect::<String>())
            .filter(|ua| !ua.is_empty());
        Origin { source_ip: source_ip.filter(|ip| !ip.is_empty()).map(|ip| ip.chars().take(64).collect()), user_agent }
    }
}

/// A full-access token is honoured only while its session is live in `record` (the
/// subject's own record, read by the request anyway); any other token passes through.
pub fn ensure_live(principal: &Principal, record: &crate::model::UserMfaRecord, now: i64) -> Result<(), Refusal> {
    if !principal.session_verified {
        return Ok(());
    }
    match principal.session_id.as_deref() {
        Some(id) if record.user_id == principal.user_id.as_str() && record.has_live_session(id, now) => Ok(()),
        _ => Err(Refusal::SessionEnded),
    }
}

/// A user id as it appears in a token: non-empty, at most 128 characters, no control
/// characters (it becomes part of a DynamoDB key).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

impl UserId {
    pub fn parse(raw: &str) -> Option<UserId> {
        let ok = !raw.is_empty() && raw.chars().count() <= 128 && !raw.chars().any(char::is_control);
        ok.then(|| UserId(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Platforms send ids as strings or numbers; both are accepted.
fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        S(String),
        N(serde_json::Number),
    }
    Ok(match Option::<Id>::deserialize(d)? {
        Some(Id::S(s)) => Some(s),
        Some(Id::N(n)) => Some(n.to_string()),
        None => None,
    })
}

/// The identity claims read from a platform token (and copied into a full-access token).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityClaims {
    #[serde(default, deserialize_with = "string_or_number", skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(
        rename = "userId",
        default,
        deserialize_with = "string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(rename = "orgId", default, deserialize_with = "string_or_number", skip_serializing_if = "Option::is_none")]
    pub org_id: Option<String>,
    #[serde(rename = "orgRole", default, skip_serializing_if = "Option::is_none")]
    pub org_role: Option<String>,
}

/// The claims of this service's full-access token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FullAccessClaims {
    #[serde(flatten)]
    pub identity: IdentityClaims,
    pub iss: String,
    /// Always [`FULL_ACCESS_AUDIENCE`]: a full-access token is no other kind of token.
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// Authenticator assurance level: always 2.
    pub aal: u8,
    /// Methods used, e.g. `["otp"]`, `["email"]`, `["hwk"]`.
    pub amr: Vec<String>,
    pub auth_time: i64,
    /// The session's id.
    pub sid: String,
    pub jti: String,
}

/// The platform's key material.
#[derive(Clone)]
pub enum PlatformKey {
    Hs256(Vec<u8>),
    Rs256(DecodingKey),
    Es256(DecodingKey),
}

pub struct TokenVerifier {
    /// The platform's key and how its tokens are checked; none where only this service's
    /// full-access tokens are taken (the authorizer never holds the platform's secret).
    platform: Option<(DecodingKey, Validation)>,
    service_keys: HashMap<String, DecodingKey>,
    service_validation: Validation,
    /// The key of the platform's server credentials, loaded only by the functions whose
    /// route takes Frontegg's backend headers, when the deployment sets one.
    server: Option<(DecodingKey, Validation)>,
}

/// The `aud` every server credential carries, and no other token may.
pub const SERVER_AUDIENCE: &str = "mfa-server";

/// The longest a server credential may live (`exp` − `iat`), in seconds.
pub const MAX_SERVER_CREDENTIAL_LIFETIME: i64 = 3600;

/// The claims of a server credential.
#[derive(Debug, Deserialize)]
struct ServerClaims {
    iat: i64,
    exp: i64,
    /// What the credential calls itself in the audit trail (`server:<name>`).
    #[serde(default)]
    name: Option<String>,
    #[serde(default, deserialize_with = "string_or_number")]
    sub: Option<String>,
    #[serde(rename = "userId", default, deserialize_with = "string_or_number")]
    user_id: Option<String>,
}

/// Who is calling a route that takes Frontegg's backend headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// A user, by their own token, or the platform's backend acting for the user named in
    /// `frontegg-user-id` (`Principal::server` says which).
    User(Principal),
    /// The platform's backend, naming no user (a route that takes `frontegg-tenant-id`
    /// alone): the organization it asks about, if any.
    Server { tenant: Option<String> },
}

/// The shortest HS256 platform secret a deployed stage takes, in bytes.
pub const MIN_HS256_SECRET: usize = 32;

/// The `aud` of every full-access token, and the only one a full-access token may carry.
pub const FULL_ACCESS_AUDIENCE: &str = "mfa-full-access";

/// The issuer of full-access tokens on `stage` unless `MFA_TOKEN_ISSUER` says otherwise:
/// one per stage, so a token of one stage is never taken by another.
pub fn default_issuer(stage: &str) -> String {
    format!("mfa-service/{stage}")
}

/// A session's absolute lifetime, in seconds, unless `MFA_SESSION_LIFETIME` says otherwise.
pub const DEFAULT_SESSION_LIFETIME: u64 = 12 * 3600;

/// How far `exp` and `nbf` may be off, in seconds, unless `MFA_CLOCK_LEEWAY` says otherwise.
pub const DEFAULT_CLOCK_LEEWAY: u64 = 30;

impl TokenVerifier {
    /// Reads `MFA_PLATFORM_JWT_ALG` (HS256, RS256 or ES256; default HS256),
    /// `MFA_PLATFORM_JWT_KEY` (the HS256 secret or a PEM public key),
    /// `MFA_PLATFORM_JWT_ISSUER` / `MFA_PLATFORM_JWT_AUDIENCE` (every platform token must
    /// carry the claim that is set; both are required on every stage but `dev`, see
    /// [`Stage`]), `MFA_TOKEN_PUBLIC_KEYS` (a JWKS of this service's ES256 keys),
    /// `MFA_TOKEN_ISSUER` (default per stage) and `MFA_CLOCK_LEEWAY` (seconds `exp` and
    /// `nbf` may be off; default 30).
    pub fn read(r: &mut Reader) -> Option<Self> {
        let stage = Stage::read(r);
        let alg = r.or("MFA_PLATFORM_JWT_ALG", "HS256");
        let key = r.required("MFA_PLATFORM_JWT_KEY");
        // A deployed stage takes only tokens the platform issued for this API: without
        // both claims, any token signed with the platform's key (for another service of
        // it, say) would pass.
        let deployed = "a deployed stage (MFA_STAGE other than dev) takes only tokens issued for it";
        let issuer = if stage.is_dev() {
            r.optional("MFA_PLATFORM_JWT_ISSUER")
        } else {
            Some(r.required_because("MFA_PLATFORM_JWT_ISSUER", deployed))
        };
        let audience = if stage.is_dev() {
            r.optional("MFA_PLATFORM_JWT_AUDIENCE")
        } else {
            Some(r.required_because("MFA_PLATFORM_JWT_AUDIENCE", deployed))
        };
        let jwks = r.required("MFA_TOKEN_PUBLIC_KEYS");
        let service_issuer = r.or("MFA_TOKEN_ISSUER", &default_issuer(stage.name()));
        let leeway = r.seconds("MFA_CLOCK_LEEWAY", DEFAULT_CLOCK_LEEWAY, 0..=300);
        if r.has_problems() {
            return None;
        }
        let platform = match alg.as_str() {
            // A short shared secret can be ground offline from one token: a deployed stage
            // takes 256 bits at least (RFC 7518 §3.2 asks for a key as long as the hash).
            "HS256" if !stage.is_dev() && key.len() < MIN_HS256_SECRET => {
                r.invalid(
                    "MFA_PLATFORM_JWT_KEY",
                    "an HS256 secret must be at least 32 bytes on a deployed stage (MFA_STAGE other than dev)",
                );
                None
            }
            "HS256" => Some(PlatformKey::Hs256(key.into_bytes())),
            "RS256" => match DecodingKey::from_rsa_pem(pem_text(&key).as_bytes()) {
                Ok(k) => Some(PlatformKey::Rs256(k)),
                Err(_) => {
                    r.invalid("MFA_PLATFORM_JWT_KEY", "not a PEM RSA public key");
                    None
                }
            },
            "ES256" => match DecodingKey::from_ec_pem(pem_text(&key).as_bytes()) {
                Ok(k) => Some(PlatformKey::Es256(k)),
                Err(_) => {
                    r.invalid("MFA_PLATFORM_JWT_KEY", "not a PEM P-256 public key");
                    None
                }
            },
            _ => {
                r.invalid("MFA_PLATFORM_JWT_ALG", "must be HS256, RS256 or ES256");
                None
            }
        };
        let service_keys = match parse_jwks(&jwks) {
            Ok(keys) => Some(keys),
            Err(reason) => {
                r.invalid("MFA_TOKEN_PUBLIC_KEYS", reason);
                None
            }
        };
        Some(Self::new(platform?, issuer.as_deref(), audience.as_deref(), service_keys?, &service_issuer, leeway))
    }

    /// Reads `MFA_SERVER_TOKEN_KEY`, the HS256 key of the platform's server credentials
    /// (at least 32 bytes, never the platform's own HS256 secret). Unset or empty: this
    /// deployment takes no server credential.
    pub fn read_server_key(&mut self, r: &mut Reader) {
        let Some(key) = r.optional("MFA_SERVER_TOKEN_KEY") else { return };
        if key.len() < MIN_HS256_SECRET {
            r.invalid("MFA_SERVER_TOKEN_KEY", "the server credentials' key must be at least 32 bytes");
            return;
        }
        if key.contains("-----BEGIN") {
            r.invalid("MFA_SERVER_TOKEN_KEY", "must be a random secret, not a PEM key");
            return;
        }
        if r.optional("MFA_PLATFORM_JWT_KEY").is_some_and(|platform| pem_text(&platform) == pem_text(&key)) {
            r.invalid(
                "MFA_SERVER_TOKEN_KEY",
                "must differ from MFA_PLATFORM_JWT_KEY: a user's token must never pass as a server credential",
            );
            return;
        }
        self.server = Some(server_validation(key.as_bytes(), self.service_validation.leeway));
    }

    pub fn new(
        platform: PlatformKey,
        issuer: Option<&str>,
        audience: Option<&str>,
        service_keys: HashMap<String, DecodingKey>,
        service_issuer: &str,
        leeway: u64,
    ) -> Self {
        let (platform_key, alg) = match platform {
            PlatformKey::Hs256(secret) => (DecodingKey::from_secret(&secret), Algorithm::HS256),
            PlatformKey::Rs256(k) => (k, Algorithm::RS256),
            PlatformKey::Es256(k) => (k, Algorithm::ES256),
        };
        // One algorithm per key: a token can never choose how it is checked.
        let mut platform_validation = Validation::new(alg);
        // A configured issuer or audience is a required claim: a token that simply leaves
        // it out would otherwise pass (other tokens signed with the same key).
        let mut required = vec!["exp"];
        match issuer {
            Some(iss) => {
                platform_validation.set_issuer(&[iss]);
                required.push("iss");
            }
            None => platform_validation.iss = None,
        }
        match audience {
            Some(aud) => {
                platform_validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => platform_validation.validate_aud = false,
        }
        platform_validation.set_required_spec_claims(&required);
        platform_validation.validate_nbf = true;
        platform_validation.leeway = leeway;
        let mut service_validation = Validation::new(Algorithm::ES256);
        service_validation.set_issuer(&[service_issuer]);
        service_validation.set_audience(&[FULL_ACCESS_AUDIENCE]);
        service_validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        service_validation.leeway = leeway;
        Self { platform: Some((platform_key, platform_validation)), service_keys, service_validation, server: None }
    }

    /// Takes server credentials signed with `key` (tests and tools; a function reads it
    /// with [`TokenVerifier::read_server_key`]).
    pub fn with_server_key(mut self, key: &[u8]) -> Self {
        self.server = Some(server_validation(key, self.service_validation.leeway));
        self
    }

    /// A verifier of this service's full-access tokens only, from `MFA_TOKEN_PUBLIC_KEYS`,
    /// `MFA_TOKEN_ISSUER` (default per stage) and `MFA_CLOCK_LEEWAY`: what the authorizer
    /// loads. Platform tokens are refused by it (it has no key to check them with).
    pub fn read_sessions_only(r: &mut Reader) -> Option<Self> {
        let stage = Stage::read(r);
        let jwks = r.required("MFA_TOKEN_PUBLIC_KEYS");
        let service_issuer = r.or("MFA_TOKEN_ISSUER", &default_issuer(stage.name()));
        let leeway = r.seconds("MFA_CLOCK_LEEWAY", DEFAULT_CLOCK_LEEWAY, 0..=300);
        if r.has_problems() {
            return None;
        }
        let service_keys = match parse_jwks(&jwks) {
            Ok(keys) => keys,
            Err(reason) => {
                r.invalid("MFA_TOKEN_PUBLIC_KEYS", reason);
                return None;
            }
        };
        let mut verifier = Self::new(PlatformKey::Hs256(Vec::new()), None, None, service_keys, &service_issuer, leeway);
        verifier.platform = None;
        Some(verifier)
    }

    /// The caller of `req`, or a 401 that says what to do. On a route that takes Frontegg's
    /// backend headers ([`Serving`] in the request's extensions), a server credential acts
    /// for the user `frontegg-user-id` names, and a user's token may name only its user.
    pub fn authenticate(&self, req: &Request) -> Result<Principal, Refusal> {
        match self.identify(req, None)? {
            Caller::User(principal) => Ok(principal),
            Caller::Server { .. } => Err(missing_header(USER_HEADER)),
        }
    }

    /// The caller of one of Frontegg's pre-login routes: `mfa_token` (the body's
    /// `mfaToken`, or the query's), the proof of the password step, when it is present;
    /// else the bearer.
    pub fn authenticate_mfa_token(&self, req: &Request, mfa_token: Option<&str>) -> Result<Principal, Refusal> {
        match self.identify(req, mfa_token)? {
            Caller::User(principal) => Ok(principal),
            Caller::Server { .. } => Err(missing_header(USER_HEADER)),
        }
    }

    /// The caller of `req` (`mfa_token`, when present, else the bearer), the platform's
    /// backend included where the route takes Frontegg's backend headers.
    pub fn identify(&self, req: &Request, mfa_token: Option<&str>) -> Result<Caller, Refusal> {
        let token = match mfa_token.map(str::trim).filter(|t| !t.is_empty()) {
            // A server credential travels only as the bearer, never in a body or a URL.
            Some(token) if is_server_credential(token) => {
                return Err(Refusal::InvalidToken(TokenProblem::ServerCredentialHere));
            }
            Some(token) => token,
            None => bearer(req)?,
        };
        let backend = req.extensions().get::<Serving>().map(|s| s.0.needs.backend).unwrap_or_default();
        let mut caller = if is_server_credential(token) {
            self.server_caller(req, token, backend)?
        } else {
            let principal = self.verify(token)?;
            Caller::User(name_only_themselves(req, principal, backend)?)
        };
        if let Caller::User(principal) = &mut caller {
            principal.origin = Origin::of(req);
        }
        Ok(caller)
    }

    /// The platform's backend on a route that takes its headers: the user it acts for (with
    /// the standing of that user's password-only token), or, where the route names no user,
    /// the organization it asks about.
    fn server_caller(&self, req: &Request, token: &str, backend: Backend) -> Result<Caller, Refusal> {
        let Some((key, validation)) = self.server.as_ref().filter(|_| backend.takes_server()) else {
            return Err(Refusal::InvalidToken(TokenProblem::ServerCredentialHere));
        };
        let claims =
            jsonwebtoken::decode::<ServerClaims>(token, key, validation).map_err(|e| token_error(e.kind()))?.claims;
        if claims.sub.is_some() || claims.user_id.is_some() {
            return Err(Refusal::InvalidToken(TokenProblem::ServerCredentialNamesUser));
        }
        // At most an hour from its issue, issued no later than now, and ending within an
        // hour of now (whatever `iat` says), with the clock leeway.
        let now = crate::clock::Clock::system().now();
        let leeway = validation.leeway as i64;
        let lifetime = claims.exp.checked_sub(claims.iat);
        if lifetime.is_none_or(|l| l > MAX_SERVER_CREDENTIAL_LIFETIME)
            || claims.iat > now + leeway
            || claims.exp.saturating_sub(now) > MAX_SERVER_CREDENTIAL_LIFETIME + leeway
        {
            return Err(Refusal::InvalidToken(TokenProblem::ServerCredentialTooLong));
        }
        let actor = match claims.name.as_deref() {
            None => "server".to_string(),
            Some(name) if actor_name_ok(name) => format!("server:{name}"),
            Some(_) => return Err(Refusal::InvalidToken(TokenProblem::ServerCredentialName)),
        };
        let user = match backend.names_user() {
            true => Some(header_id(req, USER_HEADER)?.ok_or_else(|| missing_header(USER_HEADER))?),
            false => None,
        };
        // Where it names a user, it may name the tenant too (required where Frontegg declares
        // the header): the organization whose rules govern a record bound to none yet. It
        // never binds one.
        let (reads_tenant, needs_tenant) = backend.names_tenant();
        let reads_tenant = reads_tenant || backend.names_user();
        let tenant = if reads_tenant { header_id(req, TENANT_HEADER)? } else { None };
        if needs_tenant && tenant.is_none() {
            return Err(missing_header(TENANT_HEADER));
        }
        let Some(user) = user else { return Ok(Caller::Server { tenant }) };
        Ok(Caller::User(Principal {
            user_id: UserId::parse(&user).ok_or_else(|| bad_header(USER_HEADER))?,
            email: None,
            org_id: tenant,
            org_role: None,
            session_verified: false,
            auth_time: None,
            session_id: None,
            by_device: false,
            origin: Origin::default(),
            server: Some(actor),
        }))
    }

    /// A user's token: the platform's or this service's full-access token. A server
    /// credential is never one.
    pub fn verify(&self, token: &str) -> Result<Principal, Refusal> {
        if is_server_credential(token) {
            return Err(Refusal::InvalidToken(TokenProblem::ServerCredentialHere));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|e| token_error(e.kind()))?;
        if let Some(key) = header.kid.as_deref().and_then(|kid| self.service_keys.get(kid)) {
            let data = jsonwebtoken::decode::<FullAccessClaims>(token, key, &self.service_validation)
                .map_err(|e| token_error(e.kind()))?;
            let claims = data.claims;
            if claims.aal != 2 {
                return Err(token_error(&ErrorKind::InvalidToken));
            }
            let mut p = principal(claims.identity, true, Some(claims.auth_time))?;
            p.session_id = Some(claims.sid);
            p.by_device = claims.amr.iter().any(|a| a == crate::model::DEVICE_AMR);
            return Ok(p);
        }
        let Some((platform_key, platform_validation)) = &self.platform else {
            return Err(Refusal::InvalidToken(TokenProblem::BadSignature));
        };
        let data = jsonwebtoken::decode::<IdentityClaims>(token, platform_key, platform_validation)
            .map_err(|e| token_error(e.kind()))?;
        principal(data.claims, false, None)
    }
}

/// The deployment stage, `MFA_STAGE` (`dev` unless set; the template sets it per stage).
/// Every stage but `dev` serves real users and refuses to start on weak settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage(String);

impl Stage {
    pub fn read(r: &mut Reader) -> Self {
        Stage(r.or("MFA_STAGE", "dev"))
    }

    pub fn is_dev(&self) -> bool {
        self.0 == "dev"
    }

    pub fn name(&self) -> &str {
        &self.0
    }
}

fn principal(claims: IdentityClaims, session_verified: bool, auth_time: Option<i64>) -> Result<Principal, Refusal> {
    let raw =
        claims.sub.as_deref().or(claims.user_id.as_deref()).ok_or(Refusal::InvalidToken(TokenProblem::NoUserId))?;
    let user_id = UserId::parse(raw).ok_or(Refusal::InvalidToken(TokenProblem::BadUserId))?;
    Ok(Principal {
        user_id,
        email: claims.email,
        org_id: claims.org_id.filter(|o| !o.is_empty()),
        org_role: claims.org_role,
        session_verified,
        auth_time,
        session_id: None,
        by_device: false,
        origin: Origin::default(),
        server: None,
    })
}

/// The bearer token of `req`.
fn bearer(req: &Request) -> Result<&str, Refusal> {
    let header = req.headers().get(AUTHORIZATION).ok_or(Refusal::MissingToken)?;
    header
        .to_str()
        .ok()
        .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or(Refusal::InvalidToken(TokenProblem::NotBearer))
}

/// Whether `token` claims to be a server credential (its `aud` is [`SERVER_AUDIENCE`]):
/// only the server credentials' key is then tried, and only where the route takes one.
/// The claim picks the key; the key decides.
fn is_server_credential(token: &str) -> bool {
    #[derive(Deserialize)]
    struct Audience {
        #[serde(default)]
        aud: Option<serde_json::Value>,
    }
    let Some(payload) = token.split('.').nth(1) else { return false };
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(payload) else { return false };
    match serde_json::from_slice::<Audience>(&bytes).ok().and_then(|a| a.aud) {
        Some(serde_json::Value::String(aud)) => aud == SERVER_AUDIENCE,
        Some(serde_json::Value::Array(auds)) => auds.iter().any(|a| a == SERVER_AUDIENCE),
        _ => false,
    }
}

fn server_validation(key: &[u8], leeway: u64) -> (DecodingKey, Validation) {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&[SERVER_AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "aud"]);
    validation.iss = None;
    validation.validate_nbf = true;
    validation.leeway = leeway;
    (DecodingKey::from_secret(key), validation)
}

/// A server credential's `name`: 1 to 64 letters, digits, `.`, `_` or `-`.
fn actor_name_ok(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b".-_".contains(&b))
}

/// The id a header names (parsed like a token's user id), if the header is sent.
/// Sent once, with one value: a header repeated (or joined with a comma, as API Gateway
/// joins repeated headers) is refused, so no proxy's or client's copy wins unseen.
fn header_id(req: &Request, name: &'static str) -> Result<Option<String>, Refusal> {
    let mut values = req.headers().get_all(name).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return match req.headers().contains_key(name) {
            true => Err(bad_header(name)),
            false => Ok(None),
        };
    };
    let text = value.to_str().map_err(|_| bad_header(name))?.trim();
    if text.contains(',') {
        return Err(bad_header(name));
    }
    UserId::parse(text).map(|id| Some(id.0)).ok_or_else(|| bad_header(name))
}

fn missing_header(name: &'static str) -> Refusal {
    let names = if name == TENANT_HEADER { "the organization it acts in" } else { "the user it acts for" };
    Refusal::InvalidField(format!("Header `{name}` is required with a server credential: it names {names}.").into())
}

fn bad_header(name: &'static str) -> Refusal {
    Refusal::InvalidField(
        format!(
            "Header `{name}` must be sent once, with one id of 1 to 128 characters (no comma, no control character)."
        )
        .into(),
    )
}

/// A user's own token on a route that takes Frontegg's backend headers: they may name
/// only that user and the token's organization.
fn name_only_themselves(req: &Request, principal: Principal, backend: Backend) -> Result<Principal, Refusal> {
    if backend.names_user() {
        if let Some(named) = header_id(req, USER_HEADER)? {
            if named != principal.user_id.as_str() {
                return Err(Refusal::NamesAnother(USER_HEADER));
            }
        }
    }
    if backend.names_tenant().0 {
        if let Some(named) = header_id(req, TENANT_HEADER)? {
            if principal.org_id.as_deref() != Some(named.as_str()) {
                return Err(Refusal::NamesAnother(TENANT_HEADER));
            }
        }
    }
    Ok(principal)
}

fn token_error(kind: &ErrorKind) -> Refusal {
    let problem = match kind {
        ErrorKind::ExpiredSignature => return Refusal::TokenExpired,
        ErrorKind::ImmatureSignature => TokenProblem::NotYetValid,
        ErrorKind::InvalidSignature => TokenProblem::BadSignature,
        ErrorKind::InvalidIssuer => TokenProblem::UntrustedIssuer,
        ErrorKind::InvalidAudience => TokenProblem::WrongAudience,
        ErrorKind::InvalidAlgorithm => TokenProblem::WrongAlgorithm,
        ErrorKind::MissingRequiredClaim(_) => TokenProblem::MissingClaim,
        _ => TokenProblem::Malformed,
    };
    Refusal::InvalidToken(problem)
}

/// Environment variables cannot always hold newlines: accept `\n` escapes in PEM text.
fn pem_text(raw: &str) -> String {
    raw.replace("\\n", "\n")
}

/// The fields a published JWK may hold: its type, curve and public coordinates (or RSA
/// modulus and exponent), and what names and scopes it. Anything else (`d`, `p`, `q`,
/// `dp`, `dq`, `qi`, `oth`, `k`) is private key material.
pub const PUBLIC_JWK_FIELDS: &[&str] = &["kty", "crv", "x", "y", "n", "e", "kid", "alg", "use", "key_ops"];

/// This service's public keys, as the JWKS published at `/.well-known/jwks.json`. A key
/// that carries any field beyond [`PUBLIC_JWK_FIELDS`] is refused: the setting is
/// published, so private material in it would be published too.
pub fn parse_jwks(json: &str) -> Result<HashMap<String, DecodingKey>, &'static str> {
    let raw: serde_json::Value = serde_json::from_str(json).map_err(|_| "not a JWKS JSON document")?;
    let listed = raw.get("keys").and_then(|k| k.as_array()).ok_or("not a JWKS JSON document")?;
    for key in listed {
        let fields = key.as_object().ok_or("every key must be a JSON object")?;
        if fields.keys().any(|f| !PUBLIC_JWK_FIELDS.contains(&f.as_str())) {
            return Err("a key holds a field that is not public (e.g. `d`): list the public parts only");
        }
    }
    let set: JwkSet = serde_json::from_value(raw).map_err(|_| "not a JWKS JSON document")?;
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let kid = jwk.common.key_id.clone().ok_or("every key needs a `kid`")?;
        let key = DecodingKey::from_jwk(jwk).map_err(|_| "a key is not a usable public JWK")?;
        keys.insert(kid, key);
    }
    if keys.is_empty() {
        return Err("the key set is empty");
    }
    Ok(keys)
}

/// Signs full-access tokens with this service's current ES256 key, for sessions of a
/// fixed absolute lifetime.
pub struct TokenSigner {
    kid: String,
    /// The key's PKCS#8 DER, parsed into `pair` at the first signature: parsing checks the
    /// key, which costs about as much as a signature (a tenth of a millisecond), so a
    /// function pays it once, and a cold start that signs nothing not at all.
    der: secrecy::SecretSlice<u8>,
    pair: std::sync::OnceLock<Option<aws_lc_rs::signature::EcdsaKeyPair>>,
    pub issuer: String,
    /// Seconds from a login to the end of its session, however often it is refreshed.
    pub session_lifetime: i64,
}

impl TokenSigner {
    /// `MFA_TOKEN_SIGNING_KEY` = `<kid>:<base64url PKCS#8 DER of a P-256 key>`,
    /// `MFA_SESSION_LIFETIME` (seconds, default 12 hours) and `MFA_TOKEN_ISSUER` (default
    /// per stage).
    pub fn read(r: &mut Reader) -> Option<Self> {
        let stage = Stage::read(r);
        let raw = r.required("MFA_TOKEN_SIGNING_KEY");
        let issuer = r.or("MFA_TOKEN_ISSUER", &default_issuer(stage.name()));
        let lifetime = r.seconds("MFA_SESSION_LIFETIME", DEFAULT_SESSION_LIFETIME, 900..=30 * 86_400);
        if raw.is_empty() {
            return None;
        }
        match Self::from_spec(&raw, &issuer) {
            Some(s) => Some(Self { session_lifetime: lifetime as i64, ..s }),
            None => {
                r.invalid("MFA_TOKEN_SIGNING_KEY", "expected `<kid>:<base64url PKCS#8 P-256 key>`");
                None
            }
        }
    }

    pub fn from_spec(spec: &str, issuer: &str) -> Option<Self> {
        let (kid, der) = spec.split_once(':')?;
        let der = URL_SAFE_NO_PAD.decode(der.trim()).ok()?;
        if kid.is_empty() {
            return None;
        }
        Some(Self {
            kid: kid.to_string(),
            der: der.into(),
            pair: std::sync::OnceLock::new(),
            issuer: issuer.to_string(),
            session_lifetime: DEFAULT_SESSION_LIFETIME as i64,
        })
    }

    /// A JWS in compact form (RFC 7515), ES256: the header and claims as `jsonwebtoken`
    /// writes them, signed by aws-lc-rs with the key parsed once (`jsonwebtoken::encode`
    /// parses the key again for every token).
    pub fn sign(&self, claims: &FullAccessClaims) -> Result<String, Refusal> {
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
        use secrecy::ExposeSecret;
        let pair = self
            .pair
            .get_or_init(|| EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, self.der.expose_secret()).ok())
            .as_ref()
            .ok_or_else(|| {
                tracing::error!("MFA_TOKEN_SIGNING_KEY is not a P-256 key in PKCS#8: no token can be signed");
                Refusal::Internal
            })?;
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        let part = |json: Result<Vec<u8>, serde_json::Error>| {
            json.map(|bytes| URL_SAFE_NO_PAD.encode(bytes)).map_err(|e| {
                tracing::error!(error = %e, "a full-access token's part could not be written");
                Refusal::Internal
            })
        };
        let message = format!("{}.{}", part(serde_json::to_vec(&header))?, part(serde_json::to_vec(claims))?);
        let signature = pair.sign(&aws_lc_rs::rand::SystemRandom::new(), message.as_bytes()).map_err(|_| {
            tracing::error!("signing a full-access token failed");
            Refusal::Internal
        })?;
        Ok(format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature.as_ref())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::EncodingKey;

    const JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;

    fn problems(source: &dyn crate::config::Source) -> String {
        let mut r = Reader::new(source);
        TokenVerifier::read(&mut r);
        r.finish().err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn a_deployed_stage_needs_the_platform_issuer_and_audience() {
        let prod = [("MFA_STAGE", "prod"), ("MFA_PLATFORM_JWT_KEY", "k"), ("MFA_TOKEN_PUBLIC_KEYS", JWKS)];
        let said = problems(&prod);
        assert!(said.contains("MFA_PLATFORM_JWT_ISSUER") && said.contains("MFA_PLATFORM_JWT_AUDIENCE"), "{said}");
        assert!(said.contains("deployed stage"), "the message says why: {said}");
        let with_both = [
            ("MFA_STAGE", "staging"),
            ("MFA_PLATFORM_JWT_KEY", "a-platform-secret-of-32-bytes-at"),
            ("MFA_TOKEN_PUBLIC_KEYS", JWKS),
            ("MFA_PLATFORM_JWT_ISSUER", "https://platform.example"),
            ("MFA_PLATFORM_JWT_AUDIENCE", "mfa-api"),
        ];
        assert_eq!(problems(&with_both), "");
        let dev = [("MFA_PLATFORM_JWT_KEY", "k"), ("MFA_TOKEN_PUBLIC_KEYS", JWKS)];
        assert_eq!(problems(&dev), "", "dev (the default) keeps both optional");
    }

    const SERVER_KEY: &[u8] = b"the-server-credentials-key-of-32b";

    fn with_server_key() -> TokenVerifier {
        let mut r = Reader::new(&[("MFA_PLATFORM_JWT_KEY", "platform-secret"), ("MFA_TOKEN_PUBLIC_KEYS", JWKS)]);
        TokenVerifier::read(&mut r).unwrap().with_server_key(SERVER_KEY)
    }

    fn sign(key: &[u8], claims: serde_json::Value) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(key)).unwrap()
    }

    fn server_claims(extra: serde_json::Value) -> serde_json::Value {
        let now = crate::clock::Clock::system().now();
        let mut claims = serde_json::json!({"aud": SERVER_AUDIENCE, "iat": now, "exp": now + 600});
        claims.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        claims
    }

    /// A request to `function`'s route with `token` as the bearer and `headers`.
    fn to(function: &str, token: &str, headers: &[(&str, &str)]) -> Request {
        let mut req = lambda_http::http::Request::builder().header("authorization", format!("Bearer {token}"));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let mut req: Request = req.body(lambda_http::Body::Empty).unwrap();
        req.extensions_mut().insert(Serving(crate::routes::route(function).unwrap()));
        req
    }

    #[test]
    fn a_server_credential_acts_for_the_named_user_where_the_route_declares_the_header() {
        let v = with_server_key();
        let token = sign(SERVER_KEY, server_claims(serde_json::json!({"name": "crm"})));
        let p = v.authenticate(&to("frontegg-authenticator-enroll", &token, &[(USER_HEADER, "u1")])).unwrap();
        assert_eq!((p.user_id.as_str(), p.server.as_deref()), ("u1", Some("server:crm")));
        assert!(!p.session_verified && p.auth_time.is_none() && p.org_role.is_none(), "a password's standing");
        let e = v.authenticate(&to("frontegg-authenticator-enroll", &token, &[])).unwrap_err();
        assert_eq!((e.status().as_u16(), e.code()), (400, "INVALID_FIELD"));
        for named in [&[(USER_HEADER, "u1"), (USER_HEADER, "u2")][..], &[(USER_HEADER, "u1,u2")]] {
            let e = v.authenticate(&to("frontegg-authenticator-enroll", &token, named)).unwrap_err();
            assert_eq!((e.status().as_u16(), e.code()), (400, "INVALID_FIELD"), "{named:?}");
        }
        let body = to("frontegg-allow-remember-device", "x", &[]);
        let e = v.identify(&body, Some(&token)).unwrap_err();
        assert_eq!(e, Refusal::InvalidToken(TokenProblem::ServerCredentialHere), "never as an mfaToken");
        let e = v.authenticate(&to("frontegg-sms-disable-send", &token, &[(USER_HEADER, "u1")])).unwrap_err();
        assert!(e.sentence().contains(TENANT_HEADER), "{}", e.sentence());
        // Nowhere else, and never as a user's token.
        let e = v.authenticate(&to("mfa-setup", &token, &[(USER_HEADER, "u1")])).unwrap_err();
        assert_eq!(e, Refusal::InvalidToken(TokenProblem::ServerCredentialHere));
        assert_eq!(v.verify(&token).unwrap_err(), Refusal::InvalidToken(TokenProblem::ServerCredentialHere));
        // Without a key, no route takes one.
        let mut r = Reader::new(&[("MFA_PLATFORM_JWT_KEY", "platform-secret"), ("MFA_TOKEN_PUBLIC_KEYS", JWKS)]);
        let keyless = TokenVerifier::read(&mut r).unwrap();
        let e = keyless.authenticate(&to("frontegg-authenticator-enroll", &token, &[(USER_HEADER, "u1")])).unwrap_err();
        assert_eq!(e.status().as_u16(), 401);
    }

    #[test]
    fn only_a_short_lived_userless_credential_under_its_own_key_is_a_server_credential() {
        let v = with_server_key();
        let now = crate::clock::Clock::system().now();
        let refused = [
            sign(b"platform-secret", server_claims(serde_json::json!({}))),
            sign(SERVER_KEY, server_claims(serde_json::json!({"sub": "u2"}))),
            sign(SERVER_KEY, server_claims(serde_json::json!({"iat": now, "exp": now + 3601}))),
            sign(SERVER_KEY, server_claims(serde_json::json!({"name": "two words"}))),
            sign(SERVER_KEY, server_claims(serde_json::json!({"exp": now - 600}))),
            sign(SERVER_KEY, serde_json::json!({"aud": SERVER_AUDIENCE, "iat": now})),
            sign(SERVER_KEY, serde_json::json!({"aud": SERVER_AUDIENCE, "iat": now + 99_999, "exp": now + 100_000})),
            sign(SERVER_KEY, serde_json::json!({"aud": SERVER_AUDIENCE, "iat": i64::MIN, "exp": now + 60})),
        ];
        for token in refused {
            let e = v.authenticate(&to("frontegg-mfa-disable", &token, &[(USER_HEADER, "u1")])).unwrap_err();
            assert_eq!(e.status().as_u16(), 401, "{e:?}");
        }
    }

    #[test]
    fn a_users_token_names_only_its_own_user_and_organization() {
        let v = with_server_key();
        let token = sign(b"platform-secret", serde_json::json!({"sub": "u1", "orgId": "o1", "exp": 4_000_000_000i64}));
        let route = "frontegg-sms-disable-send";
        assert!(v.authenticate(&to(route, &token, &[(USER_HEADER, "u1"), (TENANT_HEADER, "o1")])).is_ok());
        let e = v.authenticate(&to(route, &token, &[(USER_HEADER, "u2")])).unwrap_err();
        assert_eq!((e.status().as_u16(), e.code()), (403, "FORBIDDEN"));
        assert!(e.sentence().contains(USER_HEADER), "{}", e.sentence());
        let e = v.authenticate(&to(route, &token, &[(TENANT_HEADER, "o2")])).unwrap_err();
        assert!(e.sentence().contains(TENANT_HEADER), "{}", e.sentence());
        // A route that declares no header does not read it.
        assert!(v.authenticate(&to("mfa-status", &token, &[(USER_HEADER, "u2")])).is_ok());
    }

    #[test]
    fn the_server_key_is_long_and_not_the_platforms() {
        let check = |server: &'static str| {
            let source = [
                ("MFA_PLATFORM_JWT_KEY", "a-platform-secret-of-32-bytes-at"),
                ("MFA_TOKEN_PUBLIC_KEYS", JWKS),
                ("MFA_SERVER_TOKEN_KEY", server),
            ];
            let mut r = Reader::new(&source);
            let mut v = TokenVerifier::read(&mut r).unwrap();
            v.read_server_key(&mut r);
            (r.finish().err().map(|e| e.to_string()).unwrap_or_default(), v.server.is_some())
        };
        assert_eq!(check("the-server-credentials-key-of-32b"), (String::new(), true));
        assert!(check("short").0.contains("MFA_SERVER_TOKEN_KEY"));
        assert!(check("a-platform-secret-of-32-bytes-at").0.contains("must differ"));
        assert!(
            check("-----BEGIN PUBLIC KEY-----\\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\\n-----END PUBLIC KEY-----")
                .0
                .contains("PEM")
        );
        assert_eq!(check(""), (String::new(), false), "unset: no server credential is taken");
    }

    #[test]
    fn a_deployed_stage_refuses_a_short_hs256_secret() {
        let with = |stage: &'static str, key: &'static str| {
            problems(&[
                ("MFA_STAGE", stage),
                ("MFA_PLATFORM_JWT_KEY", key),
                ("MFA_TOKEN_PUBLIC_KEYS", JWKS),
                ("MFA_PLATFORM_JWT_ISSUER", "https://platform.example"),
                ("MFA_PLATFORM_JWT_AUDIENCE", "mfa-api"),
            ])
        };
        let said = with("prod", "thirty-one-bytes-is-not-enough!");
        assert!(said.contains("MFA_PLATFORM_JWT_KEY") && said.contains("at least 32 bytes"), "{said}");
        assert_eq!(with("prod", "thirty-two-bytes-is-just-enough!"), "");
        assert_eq!(with("dev", "short"), "", "dev keeps the local stack's secrets as they are");
    }

    #[test]
    fn a_private_field_in_the_public_keys_fails_and_the_document_keeps_public_fields() {
        let with_d = JWKS.replace(r#""kty":"EC""#, r#""kty":"EC","d":"c2VjcmV0""#);
        assert!(parse_jwks(&with_d).unwrap_err().contains("not public"));
        let prod = [("MFA_STAGE", "dev"), ("MFA_PLATFORM_JWT_KEY", "k"), ("MFA_TOKEN_PUBLIC_KEYS", with_d.as_str())];
        assert!(problems(&prod).contains("MFA_TOKEN_PUBLIC_KEYS"));
        let document = crate::handlers::jwks_document(JWKS).unwrap();
        let keys: serde_json::Value = serde_json::from_str(&document).unwrap();
        assert_eq!(keys["keys"][0]["kid"], "k1");
        assert!(keys["keys"][0].as_object().unwrap().keys().all(|f| PUBLIC_JWK_FIELDS.contains(&f.as_str())));
    }

    #[test]
    fn the_authorizers_verifier_takes_full_access_tokens_only() {
        let mut r = Reader::new(&[("MFA_TOKEN_PUBLIC_KEYS", JWKS)]);
        let verifier = TokenVerifier::read_sessions_only(&mut r).expect("public keys are enough");
        let platform = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &serde_json::json!({"sub": "u1", "exp": i64::MAX / 2}),
            &EncodingKey::from_secret(b"p"),
        )
        .unwrap();
        assert_eq!(verifier.verify(&platform).unwrap_err(), Refusal::InvalidToken(TokenProblem::BadSignature));
    }

    #[test]
    fn each_stage_has_its_own_issuer_and_full_access_tokens_their_own_audience() {
        assert_ne!(default_issuer("staging"), default_issuer("prod"));
        let verifier = |issuer: &str| {
            TokenVerifier::new(PlatformKey::Hs256(b"p".to_vec()), None, None, parse_jwks(JWKS).unwrap(), issuer, 0)
        };
        let v = verifier(&default_issuer("prod"));
        assert_eq!(v.service_validation.aud.as_ref().map(|a| a.len()), Some(1));
        assert!(v.service_validation.aud.as_ref().unwrap().contains(FULL_ACCESS_AUDIENCE));
        assert!(v.service_validation.iss.as_ref().unwrap().contains("mfa-service/prod"));
    }
}

/// Fuzzing: any bearer string, and any claims signed with the platform's own key, give a
/// principal or a 401; nothing panics.
#[cfg(test)]
mod fuzz {
    use jsonwebtoken::EncodingKey;
    use proptest::prelude::*;

    use super::*;

    fn verifier() -> TokenVerifier {
        let jwks = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;
        TokenVerifier::new(
            PlatformKey::Hs256(b"platform-secret".to_vec()),
            Some("https://platform.test"),
            Some("mfa-api"),
            parse_jwks(jwks).unwrap(),
            "mfa-service/dev",
            30,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn any_bearer_is_verified_or_refused(token in "[A-Za-z0-9_.=-]{0,300}|.{0,100}") {
            if let Err(e) = verifier().verify(&token) {
                prop_assert_eq!(e.status().as_u16(), 401);
            }
        }

        #[test]
        fn any_signed_claims_are_verified_or_refused(
            sub in proptest::option::of(".{0,140}"),
            iss in proptest::option::of(prop_oneof![Just("https://platform.test".to_string()), ".{0,20}"]),
            aud in proptest::option::of(prop_oneof![Just("mfa-api".to_string()), ".{0,20}"]),
            exp in proptest::option::of(-10_000i64..10_000),
            nbf in proptest::option::of(-10_000i64..10_000),
            role in proptest::option::of(".{0,20}"),
            kid in proptest::option::of(prop_oneof![Just("k1".to_string()), ".{0,8}"]),
        ) {
            let now = crate::clock::Clock::system().now();
            let mut claims = serde_json::json!({"sub": sub, "iss": iss, "aud": aud, "orgRole": role});
            if let Some(e) = exp { claims["exp"] = serde_json::json!(now + e); }
            if let Some(n) = nbf { claims["nbf"] = serde_json::json!(now + n); }
            let mut header = Header::new(Algorithm::HS256);
            header.kid = kid;
            let token = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(b"platform-secret")).unwrap();
            match verifier().verify(&token) {
                Ok(p) => prop_assert!(!p.session_verified && UserId::parse(p.user_id.as_str()).is_some()),
                Err(e) => prop_assert_eq!(e.status().as_u16(), 401),
            }
        }
    }
}
