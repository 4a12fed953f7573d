//! The range every numeric option must lie in. A value outside it is refused
//! at start-up with a message naming the option and the range, instead of
//! wrapping (a shift overflowing), being clamped, or panicking later (a timer
//! deadline past what an `Instant` can hold).

use std::fmt::{Debug, Display};
use std::ops::RangeInclusive;
use std::time::Duration;

/// The longest duration any option accepts: a year, far past any sensible
/// timeout and far below what an `Instant` deadline can hold.
pub const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// The shortest duration an option that cannot be off accepts.
pub const MIN_DURATION: Duration = Duration::from_millis(1);

/// A duration that may be 0 (usually "off") up to [`MAX_DURATION`].
pub const ANY_DURATION: RangeInclusive<Duration> = Duration::ZERO..=MAX_DURATION;

/// A duration from [`MIN_DURATION`] to [`MAX_DURATION`].
pub const SOME_DURATION: RangeInclusive<Duration> = MIN_DURATION..=MAX_DURATION;

/// `value` if it lies in `range`; else an error naming `what` and the range.
pub fn within<T: PartialOrd + Debug>(
    what: impl Display,
    value: T,
    range: RangeInclusive<T>,
) -> anyhow::Result<T> {
    if range.contains(&value) {
        return Ok(value);
    }
    anyhow::bail!("{what} must be in {range:?}, not {value:?}")
}

/// A gateway option by all its names: `key (--flag, WSGATE_VARIABLE)`.
pub fn option(key: &str) -> String {
    format!(
        "{key} (--{}, WSGATE_{})",
        key.replace('_', "-"),
        key.to_uppercase()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_out_of_range_value_names_the_option_and_the_range() {
        assert_eq!(
            within(option("handler_memory_mb"), 64, 1..=4096).unwrap(),
            64
        );
        let error = within(
            option("handler_memory_mb"),
            17_592_186_044_480_u64,
            1..=4096,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            error,
            "handler_memory_mb (--handler-memory-mb, WSGATE_HANDLER_MEMORY_MB) must be in 1..=4096, not 17592186044480"
        );
        let error = within("`timeout`", Duration::ZERO, SOME_DURATION)
            .unwrap_err()
            .to_string();
        assert!(error.contains("`timeout` must be in 1ms..="), "{error}");
    }
}
