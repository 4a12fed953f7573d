//! The gateway assembled: registry, plugin runtime, router and listeners.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::config::Settings;
use crate::connection::CloseInitiator;
use crate::hot_swap::{self, HotSwap, Watcher};
use crate::keyvalue;
use crate::management;
use crate::observability::access_log::AccessLog;
use crate::observability::metrics::Metrics;
use crate::registry::{ClusterRegistry, LocalRegistry, Registry};
use crate::routing::Router;
use crate::runtime::{PluginError, PluginRuntime, Services};
use crate::server::admission::Admission;
use crate::server::shutdown::{GOING_AWAY, Shutdown};
use crate::server::{listener, tls};

/// How long shutdown waits for the access log to reach its file.
const ACCESS_LOG_FLUSH: std::time::Duration = std::time::Duration::from_secs(5);

/// What every connection task and request handler shares.
pub struct Gateway {
    /// Where connections live.
    pub registry: Arc<dyn Registry>,
    /// Routes events to plugins.
    pub router: Router,
    /// Who may connect.
    pub admission: Admission,
    /// Draining state and the connection tasks a shutdown waits for.
    pub shutdown: Arc<Shutdown>,
    /// The resolved settings.
    pub settings: Settings,
    /// Counters and histograms for `GET /metrics`.
    pub metrics: Arc<Metrics>,
    /// The handlers' key-value store, whose health `/ready` reports.
    pub key_value: Arc<dyn keyvalue::KeyValueStore>,
}

/// A started gateway: its bound addresses and its listener tasks.
pub struct RunningGateway {
    /// Where WebSocket clients connect.
    pub client_addr: SocketAddr,
    /// Where the management listener answers.
    pub management_addr: SocketAddr,
    gateway: Arc<Gateway>,
    hot_swap: Arc<HotSwap>,
    _watcher: Option<Watcher>,
    tasks: JoinSet<()>,
}

impl RunningGateway {
    /// Serves until a listener fails, which only happens on a fatal error.
    pub async fn serve(&mut self) {
        self.tasks.join_next().await;
    }

    /// Reloads the plugins directory and config file now (as SIGHUP does).
    pub async fn reload(&self) -> Vec<PluginError> {
        self.hot_swap.reload().await
    }

    /// Shuts down gracefully: `/ready` turns 503 and the client listener
    /// closes, every connection is closed with 1001 "going away", and this
    /// waits for every `$disconnect` to run, then leaves the cluster. Says
    /// whether all finished within the drain timeout.
    pub async fn shutdown(&self) -> bool {
        let gateway = &self.gateway;
        gateway.shutdown.begin();
        let (code, reason) = GOING_AWAY;
        gateway
            .registry
            .close_local(code, reason, CloseInitiator::Shutdown)
            .await;
        let drained = gateway
            .shutdown
            .drained(gateway.settings.drain_timeout)
            .await;
        gateway.registry.retire().await;
        // Every `$disconnect` has been logged by now; let the lines reach disk.
        let access_log = gateway.router.access_log().clone();
        let flushed = tokio::task::spawn_blocking(move || access_log.flush(ACCESS_LOG_FLUSH));
        let _ = flushed.await;
        drained
    }
}

impl Gateway {
    /// Loads and validates every plugin, binds both listeners and starts
    /// serving. Fails, naming the file and the reason, if any plugin is refused.
    pub async fn start(settings: Settings) -> anyhow::Result<RunningGateway> {
        settings
            .api_credentials
            .check_exposure(settings.api_listen)?;
        let metrics = Arc::new(Metrics::new());
        let max_message_size = settings.connection.max_message_size;
        let mut cluster_redis = None;
        let registry: Arc<dyn Registry> = match &settings.cluster {
            Some(cluster) => {
                let registry = ClusterRegistry::start(
                    cluster.clone(),
                    max_message_size,
                    Arc::clone(&metrics),
                )?;
                cluster_redis = Some((cluster.redis_url.as_str(), registry.redis()));
                registry
            }
            None => Arc::new(LocalRegistry::new(max_message_size)),
        };
        let key_value = keyvalue::open(&settings.kv, &settings.data_dir, cluster_redis).await?;
        let services = Services {
            registry: Arc::clone(&registry),
            key_value: Some(Arc::clone(&key_value)),
        };
        let runtime = Arc::new(PluginRuntime::new(
            settings.sandbox,
            services,
            settings.instances_per_plugin,
            settings.cache_dir.as_deref(),
        )?);
        let table = hot_swap::initial_table(&runtime, &settings).await?;
        let access_log = AccessLog::start(&settings.access_log, settings.access_log_format)?;
        let router = Router::new(
            table,
            settings.route_selection.clone(),
            settings.stage.clone(),
            max_message_size,
            Arc::clone(&metrics),
            access_log,
        );
        let tls = settings.tls.as_ref().map(tls::acceptor).transpose()?;

        let clients = listener::bind(settings.listen, settings.reuse_port)
            .with_context(|| format!("cannot listen for clients on {}", settings.listen))?;
        let management = TcpListener::bind(settings.api_listen)
            .await
            .with_context(|| format!("cannot listen for management on {}", settings.api_listen))?;
        let client_addr = clients.local_addr()?;
        let management_addr = management.local_addr()?;

        let scheme = if tls.is_some() { "wss" } else { "ws" };
        let gateway = Arc::new(Gateway {
            registry,
            router,
            admission: Admission::new(&settings.admission),
            shutdown: Arc::new(Shutdown::default()),
            settings,
            metrics,
            key_value,
        });
        let hot_swap = HotSwap::new(Arc::clone(&gateway), runtime);
        hot_swap.reload_on_sighup()?;
        let watcher = match gateway.settings.watch {
            true => Some(hot_swap.watch()?),
            false => None,
        };
        let mut tasks = JoinSet::new();
        tasks.spawn(listener::serve(clients, Arc::clone(&gateway), tls));
        tasks.spawn(management::serve(management, Arc::clone(&gateway)));
        tracing::info!("listening for WebSocket clients on {scheme}://{client_addr}");
        tracing::info!("management listener on http://{management_addr}");
        Ok(RunningGateway {
            client_addr,
            management_addr,
            gateway,
            hot_swap,
            _watcher: watcher,
            tasks,
        })
    }
}
