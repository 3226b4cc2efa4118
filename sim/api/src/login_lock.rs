//! EMQX's login lock (`emqx_dashboard_login_lock`, EMQX 5.9+): a wrong password for an
//! existing dashboard user counts as a failed login; the failure that makes
//! `max_attempts` within `interval` locks the username for `lock_duration`. A locked username
//! is answered 401 `LOGIN_LOCKED` "Login locked", even with the right password; a successful
//! login clears its failures. Unknown usernames are never counted (nothing to guess there).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// EMQX's `dashboard.unsuccessful_login_*` settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginLockConfig {
    /// `unsuccessful_login_max_attempts` (5).
    pub max_attempts: u32,
    /// `unsuccessful_login_interval` (300 s): how far back failures count.
    pub interval: Duration,
    /// `unsuccessful_login_lock_duration` (600 s).
    pub lock_duration: Duration,
}

impl Default for LoginLockConfig {
    fn default() -> Self {
        LoginLockConfig {
            max_attempts: 5,
            interval: Duration::from_secs(300),
            lock_duration: Duration::from_secs(600),
        }
    }
}

/// One username's recent failures and lock.
#[derive(Default)]
struct Record {
    failures: VecDeque<Instant>,
    locked_until: Option<Instant>,
}

/// The failures and locks of every username, in memory (EMQX keeps them in mnesia).
pub(crate) struct LoginLock {
    config: LoginLockConfig,
    users: Mutex<HashMap<String, Record>>,
}

impl LoginLock {
    /// No failures, no locks.
    pub fn new(config: LoginLockConfig) -> LoginLock {
        LoginLock {
            config,
            users: Mutex::new(HashMap::new()),
        }
    }

    fn users(&self) -> std::sync::MutexGuard<'_, HashMap<String, Record>> {
        self.users.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `username` is locked at `now`.
    pub fn is_locked(&self, username: &str, now: Instant) -> bool {
        let mut users = self.users();
        let Some(record) = users.get_mut(username) else {
            return false;
        };
        match record.locked_until {
            Some(until) if until > now => true,
            Some(_) => {
                record.locked_until = None;
                false
            }
            None => false,
        }
    }

    /// Counts a wrong password for `username` at `now`; the failure that reaches
    /// `max_attempts` within `interval` locks the username.
    pub fn failed(&self, username: &str, now: Instant) {
        let LoginLockConfig {
            max_attempts,
            interval,
            lock_duration,
        } = self.config;
        let mut users = self.users();
        let record = users.entry(username.to_owned()).or_default();
        while record
            .failures
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > interval)
        {
            record.failures.pop_front();
        }
        record.failures.push_back(now);
        if record.failures.len() >= max_attempts.max(1) as usize {
            record.locked_until = Some(now + lock_duration);
            record.failures.clear();
        }
    }

    /// Clears `username`'s failures after a successful login.
    pub fn reset(&self, username: &str) {
        self.users().remove(username);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock() -> LoginLock {
        LoginLock::new(LoginLockConfig::default())
    }

    #[test]
    fn fifth_failure_within_the_interval_locks() {
        let l = lock();
        let t0 = Instant::now();
        for i in 0..4 {
            l.failed("admin", t0 + Duration::from_secs(i));
            assert!(!l.is_locked("admin", t0 + Duration::from_secs(i)));
        }
        l.failed("admin", t0 + Duration::from_secs(4));
        assert!(l.is_locked("admin", t0 + Duration::from_secs(5)));
        assert!(!l.is_locked("bob", t0 + Duration::from_secs(5)));
        assert!(l.is_locked("admin", t0 + Duration::from_secs(603)));
        assert!(!l.is_locked("admin", t0 + Duration::from_secs(605)));
    }

    #[test]
    fn old_failures_do_not_count() {
        let l = lock();
        let t0 = Instant::now();
        for i in 0..4 {
            l.failed("admin", t0 + Duration::from_secs(i));
        }
        let later = t0 + Duration::from_secs(400);
        l.failed("admin", later);
        assert!(!l.is_locked("admin", later));
    }

    #[test]
    fn success_clears_the_failures() {
        let l = lock();
        let t0 = Instant::now();
        for i in 0..4 {
            l.failed("admin", t0 + Duration::from_secs(i));
        }
        l.reset("admin");
        l.failed("admin", t0 + Duration::from_secs(5));
        assert!(!l.is_locked("admin", t0 + Duration::from_secs(5)));
    }
}
