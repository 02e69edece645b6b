//! Time, injectable: the system clock in production, a settable one in tests (lockout
//! windows and link lifetimes are tested without sleeping).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Clone, Debug, Default)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock that stands at `now` until moved with [`Clock::set`] or [`Clock::advance`].
    pub fn fixed(now: i64) -> Self {
        Self(Some(Arc::new(AtomicI64::new(now))))
    }

    /// Unix seconds.
    pub fn now(&self) -> i64 {
        match &self.0 {
            Some(t) => t.load(Ordering::SeqCst),
            None => SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0),
        }
    }

    pub fn set(&self, now: i64) {
        if let Some(t) = &self.0 {
            t.store(now, Ordering::SeqCst);
        }
    }

    pub fn advance(&self, seconds: i64) {
        if let Some(t) = &self.0 {
            t.fetch_add(seconds, Ordering::SeqCst);
        }
    }
}
