//! Configuration: command-line flags, `WSGATE_*` environment variables and
//! `wsgate.toml`, resolved once at start-up into [`Settings`].
//!
//! A flag beats its environment variable, which beats the file, which beats the
//! built-in default. The file is `--config FILE` if given, otherwise
//! `wsgate.toml` in the plugins directory if there is one.
//!
//! Each module owns the type of its own settings ([`ConnectionLimits`] in
//! `connection`, [`AdmissionLimits`] in `server`, [`Sandbox`] in `runtime`,
//! [`ClusterSettings`] in `registry`…); this module only parses the outside
//! world into them, so it sits above the modules it configures and none of
//! them depends on it: only the gateway's assembly, hot swap and the CLI do.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::bail;

use crate::connection::{ConnectionLimits, ResumeLimits, random_token};
use crate::keyvalue::KvBackend;
use crate::limits::Rate;
use crate::management::Credentials;
use crate::observability::access_log::{AccessLogFormat, AccessLogTarget};
use crate::registry::ClusterSettings;
use crate::routing::RouteSelection;
use crate::runtime::Sandbox;
use crate::runtime::sandbox::TICK;
use crate::server::admission::{AdmissionLimits, MIN_HEADER_SIZE};
use crate::server::tls::TlsFiles;

mod compat;
mod options;
mod ranges;
mod routes;
mod sources;

pub use compat::Compat;
pub use options::Options;
pub use routes::RouteConfig;
pub use sources::RouteSources;
use sources::read_config;

/// The contents of `wsgate.toml`: the options as top-level keys, plus the
/// `[routes]` and `[config]` tables (see [`routes`]).
#[derive(Debug, Default)]
pub struct ConfigFile {
    /// Gateway options.
    pub options: Options,
    /// The routes, with their options.
    pub routes: RouteConfig,
}

impl ConfigFile {
    /// Reads and parses the file at `path`, naming it in any error.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        read_config(path)
    }
}

impl std::str::FromStr for ConfigFile {
    type Err = anyhow::Error;

    /// Parses the file; an unknown key is an error, so a typo is not ignored.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut table: toml::Table = text.parse()?;
        let routes = RouteConfig::parse(table.remove("routes"), table.remove("config"))?;
        let options = table.try_into()?;
        Ok(ConfigFile { options, routes })
    }
}

/// The client listener's default address.
pub const DEFAULT_LISTEN: &str = "0.0.0.0:8080";
/// The management listener's default address.
pub const DEFAULT_API_LISTEN: &str = "127.0.0.1:8081";
/// The AWS region SigV4 signatures are scoped to by default, the SDKs' usual one.
pub const DEFAULT_API_REGION: &str = "us-east-1";

/// Everything the gateway needs to start, resolved.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Directory of route handler components.
    pub plugins: PathBuf,
    /// The config file given explicitly (`--config`), if any.
    pub config_file: Option<PathBuf>,
    /// The `[routes]` and `[config]` of the config file.
    pub routes: RouteConfig,
    /// Whether to watch the plugins directory and config file for changes.
    pub watch: bool,
    /// The key-value store.
    pub kv: KvBackend,
    /// Where the embedded key-value store keeps its file.
    pub data_dir: PathBuf,
    /// Where compiled components are cached, if anywhere.
    pub cache_dir: Option<PathBuf>,
    /// Client listener address.
    pub listen: SocketAddr,
    /// Management listener address.
    pub api_listen: SocketAddr,
    /// Most simultaneous connections to the management listener.
    pub api_max_connections: usize,
    /// Route selection expression.
    pub route_selection: RouteSelection,
    /// Stage name.
    pub stage: String,
    /// Limits for every handler call.
    pub sandbox: Sandbox,
    /// Ready instances kept per component.
    pub instances_per_plugin: usize,
    /// Per-connection limits and timeouts.
    pub connection: ConnectionLimits,
    /// Limits checked at the handshake.
    pub admission: AdmissionLimits,
    /// Time allowed for a graceful shutdown.
    pub drain_timeout: Duration,
    /// wss certificate and key, if any.
    pub tls: Option<TlsFiles>,
    /// Who may use the management API.
    pub api_credentials: Credentials,
    /// Where the access log goes.
    pub access_log: AccessLogTarget,
    /// How access log lines are written.
    pub access_log_format: AccessLogFormat,
    /// The API's name in the access log's `apiId` (none when set empty).
    pub api_id: Option<String>,
    /// Whose behaviour the gateway follows where wsgate and API Gateway differ.
    pub compat: Compat,
    /// The cluster to join, if any.
    pub cluster: Option<ClusterSettings>,
    /// Whether the client port is shared with other processes (SO_REUSEPORT).
    pub reuse_port: bool,
}

