//! Each way a password-only caller once reached a user's second factor, replayed over
//! HTTP through `cargo lambda watch` (the injected-clock cases through the handlers):
//! 1. adding a factor without a fresh second factor, and notices only the attacker saw;
//! 2. sessions that outlived the factors that made them (the session that made a change
//!    goes on; `sessions.rs` has the rest);
//! 3. organization actions with a password-only token;
//! 4. a member clearing the re-enrolment an administrator required;
//! 5. platform tokens without the configured issuer or audience, `nbf`, the leeway;
//! 6. the magic-link send limit raced by concurrent requests;
//! 7. passkey assertions accepted while PASSKEY is off, or with a counter gone backwards.

use mfa_shared::factors::FactorState;
use mfa_shared::methods::totp;
use mfa_shared::model::MfaType;
use mfa_tests::{
    Api, Person, TestApp, assert_error, claims_of, enroll_totp, link_in, link_mails_to, login_with_totp, mails_to, now,
    nth_mail, passkey_assertion, register_passkey, remember_secret, rp_origin, seed, seed_magic_link, stack, stand_in,
    unique,
};
use serde_json::{Value, json};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::prelude::CreationChallengeResponse;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;

async fn status(api: &Api, p: &Person) -> Value {
    api.get("/mfa/status", Some(&p.platform_token())).await.body["data"].clone()
}

fn attacker_address() -> String {
    format!("{}@attacker.example", unique("evil"))
}

// 1. Adding a factor ---------------------------------------------------------------------

#[tokio::test]
async fn hole1_a_password_only_token_cannot_send_a_magic_link_setup_to_another_address() {
    let api = Api::new();
    let me = Person::new();
    enroll_totp(&api, &me).await;
    let attacker = attacker_address();
    let r =
        api.post("/mfa/setup", Some(&me.platform_token()), json!({"mfaType": "MAGIC_LINK", "email": attacker})).await;
    assert_error(&r, 403, "STEP_UP_REQUIRED");
    assert!(mails_to(&attacker).await.is_empty(), "no activation link reached the other address");
    assert_eq!(status(&api, &me).await["enabledMethods"], json!(["GOOGLE_AUTH"]));
}

