//! The one way a user's MFA record changes: read it (one round trip, with the
//! organization policy when asked, or with the acting administrator's own record), ask the
//! policy whether the change may be made to the state just read, let the step change it,
//! settle what the change implies for sessions and the organization binding, and write it
//! back conditional on its version, with the step's one-time items in the same
//! transaction. When another request wrote first, all of it runs again on the fresh
//! record, so a one-time value checked in a step is accepted at most once and the policy
//! always decides on the state the write replaces.

use crate::App;
use crate::audit;
use crate::model::{OrgPolicy, UserMfaRecord};
use crate::notify;
use crate::policy::{self, Action, Actor, Change, ProofKind};
use crate::refusal::Refusal;
use crate::store::{Cancelled, StoreError, Write};

/// Runs `step` on the record of `user_id` as `change`; the record is written back if the
/// step changed it, also when the step refuses (a failed code still counts toward the
/// lockout). The step is handed the policy that governs the user: that of the organization
/// their record is bound to, or, while it is bound to none, of the one the actor's token
/// names (`Store::load_user_and_rules`).
pub async fn user<T>(
    app: &App,
    user_id: &str,
    change: &Change<'_>,
    mut step: impl FnMut(&mut UserMfaRecord, Option<&OrgPolicy>) -> Result<T, Refusal>,
) -> Result<T, Refusal> {
    user_with(app, user_id, change, |r, p| step(r, p).map(|t| (t, Vec::new())), || Refusal::Internal).await
}

/// [`user`] whose step may also write other items (consume a one-time value, store a new
/// one) in the same transaction as the record. Each extra write carries its own
/// condition; when one fails, the value was already spent and the answer is `spent()`,
/// with nothing written.
pub async fn user_with<T>(
    app: &App,
    user_id: &str,
    change: &Change<'_>,
    step: impl FnMut(&mut UserMfaRecord, Option<&OrgPolicy>) -> Result<(T, Vec<Write>), Refusal>,
    spent: impl Fn() -> Refusal,
) -> Result<T, Refusal> {
    user_with_loaded(app, user_id, None, change, step, spent).await
}

/// [`user_with`] whose extra writes include limits (counters with conditions): when one
/// fails, `refused` gets its place among the step's writes and the item as it stood.
pub async fn user_with_limits<T>(
    app: &App,
    user_id: &str,
    change: &Change<'_>,
    step: impl FnMut(&mut UserMfaRecord, Option<&OrgPolicy>) -> Result<(T, Vec<Write>), Refusal>,
    refused: impl Fn(&Cancelled) -> Refusal,
) -> Result<T, Refusal> {
    // The store gives a failed write's place among the step's writes.
    without_proof(change)?;
    run(app, user_id, None, change, step, refused).await
}

/// A user's record as the request's one read round trip read it (with the one-time item
/// it presents), and the organization's policy when the change needs it.
pub type Loaded = (UserMfaRecord, Option<OrgPolicy>);

/// [`user_with`] starting from a record already read in the request's one read round trip
/// (with the one-time item it presents); a retry after a lost race reads it again.
///
/// A change that carries a proof in the request (`Change::proof`) is refused here: the
/// policy honours such a proof only because the lockout checks it in the same write
/// ([`attempt`], the one caller of [`proven`]).
pub async fn user_with_loaded<T>(
    app: &App,
    user_id: &str,
    loaded: Option<Loaded>,
    change: &Change<'_>,
    step: impl FnMut(&mut UserMfaRecord, Option<&OrgPolicy>) -> Result<(T, Vec<Write>), Refusal>,
    spent: impl Fn() -> Refusal,
) -> Result<T, Refusal> {
    without_proof(change)?;
    run(app, user_id, loaded, change, step, |_: &Cancelled| spent()).await
}

/// The guard of the changes that carry no proof in the request (the ones that do go through
/// the lockout, [`attempt`]). A plain function, not a wrapper future: the handlers' futures
/// are already deep, and one more async layer overflows the compiler's layout query.
fn without_proof(change: &Change<'_>) -> Result<(), Refusal> {
    if change.proof.is_some() {
        tracing::error!("a change with a proof in the request reached the store without the lockout");
        return Err(Refusal::Internal);
    }
    Ok(())
}

