//! Configuration: command-line flags, `WSGATE_*` environment variables and
//! `wsgate.toml`, resolved once at start-up into [`Settings`].
//!
//! A flag beats its environment variable, which beats the file, which beats the
//! built-in default. The file is `--config FILE` if given, otherwise
//! `wsgate.toml` in the plugins directory if there is one.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::access_log::{AccessLogFormat, AccessLogTarget};
use crate::management::Credentials;
use crate::plugins::Sandbox;
use crate::router::RouteSelection;

/// The client listener's default address.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:8080";
/// The management listener's default address.
pub const DEFAULT_API_LISTEN: &str = "127.0.0.1:8081";

/// Gateway options; each is a flag, a `WSGATE_*` variable and a `wsgate.toml` key.
#[derive(Clone, Debug, Default, clap::Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// Directory of route handler components (`$connect.wasm`, `sendmessage.wasm`, …).
    #[arg(long, env = "WSGATE_PLUGINS", value_name = "DIR")]
    pub plugins: Option<PathBuf>,

    /// Address for WebSocket clients (and `GET /health`) [default: 0.0.0.0:8080].
    #[arg(long, env = "WSGATE_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,

    /// Address of the management listener [default: 127.0.0.1:8081].
    #[arg(long, env = "WSGATE_API_LISTEN", value_name = "ADDR")]
    pub api_listen: Option<SocketAddr>,

    /// JSON field of a text message that names its route [default: $request.body.action].
    #[arg(long, env = "WSGATE_ROUTE_SELECTION_EXPRESSION", value_name = "EXPR")]
    pub route_selection_expression: Option<String>,

    /// Stage name reported in every event's request context [default: none].
    #[arg(long, env = "WSGATE_STAGE")]
    pub stage: Option<String>,

    /// CPU time one handler call may use, in milliseconds [default: 1000].
    #[arg(long, env = "WSGATE_HANDLER_TIMEOUT_MS", value_name = "MS")]
    pub handler_timeout_ms: Option<u64>,

    /// Memory one handler instance may use, in MiB [default: 64].
    #[arg(long, env = "WSGATE_HANDLER_MEMORY_MB", value_name = "MIB")]
    pub handler_memory_mb: Option<u64>,

    /// Largest message accepted from or sent to a client, in bytes [default: 131072].
    #[arg(long, env = "WSGATE_MAX_MESSAGE_SIZE", value_name = "BYTES")]
    pub max_message_size: Option<usize>,

    /// Messages queued for one slow client before sends to it are throttled [default: 1024].
    #[arg(long, env = "WSGATE_OUTBOUND_QUEUE", value_name = "MESSAGES")]
    pub outbound_queue: Option<usize>,

    /// Ready instances kept per component [default: 16].
    #[arg(long, env = "WSGATE_INSTANCES_PER_PLUGIN", value_name = "N")]
    pub instances_per_plugin: Option<usize>,

    /// Bearer token the management API accepts (repeat, or comma-separate, for several).
    #[arg(
        long,
        env = "WSGATE_API_TOKEN",
        value_name = "TOKEN",
        value_delimiter = ','
    )]
    pub api_token: Option<Vec<String>>,

    /// AWS SigV4 key the management API accepts, as ACCESS_KEY_ID:SECRET_ACCESS_KEY
    /// (repeat, or comma-separate, for several).
    #[arg(
        long,
        env = "WSGATE_API_KEY",
        value_name = "ID:SECRET",
        value_delimiter = ','
    )]
    pub api_key: Option<Vec<String>>,

    /// Where the access log goes: stdout, stderr, off or a file path [default: stdout].
    #[arg(long, env = "WSGATE_ACCESS_LOG", value_name = "TARGET")]
    pub access_log: Option<AccessLogTarget>,

    /// Access log line format [default: json].
    #[arg(long, env = "WSGATE_ACCESS_LOG_FORMAT", value_name = "FORMAT")]
    pub access_log_format: Option<AccessLogFormat>,
}

