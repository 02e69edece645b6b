//! The route table, the one source for what each function is: its method and path, how
//! it authenticates its caller, what it loads at cold start (its [`Needs`]), and what it
//! may do to DynamoDB. Each `main.rs` builds its `App` from its row; the route-consistency
//! test holds `functions/`, `template.yaml` (environment and permissions), the watch
//! router, `events/`, `openapi.yaml` and docs/api.md to it; the authorization matrix is
//! generated from it. The fallback function answers every request no row matches.

/// How a route authenticates its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthKind {
    /// No bearer token (the credential, if any, is in the body).
    None,
    /// Only the host platform's token (refresh: the platform is asked again each time).
    Platform,
    /// The platform's token or this service's full-access token.
    Either,
    /// Frontegg's pre-login routes: the platform token as the body's `mfaToken` (the
    /// query's, for a `GET`), the proof of the password step; without one, the bearer.
    MfaToken,
}

/// Frontegg's header naming the user a backend call acts for.
pub const USER_HEADER: &str = "frontegg-user-id";
/// Frontegg's header naming the organization (tenant).
pub const TENANT_HEADER: &str = "frontegg-tenant-id";

/// Which of Frontegg's backend headers a route takes: exactly those its Frontegg description
/// (`identity.json`) declares. With a server credential (a platform's backend, see
/// `auth::TokenVerifier`) they name the subject; with a user's own token they may only
/// name that user (and the token's organization).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backend {
    /// Neither: a server credential is refused (`401`) and the headers are not read.
    #[default]
    None,
    /// `frontegg-user-id`, the user the request acts for (required with a server credential).
    User,
    /// `frontegg-user-id` and `frontegg-tenant-id` (both required with a server credential).
    UserInTenant,
    /// `frontegg-tenant-id` alone, optional: the organization whose rule is asked for.
    Tenant,
}

impl Backend {
    /// Whether a server credential is taken here.
    pub fn takes_server(self) -> bool {
        self != Backend::None
    }

    /// Whether `frontegg-user-id` is read (and required with a server credential).
    pub fn names_user(self) -> bool {
        matches!(self, Backend::User | Backend::UserInTenant)
    }

    /// Whether `frontegg-tenant-id` is read, and whether a server credential must send it.
    pub fn names_tenant(self) -> (bool, bool) {
        match self {
            Backend::UserInTenant => (true, true),
            Backend::Tenant => (true, false),
            Backend::None | Backend::User => (false, false),
        }
    }
}

/// The row a request is served by, put in its extensions by the edge
/// (`lambda::function`, and the test kit's `handle`): what authentication reads to know
/// which of Frontegg's backend headers the route declares.
#[derive(Clone, Copy, Debug)]
pub struct Serving(pub &'static Route);

/// What a function loads at cold start, so each loads (and is given) only its own
/// settings and secrets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// Token verification: the platform's key material and this service's public keys.
    pub auth: bool,
    /// `MFA_TABLE_NAME` and a DynamoDB client.
    pub store: bool,
    /// `MFA_ENCRYPTION_KEYS` (and `MFA_TOTP_ISSUER`): the functions that seal or open
    /// secrets (authenticator secrets, phone numbers) or MAC one-time values (email and SMS
    /// codes, recovery codes).
    pub keyring: bool,
    /// `MFA_MAIL_FROM`, `MFA_LINK_BASE_URL` and an SES v2 client: the functions that send
    /// mail (links and codes; the audit writer, notices).
    pub mail: bool,
    /// Link tokens (`TOKEN#` items): the functions that mail a link (a setup, a login
    /// link), or take one as a setup's or a login's proof (`verify-setup`, `verify-login`,
    /// `magic-link/activate`).
    pub links: bool,
    /// An SNS client: the functions that text codes.
    pub sms: bool,
    /// `MFA_RP_ID`, `MFA_RP_ORIGIN`, `MFA_RP_NAME`: the functions that run passkey ceremonies.
    pub webauthn: bool,
    /// `MFA_TOKEN_SIGNING_KEY` and `MFA_SESSION_LIFETIME`: the functions that start or
    /// refresh sessions.
    pub signer: bool,
    /// `MFA_TOKEN_PUBLIC_KEYS` alone: the function that publishes them.
    pub public_keys: bool,
    /// Verification of this service's full-access tokens only (the authorizer): its public
    /// keys, issuer, stage and clock leeway, never the platform's key material.
    pub sessions_only: bool,
    /// Frontegg's backend headers the route takes ([`Backend`]); a route that takes any
    /// loads `MFA_SERVER_TOKEN_KEY`, the key of the platform's server credentials.
    pub backend: Backend,
}

