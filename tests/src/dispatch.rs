//! Each function's handler by the function's name, as its entry point calls it: written
//! by `mfa-local gen` from the route table (`shared/src/routes.rs`).

use lambda_http::{Body, Request, Response};
use mfa_shared::{App, frontegg, handlers};

/// Runs `function`'s handler on `req` (`jwks`: the document `mfa-jwks` builds at cold start);
/// `None` for a function no row names. Each handler's future is boxed: unboxed, this future
/// would be as large as the largest of them, on a test thread's small stack.
#[rustfmt::skip]
pub async fn dispatch(app: &App, jwks: &str, function: &str, req: Request) -> Option<Response<Body>> {
    Some(match function {
        "mfa-status" => Box::pin(handlers::status(app, req)).await,
        "mfa-methods" => Box::pin(handlers::methods(app, req)).await,
        "mfa-factors" => Box::pin(handlers::factors(app, req)).await,
        "mfa-factor-rename" => Box::pin(handlers::rename_factor(app, req)).await,
        "mfa-factor-remove" => Box::pin(handlers::remove_factor(app, req)).await,
        "mfa-devices" => Box::pin(handlers::devices(app, req)).await,
        "mfa-device-forget" => Box::pin(handlers::forget_device(app, req)).await,
        "mfa-devices-forget" => Box::pin(handlers::forget_devices(app, req)).await,
        "mfa-remember-device" => Box::pin(handlers::remember_device(app, req)).await,
        "mfa-events" => Box::pin(handlers::events(app, req)).await,
        "mfa-setup" => Box::pin(handlers::setup(app, req)).await,
        "mfa-verify-setup" => Box::pin(handlers::verify_setup(app, req)).await,
        "mfa-enable" => Box::pin(handlers::enable(app, req)).await,
        "mfa-disable" => Box::pin(handlers::disable(app, req)).await,
        "mfa-primary" => Box::pin(handlers::primary(app, req)).await,
        "mfa-reset" => Box::pin(handlers::reset(app, req)).await,
        "mfa-magic-link-send" => Box::pin(handlers::magic_link_send(app, req)).await,
        "mfa-magic-link-activate" => Box::pin(handlers::magic_link_activate(app, req)).await,
        "mfa-email-code-send" => Box::pin(handlers::send_email_code(app, req)).await,
        "mfa-sms-send" => Box::pin(handlers::send_sms_code(app, req)).await,
        "mfa-passkey-auth-options" => Box::pin(handlers::passkey_auth_options(app, req)).await,
        "mfa-passkey-complete-registration" => Box::pin(handlers::passkey_complete_registration(app, req)).await,
        "mfa-passkey-complete-registration-1" => Box::pin(handlers::passkey_complete_registration(app, req)).await,
        "mfa-verify-login" => Box::pin(handlers::verify_login(app, req)).await,
        "mfa-recover" => Box::pin(handlers::recover(app, req)).await,
        "mfa-backup-codes" => Box::pin(handlers::regenerate_backup_codes(app, req)).await,
        "mfa-token-refresh" => Box::pin(handlers::token_refresh(app, req)).await,
        "mfa-organization-enforce" => Box::pin(handlers::enforce(app, req)).await,
        "frontegg-login-verify" => Box::pin(frontegg::login_verify(app, req)).await,
        "frontegg-login-recover" => Box::pin(frontegg::login_recover(app, req)).await,
        "frontegg-login-authenticator-enroll" => Box::pin(frontegg::login_authenticator_enroll(app, req)).await,
        "frontegg-login-authenticator-enroll-verify" => Box::pin(frontegg::login_authenticator_enroll_verify(app, req)).await,
        "frontegg-login-authenticator-verify" => Box::pin(frontegg::login_authenticator_verify(app, req)).await,
        "frontegg-login-sms-enroll" => Box::pin(frontegg::login_sms_enroll(app, req)).await,
        "frontegg-login-sms-enroll-verify" => Box::pin(frontegg::login_sms_enroll_verify(app, req)).await,
        "frontegg-login-sms-send" => Box::pin(frontegg::login_sms_send(app, req)).await,
        "frontegg-login-sms-verify" => Box::pin(frontegg::login_sms_verify(app, req)).await,
        "frontegg-login-emailcode-send" => Box::pin(frontegg::login_emailcode_send(app, req)).await,
        "frontegg-login-emailcode-verify" => Box::pin(frontegg::login_emailcode_verify(app, req)).await,
        "frontegg-login-webauthn-enroll" => Box::pin(frontegg::login_webauthn_enroll(app, req)).await,
        "frontegg-login-webauthn-enroll-verify" => Box::pin(frontegg::login_webauthn_enroll_verify(app, req)).await,
        "frontegg-login-webauthn-options" => Box::pin(frontegg::login_webauthn_options(app, req)).await,
        "frontegg-login-webauthn-verify" => Box::pin(frontegg::login_webauthn_verify(app, req)).await,
        "frontegg-allow-remember-device" => Box::pin(frontegg::allow_remember_device(app, req)).await,
        "frontegg-authenticator-enroll" => Box::pin(frontegg::authenticator_enroll(app, req)).await,
        "frontegg-authenticator-enroll-verify" => Box::pin(frontegg::authenticator_enroll_verify(app, req)).await,
        "frontegg-sms-enroll" => Box::pin(frontegg::sms_enroll(app, req)).await,
        "frontegg-sms-enroll-verify" => Box::pin(frontegg::sms_enroll_verify(app, req)).await,
        "frontegg-authenticator-disable" => Box::pin(frontegg::authenticator_disable(app, req)).await,
        "frontegg-sms-disable-send" => Box::pin(frontegg::sms_disable_send(app, req)).await,
        "frontegg-sms-disable" => Box::pin(frontegg::sms_disable(app, req)).await,
        "frontegg-mfa-disable" => Box::pin(frontegg::disable(app, req)).await,
        "frontegg-mfa-enroll" => Box::pin(frontegg::authenticator_enroll(app, req)).await,
        "frontegg-mfa-enroll-verify" => Box::pin(frontegg::authenticator_enroll_verify(app, req)).await,
        "frontegg-devices" => Box::pin(frontegg::devices(app, req)).await,
        "frontegg-webauthn-disable-options" => Box::pin(frontegg::webauthn_disable_options(app, req)).await,
        "frontegg-webauthn-disable" => Box::pin(frontegg::webauthn_disable(app, req)).await,
        "mfa-jwks" => Box::pin(handlers::jwks(jwks, req)).await,
        _ => return None,
    })
}