/// The contents of `wsgate.toml`: the options as top-level keys, plus a
/// `[routes]` table of route bindings.
#[derive(Debug, Default)]
pub struct ConfigFile {
    /// Gateway options.
    pub options: Options,
    /// Route key → component file in the plugins directory.
    pub routes: BTreeMap<String, RouteSpec>,
}

impl std::str::FromStr for ConfigFile {
    type Err = toml::de::Error;

    /// Parses the file; an unknown key is an error, so a typo is not ignored.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut table: toml::Table = text.parse()?;
        let routes = match table.remove("routes") {
            Some(routes) => routes.try_into()?,
            None => BTreeMap::new(),
        };
        let options = table.try_into()?;
        Ok(ConfigFile { options, routes })
    }
}

/// A route binding in `wsgate.toml`: `"route" = "file.wasm"` or
/// `"route" = { component = "file.wasm" }`.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum RouteSpec {
    /// Just the component file.
    File(String),
    /// A table, which later options can extend.
    Table {
        /// The component file.
        component: String,
    },
}

impl RouteSpec {
    fn component(&self) -> &str {
        match self {
            RouteSpec::File(file) | RouteSpec::Table { component: file } => file,
        }
    }
}

/// Everything the gateway needs to start, resolved.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Directory of route handler components.
    pub plugins: PathBuf,
    /// Route key → component file name, from `wsgate.toml`.
    pub routes: BTreeMap<String, String>,
    /// Client listener address.
    pub listen: SocketAddr,
    /// Management listener address.
    pub api_listen: SocketAddr,
    /// Route selection expression.
    pub route_selection: RouteSelection,
    /// Stage name.
    pub stage: String,
    /// Limits for every handler call.
    pub sandbox: Sandbox,
    /// Largest message in either direction.
    pub max_message_size: usize,
    /// Outbound queue length per connection.
    pub outbound_queue: usize,
    /// Ready instances kept per component.
    pub instances_per_plugin: usize,
    /// Who may use the management API.
    pub api_credentials: Credentials,
    /// Where the access log goes.
    pub access_log: AccessLogTarget,
    /// How access log lines are written.
    pub access_log_format: AccessLogFormat,
}

impl Settings {
    /// Resolves flags/environment (`given`) against the config file (`--config`
    /// or the plugins directory's `wsgate.toml`) and the defaults.
    pub fn resolve(given: Options, config: Option<&Path>) -> anyhow::Result<Self> {
        let (file, base) = match config {
            Some(path) => (read_config(path)?, path.parent().map(Path::to_path_buf)),
            None => match &given.plugins {
                Some(dir) if dir.join("wsgate.toml").is_file() => {
                    (read_config(&dir.join("wsgate.toml"))?, None)
                }
                _ => (ConfigFile::default(), None),
            },
        };
        let ConfigFile {
            options: from_file,
            routes,
        } = file;
        let plugins = match (given.plugins, from_file.plugins) {
            (Some(dir), _) => dir,
            (None, Some(dir)) => base.unwrap_or_default().join(dir),
            (None, None) => {
                bail!("no plugins directory: pass --plugins DIR (or set WSGATE_PLUGINS)")
            }
        };
        let route_selection = match given
            .route_selection_expression
            .or(from_file.route_selection_expression)
        {
            Some(expression) => expression.parse()?,
            None => RouteSelection::default(),
        };
        let api_credentials = Credentials::new(
            given.api_token.or(from_file.api_token).unwrap_or_default(),
            given.api_key.or(from_file.api_key).unwrap_or_default(),
        )?;
        let default_addr = |addr: &str| addr.parse().expect("valid default address");
        Ok(Settings {
            plugins,
            routes: routes
                .into_iter()
                .map(|(route, spec)| (route, spec.component().to_owned()))
                .collect(),
            listen: given
                .listen
                .or(from_file.listen)
                .unwrap_or_else(|| default_addr(DEFAULT_LISTEN)),
            api_listen: given
                .api_listen
                .or(from_file.api_listen)
                .unwrap_or_else(|| default_addr(DEFAULT_API_LISTEN)),
            route_selection,
            stage: given.stage.or(from_file.stage).unwrap_or_default(),
            sandbox: Sandbox {
                deadline: Duration::from_millis(
                    given
                        .handler_timeout_ms
                        .or(from_file.handler_timeout_ms)
                        .unwrap_or(1000),
                ),
                memory_bytes: (given
                    .handler_memory_mb
                    .or(from_file.handler_memory_mb)
                    .unwrap_or(64)
                    << 20) as usize,
            },
            max_message_size: given
                .max_message_size
                .or(from_file.max_message_size)
                .unwrap_or(128 * 1024),
            outbound_queue: given
                .outbound_queue
                .or(from_file.outbound_queue)
                .unwrap_or(1024),
            instances_per_plugin: given
                .instances_per_plugin
                .or(from_file.instances_per_plugin)
                .unwrap_or(16),
            api_credentials,
            access_log: given
                .access_log
                .or(from_file.access_log)
                .unwrap_or_default(),
            access_log_format: given
                .access_log_format
                .or(from_file.access_log_format)
                .unwrap_or_default(),
        })
    }
}

