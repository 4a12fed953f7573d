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
    /// `extension`; warns the first time, and says whether it did.
    pub fn used(&self, by: &str, extension: &'static str) -> bool {
        let mut seen = self.seen.lock().expect("extension notices lock");
        let users = seen.entry(extension).or_default();
        if users.contains(by) {
            return false;
        }
        users.insert(by.to_owned());
        tracing::warn!(
            by,
            extension,
            "{extension} is not available on AWS API Gateway"
        );
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_user_of_each_extension_is_reported_once() {
        let notices = ExtensionNotices::default();
        assert!(notices.used("sendmessage", "groups"));
        assert!(!notices.used("sendmessage", "groups"));
        assert!(notices.used("sendmessage", "broadcast"));
        assert!(notices.used("$connect", "groups"));
    }
}
