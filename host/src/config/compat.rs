//! `--compat aws`: API Gateway's WebSocket APIs exactly, for teams that
//! develop locally what they deploy there (docs/aws-compatibility.md). Its
//! limits are API Gateway's fixed quotas, so an option that sets one of them
//! to anything else is refused at start-up rather than silently overridden.

use std::time::Duration;

use anyhow::bail;
use serde::Deserialize;

use super::ranges::option;
use crate::connection::ConnectionLimits;

/// Whose behaviour the gateway follows where wsgate and API Gateway differ.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Compat {
    /// wsgate's: API Gateway's semantics without its limits.
    #[default]
    Off,
    /// API Gateway's, limits included.
    Aws,
}

/// API Gateway's fixed quotas.
const AWS_FRAME: usize = 32 * 1024;
const AWS_MESSAGE: usize = 128 * 1024;
const AWS_IDLE: Duration = Duration::from_secs(10 * 60);
const AWS_DURATION: Duration = Duration::from_secs(2 * 60 * 60);

/// The options that set one of API Gateway's quotas, as a flag, variable or
/// file key set them (none: left unset).
pub struct QuotaOptions {
    /// `max_frame_size`.
    pub max_frame_size: Option<usize>,
    /// `max_message_size`.
    pub max_message_size: Option<usize>,
    /// `idle_timeout`.
    pub idle_timeout: Option<Duration>,
    /// `max_connection_duration`.
    pub max_connection_duration: Option<Duration>,
}

/// Applies `compat` to the resolved `limits`; `set` says which quotas an
/// option set, to refuse one that contradicts API Gateway's.
pub fn apply(
    compat: Compat,
    set: QuotaOptions,
    limits: &mut ConnectionLimits,
) -> anyhow::Result<()> {
    if compat == Compat::Off {
        return Ok(());
    }
    macro_rules! fixed {
        ($field:ident, $value:expr, $shown:expr) => {
            if let Some(set) = set.$field
                && set != $value
            {
                bail!(
                    "--compat aws fixes {} to {} (API Gateway's quota), not {set:?}: leave it unset, or leave out --compat",
                    option(stringify!($field)),
                    $shown
                );
            }
        };
    }
    fixed!(max_frame_size, AWS_FRAME, "32768 bytes");
    fixed!(max_message_size, AWS_MESSAGE, "131072 bytes");
    fixed!(idle_timeout, AWS_IDLE, "10m");
    fixed!(max_connection_duration, AWS_DURATION, "2h");
    limits.max_frame_size = AWS_FRAME;
    limits.max_message_size = AWS_MESSAGE;
    limits.idle_timeout = Some(AWS_IDLE);
    limits.max_duration = Some(AWS_DURATION);
    limits.binary_messages = false;
    limits.sends_during_connect = false;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unset() -> QuotaOptions {
        QuotaOptions {
            max_frame_size: None,
            max_message_size: None,
            idle_timeout: None,
            max_connection_duration: None,
        }
    }

    #[test]
    fn aws_sets_api_gateways_quotas_and_behaviours_and_off_changes_nothing() {
        let mut limits = ConnectionLimits::default();
        apply(Compat::Off, unset(), &mut limits).unwrap();
        assert_eq!(limits.max_duration, None);
        assert!(limits.binary_messages && limits.sends_during_connect);

        apply(Compat::Aws, unset(), &mut limits).unwrap();
        assert_eq!(limits.max_frame_size, 32 * 1024);
        assert_eq!(limits.max_message_size, 128 * 1024);
        assert_eq!(limits.idle_timeout, Some(Duration::from_secs(600)));
        assert_eq!(limits.max_duration, Some(Duration::from_secs(7200)));
        assert!(!limits.binary_messages && !limits.sends_during_connect);
    }

    #[test]
    fn a_quota_set_to_api_gateways_value_is_accepted_and_another_refused() {
        let mut limits = ConnectionLimits::default();
        let agreeing = QuotaOptions {
            max_connection_duration: Some(AWS_DURATION),
            ..unset()
        };
        assert!(apply(Compat::Aws, agreeing, &mut limits).is_ok());
        let shorter = QuotaOptions {
            idle_timeout: Some(Duration::from_secs(60)),
            ..unset()
        };
        let error = apply(Compat::Aws, shorter, &mut limits).unwrap_err();
        assert!(error.to_string().contains("idle_timeout"), "{error}");
    }
}
