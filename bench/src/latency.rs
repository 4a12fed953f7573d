//! Latency histograms (nanoseconds) and their one-line summaries.

use std::fmt;
use std::time::Duration;

use hdrhistogram::Histogram;

/// A latency histogram in nanoseconds, 3 significant figures, up to a minute.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds")
}

/// Records one latency, clamped into the histogram's range.
pub fn record(histogram: &mut Histogram<u64>, latency: Duration) {
    let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
    histogram.saturating_record(nanos.max(1));
}

/// The percentiles a result line shows.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    /// Median.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// 99.9th percentile.
    pub p999: Duration,
    /// The largest.
    pub max: Duration,
}

impl Summary {
    /// Summarizes a histogram in nanoseconds.
    pub fn of(histogram: &Histogram<u64>) -> Self {
        let at = |quantile| Duration::from_nanos(histogram.value_at_quantile(quantile));
        Summary {
            p50: at(0.5),
            p99: at(0.99),
            p999: at(0.999),
            max: Duration::from_nanos(histogram.max()),
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "p50 {} p99 {} p99.9 {} max {}",
            Short(self.p50),
            Short(self.p99),
            Short(self.p999),
            Short(self.max)
        )
    }
}

/// A duration printed with three significant digits in a fitting unit.
#[derive(Clone, Copy, Debug)]
pub struct Short(pub Duration);

impl fmt::Display for Short {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = self.0.as_nanos() as f64;
        let (value, unit) = match nanos {
            n if n < 1e3 => (n, "ns"),
            n if n < 1e6 => (n / 1e3, "µs"),
            n if n < 1e9 => (n / 1e6, "ms"),
            n => (n / 1e9, "s"),
        };
        let decimals = match value {
            v if v < 10.0 => 2,
            v if v < 100.0 => 1,
            _ => 0,
        };
        write!(f, "{value:.decimals$}{unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_in_a_fitting_unit() {
        assert_eq!(Short(Duration::from_nanos(750)).to_string(), "750ns");
        assert_eq!(Short(Duration::from_nanos(4_321)).to_string(), "4.32µs");
        assert_eq!(Short(Duration::from_micros(45_600)).to_string(), "45.6ms");
        assert_eq!(Short(Duration::from_millis(2_500)).to_string(), "2.50s");
    }

    #[test]
    fn summaries_read_percentiles() {
        let mut h = histogram();
        for micros in 1..=1000 {
            record(&mut h, Duration::from_micros(micros));
        }
        let summary = Summary::of(&h);
        assert!((499..=501).contains(&summary.p50.as_micros()));
        assert!(summary.max >= Duration::from_micros(999));
    }
}
