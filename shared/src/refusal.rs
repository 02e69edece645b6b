//! Every refusal the API answers with: one variant each, with its HTTP status, its
//! machine code and the sentence a person can act on. The envelope turns one into a
//! response (`envelope.rs`); nothing else builds an error body. A sentence never carries
//! a secret, and an internal cause is logged where it happens, never returned.

use std::borrow::Cow;

use lambda_http::http::StatusCode;

use crate::mfa_type::MfaType;

/// Why a bearer token was refused (`INVALID_TOKEN`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenProblem {
    NotBearer,
    Malformed,
    BadSignature,
    NotYetValid,
    UntrustedIssuer,
    WrongAudience,
    WrongAlgorithm,
    MissingClaim,
    NoUserId,
    BadUserId,
    /// A server credential where the route takes none (or the deployment has no key for one).
    ServerCredentialHere,
    /// A server credential that names a user in its claims.
    ServerCredentialNamesUser,
    /// A server credential that lives longer than an hour.
    ServerCredentialTooLong,
    /// A server credential whose `name` is not a short plain name.
    ServerCredentialName,
}

/// The dependency that did not answer (`SERVICE_UNAVAILABLE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dependency {
    Store,
    Mail,
    Sms,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    MissingToken,
    InvalidToken(TokenProblem),
    TokenExpired,
    PlatformTokenRequired,
    InvalidRefreshToken,
    /// A full-access token of a session that has ended.
    SessionEnded,
    /// A device token that is unknown, expired or forgotten, or that the user's
    /// organization no longer honours.
    DeviceNotRemembered,
    MissingBody,
    InvalidJson {
        line: usize,
        column: usize,
    },
    /// The sentence names the field and what is wrong with it.
    InvalidField(Cow<'static, str>),
    PayloadTooLarge {
        limit: usize,
    },
    NoOrganization,
    /// A wrong authenticator code (`backup: false`) or backup code (`backup: true`).
    InvalidCode {
        backup: bool,
    },
    CodeAlreadyUsed,
    InvalidLink,
    CeremonyExpired,
    InvalidCredential,
    AlreadyUsed,
    MethodNotAllowed {
        method: String,
        path: String,
        allow: String,
    },
    RouteNotFound {
        method: String,
        path: String,
    },
    UserNotFound,
    StepUpRequired,
    MfaSetupRequired,
    Forbidden,
    /// A user's token with a backend header (`frontegg-user-id`, `frontegg-tenant-id`)
    /// naming someone or somewhere else.
    NamesAnother(&'static str),
    OrgEnforced,
    /// The member's organization allows only these methods.
    MethodNotAllowedByOrg {
        method: MfaType,
        allowed: Vec<MfaType>,
    },
    /// The organization accepts only phishing-resistant factors (passkeys) to sign in.
    PhishingResistantRequired(MfaType),
    MethodNotEnabled(MfaType),
    MethodNotConfigured(MfaType),
    SetupNotPending(MfaType),
    MfaNotEnabled,
    /// The user already has the most factors of this type.
    FactorLimit {
        method: MfaType,
        max: usize,
    },
    /// No factor of the user's has that id.
    FactorNotFound,
    /// No remembered device of that id.
    DeviceNotFound,
    PasskeyExists,
    NoEmail,
    ConcurrentUpdate,
    TooManyAttempts {
        seconds: u64,
    },
    RateLimited {
        seconds: u64,
    },
    /// Texts to this country calling code are not enabled (the deployment's list, or the
    /// organization's narrower one).
    SmsCountryNotAllowed {
        code: u16,
    },
    /// The number's prefix had as many texts this hour as it may.
    SmsPrefixRateLimited {
        seconds: u64,
    },
    /// The number's prefix is blocked: too many codes sent to it went unused.
    SmsPrefixBlocked {
        seconds: u64,
    },
    /// The deployment sent as many texts this hour as its budget allows.
    SmsBudgetReached {
        seconds: u64,
    },
    Unavailable(Dependency),
    Internal,
}

impl Refusal {
    /// Every machine code, as `openapi.yaml`'s error schema lists them.
    pub const CODES: [&'static str; 45] = [
        "MISSING_TOKEN",
        "INVALID_TOKEN",
        "TOKEN_EXPIRED",
        "PLATFORM_TOKEN_REQUIRED",
        "INVALID_REFRESH_TOKEN",
        "SESSION_ENDED",
        "MISSING_BODY",
        "INVALID_JSON",
        "INVALID_FIELD",
        "PAYLOAD_TOO_LARGE",
        "NO_ORGANIZATION",
        "INVALID_CODE",
        "CODE_ALREADY_USED",
        "INVALID_LINK",
        "DEVICE_NOT_REMEMBERED",
        "CEREMONY_EXPIRED",
        "INVALID_CREDENTIAL",
        "ALREADY_USED",
        "METHOD_NOT_ALLOWED",
        "ROUTE_NOT_FOUND",
        "USER_NOT_FOUND",
        "STEP_UP_REQUIRED",
        "MFA_SETUP_REQUIRED",
        "FORBIDDEN",
        "ORG_ENFORCED",
        "METHOD_NOT_ALLOWED_BY_ORG",
        "PHISHING_RESISTANT_REQUIRED",
        "METHOD_NOT_ENABLED",
        "METHOD_NOT_CONFIGURED",
        "SETUP_NOT_PENDING",
        "MFA_NOT_ENABLED",
        "FACTOR_LIMIT",
        "FACTOR_NOT_FOUND",
        "DEVICE_NOT_FOUND",
        "PASSKEY_EXISTS",
        "NO_EMAIL",
        "CONCURRENT_UPDATE",
        "TOO_MANY_ATTEMPTS",
        "RATE_LIMITED",
        "SMS_COUNTRY_NOT_ALLOWED",
        "SMS_PREFIX_RATE_LIMITED",
        "SMS_PREFIX_BLOCKED",
        "SMS_BUDGET_REACHED",
        "SERVICE_UNAVAILABLE",
        "INTERNAL_ERROR",
    ];

    pub fn status(&self) -> StatusCode {
        use Refusal::*;
        match self {
            MissingToken
            | InvalidToken(_)
            | TokenExpired
            | PlatformTokenRequired
            | InvalidRefreshToken
            | SessionEnded => StatusCode::UNAUTHORIZED,
            MissingBody
            | InvalidJson { .. }
            | InvalidField(_)
            | NoOrganization
            | InvalidCode { .. }
            | CodeAlreadyUsed
            | InvalidLink
            | DeviceNotRemembered
            | CeremonyExpired
            | InvalidCredential
            | AlreadyUsed => StatusCode::BAD_REQUEST,
            PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            RouteNotFound { .. } | UserNotFound | FactorNotFound | DeviceNotFound => StatusCode::NOT_FOUND,
            StepUpRequired
            | MfaSetupRequired
            | Forbidden
            | NamesAnother(_)
            | OrgEnforced
            | MethodNotAllowedByOrg { .. }
            | PhishingResistantRequired(_)
            | SmsCountryNotAllowed { .. } => StatusCode::FORBIDDEN,
            MethodNotEnabled(_)
            | MethodNotConfigured(_)
            | SetupNotPending(_)
            | MfaNotEnabled
            | FactorLimit { .. }
            | PasskeyExists
            | NoEmail
            | ConcurrentUpdate => StatusCode::CONFLICT,
            TooManyAttempts { .. } | RateLimited { .. } | SmsPrefixRateLimited { .. } | SmsPrefixBlocked { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Unavailable(_) | SmsBudgetReached { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        use Refusal::*;
        match self {
            MissingToken => "MISSING_TOKEN",
            InvalidToken(_) => "INVALID_TOKEN",
            TokenExpired => "TOKEN_EXPIRED",
            PlatformTokenRequired => "PLATFORM_TOKEN_REQUIRED",
            InvalidRefreshToken => "INVALID_REFRESH_TOKEN",
            SessionEnded => "SESSION_ENDED",
            MissingBody => "MISSING_BODY",
            InvalidJson { .. } => "INVALID_JSON",
            InvalidField(_) => "INVALID_FIELD",
            PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE",
            NoOrganization => "NO_ORGANIZATION",
            InvalidCode { .. } => "INVALID_CODE",
            CodeAlreadyUsed => "CODE_ALREADY_USED",
            InvalidLink => "INVALID_LINK",
            DeviceNotRemembered => "DEVICE_NOT_REMEMBERED",
            CeremonyExpired => "CEREMONY_EXPIRED",
            InvalidCredential => "INVALID_CREDENTIAL",
            AlreadyUsed => "ALREADY_USED",
            MethodNotAllowed { .. } => "METHOD_NOT_ALLOWED",
            RouteNotFound { .. } => "ROUTE_NOT_FOUND",
            UserNotFound => "USER_NOT_FOUND",
            StepUpRequired => "STEP_UP_REQUIRED",
            MfaSetupRequired => "MFA_SETUP_REQUIRED",
            Forbidden | NamesAnother(_) => "FORBIDDEN",
            OrgEnforced => "ORG_ENFORCED",
            MethodNotAllowedByOrg { .. } => "METHOD_NOT_ALLOWED_BY_ORG",
            PhishingResistantRequired(_) => "PHISHING_RESISTANT_REQUIRED",
            MethodNotEnabled(_) => "METHOD_NOT_ENABLED",
            MethodNotConfigured(_) => "METHOD_NOT_CONFIGURED",
            SetupNotPending(_) => "SETUP_NOT_PENDING",
            MfaNotEnabled => "MFA_NOT_ENABLED",
            FactorLimit { .. } => "FACTOR_LIMIT",
            FactorNotFound => "FACTOR_NOT_FOUND",
            DeviceNotFound => "DEVICE_NOT_FOUND",
            PasskeyExists => "PASSKEY_EXISTS",
            NoEmail => "NO_EMAIL",
            ConcurrentUpdate => "CONCURRENT_UPDATE",
            TooManyAttempts { .. } => "TOO_MANY_ATTEMPTS",
            RateLimited { .. } => "RATE_LIMITED",
            SmsCountryNotAllowed { .. } => "SMS_COUNTRY_NOT_ALLOWED",
            SmsPrefixRateLimited { .. } => "SMS_PREFIX_RATE_LIMITED",
            SmsPrefixBlocked { .. } => "SMS_PREFIX_BLOCKED",
            SmsBudgetReached { .. } => "SMS_BUDGET_REACHED",
            Unavailable(_) => "SERVICE_UNAVAILABLE",
            Internal => "INTERNAL_ERROR",
        }
    }

    /// The sentence shown to the caller.
    pub fn sentence(&self) -> Cow<'static, str> {
        use Refusal::*;
        let fixed: &'static str = match self {
            MissingToken => "Authorization header is missing; send `Authorization: Bearer <token>`.",
            InvalidToken(problem) => match problem {
                TokenProblem::NotBearer => {
                    "Authorization header must use the Bearer scheme: `Authorization: Bearer <token>`."
                }
                TokenProblem::Malformed => "The bearer token is not a valid JWT; sign in again to get a new one.",
                TokenProblem::BadSignature => "The token's signature is invalid; sign in again to get a new one.",
                TokenProblem::NotYetValid => "The token is not valid yet; check the clock and sign in again.",
                TokenProblem::UntrustedIssuer => "The token was issued by an issuer this service does not trust.",
                TokenProblem::WrongAudience => "The token was issued for another audience.",
                TokenProblem::WrongAlgorithm => "The token is signed with an algorithm this service does not accept.",
                TokenProblem::MissingClaim => {
                    "The token lacks a required claim (such as `exp`, `iss` or `aud`); sign in again."
                }
                TokenProblem::NoUserId => "The token carries no user id (`sub` or `userId`); sign in again.",
                TokenProblem::BadUserId => "The token's user id is empty or malformed; sign in again.",
                TokenProblem::ServerCredentialHere => {
                    "This route takes a user's token, not a server credential; a server credential is taken only on Frontegg's backend routes that name the user in `frontegg-user-id`, on a deployment that sets MFA_SERVER_TOKEN_KEY."
                }
                TokenProblem::ServerCredentialNamesUser => {
                    "A server credential must name no user (no `sub` or `userId`); name the user in the `frontegg-user-id` header."
                }
                TokenProblem::ServerCredentialTooLong => {
                    "A server credential may live at most an hour (`exp` − `iat` ≤ 3600); mint a new one."
                }
                TokenProblem::ServerCredentialName => {
                    "A server credential's `name` must be 1 to 64 letters, digits, `.`, `_` or `-`."
                }
            },
            TokenExpired => "The token has expired; sign in again to get a new one.",
            PlatformTokenRequired => {
                "Refreshing takes the platform's token as the bearer, not a full-access token; send the token your platform issued at sign-in."
            }
            InvalidRefreshToken => "The refresh token is invalid, expired or revoked; sign in again.",
            SessionEnded => {
                "This session has ended (its sign-in methods changed, or it was ended elsewhere); sign in again to get a new full-access token."
            }
            MissingBody => "Request body is required: send a JSON object with Content-Type: application/json.",
            NoOrganization => "User not associated with an organization.",
            InvalidCode { backup: false } => {
                "The code is wrong or has expired; enter the current code from your authenticator app."
            }
            InvalidCode { backup: true } => "The backup code is wrong or was already used; check it and try again.",
            CodeAlreadyUsed => "This code was already used; wait for the next code from your authenticator app.",
            InvalidLink => "This link is invalid, has expired or was already used; request a new one.",
            DeviceNotRemembered => {
                "This device is not remembered (it expired or was forgotten when the sign-in methods changed); verify with a second factor."
            }
            CeremonyExpired => "This passkey ceremony has expired or was already completed; start again.",
            InvalidCredential => "The passkey response could not be verified; try again with the same device.",
            AlreadyUsed => "This one-time value was already used.",
            UserNotFound => "There is no user with that id in your organization; check `resetUserId`.",
            StepUpRequired => {
                "This change needs a recent second factor: verify with POST /mfa/verify-login and retry with the full-access token."
            }
            MfaSetupRequired => {
                "This needs MFA on your own account: set up MFA with POST /mfa/setup, verify with POST /mfa/verify-login, and retry with the full-access token."
            }
            Forbidden => "Only an OWNER or ADMINISTRATOR of the organization can do this.",
            NamesAnother(header) if *header == crate::routes::TENANT_HEADER => {
                "`frontegg-tenant-id` names another organization than your token's; a user's token acts only in its own organization (a platform's backend uses a server credential)."
            }
            NamesAnother(_) => {
                "`frontegg-user-id` names another user; a user's token acts only for that user (a platform's backend acts for users with a server credential)."
            }
            OrgEnforced => {
                "MFA is required for your account, so its last enabled method cannot be disabled; enable another method first."
            }
            MfaNotEnabled => "Backup codes need MFA; enable a method first.",
            FactorNotFound => "You have no factor with that id; list yours with GET /mfa/factors.",
            DeviceNotFound => "You have no remembered device with that id; list yours with GET /mfa/devices.",
            PasskeyExists => "This passkey is already registered.",
            NoEmail => "There is no email address for magic links; set up MAGIC_LINK again.",
            ConcurrentUpdate => "Your MFA settings changed while this request ran; reload them and try again.",
            Unavailable(Dependency::Store) => "The MFA store is temporarily unavailable; try again in a moment.",
            Unavailable(Dependency::Mail) => {
                "The email service is temporarily unavailable, so no mail was sent; try again in a minute."
            }
            Unavailable(Dependency::Sms) => {
                "The text message service is temporarily unavailable, so no code was sent; try again in a minute."
            }
            Internal => "Something went wrong on our side; try again, and contact support if it persists.",
            InvalidJson { line, column } => {
                return format!("Request body is not valid JSON (line {line}, column {column}); send a JSON object.")
                    .into();
            }
            InvalidField(sentence) => return sentence.clone(),
            PayloadTooLarge { limit } => {
                return format!("Request body is larger than {} KiB; send a smaller JSON body.", limit / 1024).into();
            }
            MethodNotAllowed { method, path, allow } => {
                return format!("{path} does not accept {method}; use {allow}.").into();
            }
            RouteNotFound { method, path } => {
                return format!("There is no route {method} {path}; check the path against the API reference.").into();
            }
            MethodNotAllowedByOrg { method, allowed } => {
                let names: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
                return format!(
                    "Your organization does not allow {}; set up one of {} instead.",
                    method.as_str(),
                    names.join(", ")
                )
                .into();
            }
            PhishingResistantRequired(m) => {
                return format!(
                    "Your organization accepts only phishing-resistant factors (passkeys) to sign in, not {}; sign in with a passkey, or ask an administrator to reset your MFA so you can add one.",
                    m.as_str()
                )
                .into();
            }
            MethodNotEnabled(m) => {
                return format!(
                    "{} is not enabled for this user; set it up with POST /mfa/setup, or switch it back on with POST /mfa/enable.",
                    m.as_str()
                )
                .into();
            }
            MethodNotConfigured(m) => {
                return format!(
                    "{} is not set up yet; complete POST /mfa/setup and POST /mfa/verify-setup first.",
                    m.as_str()
                )
                .into();
            }
            SetupNotPending(m) => {
                return format!(
                    "There is no {} setup waiting for verification; start one with POST /mfa/setup.",
                    m.as_str()
                )
                .into();
            }
            FactorLimit { method, max } => {
                return format!(
                    "You already have {max} {} factors, the most there may be; remove one (DELETE /mfa/factors/<factorId>) first.",
                    method.as_str()
                )
                .into();
            }
            TooManyAttempts { seconds } => {
                let minutes = seconds.div_ceil(60);
                return format!("Too many failed verification attempts; try again in {minutes} minute(s).").into();
            }
            SmsCountryNotAllowed { code: 0 } => {
                "Texts to numbers in this country are not enabled here; use another method, such as an authenticator app or a passkey."
            }
            SmsCountryNotAllowed { code } => {
                return format!(
                    "Texts to numbers with country code +{code} are not enabled here; use another method, such as an authenticator app or a passkey."
                )
                .into();
            }
            SmsPrefixRateLimited { seconds } => {
                let minutes = seconds.div_ceil(60);
                return format!(
                    "Too many texts went to numbers like this one this hour; use another method, or try again in {minutes} minute(s)."
                )
                .into();
            }
            SmsPrefixBlocked { seconds } => {
                let minutes = seconds.div_ceil(60);
                return format!(
                    "Texts to numbers like this one are paused for {minutes} minute(s) because many codes sent to them went unused; use another method."
                )
                .into();
            }
            SmsBudgetReached { seconds } => {
                let minutes = seconds.div_ceil(60);
                return format!(
                    "This service has sent as many texts as it may this hour; use another method, or try again in {minutes} minute(s)."
                )
                .into();
            }
            RateLimited { seconds } => {
                return format!(
                    "A link or code was sent recently; wait {seconds} second(s) before asking for another."
                )
                .into();
            }
        };
        Cow::Borrowed(fixed)
    }

    /// Seconds to send as `Retry-After` (429 and 503).
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Refusal::TooManyAttempts { seconds }
            | Refusal::RateLimited { seconds }
            | Refusal::SmsPrefixRateLimited { seconds }
            | Refusal::SmsPrefixBlocked { seconds }
            | Refusal::SmsBudgetReached { seconds } => Some((*seconds).max(1)),
            Refusal::Unavailable(Dependency::Store) => Some(2),
            Refusal::Unavailable(Dependency::Mail | Dependency::Sms) => Some(60),
            _ => None,
        }
    }

    /// The methods to send as `Allow` (405).
    pub fn allow(&self) -> Option<&str> {
        match self {
            Refusal::MethodNotAllowed { allow, .. } => Some(allow),
            _ => None,
        }
    }

    /// One refusal of every kind (the tests hold `CODES` and `openapi.yaml` to them).
    pub fn examples() -> Vec<Refusal> {
        use Refusal::*;
        vec![
            MissingToken,
            InvalidToken(TokenProblem::Malformed),
            TokenExpired,
            PlatformTokenRequired,
            InvalidRefreshToken,
            SessionEnded,
            MissingBody,
            InvalidJson { line: 1, column: 2 },
            InvalidField("Field `mfaType` is required.".into()),
            PayloadTooLarge { limit: 65536 },
            NoOrganization,
            InvalidCode { backup: false },
            CodeAlreadyUsed,
            InvalidLink,
            DeviceNotRemembered,
            CeremonyExpired,
            InvalidCredential,
            AlreadyUsed,
            MethodNotAllowed { method: "POST".into(), path: "/mfa/status".into(), allow: "GET".into() },
            RouteNotFound { method: "GET".into(), path: "/nowhere".into() },
            UserNotFound,
            StepUpRequired,
            MfaSetupRequired,
            Forbidden,
            OrgEnforced,
            MethodNotAllowedByOrg { method: MfaType::Sms, allowed: vec![MfaType::Passkey] },
            PhishingResistantRequired(MfaType::GoogleAuth),
            MethodNotEnabled(MfaType::Passkey),
            MethodNotConfigured(MfaType::GoogleAuth),
            SetupNotPending(MfaType::GoogleAuth),
            MfaNotEnabled,
            FactorLimit { method: MfaType::Passkey, max: 10 },
            FactorNotFound,
            DeviceNotFound,
            PasskeyExists,
            NoEmail,
            ConcurrentUpdate,
            TooManyAttempts { seconds: 900 },
            RateLimited { seconds: 60 },
            SmsCountryNotAllowed { code: 49 },
            SmsPrefixRateLimited { seconds: 1800 },
            SmsPrefixBlocked { seconds: 43_200 },
            SmsBudgetReached { seconds: 600 },
            Unavailable(Dependency::Store),
            Internal,
        ]
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status().as_u16(), self.code(), self.sentence())
    }
}