/// [`user_with_loaded`] for the lockout, whose step checks the change's proof (counted
/// like a login) before anything else.
pub(crate) async fn proven<T>(
    app: &App,
    user_id: &str,
    loaded: Option<Loaded>,
    change: &Change<'_>,
    step: impl FnMut(&mut UserMfaRecord, Option<&OrgPolicy>) -> Result<(T, Vec<Write>), Refusal>,
    spent: impl Fn() -> Refusal,
) -> Result<T, Refusal> {
    run(app, user_id, loaded, change, step, |_: &Cancelled| spent()).await
}

/// How long a change goes on beginning tries after lost races (see `run`).
const RETRY_FOR: std::time::Duration = std::time::Duration::from_secs(1);
/// Seconds a change that takes access away holds the record once it has lost two races.
const REMOVAL_HOLD: i64 = 2;
/// The part of its hold in which such a change begins a try: one begins only when it
/// would end within it at the pace of the last (the hold lasts at least `REMOVAL_HOLD`
/// seconds from its setting, whole seconds being compared).
const TRY_WITHIN_HOLD: std::time::Duration = std::time::Duration::from_millis(1800);
/// No try of any change begins later than this after its first.
const TRY_NO_LATER: std::time::Duration = std::time::Duration::from_secs(3);
/// How long letting go of a hold may take: it ends by itself two seconds on in any case.
const RELEASE_WITHIN: std::time::Duration = std::time::Duration::from_millis(500);

