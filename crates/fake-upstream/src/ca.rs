//! A throwaway certificate authority and a server certificate for the vendors' host
//! names, so tests exercise real TLS (with SNI and verification) against 127.0.0.1.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Host names the server certificate is valid for.
pub const HOSTS: &[&str] = &[
    "api.openai.com",
    "api.anthropic.com",
    "generativelanguage.googleapis.com",
    "airlock-test.openai.azure.com",
    "localhost",
    "attacker.test",
    "rebind.test",
];

/// A CA and a server certificate it signed.
pub struct TestCa {
    ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
    server_pem: (String, String),
}

impl TestCa {
    /// Generates a new CA and a server certificate for [`HOSTS`].
    ///
    /// # Panics
    ///
    /// When key generation fails (it does not, with ring).
    pub fn new() -> Self {
        Self::for_hosts(HOSTS)
    }

    /// Generates a new CA and a server certificate for `hosts`.
    ///
    /// # Panics
    ///
    /// When key generation fails, or a host is not a valid DNS name.
    pub fn for_hosts(hosts: &[&str]) -> Self {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca_params, ca_key);
        let server_key = KeyPair::generate().expect("server key");
        let names: Vec<String> = hosts.iter().map(|h| (*h).to_owned()).collect();
        let server_cert = CertificateParams::new(names)
            .expect("server params")
            .signed_by(&server_key, &issuer)
            .expect("server certificate");
        Self {
            ca_pem: ca_cert.pem(),
            chain: vec![server_cert.der().clone()],
            key: server_key.serialize_der(),
            server_pem: (server_cert.pem(), server_key.serialize_pem()),
        }
    }

    /// The CA certificate, PEM-encoded: what the client under test must trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The server certificate and its private key, PEM-encoded: what a server under
    /// test is configured with.
    pub fn server_pem(&self) -> (&str, &str) {
        (&self.server_pem.0, &self.server_pem.1)
    }

    pub(crate) fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()));
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), key)
            .expect("server certificate");
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}