impl Needs {
    /// The environment variables a function with these needs reads (the template gives it
    /// exactly these).
    pub fn environment(&self) -> Vec<&'static str> {
        let mut vars = Vec::new();
        if self.store {
            vars.extend(["MFA_TABLE_NAME", "MFA_AUDIT_RETENTION"]);
        }
        if self.store || self.mail || self.sms {
            vars.push("MFA_TLS_TRUST");
        }
        // Every function: the stage names its metrics' namespace (`metrics`).
        vars.push("MFA_STAGE");
        if self.auth {
            vars.extend([
                "MFA_PLATFORM_JWT_ALG",
                "MFA_PLATFORM_JWT_KEY",
                "MFA_PLATFORM_JWT_ISSUER",
                "MFA_PLATFORM_JWT_AUDIENCE",
                "MFA_TOKEN_PUBLIC_KEYS",
                "MFA_TOKEN_ISSUER",
                "MFA_CLOCK_LEEWAY",
                "MFA_METHODS",
                "MFA_DEVICE_LIFETIME",
            ]);
        }
        if self.backend.takes_server() {
            vars.push("MFA_SERVER_TOKEN_KEY");
        }
        if self.keyring {
            vars.extend(["MFA_ENCRYPTION_KEYS", "MFA_TOTP_ISSUER"]);
        }
        if self.sms {
            vars.extend([
                "MFA_SMS_COUNTRIES",
                "MFA_SMS_PREFIX_DIGITS",
                "MFA_SMS_PREFIX_HOURLY",
                "MFA_SMS_PREFIX_UNVERIFIED",
                "MFA_SMS_PREFIX_BLOCK_HOURS",
                "MFA_SMS_HOURLY_BUDGET",
            ]);
        }
        if self.mail {
            vars.extend(["MFA_MAIL_FROM", "MFA_LINK_BASE_URL"]);
        }
        if self.webauthn {
            vars.extend(["MFA_RP_ID", "MFA_RP_ORIGIN", "MFA_RP_NAME"]);
        }
        if self.signer {
            vars.extend(["MFA_TOKEN_SIGNING_KEY", "MFA_SESSION_LIFETIME"]);
            if !self.auth {
                vars.push("MFA_TOKEN_ISSUER");
            }
        }
        if (self.public_keys || self.sessions_only) && !self.auth {
            vars.push("MFA_TOKEN_PUBLIC_KEYS");
        }
        if self.sessions_only && !self.auth {
            vars.extend(["MFA_TOKEN_ISSUER", "MFA_CLOCK_LEEWAY"]);
        }
        vars
    }

    /// The environment variables among [`Needs::environment`] that hold key material a
    /// configuration reader must never see: the platform's HS256 secret (or its public key),
    /// this service's signing key, the keyring, the server credentials' key. A function holding any of them has its
    /// environment encrypted with the stack's own KMS key (`template.yaml`).
    pub fn secrets(&self) -> Vec<&'static str> {
        self.environment().into_iter().filter(|v| SECRET_VARIABLES.contains(v)).collect()
    }

    /// The partition-key prefixes a function with these needs may touch (the template's
    /// `dynamodb:LeadingKeys` condition): every function reads the user's record (`USER#`,
    /// with its ceremonies, codes, devices and events) and an organization's policy
    /// (`ORG#`); links are tokens (`TOKEN#`), texts the counters of a number, a
    /// prefix and the deployment
    /// (`SMSLIMIT#`, `SMSPREFIX#`, `SMSBUDGET#`); a code entered credits its prefix
    /// (`SMSPREFIX#`, every function that checks codes: those with the keyring).
    pub fn key_prefixes(&self) -> Vec<&'static str> {
        let mut prefixes = vec!["USER#", "ORG#"];
        if self.links {
            prefixes.push("TOKEN#");
        }
        if self.sms {
            prefixes.extend(["SMSLIMIT#", "SMSBUDGET#"]);
        }
        if self.sms || self.keyring {
            prefixes.push("SMSPREFIX#");
        }
        prefixes
    }
}

/// Frontegg's client calls every route of Frontegg's API under this prefix of its
/// `baseUrl`; each is served at its documented path (`/resources/…`) and at this one.
pub const FRONTEGG_PREFIX: &str = "/frontegg/identity";

/// One route and the function that serves it.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub function: &'static str,
    /// The handler its `main` calls (`mfa-local gen` writes the entry point from it).
    pub handler: &'static str,
    /// What it does, in a few words (its entry point's first line).
    pub summary: &'static str,
    pub auth: AuthKind,
    pub needs: Needs,
    /// The DynamoDB actions the function's role allows (SES `SendEmail` follows
    /// `needs.mail`, SNS `Publish` `needs.sms`).
    pub dynamodb: &'static [&'static str],
}

