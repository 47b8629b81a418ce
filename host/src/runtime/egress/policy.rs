//! Which destinations a plugin's outgoing request may name, before DNS.
//!
//! A destination is allowed only if the plugin's manifest lists its host **and** the
//! operator allows that host for the plugin: the manifest says what a plugin needs, the
//! operator decides what it gets (a manifest listing `*` leaves the choice to the
//! operator alone: the `openai-compatible` provider, whose server the operator picks).
//! Only `https` is allowed, except for hosts the operator writes as `http://…`
//! (`http://localhost:11434` for an Ollama). Hosts the operator marks local — every
//! `http://` entry, and `https://` entries listed as local — are exempt from the
//! address check of `address.rs`.
//! Everything fails closed: a host that does not parse is not allowed.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use super::address::{METADATA, forbidden_reason};

/// A host the operator allows, as written in the config: `api.openai.com`,
/// `api.example.com:8443`, or `http://localhost:11434` for a local upstream.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AllowedHost {
    host: String,
    port: u16,
    /// Written as `http://`: plain http allowed.
    plain_http: bool,
    /// Exempt from the address check.
    local: bool,
}

/// Why an allowed-host entry does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{entry}` is not an allowed host ({problem}); write `api.example.com`, `api.example.com:8443` or `http://localhost:11434`"
)]
pub struct AllowedHostError {
    entry: String,
    problem: &'static str,
}

impl FromStr for AllowedHost {
    type Err = AllowedHostError;

    fn from_str(entry: &str) -> Result<Self, Self::Err> {
        let error = |problem| AllowedHostError { entry: entry.to_owned(), problem };
        let (rest, local, default_port) = match entry.split_once("://") {
            Some(("https", rest)) => (rest, false, 443),
            Some(("http", rest)) => (rest, true, 80),
            Some(_) => return Err(error("only https, or http for a local upstream")),
            None => (entry, false, 443),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() || rest.contains(['/', '?', '#', '@', '*', ' ']) {
            return Err(error("a host and an optional port, nothing else; no wildcards"));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().map_err(|_| error("the port is not a number"))?),
            None => (rest, default_port),
        };
        if host.is_empty() {
            return Err(error("the host is empty"));
        }
        Ok(Self { host: host.to_ascii_lowercase(), port, plain_http: local, local })
    }
}

impl TryFrom<String> for AllowedHost {
    type Error = AllowedHostError;

    fn try_from(entry: String) -> Result<Self, Self::Error> {
        entry.parse()
    }
}

impl From<AllowedHost> for String {
    fn from(host: AllowedHost) -> Self {
        host.to_string()
    }
}

impl AllowedHost {
    /// Whether a manifest with `manifest_hosts` lets its plugin reach this host: it
    /// lists the name, `*`, or `*.parent` where the host is one label under `parent`
    /// (`*.openai.azure.com` lists `res.openai.azure.com`, not `a.b.openai.azure.com`).
    pub fn listed_in(&self, manifest_hosts: &[String]) -> bool {
        manifest_hosts.iter().any(|listed| {
            let under = listed.strip_prefix("*.").and_then(|parent| {
                let label = self.host.strip_suffix(&parent.to_ascii_lowercase())?.strip_suffix('.')?;
                Some(!label.is_empty() && !label.contains('.'))
            });
            listed == "*" || listed.eq_ignore_ascii_case(&self.host) || under == Some(true)
        })
    }

    /// The same entry, exempt from the address check (the operator's `local_hosts`).
    #[must_use]
    pub fn into_local(mut self) -> Self {
        self.local = true;
        self
    }

    /// Its host name, lowercase.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether it names `host` (lowercase) and `port`.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        self.host == host && self.port == port
    }
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    /// The host is not in both the manifest and the operator's list.
    #[error("`{host}:{port}` is not an allowed destination for this plugin")]
    HostNotAllowed {
        /// The host asked for.
        host: String,
        /// The port asked for.
        port: u16,
    },
    /// Plain http (or another scheme) to a host not marked local.
    #[error("`{scheme}` is not allowed; plugins reach non-local hosts over https only")]
    InsecureScheme {
        /// The scheme asked for.
        scheme: String,
    },
    /// The name resolved to an address inside the host's network.
    #[error("`{host}` resolves to {address}, a {reason}")]
    ForbiddenAddress {
        /// The host asked for.
        host: String,
        /// The address it resolved to.
        address: IpAddr,
        /// Which kind of address.
        reason: &'static str,
    },
}

