//! Settings of the multi-tenant gateway: the control plane's listener, who may call
//! without a key, model aliases with fallbacks, and the price table for usage costs.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// The `[gateway]` table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayConfig {
    /// Address of the control plane (tenants, keys, credentials, usage, audit). By
    /// default `127.0.0.1:8081`; keep it off public interfaces.
    pub admin_listen: Option<SocketAddr>,
    /// Whether the screenshot-to-code API and the browser app may be used without an
    /// API key. By default only when `listen` is a loopback address. The
    /// OpenAI-compatible API always needs a key.
    pub anonymous: Option<bool>,
    /// Model aliases: a name callers use, routed to `provider/model` targets tried in
    /// order (the next on 429, 5xx or a timeout before the answer starts).
    pub models: BTreeMap<String, ModelAlias>,
    /// Prices per model id (without the provider), in US dollars per million tokens,
    /// for the usage cost estimate.
    pub prices: BTreeMap<String, Price>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            admin_listen: Some(SocketAddr::from(([127, 0, 0, 1], 8081))),
            anonymous: None,
            models: BTreeMap::new(),
            prices: BTreeMap::new(),
        }
    }
}

/// One model alias.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelAlias {
    /// `provider/model` targets, in the order they are tried.
    pub routes: Vec<String>,
}

/// A model's price, US dollars per million tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Price {
    /// Per million prompt tokens.
    pub prompt: f64,
    /// Per million completion tokens.
    pub completion: f64,
}

impl GatewayConfig {
    /// Whether callers without a key are served, given the API's address.
    pub fn allows_anonymous(&self, listen: SocketAddr) -> bool {
        self.anonymous.unwrap_or_else(|| listen.ip().is_loopback())
    }

    /// The estimated cost of a call, in millionths of a US dollar.
    pub fn cost_micro_usd(&self, model: &str, prompt_tokens: u32, completion_tokens: u32) -> u64 {
        let Some(price) = self.prices.get(model) else { return 0 };
        let dollars = (f64::from(prompt_tokens) * price.prompt + f64::from(completion_tokens) * price.completion) / 1e6;
        (dollars * 1e6).round().max(0.0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_follow_the_price_table() {
        let mut config = GatewayConfig::default();
        config.prices.insert("gpt-4o".into(), Price { prompt: 2.5, completion: 10.0 });
        assert_eq!(config.cost_micro_usd("gpt-4o", 1000, 500), 2500 + 5000);
        assert_eq!(config.cost_micro_usd("unknown", 1000, 500), 0);
    }

    #[test]
    fn anonymous_callers_default_to_loopback_only() {
        let config = GatewayConfig::default();
        assert!(config.allows_anonymous("127.0.0.1:8080".parse().unwrap()));
        assert!(!config.allows_anonymous("0.0.0.0:8080".parse().unwrap()));
        let open = GatewayConfig { anonymous: Some(true), ..GatewayConfig::default() };
        assert!(open.allows_anonymous("0.0.0.0:8080".parse().unwrap()));
    }
}