/// The variables that hold key material (see [`Needs::secrets`]).
pub const SECRET_VARIABLES: &[&str] =
    &["MFA_PLATFORM_JWT_KEY", "MFA_TOKEN_SIGNING_KEY", "MFA_ENCRYPTION_KEYS", "MFA_SERVER_TOKEN_KEY"];

/// The user's record is read by a `Query` of its two items (a page of the audit trail
/// too), or with other items in a transactional read (`GetItem`).
const READ: &[&str] = &["dynamodb:GetItem", "dynamodb:Query"];
/// Writes of the record; a change that takes access away and keeps losing races holds the
/// record with an update of its login state (`Store::hold_for_removal`).
const WRITE: &[&str] = &["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"];
/// Writes that also consume or remove one-time items.
const CONSUME: &[&str] =
    &["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"];
/// And texts: a phone number's send slot is updated in place.
const SEND: &[&str] =
    &["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem"];

/// What every authenticated function needs; the rows add to it.
pub const BASE: Needs = Needs {
    auth: true,
    store: true,
    keyring: false,
    mail: false,
    links: false,
    sms: false,
    webauthn: false,
    signer: false,
    public_keys: false,
    sessions_only: false,
    backend: Backend::None,
};

pub const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/mfa/status",
        function: "mfa-status",
        handler: "handlers::status::status",
        summary: "the caller's MFA status, with whether a login may remember its device.",
        auth: AuthKind::Either,
        needs: BASE,
        dynamodb: READ,
    },
    Route {
        method: "GET",
        path: "/mfa/methods",
        function: "mfa-methods",
        handler: "handlers::status::methods",
        summary: "every MFA method with the caller's state of it and its NIST SP 800-63B rev 4 standing.",
        auth: AuthKind::Either,
        needs: BASE,
        dynamodb: READ,
    },
    Route {
        method: "GET",
        path: "/mfa/factors",
        function: "mfa-factors",
        handler: "handlers::factors::list",
        summary: "the caller's factors, never a secret.",
        auth: AuthKind::Either,
        needs: BASE,
        dynamodb: READ,
    },
    Route {
        method: "PATCH",
        path: "/mfa/factors/{factorId}",
        function: "mfa-factor-rename",
        handler: "handlers::factors::rename",
        summary: "renames one of the caller's factors.",
        auth: AuthKind::Either,
        needs: BASE,
        dynamodb: WRITE,
    },
    Route {
        method: "DELETE",
        path: "/mfa/factors/{factorId}",
        function: "mfa-factor-remove",
        handler: "handlers::factors::remove",
        summary: "removes one of the caller's factors.",
        auth: AuthKind::Either,
        needs: BASE,
        dynamodb: WRITE,
    },
    Route {
        method: "GET",
        path: "/mfa/devices",
        function: "mfa-devices",
        handler: "handlers::devices::list",
        summary: "the caller's remembered devices, never a token.",
        auth: AuthKind::Either,
        needs: BASE,
        dynamodb: READ,
    },
    Route {
        method: "DELETE",
        path: "/mfa/devices/{deviceId}",
        function: "mfa-device-forget",
        handler: "handlers::devices::forget",
        summary: "forgets one remembered device.",
        auth: AuthKind::Either,
        needs: BASE,
        dynamodb: WRITE,
    },
    Route {
        method: "DELETE",
        path: "/mfa/devices",
        function: "mfa-devices-forget",
        handler: "handlers::devices::forget_all",
        summary: "forgets every remembered device of the caller.",
        auth: AuthKind::Either,
        needs: BASE,
        dynamodb: WRITE,
    },
    Route {
        method: "GET",
        path: "/mfa/remember-device",
        function: "mfa-remember-device",
        handler: "handlers::devices::remember",
        summary: "whether a login may remember its device, and for how long.",
        auth: AuthKind::Either,
        needs: BASE,
        dynamodb: READ,
    },
    Route {
        method: "GET",
        path: "/mfa/events",
        function: "mfa-events",
        handler: "handlers::events::list",
        summary: "the audit trail, newest first, a page at a time.",
        auth: AuthKind::Either,
        needs: BASE,
        dynamodb: READ,
    },
    Route {
        method: "POST",
        path: "/mfa/setup",
        function: "mfa-setup",
        handler: "handlers::setup::setup",
        summary: "starts setting up an MFA method.",
        auth: AuthKind::Either,
        needs: Needs { keyring: true, mail: true, sms: true, webauthn: true, links: true, ..BASE },
        dynamodb: SEND,
    },
    Route {
        method: "POST",
        path: "/mfa/verify-setup",
        function: "mfa-verify-setup",
        handler: "handlers::setup::verify_setup",
        summary: "verifies a pending setup and enables the method.",
        auth: AuthKind::Either,
        needs: Needs { keyring: true, webauthn: true, links: true, ..BASE },
        dynamodb: CONSUME,
    },
    Route {
        method: "POST",
        path: "/mfa/enable",
        function: "mfa-enable",
        handler: "handlers::manage::enable",
        summary: "switches a configured method back on.",
        auth: AuthKind::Either,
        needs: BASE,
        dynamodb: WRITE,
    },
    Route {
        method: "POST",
        path: "/mfa/disable",
        function: "mfa-disable",
        handler: "handlers::manage::disable",
        summary: "switches a method off (step-up).",
        auth: AuthKind::Either,
        needs: BASE,
        dynamodb: WRITE,
    },
    Route {
        method: "POST",
        path: "/mfa/primary",
        function: "mfa-primary",
        handler: "handlers::manage::primary",
        summary: "chooses the primary method.",
        auth: AuthKind::Either,
        needs: BASE,
        dynamodb: WRITE,
    },
    Route {
        method: "POST",
        path: "/mfa/reset",
        function: "mfa-reset",
        handler: "handlers::reset::reset",
        summary: "resets a user's MFA (self with step-up, or an organization admin).",
        auth: AuthKind::Either,
        needs: BASE,
        dynamodb: WRITE,
    },
    Route {
        method: "POST",
        path: "/mfa/magic-link/send",
        function: "mfa-magic-link-send",
        handler: "handlers::magic_link::send",
        summary: "mails a login link.",
        auth: AuthKind::Either,
        needs: Needs { mail: true, links: true, ..BASE },
        dynamodb: CONSUME,
    },
    Route {
        method: "POST",
        path: "/mfa/magic-link/activate",
        function: "mfa-magic-link-activate",
        handler: "handlers::magic_link::activate",
        summary: "enables MAGIC_LINK with the mailed token.",
        auth: AuthKind::None,
        needs: Needs { keyring: true, auth: false, links: true, ..BASE },
        dynamodb: CONSUME,
    },
    Route {
        method: "POST",
        path: "/mfa/email-code/send",
        function: "mfa-email-code-send",
        handler: "handlers::codes::send_email_code",
        summary: "mails a login code (EMAIL_OTP).",
        auth: AuthKind::Either,
        needs: Needs { keyring: true, mail: true, ..BASE },
        dynamodb: CONSUME,
    },
    Route {
        method: "POST",
        path: "/mfa/sms/send",
        function: "mfa-sms-send",
        handler: "handlers::codes::send_sms_code",
        summary: "texts a login code (SMS).",
        auth: AuthKind::Either,
        needs: Needs { keyring: true, sms: true, ..BASE },
        dynamodb: SEND,
    },
    Route {
        method: "POST",
        path: "/mfa/passkey/auth-options",
        function: "mfa-passkey-auth-options",
        handler: "handlers::passkey::auth_options",
        summary: "authentication options for the caller's passkeys.",
        auth: AuthKind::Either,
        needs: Needs { webauthn: true, ..BASE },
        dynamodb: CONSUME,
    },
    Route {
        method: "POST",
        path: "/mfa/passkey/complete-registration",
        function: "mfa-passkey-complete-registration",
        handler: "handlers::passkey::complete_registration",
        summary: "finishes a passkey registration.",
        auth: AuthKind::Either,
        needs: Needs { keyring: true, webauthn: true, ..BASE },
        dynamodb: CONSUME,
    },
    Route {
        method: "POST",
        path: "/mfa/passkey/complete-registration-1",
        function: "mfa-passkey-complete-registration-1",
        handler: "handlers::passkey::complete_registration",
        summary: "the same, under the path older clients use.",
        auth: AuthKind::Either,
        needs: Needs { keyring: true, webauthn: true, ..BASE },
        dynamodb: CONSUME,
    },
    Route {
        method: "POST",
        path: "/mfa/verify-login",
        function: "mfa-verify-login",
        handler: "handlers::login::verify_login",
        summary: "the second step of a login; issues a full-access token.",
        auth: AuthKind::Either,
        needs: Needs { keyring: true, webauthn: true, signer: true, links: true, ..BASE },
        dynamodb: CONSUME,
    },
    Route {
        method: "POST",
        path: "/mfa/recover",
        function: "mfa-recover",
        handler: "handlers::login::recover",
        summary: "logs in with a backup code.",
        auth: AuthKind::Either,
        needs: Needs { keyring: true, signer: true, ..BASE },
        dynamodb: WRITE,
    },
    Route {
        method: "POST",
        path: "/mfa/backup-codes",
        function: "mfa-backup-codes",
        handler: "handlers::backup_codes::regenerate_backup_codes",
        summary: "ten new backup codes (step-up).",
        auth: AuthKind::Either,
        needs: Needs { keyring: true, ..BASE },
        dynamodb: WRITE,
    },
    Route {
        method: "POST",
        path: "/mfa/token/refresh",
        function: "mfa-token-refresh",
        handler: "handlers::session::refresh",
        summary: "rotates the refresh token.",
        auth: AuthKind::Platform,
        needs: Needs { signer: true, ..BASE },
        // The record read (its login state holds the session's refresh chain); the chain
        // rotated, or the session ended, by one update.
        dynamodb: &["dynamodb:Query", "dynamodb:UpdateItem"],
    },
    Route {
        method: "POST",
        path: "/mfa/organization/enforce",
        function: "mfa-organization-enforce",
        handler: "handlers::organization::enforce",
        summary: "turns organization-wide MFA on or off.",
        auth: AuthKind::Either,
        needs: BASE,
        dynamodb: WRITE,
    },
    // Frontegg's MFA API (each also served under `FRONTEGG_PREFIX`).
    Route {
        method: "POST",
        path: "/resources/auth/v1/user/mfa/verify",
        function: "frontegg-login-verify",
        handler: "frontegg::login::verify",
        summary: "login with a code of any authenticator.",
        auth: AuthKind::MfaToken,
        needs: Needs { keyring: true, signer: true, ..BASE },
        dynamodb: WRITE,
    },
    Route {
        method: "POST",
        path: "/resources/auth/v1/user/mfa/recover",
        function: "frontegg-login-recover",
        handler: "frontegg::login::recover",
        summary: "a recovery code resets the user's MFA.",
        auth: AuthKind::MfaToken,
        needs: Needs { keyring: true, ..BASE },
        dynamodb: WRITE,
    },
    Route {
        method: "POST",
        path: "/resources/auth/v1/user/mfa/authenticator/enroll",
        function: "frontegg-login-authenticator-enroll",
        handler: "frontegg::login::authenticator_enroll",
        summary: "begins an authenticator at login.",
        auth: AuthKind::MfaToken,
        needs: Needs { keyring: true, ..BASE },
        dynamodb: WRITE,
    },
    Route {
        method: "POST",
        path: "/resources/auth/v1/user/mfa/authenticator/enroll/verify",
        function: "frontegg-login-authenticator-enroll-verify",
        handler: "frontegg::login::authenticator_enroll_verify",
        summary: "completes the authenticator and logs in.",
        auth: AuthKind::MfaToken,
        needs: Needs { keyring: true, signer: true, ..BASE },
        dynamodb: WRITE,
    },
    Route {
        method: "POST",
        path: "/resources/auth/v1/user/mfa/authenticator/{deviceId}/verify",
        function: "frontegg-login-authenticator-verify",
        handler: "frontegg::login::authenticator_verify",
        summary: "login with that authenticator.",
        auth: AuthKind::MfaToken,
        needs: Needs { keyring: true, signer: true, ..BASE },
        dynamodb: WRITE,
    },
    Route {
        method: "POST",
        path: "/resources/auth/v1/user/mfa/sms/enroll",
        function: "frontegg-login-sms-enroll",
        handler: "frontegg::login::sms_enroll",
        summary: "texts a setup code at login.",
        auth: AuthKind::MfaToken,
        needs: Needs { keyring: true, sms: true, ..BASE },
        dynamodb: SEND,
    },
    Route {
        method: "POST",
        path: "/resources/auth/v1/user/mfa/sms/enroll/verify",
        function: "frontegg-login-sms-enroll-verify",
        handler: "frontegg::login::sms_enroll_verify",
        summary: "completes the phone and logs in.",
        auth: AuthKind::MfaToken,
        needs: Needs { keyring: true, signer: true, ..BASE },
        dynamodb: CONSUME,
    },
    Route {
        method: "POST",
        path: "/resources/auth/v1/user/mfa/sms/{deviceId}",
        function: "frontegg-login-sms-send",
        handler: "frontegg::login::sms_send",
        summary: "texts a login code to that phone.",
        auth: AuthKind::MfaToken,
        needs: Needs { keyring: true, sms: true, ..BASE },
        dynamodb: SEND,
    },
    Route {
        method: "POST",
        path: "/resources/auth/v1/user/mfa/sms/{deviceId}/verify",
        function: "frontegg-login-sms-verify",
        handler: "frontegg::login::sms_verify",
        summary: "login with the texted code.",
        auth: AuthKind::MfaToken,
        needs: Needs { keyring: true, signer: true, ..BASE },
        dynamodb: CONSUME,
    },
    Route {
        method: "POST",
        path: "/resources/auth/v1/user/mfa/emailcode",
        function: "frontegg-login-emailcode-send",
        handler: "frontegg::login::emailcode_send",
        summary: "mails a login code.",
        auth: AuthKind::MfaToken,
        needs: Needs { keyring: true, mail: true, ..BASE },
        dynamodb: CONSUME,
    },
    Route {
        method: "POST",
        path: "/resources/auth/v1/user/mfa/emailcode/verify",
        function: "frontegg-login-emailcode-verify",
        handler: "frontegg::login::emailcode_verify",
        summary: "login with the mailed code.",
        auth: AuthKind::MfaToken,
        needs: Needs { keyring: true, signer: true, ..BASE },
        dynamodb: CONSUME,
    },
    Route {
        method: "POST",
        path: "/resources/auth/v1/user/mfa/webauthn/enroll",
        function: "frontegg-login-webauthn-enroll",
        handler: "frontegg::login::webauthn_enroll",
        summary: "begins a passkey at login.",
        auth: AuthKind::MfaToken,
        needs: Needs { webauthn: true, ..BASE },
        dynamodb: CONSUME,
    },
    Route {
        method: "POST",
        path: "/resources/auth/v1/user/mfa/webauthn/enroll/verify",
        function: "frontegg-login-webauthn-enroll-verify",
        handler: "frontegg::login::webauthn_enroll_verify",
        summary: "completes the passkey and logs in.",
        auth: AuthKind::MfaToken,
        needs: Needs { keyring: true, webauthn: true, signer: true, ..BASE },
        dynamodb: CONSUME,
    },
    Route {
        method: "POST",
        path: "/resources/auth/v1/user/mfa/webauthn/{deviceId}",
        function: "frontegg-login-webauthn-options",
        handler: "frontegg::login::webauthn_options",
        summary: "opens a login ceremony for that passkey.",
        auth: AuthKind::MfaToken,
        needs: Needs { webauthn: true, ..BASE },
        dynamodb: CONSUME,
    },
    Route {
        method: "POST",
        path: "/resources/auth/v1/user/mfa/webauthn/{deviceId}/verify",
        function: "frontegg-login-webauthn-verify",
        handler: "frontegg::login::webauthn_verify",
        summary: "login with that passkey.",
        auth: AuthKind::MfaToken,
        needs: Needs { webauthn: true, signer: true, ..BASE },
        dynamodb: CONSUME,
    },
    Route {
        method: "GET",
        path: "/resources/configurations/v1/mfa-policy/allow-remember-device",
        function: "frontegg-allow-remember-device",
        handler: "frontegg::login::allow_remember_device",
        summary: "whether a login may remember its device.",
        auth: AuthKind::MfaToken,
        needs: Needs { backend: Backend::Tenant, ..BASE },
        dynamodb: READ,
    },
    Route {
        method: "POST",
        path: "/resources/users/v1/mfa/authenticator/enroll",
        function: "frontegg-authenticator-enroll",
        handler: "frontegg::account::authenticator_enroll",
        summary: "begins an authenticator.",
        auth: AuthKind::Either,
        needs: Needs { keyring: true, backend: Backend::User, ..BASE },
        dynamodb: WRITE,
    },
    Route {
        method: "POST",
        path: "/resources/users/v1/mfa/authenticator/enroll/verify",
        function: "frontegg-authenticator-enroll-verify",
        handler: "frontegg::account::authenticator_enroll_verify",
        summary: "completes the authenticator.",
        auth: AuthKind::Either,
        needs: Needs { keyring: true, backend: Backend::User, ..BASE },
        dynamodb: WRITE,
    },
    Route {
        method: "POST",
        path: "/resources/users/v1/mfa/sms/enroll",
        function: "frontegg-sms-enroll",
        handler: "frontegg::account::sms_enroll",
        summary: "begins a phone.",
        auth: AuthKind::Either,
        needs: Needs { keyring: true, sms: true, backend: Backend::User, ..BASE },
        dynamodb: SEND,
    },
    Route {
        method: "POST",
        path: "/resources/users/v1/mfa/sms/enroll/verify",
        function: "frontegg-sms-enroll-verify",
        handler: "frontegg::account::sms_enroll_verify",
        summary: "completes the phone.",
        auth: AuthKind::Either,
        needs: Needs { keyring: true, backend: Backend::User, ..BASE },
        dynamodb: CONSUME,
    },
    Route {
        method: "POST",
        path: "/resources/users/v1/mfa/authenticator/{deviceId}/disable/verify",
        function: "frontegg-authenticator-disable",
        handler: "frontegg::account::authenticator_disable",
        summary: "removes that authenticator (proof in the request).",
        auth: AuthKind::Either,
        needs: Needs { keyring: true, backend: Backend::User, ..BASE },
        dynamodb: WRITE,
    },
    Route {
        method: "POST",
        path: "/resources/users/v1/mfa/sms/{deviceId}/disable",
        function: "frontegg-sms-disable-send",
        handler: "frontegg::account::sms_disable_send",
        summary: "texts a code to prove that phone.",
        auth: AuthKind::Either,
        needs: Needs { keyring: true, sms: true, backend: Backend::UserInTenant, ..BASE },
        dynamodb: SEND,
    },
    Route {
        method: "POST",
        path: "/resources/users/v1/mfa/sms/{deviceId}/disable/verify",
        function: "frontegg-sms-disable",
        handler: "frontegg::account::sms_disable",
        summary: "removes that phone (proof in the request).",
        auth: AuthKind::Either,
        needs: Needs { keyring: true, backend: Backend::User, ..BASE },
        dynamodb: CONSUME,
    },
    Route {
        method: "POST",
        path: "/resources/users/v1/mfa/disable",
        function: "frontegg-mfa-disable",
        handler: "frontegg::account::disable",
        summary: "(legacy) turns MFA off with a code or recovery code.",
        auth: AuthKind::Either,
        needs: Needs { keyring: true, backend: Backend::User, ..BASE },
        dynamodb: WRITE,
    },
    Route {
        method: "POST",
        path: "/resources/users/v1/mfa/enroll",
        function: "frontegg-mfa-enroll",
        handler: "frontegg::account::authenticator_enroll",
        summary: "(legacy) begins an authenticator.",
        auth: AuthKind::Either,
        needs: Needs { keyring: true, backend: Backend::User, ..BASE },
        dynamodb: WRITE,
    },
    Route {
        method: "POST",
        path: "/resources/users/v1/mfa/enroll/verify",
        function: "frontegg-mfa-enroll-verify",
        handler: "frontegg::account::authenticator_enroll_verify",
        summary: "(legacy) completes it.",
        auth: AuthKind::Either,
        needs: Needs { keyring: true, backend: Backend::User, ..BASE },
        dynamodb: WRITE,
    },
    Route {
        method: "GET",
        path: "/resources/users/v1/mfa/devices",
        function: "frontegg-devices",
        handler: "frontegg::account::devices",
        summary: "the user's factors as its client lists them.",
        auth: AuthKind::Either,
        needs: BASE,
        dynamodb: READ,
    },
    Route {
        method: "POST",
        path: "/resources/users/v1/mfa/webauthn/{deviceId}/disable",
        function: "frontegg-webauthn-disable-options",
        handler: "frontegg::account::webauthn_disable_options",
        summary: "opens a ceremony to prove that passkey.",
        auth: AuthKind::Either,
        needs: Needs { webauthn: true, ..BASE },
        dynamodb: CONSUME,
    },
    Route {
        method: "POST",
        path: "/resources/users/v1/mfa/webauthn/{deviceId}/disable/verify",
        function: "frontegg-webauthn-disable",
        handler: "frontegg::account::webauthn_disable",
        summary: "removes that passkey (proof in the request).",
        auth: AuthKind::Either,
        needs: Needs { webauthn: true, ..BASE },
        dynamodb: CONSUME,
    },
    Route {
        method: "GET",
        path: "/.well-known/jwks.json",
        function: "mfa-jwks",
        handler: "handlers::jwks",
        summary: "the public keys that verify full-access tokens.",
        auth: AuthKind::None,
        needs: Needs { public_keys: true, ..Needs::NOTHING },
        dynamodb: &[],
    },
];

