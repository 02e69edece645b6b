//! The round-trip budget, measured: every route's successful request (each method where a
//! route serves several) and its refusals of a bad token and of bad input, run through the
//! handler in process with a DynamoDB client that counts what it sends. The state each
//! request needs is prepared over HTTP first, so only the measured request is counted.

use serde_json::{Value, json};

use crate::{Api, Person, TestApp, enroll_totp_with_codes, link_in, login_with_totp, now, nth_mail, seed_magic_link};
use mfa_shared::methods::totp;

/// One measured request.
#[derive(Clone, Debug)]
pub struct Row {
    pub function: &'static str,
    pub case: &'static str,
    pub status: u16,
    pub reads: usize,
    pub writes: usize,
    /// Attempts the SDK sent again, and the calls of each try: a try ends with a write lost
    /// to a transaction on the same items at the same moment (see `mfa_local::RoundTrips`).
    pub resent: usize,
    pub tries: Vec<(usize, usize)>,
    /// The request's time in process, answer read, and of it the time its round trips
    /// spent sent and answered (see `mfa_local::RoundTrips`).
    pub ms: f64,
    pub away_ms: f64,
    /// The process's CPU time over the request ([`mfa_local::cpu_ms`]).
    pub cpu_ms: f64,
}

/// A `TestApp` whose store counts its round trips.
pub struct Counting {
    pub test: TestApp,
    pub trips: mfa_local::RoundTrips,
}

impl Row {
    /// Whether each of the request's tries kept to one read and one write (a try after the
    /// first follows a write lost to a transaction on the same items at the same moment).
    pub fn within_budget(&self) -> bool {
        self.tries.iter().all(|&(reads, writes)| reads <= 1 && writes <= 1)
    }

    /// The writes the request lost to another transaction.
    pub fn lost(&self) -> usize {
        self.tries.len().saturating_sub(1)
    }
}

impl Counting {
    pub async fn new() -> Self {
        Self::through(None).await
    }

    /// A [`Counting::new`] whose DynamoDB requests go to `endpoint` (a proxy to DynamoDB
    /// Local) where one is given: with the service's attempt timeout, and 5 s for a whole
    /// call, so an attempt the SDK sends again after a held one has time on a loaded machine.
    pub async fn through(endpoint: Option<&str>) -> Self {
        let trips = mfa_local::RoundTrips::default();
        let sdk = aws_config::load_from_env().await;
        let mut client = trips.client(&sdk);
        if let Some(url) = endpoint {
            let service = client.config().timeout_config().cloned().expect("the service's timeouts");
            let timeouts = service.to_builder().operation_timeout(std::time::Duration::from_secs(5)).build();
            let config = client.config().to_builder().endpoint_url(url).timeout_config(timeouts).build();
            client = aws_sdk_dynamodb::Client::from_conf(config);
        }
        let store = mfa_shared::store::Store::new(client, crate::stack().table.clone());
        let mut test = TestApp::new().await;
        // The mails and texts a request sends are timed with its round trips (a request's
        // own work is what is left), not counted among DynamoDB's.
        let mailer = test.app.mailer().ok().map(|m| m.on_client(trips.sesv2(&sdk)));
        let texter = mfa_shared::mail::Texter::new(trips.sns(&sdk));
        test.app = test.app.with_store(store).with_texter(texter);
        if let Some(mailer) = mailer {
            test.app = test.app.with_mailer(mailer);
        }
        Self { test, trips }
    }

    /// Runs one request in process; returns its row.
    pub async fn measure(&self, function: &'static str, case: &'static str, token: Option<&str>, body: Value) -> Row {
        self.measure_on(function, case, None, token, body).await
    }

    /// [`Counting::measure`] of a route with a `{factorId}` in its path.
    async fn measure_on(
        &self,
        function: &'static str,
        case: &'static str,
        factor: Option<&str>,
        token: Option<&str>,
        body: Value,
    ) -> Row {
        let row = self.row(function, case, factor, token, body);
        if profiled(function, case) {
            row.await
        } else {
            // Under a frame of another name (`timed_unprofiled`), which `scripts/profile
            // routes` leaves out of its flame graph.
            Unprofiled(Box::pin(row)).await
        }
    }

