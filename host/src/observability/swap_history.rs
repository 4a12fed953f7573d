//! The route table's recent history: the last [`KEPT`] bindings, swaps and
//! unbindings of routes, for `GET /@routes` and the console. The access log
//! has them all; this keeps the recent ones at hand.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

use super::access_log::SwapRecord;

/// How many changes are kept.
pub const KEPT: usize = 100;

/// One change of a route's component.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Swap {
    /// The route.
    pub route_key: String,
    /// `bound`, `swapped` or `unbound`.
    pub change: &'static str,
    /// The component file now serving the route (none once unbound).
    pub component: Option<String>,
    /// Its version: the hex SHA-256 of the file.
    pub version: Option<String>,
    /// The route's generation (none once unbound).
    pub generation: Option<u64>,
    /// When (ms since the Unix epoch).
    pub time: u64,
}

/// The last [`KEPT`] changes, oldest first.
#[derive(Debug, Default)]
pub struct SwapHistory {
    swaps: Mutex<VecDeque<Swap>>,
}

impl SwapHistory {
    /// Remembers a change, forgetting the oldest beyond [`KEPT`].
    pub fn record(&self, record: &SwapRecord<'_>) {
        let swap = Swap {
            route_key: record.route_key.to_owned(),
            change: record.change,
            component: record.component.map(str::to_owned),
            version: record.version.map(str::to_owned),
            generation: record.generation,
            time: record.time,
        };
        let mut swaps = self
            .swaps
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if swaps.len() == KEPT {
            swaps.pop_front();
        }
        swaps.push_back(swap);
    }

    /// The changes kept, oldest first.
    pub fn recent(&self) -> Vec<Swap> {
        let swaps = self
            .swaps
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        swaps.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_changes_in_order() {
        let history = SwapHistory::default();
        for time in 0..KEPT as u64 + 3 {
            history.record(&SwapRecord {
                route_key: "r",
                change: "swapped",
                component: Some("r.wasm"),
                version: Some("abc"),
                generation: Some(time + 1),
                time,
            });
        }
        let recent = history.recent();
        assert_eq!(recent.len(), KEPT);
        assert_eq!(recent[0].time, 3);
        assert_eq!(recent[KEPT - 1].generation, Some(KEPT as u64 + 3));
    }
}
