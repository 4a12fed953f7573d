//! Waiting in tests: the bounds every wait has ([`WAIT`], [`STARTUP`]) and
//! [`eventually`], the one way a test waits for something to happen.

use std::time::Duration;

/// How long any single wait in a test may take.
pub const WAIT: Duration = Duration::from_secs(10);

/// How long a gateway may take to start: the first start with a Python or
/// JavaScript component compiles tens of megabytes of WebAssembly (later
/// starts find it in the compile cache).
pub const STARTUP: Duration = Duration::from_secs(180);

/// How often [`eventually`] looks again.
const POLL: Duration = Duration::from_millis(20);

/// Polls `probe` until it answers `Ok`, for at most `deadline`; panics naming
/// `what` and the last thing the probe saw. The one way a test waits for
/// something to happen: never a fixed sleep.
pub async fn eventually<T, E, F>(what: &str, deadline: Duration, mut probe: F) -> T
where
    E: std::fmt::Display,
    F: AsyncFnMut() -> Result<T, E>,
{
    let patience = Patience::new(what, deadline);
    loop {
        match probe().await {
            Ok(value) => return value,
            Err(last) => patience.check(last),
        }
        tokio::time::sleep(POLL).await;
    }
}

/// [`eventually`] with a probe whose futures own what they use: a spawned
/// task can wait on it (an async closure that borrows is not `Send`).
pub async fn eventually_owned<T, E, F, Fut>(what: &str, deadline: Duration, mut probe: F) -> T
where
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let patience = Patience::new(what, deadline);
    loop {
        match probe().await {
            Ok(value) => return value,
            Err(last) => patience.check(last),
        }
        tokio::time::sleep(POLL).await;
    }
}

/// [`eventually`] for code that cannot await: starting and stopping
/// processes (the gateway, `redis-server`) from synchronous tests.
pub fn eventually_blocking<T, E, F>(what: &str, deadline: Duration, mut probe: F) -> T
where
    E: std::fmt::Display,
    F: FnMut() -> Result<T, E>,
{
    let patience = Patience::new(what, deadline);
    loop {
        match probe() {
            Ok(value) => return value,
            Err(last) => patience.check(last),
        }
        std::thread::sleep(POLL);
    }
}

/// Lets `period` pass on purpose, so that a test can then assert that
/// something did *not* happen meanwhile (a second `$disconnect`, a reload
/// without a signal). Never a way to wait for something to happen: that is
/// [`eventually`]; for a client, [`Client::expect_silence`](crate::Client::expect_silence) says more.
pub async fn quiet(period: Duration) {
    tokio::time::sleep(period).await;
}

/// The deadline of one [`eventually`] wait.
struct Patience<'a> {
    what: &'a str,
    deadline: Duration,
    until: std::time::Instant,
}

impl<'a> Patience<'a> {
    fn new(what: &'a str, deadline: Duration) -> Self {
        Patience {
            what,
            deadline,
            until: std::time::Instant::now() + deadline,
        }
    }

    /// Panics, with what the probe saw `last`, once the deadline has passed.
    fn check(&self, last: impl std::fmt::Display) {
        assert!(
            std::time::Instant::now() < self.until,
            "{}: not so within {:?}; last seen: {last}",
            self.what,
            self.deadline
        );
    }
}