impl Settings {
    /// Resolves flags/environment (`given`) against the config file (`--config`
    /// or the plugins directory's `wsgate.toml`) and the defaults.
    pub fn resolve(given: Options, config: Option<&Path>) -> anyhow::Result<Self> {
        let file = match sources::to_read(config, given.plugins.as_deref()) {
            Some(path) => read_config(&path)?,
            None => ConfigFile::default(),
        };
        // Paths in an explicit file are relative to the file.
        let base = config.and_then(Path::parent).map(Path::to_path_buf);
        let ConfigFile {
            options: file,
            routes,
        } = file;
        // A flag or variable, else the file, else the default.
        macro_rules! pick {
            ($field:ident, $default:expr) => {
                given.$field.or(file.$field).unwrap_or($default)
            };
            ($field:ident, $default:expr, $range:expr) => {
                ranges::within(
                    ranges::option(stringify!($field)),
                    pick!($field, $default),
                    $range,
                )?
            };
        }
        let mib = |mib: u64| (mib << 20) as usize;
        let sandbox = Sandbox::default();
        let limits = ConnectionLimits::default();
        // Durations where 0 means "off".
        let enabled = |duration: Duration| (!duration.is_zero()).then_some(duration);
        let plugins = match (given.plugins, file.plugins) {
            (Some(dir), _) => dir,
            (None, Some(dir)) => base.clone().unwrap_or_default().join(dir),
            (None, None) => {
                bail!("no plugins directory: pass --plugins DIR (or set WSGATE_PLUGINS)")
            }
        };
        let route_selection = match given
            .route_selection_expression
            .or(file.route_selection_expression)
        {
            Some(expression) => expression.parse()?,
            None => RouteSelection::default(),
        };
        let tls = match (
            given.tls_cert.or(file.tls_cert),
            given.tls_key.or(file.tls_key),
        ) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            (None, None) => None,
            _ => bail!("wss needs both a certificate (tls_cert) and a key (tls_key)"),
        };
        let allowed_origins = match given.allowed_origins.is_empty() {
            true => file.allowed_origins,
            false => given.allowed_origins,
        };
        let api_credentials = Credentials::new(
            pick!(api_token, Vec::new()),
            pick!(api_key, Vec::new()),
            pick!(api_region, DEFAULT_API_REGION.to_owned()),
        )?;
        let default_addr = |addr: &str| addr.parse().expect("valid default address");
        let watch = !given.no_watch && file.watch.unwrap_or(true);
        let data_dir = match (given.data_dir, file.data_dir) {
            (Some(dir), _) => dir,
            (None, Some(dir)) => base.unwrap_or_default().join(dir),
            (None, None) => default_data_dir(),
        };
        let cluster = match given.cluster.or(file.cluster) {
            Some(redis_url) => Some(ClusterSettings {
                redis_url,
                node_id: given
                    .node_id
                    .or(file.node_id)
                    .unwrap_or_else(default_node_id),
                heartbeat_interval: pick!(
                    heartbeat_interval,
                    Duration::from_secs(2),
                    ranges::SOME_DURATION
                ),
                node_expiry: pick!(node_expiry, Duration::from_secs(10), ranges::SOME_DURATION),
                timeout: pick!(
                    cluster_timeout,
                    Duration::from_millis(500),
                    ranges::SOME_DURATION
                ),
            }),
            None => None,
        };
        if let Some(cluster) = &cluster
            && cluster.node_expiry < cluster.heartbeat_interval * 2
        {
            bail!(
                "node_expiry must be at least twice heartbeat_interval, or live nodes fence themselves"
            );
        }
        let mut connection = ConnectionLimits {
            max_message_size: pick!(max_message_size, limits.max_message_size, 1..=1 << 30),
            max_frame_size: pick!(max_frame_size, limits.max_frame_size, 1..=1 << 30),
            outbound_queue: pick!(outbound_queue, limits.outbound_queue, 1..=1 << 20),
            outbound_queue_bytes: pick!(
                outbound_queue_bytes,
                limits.outbound_queue_bytes,
                1..=1 << 40
            ),
            ping_interval: enabled(pick!(
                ping_interval,
                limits.ping_interval.unwrap_or_default(),
                ranges::ANY_DURATION
            )),
            ping_timeout: pick!(ping_timeout, limits.ping_timeout, ranges::SOME_DURATION),
            idle_timeout: enabled(pick!(
                idle_timeout,
                limits.idle_timeout.unwrap_or_default(),
                ranges::ANY_DURATION
            )),
            max_duration: enabled(pick!(
                max_connection_duration,
                limits.max_duration.unwrap_or_default(),
                ranges::ANY_DURATION
            )),
            rate: Rate::new(
                pick!(
                    connection_rate,
                    limits.rate.map_or(0, |rate| rate.per_second.get())
                ),
                Some(pick!(
                    connection_burst,
                    limits.rate.map_or(0, |rate| rate.burst.get()),
                    1..=u32::MAX
                )),
            ),
            close_after_throttled: pick!(
                rate_limit_close_after,
                limits.close_after_throttled,
                1..=u32::MAX
            ),
            resume: ResumeLimits {
                window: pick!(resume_window, limits.resume.window, ranges::SOME_DURATION),
                buffer: pick!(resume_buffer, limits.resume.buffer, 1..=1 << 20),
                buffer_bytes: pick!(resume_buffer_bytes, limits.resume.buffer_bytes, 1..=1 << 40),
            },
            binary_messages: limits.binary_messages,
            sends_during_connect: limits.sends_during_connect,
        };
        let quotas = compat::QuotaOptions {
            max_frame_size: given.max_frame_size.or(file.max_frame_size),
            max_message_size: given.max_message_size.or(file.max_message_size),
            idle_timeout: given.idle_timeout.or(file.idle_timeout),
            max_connection_duration: given
                .max_connection_duration
                .or(file.max_connection_duration),
        };
        let compat = pick!(compat, Compat::Off);
        compat::apply(compat, quotas, &mut connection)?;
        let reuse_port = given.reuse_port || file.reuse_port;
        let cache_dir = given
            .cache_dir
            .or(file.cache_dir)
            .or_else(default_cache_dir);
        Ok(Settings {
            plugins,
            config_file: config.map(Path::to_path_buf),
            routes,
            watch,
            cache_dir,
            // In a cluster, handlers share their state through its Redis.
            kv: given.kv.or(file.kv).unwrap_or_else(|| match &cluster {
                Some(cluster) => KvBackend::Redis(cluster.redis_url.clone()),
                None => KvBackend::Embedded,
            }),
            data_dir,
            listen: pick!(listen, default_addr(DEFAULT_LISTEN)),
            api_listen: pick!(api_listen, default_addr(DEFAULT_API_LISTEN)),
            api_max_connections: pick!(api_max_connections, 1024).max(1),
            route_selection,
            stage: pick!(stage, String::new()),
            sandbox: Sandbox {
                deadline: pick!(
                    handler_timeout,
                    sandbox.deadline,
                    TICK..=ranges::MAX_DURATION
                ),
                // Linear memory is 32-bit: 4 GiB is the most an instance can address.
                memory_bytes: mib(pick!(
                    handler_memory_mb,
                    (sandbox.memory_bytes >> 20) as u64,
                    1..=4096
                )),
                memory_total: mib(pick!(
                    handlers_memory_total,
                    (sandbox.memory_total >> 20) as u64,
                    1..=1 << 20
                )),
            },
            instances_per_plugin: pick!(instances_per_plugin, 16, 0..=1024),
            connection,
            admission: AdmissionLimits {
                max_connections: pick!(max_connections, 100_000, 1..=usize::MAX),
                connections_per_second: Rate::new(pick!(connections_per_second, 0), None),
                handshake_timeout: pick!(
                    handshake_timeout,
                    Duration::from_secs(10),
                    ranges::SOME_DURATION
                ),
                max_header_size: pick!(max_header_size, 16 * 1024, MIN_HEADER_SIZE..=1 << 20),
                allowed_origins,
            },
            drain_timeout: pick!(drain_timeout, Duration::from_secs(30), ranges::ANY_DURATION),
            tls,
            api_credentials,
            access_log: pick!(access_log, AccessLogTarget::default()),
            access_log_format: pick!(access_log_format, AccessLogFormat::default()),
            // As `plugins/http-forward` names the API in its events.
            api_id: Some(pick!(api_id, "wsgate".to_owned())).filter(|id| !id.is_empty()),
            compat,
            cluster,
            reuse_port,
        })
    }
}

impl Settings {
    /// What a reload reads again: the plugins directory and the config file.
    pub fn route_sources(&self) -> RouteSources {
        RouteSources {
            plugins: self.plugins.clone(),
            config_file: self.config_file.clone(),
        }
    }
}

/// `$XDG_DATA_HOME/wsgate`, or `~/.local/share/wsgate`; `./wsgate-data`
/// without a home directory.
fn default_data_dir() -> PathBuf {
    dirs::data_dir().map_or_else(|| PathBuf::from("wsgate-data"), |dir| dir.join("wsgate"))
}

/// The host's name (a pod's name in Kubernetes) and a random suffix, so that
/// a restarted process is a new node.
fn default_node_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "wsgate".to_owned());
    format!("{host}-{}", random_token::<4>())
}

/// `$XDG_CACHE_HOME/wsgate`, or `~/.cache/wsgate`.
pub fn default_cache_dir() -> Option<PathBuf> {
    dirs::cache_dir().map(|dir| dir.join("wsgate"))
}

#[cfg(test)]
mod tests;