async fn run<T>(
    app: &App,
    user_id: &str,
    mut loaded: Option<Loaded>,
    change: &Change<'_>,
    mut step: impl FnMut(&mut UserMfaRecord, Option<&OrgPolicy>) -> Result<(T, Vec<Write>), Refusal>,
    spent: impl Fn(&Cancelled) -> Refusal,
) -> Result<T, Refusal> {
    // A write that lost the race reads the record again and tries again: five times, and
    // twelve for a change that takes access away, so that logins racing it (an attacker's
    // with a stolen device token, say) are unlikely to keep it from landing. Under 0.7 s of
    // waiting in all, and no new try once a second has passed: a slow DynamoDB whose
    // writes keep conflicting still answers well within the function's timeout.
    //
    // A change that takes access away and lost twice holds the record (whenever that
    // second loss came), and then begins a try while the hold has time for it, up to
    // `TRY_NO_LATER`: the hold is what lets it land. A try is a read (one call, or two for
    // a record bound to an organization the token does not name) and a write, each call
    // bounded by the SDK's 1.5 s: the last try ends under 7.6 s after the first began, and
    // letting go of a hold, should the change not land, takes 0.5 s at most (a torn read
    // made again aside, within the functions' 10 s).
    let attempts = if change.action.takes_access_away() { 12 } else { 5 };
    // Such a change's own id, should it come to hold the record; the hold outlasts its
    // retries, so it is set once.
    let holder = change.action.takes_access_away().then(crate::crypto::random_id);
    let mut held: Option<std::time::Instant> = None;
    // Whether it asked for a hold: one may have landed though its answer was lost.
    let mut hold_asked = false;
    let started = std::time::Instant::now();
    let outcome = 'tries: {
        for attempt in 1..=attempts {
            let try_began = std::time::Instant::now();
            if attempt > 1 {
                // Spread retries of racing requests apart.
                let jitter = crate::crypto::random_bytes::<1>()[0] as u64 % 20;
                tokio::time::sleep(std::time::Duration::from_millis(10 * attempt.min(5) as u64 + jitter)).await;
            }
            let loaded = match (loaded.take(), change.actor) {
                (Some((record, policy)), _) => Ok((record, policy, None)),
                // An administrator's own record tells whether their session is live.
                (None, Actor::Admin(admin)) => app
                    .store
                    .load_user_and_actor(user_id, admin.user_id.as_str())
                    .await
                    .map(|(record, own)| (record, None, Some(own))),
                // The rules of the organization the record is bound to, whatever the token names.
                (None, _) => app
                    .store
                    .load_user_and_rules(user_id, change.named_org())
                    .await
                    .map(|(record, policy)| (record, policy, None)),
            };
            let (mut record, org_policy, admin_record) = match loaded {
                Ok(loaded) => loaded,
                Err(e) => break 'tries Err(e.into()),
            };
            // A change that takes access away and kept losing races (to logins with a stolen
            // device token, say) holds the record for a moment: every other change, another
            // removal too, is refused until it lands (reads go on). An ended hold is dropped
            // with the next write.
            match &record.removal_hold {
                Some(hold) if hold.until < change.now => record.removal_hold = None,
                Some(hold) if Some(&hold.by) != holder.as_ref() && change.action != Action::Read => {
                    break 'tries Err(Refusal::ConcurrentUpdate);
                }
                _ => {}
            }
            // Recovery codes an earlier version stored as a plain hash are written keyed with
            // this write (by a function that holds the keyring).
            if let Some(keyring) = app.keyring_if_held() {
                record.rekey_backup_codes(keyring);
            }
            if let Err(refusal) = policy::check(change, &record, admin_record.as_ref(), org_policy.as_ref()) {
                break 'tries Err(refusal);
            }
            let before = record.clone();
            let (outcome, extra) = match step(&mut record, org_policy.as_ref()) {
                Ok((t, extra)) => (Ok(t), extra),
                Err(e) => (Err(e), Vec::new()),
            };
            if outcome.is_ok() {
                settle(change, &before, &mut record, org_policy.as_ref());
                if record.removal_hold.as_ref().is_some_and(|hold| Some(&hold.by) == holder.as_ref()) {
                    record.removal_hold = None;
                }
            }
            if record == before && extra.is_empty() {
                break 'tries outcome;
            }
            // The events of the change, and the notices they make, ride in its write (in the
            // record's login state, whence the audit writer stores and mails them): none when
            // the write loses.
            let ending = match &outcome {
                Ok(_) => Some(audit::Ending::Done),
                Err(_)
                    if (matches!(change.action, Action::Verify | Action::CompleteSetup) || change.proof.is_some())
                        && record.lock != before.lock =>
                {
                    Some(audit::Ending::Failed)
                }
                Err(_) => None,
            };
            let events = match ending {
                Some(ending) => audit::events(change, &before, &record, ending, change.origin(), app.audit_retention),
                None => Vec::new(),
            };
            let notices = notify::of_change(change, &before, &record, &events);
            match app.store.save_user_with_events(&mut record, extra, &events, &notices).await {
                Ok(()) => {
                    crate::metrics::events(&events);
                    break 'tries outcome;
                }
                Err(StoreError::Conflict) if attempt < attempts => {
                    let last_try = try_began.elapsed();
                    let time_up = started.elapsed() >= RETRY_FOR;
                    // A change that takes access away and lost twice (or once, its second
                    // up) holds the record for two seconds from now, so the logins racing it
                    // stop writing and its next try lands.
                    if let Some(by) = holder.as_ref().filter(|_| (attempt >= 2 || time_up) && held.is_none()) {
                        let hold_began = std::time::Instant::now();
                        let now = app.clock.now();
                        let hold = crate::model::RemovalHold { until: now + REMOVAL_HOLD, by: by.clone() };
                        hold_asked = true;
                        match app.store.hold_for_removal(user_id, &hold, now).await {
                            Ok(()) => {
                                held = Some(hold_began);
                                tracing::info!("a change that takes access away lost two races: it holds the record")
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "holding the record for a change that takes access away failed")
                            }
                        }
                    }
                    let goes_on = match held {
                        Some(since) => since.elapsed() + last_try < TRY_WITHIN_HOLD,
                        None => !time_up,
                    };
                    if goes_on && started.elapsed() < TRY_NO_LATER {
                        continue;
                    }
                    break 'tries Err(Refusal::ConcurrentUpdate);
                }
                Err(StoreError::Spent(cancelled)) => break 'tries Err(spent(&cancelled)),
                Err(e) => break 'tries Err(e.into()),
            }
        }
        unreachable!("the loop ends on its last attempt")
    };
    // A hold whose change did not land is let go at once, not left to refuse the user's
    // next try until it ends.
    if let (Err(_), true, Some(by)) = (&outcome, hold_asked, holder.as_ref()) {
        match tokio::time::timeout(RELEASE_WITHIN, app.store.release_hold(user_id, by)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "letting go of the hold of a change that did not land failed"),
            Err(_) => tracing::warn!("letting go of the hold of a change that did not land took too long"),
        }
    }
    outcome
}

