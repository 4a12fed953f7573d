//! Rate limits as token buckets: per connection, per route and for new
//! connections. Each is a [`TokenBucket`]; what happens when one runs dry is
//! decided where it is checked.

use std::num::NonZeroU32;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// A token bucket: a sustained rate and a burst.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Tokens per second.
    pub per_second: NonZeroU32,
    /// Bucket size.
    pub burst: NonZeroU32,
}

impl Rate {
    /// A rate, or none when `per_second` is 0; the burst defaults to the rate.
    pub fn new(per_second: u32, burst: Option<u32>) -> Option<Rate> {
        let per_second = NonZeroU32::new(per_second)?;
        let burst = burst.and_then(NonZeroU32::new).unwrap_or(per_second);
        Some(Rate { per_second, burst })
    }
}

/// A token bucket refilled at a steady rate, up to a burst.
#[derive(Debug)]
pub struct TokenBucket(DefaultDirectRateLimiter);

impl TokenBucket {
    /// A full bucket for `rate`.
    pub fn new(rate: Rate) -> Self {
        let quota = Quota::per_second(rate.per_second).allow_burst(rate.burst);
        TokenBucket(RateLimiter::direct(quota))
    }

    /// Takes one token; false when the bucket is empty.
    pub fn allow(&self) -> bool {
        self.0.check().is_ok()
    }
}

/// Counts consecutive rate-limited messages, to tell a burst that ran over from
/// sustained abuse.
#[derive(Debug)]
pub struct Strikes {
    count: u32,
    limit: u32,
}

impl Strikes {
    /// Abuse is `limit` rate-limited messages in a row.
    pub fn new(limit: u32) -> Self {
        Strikes { count: 0, limit }
    }

    /// Records a message that was let through.
    pub fn clear(&mut self) {
        self.count = 0;
    }

    /// Records a rate-limited message; true once the limit is reached.
    pub fn strike(&mut self) -> bool {
        self.count += 1;
        self.count >= self.limit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_burst_then_refuses() {
        let bucket = TokenBucket::new(Rate::new(1, Some(3)).unwrap());
        assert_eq!((0..5).filter(|_| bucket.allow()).count(), 3);
    }

    #[test]
    fn strikes_count_only_consecutive_refusals() {
        let mut strikes = Strikes::new(3);
        assert!(!strikes.strike() && !strikes.strike());
        strikes.clear();
        assert!(!strikes.strike() && !strikes.strike() && strikes.strike());
    }
}
