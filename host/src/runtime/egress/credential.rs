//! Credentials: bound by the operator to hosts, added by the host after the guest built
//! the request, never visible to the guest.
//!
//! The provider's manifest says *how* a key is presented ([`Placement`]); the operator
//! says *which* key and *where* it may go ([`Credential`]). [`apply`] first removes
//! whatever the guest put where the key goes, then adds the key only when the request's
//! destination is one the credential is bound to — a plugin that lists an attacker's
//! host in its manifest gets its request sent there without the key, if at all.

use std::fmt;

use http::header::{HeaderName, HeaderValue};
use http::uri::{PathAndQuery, Uri};
use zeroize::Zeroizing;

use super::policy::{AllowedHost, Destination};

/// Where the credential goes on an outgoing request, as the provider's manifest says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// A header; `{key}` in `format` stands for the key (`Bearer {key}`).
    Header {
        /// The header's name.
        name: HeaderName,
        /// Its value, with `{key}` where the key goes.
        format: String,
    },
    /// A query parameter with this name.
    Query(String),
    /// The upstream takes no credential.
    None,
}

/// Why a manifest's placement is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlacementError {
    /// The header name is not a valid HTTP header name.
    #[error("`{0}` is not a valid header name for the credential")]
    HeaderName(String),
    /// The format does not contain `{key}`.
    #[error("the credential format `{0}` does not contain `{{key}}`")]
    NoKey(String),
    /// The query parameter name is empty or not plain.
    #[error("`{0}` is not a valid query parameter name for the credential")]
    QueryName(String),
}

impl Placement {
    /// A header placement.
    ///
    /// # Errors
    ///
    /// When `name` is not a header name or `format` lacks `{key}`.
    pub fn header(name: &str, format: &str) -> Result<Self, PlacementError> {
        let name = HeaderName::try_from(name).map_err(|_| PlacementError::HeaderName(name.to_owned()))?;
        if !format.contains("{key}") {
            return Err(PlacementError::NoKey(format.to_owned()));
        }
        Ok(Placement::Header { name, format: format.to_owned() })
    }

    /// A query-parameter placement.
    ///
    /// # Errors
    ///
    /// When `name` is empty or holds anything but ASCII letters, digits, `-`, `_`, `.`.
    pub fn query(name: &str) -> Result<Self, PlacementError> {
        let plain = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if plain { Ok(Placement::Query(name.to_owned())) } else { Err(PlacementError::QueryName(name.to_owned())) }
    }

