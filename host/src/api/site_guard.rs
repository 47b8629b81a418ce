//! Guards both listeners against other web sites: cross-site requests (CSRF) and DNS
//! rebinding.
//!
//! - **Host.** Every request must name a host this server answers to (see
//!   [`SiteGuard::new`]); any other `Host` is refused with 421 `host_not_allowed`.
//!   A page on an attacker's domain that rebinds its name to 127.0.0.1 sends its own
//!   name as `Host`, so it never reaches a route.
//! - **Origin.** A state-changing request (POST, PUT, PATCH, DELETE) from a browser is
//!   served only when it comes from this server's own origin or from one the operator
//!   listed in `cors.allowed_origins`: its `Origin` header decides, or, without one, a
//!   `Sec-Fetch-Site` other than `same-origin` or `none` refuses it. Anything else is
//!   refused with 403 `cross_site_request`. A plain HTML form on any site can POST
//!   here without a preflight; this is what stops it spending the operator's keys.
//!   Requests that carry a bearer key are not checked: a browser never attaches one on
//!   its own, so the key itself proves the caller meant it. Clients that are not
//!   browsers send no `Origin` and are unaffected.
//!
//! CORS answers (preflights and response headers) for the listed origins come from
//! [`cors_layer`].

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::ApiError;
use crate::config::Config;

/// What one listener accepts; built once at start-up.
#[derive(Debug, Clone)]
pub struct SiteGuard {
    /// Host names (lowercase, IPv6 in brackets) requests may name.
    hosts: Arc<[String]>,
    /// Whether any IP literal is accepted as a host (a listener on an unspecified
    /// address, whose own addresses are not known here; an IP cannot be rebound).
    any_ip: bool,
    /// Origins (`scheme://host[:port]`, lowercase) that may send state-changing requests.
    origins: Arc<[String]>,
}

impl SiteGuard {
    /// The guard of the listener on `listen`. The allowed hosts are the operator's
    /// `public_hosts`, the listen address itself, and `localhost`, `127.0.0.1` and
    /// `[::1]` (the machine's own names, which no other site can claim); a listener on
    /// `0.0.0.0` or `[::]` also accepts any IP address as host.
    pub fn new(listen: SocketAddr, config: &Config) -> Self {
        let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "[::1]"].map(str::to_owned).to_vec();
        if !listen.ip().is_unspecified() {
            hosts.push(ip_host(listen.ip()));
        }
        hosts.extend(config.public_hosts.iter().map(|host| host.to_ascii_lowercase()));
        let origins = config.cors.allowed_origins.iter().map(|origin| origin.to_ascii_lowercase()).collect();
        Self { hosts: hosts.into(), any_ip: listen.ip().is_unspecified(), origins }
    }

    /// Whether `host` (a `Host` header's host part, without the port) is one to answer.
    fn allows_host(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.hosts.contains(&host) || (self.any_ip && parse_ip_host(&host).is_some())
    }

    /// Why `headers` of a state-changing request come from another site, if they do.
    fn cross_site(&self, headers: &HeaderMap, authority: Option<&str>) -> Option<String> {
        if super::auth::bearer(headers).is_some() {
            return None;
        }
        match headers.get(header::ORIGIN) {
            Some(origin) => {
                let origin = origin.to_str().unwrap_or("(not text)").to_ascii_lowercase();
                let same = authority.is_some_and(|authority| same_origin(&origin, authority));
                (!same && !self.origins.contains(&origin)).then(|| format!("the request comes from `{origin}`"))
            }
            None => match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
                Some(site @ ("cross-site" | "same-site")) => Some(format!("the browser marked it `{site}`")),
                _ => None,
            },
        }
    }
}