/// The one writer of an organization's policy: the acting administrator's own record (is
/// their session live, do they have the MFA `actions` need) and the policy, read in one
/// round trip; `actions` checked by the policy; `step` changes the policy and says it in a
/// few words; the policy and its audit event written together, conditionally. A write that
/// lost a race reads both again and tries again (three times).
pub async fn organization(
    app: &App,
    admin: &crate::auth::Principal,
    actions: &[Action],
    mut step: impl FnMut(&mut OrgPolicy) -> String,
) -> Result<(), Refusal> {
    let org = admin.org_id.as_deref().ok_or(Refusal::NoOrganization)?;
    let now = app.clock.now();
    for attempt in 1..=3 {
        let (own, current) = app.store.load_user_and_policy(admin.user_id.as_str(), Some(org)).await?;
        for action in actions {
            policy::admin(*action, admin, &own, now)?;
        }
        let mut current = current.unwrap_or_else(|| OrgPolicy { org_id: org.to_string(), ..OrgPolicy::default() });
        let detail = step(&mut current);
        current.updated_by = Some(admin.user_id.as_str().to_string());
        current.updated_at = Some(now);
        let change = Change::by_admin(actions[0], admin, now);
        let event =
            audit::enforcement_changed(&change, admin.user_id.as_str(), detail, &admin.origin, app.audit_retention);
        match app.store.save_policy_with(&mut current, vec![app.store.put_event(&event)?]).await {
            Ok(()) => return Ok(()),
            Err(StoreError::Conflict | StoreError::Spent(_)) if attempt < 3 => continue,
            Err(e) => return Err(e.into()),
        }
    }
    unreachable!("the loop returns on its last attempt")
}

/// What a change that succeeded implies, decided here for every change alike:
/// - a change of the factors (one added, switched back on, replaced, removed or reset,
///   backup codes spent or issued) forgets every remembered device, and the sessions a
///   forgotten device started end;
/// - a reset, or a change that removed, switched off or replaced a factor (backup codes
///   included), ends every other session of the user: the session that made it goes on
///   (`Change::acting_session`); an administrator's reset leaves none. What the ended
///   sessions obtained ends with them: the setups stepped up in them and the backup codes
///   issued in them;
/// - the user's organization and address are bound from their own token (never from a
///   server credential acting for them) only when the
///   request proved a fresh second factor (a full-access token whose factor is at most 15
///   minutes old, a login that started a session just now, or the first enrolment) or the
///   user has no MFA to protect. A failed, password-only or merely refreshed request never
///   moves them. A token naming no organization never unbinds a record, and one naming
///   another organization moves it only when the organization it is bound to (`rules`,
///   read with it) has no rules for its members: no token takes a member out of reach of
///   their organization's enforcement, method list or remembering rules.
fn settle(change: &Change, before: &UserMfaRecord, record: &mut UserMfaRecord, rules: Option<&OrgPolicy>) {
    let resets = matches!(change.action, Action::ResetSelf | Action::ResetMember);
    let lost_or_replaced = record.lost_or_replaced_a_factor_of(before);
    if resets || lost_or_replaced {
        let keep = change.acting_session(before);
        record.end_sessions_except(keep);
        record.void_backup_codes_unless_issued_in(keep);
    }
    let new_backup_codes = record.backup_codes.iter().any(|c| !before.backup_codes.contains(c));
    if resets
        || lost_or_replaced
        || new_backup_codes
        || record.gained_a_factor_over(before)
        || record.spent_a_backup_code_of(before)
    {
        record.forget_devices();
    }
    // Whatever forgot a device (this, or the user), the sessions it started end with it.
    record.end_sessions_of_forgotten_devices();
    // The platform's backend acting for the user never moves the record's organization:
    // only the user's own token does.
    if let Actor::User(p) = change.actor
        && p.server.is_none()
    {
        // A session a remembered device started proves no second factor.
        let started_a_session = record.sessions.iter().any(|(id, s)| !s.by_device && !before.sessions.contains_key(id));
        let first_enrolment = !before.has_mfa_enabled() && record.has_mfa_enabled();
        let nothing_to_protect = !before.has_mfa_enabled();
        if policy::fresh(p, change.now) || started_a_session || first_enrolment || nothing_to_protect {
            if let Some(named) = &p.org_id {
                let leaves = record.org_id.as_ref().is_some_and(|bound| bound != named);
                if !leaves || !rules.is_some_and(OrgPolicy::has_rules) {
                    record.org_id = Some(named.clone());
                }
            }
            if p.email.is_some() {
                record.email = p.email.clone();
            }
        }
    }
}

