//! Frontegg's backend calls, over HTTP through `cargo lambda watch`: a platform's server
//! acts for a user with a server credential and `frontegg-user-id` (and
//! `frontegg-tenant-id` where Frontegg's description declares it), with the standing of
//! the user's own password-only token and no more; a user's own token may name only
//! itself; a server credential is taken nowhere else.

use std::process::Command;

use base64::Engine;
use mfa_shared::model::{MfaType, OrgPolicy};
use mfa_shared::routes::{AuthKind, Backend, ROUTES};
use mfa_tests::{
    Api, Person, Reply, assert_error, enroll_totp, factor_of, now, phone_number, remember_secret, server_token, stack,
    store, unique,
};
use serde_json::{Value, json};

const USER: &str = "frontegg-user-id";
const TENANT: &str = "frontegg-tenant-id";
const ENROLL: &str = "/resources/users/v1/mfa/authenticator/enroll";
const ENROLL_VERIFY: &str = "/resources/users/v1/mfa/authenticator/enroll/verify";
const REMEMBER: &str = "/resources/configurations/v1/mfa-policy/allow-remember-device";

/// The authenticator secret in a `data:image/png;base64,…` QR code, read by zbarimg.
fn secret_of_qr(data_url: &str) -> Vec<u8> {
    let png = base64::engine::general_purpose::STANDARD
        .decode(data_url.strip_prefix("data:image/png;base64,").expect("a PNG data URL"))
        .expect("base64");
    let path = std::env::temp_dir().join(format!("qr-{}.png", unique("t")));
    std::fs::write(&path, png).unwrap();
    let out = Command::new("zbarimg").args(["--quiet", "--raw"]).arg(&path).output().expect("zbarimg runs");
    let _ = std::fs::remove_file(&path);
    let url = url::Url::parse(String::from_utf8(out.stdout).unwrap().trim()).expect("an otpauth URL");
    let secret = url.query_pairs().find(|(k, _)| k == "secret").expect("a secret").1.to_string();
    remember_secret(&secret);
    base32_decode(&secret)
}

fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut bits, mut value, mut out) = (0u32, 0u32, Vec::new());
    for c in text.trim_end_matches('=').bytes() {
        value = (value << 5) | ALPHABET.iter().position(|a| *a == c).expect("base32") as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((value >> bits) as u8);
        }
    }
    out
}