/// Middleware: refuses foreign hosts and cross-site state-changing requests.
pub async fn check(State(guard): State<SiteGuard>, request: Request, next: Next) -> Response {
    let authority = authority(&request);
    if let Some(authority) = &authority {
        let (host, _) = split_port(authority);
        if !guard.allows_host(host) {
            return ApiError::new(
                StatusCode::MISDIRECTED_REQUEST,
                "host_not_allowed",
                format!(
                    "this server does not answer to the host `{host}`; if that is its public name, \
                     add it to `public_hosts`"
                ),
            )
            .into_response();
        }
    }
    let changes_state = matches!(*request.method(), Method::POST | Method::PUT | Method::PATCH | Method::DELETE);
    if changes_state && let Some(reason) = guard.cross_site(request.headers(), authority.as_deref()) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_site_request",
            format!(
                "cross-site request refused: {reason}; list the origin in `cors.allowed_origins` \
                 to allow it, or send an API key as a bearer token"
            ),
        )
        .into_response();
    }
    next.run(request).await
}

/// The CORS layer for the operator's `cors.allowed_origins`: answers their preflights
/// and labels responses to them; other origins get no CORS headers, so a browser keeps
/// their scripts from reading anything.
pub fn cors_layer(config: &Config) -> CorsLayer {
    let origins: Vec<HeaderValue> =
        config.cors.allowed_origins.iter().filter_map(|origin| HeaderValue::from_str(origin).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static(super::OWN_KEY_HEADER),
            HeaderName::from_static(super::REQUEST_ID_HEADER),
        ])
        .expose_headers([
            HeaderName::from_static(super::REQUEST_ID_HEADER),
            HeaderName::from_static(super::PLUGINS_HEADER),
        ])
        .max_age(Duration::from_secs(600))
}

/// The host and port the request names: its `Host` header, or the URI's authority
/// (HTTP/2).
fn authority(request: &Request) -> Option<String> {
    match request.headers().get(header::HOST) {
        Some(host) => Some(host.to_str().unwrap_or("(not text)").to_owned()),
        None => request.uri().authority().map(|authority| authority.as_str().to_owned()),
    }
}

/// Whether `origin` (`scheme://host[:port]`, lowercase) is the origin whose host and
/// port `authority` names.
fn same_origin(origin: &str, authority: &str) -> bool {
    let Some((scheme, origin_authority)) = origin.split_once("://") else {
        return false;
    };
    let default_port = match scheme {
        "http" => "80",
        "https" => "443",
        _ => return false,
    };
    let (origin_host, origin_port) = split_port(origin_authority);
    let (host, port) = split_port(authority);
    origin_host.eq_ignore_ascii_case(host) && origin_port.unwrap_or(default_port) == port.unwrap_or(default_port)
}

/// `host[:port]` split at the port, IPv6 literals (`[::1]:8080`) kept in brackets.
fn split_port(authority: &str) -> (&str, Option<&str>) {
    let port_at = match authority.rfind(']') {
        Some(bracket) => authority[bracket..].find(':').map(|i| bracket + i),
        None => authority.rfind(':'),
    };
    match port_at {
        Some(colon) => (&authority[..colon], Some(&authority[colon + 1..])),
        None => (authority, None),
    }
}

/// An IP address as a `Host` header names it.
fn ip_host(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    }
}

/// The IP address a host names, if it is an IP literal.
fn parse_ip_host(host: &str) -> Option<IpAddr> {
    match host.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
        Some(v6) => v6.parse().ok(),
        None => host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4),
    }
}

