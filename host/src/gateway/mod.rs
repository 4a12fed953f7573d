//! The gateway assembled: registry, plugin runtime, router and listeners.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::config::{Compat, Settings};
use crate::connection::{CloseInitiator, GOING_AWAY};
use crate::hot_swap::{self, HotSwap, Watcher};
use crate::keyvalue;
use crate::management::{self, ApiContext, ApiSettings};
use crate::observability::access_log::AccessLog;
use crate::observability::extensions::ExtensionNotices;
use crate::observability::metrics::Metrics;
use crate::registry::{ClusterRegistry, LocalRegistry, Registry};
use crate::routing::Router;
use crate::runtime::{FailureKind, PluginError, PluginRuntime, Services};
use crate::server::admission::{self, Admission};
use crate::server::probes::Readiness;
use crate::server::shutdown::Shutdown;
use crate::server::{ClientContext, Pipeline, listener, sessions, tls};

/// How long shutdown waits for the access log to reach its file.
const ACCESS_LOG_FLUSH: Duration = Duration::from_secs(5);

/// The gateway: [`Gateway::start`] assembles the parts from the settings and
/// starts both listeners.
pub struct Gateway;

/// A started gateway: its bound addresses and its listener tasks.
pub struct RunningGateway {
    /// Where WebSocket clients connect.
    pub client_addr: SocketAddr,
    /// Where the management listener answers.
    pub management_addr: SocketAddr,
    registry: Arc<dyn Registry>,
    router: Arc<Router>,
    shutdown: Arc<Shutdown>,
    drain_timeout: Duration,
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
    /// closes, a cluster node parks its reliable sessions (closed with 1012,
    /// their clients resume on another node), every other connection is
    /// closed with 1001 "going away", and this waits for every `$disconnect`
    /// to run, then leaves the cluster. Says whether all finished within the
    /// drain timeout.
    pub async fn shutdown(&self) -> bool {
        self.shutdown.begin();
        self.registry.park_sessions().await;
        let (code, reason) = GOING_AWAY;
        self.registry
            .close_local(code, reason, CloseInitiator::Shutdown)
            .await;
        let drained = self.shutdown.drained(self.drain_timeout).await;
        self.registry.retire().await;
        // Every `$disconnect` has been logged by now; let the lines reach disk.
        let access_log = self.router.access_log().clone();
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
        // Scraped at 0 from the start: the refusals known before any happens,
        // admission's and those of `$connect`'s errors (its answers are its own).
        let connect_failures = FailureKind::ALL.map(FailureKind::status);
        metrics.rejections_known(admission::REFUSALS.into_iter().chain(connect_failures));
        let max_message_size = settings.connection.max_message_size;
        let registry: Arc<dyn Registry> = match &settings.cluster {
            Some(cluster) => {
                ClusterRegistry::start(cluster.clone(), max_message_size, Arc::clone(&metrics))?
            }
            None => Arc::new(LocalRegistry::new(max_message_size)),
        };
        // A Redis store keeps its own connection even to the cluster's Redis:
        // handlers' traffic (large values, scans) then never queues ahead of
        // the lease renewals and lookups that run under the cluster timeout.
        let key_value = keyvalue::open(&settings.kv, &settings.data_dir).await?;
        let extension_notices =
            (settings.compat == Compat::Aws).then(|| Arc::new(ExtensionNotices::default()));
        let services = Services {
            registry: Arc::clone(&registry),
            key_value: Some(Arc::clone(&key_value)),
            extension_notices: extension_notices.clone(),
        };
        let runtime = Arc::new(PluginRuntime::new(
            settings.sandbox,
            services,
            settings.instances_per_plugin,
            settings.cache_dir.as_deref(),
        )?);
        let table = hot_swap::initial_table(&runtime, &settings, &metrics).await?;
        let access_log = AccessLog::start(
            &settings.access_log,
            settings.access_log_format.clone(),
            settings.api_id.as_deref(),
        )?;
        let router = Arc::new(Router::new(
            table,
            settings.route_selection.clone(),
            settings.stage.clone(),
            max_message_size,
            Arc::clone(&metrics),
            access_log,
        ));
        let tls = settings.tls.as_ref().map(tls::acceptor).transpose()?;

        let clients = listener::bind(settings.listen, settings.reuse_port)
            .with_context(|| format!("cannot listen for clients on {}", settings.listen))?;
        let management = TcpListener::bind(settings.api_listen)
            .await
            .with_context(|| format!("cannot listen for management on {}", settings.api_listen))?;
        let client_addr = clients.local_addr()?;
        let management_addr = management.local_addr()?;

        let shutdown = Arc::new(Shutdown::default());
        let readiness = Readiness {
            shutdown: Arc::clone(&shutdown),
            registry: Arc::clone(&registry),
            key_value,
        };
        let pipeline = Arc::new(Pipeline {
            router: Arc::clone(&router),
            registry: Arc::clone(&registry),
            limits: settings.connection.clone(),
            metrics: Arc::clone(&metrics),
            sessions: Arc::default(),
        });
        let mut tasks = JoinSet::new();
        if settings.cluster.is_some() {
            tasks.spawn(sessions::sweep_parked(Arc::clone(&pipeline)));
        }
        let client_context = Arc::new(ClientContext {
            pipeline,
            admission: Admission::new(&settings.admission),
            shutdown: Arc::clone(&shutdown),
            readiness: readiness.clone(),
        });
        let api = Arc::new(ApiContext {
            registry: Arc::clone(&registry),
            router: Arc::clone(&router),
            metrics: Arc::clone(&metrics),
            readiness,
            settings: ApiSettings {
                max_connections: settings.api_max_connections,
                http: settings.admission.http(),
                stage: settings.stage.clone(),
                max_message_size,
                credentials: settings.api_credentials.clone(),
            },
            extension_notices,
        });
        let drain_timeout = settings.drain_timeout;
        let watch = settings.watch;
        let hot_swap = HotSwap::new(
            Arc::clone(&router),
            metrics,
            settings.route_sources(),
            runtime,
        );
        hot_swap.reload_on_sighup()?;
        let watcher = match watch {
            true => Some(hot_swap.watch()?),
            false => None,
        };
        let scheme = if tls.is_some() { "wss" } else { "ws" };
        tasks.spawn(listener::serve(clients, client_context, tls));
        tasks.spawn(management::serve(management, api));
        tracing::info!("listening for WebSocket clients on {scheme}://{client_addr}");
        tracing::info!("management listener on http://{management_addr}");
        Ok(RunningGateway {
            client_addr,
            management_addr,
            registry,
            router,
            shutdown,
            drain_timeout,
            hot_swap,
            _watcher: watcher,
            tasks,
        })
    }
}