fn read_config(path: &Path) -> anyhow::Result<ConfigFile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    text.parse()
        .with_context(|| format!("invalid config file {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_file_which_beats_defaults() {
        let dir = std::env::temp_dir().join(format!("wsgate-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("wsgate.toml"),
            "listen = \"127.0.0.1:9000\"\nstage = \"prod\"\n[routes]\n\"$connect\" = \"chat.wasm\"\nsendmessage = { component = \"chat.wasm\" }\n",
        )
        .unwrap();
        let given = Options {
            plugins: Some(dir.clone()),
            stage: Some("dev".into()),
            ..Options::default()
        };
        let settings = Settings::resolve(given, None).unwrap();
        assert_eq!(settings.listen, "127.0.0.1:9000".parse().unwrap());
        assert_eq!(settings.api_listen, DEFAULT_API_LISTEN.parse().unwrap());
        assert_eq!(settings.stage, "dev");
        assert_eq!(
            settings.routes.get("sendmessage").map(String::as_str),
            Some("chat.wasm")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn management_credentials_and_the_access_log_come_from_the_file() {
        let file: ConfigFile = "api_token = [\"t1\", \"t2\"]\napi_key = [\"AKID:secret\"]\naccess_log = \"off\"\naccess_log_format = \"text\"\n"
            .parse()
            .unwrap();
        assert_eq!(file.options.api_token, Some(vec!["t1".into(), "t2".into()]));
        assert_eq!(file.options.access_log, Some(AccessLogTarget::Off));
        assert_eq!(file.options.access_log_format, Some(AccessLogFormat::Text));
        let bad_key = Options {
            plugins: Some(PathBuf::from("/nonexistent")),
            api_key: Some(vec!["no-secret".into()]),
            ..Options::default()
        };
        let error = Settings::resolve(bad_key, None).unwrap_err().to_string();
        assert!(error.contains("ACCESS_KEY_ID:SECRET_ACCESS_KEY"), "{error}");
    }

    #[test]
    fn a_missing_or_bad_config_file_is_a_clear_error() {
        let missing = Settings::resolve(
            Options::default(),
            Some(Path::new("/nonexistent/wsgate.toml")),
        );
        assert!(
            format!("{:#}", missing.unwrap_err())
                .contains("cannot read the config file /nonexistent/wsgate.toml")
        );
        assert!(
            Settings::resolve(Options::default(), None)
                .unwrap_err()
                .to_string()
                .contains("--plugins")
        );
        let typo = "lisen = \"x\"".parse::<ConfigFile>();
        assert!(typo.unwrap_err().to_string().contains("lisen"));
    }
}
