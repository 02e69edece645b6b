//! Whatever a session authorized ends with it, replayed as attacks over HTTP through
//! `cargo lambda watch` (the injected-clock case through the handlers):
//! 1. a setup stepped up in a session that then ended, or more than 15 minutes ago, cannot
//!    be completed with the password alone;
//! 2. full-access tokens of an ended session are refused everywhere, while the session that
//!    made the change goes on; an administrator's reset and a recovery end every session;
//! 3. the organization a user belongs to moves only with a proven second factor;
//! 4. a deployed stage refuses to start with weak platform-token settings.

use std::collections::HashMap;
use std::process::Command;

use aws_sdk_dynamodb::types::AttributeValue;

use mfa_shared::factors::{FactorState, Material};
use mfa_shared::model::MfaType;
use mfa_tests::{
    Api, Person, TestApp, assert_error, enroll_totp, enroll_totp_with_codes, link_in, login_with_totp_step, mails_to,
    nth_mail, remember_secret, repo_root, seed, seed_magic_link, stand_in, totp_code, unique,
};
use serde_json::{Value, json};

fn secret_of(reply: &mfa_tests::Reply) -> Vec<u8> {
    let data = &reply.body["data"];
    let secret = data["secret"].as_str().expect("a secret");
    remember_secret(secret);
    data["backupCodes"].as_array().into_iter().flatten().for_each(|c| remember_secret(c.as_str().unwrap()));
    mfa_shared::methods::totp::decode_secret(secret).expect("base32")
}

