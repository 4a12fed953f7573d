//! The clock: the gateway keeps times in milliseconds since the Unix epoch;
//! the management API shows them in ISO-8601 and the access log in the
//! Common Log Format's time, like AWS.
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

/// Appends `epoch_ms` in the Common Log Format's time, as API Gateway's
/// `$context.requestTime` writes it: `01/Jun/2025:12:30:05 +0000` (UTC, whole
/// seconds). Without allocating: a second is formatted once per thread (the
/// access log writes this on every line).
pub fn write_clf(epoch_ms: u64, out: &mut Vec<u8>) {
    thread_local! {
        /// The second last formatted, and its text.
        static SECOND: std::cell::RefCell<(u64, String)> = const {
            std::cell::RefCell::new((u64::MAX, String::new()))
        };
    }
    let second = epoch_ms / 1000;
    SECOND.with_borrow_mut(|(cached, text)| {
        if *cached != second {
            let format = format_description!(
                "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
            );
            *text = OffsetDateTime::from_unix_timestamp(second as i64)
                .ok()
                .and_then(|at| at.format(format).ok())
                .unwrap_or_else(|| "01/Jan/1970:00:00:00 +0000".to_owned());
            *cached = second;
        }
        out.extend_from_slice(text.as_bytes());
    });
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
    fn clf_is_the_day_month_year_and_time_in_utc() {
        let mut out = Vec::new();
        for (at, clf) in [
            (0, "01/Jan/1970:00:00:00 +0000"),
            (999, "01/Jan/1970:00:00:00 +0000"),
            (1_748_781_005_042, "01/Jun/2025:12:30:05 +0000"),
            (1_748_781_005_907, "01/Jun/2025:12:30:05 +0000"),
            (1_748_781_006_000, "01/Jun/2025:12:30:06 +0000"),
            (951_825_599_000, "29/Feb/2000:11:59:59 +0000"),
        ] {
            out.clear();
            write_clf(at, &mut out);
            assert_eq!(String::from_utf8(out.clone()).unwrap(), clf, "{at}");
        }
    }
}
