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
}
