//! Which other nodes have members in a group, so that a group send goes to
//! their inboxes without asking Redis each time. An entry is loaded from
//! Redis once, then kept current by the presence notices nodes publish on the
//! broadcast channel when they gain their first member of a group or lose
//! their last. Everything is forgotten when a notice may have been missed
//! (this node subscribed again, or another node registered again).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The most groups remembered; past it the cache starts over.
const MAX_GROUPS: usize = 100_000;

/// Group → the other nodes with members in it.
#[derive(Default)]
pub(super) struct FanOut {
    groups: Mutex<HashMap<String, HashSet<String>>>,
    /// Counts notices, so that a load that raced one is not kept.
    generation: AtomicU64,
}

impl FanOut {
    /// The other nodes with members in `group`, if known.
    pub(super) fn nodes(&self, group: &str) -> Option<Vec<String>> {
        let groups = self.groups.lock().expect("fan-out lock");
        groups
            .get(group)
            .map(|nodes| nodes.iter().cloned().collect())
    }

    /// Whether `group` is known.
    pub(super) fn knows(&self, group: &str) -> bool {
        self.groups
            .lock()
            .expect("fan-out lock")
            .contains_key(group)
    }

    /// The generation a load starts at.
    pub(super) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Keeps what Redis said of `group`, unless a notice came since `generation`.
    pub(super) fn learn(&self, group: &str, nodes: HashSet<String>, generation: u64) {
        let mut groups = self.groups.lock().expect("fan-out lock");
        if self.generation() != generation {
            return;
        }
        if groups.len() >= MAX_GROUPS {
            groups.clear();
        }
        groups.insert(group.to_owned(), nodes);
    }

    /// A node gained its first member of `group`, or lost its last.
    pub(super) fn presence(&self, node: &str, group: &str, present: bool) {
        let mut groups = self.groups.lock().expect("fan-out lock");
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Some(nodes) = groups.get_mut(group) {
            match present {
                true => nodes.insert(node.to_owned()),
                false => nodes.remove(node),
            };
        }
    }

    /// Forgets everything: a notice may have been missed.
    pub(super) fn forget_all(&self) {
        let mut groups = self.groups.lock().expect("fan-out lock");
        self.generation.fetch_add(1, Ordering::AcqRel);
        groups.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_keep_entries_current_and_a_load_that_raced_one_is_dropped() {
        let fanout = FanOut::default();
        assert_eq!(fanout.nodes("red"), None);
        let generation = fanout.generation();
        fanout.learn("red", HashSet::from(["b".to_owned()]), generation);
        fanout.presence("c", "red", true);
        fanout.presence("b", "red", false);
        assert_eq!(fanout.nodes("red"), Some(vec!["c".to_owned()]));

        let stale = fanout.generation();
        fanout.presence("d", "blue", true);
        fanout.learn("blue", HashSet::new(), stale);
        assert_eq!(
            fanout.nodes("blue"),
            None,
            "a load older than a notice is not kept"
        );

        fanout.forget_all();
        assert_eq!(fanout.nodes("red"), None);
    }
}