/// Why a second-factor check did not pass.
pub enum Failure {
    /// The factor presented was wrong, spent or expired: it counts toward the lockout.
    Counted(Refusal),
    /// Nothing was checked (the method is off, nothing is pending, a fault): not counted.
    Uncounted(Refusal),
}

impl From<Refusal> for Failure {
    fn from(e: Refusal) -> Self {
        Failure::Uncounted(e)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Uncounted(e.into())
    }
}

/// A proof of a factor presented in a request (a code, an assertion, a recovery code),
/// checked and spent in the change's own write.
pub trait Proof {
    fn kind(&self) -> ProofKind;
    /// The check in the record's write: the one-time writes it spends, or why it failed.
    fn check(&self, app: &App, record: &mut UserMfaRecord, now: i64) -> Result<Vec<Write>, Failure>;
}

/// Runs one second-factor check of `user_id` against their record (`loaded`, when it was
/// read with the factor's one-time item, or read now), in the record's
/// conditional write: refused while locked; a counted failure is recorded (also when the
/// answer is a refusal); a pass resets the count and writes `check`'s extra items (a
/// consumed one-time value, a new session) in the same transaction. When another request
/// spent one of those items first, the answer is `spent()`.
///
/// A change that carries a proof in the request (`Change::proof`: a code, an assertion or
/// a recovery code presented with a factor change) has that proof checked first, spent
/// and counted exactly like a login's; `check` runs only when it passed. The policy that
/// governs the user is read with the record (or came with `loaded`).
pub async fn attempt<T>(
    app: &App,
    user_id: &str,
    loaded: Option<Loaded>,
    change: Change<'_>,
    proof: Option<&(dyn Proof + Sync)>,
    mut check: impl FnMut(&mut UserMfaRecord, Option<&OrgPolicy>) -> Result<(T, Vec<Write>), Failure>,
    spent: impl Fn() -> Refusal,
) -> Result<T, Refusal> {
    debug_assert!(matches!(change.action, Action::Verify | Action::CompleteSetup) || change.proof.is_some());
    debug_assert_eq!(change.proof, proof.map(|p| p.kind()), "the change names the proof it carries");
    let now = change.now;
    proven(
        app,
        user_id,
        loaded,
        &change,
        |record, policy| {
            record.lock.check(now).inspect_err(|_| crate::metrics::locked_attempt())?;
            // A change the proof passed for but that is refused itself (a factor the user
            // does not have, the last factor of a user MFA is required of) leaves the
            // record as it was read: the proof unspent, no session ended, nothing written.
            let before = change.proof.is_some().then(|| record.clone());
            let proven = match proof {
                Some(proof) => proof.check(app, record, now),
                None => Ok(Vec::new()),
            };
            let passed = proven.and_then(|mut writes| match check(record, policy) {
                Ok((t, more)) => {
                    writes.extend(more);
                    Ok((t, writes))
                }
                Err(e) => {
                    if let Some(before) = &before {
                        *record = before.clone();
                    }
                    Err(e)
                }
            });
            match passed {
                Ok(passed) => {
                    record.lock.pass();
                    Ok(passed)
                }
                Err(Failure::Uncounted(e)) => Err(e),
                Err(Failure::Counted(refusal)) => match record.lock.fail(now) {
                    Some(seconds) => Err(Refusal::TooManyAttempts { seconds: seconds as u64 }),
                    None => Err(refusal),
                },
            }
        },
        spent,
    )
    .await
}
