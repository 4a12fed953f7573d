//! The gateway's options: every one a command-line flag, a `WSGATE_*`
//! environment variable and a `wsgate.toml` key, all optional here; defaults
//! are applied when they are resolved into [`Settings`](super::Settings).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::compat::Compat;
use crate::keyvalue::KvBackend;
use crate::observability::access_log::{AccessLogFormat, AccessLogTarget};

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

    /// CPU time one handler call may use [default: 1s].
    #[arg(long, env = "WSGATE_HANDLER_TIMEOUT", value_name = "DURATION", value_parser = humantime::parse_duration)]
    #[serde(default, with = "humantime_serde")]
    pub handler_timeout: Option<Duration>,

    /// Memory one handler instance may use, in MiB [default: 64].
    #[arg(long, env = "WSGATE_HANDLER_MEMORY_MB", value_name = "MIB")]
    pub handler_memory_mb: Option<u64>,

    /// Memory all handler instances together may use, in MiB; an instance that would grow
    /// past it fails its event [default: 1024].
    #[arg(long, env = "WSGATE_HANDLERS_MEMORY_TOTAL", value_name = "MIB")]
    pub handlers_memory_total: Option<u64>,

    /// Ready instances kept per component [default: 16].
    #[arg(long, env = "WSGATE_INSTANCES_PER_PLUGIN", value_name = "N")]
    pub instances_per_plugin: Option<usize>,

    /// Largest message accepted from or sent to a client, in bytes; larger closes with 1009 [default: 131072].
    #[arg(long, env = "WSGATE_MAX_MESSAGE_SIZE", value_name = "BYTES")]
    pub max_message_size: Option<usize>,

    /// Largest frame accepted from a client, in bytes; larger closes with 1009 [default: 32768].
    #[arg(long, env = "WSGATE_MAX_FRAME_SIZE", value_name = "BYTES")]
    pub max_frame_size: Option<usize>,

    /// Messages queued for one client; a client too slow to drain it is closed with 1013 [default: 256].
    #[arg(long, env = "WSGATE_OUTBOUND_QUEUE", value_name = "MESSAGES")]
    pub outbound_queue: Option<usize>,

    /// Bytes queued for one client; a client too slow to drain them is closed with 1013 [default: 1048576].
    #[arg(long, env = "WSGATE_OUTBOUND_QUEUE_BYTES", value_name = "BYTES")]
    pub outbound_queue_bytes: Option<usize>,

    /// How often the gateway pings each client; 0 disables pings [default: 30s].
    #[arg(long, env = "WSGATE_PING_INTERVAL", value_name = "DURATION", value_parser = humantime::parse_duration)]
    #[serde(default, with = "humantime_serde")]
    pub ping_interval: Option<Duration>,

    /// How long a client may take to answer a ping before it is closed as dead [default: 20s].
    #[arg(long, env = "WSGATE_PING_TIMEOUT", value_name = "DURATION", value_parser = humantime::parse_duration)]
    #[serde(default, with = "humantime_serde")]
    pub ping_timeout: Option<Duration>,

    /// Close a connection after this long without a message either way; 0 disables [default: 10m].
    #[arg(long, env = "WSGATE_IDLE_TIMEOUT", value_name = "DURATION", value_parser = humantime::parse_duration)]
    #[serde(default, with = "humantime_serde")]
    pub idle_timeout: Option<Duration>,

    /// Close every connection after this long; 0 disables [default: 0].
    #[arg(long, env = "WSGATE_MAX_CONNECTION_DURATION", value_name = "DURATION", value_parser = humantime::parse_duration)]
    #[serde(default, with = "humantime_serde")]
    pub max_connection_duration: Option<Duration>,

    /// Messages per second one connection may send; 0 disables [default: 1000].
    #[arg(long, env = "WSGATE_CONNECTION_RATE", value_name = "PER_SECOND")]
    pub connection_rate: Option<u32>,

    /// Messages one connection may send in a burst above its rate [default: 2000].
    #[arg(long, env = "WSGATE_CONNECTION_BURST", value_name = "MESSAGES")]
    pub connection_burst: Option<u32>,

    /// Consecutive rate-limited messages after which a connection is closed with 1008 [default: 20].
    #[arg(long, env = "WSGATE_RATE_LIMIT_CLOSE_AFTER", value_name = "MESSAGES")]
    pub rate_limit_close_after: Option<u32>,

    /// How long a dropped connection on the reliable subprotocol (`wsgate.reliable.v1`) waits
    /// for its client to resume before its `$disconnect` [default: 2m].
    #[arg(long, env = "WSGATE_RESUME_WINDOW", value_name = "DURATION", value_parser = humantime::parse_duration)]
    #[serde(default, with = "humantime_serde")]
    pub resume_window: Option<Duration>,

    /// Unacknowledged messages kept per reliable connection for a resume; more ends its
    /// resumability [default: 1024].
    #[arg(long, env = "WSGATE_RESUME_BUFFER", value_name = "MESSAGES")]
    pub resume_buffer: Option<usize>,

    /// Bytes of unacknowledged messages kept per reliable connection for a resume; more ends
    /// its resumability [default: 1048576].
    #[arg(long, env = "WSGATE_RESUME_BUFFER_BYTES", value_name = "BYTES")]
    pub resume_buffer_bytes: Option<usize>,

    /// Most simultaneous connections; more get HTTP 503 [default: 100000].
    #[arg(long, env = "WSGATE_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<usize>,

    /// New connections accepted per second (burst of the same size); more get HTTP 429; 0 disables [default: 0].
    #[arg(long, env = "WSGATE_CONNECTIONS_PER_SECOND", value_name = "PER_SECOND")]
    pub connections_per_second: Option<u32>,

    /// Time a client has to send its upgrade request headers [default: 10s].
    #[arg(long, env = "WSGATE_HANDSHAKE_TIMEOUT", value_name = "DURATION", value_parser = humantime::parse_duration)]
    #[serde(default, with = "humantime_serde")]
    pub handshake_timeout: Option<Duration>,

    /// Largest HTTP request head (request line and headers), in bytes [default: 16384].
    #[arg(long, env = "WSGATE_MAX_HEADER_SIZE", value_name = "BYTES")]
    pub max_header_size: Option<usize>,

    /// Browser origins allowed to connect (repeat, or comma-separated); requests with another
    /// `Origin` get 403. Requests without `Origin` (non-browser clients) are allowed [default: any].
    #[arg(
        long = "allowed-origin",
        env = "WSGATE_ALLOWED_ORIGINS",
        value_name = "ORIGIN",
        value_delimiter = ','
    )]
    #[serde(default)]
    pub allowed_origins: Vec<String>,

    /// On SIGTERM/SIGINT, how long to wait for connections to close and `$disconnect` to run [default: 30s].
    #[arg(long, env = "WSGATE_DRAIN_TIMEOUT", value_name = "DURATION", value_parser = humantime::parse_duration)]
    #[serde(default, with = "humantime_serde")]
    pub drain_timeout: Option<Duration>,

    /// The key-value store handlers reach through wasi:keyvalue: `embedded` (a
    /// durable database in --data-dir) or a redis:// URL [default: the
    /// --cluster Redis in a cluster, else embedded].
    #[arg(long, env = "WSGATE_KV", value_name = "STORE")]
    pub kv: Option<KvBackend>,

    /// Directory for the embedded key-value store
    /// [default: $XDG_DATA_HOME/wsgate or ~/.local/share/wsgate].
    #[arg(long, env = "WSGATE_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Directory for compiled components, so restarts and swaps back skip compiling
    /// [default: $XDG_CACHE_HOME/wsgate or ~/.cache/wsgate].
    #[arg(long, env = "WSGATE_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Do not watch the plugins directory and wsgate.toml for changes (for
    /// immutable deployments); SIGHUP still reloads. In wsgate.toml: `watch = false`.
    #[arg(long = "no-watch", env = "WSGATE_NO_WATCH")]
    #[serde(skip)]
    pub no_watch: bool,

    /// Whether to watch for plugin changes (wsgate.toml only; see --no-watch).
    #[arg(skip)]
    pub watch: Option<bool>,

    /// PEM certificate chain for wss (with --tls-key); reloaded when the file changes.
    #[arg(
        long,
        env = "WSGATE_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key for wss (with --tls-cert); reloaded when the file changes.
    #[arg(
        long,
        env = "WSGATE_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,

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

    /// AWS region the management API's SigV4 signatures must be scoped to, as
    /// the SDK client's region [default: us-east-1].
    #[arg(long, env = "WSGATE_API_REGION", value_name = "REGION")]
    pub api_region: Option<String>,

    /// Most simultaneous connections to the management listener; more are
    /// closed at once, so the API can never take the client port's file
    /// descriptors [default: 1024].
    #[arg(long, env = "WSGATE_API_MAX_CONNECTIONS", value_name = "N")]
    pub api_max_connections: Option<usize>,

    /// Where the access log goes: stdout, stderr, off or a file path [default: stdout].
    #[arg(long, env = "WSGATE_ACCESS_LOG", value_name = "TARGET")]
    pub access_log: Option<AccessLogTarget>,

    /// Behave exactly like API Gateway's WebSocket APIs (`aws`: its fixed limits, binary
    /// frames closed with 1003, no sends during `$connect`) or not (`off`) [default: off].
    #[arg(long, env = "WSGATE_COMPAT", value_name = "MODE")]
    pub compat: Option<Compat>,

    /// Access log line format: json, text, or a template of API Gateway's `$context`
    /// variables, as a stage's access_log_settings.format [default: json].
    #[arg(long, env = "WSGATE_ACCESS_LOG_FORMAT", value_name = "FORMAT")]
    pub access_log_format: Option<AccessLogFormat>,

    /// The API's identifier in the access log's `apiId` (`$context.apiId`), as
    /// API Gateway's API id; empty for none [default: wsgate].
    #[arg(long, env = "WSGATE_API_ID", value_name = "ID")]
    pub api_id: Option<String>,

    /// Join a cluster through this Redis server (`redis://host:port/`): every node
    /// reaches every connection [default: none, a single node].
    #[arg(long, env = "WSGATE_CLUSTER", value_name = "REDIS_URL")]
    pub cluster: Option<String>,

    /// This node's id in the cluster, unique among nodes [default: hostname-random].
    #[arg(long, env = "WSGATE_NODE_ID", value_name = "ID")]
    pub node_id: Option<String>,

    /// How often a cluster node renews its heartbeat in Redis [default: 2s].
    #[arg(long, env = "WSGATE_HEARTBEAT_INTERVAL", value_name = "DURATION", value_parser = humantime::parse_duration)]
    #[serde(default, with = "humantime_serde")]
    pub heartbeat_interval: Option<Duration>,

    /// How long after its last heartbeat a node counts as dead and its connections as
    /// gone [default: 10s].
    #[arg(long, env = "WSGATE_NODE_EXPIRY", value_name = "DURATION", value_parser = humantime::parse_duration)]
    #[serde(default, with = "humantime_serde")]
    pub node_expiry: Option<Duration>,

    /// How long a cluster node waits for Redis, or for another node to acknowledge a
    /// request for one of its connections, before answering 503 [default: 500ms].
    #[arg(long, env = "WSGATE_CLUSTER_TIMEOUT", value_name = "DURATION", value_parser = humantime::parse_duration)]
    #[serde(default, with = "humantime_serde")]
    pub cluster_timeout: Option<Duration>,

    /// Share the client port with other processes (SO_REUSEPORT): the kernel spreads new
    /// connections across them. In wsgate.toml: `reuse_port = true`.
    #[arg(long, env = "WSGATE_REUSE_PORT")]
    #[serde(default)]
    pub reuse_port: bool,
}