async fn events_of(api: &Api, token: &str) -> Vec<Value> {
    mfa_tests::audit_settled().await;
    let r = api.get("/mfa/events", Some(token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["data"]["events"].as_array().unwrap().clone()
}

async fn set_policy(org: &str, change: impl Fn(&mut OrgPolicy)) {
    let store = store().await;
    let mut policy = OrgPolicy { org_id: org.to_string(), ..Default::default() };
    change(&mut policy);
    store.save_policy(&mut policy).await.unwrap();
}

/// A route's path with its `{deviceId}` filled in.
fn concrete(path: &str) -> String {
    path.replace("{deviceId}", "fNoSuchFactor0001").replace("{factorId}", "fNoSuchFactor0001")
}

async fn call(api: &Api, method: &str, path: &str, token: &str, headers: &[(&str, &str)]) -> Reply {
    let body = (method != "GET").then(|| "{}".to_string());
    api.send_with(method, path, Some(token), headers, body).await
}

#[tokio::test]
async fn a_server_enrols_an_authenticator_removes_it_with_its_code_and_steps_up_like_a_password() {
    let api = Api::new();
    let me = Person::new();
    let server = server_token(Some("billing-backend"));
    let who = [(USER, me.id.as_str())];
    let r = api.send_with("POST", ENROLL, Some(&server), &who, Some("{}".into())).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let secret = secret_of_qr(r.body["qrCode"].as_str().expect("a QR code"));
    let code = mfa_tests::totp_code(&secret, 0).await;
    let r = api.send_with("POST", ENROLL_VERIFY, Some(&server), &who, Some(json!({"token": code}).to_string())).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["recoveryCode"].is_string(), "the first factor brings a recovery code: {}", r.body);
    let status = api.get("/mfa/status", Some(&me.platform_token())).await;
    assert_eq!(status.body["data"]["isEnabled"], json!(true), "the user has MFA now");

    // The user has MFA: the backend's word is a password's, so adding needs a fresh factor.
    let phone = json!({"phoneNumber": phone_number()}).to_string();
    let r = api.send_with("POST", "/resources/users/v1/mfa/sms/enroll", Some(&server), &who, Some(phone)).await;
    assert_error(&r, 403, "STEP_UP_REQUIRED");
    let r = api.send_with("POST", ENROLL, Some(&server), &who, Some("{}".into())).await;
    assert_error(&r, 403, "STEP_UP_REQUIRED");

    // Removal with the authenticator's next code in the request.
    let id = factor_of(&me, MfaType::GoogleAuth).await.expect("the authenticator").id;
    let path = format!("/resources/users/v1/mfa/authenticator/{id}/disable/verify");
    let wrong = api.send_with("POST", &path, Some(&server), &who, Some(json!({"token": "000000"}).to_string())).await;
    assert!(wrong.status >= 400, "a wrong code removes nothing: {}", wrong.body);
    let code = mfa_tests::totp_code(&secret, 1).await;
    let r = api.send_with("POST", &path, Some(&server), &who, Some(json!({"token": code}).to_string())).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(factor_of(&me, MfaType::GoogleAuth).await.is_none(), "removed");

    // The user's trail says their platform's backend did it.
    let events = events_of(&api, &me.full_access_token(now()).await).await;
    let by = |kind: &str| events.iter().find(|e| e["kind"] == json!(kind)).map(|e| e["actor"].clone());
    assert_eq!(by("FACTOR_ADDED"), Some(json!("server:billing-backend")), "{events:?}");
    assert_eq!(by("FACTOR_REMOVED"), Some(json!("server:billing-backend")), "{events:?}");
}

#[tokio::test]
async fn a_server_meets_the_rules_of_the_organization_the_record_is_bound_to() {
    let api = Api::new();
    let server = server_token(None);
    // The last factor of a member of an enforcing organization stays, whatever the proof.
    let org = unique("org");
    let me = Person::in_org(&org, "MEMBER");
    let secret = enroll_totp(&api, &me).await;
    set_policy(&org, |p| p.enforced = true).await;
    let id = factor_of(&me, MfaType::GoogleAuth).await.unwrap().id;
    let code = mfa_tests::totp_code(&secret, 1).await;
    let path = format!("/resources/users/v1/mfa/authenticator/{id}/disable/verify");
    let who = [(USER, me.id.as_str())];
    let r = api.send_with("POST", &path, Some(&server), &who, Some(json!({"token": code}).to_string())).await;
    assert_error(&r, 403, "ORG_ENFORCED");
    // A method the organization a record is bound to excludes is refused, though the
    // server credential names no organization.
    let texts_only = unique("org");
    set_policy(&texts_only, |p| p.allowed_methods = Some(vec![MfaType::Sms])).await;
    let member = Person::in_org(&texts_only, "MEMBER");
    mfa_tests::seed(&member, |r| r.org_id = Some(texts_only.clone())).await;
    let who = [(USER, member.id.as_str())];
    let r = api.send_with("POST", ENROLL, Some(&server), &who, Some("{}".into())).await;
    assert_error(&r, 403, "METHOD_NOT_ALLOWED_BY_ORG");
}

#[tokio::test]
async fn a_users_token_naming_another_user_is_refused_on_every_declared_route() {
    let api = Api::new();
    let me = Person::new();
    let other = Person::new();
    let token = me.full_access_token(now()).await;
    let mut declared = 0;
    for route in ROUTES.iter().filter(|r| r.needs.backend.names_user()) {
        declared += 1;
        let r = call(&api, route.method, &concrete(route.path), &token, &[(USER, other.id.as_str())]).await;
        assert_error(&r, 403, "FORBIDDEN");
        assert!(r.body["error"].as_str().unwrap().contains(USER), "{} names the header: {}", route.function, r.body);
    }
    assert_eq!(declared, 10, "the ten routes whose Frontegg description declares the header");
    // Naming oneself is accepted.
    let r =
        api.send_with("POST", ENROLL, Some(&me.platform_token()), &[(USER, me.id.as_str())], Some("{}".into())).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // A malformed id is a 400 before anything else.
    let long = "x".repeat(129);
    let r = api.send_with("POST", ENROLL, Some(&token), &[(USER, long.as_str())], Some("{}".into())).await;
    assert_error(&r, 400, "INVALID_FIELD");
}

#[tokio::test]
async fn a_users_token_naming_another_organization_is_refused_where_the_tenant_is_declared() {
    let api = Api::new();
    let org = unique("org");
    let me = Person::in_org(&org, "MEMBER");
    let token = me.full_access_token(now()).await;
    let elsewhere = unique("org");
    let r = call(&api, "GET", REMEMBER, &token, &[(TENANT, elsewhere.as_str())]).await;
    assert_error(&r, 403, "FORBIDDEN");
    assert!(r.body["error"].as_str().unwrap().contains(TENANT), "{}", r.body);
    let r = call(&api, "GET", REMEMBER, &token, &[(TENANT, org.as_str())]).await;
    assert_eq!(r.status, 200, "its own organization: {}", r.body);
    let path = "/resources/users/v1/mfa/sms/fNoSuchFactor0001/disable";
    assert_error(&call(&api, "POST", path, &token, &[(TENANT, elsewhere.as_str())]).await, 403, "FORBIDDEN");
}

#[tokio::test]
async fn a_server_credential_without_the_header_a_route_declares_is_a_400_naming_it() {
    let api = Api::new();
    let server = server_token(None);
    for route in ROUTES.iter().filter(|r| r.needs.backend.names_user()) {
        let r = call(&api, route.method, &concrete(route.path), &server, &[]).await;
        assert_error(&r, 400, "INVALID_FIELD");
        assert!(r.body["error"].as_str().unwrap().contains(USER), "{}: {}", route.function, r.body);
    }
    let me = Person::new();
    let path = "/resources/users/v1/mfa/sms/fNoSuchFactor0001/disable";
    let r = call(&api, "POST", path, &server, &[(USER, me.id.as_str())]).await;
    assert_error(&r, 400, "INVALID_FIELD");
    assert!(r.body["error"].as_str().unwrap().contains(TENANT), "{}", r.body);
}

#[tokio::test]
async fn a_server_credential_is_a_401_on_every_route_that_declares_no_backend_header() {
    let api = Api::new();
    let server = server_token(None);
    let me = Person::new();
    let mut refused = 0;
    for route in ROUTES.iter().filter(|r| r.needs.backend == Backend::None && r.auth != AuthKind::None) {
        let r = call(&api, route.method, &concrete(route.path), &server, &[(USER, me.id.as_str())]).await;
        assert_error(&r, 401, "INVALID_TOKEN");
        refused += 1;
    }
    assert!(refused >= 45, "{refused}");
    // As the pre-login routes' `mfaToken` too.
    let body = json!({"mfaToken": server, "value": "123456"}).to_string();
    let r = api.send_with("POST", "/resources/auth/v1/user/mfa/verify", None, &[(USER, &me.id)], Some(body)).await;
    assert_error(&r, 401, "INVALID_TOKEN");
}

#[tokio::test]
async fn only_a_short_lived_userless_credential_under_the_servers_own_key_acts_for_users() {
    let api = Api::new();
    let me = Person::new();
    let who = [(USER, me.id.as_str())];
    let key = std::env::var("MFA_SERVER_TOKEN_KEY").unwrap();
    let now = now();
    let sign = |secret: &str, claims: Value| mfa_local::platform_token(secret, &claims, 600);
    let aud = mfa_shared::auth::SERVER_AUDIENCE;
    let forged = [
        ("signed with the platform's key", sign(&stack().platform_secret, json!({"aud": aud}))),
        ("naming a user", sign(&key, json!({"aud": aud, "sub": me.id}))),
        ("living two hours", sign(&key, json!({"aud": aud, "iat": now, "exp": now + 7200}))),
        ("with an odd name", sign(&key, json!({"aud": aud, "name": "a b"}))),
        ("for another audience", sign(&key, json!({"aud": "mfa-api"}))),
        ("expired", sign(&key, json!({"aud": aud, "iat": now - 1200, "exp": now - 600}))),
        (
            "issued in the future",
            sign(&key, json!({"aud": aud, "iat": now + 86_400 * 365, "exp": now + 86_400 * 365 + 600})),
        ),
        ("living far beyond now", sign(&key, json!({"aud": aud, "iat": now - 3600, "exp": now + 86_400 * 365}))),
        ("with lifetimes that overflow", sign(&key, json!({"aud": aud, "iat": i64::MIN + 1, "exp": now + 600}))),
    ];
    for (what, token) in forged {
        let r = api.send_with("POST", ENROLL, Some(&token), &who, Some("{}".into())).await;
        assert!(r.status == 401, "a server credential {what}: {} {}", r.status, r.body);
    }
    // A user's own token claiming the servers' audience passes as neither.
    let user = me.platform_token_with(json!({"aud": aud}), 600);
    let r = api.send_with("POST", ENROLL, Some(&user), &who, Some("{}".into())).await;
    assert_eq!(r.status, 401, "{}", r.body);
}

async fn ask(api: &Api, server: &str, tenant: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = tenant.map(|t| (TENANT, t)).into_iter().collect();
    api.send_with("GET", REMEMBER, Some(server), &headers, None).await
}

#[tokio::test]
async fn the_tenant_header_decides_whose_remember_device_rule_is_reported() {
    let api = Api::new();
    let (strict, lenient) = (unique("org"), unique("org"));
    set_policy(&strict, |p| p.remember_device_days = Some(0)).await;
    set_policy(&lenient, |p| p.remember_device_days = Some(3)).await;
    let server = server_token(None);
    let r = ask(&api, &server, Some(&strict)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body, json!({"isAllowedToRemember": false, "mfaDeviceExpiration": 0}));
    let r = ask(&api, &server, Some(&lenient)).await;
    assert_eq!(r.body, json!({"isAllowedToRemember": true, "mfaDeviceExpiration": 3 * 86_400}));
    // No tenant: the deployment's own rule.
    let r = ask(&api, &server, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["isAllowedToRemember"], json!(true), "{}", r.body);
}

#[tokio::test]
async fn a_server_acting_for_a_member_not_yet_bound_meets_the_rules_of_the_tenant_it_names() {
    let api = Api::new();
    let org = unique("org");
    set_policy(&org, |p| p.allowed_methods = Some(vec![MfaType::Sms])).await;
    // A member whose record no token of theirs has bound yet.
    let member = Person::in_org(&org, "MEMBER");
    let server = server_token(None);
    let both = [(USER, member.id.as_str()), (TENANT, org.as_str())];
    let r = api.send_with("POST", ENROLL, Some(&server), &both, Some("{}".into())).await;
    assert_error(&r, 403, "METHOD_NOT_ALLOWED_BY_ORG");
    let (record, _) = store().await.load_user_and_policy(&member.id, None).await.unwrap();
    assert_eq!(record.org_id, None, "naming a tenant binds nothing");
}

#[tokio::test]
async fn a_server_credential_travels_only_as_the_bearer_and_names_one_user() {
    let api = Api::new();
    let server = server_token(None);
    let r = api.get(&format!("{REMEMBER}?mfaToken={server}"), None).await;
    assert_error(&r, 401, "INVALID_TOKEN");
    // A repeated header reaches a function joined with a comma (API Gateway's HTTP API);
    // the unit tests send it repeated.
    let (a, b) = (Person::new(), Person::new());
    let joined = format!("{},{}", a.id, b.id);
    let r = api.send_with("POST", ENROLL, Some(&server), &[(USER, joined.as_str())], Some("{}".into())).await;
    assert_error(&r, 400, "INVALID_FIELD");
}