/// A destination that passed [`EgressPolicy::check`]; only the policy builds one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    host: String,
    port: u16,
    local: bool,
}

impl Destination {
    /// The host.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Checks an address the host resolved for this destination.
    ///
    /// # Errors
    ///
    /// [`Denial::ForbiddenAddress`] unless the operator marked the host local; a cloud
    /// metadata address is refused even then (no model server lives there).
    pub fn check_address(&self, address: IpAddr) -> Result<(), Denial> {
        check_address(&self.host, self.local, address)
    }
}

/// Checks an address `host` resolved to; `local` hosts may resolve to internal
/// addresses, but never to a cloud metadata address.
pub fn check_address(host: &str, local: bool, address: IpAddr) -> Result<(), Denial> {
    match forbidden_reason(address) {
        Some(reason) if !local || is_metadata(address) => {
            Err(Denial::ForbiddenAddress { host: host.to_owned(), address, reason })
        }
        _ => Ok(()),
    }
}

/// Whether `address` is a cloud metadata endpoint (169.254.169.254, fd00:ec2::254, and
/// their IPv4-mapped forms).
fn is_metadata(address: IpAddr) -> bool {
    forbidden_reason(address) == Some(METADATA)
}

/// The destinations one plugin may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    allowed: Vec<AllowedHost>,
}

impl EgressPolicy {
    /// The operator's hosts that the manifest also lists (by host name).
    pub fn new(manifest_hosts: &[String], operator_hosts: &[AllowedHost]) -> Self {
        let allowed = operator_hosts.iter().filter(|allowed| allowed.listed_in(manifest_hosts)).cloned().collect();
        Self { allowed }
    }

    /// The allowed hosts.
    pub fn allowed(&self) -> &[AllowedHost] {
        &self.allowed
    }

    /// The names of allowed hosts marked local (their addresses are not checked).
    pub fn local_hosts(&self) -> Vec<String> {
        self.allowed.iter().filter(|allowed| allowed.local).map(|allowed| allowed.host.clone()).collect()
    }

    /// Checks a request's scheme, host and port (the port defaults from the scheme).
    ///
    /// # Errors
    ///
    /// [`Denial::HostNotAllowed`] or [`Denial::InsecureScheme`].
    pub fn check(&self, scheme: &str, host: &str, port: Option<u16>) -> Result<Destination, Denial> {
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return Err(Denial::InsecureScheme { scheme }),
        };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let port = port.unwrap_or(default_port);
        let allowed = self
            .allowed
            .iter()
            .find(|allowed| allowed.matches(&host, port))
            .ok_or_else(|| Denial::HostNotAllowed { host: host.clone(), port })?;
        if scheme == "http" && !allowed.plain_http {
            return Err(Denial::InsecureScheme { scheme });
        }
        Ok(Destination { host, port, local: allowed.local })
    }
}

