//! The route table: which function serves which method and path. The fallback function
//! uses it to tell a wrong method (405) from an unknown path (404).

/// `(method, path, function)` for every route.
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/mfa/status", "mfa-status"),
    ("GET", "/mfa/methods", "mfa-methods"),
    ("POST", "/mfa/setup", "mfa-setup"),
    ("POST", "/mfa/verify-setup", "mfa-verify-setup"),
    ("POST", "/mfa/enable", "mfa-enable"),
    ("POST", "/mfa/disable", "mfa-disable"),
    ("POST", "/mfa/primary", "mfa-primary"),
    ("POST", "/mfa/reset", "mfa-reset"),
    ("POST", "/mfa/magic-link/send", "mfa-magic-link-send"),
    ("POST", "/mfa/magic-link/activate", "mfa-magic-link-activate"),
    ("POST", "/mfa/passkey/auth-options", "mfa-passkey-auth-options"),
    ("POST", "/mfa/passkey/complete-registration", "mfa-passkey-complete-registration"),
    ("POST", "/mfa/passkey/complete-registration-1", "mfa-passkey-complete-registration-1"),
    ("POST", "/mfa/verify-login", "mfa-verify-login"),
    ("POST", "/mfa/recover", "mfa-recover"),
    ("POST", "/mfa/backup-codes", "mfa-backup-codes"),
    ("POST", "/mfa/token/refresh", "mfa-token-refresh"),
    ("POST", "/mfa/organization/enforce", "mfa-organization-enforce"),
    ("GET", "/.well-known/jwks.json", "mfa-jwks"),
];

/// The function that answers every request no route matches.
pub const FALLBACK_FUNCTION: &str = "mfa-fallback";

/// The methods a path accepts, if the path is known.
pub fn allowed_methods(path: &str) -> Option<&'static str> {
    ROUTES.iter().find(|(_, p, _)| *p == path).map(|(m, _, _)| *m)
}
