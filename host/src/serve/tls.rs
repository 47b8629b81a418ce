//! TLS termination with a certificate that is reloaded when its files change.
//!
//! The acceptor's resolver hands every new handshake the key pair last loaded; a task
//! polls the files' modification times and swaps in a new pair when both load. A pair
//! that does not load (half-written, mismatched) is logged and the old one stays in
//! service, so a botched renewal never takes the listener down.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::Context;
use arc_swap::ArcSwap;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::config::TlsConfig;

/// The key pair in service, swappable.
struct ReloadingCert {
    current: ArcSwap<CertifiedKey>,
}

impl fmt::Debug for ReloadingCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReloadingCert").finish_non_exhaustive()
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

/// A TLS acceptor whose certificate follows its files.
pub struct Tls {
    /// Accepts TLS connections with the current certificate.
    pub acceptor: tokio_rustls::TlsAcceptor,
    /// Polls the files; aborted when the server stops.
    pub reloader: tokio::task::JoinHandle<()>,
}

impl Tls {
    /// Loads the certificate and key named by `config` and starts watching them.
    ///
    /// # Errors
    ///
    /// When the files cannot be read, hold no certificate or key, or do not match.
    pub fn start(config: &TlsConfig) -> anyhow::Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let first = load(&config.cert_file, &config.key_file, &provider)?;
        let cert = Arc::new(ReloadingCert { current: ArcSwap::from_pointee(first) });
        let mut server = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_no_client_auth()
            .with_cert_resolver(cert.clone());
        server.alpn_protocols = vec![b"http/1.1".to_vec()];
        let reloader = tokio::spawn(watch(config.clone(), cert, provider));
        Ok(Self { acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(server)), reloader })
    }
}

/// Reloads the pair whenever either file's modification time changes.
async fn watch(config: TlsConfig, cert: Arc<ReloadingCert>, provider: Arc<rustls::crypto::CryptoProvider>) {
    let stamp = |config: &TlsConfig| (modified(&config.cert_file), modified(&config.key_file));
    let mut seen = stamp(&config);
    let mut ticks = tokio::time::interval(config.reload_interval());
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = stamp(&config);
        if now == seen {
            continue;
        }
        let (cert_file, key_file) = (config.cert_file.clone(), config.key_file.clone());
        let provider = provider.clone();
        let loaded = tokio::task::spawn_blocking(move || load(&cert_file, &key_file, &provider)).await;
        match loaded {
            Ok(Ok(pair)) => {
                cert.current.store(Arc::new(pair));
                seen = now;
                tracing::info!(cert = %config.cert_file.display(), "TLS certificate reloaded");
            }
            // Tried again on the next tick: the files may be mid-rotation.
            Ok(Err(error)) => {
                tracing::warn!(error = %format!("{error:#}"), "TLS certificate not reloaded; the previous one stays")
            }
            Err(error) => tracing::error!(%error, "TLS certificate reload failed"),
        }
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|meta| meta.modified()).ok()
}

/// Reads a certificate chain and its private key and checks that they belong together.
fn load(
    cert_file: &PathBuf,
    key_file: &PathBuf,
    provider: &rustls::crypto::CryptoProvider,
) -> anyhow::Result<CertifiedKey> {
    let chain = CertificateDer::pem_file_iter(cert_file)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("reading the certificate chain {}", cert_file.display()))?;
    anyhow::ensure!(!chain.is_empty(), "{} holds no certificate", cert_file.display());
    let key = PrivateKeyDer::from_pem_file(key_file)
        .with_context(|| format!("reading the private key {}", key_file.display()))?;
    let pair = CertifiedKey::from_der(chain, key, provider)
        .with_context(|| format!("{} and {} do not form a usable pair", cert_file.display(), key_file.display()))?;
    Ok(pair)
}