impl fmt::Display for AllowedHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.plain_http { "http" } else { "https" };
        write!(f, "{scheme}://{}:{}", self.host, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(entries: &[&str]) -> Vec<AllowedHost> {
        entries.iter().map(|entry| entry.parse().expect("valid entry")).collect()
    }

    fn policy() -> EgressPolicy {
        let manifest = vec!["api.openai.com".to_owned(), "localhost".to_owned(), "evil.example".to_owned()];
        EgressPolicy::new(&manifest, &hosts(&["api.openai.com", "http://localhost:11434", "api.anthropic.com"]))
    }

    #[test]
    fn entries_parse_with_their_defaults() {
        assert_eq!(hosts(&["API.OpenAI.com"])[0].to_string(), "https://api.openai.com:443");
        assert_eq!(hosts(&["https://api.example.com:8443/"])[0].to_string(), "https://api.example.com:8443");
        assert_eq!(hosts(&["http://localhost:11434"])[0].to_string(), "http://localhost:11434");
        for bad in ["*.openai.com", "ftp://x", "https://a.com/path", "https://user@a.com", "a.com:port", ""] {
            let error = bad.parse::<AllowedHost>().unwrap_err().to_string();
            assert!(error.starts_with(&format!("`{bad}` is not an allowed host")), "{error}");
        }
    }

    #[test]
    fn only_hosts_in_both_lists_are_allowed() {
        let policy = policy();
        assert_eq!(policy.check("https", "api.openai.com", None).map(|d| d.port()), Ok(443));
        assert_eq!(
            policy.check("HTTPS", "API.OPENAI.COM.", Some(443)).map(|d| d.host().to_owned()),
            Ok("api.openai.com".into())
        );
        // In the operator's list but not the manifest's, and the other way round.
        assert_eq!(
            policy.check("https", "api.anthropic.com", None),
            Err(Denial::HostNotAllowed { host: "api.anthropic.com".into(), port: 443 })
        );
        assert_eq!(
            policy.check("https", "evil.example", None),
            Err(Denial::HostNotAllowed { host: "evil.example".into(), port: 443 })
        );
        assert_eq!(
            policy.check("https", "api.openai.com", Some(8443)),
            Err(Denial::HostNotAllowed { host: "api.openai.com".into(), port: 8443 })
        );
    }

    #[test]
    fn plain_http_only_to_local_hosts() {
        let policy = policy();
        assert_eq!(
            policy.check("http", "api.openai.com", Some(443)),
            Err(Denial::InsecureScheme { scheme: "http".into() })
        );
        assert_eq!(
            policy.check("gopher", "api.openai.com", None),
            Err(Denial::InsecureScheme { scheme: "gopher".into() })
        );
        assert!(policy.check("http", "localhost", Some(11434)).is_ok());
    }

    #[test]
    fn resolved_addresses_are_checked_unless_local() {
        let policy = policy();
        let openai = policy.check("https", "api.openai.com", None).expect("allowed");
        assert_eq!(openai.check_address("104.18.6.192".parse().unwrap()), Ok(()));
        assert_eq!(
            openai.check_address("169.254.169.254".parse().unwrap()),
            Err(Denial::ForbiddenAddress {
                host: "api.openai.com".into(),
                address: "169.254.169.254".parse().unwrap(),
                reason: "cloud metadata address"
            })
        );
        let ollama = policy.check("http", "localhost", Some(11434)).expect("allowed");
        assert_eq!(ollama.check_address("127.0.0.1".parse().unwrap()), Ok(()));
    }

    #[test]
    fn https_hosts_marked_local_skip_the_address_check_but_keep_https() {
        let local: AllowedHost = "llm.internal:8443".parse::<AllowedHost>().unwrap().into_local();
        let policy = EgressPolicy::new(&["llm.internal".to_owned()], &[local]);
        assert_eq!(policy.local_hosts(), ["llm.internal"]);
        let destination = policy.check("https", "llm.internal", Some(8443)).expect("allowed");
        assert_eq!(destination.check_address("10.1.2.3".parse().unwrap()), Ok(()));
        assert_eq!(
            policy.check("http", "llm.internal", Some(8443)),
            Err(Denial::InsecureScheme { scheme: "http".into() })
        );
    }

    #[test]
    fn a_host_family_lists_exactly_one_label_under_its_parent() {
        let family = ["*.openai.azure.com".to_owned()];
        let listed = |host: &str| host.parse::<AllowedHost>().unwrap().listed_in(&family);
        assert!(listed("myres.openai.azure.com"));
        assert!(listed("MyRes.OpenAI.Azure.com:443"));
        for not_listed in
            ["openai.azure.com", "a.b.openai.azure.com", "evilopenai.azure.com", "openai.azure.com.evil.test"]
        {
            assert!(!listed(not_listed), "{not_listed}");
        }
    }

    #[test]
    fn a_wildcard_manifest_leaves_the_choice_to_the_operator() {
        let policy = EgressPolicy::new(&["*".to_owned()], &hosts(&["http://127.0.0.1:11434"]));
        assert!(policy.check("http", "127.0.0.1", Some(11434)).is_ok());
        assert!(policy.check("https", "api.openai.com", None).is_err());
    }
}