    /// Runs one request and makes its row (see [`Counting::measure_on`]).
    async fn row(
        &self,
        function: &'static str,
        case: &'static str,
        factor: Option<&str>,
        token: Option<&str>,
        body: Value,
    ) -> Row {
        // The clock stands still in a TestApp; measured requests run at the real time.
        self.test.clock.set(now());
        let (t, status, _) = self.timed(function, factor, token, body).await;
        let (reads, writes, resent, tries) = (t.reads, t.writes, t.resent, t.tries);
        Row { function, case, status, reads, writes, resent, tries, ms: t.ms, away_ms: t.away_ms, cpu_ms: t.cpu_ms }
    }

    /// Runs one request in process (`factor` fills a `{factorId}` or `{deviceId}` in its
    /// path) and times it: the event's parse into a request, as the runtime does it, and the
    /// handler; not the harness's reading of the answer (nor its note of the secrets in it).
    /// Returns the timing, the status and the body.
    pub async fn timed(
        &self,
        function: &str,
        factor: Option<&str>,
        token: Option<&str>,
        body: Value,
    ) -> (Timing, u16, Value) {
        let jwks = crate::jwks_document();
        let (response, t) = self
            .time(async {
                let req = crate::request(function, token, body);
                let req = match factor {
                    Some(id) => crate::with_path_id(req, id),
                    None => req,
                };
                crate::handle(&self.test.app, &jwks, function, req).await
            })
            .await;
        let (status, body) = crate::parse(&response);
        (t, status, body)
    }

    /// Runs `op` (whose round trips go through this counter's clients) and times it.
    pub async fn time<F: std::future::Future>(&self, op: F) -> (F::Output, Timing) {
        self.trips.take();
        let (started, cpu) = (std::time::Instant::now(), mfa_local::cpu_ms());
        let out = op.await;
        let (ms, cpu_ms) = (started.elapsed().as_secs_f64() * 1000.0, mfa_local::cpu_ms() - cpu);
        let t = self.trips.take_all();
        let away_ms = t.away.as_secs_f64() * 1000.0;
        let (reads, writes) = (t.reads(), t.writes());
        (out, Timing { reads, writes, resent: t.resent, tries: t.tries, ms, away_ms, cpu_ms })
    }
}

/// A future polled from a frame of its own name (`timed_unprofiled`), never inlined.
struct Unprofiled<F>(std::pin::Pin<Box<F>>);

impl<F: std::future::Future> std::future::Future for Unprofiled<F> {
    type Output = F::Output;

    #[inline(never)]
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<F::Output> {
        timed_unprofiled(self.0.as_mut(), cx)
    }
}

#[inline(never)]
fn timed_unprofiled<F: std::future::Future>(
    future: std::pin::Pin<&mut F>,
    cx: &mut std::task::Context<'_>,
) -> std::task::Poll<F::Output> {
    future.poll(cx)
}

/// Whether a profile keeps this request: every request, unless `MFA_PROFILE_CASES` names
/// some (its function or its case containing one of the variable's comma-separated parts,
/// e.g. `PASSKEY,webauthn`). The measured figures are the same either way.
fn profiled(function: &str, case: &str) -> bool {
    static CASES: std::sync::OnceLock<Option<Vec<String>>> = std::sync::OnceLock::new();
    let cases = CASES.get_or_init(|| {
        std::env::var("MFA_PROFILE_CASES").ok().map(|c| c.split(',').map(str::trim).map(String::from).collect())
    });
    let Some(parts) = cases else { return true };
    parts.iter().any(|p| function.contains(p.as_str()) || case.contains(p.as_str()))
}

/// One request's round trips and times (see [`Row`]).
#[derive(Clone, Debug)]
pub struct Timing {
    pub reads: usize,
    pub writes: usize,
    pub resent: usize,
    pub tries: Vec<(usize, usize)>,
    pub ms: f64,
    pub away_ms: f64,
    pub cpu_ms: f64,
}

