//! Under `--compat aws`, a warning the first time each route or management
//! endpoint uses one of wsgate's extensions (groups, broadcast, listings),
//! which API Gateway does not have: what works here would fail there.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// The extensions already reported, by extension and by who used them.
#[derive(Debug, Default)]
pub struct ExtensionNotices {
    seen: Mutex<HashMap<&'static str, HashSet<String>>>,
}

impl ExtensionNotices {
    /// Records that `by` (a route key, or a management endpoint) used
    /// `extension`; warns the first time.
    pub fn used(&self, by: &str, extension: &'static str) {
        let mut seen = self.seen.lock().expect("extension notices lock");
        let users = seen.entry(extension).or_default();
        if users.contains(by) {
            return;
        }
        users.insert(by.to_owned());
        tracing::warn!(
            by,
            extension,
            "{extension} is not available on AWS API Gateway"
        );
    }

    /// Whether `by` has used `extension`.
    pub fn reported(&self, by: &str, extension: &str) -> bool {
        let seen = self.seen.lock().expect("extension notices lock");
        seen.get(extension).is_some_and(|users| users.contains(by))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_user_of_each_extension_is_reported_once() {
        let notices = ExtensionNotices::default();
        notices.used("sendmessage", "groups");
        notices.used("sendmessage", "groups");
        assert!(notices.reported("sendmessage", "groups"));
        assert!(!notices.reported("sendmessage", "broadcast"));
        assert!(!notices.reported("$connect", "groups"));
    }
}
