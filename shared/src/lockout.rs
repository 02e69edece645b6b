//! The soft lock, a value on the user's record: five failed second-factor checks in a
//! row, of any method, lock verification for 15 minutes; a passed check resets the count;
//! nothing else does (sending a new magic link, a reset). Time is passed in, so tests move
//! the clock. Its orchestration (the lock checked, a failure or a pass counted in the
//! change's own write, the user mailed when a failure sets it or a check spends a recovery
//! code) is the writer's: `update::attempt`.

use serde::{Deserialize, Serialize};

use crate::refusal::Refusal;

/// Consecutive failed verifications that lock verification.
pub const MAX_FAILURES: u32 = 5;
/// How long a lock lasts, in seconds.
pub const LOCK_SECONDS: i64 = 15 * 60;

/// The failed checks in a row, and the end of the lock they set. Stored on the record as
/// `failedAttempts` and `lockedUntil`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SoftLock {
    #[serde(default)]
    failed_attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    locked_until: Option<i64>,
}

impl SoftLock {
    /// As stored.
    pub fn stored(failed_attempts: u32, locked_until: Option<i64>) -> SoftLock {
        SoftLock { failed_attempts, locked_until }
    }

    /// `429` with the wait while verification is locked at `now`.
    pub fn check(&self, now: i64) -> Result<(), Refusal> {
        match self.remaining(now) {
            Some(seconds) => Err(Refusal::TooManyAttempts { seconds: seconds as u64 }),
            None => Ok(()),
        }
    }

    /// Counts a failed check at `now`; the fifth in a row locks verification for
    /// [`LOCK_SECONDS`]. Returns the lock's length when this failure set it.
    pub fn fail(&mut self, now: i64) -> Option<i64> {
        if self.locked_until.is_some_and(|until| until <= now) {
            self.locked_until = None;
        }
        self.failed_attempts += 1;
        if self.failed_attempts >= MAX_FAILURES {
            self.failed_attempts = 0;
            self.locked_until = Some(now + LOCK_SECONDS);
            return Some(LOCK_SECONDS);
        }
        None
    }

    /// A passed check: the count starts again.
    pub fn pass(&mut self) {
        *self = SoftLock::default();
    }

    /// Seconds until verification unlocks, if it is locked at `now`.
    pub fn remaining(&self, now: i64) -> Option<i64> {
        self.locked_until.filter(|until| *until > now).map(|until| until - now)
    }

    /// Failed checks since the last pass (or the last lock).
    pub fn failures(&self) -> u32 {
        self.failed_attempts
    }

    /// When the last lock ends (or ended).
    pub fn until(&self) -> Option<i64> {
        self.locked_until
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_and_success_resets() {
        let mut lock = SoftLock::default();
        for _ in 0..4 {
            assert_eq!(lock.fail(100), None);
        }
        lock.pass();
        for _ in 0..4 {
            assert_eq!(lock.fail(100), None);
        }
        assert_eq!(lock.fail(100), Some(LOCK_SECONDS));
        assert_eq!(lock.remaining(100), Some(LOCK_SECONDS));
        assert_eq!(lock.remaining(100 + LOCK_SECONDS - 1), Some(1));
        assert_eq!(lock.remaining(100 + LOCK_SECONDS), None);
        // After the window, counting starts again from zero.
        assert_eq!(lock.fail(100 + LOCK_SECONDS), None);
        assert_eq!(lock.failures(), 1);
        assert_eq!(lock.until(), None);
    }

    #[test]
    fn a_locked_record_is_refused_with_the_wait() {
        let lock = SoftLock::stored(0, Some(1000));
        let e = lock.check(1000 - 61).unwrap_err();
        assert_eq!(e, Refusal::TooManyAttempts { seconds: 61 });
        assert!(lock.check(1000).is_ok());
    }

    #[test]
    fn it_is_stored_as_two_fields_of_the_record() {
        let mut lock = SoftLock::default();
        assert_eq!(serde_json::to_value(lock).unwrap(), serde_json::json!({"failedAttempts": 0}));
        lock.fail(7);
        lock.locked_until = Some(9);
        assert_eq!(serde_json::to_value(lock).unwrap(), serde_json::json!({"failedAttempts": 1, "lockedUntil": 9}));
    }
}
