//! The audit trail over HTTP: every event kind written by its action (with the request's
//! User-Agent, never a secret), none by a change that loses its conditional write, pages
//! newest first with a cursor, and an organization administrator reading a member's while
//! another organization's may not.

use std::collections::BTreeSet;
use std::sync::Arc;

use mfa_shared::audit::EventKind;
use mfa_tests::{
    Api, Person, USER_AGENT, assert_error, enroll_totp_with_codes, login_remembering, login_with_device,
    login_with_totp_step, now, unique,
};
use serde_json::{Value, json};

/// Every event of the bearer's (or of `user`'s), newest first, page by page.
async fn all_events(api: &Api, token: &str, user: Option<&str>) -> Vec<Value> {
    mfa_tests::audit_settled().await;
    let mut events = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..100 {
        let mut path = "/mfa/events?".to_string();
        if let Some(u) = user {
            path.push_str(&format!("userId={u}&"));
        }
        if let Some(c) = &cursor {
            path.push_str(&format!("cursor={c}"));
        }
        let r = api.get(&path, Some(token)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let page = r.body["data"]["events"].as_array().unwrap().clone();
        assert!(page.len() <= 25);
        events.extend(page);
        match r.body["data"]["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return events,
        }
    }
    panic!("the pages never ended");
}

fn kinds(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| e["kind"].as_str().unwrap().to_string()).collect()
}

fn count(events: &[Value], kind: &str) -> usize {
    events.iter().filter(|e| e["kind"] == json!(kind)).count()
}

