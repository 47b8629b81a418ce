//! Name resolution for the gate: the host resolves, drops every address a plugin must
//! not reach, and the connection then goes to exactly the addresses that were kept —
//! there is no second lookup an attacker's DNS could answer differently (no rebinding
//! window).

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::policy::check_address;

/// A future of looked-up addresses.
pub type Lookup = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;

/// Turns a host name into addresses: the system resolver in production, a fixed table
/// in tests.
pub trait NameLookup: Send + Sync + 'static {
    /// The addresses of `host`.
    fn lookup(&self, host: &str) -> Lookup;
}

/// The operating system's resolver (`getaddrinfo`, on a blocking thread).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl NameLookup for SystemLookup {
    fn lookup(&self, host: &str) -> Lookup {
        let host = host.to_owned();
        Box::pin(async move { Ok(tokio::net::lookup_host((host, 0)).await?.map(|addr| addr.ip()).collect()) })
    }
}

/// A resolver for one plugin's client that keeps only the addresses the plugin may reach.
pub struct CheckedResolver {
    lookup: Arc<dyn NameLookup>,
    /// Hosts the operator marked local: their addresses are not filtered.
    local_hosts: Vec<String>,
}

impl CheckedResolver {
    /// A resolver that trusts `local_hosts` (lowercase host names) to resolve anywhere.
    pub fn new(lookup: Arc<dyn NameLookup>, local_hosts: Vec<String>) -> Self {
        Self { lookup, local_hosts }
    }
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        let local = self.local_hosts.contains(&host);
        let lookup = self.lookup.lookup(&host);
        Box::pin(async move {
            let addresses = lookup.await?;
            let kept = keep_reachable(&host, local, addresses)?;
            let addrs: Addrs = Box::new(kept.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// The addresses `host` may use, or the denial for the first forbidden one when none
/// is left.
fn keep_reachable(
    host: &str,
    local: bool,
    addresses: Vec<IpAddr>,
) -> Result<Vec<IpAddr>, Box<dyn std::error::Error + Send + Sync>> {
    let mut denial = None;
    let kept: Vec<IpAddr> = addresses
        .into_iter()
        .filter(|&address| match check_address(host, local, address) {
            Ok(()) => true,
            Err(refused) => {
                denial.get_or_insert(refused);
                false
            }
        })
        .collect();
    match (kept.is_empty(), denial) {
        (false, _) => Ok(kept),
        (true, Some(denial)) => Err(Box::new(denial)),
        (true, None) => Err(format!("`{host}` has no addresses").into()),
    }
}

/// A fixed table of names, for tests that need a name resolving somewhere specific.
#[derive(Debug, Clone, Default)]
pub struct StaticLookup(pub Vec<(String, IpAddr)>);

impl NameLookup for StaticLookup {
    fn lookup(&self, host: &str) -> Lookup {
        let found: Vec<IpAddr> =
            self.0.iter().filter(|(name, _)| name.eq_ignore_ascii_case(host)).map(|(_, ip)| *ip).collect();
        let host = host.to_owned();
        Box::pin(async move {
            if found.is_empty() {
                Err(io::Error::new(io::ErrorKind::NotFound, format!("`{host}` is not in the test resolver's table")))
            } else {
                Ok(found)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolver(table: &[(&str, &str)], local: &[&str]) -> CheckedResolver {
        let table = table.iter().map(|(name, ip)| ((*name).to_owned(), ip.parse().unwrap())).collect();
        CheckedResolver::new(Arc::new(StaticLookup(table)), local.iter().map(|h| (*h).to_owned()).collect())
    }

    async fn resolve(resolver: &CheckedResolver, host: &str) -> Result<Vec<IpAddr>, String> {
        let name: Name = host.parse().unwrap();
        match resolver.resolve(name).await {
            Ok(addrs) => Ok(addrs.map(|a| a.ip()).collect()),
            Err(error) => Err(error.to_string()),
        }
    }

    #[tokio::test]
    async fn forbidden_addresses_are_dropped_and_all_forbidden_is_denied() {
        let r =
            resolver(&[("mixed.test", "93.184.216.34"), ("mixed.test", "10.0.0.7"), ("rebind.test", "127.0.0.1")], &[]);
        assert_eq!(resolve(&r, "mixed.test").await, Ok(vec!["93.184.216.34".parse().unwrap()]));
        let error = resolve(&r, "rebind.test").await.unwrap_err();
        assert_eq!(error, "`rebind.test` resolves to 127.0.0.1, a loopback address");
    }

    #[tokio::test]
    async fn local_hosts_resolve_anywhere() {
        let r = resolver(&[("ollama.lan", "192.168.1.20")], &["ollama.lan"]);
        assert_eq!(resolve(&r, "ollama.lan").await, Ok(vec!["192.168.1.20".parse().unwrap()]));
    }
}