/// Logs `p` in with the first login link mailed to them (MAGIC_LINK must be on); returns
/// the full-access token.
async fn login_with_magic_link(api: &Api, p: &Person) -> String {
    let r = api.send("POST", "/mfa/magic-link/send", Some(&p.platform_token()), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, link) = link_in(&nth_mail(&p.email, 1).await);
    let r =
        api.post("/mfa/verify-login", Some(&p.platform_token()), json!({"mfaType": "MAGIC_LINK", "token": link})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    remember_secret(r.body["refreshToken"].as_str().unwrap());
    r.body["fullAccessToken"].as_str().unwrap().to_string()
}

async fn enabled(api: &Api, p: &Person) -> Value {
    api.get("/mfa/status", Some(&p.platform_token())).await.body["data"]["enabledMethods"].clone()
}

// 1. Stepped-up setups ---------------------------------------------------------------------

#[tokio::test]
async fn ended1_a_setup_stepped_up_in_a_session_that_ended_cannot_be_completed_with_the_password() {
    let api = Api::new();
    let me = Person::new();
    let secret = enroll_totp(&api, &me).await;
    seed_magic_link(&me).await;
    // One phished code: the attacker's session, and with it a replacement authenticator.
    let (attacker, _) = login_with_totp_step(&api, &me, &secret, 0).await;
    let r = api.post("/mfa/setup", Some(&attacker), json!({"mfaType": "GOOGLE_AUTH"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let theirs = secret_of(&r);
    // The user signs in and switches a method off: every other session ends.
    let (mine, _) = login_with_totp_step(&api, &me, &secret, 1).await;
    let r = api.post("/mfa/disable", Some(&mine), json!({"mfaType": "MAGIC_LINK"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Later, with the password only, the attacker completes the setup.
    let code = totp_code(&theirs, 0).await;
    let r = api
        .post("/mfa/verify-setup", Some(&me.platform_token()), json!({"mfaType": "GOOGLE_AUTH", "code": code}))
        .await;
    assert!(r.status == 403 || r.status == 409, "the attacker's authenticator must not replace the user's: {}", r.body);
    // The user's own authenticator still logs in (a step later, on the handlers' clock:
    // the steps of now are spent).
    let later = TestApp::at(mfa_tests::now() + 60).await;
    let code = mfa_shared::methods::totp::code_at(&secret, later.clock.now());
    let (status, body) = later
        .call("mfa-verify-login", Some(&me.platform_token()), json!({"mfaType": "GOOGLE_AUTH", "code": code}))
        .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn ended1_a_setup_stepped_up_with_a_factor_over_15_minutes_old_cannot_be_completed_with_the_password() {
    let api = Api::new();
    let me = Person::new();
    let secret = enroll_totp(&api, &me).await;
    let t0 = mfa_tests::now() + 60;
    let test = TestApp::at(t0).await;
    let pre = me.platform_token();
    let login = json!({"mfaType": "GOOGLE_AUTH", "code": mfa_shared::methods::totp::code_at(&secret, t0)});
    let (status, body) = test.call("mfa-verify-login", Some(&pre), login).await;
    assert_eq!(status, 200, "{body}");
    let fresh = body["fullAccessToken"].as_str().unwrap().to_string();
    // Ten minutes after the login the token is still fresh: the setup records the step-up.
    test.clock.advance(10 * 60);
    let (status, body) = test.call("mfa-setup", Some(&fresh), json!({"mfaType": "GOOGLE_AUTH"})).await;
    assert_eq!(status, 200, "{body}");
    let theirs = mfa_shared::methods::totp::decode_secret(body["data"]["secret"].as_str().unwrap()).unwrap();
    remember_secret(body["data"]["secret"].as_str().unwrap());
    // 16 minutes after the second factor (6 after the setup began) the step-up is over.
    test.clock.advance(6 * 60);
    let code = mfa_shared::methods::totp::code_at(&theirs, test.clock.now());
    let (status, body) =
        test.call("mfa-verify-setup", Some(&pre), json!({"mfaType": "GOOGLE_AUTH", "code": code})).await;
    assert_eq!((status, body["code"].clone()), (403, json!("STEP_UP_REQUIRED")), "{body}");
    // The token that stepped up is as stale as the setup it recorded.
    let (status, body) = test.call("mfa-setup", Some(&fresh), json!({"mfaType": "PASSKEY"})).await;
    assert_eq!((status, body["code"].clone()), (403, json!("STEP_UP_REQUIRED")), "the token is stale too: {body}");
}

#[tokio::test]
async fn ended1_starting_a_setup_while_the_user_has_mfa_is_mailed_to_every_address() {
    let api = Api::new();
    let me = Person::new();
    let secret = enroll_totp(&api, &me).await;
    let (fresh, _) = login_with_totp_step(&api, &me, &secret, 0).await;
    for (method, words) in [("GOOGLE_AUTH", "authenticator app"), ("PASSKEY", "passkey")] {
        let r = api.post("/mfa/setup", Some(&fresh), json!({"mfaType": method})).await;
        assert_eq!(r.status, 200, "{}", r.body);
        if method == "GOOGLE_AUTH" {
            secret_of(&r);
        }
        let notice = mails_to(&me.email)
            .await
            .into_iter()
            .filter_map(|m| m["body"]["text"].as_str().map(String::from))
            .find(|t| t.contains(words) && t.contains("being added"));
        assert!(notice.is_some(), "a notice that a new {words} is being added");
    }
    let elsewhere = format!("{}@new.example", unique("me"));
    let r = api.post("/mfa/setup", Some(&fresh), json!({"mfaType": "MAGIC_LINK", "email": elsewhere})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let told = mails_to(&me.email)
        .await
        .into_iter()
        .any(|m| m["body"]["text"].as_str().is_some_and(|t| t.contains(&elsewhere) && t.contains("being added")));
    assert!(told, "the user's own address hears of the new address");
}

// 2. Ended sessions ------------------------------------------------------------------------

#[tokio::test]
async fn ended2_a_change_in_one_session_ends_the_others_and_the_acting_session_goes_on() {
    let api = Api::new();
    let me = Person::new();
    let secret = enroll_totp(&api, &me).await;
    seed_magic_link(&me).await;
    let (acting, acting_refresh) = login_with_totp_step(&api, &me, &secret, 0).await;
    let (other, other_refresh) = login_with_totp_step(&api, &me, &secret, 1).await;
    let r = api.post("/mfa/disable", Some(&acting), json!({"mfaType": "MAGIC_LINK"})).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // The other session's token is refused on every route, status included.
    assert_error(&api.get("/mfa/status", Some(&other)).await, 401, "SESSION_ENDED");
    assert_error(&api.get("/mfa/methods", Some(&other)).await, 401, "SESSION_ENDED");
    assert_error(&api.post("/mfa/enable", Some(&other), json!({"mfaType": "MAGIC_LINK"})).await, 401, "SESSION_ENDED");
    assert_error(
        &api.post("/mfa/disable", Some(&other), json!({"mfaType": "GOOGLE_AUTH"})).await,
        401,
        "SESSION_ENDED",
    );
    assert_error(&api.send("POST", "/mfa/backup-codes", Some(&other), None).await, 401, "SESSION_ENDED");
    assert_error(&api.post("/mfa/setup", Some(&other), json!({"mfaType": "GOOGLE_AUTH"})).await, 401, "SESSION_ENDED");
    assert_error(&api.send("POST", "/mfa/reset", Some(&other), None).await, 401, "SESSION_ENDED");
    let r = api.post("/mfa/token/refresh", Some(&me.platform_token()), json!({"refreshToken": other_refresh})).await;
    assert_error(&r, 401, "INVALID_REFRESH_TOKEN");
    let sentence = api.get("/mfa/status", Some(&other)).await.body["error"].as_str().unwrap().to_string();
    assert!(sentence.contains("sign in again"), "{sentence}");

    // The acting session goes on: its token and its refresh chain.
    let s = api.get("/mfa/status", Some(&acting)).await;
    assert_eq!((s.status, s.body["data"]["sessionVerified"].clone()), (200, json!(true)), "{}", s.body);
    let r = api.post("/mfa/token/refresh", Some(&me.platform_token()), json!({"refreshToken": acting_refresh})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let acting_refresh = r.body["refreshToken"].as_str().unwrap().to_string();
    remember_secret(&acting_refresh);

    // A self reset in the acting session: a session begun since ends, the acting one goes on.
    let r = api.post("/mfa/enable", Some(&acting), json!({"mfaType": "MAGIC_LINK"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let third = login_with_magic_link(&api, &me).await;
    assert_eq!(api.get("/mfa/status", Some(&third)).await.status, 200);
    assert_eq!(api.send("POST", "/mfa/reset", Some(&acting), None).await.status, 200);
    assert_error(&api.get("/mfa/status", Some(&third)).await, 401, "SESSION_ENDED");
    assert_eq!(api.get("/mfa/status", Some(&acting)).await.status, 200);
    let r = api.post("/mfa/token/refresh", Some(&me.platform_token()), json!({"refreshToken": acting_refresh})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    remember_secret(r.body["refreshToken"].as_str().unwrap());
}

#[tokio::test]
async fn ended2_an_ended_sessions_token_cannot_switch_back_on_what_the_user_switched_off() {
    let api = Api::new();
    let me = Person::new();
    let secret = enroll_totp(&api, &me).await;
    // The attacker's session adds a magic-link address of theirs…
    let (attacker, _) = login_with_totp_step(&api, &me, &secret, 0).await;
    seed(&me, |r| {
        let mut theirs = stand_in(MfaType::MagicLink, FactorState::Enabled, &me);
        theirs.material = Material::MagicLink { address: "evil@attacker.example".into() };
        r.factors.push(theirs);
    })
    .await;
    // …the user switches it off…
    let (mine, _) = login_with_totp_step(&api, &me, &secret, 1).await;
    assert_eq!(api.post("/mfa/disable", Some(&mine), json!({"mfaType": "MAGIC_LINK"})).await.status, 200);
    // …and the attacker's still unexpired token cannot switch it on again.
    let r = api.post("/mfa/enable", Some(&attacker), json!({"mfaType": "MAGIC_LINK"})).await;
    assert_error(&r, 401, "SESSION_ENDED");
    assert_eq!(enabled(&api, &me).await, json!(["GOOGLE_AUTH"]));
}

#[tokio::test]
async fn ended2_an_admin_reset_and_a_recovery_end_every_session() {
    let api = Api::new();
    let org = unique("org");
    let admin = Person::in_org(&org, "ADMINISTRATOR");
    let admin_secret = enroll_totp(&api, &admin).await;
    let (admin_token, _) = login_with_totp_step(&api, &admin, &admin_secret, 0).await;

    let member = Person::in_org(&org, "MEMBER");
    let secret = enroll_totp(&api, &member).await;
    let (first, _) = login_with_totp_step(&api, &member, &secret, 0).await;
    let (second, _) = login_with_totp_step(&api, &member, &secret, 1).await;
    let r = api.post("/mfa/reset", Some(&admin_token), json!({"resetUserId": member.id})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    for token in [&first, &second] {
        assert_error(&api.get("/mfa/status", Some(token)).await, 401, "SESSION_ENDED");
    }
    assert_eq!(api.get("/mfa/status", Some(&admin_token)).await.status, 200, "the admin's own session goes on");

    let me = Person::new();
    let (secret, codes) = enroll_totp_with_codes(&api, &me).await;
    let (before, _) = login_with_totp_step(&api, &me, &secret, 0).await;
    let r = api.post("/mfa/recover", Some(&me.platform_token()), json!({"code": codes[0]})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let recovered = r.body["fullAccessToken"].as_str().unwrap().to_string();
    remember_secret(r.body["refreshToken"].as_str().unwrap());
    assert_error(&api.get("/mfa/status", Some(&before)).await, 401, "SESSION_ENDED");
    assert_eq!(api.get("/mfa/status", Some(&recovered)).await.status, 200, "the recovery's own session works");
}

// 3. The organization binding ----------------------------------------------------------------

#[tokio::test]
async fn ended3_a_failed_login_naming_another_organization_leaves_the_user_where_they_are() {
    let api = Api::new();
    let (org_a, org_b) = (unique("org"), unique("org"));
    let me = Person::in_org(&org_a, "MEMBER");
    let secret = enroll_totp(&api, &me).await;
    // A password-only token that names organization B, and one wrong code.
    let elsewhere = Person { org: Some(org_b.clone()), email: format!("{}@b.example", unique("x")), ..me.clone() };
    let right = totp_code(&secret, 0).await.parse::<u32>().unwrap();
    let wrong = format!("{:06}", (right + 500_000) % 1_000_000);
    let r = api
        .post("/mfa/verify-login", Some(&elsewhere.platform_token()), json!({"mfaType": "GOOGLE_AUTH", "code": wrong}))
        .await;
    assert_error(&r, 400, "INVALID_CODE");
    // Nor does a token with no organization at all move the user.
    let nowhere = Person { org: None, ..me.clone() };
    let r = api
        .post("/mfa/verify-login", Some(&nowhere.platform_token()), json!({"mfaType": "GOOGLE_AUTH", "code": wrong}))
        .await;
    assert_error(&r, 400, "INVALID_CODE");

    let admin_b = Person::in_org(&org_b, "OWNER");
    let b_secret = enroll_totp(&api, &admin_b).await;
    let (b_token, _) = login_with_totp_step(&api, &admin_b, &b_secret, 0).await;
    let r = api.post("/mfa/reset", Some(&b_token), json!({"resetUserId": me.id})).await;
    assert_error(&r, 404, "USER_NOT_FOUND");
    assert_eq!(enabled(&api, &me).await, json!(["GOOGLE_AUTH"]));

    let admin_a = Person::in_org(&org_a, "OWNER");
    let a_secret = enroll_totp(&api, &admin_a).await;
    let (a_token, _) = login_with_totp_step(&api, &admin_a, &a_secret, 0).await;
    let r = api.post("/mfa/reset", Some(&a_token), json!({"resetUserId": me.id})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The notice went to the address the user is bound to, not the other token's.
    assert!(
        mails_to(&me.email).await.iter().any(|m| m["subject"] == json!("Your two-step sign-in was reset")),
        "the user's own address was told"
    );
    assert!(mails_to(&elsewhere.email).await.iter().all(|m| m["subject"] != json!("Your two-step sign-in was reset")));
}

// 4. Deployed stages -------------------------------------------------------------------------

#[test]
fn ended4_a_deployed_stage_refuses_to_start_without_the_platform_issuer_and_audience() {
    let binary = repo_root().join("target/debug/mfa-status");
    assert!(binary.exists(), "the workspace is built before the tests run");
    let run = |stage: &str, issuer: Option<&str>, audience: Option<&str>| {
        let mut command = Command::new(&binary);
        command.env("MFA_STAGE", stage).env_remove("AWS_LAMBDA_RUNTIME_API");
        command.env_remove("MFA_PLATFORM_JWT_ISSUER").env_remove("MFA_PLATFORM_JWT_AUDIENCE");
        if let Some(i) = issuer {
            command.env("MFA_PLATFORM_JWT_ISSUER", i);
        }
        if let Some(a) = audience {
            command.env("MFA_PLATFORM_JWT_AUDIENCE", a);
        }
        let out = command.output().expect("the function binary runs");
        (out.status.success(), String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout))
    };
    for (issuer, audience, named) in [
        (None, None, "MFA_PLATFORM_JWT_ISSUER"),
        (Some("https://platform.example"), None, "MFA_PLATFORM_JWT_AUDIENCE"),
        (None, Some("mfa-api"), "MFA_PLATFORM_JWT_ISSUER"),
    ] {
        let (ok, output) = run("prod", issuer, audience);
        assert!(!ok, "a prod function must not start without both settings");
        assert!(output.contains(named), "the message names {named}: {output}");
    }
    // Both set, or the dev stage: the configuration passes (the binary then looks for the
    // Lambda runtime, which is not here, and says so instead).
    for (stage, issuer, audience) in [("prod", Some("https://platform.example"), Some("mfa-api")), ("dev", None, None)]
    {
        let (_, output) = run(stage, issuer, audience);
        assert!(!output.contains("configuration is incomplete"), "{stage}: {output}");
    }
}

// Replacing a factor ends sessions too; adding one does not -------------------------------

/// The id of `p`'s factor of `kind` whose name or hint contains `like` (or the first).
async fn factor_id(api: &Api, token: &str, kind: &str, like: &str) -> String {
    let r = api.get("/mfa/factors", Some(token)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let list = r.body["data"].as_array().unwrap().clone();
    let found = list.iter().find(|f| {
        f["mfaType"] == json!(kind)
            && (f["name"].as_str().unwrap_or("").contains(like) || f["hint"].as_str().unwrap_or("").contains(like))
    });
    found.unwrap_or_else(|| panic!("no {kind} factor like {like}: {list:?}"))["factorId"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn ended2_replacing_an_authenticator_ends_the_other_sessions_and_adding_one_does_not() {
    let api = Api::new();
    let me = Person::new();
    let secret = enroll_totp(&api, &me).await;
    let (acting, _) = login_with_totp_step(&api, &me, &secret, 0).await;
    let (other, _) = login_with_totp_step(&api, &me, &secret, 1).await;

    // Factors added in the acting session: the other session goes on.
    mfa_tests::register_passkey(&api, &acting).await;
    assert_eq!(api.get("/mfa/status", Some(&other)).await.status, 200, "adding a passkey ends no session");
    let r = api
        .post("/mfa/setup", Some(&acting), json!({"mfaType": "GOOGLE_AUTH", "deviceInfo": {"name": "New phone"}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["data"]["backupCodes"], json!([]), "the user keeps the backup codes they have");
    let replacement = secret_of(&r);
    let code = totp_code(&replacement, 0).await;
    let r = api.post("/mfa/verify-setup", Some(&acting), json!({"mfaType": "GOOGLE_AUTH", "code": code})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(api.get("/mfa/status", Some(&other)).await.status, 200, "a second authenticator ends no session");

    // The old authenticator removed: the replacement is complete, the other session ends.
    let old = factor_id(&api, &acting, "GOOGLE_AUTH", "Authenticator app").await;
    assert_eq!(api.send("DELETE", &format!("/mfa/factors/{old}"), Some(&acting), None).await.status, 200);
    assert_error(&api.get("/mfa/status", Some(&other)).await, 401, "SESSION_ENDED");
    assert_eq!(api.get("/mfa/status", Some(&acting)).await.status, 200, "the acting session goes on");
}

#[tokio::test]
async fn ended2_moving_magic_links_to_another_address_ends_the_other_sessions() {
    let api = Api::new();
    let me = Person::new();
    let secret = enroll_totp(&api, &me).await;
    seed_magic_link(&me).await;
    let (acting, _) = login_with_totp_step(&api, &me, &secret, 0).await;
    let (other, _) = login_with_totp_step(&api, &me, &secret, 1).await;
    let elsewhere = format!("{}@new.example", unique("me"));
    let r = api.post("/mfa/setup", Some(&acting), json!({"mfaType": "MAGIC_LINK", "email": elsewhere})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The link is opened without any bearer token.
    let (_, link) = link_in(&nth_mail(&elsewhere, 1).await);
    assert_eq!(api.post("/mfa/magic-link/activate", None, json!({"token": link})).await.status, 200);
    assert_eq!(api.get("/mfa/status", Some(&other)).await.status, 200, "a second address ends no session");
    let old = factor_id(&api, &acting, "MAGIC_LINK", "@example.com").await;
    assert_eq!(api.send("DELETE", &format!("/mfa/factors/{old}"), Some(&acting), None).await.status, 200);
    assert_error(&api.get("/mfa/status", Some(&other)).await, 401, "SESSION_ENDED");
    assert_eq!(api.get("/mfa/status", Some(&acting)).await.status, 200, "the session that removed it goes on");
}

// Abuse limits -----------------------------------------------------------------------------

/// The passkey ceremony items of `user_id` in the table.
async fn ceremonies_of(user_id: &str) -> usize {
    use aws_sdk_dynamodb::types::AttributeValue;
    let sdk = aws_config::load_from_env().await;
    let out = aws_sdk_dynamodb::Client::new(&sdk)
        .query()
        .table_name(&mfa_tests::stack().table)
        .key_condition_expression("pk = :pk AND begins_with(sk, :ceremony)")
        .expression_attribute_values(":pk", AttributeValue::S(format!("USER#{user_id}")))
        .expression_attribute_values(":ceremony", AttributeValue::S("CEREMONY#".into()))
        .send()
        .await
        .expect("the query works");
    out.count() as usize
}

#[tokio::test]
async fn a_user_has_at_most_three_open_login_ceremonies_and_the_oldest_is_replaced() {
    let api = Api::new();
    let me = Person::new();
    let mut key = mfa_tests::register_passkey(&api, &me.platform_token()).await;
    assert_eq!(ceremonies_of(&me.id).await, 0, "the registration ceremony was spent");
    let first = mfa_tests::passkey_assertion(&api, &me, &mut key).await;
    for _ in 0..5 {
        let r = api.send("POST", "/mfa/passkey/auth-options", Some(&me.platform_token()), None).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    assert_eq!(ceremonies_of(&me.id).await, 3, "six opened, three open");
    let r = api
        .post("/mfa/verify-login", Some(&me.platform_token()), json!({"mfaType": "PASSKEY", "credential": first}))
        .await;
    assert_error(&r, 400, "CEREMONY_EXPIRED");
    let latest = mfa_tests::passkey_assertion(&api, &me, &mut key).await;
    let r = api
        .post("/mfa/verify-login", Some(&me.platform_token()), json!({"mfaType": "PASSKEY", "credential": latest}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    remember_secret(r.body["refreshToken"].as_str().unwrap());
    assert_eq!(ceremonies_of(&me.id).await, 2, "the one answered is spent");

    // A replaced registration ceremony goes too.
    let token = me.full_access_token(mfa_tests::now()).await;
    for _ in 0..3 {
        assert_eq!(api.post("/mfa/setup", Some(&token), json!({"mfaType": "PASSKEY"})).await.status, 200);
    }
    assert_eq!(ceremonies_of(&me.id).await, 3, "two login ceremonies and the latest registration");
}

// What an ended session obtained ends with it ---------------------------------------------

#[tokio::test]
async fn ended2_backup_codes_an_ended_session_obtained_end_with_it_and_regenerating_ends_other_sessions() {
    let api = Api::new();
    let me = Person::new();
    let secret = enroll_totp(&api, &me).await;
    seed_magic_link(&me).await;
    // The attacker's phished session asks for new backup codes.
    let (attacker, _) = login_with_totp_step(&api, &me, &secret, 0).await;
    let (mine, _) = login_with_totp_step(&api, &me, &secret, 1).await;
    let r = api.send("POST", "/mfa/backup-codes", Some(&attacker), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let theirs: Vec<String> =
        r.body["data"]["backupCodes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
    theirs.iter().for_each(|c| remember_secret(c));
    // New codes replace a recovery factor: the user's other session ended.
    assert_error(&api.get("/mfa/status", Some(&mine)).await, 401, "SESSION_ENDED");
    // The user signs in again (with a link) and switches the authenticator off: the
    // attacker's session ends, and the codes it obtained with it.
    let mine = login_with_magic_link(&api, &me).await;
    assert_eq!(api.post("/mfa/disable", Some(&mine), json!({"mfaType": "GOOGLE_AUTH"})).await.status, 200);
    let r = api.post("/mfa/recover", Some(&me.platform_token()), json!({"code": theirs[0]})).await;
    assert_error(&r, 400, "INVALID_CODE");
    assert_eq!(api.get("/mfa/status", Some(&mine)).await.status, 200, "the user's session goes on");
}

#[tokio::test]
async fn ended2_an_admin_reset_ends_every_session_even_with_nothing_configured() {
    let api = Api::new();
    let org = unique("org");
    let admin = Person::in_org(&org, "OWNER");
    let member = Person::in_org(&org, "MEMBER");
    // The member's session goes on after a reset of their own (nothing is configured now).
    let lingering = member.full_access_token(mfa_tests::now()).await;
    assert_eq!(api.send("POST", "/mfa/reset", Some(&lingering), None).await.status, 200);
    assert_eq!(api.get("/mfa/status", Some(&lingering)).await.status, 200);
    let admin_token = admin.full_access_token(mfa_tests::now()).await;
    let r = api.post("/mfa/reset", Some(&admin_token), json!({"resetUserId": member.id})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_error(&api.get("/mfa/status", Some(&lingering)).await, 401, "SESSION_ENDED");
}

#[tokio::test]
async fn ended3_a_session_whose_factor_is_stale_cannot_move_the_organization() {
    let api = Api::new();
    let (org_a, org_b) = (unique("org"), unique("org"));
    let me = Person::in_org(&org_a, "MEMBER");
    enroll_totp(&api, &me).await;
    // A live session whose second factor is 20 minutes old, its token (as refreshed with a
    // platform token) naming organization B: it is not fresh, so it binds nothing. (The
    // kit binds the person it seeds a session for: bind A again after.)
    let moved = Person { org: Some(org_b.clone()), ..me.clone() };
    let stale = moved.full_access_token(mfa_tests::now() - 20 * 60).await;
    seed(&me, |r| r.org_id = Some(org_a.clone())).await;
    let r = api.post("/mfa/primary", Some(&stale), json!({"mfaType": "GOOGLE_AUTH"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let admin_b = Person::in_org(&org_b, "OWNER");
    let admin_token = admin_b.full_access_token(mfa_tests::now()).await;
    let r = api.post("/mfa/reset", Some(&admin_token), json!({"resetUserId": me.id})).await;
    assert_error(&r, 404, "USER_NOT_FOUND");
    // A fresh second factor of the user's own does move it (the platform says so).
    let fresh = moved.full_access_token(mfa_tests::now()).await;
    seed(&me, |r| r.org_id = Some(org_a.clone())).await;
    assert_eq!(api.post("/mfa/primary", Some(&fresh), json!({"mfaType": "GOOGLE_AUTH"})).await.status, 200);
    let r = api.post("/mfa/reset", Some(&admin_token), json!({"resetUserId": me.id})).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

// The record's two items ------------------------------------------------------------------

/// The raw items of `p`'s record: its settings and its login state.
async fn record_items(p: &Person) -> (HashMap<String, AttributeValue>, HashMap<String, AttributeValue>) {
    let sdk = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let mut items = Vec::new();
    for sk in ["MFA", "MFA#LOGIN"] {
        let item = client
            .get_item()
            .table_name(&mfa_tests::stack().table)
            .key("pk", AttributeValue::S(format!("USER#{}", p.id)))
            .key("sk", AttributeValue::S(sk.into()))
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
            .unwrap_or_else(|| panic!("{sk} is stored"));
        items.push(item);
    }
    let login = items.pop().unwrap();
    (items.pop().unwrap(), login)
}

/// A login changes the login state alone: the settings item (factors, recovery codes,
/// devices) is not written, and the session with its refresh chain is in the login state.
#[tokio::test]
async fn a_login_writes_the_login_state_alone() {
    let api = Api::new();
    let me = Person::new();
    let secret = enroll_totp(&api, &me).await;
    let (settings, _) = record_items(&me).await;
    let (access, _) = login_with_totp_step(&api, &me, &secret, 1).await;
    let (after, login) = record_items(&me).await;
    assert_eq!(after, settings, "the settings item is as it was");
    let sid = mfa_tests::claims_of(&access)["sid"].as_str().unwrap().to_string();
    let sessions = login["sessions"].as_m().expect("the sessions are in the login state");
    let session = sessions[&sid].as_m().expect("the new session is listed");
    assert!(session.contains_key("hash") && session.contains_key("generation"), "{session:?}");
    assert!(login["factorUse"].as_m().unwrap().len() == 1, "the factor's last use is in the login state");
}

/// A change's notice rides in the change's own write (the login state), is mailed from the
/// table's stream by the audit writer, and is carried by no later write of the login state
/// (a refresh's update removes it), so it is mailed once; a change that is refused carries
/// none.
#[tokio::test]
async fn a_notice_rides_in_its_change_and_no_later_write_carries_it() {
    let api = Api::new();
    let me = Person::new();
    let secret = enroll_totp(&api, &me).await;
    let (access, refresh) = login_with_totp_step(&api, &me, &secret, 1).await;
    let r = api.post("/mfa/backup-codes", Some(&access), Value::Null).await;
    assert_eq!(r.status, 200, "{}", r.body);
    for code in r.body["data"]["backupCodes"].as_array().unwrap() {
        remember_secret(code.as_str().unwrap());
    }
    let (_, login) = record_items(&me).await;
    let carried =
        login.get("pendingNotices").and_then(|n| n.as_l().ok()).expect("the change's write carries its notice");
    assert_eq!(carried.len(), 1, "{carried:?}");
    let r = api.post("/mfa/token/refresh", Some(&me.platform_token()), json!({"refreshToken": refresh})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    remember_secret(r.body["refreshToken"].as_str().unwrap());
    let (_, login) = record_items(&me).await;
    assert!(!login.contains_key("pendingNotices"), "the refresh's write carries no notice: {login:?}");
    // A refused change (a platform token proves no fresh second factor) carries none.
    let r = api.post("/mfa/disable", Some(&me.platform_token()), json!({"mfaType": "GOOGLE_AUTH"})).await;
    assert_ne!(r.status, 200, "{}", r.body);
    let subjects: Vec<String> =
        mails_to(&me.email).await.iter().map(|m| m["subject"].as_str().unwrap().to_string()).collect();
    let count = |subject: &str| subjects.iter().filter(|s| *s == subject).count();
    assert_eq!(count("Two-step sign-in method turned on"), 1, "{subjects:?}");
    assert_eq!(count("New backup codes were created"), 1, "{subjects:?}");
    assert_eq!(count("Two-step sign-in method turned off"), 0, "{subjects:?}");
}

/// A rotation whose answer was lost (an attempt that timed out after DynamoDB applied it,
/// which the SDK sends again) is the same rotation, not a spent refresh token presented
/// again: the session goes on. A rotation from the same token to another secret is still
/// a spent token.
#[tokio::test]
async fn a_rotation_sent_again_after_it_landed_is_not_a_replay() {
    let api = Api::new();
    let me = Person::new();
    let secret = enroll_totp(&api, &me).await;
    let (access, _) = login_with_totp_step(&api, &me, &secret, 1).await;
    let sid = mfa_tests::claims_of(&access)["sid"].as_str().unwrap().to_string();
    let store = mfa_tests::store().await;
    let (record, _) = store.load_user_and_policy(&me.id, None).await.unwrap();
    let chain = record.sessions[&sid].clone();
    let now = mfa_tests::now();
    let next = "0".repeat(64);
    let rotate = |next: String| {
        let store = store.clone();
        let (id, sid, hash) = (me.id.clone(), sid.clone(), chain.hash.clone());
        async move { store.rotate_refresh(&id, &sid, chain.generation, &hash, &next, now).await }
    };
    assert!(matches!(rotate(next.clone()).await, Ok(true)), "the rotation lands");
    let again = rotate(next.clone()).await;
    assert!(matches!(again, Ok(true)), "the same rotation sent again is that rotation: {again:?}");
    let other = rotate("1".repeat(64)).await;
    assert!(matches!(other, Err(mfa_shared::store::StoreError::Conflict)), "{other:?}");
    let (record, _) = store.load_user_and_policy(&me.id, None).await.unwrap();
    assert_eq!(record.sessions[&sid].generation, chain.generation + 1);
    assert_eq!(api.get("/mfa/status", Some(&access)).await.status, 200, "the session goes on");
}

/// A write made from a read taken before a refresh rotated the session's chain would put the
/// spent generation back (and with it the spent refresh token): the rotation moves the
/// record's version, so that write is refused and made again from a fresh read.
#[tokio::test]
async fn a_write_from_a_read_before_a_rotation_cannot_bring_a_spent_refresh_token_back() {
    let api = Api::new();
    let me = Person::new();
    let secret = enroll_totp(&api, &me).await;
    let (_, refresh) = login_with_totp_step(&api, &me, &secret, 1).await;
    let store = mfa_tests::store().await;
    let (mut stale, _) = store.load_user_and_policy(&me.id, None).await.unwrap();
    let r = api.post("/mfa/token/refresh", Some(&me.platform_token()), json!({"refreshToken": refresh})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    remember_secret(r.body["refreshToken"].as_str().unwrap());
    stale.sends.push(1);
    let written = store.save_user(&mut stale).await;
    assert!(matches!(written, Err(mfa_shared::store::StoreError::Conflict)), "{written:?}");
    let r = api.post("/mfa/token/refresh", Some(&me.platform_token()), json!({"refreshToken": refresh})).await;
    assert_error(&r, 401, "INVALID_REFRESH_TOKEN");
}

/// A read that caught the two items of different writes (one from before a transaction, one
/// from after it) is never served as one record: it is read again, and a record whose items
/// keep disagreeing is a 503, not a mix of a removed factor and a live session.
#[tokio::test]
async fn a_read_of_two_items_from_different_writes_is_never_served() {
    let api = Api::new();
    let me = Person::new();
    let secret = enroll_totp(&api, &me).await;
    let (access, _) = login_with_totp_step(&api, &me, &secret, 1).await;
    assert_eq!(api.get("/mfa/status", Some(&access)).await.status, 200);
    let sdk = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let tag = |value: &str| {
        client
            .update_item()
            .table_name(&mfa_tests::stack().table)
            .key("pk", AttributeValue::S(format!("USER#{}", me.id)))
            .key("sk", AttributeValue::S("MFA".into()))
            .update_expression("SET pair = :p")
            .expression_attribute_values(":p", AttributeValue::S(value.into()))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedOld)
            .send()
    };
    let old = tag("of-another-write").await.unwrap().attributes.unwrap()["pair"].as_s().unwrap().clone();
    let r = api.get("/mfa/status", Some(&access)).await;
    assert_error(&r, 503, "SERVICE_UNAVAILABLE");
    let r = api
        .post(
            "/mfa/verify-login",
            Some(&me.platform_token()),
            json!({"mfaType": "GOOGLE_AUTH", "code": totp_code(&secret, 2).await}),
        )
        .await;
    assert_error(&r, 503, "SERVICE_UNAVAILABLE");
    tag(&old).await.unwrap();
    assert_eq!(api.get("/mfa/status", Some(&access)).await.status, 200, "the same items, read together");
}
