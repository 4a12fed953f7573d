//! The clock: the gateway keeps times in milliseconds since the Unix epoch;
//! the management API and the access log show them in ISO-8601, like AWS.
//! The bottom layer: it uses nothing else in the crate.

use time::OffsetDateTime;
use time::macros::format_description;

/// `epoch_ms` as ISO-8601 in UTC with milliseconds: `2025-06-01T12:30:05.042Z`.
pub fn iso8601(epoch_ms: u64) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(epoch_ms) * 1_000_000)
        .ok()
        .and_then(|at| at.format(format).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00.000Z".to_owned())
}

/// Appends `epoch_ms` as [`iso8601`] does, without allocating: the
/// `YYYY-MM-DDTHH:MM:SS.` part is formatted once per second per thread (the
/// access log writes this on every line).
pub fn write_iso8601(epoch_ms: u64, out: &mut Vec<u8>) {
    thread_local! {
        /// The second last formatted, and its text up to the milliseconds.
        static SECOND: std::cell::RefCell<(u64, String)> = const {
            std::cell::RefCell::new((u64::MAX, String::new()))
        };
    }
    let (second, millis) = (epoch_ms / 1000, epoch_ms % 1000);
    SECOND.with_borrow_mut(|(cached, prefix)| {
        if *cached != second {
            let full = iso8601(second * 1000);
            // Everything before `000Z`.
            *prefix = full[..full.len() - 4].to_owned();
            *cached = second;
        }
        out.extend_from_slice(prefix.as_bytes());
    });
    let digits = [millis / 100, millis / 10 % 10, millis % 10].map(|digit| b'0' + digit as u8);
    out.extend_from_slice(&digits);
    out.push(b'Z');
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_with_milliseconds() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_748_781_005_042), "2025-06-01T12:30:05.042Z");
    }

    #[test]
    fn writing_in_place_matches_formatting() {
        let mut out = Vec::new();
        for at in [
            0,
            999,
            1_000,
            1_748_781_005_042,
            1_748_781_005_907,
            1_748_781_006_000,
        ] {
            out.clear();
            write_iso8601(at, &mut out);
            assert_eq!(String::from_utf8(out.clone()).unwrap(), iso8601(at), "{at}");
        }
    }
}
