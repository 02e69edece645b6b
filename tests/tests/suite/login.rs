//! Login verification and what it issues, end to end over HTTP: each method with an
//! independent client (oathtool, the mail read from the local SES store, the soft
//! passkey), the full-access token checked against the published JWKS, refresh rotation
//! and chain revocation, backup codes, enforcement, and the change notices.

use std::process::Command;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use mfa_shared::factors::FactorState;
use mfa_shared::model::MfaType;
use mfa_tests::{
    Api, Person, assert_error, enroll_totp_with_codes, link_in, mails_to, now, nth_mail, remember_secret, stack, store,
    unique,
};
use serde_json::{Value, json};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

fn oathtool(secret: &[u8]) -> String {
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    let out = Command::new("oathtool").args(["--totp", &hex]).output().expect("oathtool runs");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Verifies a full-access token against `GET /.well-known/jwks.json`; returns its claims.
async fn verify_with_jwks(api: &Api, token: &str) -> Value {
    let jwks = api.get("/.well-known/jwks.json", None).await;
    assert_eq!(jwks.status, 200);
    let set: JwkSet = serde_json::from_value(jwks.body).expect("a JWKS");
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::ES256);
    let jwk = set.find(header.kid.as_deref().expect("a kid")).expect("the kid is published");
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&[&stack().signer.issuer]);
    validation.validate_aud = false;
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation).expect("verifies").claims
}

async fn assert_session(api: &Api, me: &Person, reply: &mfa_tests::Reply, amr: &str) -> String {
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["success"], json!(true));
    assert_eq!(reply.body["message"], json!("MFA verification successful"));
    assert!(reply.body.get("data").is_none(), "top level, no data");
    let access = reply.body["fullAccessToken"].as_str().unwrap();
    let refresh = reply.body["refreshToken"].as_str().unwrap();
    remember_secret(refresh);
    let claims = verify_with_jwks(api, access).await;
    assert_eq!(claims["sub"], json!(me.id));
    assert_eq!(claims["email"], json!(me.email));
    assert_eq!(claims["aal"], json!(2));
    assert!(claims["amr"].as_array().unwrap().contains(&json!(amr)), "{claims}");
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 900);
    assert_eq!(reply.body["expiresAt"], claims["exp"]);
    assert!((claims["auth_time"].as_i64().unwrap() - now()).abs() < 30);
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() > 20));
    // The token makes the session verified.
    let s = api.get("/mfa/status", Some(access)).await;
    assert_eq!(s.body["data"]["sessionVerified"], json!(true));
    access.to_string()
}

#[tokio::test]
async fn login_with_an_authenticator_app() {
    let api = Api::new();
    let me = Person::new();
    let (secret, _) = enroll_totp_with_codes(&api, &me).await;
    let pre = me.platform_token();
    assert_error(
        &api.post("/mfa/verify-login", Some(&pre), json!({"mfaType": "GOOGLE_AUTH", "code": "12"})).await,
        400,
        "INVALID_CODE",
    );
    assert_error(
        &api.post("/mfa/verify-login", Some(&pre), json!({"mfaType": "GOOGLE_AUTH"})).await,
        400,
        "INVALID_FIELD",
    );
    let code = oathtool(&secret);
    let r = api.post("/mfa/verify-login", Some(&pre), json!({"mfaType": "GOOGLE_AUTH", "code": code})).await;
    assert_session(&api, &me, &r, "otp").await;
    let again = api.post("/mfa/verify-login", Some(&pre), json!({"mfaType": "GOOGLE_AUTH", "code": code})).await;
    assert_error(&again, 400, "CODE_ALREADY_USED");
    // A method that is not enabled cannot log in.
    assert_error(
        &api.post("/mfa/verify-login", Some(&pre), json!({"mfaType": "MAGIC_LINK", "token": "x"})).await,
        409,
        "METHOD_NOT_ENABLED",
    );
}

#[tokio::test]
async fn login_with_a_magic_link_from_the_mail() {
    let api = Api::new();
    let me = Person::new();
    let store = store().await;
    let (mut record, _) = store.load_user_and_policy(&me.id, None).await.unwrap();
    record.factors.push(mfa_tests::stand_in(MfaType::MagicLink, FactorState::Enabled, &me));
    store.save_user(&mut record).await.unwrap();
    let pre = me.platform_token();
    let r = api.send("POST", "/mfa/magic-link/send", Some(&pre), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, token) = link_in(&nth_mail(&me.email, 1).await);
    let r = api.post("/mfa/verify-login", Some(&pre), json!({"mfaType": "MAGIC_LINK", "token": token})).await;
    assert_session(&api, &me, &r, "email").await;
    let again = api.post("/mfa/verify-login", Some(&pre), json!({"mfaType": "MAGIC_LINK", "token": token})).await;
    assert_error(&again, 400, "INVALID_LINK");
}