#[tokio::test]
async fn hole1_a_password_only_token_cannot_add_an_authenticator_next_to_a_magic_link_or_passkey() {
    let api = Api::new();
    for method in [MfaType::MagicLink, MfaType::Passkey] {
        let me = Person::new();
        seed(&me, |r| r.factors.push(stand_in(method, FactorState::Enabled, &me))).await;
        let r = api.post("/mfa/setup", Some(&me.platform_token()), json!({"mfaType": "GOOGLE_AUTH"})).await;
        assert_error(&r, 403, "STEP_UP_REQUIRED");
        assert!(r.body.get("data").is_none(), "no secret and no backup codes were handed out");
        let r = api.post("/mfa/setup", Some(&me.platform_token()), json!({"mfaType": "PASSKEY"})).await;
        assert_error(&r, 403, "STEP_UP_REQUIRED");
        // With a recent second factor the same setup works.
        let r =
            api.post("/mfa/setup", Some(&me.full_access_token(now()).await), json!({"mfaType": "GOOGLE_AUTH"})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        remember_secret(r.body["data"]["secret"].as_str().unwrap());
    }
}

#[tokio::test]
async fn hole1_a_setup_begun_before_the_user_had_mfa_cannot_complete_after() {
    let api = Api::new();
    let me = Person::new();
    let pre = me.platform_token();
    // While the user has no MFA, a password-only caller starts all three setups.
    let attacker = attacker_address();
    let r = api.post("/mfa/setup", Some(&pre), json!({"mfaType": "MAGIC_LINK", "email": attacker})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, link) = link_in(&nth_mail(&attacker, 1).await);
    let r = api.post("/mfa/setup", Some(&pre), json!({"mfaType": "PASSKEY"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let data = r.body["data"].clone();
    let mut key = SoftPasskey::new(true);
    let options: CreationChallengeResponse = serde_json::from_value(json!({"publicKey": data["publicKey"]})).unwrap();
    let credential = key.do_registration(rp_origin(), options).unwrap();

    // Then the user turns on an authenticator app (its setup also began before).
    enroll_totp(&api, &me).await;

    // None of the earlier setups may now complete without a fresh second factor.
    assert_error(&api.post("/mfa/magic-link/activate", None, json!({"token": link})).await, 403, "STEP_UP_REQUIRED");
    assert_error(
        &api.post("/mfa/verify-setup", Some(&pre), json!({"mfaType": "MAGIC_LINK", "token": link})).await,
        403,
        "STEP_UP_REQUIRED",
    );
    let body = json!({"credential": credential, "challenge": data["challenge"]});
    assert_error(&api.post("/mfa/passkey/complete-registration", Some(&pre), body).await, 403, "STEP_UP_REQUIRED");
    assert_eq!(status(&api, &me).await["enabledMethods"], json!(["GOOGLE_AUTH"]));
    assert!(
        link_mails_to(&attacker).await.len() == 1 && mails_to(&attacker).await.len() == 1,
        "no notice went to the attacker"
    );
}

#[tokio::test]
async fn hole1_a_pending_authenticator_begun_before_mfa_cannot_complete_after() {
    let api = Api::new();
    let me = Person::new();
    let pre = me.platform_token();
    let r = api.post("/mfa/setup", Some(&pre), json!({"mfaType": "GOOGLE_AUTH"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let secret = r.body["data"]["secret"].as_str().unwrap().to_string();
    remember_secret(&secret);
    r.body["data"]["backupCodes"].as_array().unwrap().iter().for_each(|c| remember_secret(c.as_str().unwrap()));
    // The user turns on MAGIC_LINK meanwhile.
    seed_magic_link(&me).await;
    let code = totp::code_at(&totp::decode_secret(&secret).unwrap(), now());
    let r = api.post("/mfa/verify-setup", Some(&pre), json!({"mfaType": "GOOGLE_AUTH", "code": code})).await;
    assert_error(&r, 403, "STEP_UP_REQUIRED");
    assert_eq!(status(&api, &me).await["enabledMethods"], json!(["MAGIC_LINK"]));
    // The user's own fresh second factor completes it.
    let r = api
        .post(
            "/mfa/verify-setup",
            Some(&me.full_access_token(now()).await),
            json!({"mfaType": "GOOGLE_AUTH", "code": code}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn hole1_enabling_a_disabled_method_needs_step_up() {
    let api = Api::new();
    let me = Person::new();
    enroll_totp(&api, &me).await;
    seed(&me, |r| r.factors.push(stand_in(MfaType::Passkey, FactorState::Disabled, &me))).await;
    let r = api.post("/mfa/enable", Some(&me.platform_token()), json!({"mfaType": "PASSKEY"})).await;
    assert_error(&r, 403, "STEP_UP_REQUIRED");
    assert_eq!(status(&api, &me).await["enabledMethods"], json!(["GOOGLE_AUTH"]));
    let r = api.post("/mfa/enable", Some(&me.full_access_token(now()).await), json!({"mfaType": "PASSKEY"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn hole1_change_notices_reach_every_address_the_user_had_before() {
    let api = Api::new();
    let me = Person::new();
    enroll_totp(&api, &me).await;
    // The user (with a fresh second factor) moves magic links to a new address.
    let new_address = format!("{}@new.example", unique("me"));
    let fresh = me.full_access_token(now()).await;
    let r = api.post("/mfa/setup", Some(&fresh), json!({"mfaType": "MAGIC_LINK", "email": new_address})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, link) = link_in(&nth_mail(&new_address, 1).await);
    assert_eq!(api.post("/mfa/magic-link/activate", None, json!({"token": link})).await.status, 200);
    let subjects =
        |mails: Vec<Value>| mails.iter().map(|m| m["subject"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let old = subjects(mails_to(&me.email).await);
    assert_eq!(
        old.iter().filter(|s| *s == "Two-step sign-in method turned on").count(),
        2,
        "the address the user had before hears of the new method too: {old:?}"
    );
    // A later change is mailed to the magic-link address as well as the token's.
    let token_email = format!("{}@elsewhere.example", unique("me"));
    let other_token = Person { email: token_email.clone(), ..me.clone() }.full_access_token(now()).await;
    assert_eq!(api.post("/mfa/disable", Some(&other_token), json!({"mfaType": "GOOGLE_AUTH"})).await.status, 200);
    for address in [&me.email, &new_address, &token_email] {
        assert!(
            subjects(mails_to(address).await).contains(&"Two-step sign-in method turned off".to_string()),
            "{address} was told of the change"
        );
    }
}

#[tokio::test]
async fn hole1_a_lockout_is_mailed_to_the_user() {
    let api = Api::new();
    let me = Person::new();
    let secret = enroll_totp(&api, &me).await;
    let pre = me.platform_token();
    let right = totp::code_at(&secret, now()).parse::<u32>().unwrap();
    let wrong = format!("{:06}", (right + 500_000) % 1_000_000);
    for _ in 0..4 {
        assert_error(
            &api.post("/mfa/verify-login", Some(&pre), json!({"mfaType": "GOOGLE_AUTH", "code": wrong})).await,
            400,
            "INVALID_CODE",
        );
    }
    let r = api.post("/mfa/verify-login", Some(&pre), json!({"mfaType": "GOOGLE_AUTH", "code": wrong})).await;
    assert_error(&r, 429, "TOO_MANY_ATTEMPTS");
    let mails = mails_to(&me.email).await;
    let lock = mails.iter().find(|m| m["subject"] == json!("Sign-in attempts blocked")).expect("a lockout notice");
    let text = lock["body"]["text"].as_str().unwrap();
    assert!(text.contains("five") && text.contains("15 minutes"), "{text}");
    assert!(!text.contains(&wrong), "the notice carries no code");
}

// 2. Sessions ----------------------------------------------------------------------------

#[tokio::test]
async fn hole2_self_reset_and_disable_end_the_other_sessions_and_admin_reset_ends_every_session() {
    let api = Api::new();
    let org = unique("org");
    let admin = Person::in_org(&org, "ADMINISTRATOR");
    enroll_totp(&api, &admin).await;

    // Self reset.
    let me = Person::in_org(&org, "MEMBER");
    let secret = enroll_totp(&api, &me).await;
    let (_, first) = login_with_totp(&api, &me, &secret).await;
    let (_, second) = {
        // A second login: two chains, both must end.
        let code = totp::code_at(&secret, now() + 30);
        let r = api
            .post("/mfa/verify-login", Some(&me.platform_token()), json!({"mfaType": "GOOGLE_AUTH", "code": code}))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        remember_secret(r.body["refreshToken"].as_str().unwrap());
        ((), r.body["refreshToken"].as_str().unwrap().to_string())
    };
    // The reset is made in a third session: the two logins end, the acting session goes on.
    let acting = me.full_access_token(now()).await;
    assert_eq!(api.send("POST", "/mfa/reset", Some(&acting), None).await.status, 200);
    for refresh in [&first, &second] {
        let r = api.post("/mfa/token/refresh", Some(&me.platform_token()), json!({"refreshToken": refresh})).await;
        assert_error(&r, 401, "INVALID_REFRESH_TOKEN");
    }
    assert_eq!(api.get("/mfa/status", Some(&acting)).await.status, 200);

    // Disabling a method.
    let me = Person::in_org(&org, "MEMBER");
    let secret = enroll_totp(&api, &me).await;
    let (_, refresh) = login_with_totp(&api, &me, &secret).await;
    let acting = me.full_access_token(now()).await;
    assert_eq!(api.post("/mfa/disable", Some(&acting), json!({"mfaType": "GOOGLE_AUTH"})).await.status, 200);
    let r = api.post("/mfa/token/refresh", Some(&me.platform_token()), json!({"refreshToken": refresh})).await;
    assert_error(&r, 401, "INVALID_REFRESH_TOKEN");
    assert_eq!(api.get("/mfa/status", Some(&acting)).await.status, 200);

    // An administrator's reset.
    let me = Person::in_org(&org, "MEMBER");
    let secret = enroll_totp(&api, &me).await;
    let (_, refresh) = login_with_totp(&api, &me, &secret).await;
    let r = api.post("/mfa/reset", Some(&admin.full_access_token(now()).await), json!({"resetUserId": me.id})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api.post("/mfa/token/refresh", Some(&me.platform_token()), json!({"refreshToken": refresh})).await;
    assert_error(&r, 401, "INVALID_REFRESH_TOKEN");
}

#[tokio::test]
async fn hole2_refresh_takes_the_platform_token_and_rereads_the_organization() {
    let api = Api::new();
    let org = unique("org");
    let me = Person::in_org(&org, "ADMINISTRATOR");
    let secret = enroll_totp(&api, &me).await;
    let (access, refresh) = login_with_totp(&api, &me, &secret).await;
    // The previous full-access token is not a bearer for refresh: the platform is asked.
    let r = api.post("/mfa/token/refresh", Some(&access), json!({"refreshToken": refresh})).await;
    assert_error(&r, 401, "PLATFORM_TOKEN_REQUIRED");
    // The platform demoted the user and moved them: the new token says so.
    let moved = unique("org");
    let demoted = Person { org: Some(moved.clone()), role: Some("MEMBER".into()), ..me.clone() };
    let r = api.post("/mfa/token/refresh", Some(&demoted.platform_token()), json!({"refreshToken": refresh})).await;
    assert_eq!(r.status, 200, "the refused attempt did not spend the token: {}", r.body);
    remember_secret(r.body["refreshToken"].as_str().unwrap());
    let claims = claims_of(r.body["fullAccessToken"].as_str().unwrap());
    assert_eq!((claims["orgId"].clone(), claims["orgRole"].clone()), (json!(moved), json!("MEMBER")), "{claims}");
}

#[tokio::test]
async fn hole2_a_session_has_an_absolute_lifetime_that_refresh_never_extends() {
    let api = Api::new();
    let me = Person::new();
    let secret = enroll_totp(&api, &me).await;
    // Logged in at t0 (a step the enrolment did not spend), on an injected clock.
    let t0 = now() + 60;
    let test = TestApp::at(t0).await;
    let token = me.platform_token();
    let login = json!({"mfaType": "GOOGLE_AUTH", "code": totp::code_at(&secret, t0)});
    let (code, body) = test.call("mfa-verify-login", Some(&token), login).await;
    assert_eq!(code, 200, "{body}");
    let mut refresh = body["refreshToken"].as_str().unwrap().to_string();
    remember_secret(&refresh);
    // Rotating every hour keeps the session alive until 12 hours after the login…
    for hour in 1..=11 {
        test.clock.set(t0 + hour * 3600);
        let (code, body) = test.call("mfa-token-refresh", Some(&token), json!({"refreshToken": refresh})).await;
        assert_eq!(code, 200, "hour {hour}: {body}");
        refresh = body["refreshToken"].as_str().unwrap().to_string();
        remember_secret(&refresh);
        assert_eq!(claims_of(body["fullAccessToken"].as_str().unwrap())["auth_time"], json!(t0));
    }
    // …and not a second longer, however recently it was rotated.
    test.clock.set(t0 + 12 * 3600 + 1);
    let (code, body) = test.call("mfa-token-refresh", Some(&token), json!({"refreshToken": refresh})).await;
    assert_eq!((code, body["code"].clone()), (401, json!("INVALID_REFRESH_TOKEN")), "{body}");
}

// 3. Organization actions ------------------------------------------------------------------

#[tokio::test]
async fn hole3_lifting_enforcement_needs_the_admins_own_fresh_second_factor() {
    let api = Api::new();
    let org = unique("org");
    let owner = Person::in_org(&org, "OWNER");
    enroll_totp(&api, &owner).await;
    let on = api.post("/mfa/organization/enforce", Some(&owner.platform_token()), json!({"enforced": true})).await;
    assert_eq!(on.status, 200, "turning enforcement on needs only the role: {}", on.body);
    let off = api.post("/mfa/organization/enforce", Some(&owner.platform_token()), json!({"enforced": false})).await;
    assert_error(&off, 403, "STEP_UP_REQUIRED");
    let stale = owner.full_access_token(now() - 16 * 60).await;
    assert_error(
        &api.post("/mfa/organization/enforce", Some(&stale), json!({"enforced": false})).await,
        403,
        "STEP_UP_REQUIRED",
    );
    assert_eq!(status(&api, &owner).await["isEnforced"], json!(true));
    let off = api
        .post("/mfa/organization/enforce", Some(&owner.full_access_token(now()).await), json!({"enforced": false}))
        .await;
    assert_eq!(off.status, 200, "{}", off.body);
    // An owner without MFA is told to set it up first.
    let other = Person::in_org(&unique("org"), "OWNER");
    let r = api.post("/mfa/organization/enforce", Some(&other.platform_token()), json!({"enforced": false})).await;
    assert_error(&r, 403, "MFA_SETUP_REQUIRED");
}

#[tokio::test]
async fn hole3_an_administrator_without_mfa_cannot_reset_members() {
    let api = Api::new();
    let org = unique("org");
    let member = Person::in_org(&org, "MEMBER");
    enroll_totp(&api, &member).await;
    let admin = Person::in_org(&org, "ADMINISTRATOR");
    let r = api.post("/mfa/reset", Some(&admin.platform_token()), json!({"resetUserId": member.id})).await;
    assert_error(&r, 403, "MFA_SETUP_REQUIRED");
    assert!(r.body["error"].as_str().unwrap().contains("set up MFA"), "{}", r.body);
    assert_eq!(status(&api, &member).await["enabledMethods"], json!(["GOOGLE_AUTH"]));
}

// 4. Re-enrolment ---------------------------------------------------------------------------

#[tokio::test]
async fn hole4_a_member_cannot_clear_the_reenrolment_an_admin_required() {
    let api = Api::new();
    let org = unique("org");
    let member = Person::in_org(&org, "MEMBER");
    enroll_totp(&api, &member).await;
    let admin = Person::in_org(&org, "OWNER");
    let r = api
        .post(
            "/mfa/reset",
            Some(&admin.full_access_token(now()).await),
            json!({"resetUserId": member.id, "enable": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(status(&api, &member).await["isRequired"], json!(true));
    for body in [None, Some(json!({"enable": false}).to_string())] {
        let r = api.send("POST", "/mfa/reset", Some(&member.platform_token()), body).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(status(&api, &member).await["isRequired"], json!(true), "the requirement stays");
    }
}

// 5. Platform tokens ------------------------------------------------------------------------

#[tokio::test]
async fn hole5_platform_tokens_need_the_configured_claims_and_respect_nbf_and_the_leeway() {
    let api = Api::new();
    let me = Person::new();
    assert!(stack().platform_issuer.is_some() && stack().platform_audience.is_some(), "scripts/test configures both");
    let t = now();
    let token = |extra: Value| mfa_local::platform_token(&stack().platform_secret, &extra, 3600);
    let base = json!({"sub": me.id, "iss": stack().platform_issuer, "aud": stack().platform_audience});
    let without = |claim: &str| {
        let mut c = base.clone();
        c.as_object_mut().unwrap().remove(claim);
        token(c)
    };
    assert_eq!(api.get("/mfa/status", Some(&token(base.clone()))).await.status, 200);
    assert_error(&api.get("/mfa/status", Some(&without("iss"))).await, 401, "INVALID_TOKEN");
    assert_error(&api.get("/mfa/status", Some(&without("aud"))).await, 401, "INVALID_TOKEN");
    let with = |k: &str, v: i64| {
        let mut c = base.clone();
        c[k] = json!(v);
        token(c)
    };
    assert_error(&api.get("/mfa/status", Some(&with("nbf", t + 120))).await, 401, "INVALID_TOKEN");
    assert_eq!(api.get("/mfa/status", Some(&with("nbf", t + 10))).await.status, 200, "within the 30 s leeway");
    assert_error(&api.get("/mfa/status", Some(&with("exp", t - 45))).await, 401, "TOKEN_EXPIRED");
    assert_eq!(api.get("/mfa/status", Some(&with("exp", t - 10))).await.status, 200, "within the 30 s leeway");
}

// 6. The send limit -------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hole6_concurrent_sends_over_http_never_exceed_the_limit() {
    // Login links: 20 at once to a user with MAGIC_LINK on.
    let me = Person::new();
    seed_magic_link(&me).await;
    let token = me.platform_token();
    let sends = (0..20).map(|_| {
        let token = token.clone();
        tokio::spawn(async move { Api::new().send("POST", "/mfa/magic-link/send", Some(&token), None).await.status })
    });
    let statuses: Vec<u16> = futures_join(sends).await;
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 429), "{statuses:?}");
    assert_eq!(link_mails_to(&me.email).await.len(), 1, "one mail, whatever the race");

    // Activation links: 20 setups at once, each to another address.
    let me = Person::new();
    let token = me.platform_token();
    let addresses: Vec<String> = (0..20).map(|_| attacker_address()).collect();
    let setups = addresses.iter().map(|to| {
        let (token, to) = (token.clone(), to.clone());
        tokio::spawn(async move {
            Api::new().post("/mfa/setup", Some(&token), json!({"mfaType": "MAGIC_LINK", "email": to})).await.status
        })
    });
    let statuses = futures_join(setups).await;
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    let mut mails = 0;
    for to in &addresses {
        mails += mails_to(to).await.len();
    }
    assert_eq!(mails, 1, "one activation mail in all");
}

async fn futures_join<T>(tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for t in tasks.collect::<Vec<_>>() {
        out.push(t.await.expect("the task ran"));
    }
    out
}

// 7. Passkey assertions -----------------------------------------------------------------------

#[tokio::test]
async fn hole7_an_assertion_is_refused_once_passkey_is_disabled() {
    let api = Api::new();
    let me = Person::new();
    let mut key = register_passkey(&api, &me.platform_token()).await;
    let signed = passkey_assertion(&api, &me, &mut key).await;
    let r = api.post("/mfa/disable", Some(&me.full_access_token(now()).await), json!({"mfaType": "PASSKEY"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api
        .post("/mfa/verify-login", Some(&me.platform_token()), json!({"mfaType": "PASSKEY", "credential": signed}))
        .await;
    assert_error(&r, 409, "METHOD_NOT_ENABLED");
}

#[tokio::test]
async fn hole7_an_assertion_behind_the_stored_counter_is_refused() {
    let api = Api::new();
    let me = Person::new();
    let mut key = register_passkey(&api, &me.platform_token()).await;
    // Two ceremonies opened; the authenticator signs the first (counter n) then the second (n+1).
    let first = passkey_assertion(&api, &me, &mut key).await;
    let second = passkey_assertion(&api, &me, &mut key).await;
    let pre = me.platform_token();
    let r = api.post("/mfa/verify-login", Some(&pre), json!({"mfaType": "PASSKEY", "credential": second})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    remember_secret(r.body["refreshToken"].as_str().unwrap());
    // The first carries a counter the stored credential has passed: a cloned key.
    let r = api.post("/mfa/verify-login", Some(&pre), json!({"mfaType": "PASSKEY", "credential": first})).await;
    assert_error(&r, 400, "INVALID_CREDENTIAL");
}