impl std::error::Error for Refusal {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_an_example_and_every_example_a_listed_code() {
        let examples = Refusal::examples();
        for code in Refusal::CODES {
            assert!(examples.iter().any(|e| e.code() == code), "no example of {code}");
        }
        for e in &examples {
            assert!(Refusal::CODES.contains(&e.code()), "{} is not in CODES", e.code());
        }
    }

    #[test]
    fn every_sentence_is_a_sentence_without_braces() {
        for e in Refusal::examples() {
            let s = e.sentence();
            assert!(s.len() > 10 && s.ends_with('.'), "{}: {s}", e.code());
            assert!(!s.contains('{'), "{}: an unfilled placeholder in {s}", e.code());
        }
    }

    #[test]
    fn waits_are_sent_as_retry_after() {
        assert_eq!(Refusal::TooManyAttempts { seconds: 61 }.retry_after(), Some(61));
        assert!(Refusal::TooManyAttempts { seconds: 61 }.sentence().contains("2 minute(s)"));
        assert_eq!(Refusal::RateLimited { seconds: 0 }.retry_after(), Some(1));
        assert_eq!(Refusal::Unavailable(Dependency::Mail).retry_after(), Some(60));
        assert_eq!(Refusal::StepUpRequired.retry_after(), None);
    }
}