/// Checks `cors.allowed_origins` and `public_hosts` at start-up.
///
/// # Errors
///
/// Naming the entry that is not an origin (`scheme://host[:port]`) or a host name.
pub fn validate(config: &Config) -> anyhow::Result<()> {
    for origin in &config.cors.allowed_origins {
        let valid = origin.split_once("://").is_some_and(|(scheme, authority)| {
            matches!(scheme, "http" | "https") && !authority.is_empty() && !authority.contains(['/', '@', '*', ' '])
        });
        anyhow::ensure!(
            valid,
            "`cors.allowed_origins`: `{origin}` is not an origin; write `scheme://host[:port]`, e.g. \
             `https://app.example.com` (no path, no wildcard)"
        );
    }
    for host in &config.public_hosts {
        let valid = (!host.is_empty() && !host.contains(['/', ':', '@', '*', ' '])) || parse_ip_host(host).is_some();
        anyhow::ensure!(
            valid,
            "`public_hosts`: `{host}` is not a host name; write it without scheme, port or path, e.g. \
             `airlock.example.com`"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CorsConfig;

    fn guard(listen: &str, public_hosts: &[&str], origins: &[&str]) -> SiteGuard {
        SiteGuard::new(listen.parse().unwrap(), &settings(origins, public_hosts))
    }

    /// A default configuration with these CORS origins and public hosts.
    fn settings(origins: &[&str], public_hosts: &[&str]) -> Config {
        Config {
            public_hosts: public_hosts.iter().map(|h| (*h).to_owned()).collect(),
            cors: CorsConfig { allowed_origins: origins.iter().map(|o| (*o).to_owned()).collect() },
            ..Config::default()
        }
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (HeaderName::from_static(name), HeaderValue::from_str(value).unwrap()))
            .collect()
    }

    #[test]
    fn a_loopback_listener_answers_to_the_machine_names_only() {
        let guard = guard("127.0.0.1:8080", &[], &[]);
        for host in ["localhost", "127.0.0.1", "[::1]", "LOCALHOST"] {
            assert!(guard.allows_host(host), "{host}");
        }
        for host in ["rebind.attacker.example", "10.0.0.1", "localhost.attacker.example", ""] {
            assert!(!guard.allows_host(host), "{host}");
        }
    }

    #[test]
    fn public_hosts_and_unspecified_listeners_widen_the_hosts() {
        let public = guard("10.1.2.3:8080", &["Airlock.example.com"], &[]);
        assert!(public.allows_host("airlock.example.com") && public.allows_host("10.1.2.3"));
        assert!(!public.allows_host("10.9.9.9") && !public.allows_host("evil.example"));
        let any = guard("0.0.0.0:8080", &[], &[]);
        assert!(any.allows_host("192.168.1.20") && any.allows_host("[fe80::1]"));
        assert!(!any.allows_host("rebind.attacker.example"));
    }

    #[test]
    fn origins_other_than_the_servers_own_and_the_listed_ones_are_cross_site() {
        let guard = guard("127.0.0.1:8080", &[], &["https://app.example.com"]);
        let at = Some("127.0.0.1:8080");
        assert!(guard.cross_site(&headers(&[("origin", "http://127.0.0.1:8080")]), at).is_none());
        assert!(guard.cross_site(&headers(&[("origin", "https://app.example.com")]), at).is_none());
        assert!(guard.cross_site(&headers(&[]), at).is_none());
        assert!(guard.cross_site(&headers(&[("sec-fetch-site", "same-origin")]), at).is_none());
        for refused in [
            headers(&[("origin", "https://evil.test")]),
            headers(&[("origin", "null")]),
            headers(&[("origin", "http://127.0.0.1:9999")]),
            headers(&[("origin", "https://127.0.0.1:8080.evil.test")]),
            headers(&[("sec-fetch-site", "cross-site")]),
            headers(&[("sec-fetch-site", "same-site")]),
        ] {
            assert!(guard.cross_site(&refused, at).is_some(), "{refused:?}");
        }
        let with_key = headers(&[("origin", "https://evil.test"), ("authorization", "Bearer ak_x")]);
        assert!(guard.cross_site(&with_key, at).is_none());
    }

    #[test]
    fn default_ports_are_the_same_origin() {
        assert!(same_origin("http://localhost", "localhost:80"));
        assert!(same_origin("https://a.example:443", "a.example"));
        assert!(same_origin("http://[::1]:8080", "[::1]:8080"));
        assert!(!same_origin("http://localhost", "localhost:8080"));
        assert!(!same_origin("file://", "localhost"));
    }

    #[test]
    fn settings_that_cannot_work_are_refused() {
        assert!(validate(&settings(&["*"], &[])).unwrap_err().to_string().contains("not an origin"));
        assert!(validate(&settings(&["https://app.example.com/path"], &[])).is_err());
        let scheme_in_host = settings(&["http://localhost:3000"], &["https://airlock.example.com"]);
        assert!(validate(&scheme_in_host).unwrap_err().to_string().contains("`public_hosts`"));
        validate(&settings(&["http://localhost:3000"], &["airlock.example.com", "[::1]"])).unwrap();
    }
}
