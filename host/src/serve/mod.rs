//! The API listener's accept loop: HTTP/1.1 over TCP or TLS, with a cap on open
//! connections, a deadline for each request's headers (and the TLS handshake), and a
//! graceful shutdown that drains open connections, streams included, within a deadline.
//!
//! `axum::serve` offers none of these knobs; this loop is what it does plus them.

mod tls;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

pub use tls::Tls;

use crate::config::TransportLimits;

/// What the accept loop needs besides the router.
pub struct Listener {
    /// The bound socket.
    pub tcp: TcpListener,
    /// TLS termination, when configured.
    pub tls: Option<Tls>,
    /// Connection and header limits.
    pub limits: TransportLimits,
}

/// Why serving ended badly.
#[derive(Debug, thiserror::Error)]
#[error("{open} connection(s) still open after the {} s shutdown grace period", grace.as_secs())]
pub struct DrainTimeout {
    /// Connections cut off.
    pub open: usize,
    /// The grace period that ran out.
    pub grace: Duration,
}

/// Serves `app` on `listener` until `shutdown` completes, then stops accepting and gives
/// open connections `grace` to finish their requests (streams included). Connections
/// still open then are closed.
///
/// # Errors
///
/// [`DrainTimeout`] when the grace period ran out.
pub async fn serve(
    listener: Listener,
    app: Router,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> Result<(), DrainTimeout> {
    let Listener { tcp, tls, limits } = listener;
    let connections = Arc::new(Semaphore::new(usize::try_from(limits.max_connections.max(1)).unwrap_or(usize::MAX)));
    let graceful = GracefulShutdown::new();
    let service = TowerToHyperService::new(app);
    let acceptor = tls.as_ref().map(|tls| tls.acceptor.clone());
    let mut open = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        while open.try_join_next().is_some() {}
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = connections.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = tcp.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Small writes (SSE events) go out at once, not after the client's delayed ACK.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "could not set TCP_NODELAY");
        }
        let service = service.clone();
        let watcher = graceful.watcher();
        let header_timeout = limits.header_read_timeout();
        let acceptor = acceptor.clone();
        open.spawn(async move {
            let _permit = permit;
            match acceptor {
                None => serve_connection(stream, service, watcher, header_timeout).await,
                Some(acceptor) => match tokio::time::timeout(header_timeout, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => serve_connection(stream, service, watcher, header_timeout).await,
                    Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                    Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                },
            }
        });
    }
    drop(tcp);
    if let Some(tls) = tls {
        tls.reloader.abort();
    }
    tokio::select! {
        () = graceful.shutdown() => Ok(()),
        () = tokio::time::sleep(grace) => {
            while open.try_join_next().is_some() {}
            let cut_off = open.len();
            open.abort_all();
            Err(DrainTimeout { open: cut_off, grace })
        }
    }
}

type Service = TowerToHyperService<Router>;

/// Serves HTTP/1.1 on one connection until the client leaves or shutdown closes it.
async fn serve_connection<S>(
    stream: S,
    service: Service,
    watcher: hyper_util::server::graceful::Watcher,
    header_timeout: Duration,
) where
    S: AsyncRead + AsyncWrite + Send + Unpin + 'static,
{
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .serve_connection(TokioIo::new(stream), service);
    if let Err(error) = watcher.watch(connection).await {
        tracing::debug!(%error, "connection ended with an error");
    }
}
