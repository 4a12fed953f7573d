//! Reading the access log a gateway writes to a file: its lines, once they
//! are there ([`read_lines`]), the CLF time AWS writes ([`clf`]), and a line
//! compared with an expected one whose unknowable parts are left open
//! ([`open_parts`]).

use std::path::Path;

use crate::{WAIT, eventually};

/// Waits until the file at `path` holds at least `count` lines and returns
/// them all.
pub async fn read_lines(path: &Path, count: usize) -> Vec<String> {
    let what = format!("the access log has {count} lines");
    eventually(&what, WAIT, async || {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        if lines.len() >= count {
            Ok(lines)
        } else {
            Err(format!("\n{text}"))
        }
    })
    .await
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `epoch_ms` in the Common Log Format's time, as API Gateway's
/// `$context.requestTime` writes it: `01/Jun/2025:12:30:05 +0000`.
/// Written here from the calendar arithmetic, not with the gateway's code.
pub fn clf(epoch_ms: u64) -> String {
    let seconds = epoch_ms / 1000;
    let (days, second_of_day) = (seconds / 86_400, seconds % 86_400);
    // Howard Hinnant's civil_from_days, for days since 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{day:02}/{}/{year}:{:02}:{:02}:{:02} +0000",
        MONTHS[month as usize - 1],
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// The texts `line` has where `expected` has `{}`, if every other character
/// of the two is the same; each open part is the shortest text up to what
/// follows it in `expected`.
pub fn open_parts(expected: &str, line: &str) -> Option<Vec<String>> {
    let mut pieces = expected.split("{}");
    let mut rest = line.strip_prefix(pieces.next()?)?;
    let mut open = Vec::new();
    for piece in pieces {
        let end = if piece.is_empty() {
            rest.len()
        } else {
            rest.find(piece)?
        };
        open.push(rest[..end].to_owned());
        rest = &rest[end + piece.len()..];
    }
    rest.is_empty().then_some(open)
}

/// Whether `text` looks like a request id: 16 URL-safe base64 characters.
pub fn is_request_id(text: &str) -> bool {
    text.len() == 16
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clf_writes_the_calendar_day_and_time_in_utc() {
        assert_eq!(clf(0), "01/Jan/1970:00:00:00 +0000");
        assert_eq!(clf(1_748_781_005_042), "01/Jun/2025:12:30:05 +0000");
        assert_eq!(clf(951_782_400_000), "29/Feb/2000:00:00:00 +0000");
        assert_eq!(clf(1_735_689_599_999), "31/Dec/2024:23:59:59 +0000");
    }

    #[test]
    fn open_parts_are_what_the_line_has_in_their_place() {
        let parts = open_parts("a [{}] b {} c", "a [x y] b 42 c");
        assert_eq!(parts, Some(vec!["x y".to_owned(), "42".to_owned()]));
        assert_eq!(open_parts("a [{}] b", "a [x] c"), None);
        assert_eq!(open_parts("a {}", "a tail"), Some(vec!["tail".to_owned()]));
        assert_eq!(open_parts("a", "ab"), None);
    }
}