    /// The header the guest may neither set nor read, if the key goes in a header.
    pub fn header_name(&self) -> Option<&HeaderName> {
        match self {
            Placement::Header { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// A key and the hosts it may be sent to. Zeroized when dropped; never printed.
pub struct Credential {
    key: Zeroizing<String>,
    hosts: Vec<AllowedHost>,
}

impl Credential {
    /// A key bound to `hosts`.
    pub fn new(key: String, hosts: Vec<AllowedHost>) -> Self {
        Self { key: Zeroizing::new(key), hosts }
    }

    /// Whether the key may be sent to `destination`.
    pub fn is_bound_to(&self, destination: &Destination) -> bool {
        self.hosts.iter().any(|host| host.matches(destination.host(), destination.port()))
    }

    /// The hosts the key is bound to.
    pub fn hosts(&self) -> &[AllowedHost] {
        &self.hosts
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential").field("key", &"<redacted>").field("hosts", &self.hosts).finish()
    }
}

/// Whether [`apply`] added the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The key was added.
    Key,
    /// No key: none configured, none needed, or the destination is not bound.
    Nothing,
}

/// Puts the credential on a request bound for `destination`, after removing anything
/// the guest put in its place (the header, or the query parameter).
pub fn apply(
    placement: &Placement,
    credential: Option<&Credential>,
    destination: &Destination,
    parts: &mut http::request::Parts,
) -> Applied {
    let key = credential.filter(|credential| credential.is_bound_to(destination)).map(|credential| &credential.key);
    match placement {
        Placement::None => Applied::Nothing,
        Placement::Header { name, format } => {
            parts.headers.remove(name);
            let Some(key) = key else { return Applied::Nothing };
            let value = Zeroizing::new(format.replace("{key}", key));
            match HeaderValue::from_str(&value) {
                Ok(mut value) => {
                    value.set_sensitive(true);
                    parts.headers.insert(name.clone(), value);
                    Applied::Key
                }
                // A key with a newline or other byte a header cannot carry: send none.
                Err(_) => Applied::Nothing,
            }
        }
        Placement::Query(name) => {
            let pairs: Vec<(String, String)> = query_pairs(&parts.uri).filter(|(param, _)| param != name).collect();
            let mut query = form_urlencoded::Serializer::new(String::new());
            query.extend_pairs(&pairs);
            if let Some(key) = key {
                query.append_pair(name, key);
            }
            let query = Zeroizing::new(query.finish());
            let path = parts.uri.path();
            let path_and_query = if query.is_empty() { path.to_owned() } else { format!("{path}?{}", query.as_str()) };
            let path_and_query = Zeroizing::new(path_and_query);
            let mut uri = parts.uri.clone().into_parts();
            match PathAndQuery::try_from(path_and_query.as_str()) {
                Ok(pq) => uri.path_and_query = Some(pq),
                Err(_) => return Applied::Nothing,
            }
            match Uri::from_parts(uri) {
                Ok(new) => {
                    parts.uri = new;
                    if key.is_some() { Applied::Key } else { Applied::Nothing }
                }
                Err(_) => Applied::Nothing,
            }
        }
    }
}

fn query_pairs(uri: &Uri) -> impl Iterator<Item = (String, String)> + '_ {
    form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::egress::policy::EgressPolicy;

    fn destination(host: &str) -> Destination {
        let allowed: Vec<AllowedHost> = vec![host.parse().unwrap()];
        EgressPolicy::new(&[host.to_owned()], &allowed).check("https", host, None).unwrap()
    }

    fn parts(uri: &str, headers: &[(&str, &str)]) -> http::request::Parts {
        let mut builder = http::Request::builder().uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap().into_parts().0
    }

    fn openai_key() -> Credential {
        Credential::new("sk-test-123".into(), vec!["api.openai.com".parse().unwrap()])
    }

    #[test]
    fn header_key_replaces_what_the_guest_set() {
        let placement = Placement::header("authorization", "Bearer {key}").unwrap();
        let mut request = parts("https://api.openai.com/v1/chat", &[("authorization", "Bearer guest-chosen")]);
        let applied = apply(&placement, Some(&openai_key()), &destination("api.openai.com"), &mut request);
        assert_eq!(applied, Applied::Key);
        let values: Vec<_> = request.headers.get_all("authorization").iter().collect();
        assert_eq!(values, ["Bearer sk-test-123"]);
        assert!(values[0].is_sensitive());
    }

    #[test]
    fn no_key_for_a_host_the_credential_is_not_bound_to() {
        let placement = Placement::header("x-api-key", "{key}").unwrap();
        let mut request = parts("https://attacker.example/steal", &[("x-api-key", "smuggled")]);
        let applied = apply(&placement, Some(&openai_key()), &destination("attacker.example"), &mut request);
        assert_eq!(applied, Applied::Nothing);
        assert!(request.headers.get("x-api-key").is_none(), "the guest's own value is removed too");
    }

    #[test]
    fn query_key_replaces_the_guests_parameter_and_keeps_the_rest() {
        let placement = Placement::query("key").unwrap();
        let credential = Credential::new("AIza-secret".into(), vec!["api.openai.com".parse().unwrap()]);
        let mut request = parts("https://api.openai.com/v1/models?alt=sse&key=guest", &[]);
        assert_eq!(apply(&placement, Some(&credential), &destination("api.openai.com"), &mut request), Applied::Key);
        assert_eq!(request.uri.to_string(), "https://api.openai.com/v1/models?alt=sse&key=AIza-secret");
        let mut elsewhere = parts("https://other.example/x?key=guest", &[]);
        apply(&placement, Some(&credential), &destination("other.example"), &mut elsewhere);
        assert_eq!(elsewhere.uri.to_string(), "https://other.example/x");
    }

    #[test]
    fn placements_are_validated() {
        assert_eq!(Placement::header("x-key", "plain"), Err(PlacementError::NoKey("plain".into())));
        assert!(Placement::header("bad header", "{key}").is_err());
        assert!(Placement::query("a&b").is_err());
    }

    #[test]
    fn debug_never_shows_the_key() {
        assert!(!format!("{:?}", openai_key()).contains("sk-test"));
    }
}
