//! Starting and stopping the HTTP server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::api::{self, AppState};
use crate::config::Config;
use crate::generation::Generations;
use crate::live::LivePlugins;
use crate::plugins::Plugins;
use crate::registry_store::RegistryStore;
use crate::runtime::Runtime;
use crate::serve;
use crate::tenancy::Tenancy;

/// A server with its plugins loaded and its socket bound, not yet serving.
pub struct Server {
    listener: TcpListener,
    admin_listener: Option<TcpListener>,
    tls: Option<serve::Tls>,
    state: AppState,
    runtime: Arc<Runtime>,
    max_body_bytes: usize,
    grace: Duration,
}

impl Server {
    /// Builds the runtime, loads every plugin and binds `config.listen`.
    ///
    /// # Errors
    ///
    /// When a plugin is refused, the data directory is unusable or the address is taken.
    pub async fn bind(config: &Config) -> anyhow::Result<Self> {
        Self::bind_with(config, crate::plugins::runtime(config)?).await
    }

    /// As [`Server::bind`], with a runtime built by the caller (e.g. with a test
    /// resolver and a test CA for its egress gates).
    ///
    /// # Errors
    ///
    /// As [`Server::bind`].
    pub async fn bind_with(config: &Config, runtime: Runtime) -> anyhow::Result<Self> {
        api::site_guard::validate(config)?;
        let runtime = Arc::new(runtime);
        let plugins = Plugins::load(&runtime, config).await?;
        for plugin in plugins.iter() {
            tracing::info!(plugin = %plugin.name(), kind = %plugin.world(), version = %plugin.version(), sha256 = %plugin.sha256, source = %plugin.source, "plugin loaded");
        }
        let listener =
            TcpListener::bind(config.listen).await.with_context(|| format!("listening on {}", config.listen))?;
        let admin_listener = match config.gateway.admin_listen {
            Some(address) => Some(
                TcpListener::bind(address)
                    .await
                    .with_context(|| format!("listening on {address} (`gateway.admin_listen`)"))?,
            ),
            None => None,
        };
        let tls = config.tls.as_ref().map(serve::Tls::start).transpose().context("`tls`")?;
        let tenancy = Arc::new(Tenancy::open(&config.data_dir).await?.with_metrics(runtime.metrics().clone()));
        let anonymous = config.gateway.allows_anonymous(config.listen);
        if anonymous && !config.listen.ip().is_loopback() {
            tracing::warn!(listen = %config.listen, "callers without an API key are served on a non-loopback address (`gateway.anonymous`)");
        }
        config.plugin_signatures.keys()?;
        let store = RegistryStore::open(&config.data_dir.join("plugins"))?;
        let live = Arc::new(LivePlugins::new(plugins, Some(store), runtime.metrics().clone()));
        live.restore(&runtime, config).await?;
        let state = AppState {
            plugins: live,
            runtime: runtime.clone(),
            config: Arc::new(config.clone()),
            ready: Arc::new(AtomicBool::new(true)),
            generations: Arc::new(Generations::new(config.generations.retention)),
            image_limits: config.generations.image_limits(),
            preview_hosts: Arc::new(config.preview_hosts()),
            max_generation_body: usize::try_from(u64::from(config.generations.max_body_mib) << 20)
                .unwrap_or(usize::MAX),
            tenancy,
            anonymous,
            caps: api::Caps::new(&config.limits),
            hsts: config.tls.as_ref().and_then(crate::config::TlsConfig::hsts).and_then(|v| v.parse().ok()),
        };
        Ok(Self {
            listener,
            admin_listener,
            tls,
            state,
            runtime,
            max_body_bytes: usize::try_from(u64::from(config.max_body_kib) << 10).unwrap_or(usize::MAX),
            grace: Duration::from_secs(config.shutdown_grace_secs),
        })
    }

    /// The address it listens on (useful when the config asked for port 0).
    ///
    /// # Errors
    ///
    /// When the socket has no local address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The control plane's address, when it listens.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin_listener.as_ref().and_then(|listener| listener.local_addr().ok())
    }

    /// Serves until `shutdown` completes, then lets in-flight requests finish for up to
    /// the configured grace period.
    ///
    /// # Errors
    ///
    /// When the server fails or the grace period runs out with requests still open.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Self { listener, admin_listener, tls, state, runtime, max_body_bytes, grace } = self;
        let ready = state.ready.clone();
        let tenancy = state.tenancy.clone();
        let limits = state.config.limits.clone();
        if tls.is_some() {
            tracing::info!(address = ?listener.local_addr().ok(), "terminating TLS");
        }
        let control = admin_listener.map(|admin| {
            let address = admin.local_addr().unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0)));
            tracing::info!(%address, "control plane listening");
            let listener = serve::Listener { tcp: admin, tls: None, limits: limits.clone() };
            tokio::spawn(serve::serve(
                listener,
                api::control::router(state.clone(), address),
                std::future::pending(),
                grace,
            ))
        });
        let watcher = match &state.config.watch_dir {
            Some(dir) => {
                Some(crate::watch::spawn(dir.clone(), state.plugins.clone(), runtime.clone(), state.config.clone())?)
            }
            None => None,
        };
        let app = api::router(state, max_body_bytes);
        let stopping = async move {
            shutdown.await;
            ready.store(false, Ordering::Relaxed);
            tracing::info!(grace_secs = grace.as_secs(), "shutting down; draining in-flight requests");
        };
        let served = serve::serve(serve::Listener { tcp: listener, tls, limits }, app, stopping, grace).await;
        if let Some(watcher) = watcher {
            watcher.abort();
        }
        if let Some(control) = control {
            control.abort();
        }
        // Whatever requests queued for the audit log is written before the process ends.
        tenancy.audit().flush().await;
        drop(runtime);
        Ok(served?)
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
