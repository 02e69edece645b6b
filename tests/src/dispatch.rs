//! Each function's handler by the function's name, as its entry point names it: written
//! by `mfa-local gen` from the route table (`shared/src/routes.rs`).

use lambda_http::{Body, Request, Response};
use mfa_shared::lambda::Handler;
use mfa_shared::{App, edge, frontegg, handlers, routes};

/// Answers `req` as `function`'s binary would: through the edge (`edge::answer`) with its
/// handler (`jwks`: the document `mfa-jwks` builds at cold start); `None` for a function no
/// row names.
#[rustfmt::skip]
pub async fn dispatch(app: &App, jwks: &str, function: &str, req: Request) -> Option<Response<Body>> {
    let handler: Handler = match function {
        "mfa-status" => |call| Box::pin(edge::run(call, handlers::status)),
        "mfa-methods" => |call| Box::pin(edge::run(call, handlers::methods)),
        "mfa-factors" => |call| Box::pin(edge::run(call, handlers::factors)),
        "mfa-factor-rename" => |call| Box::pin(edge::run(call, handlers::rename_factor)),
        "mfa-factor-remove" => |call| Box::pin(edge::run(call, handlers::remove_factor)),
        "mfa-devices" => |call| Box::pin(edge::run(call, handlers::devices)),
        "mfa-device-forget" => |call| Box::pin(edge::run(call, handlers::forget_device)),
        "mfa-devices-forget" => |call| Box::pin(edge::run(call, handlers::forget_devices)),
        "mfa-remember-device" => |call| Box::pin(edge::run(call, handlers::remember_device)),
        "mfa-events" => |call| Box::pin(edge::run(call, handlers::events)),
        "mfa-setup" => |call| Box::pin(edge::run(call, handlers::setup)),
        "mfa-verify-setup" => |call| Box::pin(edge::run(call, handlers::verify_setup)),
        "mfa-enable" => |call| Box::pin(edge::run(call, handlers::enable)),
        "mfa-disable" => |call| Box::pin(edge::run(call, handlers::disable)),
        "mfa-primary" => |call| Box::pin(edge::run(call, handlers::primary)),
        "mfa-reset" => |call| Box::pin(edge::run(call, handlers::reset)),
        "mfa-magic-link-send" => |call| Box::pin(edge::run(call, handlers::magic_link_send)),
        "mfa-magic-link-activate" => |call| Box::pin(edge::run(call, handlers::magic_link_activate)),
        "mfa-email-code-send" => |call| Box::pin(edge::run(call, handlers::send_email_code)),
        "mfa-sms-send" => |call| Box::pin(edge::run(call, handlers::send_sms_code)),
        "mfa-passkey-auth-options" => |call| Box::pin(edge::run(call, handlers::passkey_auth_options)),
        "mfa-passkey-complete-registration" => |call| Box::pin(edge::run(call, handlers::passkey_complete_registration)),
        "mfa-passkey-complete-registration-1" => |call| Box::pin(edge::run(call, handlers::passkey_complete_registration)),
        "mfa-verify-login" => |call| Box::pin(edge::run(call, handlers::verify_login)),
        "mfa-recover" => |call| Box::pin(edge::run(call, handlers::recover)),
        "mfa-backup-codes" => |call| Box::pin(edge::run(call, handlers::regenerate_backup_codes)),
        "mfa-token-refresh" => |call| Box::pin(edge::run(call, handlers::token_refresh)),
        "mfa-organization-enforce" => |call| Box::pin(edge::run(call, handlers::enforce)),
        "frontegg-login-verify" => |call| Box::pin(edge::run(call, frontegg::login_verify)),
        "frontegg-login-recover" => |call| Box::pin(edge::run(call, frontegg::login_recover)),
        "frontegg-login-authenticator-enroll" => |call| Box::pin(edge::run(call, frontegg::login_authenticator_enroll)),
        "frontegg-login-authenticator-enroll-verify" => |call| Box::pin(edge::run(call, frontegg::login_authenticator_enroll_verify)),
        "frontegg-login-authenticator-verify" => |call| Box::pin(edge::run(call, frontegg::login_authenticator_verify)),
        "frontegg-login-sms-enroll" => |call| Box::pin(edge::run(call, frontegg::login_sms_enroll)),
        "frontegg-login-sms-enroll-verify" => |call| Box::pin(edge::run(call, frontegg::login_sms_enroll_verify)),
        "frontegg-login-sms-send" => |call| Box::pin(edge::run(call, frontegg::login_sms_send)),
        "frontegg-login-sms-verify" => |call| Box::pin(edge::run(call, frontegg::login_sms_verify)),
        "frontegg-login-emailcode-send" => |call| Box::pin(edge::run(call, frontegg::login_emailcode_send)),
        "frontegg-login-emailcode-verify" => |call| Box::pin(edge::run(call, frontegg::login_emailcode_verify)),
        "frontegg-login-webauthn-enroll" => |call| Box::pin(edge::run(call, frontegg::login_webauthn_enroll)),
        "frontegg-login-webauthn-enroll-verify" => |call| Box::pin(edge::run(call, frontegg::login_webauthn_enroll_verify)),
        "frontegg-login-webauthn-options" => |call| Box::pin(edge::run(call, frontegg::login_webauthn_options)),
        "frontegg-login-webauthn-verify" => |call| Box::pin(edge::run(call, frontegg::login_webauthn_verify)),
        "frontegg-allow-remember-device" => |call| Box::pin(edge::run(call, frontegg::allow_remember_device)),
        "frontegg-authenticator-enroll" => |call| Box::pin(edge::run(call, frontegg::authenticator_enroll)),
        "frontegg-authenticator-enroll-verify" => |call| Box::pin(edge::run(call, frontegg::authenticator_enroll_verify)),
        "frontegg-sms-enroll" => |call| Box::pin(edge::run(call, frontegg::sms_enroll)),
        "frontegg-sms-enroll-verify" => |call| Box::pin(edge::run(call, frontegg::sms_enroll_verify)),
        "frontegg-authenticator-disable" => |call| Box::pin(edge::run(call, frontegg::authenticator_disable)),
        "frontegg-sms-disable-send" => |call| Box::pin(edge::run(call, frontegg::sms_disable_send)),
        "frontegg-sms-disable" => |call| Box::pin(edge::run(call, frontegg::sms_disable)),
        "frontegg-mfa-disable" => |call| Box::pin(edge::run(call, frontegg::disable)),
        "frontegg-mfa-enroll" => |call| Box::pin(edge::run(call, frontegg::authenticator_enroll)),
        "frontegg-mfa-enroll-verify" => |call| Box::pin(edge::run(call, frontegg::authenticator_enroll_verify)),
        "frontegg-devices" => |call| Box::pin(edge::run(call, frontegg::devices)),
        "frontegg-webauthn-disable-options" => |call| Box::pin(edge::run(call, frontegg::webauthn_disable_options)),
        "frontegg-webauthn-disable" => |call| Box::pin(edge::run(call, frontegg::webauthn_disable)),
        "mfa-jwks" => return Some(handlers::jwks(jwks, req).await),
        _ => return None,
    };
    Some(edge::answer(app, routes::route(function)?, req, handler).await)
}
