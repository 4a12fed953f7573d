//! The clocks that end a connection: keepalive pings (and the pong deadline),
//! the idle timeout and the maximum duration. One reusable timer sleeps until
//! whichever comes first.
//!
//! Traffic does not move the timer: when the idle check comes due it looks at
//! the connection's last traffic and, if there was some, sleeps again for what
//! is left. So a busy connection neither reads the clock nor re-arms the timer
//! per message.

use std::pin::Pin;
use std::time::Duration;

use tokio::time::{Instant, Sleep, sleep_until};

use crate::clock::now_ms;
use crate::connection::{CloseInitiator, Connection, ConnectionLimits, GOING_AWAY};

/// What a timer asks of the connection.
#[derive(Debug, PartialEq, Eq)]
pub enum Alarm {
    /// Send a keepalive ping.
    Ping,
    /// Close with 1001 and this reason.
    Close(&'static str, CloseInitiator),
}

/// A connection's timers.
#[derive(Debug)]
pub struct Timers {
    ping_interval: Option<Duration>,
    ping_timeout: Duration,
    idle_timeout: Option<Duration>,
    /// When to check whether the connection has been idle for the timeout.
    idle_check: Option<Instant>,
    next_ping: Option<Instant>,
    pong_deadline: Option<Instant>,
    end_of_life: Option<Instant>,
    sleep: Pin<Box<Sleep>>,
}

impl Timers {
    /// Timers for a connection accepted now.
    pub fn new(limits: &ConnectionLimits) -> Self {
        let now = Instant::now();
        Timers {
            ping_interval: limits.ping_interval,
            ping_timeout: limits.ping_timeout,
            idle_timeout: limits.idle_timeout,
            idle_check: limits.idle_timeout.map(|timeout| now + timeout),
            next_ping: limits.ping_interval.map(|interval| now + interval),
            pong_deadline: None,
            end_of_life: limits.max_duration.map(|duration| now + duration),
            sleep: Box::pin(sleep_until(now)),
        }
    }

    /// The client was heard from: it is alive, whatever pong is outstanding.
    pub fn heard_from_client(&mut self) {
        self.pong_deadline = None;
    }

    /// The close code timers use.
    pub fn close_code() -> u16 {
        GOING_AWAY.0
    }

    /// Waits for the next alarm; never resolves if every timer is off.
    pub async fn next(&mut self, connection: &Connection) -> Alarm {
        loop {
            let earliest = [
                self.next_ping,
                self.pong_deadline,
                self.end_of_life,
                self.idle_check,
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(earliest) = earliest else {
                return std::future::pending().await;
            };
            if self.sleep.deadline() != earliest {
                self.sleep.as_mut().reset(earliest);
            }
            self.sleep.as_mut().await;

            let now = Instant::now();
            if self.end_of_life.is_some_and(|at| at <= now) {
                return Alarm::Close(
                    "maximum connection duration reached",
                    CloseInitiator::MaxDuration,
                );
            }
            if self.pong_deadline.is_some_and(|at| at <= now) {
                return Alarm::Close("ping timeout", CloseInitiator::PingTimeout);
            }
            if self.idle_check.is_some_and(|at| at <= now) {
                match self.idle_left(connection) {
                    Some(left) if left.is_zero() => {
                        return Alarm::Close("idle timeout", CloseInitiator::IdleTimeout);
                    }
                    left => self.idle_check = left.map(|left| now + left),
                }
            }
            if let (Some(at), Some(interval)) = (self.next_ping, self.ping_interval)
                && at <= now
            {
                self.next_ping = Some(now + interval);
                self.pong_deadline.get_or_insert(now + self.ping_timeout);
                return Alarm::Ping;
            }
        }
    }

    /// How long until the connection counts as idle, given its last traffic;
    /// zero once it is.
    fn idle_left(&self, connection: &Connection) -> Option<Duration> {
        let timeout = self.idle_timeout?;
        let quiet_for =
            Duration::from_millis(now_ms().saturating_sub(connection.last_traffic_at()));
        Some(timeout.saturating_sub(quiet_for))
    }
}