impl Route {
    /// A route of Frontegg's API (its paths begin `/resources/`).
    pub fn is_frontegg(&self) -> bool {
        self.path.starts_with("/resources/")
    }

    /// Every path the route is served at: its own, and for a Frontegg route the same under
    /// [`FRONTEGG_PREFIX`].
    pub fn paths(&self) -> Vec<String> {
        let mut paths = vec![self.path.to_string()];
        if self.is_frontegg() {
            paths.push(format!("{FRONTEGG_PREFIX}{}", self.path));
        }
        paths
    }

    /// Whether a concrete request path is one of the route's.
    pub fn serves(&self, path: &str) -> bool {
        matches(self.path, path)
            || (self.is_frontegg() && path.strip_prefix(FRONTEGG_PREFIX).is_some_and(|p| matches(self.path, p)))
    }
}

impl Needs {
    /// Nothing at all (the fallback function).
    pub const NOTHING: Needs = Needs {
        auth: false,
        store: false,
        keyring: false,
        mail: false,
        links: false,
        sms: false,
        webauthn: false,
        signer: false,
        public_keys: false,
        sessions_only: false,
        backend: Backend::None,
    };
}

/// The function that answers every request no route matches.
pub const FALLBACK_FUNCTION: &str = "mfa-fallback";

