//! The lockout, whole: five failed second-factor checks in a row, of any method, lock
//! verification for 15 minutes; a passed check resets the count; nothing else does
//! (sending a new magic link, a reset). When a failure sets the lock, the user is mailed;
//! so they are when a check spends one of their recovery codes, whatever route spent it.
//! Time is passed in, so tests move the clock.

use crate::App;
use crate::model::{OrgPolicy, UserMfaRecord};
use crate::notify::{self, Notice};
use crate::policy::{Action, Change, ProofKind};
use crate::refusal::Refusal;
use crate::store::{StoreError, Write};
use crate::update;

/// Consecutive failed verifications that lock verification.
pub const MAX_FAILURES: u32 = 5;
/// How long a lock lasts, in seconds.
pub const LOCK_SECONDS: i64 = 15 * 60;

/// Seconds until verification unlocks, if it is locked at `now`.
pub fn remaining(record: &UserMfaRecord, now: i64) -> Option<i64> {
    record.locked_until.filter(|until| *until > now).map(|until| until - now)
}

/// 429 while verification is locked.
pub fn ensure_unlocked(record: &UserMfaRecord, now: i64) -> Result<(), Refusal> {
    match remaining(record, now) {
        Some(seconds) => Err(Refusal::TooManyAttempts { seconds: seconds as u64 }),
        None => Ok(()),
    }
}

/// Counts a failed check; the fifth in a row locks verification for [`LOCK_SECONDS`].
/// Returns the lock's length when this failure set it.
pub fn record_failure(record: &mut UserMfaRecord, now: i64) -> Option<i64> {
    if record.locked_until.is_some_and(|until| until <= now) {
        record.locked_until = None;
    }
    record.failed_attempts += 1;
    if record.failed_attempts >= MAX_FAILURES {
        record.failed_attempts = 0;
        record.locked_until = Some(now + LOCK_SECONDS);
        return Some(LOCK_SECONDS);
    }
    None
}

/// A passed check: the count starts again.
pub fn record_success(record: &mut UserMfaRecord) {
    record.failed_attempts = 0;
    record.locked_until = None;
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
    loaded: Option<update::Loaded>,
    change: Change<'_>,
    proof: Option<&(dyn Proof + Sync)>,
    mut check: impl FnMut(&mut UserMfaRecord, Option<&OrgPolicy>) -> Result<(T, Vec<Write>), Failure>,
    spent: impl Fn() -> Refusal,
) -> Result<T, Refusal> {
    debug_assert!(matches!(change.action, Action::Verify | Action::CompleteSetup) || change.proof.is_some());
    debug_assert_eq!(change.proof, proof.map(|p| p.kind()), "the change names the proof it carries");
    let now = change.now;
    let mut lock_notice: Option<Vec<String>> = None;
    let mut code_notice: Option<Vec<String>> = None;
    let outcome = update::proven(
        app,
        user_id,
        loaded,
        &change,
        |record, policy| {
            lock_notice = None;
            code_notice = None;
            ensure_unlocked(record, now)?;
            let read = record.clone();
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
                    record_success(record);
                    // A recovery code spent, by any route and in any role: the user is told.
                    if change.spent_recovery_code(&read, record) {
                        code_notice = Some(notify::recipients(&read, change.actor.user_email()));
                    }
                    Ok(passed)
                }
                Err(Failure::Uncounted(e)) => Err(e),
                Err(Failure::Counted(refusal)) => {
                    let to = notify::recipients(record, change.actor.user_email());
                    match record_failure(record, now) {
                        Some(seconds) => {
                            lock_notice = Some(to);
                            Err(Refusal::TooManyAttempts { seconds: seconds as u64 })
                        }
                        None => Err(refusal),
                    }
                }
            }
        },
        spent,
    )
    .await;
    // The codes left are counted in the record as written: a change that ended the
    // sessions the remaining codes were issued in left none.
    match outcome {
        Ok((t, left)) => {
            if let Some(to) = code_notice {
                notify::send(app, &to, Notice::BackupCodeUsed { left }).await;
            }
            Ok(t)
        }
        Err(e) => {
            if let (Refusal::TooManyAttempts { .. }, Some(to)) = (&e, lock_notice) {
                notify::send(app, &to, Notice::LockedOut { minutes: LOCK_SECONDS / 60 }).await;
            }
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_and_success_resets() {
        let mut r = UserMfaRecord::new("u1");
        for _ in 0..4 {
            assert_eq!(record_failure(&mut r, 100), None);
        }
        record_success(&mut r);
        for _ in 0..4 {
            assert_eq!(record_failure(&mut r, 100), None);
        }
        assert_eq!(record_failure(&mut r, 100), Some(LOCK_SECONDS));
        assert_eq!(remaining(&r, 100), Some(LOCK_SECONDS));
        assert_eq!(remaining(&r, 100 + LOCK_SECONDS - 1), Some(1));
        assert_eq!(remaining(&r, 100 + LOCK_SECONDS), None);
        // After the window, counting starts again from zero.
        assert_eq!(record_failure(&mut r, 100 + LOCK_SECONDS), None);
        assert_eq!(r.failed_attempts, 1);
        assert_eq!(r.locked_until, None);
    }

    #[test]
    fn a_locked_record_is_refused_with_the_wait() {
        let mut r = UserMfaRecord::new("u1");
        r.locked_until = Some(1000);
        let e = ensure_unlocked(&r, 1000 - 61).unwrap_err();
        assert_eq!(e, Refusal::TooManyAttempts { seconds: 61 });
        assert!(ensure_unlocked(&r, 1000).is_ok());
    }
}