#[tokio::test]
async fn every_event_kind_is_written_by_its_action() {
    let api = Api::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();

    // One user's life: setup, a failed and a passed login, a device, a rename, new codes,
    // disable and enable, a recovery, a removal and a reset.
    let me = Person::new();
    let (secret, codes) = enroll_totp_with_codes(&api, &me).await;
    let pre = me.platform_token();
    let r = api.post("/mfa/verify-login", Some(&pre), json!({"mfaType": "GOOGLE_AUTH", "code": "000000"})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let (acting, device) = login_remembering(&api, &me, &secret, 0).await;
    assert_eq!(login_with_device(&api, &me, &device).await.status, 200);
    let factors = api.get("/mfa/factors", Some(&acting)).await.body["data"].clone();
    let id = factors[0]["factorId"].as_str().unwrap().to_string();
    let rename = Some(json!({"name": "Work phone"}).to_string());
    assert_eq!(api.send("PATCH", &format!("/mfa/factors/{id}"), Some(&acting), rename).await.status, 200);
    let r = api.post("/mfa/backup-codes", Some(&acting), Value::Null).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let fresh_codes: Vec<String> =
        r.body["data"]["backupCodes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
    assert_ne!(fresh_codes[0], codes[0]);
    login_with_totp_step(&api, &me, &secret, 1).await;
    assert_eq!(api.post("/mfa/disable", Some(&acting), json!({"mfaType": "GOOGLE_AUTH"})).await.status, 200);
    assert_eq!(api.post("/mfa/enable", Some(&acting), json!({"mfaType": "GOOGLE_AUTH"})).await.status, 200);
    let r = api.post("/mfa/recover", Some(&pre), json!({"code": fresh_codes[0]})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let recovered = r.body["fullAccessToken"].as_str().unwrap().to_string();
    assert_eq!(api.send("DELETE", &format!("/mfa/factors/{id}"), Some(&recovered), None).await.status, 200);
    assert_eq!(api.post("/mfa/reset", Some(&recovered), Value::Null).await.status, 200);

    let events = all_events(&api, &recovered, None).await;
    let text = serde_json::to_string(&events).unwrap();
    for secret in codes.iter().chain(&fresh_codes).chain([&device]) {
        assert!(!text.contains(secret.as_str()), "an event holds a secret");
    }
    for kind in [
        "SETUP_STARTED",
        "FACTOR_ADDED",
        "VERIFICATION_FAILED",
        "VERIFICATION_SUCCEEDED",
        "DEVICE_REMEMBERED",
        "FACTOR_RENAMED",
        "BACKUP_CODES_REGENERATED",
        "SESSIONS_ENDED",
        "DEVICE_FORGOTTEN",
        "METHOD_DISABLED",
        "METHOD_ENABLED",
        "BACKUP_CODE_USED",
        "FACTOR_REMOVED",
        "RESET",
    ] {
        assert!(count(&events, kind) >= 1, "no {kind} in {:?}", kinds(&events));
    }
    assert_eq!(count(&events, "FACTOR_ADDED"), 1, "{:?}", kinds(&events));
    assert_eq!(count(&events, "BACKUP_CODE_USED"), 1);
    let by_device =
        events.iter().filter(|e| e["kind"] == json!("VERIFICATION_SUCCEEDED") && e["detail"] == json!("device"));
    assert_eq!(by_device.count(), 1, "the device login is told apart");
    let renamed = events.iter().find(|e| e["kind"] == json!("FACTOR_RENAMED")).unwrap();
    assert_eq!(renamed["factorId"], json!(id));
    assert_eq!(renamed["mfaType"], json!("GOOGLE_AUTH"));
    assert_eq!(renamed["actor"], json!("self"));
    assert_eq!(renamed["userAgent"], json!(USER_AGENT), "{renamed}");
    assert!(renamed["expiresAt"].as_i64().unwrap() > now() + 300 * 86_400, "kept for the retention");
    // Newest first.
    let times: Vec<i64> = events.iter().map(|e| e["at"].as_i64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    assert_eq!(events.last().unwrap()["kind"], json!("SETUP_STARTED"), "the oldest is the first setup");
    seen.extend(kinds(&events));

    // A lockout.
    let locked = Person::new();
    enroll_totp_with_codes(&api, &locked).await;
    for _ in 0..5 {
        let body = json!({"mfaType": "GOOGLE_AUTH", "code": "000000"});
        api.post("/mfa/verify-login", Some(&locked.platform_token()), body).await;
    }
    let events = all_events(&api, &locked.full_access_token(now()).await, None).await;
    assert_eq!(count(&events, "LOCKED_OUT"), 1, "{:?}", kinds(&events));
    assert_eq!(count(&events, "VERIFICATION_FAILED"), 5, "{:?}", kinds(&events));
    seen.extend(kinds(&events));

    // An administrator's reset of a member and a change of the organization's policy.
    let org = unique("org");
    let admin = Person::in_org(&org, "OWNER");
    let member = Person::in_org(&org, "MEMBER");
    enroll_totp_with_codes(&api, &member).await;
    let admin_token = admin.full_access_token(now()).await;
    let r = api.post("/mfa/reset", Some(&admin_token), json!({"resetUserId": member.id})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api
        .post("/mfa/organization/enforce", Some(&admin_token), json!({"enforced": true, "gracePeriodDays": 3}))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let member_events = all_events(&api, &member.platform_token(), None).await;
    let reset =
        member_events.iter().find(|e| e["kind"] == json!("ADMIN_RESET")).expect("the reset is the member's event");
    assert_eq!(reset["actor"], json!(format!("admin:{}", admin.id)));
    let admin_events = all_events(&api, &admin_token, None).await;
    let changed = admin_events.iter().find(|e| e["kind"] == json!("ENFORCEMENT_CHANGED")).expect("the policy change");
    assert!(changed["detail"].as_str().unwrap().contains("enforced=true"), "{changed}");
    seen.extend(kinds(&member_events));
    seen.extend(kinds(&admin_events));

    let all: BTreeSet<String> =
        EventKind::ALL.iter().map(|k| serde_json::to_value(k).unwrap().as_str().unwrap().to_string()).collect();
    assert_eq!(seen, all, "every kind is written by its action");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn a_change_that_loses_its_conditional_write_writes_no_event() {
    let api = Arc::new(Api::new());
    let me = Arc::new(Person::new());
    let (_, codes) = enroll_totp_with_codes(&api, &me).await;
    // Twenty recoveries with one backup code: one passes, one BACKUP_CODE_USED.
    let code = Arc::new(codes[0].clone());
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (api, me, code) = (api.clone(), me.clone(), code.clone());
            tokio::spawn(async move {
                api.post("/mfa/recover", Some(&me.platform_token()), json!({"code": *code})).await.status
            })
        })
        .collect();
    let mut passed = 0;
    for t in tasks {
        passed += usize::from(t.await.unwrap() == 200);
    }
    assert_eq!(passed, 1);
    let events = all_events(&api, &me.full_access_token(now()).await, None).await;
    assert_eq!(count(&events, "BACKUP_CODE_USED"), 1, "{:?}", kinds(&events));
    let recoveries =
        events.iter().filter(|e| e["kind"] == json!("VERIFICATION_SUCCEEDED") && e["detail"] == json!("backup code"));
    assert_eq!(recoveries.count(), 1);

    // Twenty forgets of one device: one forgets it, nineteen find nothing.
    let me = Arc::new(Person::new());
    let (secret, _) = enroll_totp_with_codes(&api, &me).await;
    let (_, _device) = login_remembering(&api, &me, &secret, 0).await;
    let id = api.get("/mfa/devices", Some(&me.platform_token())).await.body["data"][0]["deviceId"]
        .as_str()
        .expect("a device")
        .to_string();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (api, me, id) = (api.clone(), me.clone(), id.clone());
            tokio::spawn(async move {
                api.send("DELETE", &format!("/mfa/devices/{id}"), Some(&me.platform_token()), None).await.status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| matches!(s, 200 | 404)), "{statuses:?}");

    let events = all_events(&api, &me.full_access_token(now()).await, None).await;
    assert_eq!(count(&events, "DEVICE_REMEMBERED"), 1);
    assert_eq!(count(&events, "DEVICE_FORGOTTEN"), 1, "{:?}", kinds(&events));
}

#[tokio::test]
async fn events_come_a_page_at_a_time_newest_first() {
    let api = Api::new();
    let me = Person::new();
    let (secret, _) = enroll_totp_with_codes(&api, &me).await;
    let (acting, _) = login_with_totp_step(&api, &me, &secret, 0).await;
    let id = api.get("/mfa/factors", Some(&acting)).await.body["data"][0]["factorId"].as_str().unwrap().to_string();
    for i in 0..30 {
        let body = Some(json!({"name": format!("Phone {i}")}).to_string());
        assert_eq!(api.send("PATCH", &format!("/mfa/factors/{id}"), Some(&acting), body).await.status, 200);
    }
    mfa_tests::audit_settled().await;
    let first = api.get("/mfa/events", Some(&acting)).await;
    assert_eq!(first.body["data"]["events"].as_array().unwrap().len(), 25, "{}", first.body);
    assert!(first.body["data"]["cursor"].is_string());
    let events = all_events(&api, &acting, None).await;
    // 30 renames, the login, the factor added, the setup started.
    assert_eq!(count(&events, "FACTOR_RENAMED"), 30);
    assert!(events.len() >= 33, "{}", events.len());
    let ids: BTreeSet<&str> = events.iter().map(|e| e["eventId"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), events.len(), "no event on two pages");
    let times: Vec<i64> = events.iter().map(|e| e["at"].as_i64().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    assert_eq!(events[0]["kind"], json!("FACTOR_RENAMED"));
    assert_eq!(events[0]["detail"], Value::Null);

    let r = api.get("/mfa/events?cursor=bm90LWEta2V5", Some(&acting)).await;
    assert_error(&r, 400, "INVALID_FIELD");
    // An ended session reads nothing, on later pages too.
    let cursor = first.body["data"]["cursor"].as_str().unwrap().to_string();
    let ended = me.ended_session_token(now());
    assert_error(&api.get(&format!("/mfa/events?cursor={cursor}"), Some(&ended)).await, 401, "SESSION_ENDED");
}

#[tokio::test]
async fn an_administrator_reads_a_members_events_and_another_organizations_may_not() {
    let api = Api::new();
    let org = unique("org");
    let member = Person::in_org(&org, "MEMBER");
    enroll_totp_with_codes(&api, &member).await;
    let admin = Person::in_org(&org, "ADMINISTRATOR");
    let admin_token = admin.full_access_token(now()).await;
    let events = all_events(&api, &admin_token, Some(&member.id)).await;
    assert!(count(&events, "FACTOR_ADDED") == 1, "{:?}", kinds(&events));
    assert!(events.iter().all(|e| e["userId"] == json!(member.id)));
    // With the administrator's platform token too (the role is the requirement).
    let r = api.get(&format!("/mfa/events?userId={}", member.id), Some(&admin.platform_token())).await;
    assert_eq!(r.status, 200, "{}", r.body);

    let stranger = Person::in_org(&unique("org"), "OWNER");
    let token = stranger.full_access_token(now()).await;
    let r = api.get(&format!("/mfa/events?userId={}", member.id), Some(&token)).await;
    assert_error(&r, 404, "USER_NOT_FOUND");
    let colleague = Person::in_org(&org, "MEMBER");
    let r = api.get(&format!("/mfa/events?userId={}", member.id), Some(&colleague.platform_token())).await;
    assert_error(&r, 403, "FORBIDDEN");
    // An administrator's ended session reads nothing.
    let ended = admin.ended_session_token(now());
    let r = api.get(&format!("/mfa/events?userId={}", member.id), Some(&ended)).await;
    assert_error(&r, 401, "SESSION_ENDED");
}

/// The trail shows where the user signed in from: while they have MFA, it takes a
/// full-access token, never the password alone.
#[tokio::test]
async fn a_users_events_are_not_read_with_the_password_alone() {
    let api = Api::new();
    let me = Person::new();
    enroll_totp_with_codes(&api, &me).await;
    assert_error(&api.get("/mfa/events", Some(&me.platform_token())).await, 403, "STEP_UP_REQUIRED");
    let token = me.full_access_token(now() - 3600).await;
    assert_eq!(api.get("/mfa/events", Some(&token)).await.status, 200, "any live session will do");
}

/// Nor a member's, to an administrator's password alone when the administrator has MFA.
#[tokio::test]
async fn an_administrator_with_mfa_reads_members_events_with_a_full_access_token_only() {
    let api = Api::new();
    let org = unique("org");
    let member = Person::in_org(&org, "MEMBER");
    enroll_totp_with_codes(&api, &member).await;
    let admin = Person::in_org(&org, "OWNER");
    enroll_totp_with_codes(&api, &admin).await;
    let path = format!("/mfa/events?userId={}", member.id);
    assert_error(&api.get(&path, Some(&admin.platform_token())).await, 403, "STEP_UP_REQUIRED");
    let token = admin.full_access_token(now() - 3600).await;
    assert_eq!(api.get(&path, Some(&token)).await.status, 200);
}

/// A user whose method is on again through a second factor (one authenticator switched off,
/// another added) and who then switches the method on switches the first factor back on:
/// that is a factor back in use, so it is an event and the user is told, like any enable.
#[tokio::test]
async fn switching_a_factor_back_on_beside_another_is_recorded_and_told() {
    let api = Api::new();
    let me = Person::new();
    enroll_totp_with_codes(&api, &me).await;
    let fresh = me.full_access_token(now()).await;
    let r = api.post("/mfa/disable", Some(&fresh), json!({"mfaType": "GOOGLE_AUTH"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // A second authenticator turns the method on again; the first stays off.
    enroll_totp_with_codes(&api, &me).await;
    let fresh = me.full_access_token(now()).await;
    let r = api.post("/mfa/enable", Some(&fresh), json!({"mfaType": "GOOGLE_AUTH"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (record, _) = mfa_tests::store().await.load_user_and_policy(&me.id, None).await.unwrap();
    assert_eq!(record.factors.iter().filter(|f| f.is_enabled()).count(), 2, "both authenticators are on");
    let events = all_events(&api, &me.full_access_token(now()).await, None).await;
    assert_eq!(count(&events, "METHOD_ENABLED"), 1, "{:?}", kinds(&events));
    let turned_on = mfa_tests::mails_to(&me.email)
        .await
        .iter()
        .filter(|m| m["subject"] == json!("Two-step sign-in method turned on"))
        .count();
    assert_eq!(turned_on, 3, "two enrolments and the enable");
}

/// The audit writer, handed a login state's stream record by hand (as a redelivery would
/// hand it): the events are stored whatever the time left; a notice is begun only with
/// time to finish it (a slow SES never fails the batch), and a batch delivered again
/// mails its notice again.
#[tokio::test]
async fn the_audit_writer_stores_events_and_mails_notices_only_with_time_left() {
    use aws_sdk_dynamodb::types::AttributeValue;
    use mfa_shared::outbox::{self, NewImage, StreamBatch, StreamChange, StreamRecord, Written};
    let api = Api::new();
    let me = Person::new();
    let (secret, _) = enroll_totp_with_codes(&api, &me).await;
    let (access, _) = login_with_totp_step(&api, &me, &secret, 1).await;
    let r = api.post("/mfa/backup-codes", Some(&access), Value::Null).await;
    assert_eq!(r.status, 200, "{}", r.body);
    for code in r.body["data"]["backupCodes"].as_array().unwrap() {
        mfa_tests::remember_secret(code.as_str().unwrap());
    }
    let regenerated = || async {
        mfa_tests::mails_to(&me.email)
            .await
            .iter()
            .filter(|m| m["subject"] == json!("New backup codes were created"))
            .count()
    };
    assert_eq!(regenerated().await, 1, "the writer mailed the change's notice");
    let sdk = aws_config::load_from_env().await;
    let login = aws_sdk_dynamodb::Client::new(&sdk)
        .get_item()
        .table_name(&mfa_tests::stack().table)
        .key("pk", AttributeValue::S(format!("USER#{}", me.id)))
        .key("sk", AttributeValue::S("MFA#LOGIN".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let batch = || {
        let take = |name: &str| login.get(name).cloned().map(serde_dynamo::AttributeValue::from);
        let image = NewImage {
            pk: take("pk"),
            sk: take("sk"),
            pending_events: take("pendingEvents"),
            pending_notices: take("pendingNotices"),
        };
        StreamBatch { records: vec![StreamRecord { dynamodb: Some(StreamChange { new_image: Some(image) }) }] }
    };
    let app = mfa_tests::app().await;
    let out = outbox::write(&app, batch(), std::time::Duration::from_millis(500)).await.unwrap();
    assert_eq!(out, Written { stored: 1, mailed: 0, refused: 0, unsent: 1 });
    assert_eq!(regenerated().await, 1, "no notice begun without the time to finish it");
    let out = outbox::write(&app, batch(), std::time::Duration::from_secs(30)).await.unwrap();
    assert_eq!(out, Written { stored: 1, mailed: 1, refused: 0, unsent: 0 });
    assert_eq!(regenerated().await, 2, "a batch delivered again mails its notice again");
    let events = all_events(&api, &access, None).await;
    assert_eq!(count(&events, "BACKUP_CODES_REGENERATED"), 1, "an event stored again is stored once");
}