/// Every route's successful requests.
pub async fn successes(c: &Counting) -> Vec<Row> {
    let api = Api::new();
    let mut rows = Vec::new();
    let me = Person::in_org(&crate::unique("org"), "OWNER");
    let pre = me.platform_token();
    rows.push(c.measure("mfa-status", "status", Some(&pre), Value::Null).await);
    rows.push(c.measure("mfa-methods", "methods", Some(&pre), Value::Null).await);

    // GOOGLE_AUTH: setup, verify-setup, login, recovery, backup codes, refresh.
    let t = Person::new();
    let r =
        c.measure("mfa-setup", "setup GOOGLE_AUTH", Some(&t.platform_token()), json!({"mfaType": "GOOGLE_AUTH"})).await;
    rows.push(r);
    let (status, body) = c.test.call("mfa-setup", Some(&t.platform_token()), json!({"mfaType": "GOOGLE_AUTH"})).await;
    assert_eq!(status, 200, "{body}");
    let raw = totp::decode_secret(body["data"]["secret"].as_str().unwrap()).unwrap();
    let code = crate::totp_code(&raw, -1).await;
    rows.push(
        c.measure(
            "mfa-verify-setup",
            "verify-setup GOOGLE_AUTH",
            Some(&t.platform_token()),
            json!({"mfaType": "GOOGLE_AUTH", "code": code}),
        )
        .await,
    );
    let code = crate::totp_code(&raw, 0).await;
    rows.push(
        c.measure(
            "mfa-verify-login",
            "verify-login GOOGLE_AUTH",
            Some(&t.platform_token()),
            json!({"mfaType": "GOOGLE_AUTH", "code": code}),
        )
        .await,
    );

    let u = Person::new();
    let (secret, codes) = enroll_totp_with_codes(&api, &u).await;
    rows.push(c.measure("mfa-recover", "recover", Some(&u.platform_token()), json!({"code": codes[0]})).await);
    let fresh = u.full_access_token(now()).await;
    rows.push(c.measure("mfa-backup-codes", "backup-codes", Some(&fresh), Value::Null).await);
    let (_, refresh) = login_with_totp(&api, &u, &secret).await;
    rows.push(
        c.measure("mfa-token-refresh", "refresh", Some(&u.platform_token()), json!({"refreshToken": refresh})).await,
    );
    rows.push(c.measure("mfa-primary", "primary", Some(&fresh), json!({"mfaType": "GOOGLE_AUTH"})).await);
    let passkey = crate::stand_in(mfa_shared::model::MfaType::Passkey, mfa_shared::factors::FactorState::Disabled, &u);
    crate::seed(&u, |r| r.factors.push(passkey.clone())).await;
    rows.push(c.measure("mfa-enable", "enable", Some(&fresh), json!({"mfaType": "PASSKEY"})).await);
    rows.push(c.measure("mfa-factors", "factors", Some(&fresh), Value::Null).await);
    let id = passkey.id.as_str();
    let rename = json!({"name": "Old key"});
    rows.push(c.measure_on("mfa-factor-rename", "rename a factor", Some(id), Some(&fresh), rename).await);
    rows.push(c.measure_on("mfa-factor-remove", "remove a factor", Some(id), Some(&fresh), Value::Null).await);
    let passkey = crate::stand_in(mfa_shared::model::MfaType::Passkey, mfa_shared::factors::FactorState::Enabled, &u);
    crate::seed(&u, |r| r.factors.push(passkey.clone())).await;
    rows.push(c.measure("mfa-disable", "disable", Some(&fresh), json!({"mfaType": "PASSKEY"})).await);
    rows.push(c.measure("mfa-reset", "reset oneself", Some(&fresh), Value::Null).await);

    // MAGIC_LINK: setup, verify-setup, activate, send, login.
    let m = Person::new();
    rows.push(
        c.measure("mfa-setup", "setup MAGIC_LINK", Some(&m.platform_token()), json!({"mfaType": "MAGIC_LINK"})).await,
    );
    let (_, token) = link_in(&nth_mail(&m.email, 1).await);
    rows.push(
        c.measure(
            "mfa-verify-setup",
            "verify-setup MAGIC_LINK",
            Some(&m.platform_token()),
            json!({"mfaType": "MAGIC_LINK", "token": token}),
        )
        .await,
    );
    let n = Person::new();
    let r = api.post("/mfa/setup", Some(&n.platform_token()), json!({"mfaType": "MAGIC_LINK"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (_, token) = link_in(&nth_mail(&n.email, 1).await);
    rows.push(c.measure("mfa-magic-link-activate", "activate", None, json!({"token": token})).await);
    let l = Person::new();
    seed_magic_link(&l).await;
    rows.push(c.measure("mfa-magic-link-send", "send", Some(&l.platform_token()), Value::Null).await);
    // Codes by mail and by text (a send slot each; a minute apart per user, so one user each).
    for (function, kind) in [
        ("mfa-email-code-send", mfa_shared::model::MfaType::EmailOtp),
        ("mfa-sms-send", mfa_shared::model::MfaType::Sms),
    ] {
        let s = Person::new();
        let factor = crate::stand_in(kind, mfa_shared::factors::FactorState::Enabled, &s);
        crate::seed(&s, |r| r.factors.push(factor.clone())).await;
        rows.push(c.measure(function, "send a login code", Some(&s.platform_token()), Value::Null).await);
    }
    let (_, token) = link_in(&nth_mail(&l.email, 1).await);
    rows.push(
        c.measure(
            "mfa-verify-login",
            "verify-login MAGIC_LINK",
            Some(&l.platform_token()),
            json!({"mfaType": "MAGIC_LINK", "token": token}),
        )
        .await,
    );

    // PASSKEY: setup, complete-registration (both paths), auth-options, login.
    let k = Person::new();
    rows.push(c.measure("mfa-setup", "setup PASSKEY", Some(&k.platform_token()), json!({"mfaType": "PASSKEY"})).await);
    for (function, case) in [
        ("mfa-passkey-complete-registration", "complete-registration"),
        ("mfa-passkey-complete-registration-1", "complete-registration-1"),
    ] {
        let p = Person::new();
        let (body, _key) = crate::passkey_registration(&api, &p.platform_token()).await;
        rows.push(c.measure(function, case, Some(&p.platform_token()), body).await);
    }
    let a = Person::new();
    let mut key = crate::register_passkey(&api, &a.platform_token()).await;
    rows.push(c.measure("mfa-passkey-auth-options", "auth-options", Some(&a.platform_token()), Value::Null).await);
    let assertion = crate::passkey_assertion(&api, &a, &mut key).await;
    rows.push(
        c.measure(
            "mfa-verify-login",
            "verify-login PASSKEY",
            Some(&a.platform_token()),
            json!({"mfaType": "PASSKEY", "credential": assertion}),
        )
        .await,
    );

    // Remembered devices: a login that remembers, one with the device, the list, whether
    // remembering is allowed, forgetting one and all, and the audit trail.
    let d = Person::new();
    let raw = crate::enroll_totp(&api, &d).await;
    let code = crate::totp_code(&raw, 0).await;
    let remember = json!({"mfaType": "GOOGLE_AUTH", "code": code, "rememberDevice": true});
    let pre = d.platform_token();
    rows.push(c.measure("mfa-verify-login", "verify-login remembering the device", Some(&pre), remember).await);
    let (_, device) = crate::login_remembering(&api, &d, &raw, 1).await;
    let by_device = json!({"mfaType": "DEVICE", "deviceToken": device});
    rows.push(c.measure("mfa-verify-login", "verify-login DEVICE", Some(&pre), by_device).await);
    rows.push(c.measure("mfa-devices", "devices", Some(&pre), Value::Null).await);
    rows.push(c.measure("mfa-remember-device", "remember-device", Some(&pre), Value::Null).await);
    let listed = api.get("/mfa/devices", Some(&pre)).await;
    let id = listed.body["data"][0]["deviceId"].as_str().expect("a remembered device").to_string();
    rows.push(c.measure_on("mfa-device-forget", "forget a device", Some(&id), Some(&pre), Value::Null).await);
    rows.push(c.measure("mfa-devices-forget", "forget every device", Some(&pre), Value::Null).await);
    let session = d.full_access_token(now()).await;
    rows.push(c.measure("mfa-events", "events", Some(&session), Value::Null).await);

    // Organizations.
    let org = crate::unique("org");
    let admin = Person::in_org(&org, "OWNER");
    let member = Person::in_org(&org, "MEMBER");
    enroll_totp_with_codes(&api, &member).await;
    let admin_token = admin.full_access_token(now()).await;
    rows.push(c.measure("mfa-reset", "reset a member", Some(&admin_token), json!({"resetUserId": member.id})).await);
    rows.push(c.measure("mfa-organization-enforce", "enforce", Some(&admin_token), json!({"enforced": true})).await);
    rows.push(c.measure("mfa-jwks", "jwks", None, Value::Null).await);

    // Frontegg's routes (the platform token as `mfaToken` on the pre-login ones).
    rows.push(c.measure("frontegg-devices", "devices", Some(&pre), Value::Null).await);
    rows.push(c.measure("frontegg-allow-remember-device", "allow-remember-device", Some(&pre), Value::Null).await);
    let f = Person::new();
    rows.push(
        c.measure("frontegg-authenticator-enroll", "enroll logged in", Some(&f.platform_token()), Value::Null).await,
    );
    let g = Person::new();
    rows.push(c.measure("frontegg-mfa-enroll", "legacy enroll", Some(&g.platform_token()), Value::Null).await);
    let h = Person::new();
    let login_enroll = "authenticator enroll at login";
    rows.push(
        c.measure("frontegg-login-authenticator-enroll", login_enroll, Some(&h.platform_token()), Value::Null).await,
    );
    let k = Person::new();
    rows.push(
        c.measure("frontegg-login-webauthn-enroll", "passkey at login", Some(&k.platform_token()), Value::Null).await,
    );
    let v = Person::new();
    let (raw, codes) = enroll_totp_with_codes(&api, &v).await;
    let value = crate::totp_code(&raw, 0).await;
    rows.push(c.measure("frontegg-login-verify", "login", Some(&v.platform_token()), json!({"value": value})).await);
    let by_code = json!({"token": codes[1]});
    rows.push(c.measure("frontegg-mfa-disable", "off with a recovery code", Some(&v.platform_token()), by_code).await);
    let w = Person::new();
    let (_, codes) = enroll_totp_with_codes(&api, &w).await;
    let recover = json!({"email": w.email, "recoveryCode": codes[0]});
    rows.push(c.measure("frontegg-login-recover", "recover", Some(&w.platform_token()), recover).await);
    frontegg_factors(c, &mut rows).await;
    rows
}

/// Frontegg's enrolments completed, logins with each factor by id, and removals with the
/// proof in the request.
async fn frontegg_factors(c: &Counting, rows: &mut Vec<Row>) {
    use mfa_shared::factors::FactorState;
    use mfa_shared::model::MfaType;
    use webauthn_authenticator_rs::WebauthnAuthenticator;
    let api = Api::new();
    let created = |row: &Row| assert!((200..300).contains(&row.status), "{row:?}");

    // Authenticators: completed at login, logged in, legacy and logged-in completions, removed.
    for (begin, complete, case) in [
        ("frontegg-login-authenticator-enroll", "frontegg-login-authenticator-enroll-verify", "complete at login"),
        ("frontegg-authenticator-enroll", "frontegg-authenticator-enroll-verify", "complete logged in"),
        ("frontegg-mfa-enroll", "frontegg-mfa-enroll-verify", "legacy complete"),
    ] {
        let p = Person::new();
        let (status, body) = c.test.call(begin, Some(&p.platform_token()), json!({})).await;
        assert!((200..300).contains(&status), "{begin}: {body}");
        let secret = crate::pending_authenticator_secret(&p).await;
        let token = json!({"token": crate::totp_code(&secret, -1).await});
        rows.push(c.measure(complete, case, Some(&p.platform_token()), token).await);
    }
    let a = Person::new();
    let (raw, _) = enroll_totp_with_codes(&api, &a).await;
    let id = crate::factor_of(&a, MfaType::GoogleAuth).await.expect("an authenticator").id;
    let value = json!({"value": crate::totp_code(&raw, 0).await});
    let row = c
        .measure_on("frontegg-login-authenticator-verify", "login by id", Some(&id), Some(&a.platform_token()), value)
        .await;
    rows.push(row);
    let proof = json!({"token": crate::totp_code(&raw, 1).await});
    let row = c
        .measure_on(
            "frontegg-authenticator-disable",
            "remove, code in the request",
            Some(&id),
            Some(&a.platform_token()),
            proof,
        )
        .await;
    rows.push(row);

    // Phones: enrolled at login and logged in, a login code by id, removal by its code.
    for (begin, complete, case) in [
        ("frontegg-login-sms-enroll", "frontegg-login-sms-enroll-verify", "phone at login"),
        ("frontegg-sms-enroll", "frontegg-sms-enroll-verify", "phone logged in"),
    ] {
        let p = Person::new();
        let number = crate::phone_number();
        let row = c.measure(begin, case, Some(&p.platform_token()), json!({"phoneNumber": number})).await;
        created(&row);
        rows.push(row);
        let sent = crate::factor_of(&p, MfaType::Sms).await.expect("a pending phone");
        let code = crate::nth_text_code(&number, 1).await;
        let body = json!({"otcToken": sent.id, "code": code});
        rows.push(c.measure(complete, case, Some(&p.platform_token()), body).await);
    }
    let s = Person::new();
    let phone = crate::stand_in(MfaType::Sms, FactorState::Enabled, &s);
    crate::seed(&s, |r| r.factors.push(phone.clone())).await;
    let number = crate::number_of(&s, &phone);
    let pre = s.platform_token();
    rows.push(
        c.measure_on("frontegg-login-sms-send", "text a login code", Some(&phone.id), Some(&pre), json!({})).await,
    );
    let body = json!({"otcToken": phone.id, "code": crate::nth_text_code(&number, 1).await});
    rows.push(c.measure_on("frontegg-login-sms-verify", "login by text", Some(&phone.id), Some(&pre), body).await);
    let r = Person::new();
    let phone = crate::stand_in(MfaType::Sms, FactorState::Enabled, &r);
    crate::seed(&r, |rec| rec.factors.push(phone.clone())).await;
    let number = crate::number_of(&r, &phone);
    let pre = r.platform_token();
    rows.push(
        c.measure_on("frontegg-sms-disable-send", "text a removal code", Some(&phone.id), Some(&pre), json!({})).await,
    );
    let body = json!({"otcToken": phone.id, "code": crate::nth_text_code(&number, 1).await});
    rows.push(
        c.measure_on("frontegg-sms-disable", "remove, code in the request", Some(&phone.id), Some(&pre), body).await,
    );

    // Email codes.
    let e = Person::new();
    let codes = crate::stand_in(MfaType::EmailOtp, FactorState::Enabled, &e);
    crate::seed(&e, |r| r.factors.push(codes.clone())).await;
    let pre = e.platform_token();
    rows.push(c.measure("frontegg-login-emailcode-send", "mail a login code", Some(&pre), json!({})).await);
    let body = json!({"otcToken": codes.id, "code": crate::nth_mail_code(&e.email, 1).await});
    rows.push(c.measure("frontegg-login-emailcode-verify", "login by mail", Some(&pre), body).await);

    // Passkeys: enrolled at login, a login ceremony by id, removal by its assertion.
    let k = Person::new();
    let pre = k.platform_token();
    let (status, opened) = c.test.call("frontegg-login-webauthn-enroll", Some(&pre), json!({})).await;
    assert_eq!(status, 201, "{opened}");
    let mut key = webauthn_authenticator_rs::softpasskey::SoftPasskey::new(true);
    let options = serde_json::from_value(json!({"publicKey": opened["options"]})).expect("creation options");
    let credential = key.do_registration(crate::rp_origin(), options).expect("the soft passkey registers");
    let body = json!({"webauthnToken": opened["webauthnToken"], "deviceType": "Platform", "options": credential});
    rows.push(c.measure("frontegg-login-webauthn-enroll-verify", "passkey at login", Some(&pre), body).await);
    let id = crate::factor_of(&k, MfaType::Passkey).await.expect("a passkey").id;
    for (open, finish, case) in [
        ("frontegg-login-webauthn-options", "frontegg-login-webauthn-verify", "login by passkey"),
        ("frontegg-webauthn-disable-options", "frontegg-webauthn-disable", "remove, assertion in the request"),
    ] {
        let row = c.measure_on(open, case, Some(&id), Some(&pre), json!({})).await;
        created(&row);
        rows.push(row);
        let (_, opened) = c.test.call_on(open, &id, Some(&pre), json!({})).await;
        let options = serde_json::from_value(json!({"publicKey": opened["options"]})).expect("request options");
        let assertion = key.do_authentication(crate::rp_origin(), options).expect("the soft passkey signs");
        let body = json!({"webauthnToken": opened["webauthnToken"], "options": assertion});
        rows.push(c.measure_on(finish, case, Some(&id), Some(&pre), body).await);
    }
}

/// Every route's refusals of a bad token and of bad input: decided before any round trip.
pub async fn refusals(c: &Counting) -> Vec<Row> {
    let token = Person::new().platform_token();
    let mut rows = Vec::new();
    for route in mfa_shared::routes::ROUTES {
        if route.auth != mfa_shared::routes::AuthKind::None {
            rows.push(c.measure(route.function, "bad token", Some("not-a-jwt"), json!({})).await);
        }
        if route.method == "POST"
            && !matches!(
                route.function,
                "mfa-magic-link-send"
                    | "mfa-passkey-auth-options"
                    | "mfa-backup-codes"
                    | "frontegg-authenticator-enroll"
                    | "frontegg-mfa-enroll"
                    | "frontegg-sms-disable-send"
                    | "frontegg-webauthn-disable-options"
            )
        {
            rows.push(c.measure(route.function, "bad input", Some(&token), json!([1, 2])).await);
        }
    }
    // An activation token naming a user id that cannot be one is refused before any read.
    use base64::Engine;
    let bad_user = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("bad\u{7}user");
    let token = format!("{}.{bad_user}", "A".repeat(43));
    rows.push(
        c.measure("mfa-magic-link-activate", "a malformed user in the token", None, json!({"token": token})).await,
    );
    rows
}