/// The row of `function`.
pub fn route(function: &str) -> Option<&'static Route> {
    ROUTES.iter().find(|r| r.function == function)
}

/// Whether a concrete request path is one of the route's: each `{name}` segment of the
/// route's path matches any one non-empty segment.
pub fn matches(route_path: &str, path: &str) -> bool {
    let (mut want, mut have) = (route_path.split('/'), path.split('/'));
    loop {
        match (want.next(), have.next()) {
            (None, None) => return true,
            (Some(w), Some(h)) if w.starts_with('{') && w.ends_with('}') && !h.is_empty() => continue,
            (Some(w), Some(h)) if w == h => continue,
            _ => return false,
        }
    }
}

/// The methods a path accepts (`GET` or, for a path several routes share, e.g.
/// `PATCH, DELETE`), if the path is known.
pub fn allowed_methods(path: &str) -> Option<String> {
    let methods: Vec<&str> = ROUTES.iter().filter(|r| r.serves(path)).map(|r| r.method).collect();
    (!methods.is_empty()).then(|| methods.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_authenticates_exactly_when_it_loads_token_verification() {
        for r in ROUTES {
            assert_eq!(r.needs.auth, r.auth != AuthKind::None, "{}", r.function);
            assert_eq!(r.needs.store, !r.dynamodb.is_empty(), "{}", r.function);
        }
    }

    #[test]
    fn functions_and_routes_are_unique() {
        for (i, r) in ROUTES.iter().enumerate() {
            assert!(
                ROUTES[i + 1..].iter().all(|o| o.function != r.function && (o.path, o.method) != (r.path, r.method)),
                "{}",
                r.function
            );
        }
        assert!(route(FALLBACK_FUNCTION).is_none());
    }

    /// As Frontegg's OpenAPI description (`identity.json`) declares the headers.
    #[test]
    fn backend_headers_are_taken_exactly_where_frontegg_declares_them() {
        let mut user: Vec<&str> = ROUTES.iter().filter(|r| r.needs.backend.names_user()).map(|r| r.path).collect();
        user.sort_unstable();
        assert_eq!(
            user,
            [
                "/resources/users/v1/mfa/authenticator/enroll",
                "/resources/users/v1/mfa/authenticator/enroll/verify",
                "/resources/users/v1/mfa/authenticator/{deviceId}/disable/verify",
                "/resources/users/v1/mfa/disable",
                "/resources/users/v1/mfa/enroll",
                "/resources/users/v1/mfa/enroll/verify",
                "/resources/users/v1/mfa/sms/enroll",
                "/resources/users/v1/mfa/sms/enroll/verify",
                "/resources/users/v1/mfa/sms/{deviceId}/disable",
                "/resources/users/v1/mfa/sms/{deviceId}/disable/verify",
            ]
        );
        let mut tenant: Vec<&str> =
            ROUTES.iter().filter(|r| r.needs.backend.names_tenant().0).map(|r| r.path).collect();
        tenant.sort_unstable();
        assert_eq!(
            tenant,
            [
                "/resources/configurations/v1/mfa-policy/allow-remember-device",
                "/resources/users/v1/mfa/sms/{deviceId}/disable"
            ]
        );
        for r in ROUTES.iter().filter(|r| r.needs.backend.takes_server()) {
            assert!(r.is_frontegg() && r.needs.auth, "{}", r.function);
            assert!(r.needs.environment().contains(&"MFA_SERVER_TOKEN_KEY"), "{}", r.function);
        }
    }

    #[test]
    fn path_parameters_match_one_segment() {
        assert!(matches("/mfa/factors/{factorId}", "/mfa/factors/fAbc"));
        assert!(!matches("/mfa/factors/{factorId}", "/mfa/factors/"));
        assert!(!matches("/mfa/factors/{factorId}", "/mfa/factors/a/b"));
        assert!(!matches("/mfa/factors/{factorId}", "/mfa/factors"));
        assert_eq!(allowed_methods("/mfa/factors/x").as_deref(), Some("PATCH, DELETE"));
        assert_eq!(allowed_methods("/mfa/status").as_deref(), Some("GET"));
        assert_eq!(allowed_methods("/nowhere"), None);
    }
}