#[tokio::test]
async fn login_with_a_passkey() {
    let api = Api::new();
    let me = Person::new();
    let pre = me.platform_token();
    let origin = Url::parse(&std::env::var("MFA_RP_ORIGIN").unwrap()).unwrap();
    let data = api.post("/mfa/setup", Some(&pre), json!({"mfaType": "PASSKEY"})).await.body["data"].clone();
    let mut key = SoftPasskey::new(true);
    let options: CreationChallengeResponse = serde_json::from_value(json!({"publicKey": data["publicKey"]})).unwrap();
    let credential = key.do_registration(origin.clone(), options).unwrap();
    let r = api
        .post(
            "/mfa/passkey/complete-registration",
            Some(&pre),
            json!({"credential": credential, "challenge": data["challenge"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let options = api.send("POST", "/mfa/passkey/auth-options", Some(&pre), None).await.body["data"].clone();
    let request: RequestChallengeResponse = serde_json::from_value(json!({"publicKey": options["publicKey"]})).unwrap();
    let assertion = serde_json::to_value(key.do_authentication(origin, request).unwrap()).unwrap();
    let r = api.post("/mfa/verify-login", Some(&pre), json!({"mfaType": "PASSKEY", "credential": assertion})).await;
    assert_session(&api, &me, &r, "hwk").await;
    let again = api.post("/mfa/verify-login", Some(&pre), json!({"mfaType": "PASSKEY", "credential": assertion})).await;
    assert_error(&again, 400, "CEREMONY_EXPIRED");
}

#[tokio::test]
async fn failures_of_every_method_share_one_lockout() {
    let api = Api::new();
    let me = Person::new();
    enroll_totp_with_codes(&api, &me).await;
    let store = store().await;
    let (mut record, _) = store.load_user_and_policy(&me.id, None).await.unwrap();
    record.factors.push(mfa_tests::stand_in(MfaType::MagicLink, FactorState::Enabled, &me));
    store.save_user(&mut record).await.unwrap();
    let pre = me.platform_token();
    for _ in 0..3 {
        let r = api.post("/mfa/verify-login", Some(&pre), json!({"mfaType": "GOOGLE_AUTH", "code": "000000"})).await;
        assert!(r.status == 400 || r.status == 200, "{}", r.body);
    }
    let wrong_link = json!({"mfaType": "MAGIC_LINK", "token": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"});
    assert_error(&api.post("/mfa/verify-login", Some(&pre), wrong_link.clone()).await, 400, "INVALID_LINK");
    let r = api.post("/mfa/verify-login", Some(&pre), wrong_link).await;
    assert_error(&r, 429, "TOO_MANY_ATTEMPTS");
    assert_error(
        &api.post("/mfa/recover", Some(&pre), json!({"code": "AAAA-AAAA-AAAA-AAAA"})).await,
        429,
        "TOO_MANY_ATTEMPTS",
    );
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_chain() {
    let api = Api::new();
    let me = Person::new();
    let (secret, _) = enroll_totp_with_codes(&api, &me).await;
    let pre = me.platform_token();
    let r =
        api.post("/mfa/verify-login", Some(&pre), json!({"mfaType": "GOOGLE_AUTH", "code": oathtool(&secret)})).await;
    let first = r.body["refreshToken"].as_str().unwrap().to_string();
    let auth_time = verify_with_jwks(&api, r.body["fullAccessToken"].as_str().unwrap()).await["auth_time"].clone();

    let r = api.post("/mfa/token/refresh", Some(&pre), json!({"refreshToken": first})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let second = r.body["refreshToken"].as_str().unwrap().to_string();
    remember_secret(&second);
    assert_ne!(first, second);
    let claims = verify_with_jwks(&api, r.body["fullAccessToken"].as_str().unwrap()).await;
    assert_eq!(claims["auth_time"], auth_time, "refreshing is not a new second factor");

    // Someone else's session cannot use my refresh token.
    let other = Person::new().platform_token();
    assert_error(
        &api.post("/mfa/token/refresh", Some(&other), json!({"refreshToken": second})).await,
        401,
        "INVALID_REFRESH_TOKEN",
    );
    // Reusing the spent first token revokes the chain: the second stops working too.
    assert_error(
        &api.post("/mfa/token/refresh", Some(&pre), json!({"refreshToken": first})).await,
        401,
        "INVALID_REFRESH_TOKEN",
    );
    assert_error(
        &api.post("/mfa/token/refresh", Some(&pre), json!({"refreshToken": second})).await,
        401,
        "INVALID_REFRESH_TOKEN",
    );
    assert_error(&api.post("/mfa/token/refresh", Some(&pre), json!({})).await, 400, "INVALID_FIELD");
}

/// A refresh token names its session (`<session id>.<generation>.<secret>`): one forged
/// with a live session's id and generation but another secret, or malformed, is refused,
/// and the session goes on: a guess can neither refresh nor end it.
#[tokio::test]
async fn a_forged_refresh_token_of_a_live_session_is_refused_and_ends_nothing() {
    let api = Api::new();
    let me = Person::new();
    let secret = mfa_tests::enroll_totp(&api, &me).await;
    let (_, refresh) = mfa_tests::login_with_totp(&api, &me, &secret).await;
    let pre = me.platform_token();
    let (named, _) = refresh.rsplit_once('.').expect("a refresh token reads session.generation.secret");
    for forged in [
        format!("{named}.{}", "A".repeat(43)),
        format!("{named}."),
        format!("{named}.{}.x", "A".repeat(43)),
        refresh.replace('.', ""),
        format!("{}.0.{}", "A".repeat(43), "A".repeat(43)),
    ] {
        let r = api.post("/mfa/token/refresh", Some(&pre), json!({"refreshToken": forged})).await;
        assert_error(&r, 401, "INVALID_REFRESH_TOKEN");
    }
    let r = api.post("/mfa/token/refresh", Some(&pre), json!({"refreshToken": refresh})).await;
    assert_eq!(r.status, 200, "the forged tokens ended nothing: {}", r.body);
    remember_secret(r.body["refreshToken"].as_str().unwrap());
}

#[tokio::test]
async fn full_access_tokens_that_expired_are_refused() {
    let me = Person::new();
    let s = stack();
    let t = now();
    let expired = s
        .signer
        .sign(&mfa_shared::auth::FullAccessClaims {
            identity: mfa_shared::auth::IdentityClaims { sub: Some(me.id.clone()), ..Default::default() },
            iss: s.signer.issuer.clone(),
            aud: mfa_shared::auth::FULL_ACCESS_AUDIENCE.into(),
            iat: t - 2000,
            exp: t - 1000,
            aal: 2,
            amr: vec!["otp".into()],
            auth_time: t - 2000,
            sid: "s".into(),
            jti: unique("jti"),
        })
        .unwrap();
    assert_error(&Api::new().get("/mfa/status", Some(&expired)).await, 401, "TOKEN_EXPIRED");
}

#[tokio::test]
async fn backup_codes_work_once_and_regeneration_voids_the_old_ones() {
    let api = Api::new();
    let me = Person::new();
    let (_, codes) = enroll_totp_with_codes(&api, &me).await;
    let pre = me.platform_token();
    let r = api.post("/mfa/recover", Some(&pre), json!({"code": codes[0]})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["fullAccessToken"].as_str().is_some());
    remember_secret(r.body["refreshToken"].as_str().unwrap());
    assert_error(&api.post("/mfa/recover", Some(&pre), json!({"code": codes[0]})).await, 400, "INVALID_CODE");

    assert_error(&api.send("POST", "/mfa/backup-codes", Some(&pre), None).await, 403, "STEP_UP_REQUIRED");
    let r = api.send("POST", "/mfa/backup-codes", Some(&me.full_access_token(now()).await), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let fresh: Vec<String> =
        r.body["data"]["backupCodes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
    fresh.iter().for_each(|c| remember_secret(c));
    assert_eq!(fresh.len(), 10);
    assert_error(&api.post("/mfa/recover", Some(&pre), json!({"code": codes[1]})).await, 400, "INVALID_CODE");
    assert_eq!(api.post("/mfa/recover", Some(&pre), json!({"code": fresh[3].to_lowercase()})).await.status, 200);

    // The notices arrived and carry no secret.
    let mails = mails_to(&me.email).await;
    let subjects: Vec<&str> = mails.iter().map(|m| m["subject"].as_str().unwrap()).collect();
    assert!(subjects.contains(&"Two-step sign-in method turned on"), "{subjects:?}");
    assert!(subjects.contains(&"A backup code was used"), "{subjects:?}");
    assert!(subjects.contains(&"New backup codes were created"), "{subjects:?}");
    for mail in &mails {
        let text = mail.to_string();
        for code in codes.iter().chain(&fresh) {
            assert!(!text.contains(code.as_str()) && !text.contains(&code.replace('-', "")), "a notice leaks a code");
        }
    }
}

#[tokio::test]
async fn enforcement_matrix() {
    let api = Api::new();
    let org = unique("org");
    let other_org = unique("org");
    let member = Person::in_org(&org, "MEMBER");
    let admin = Person::in_org(&org, "ADMINISTRATOR");
    let owner = Person::in_org(&org, "OWNER");
    let foreign_admin = Person::in_org(&other_org, "OWNER");
    let loner = Person::new();
    let on = json!({"enforced": true});

    assert_error(
        &api.post("/mfa/organization/enforce", Some(&member.platform_token()), on.clone()).await,
        403,
        "FORBIDDEN",
    );
    assert_error(
        &api.post("/mfa/organization/enforce", Some(&loner.platform_token()), on.clone()).await,
        400,
        "NO_ORGANIZATION",
    );
    assert_error(
        &api.post("/mfa/organization/enforce", Some(&admin.platform_token()), json!({"enforced": "yes"})).await,
        400,
        "INVALID_FIELD",
    );
    let status = |p: &Person| {
        let api = Api::new();
        let t = p.platform_token();
        async move { api.get("/mfa/status", Some(&t)).await.body["data"].clone() }
    };
    assert_eq!(status(&member).await["isEnforced"], json!(false));

    let r = api.post("/mfa/organization/enforce", Some(&foreign_admin.platform_token()), on.clone()).await;
    assert_eq!(r.body, json!({"success": true, "message": "MFA enforcement enabled for organization"}));
    assert_eq!(status(&member).await["isEnforced"], json!(false), "another organization's policy does not apply");

    let r = api.post("/mfa/organization/enforce", Some(&admin.platform_token()), on).await;
    assert_eq!(r.status, 200);
    let s = status(&member).await;
    assert_eq!((s["isEnforced"].clone(), s["isRequired"].clone()), (json!(true), json!(true)));
    assert_eq!(status(&loner).await["isEnforced"], json!(false));

    // Lifting enforcement needs the owner's own fresh second factor.
    let r = api.post("/mfa/organization/enforce", Some(&owner.platform_token()), json!({"enforced": false})).await;
    assert_error(&r, 403, "MFA_SETUP_REQUIRED");
    let r = api
        .post("/mfa/organization/enforce", Some(&owner.full_access_token(now()).await), json!({"enforced": false}))
        .await;
    assert_eq!(r.body, json!({"success": true, "message": "MFA enforcement disabled for organization"}));
    assert_eq!(status(&member).await["isRequired"], json!(false));
}

#[tokio::test]
async fn change_notices_arrive_without_secrets() {
    let api = Api::new();
    let me = Person::new();
    enroll_totp_with_codes(&api, &me).await;
    let fresh = me.full_access_token(now()).await;
    assert_eq!(api.post("/mfa/disable", Some(&fresh), json!({"mfaType": "GOOGLE_AUTH"})).await.status, 200);
    assert_eq!(api.post("/mfa/enable", Some(&fresh), json!({"mfaType": "GOOGLE_AUTH"})).await.status, 200);
    assert_eq!(api.send("POST", "/mfa/reset", Some(&fresh), None).await.status, 200);
    let mails = mails_to(&me.email).await;
    let subjects: Vec<&str> = mails.iter().map(|m| m["subject"].as_str().unwrap()).collect();
    assert_eq!(
        subjects,
        [
            "Two-step sign-in method turned on",
            "Two-step sign-in method turned off",
            "Two-step sign-in method turned on",
            "Your two-step sign-in was reset"
        ]
    );
    for mail in &mails {
        assert!(mail["body"]["text"].as_str().unwrap().contains("If this was not you"));
        assert!(!mail.to_string().contains("token="), "a notice carries no link");
    }
}
