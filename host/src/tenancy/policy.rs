//! What a tenant may use (plugins, models) and how much (quotas, per-key rates).

use serde::{Deserialize, Serialize};

/// Which providers, models and sanitizers a tenant may use, and its sanitizer chains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TenantPolicy {
    /// Providers it may call; `None` means every provider.
    pub providers: Option<Vec<String>>,
    /// Models it may call, as `provider/model` or a model alias; `None` means every
    /// model of an allowed provider.
    pub models: Option<Vec<String>>,
    /// Sanitizers run on prompts before they reach a provider, in order.
    pub input_sanitizers: Vec<String>,
    /// Sanitizers run on answers before they reach the client, in order.
    pub output_sanitizers: Vec<String>,
    /// What the input sanitizers' findings do: `flag` (record them) or `block` (refuse
    /// the request).
    pub input_action: GuardAction,
}

impl Default for TenantPolicy {
    fn default() -> Self {
        Self {
            providers: None,
            models: None,
            input_sanitizers: vec!["prompt-guard".into()],
            output_sanitizers: vec!["secrets".into()],
            input_action: GuardAction::Flag,
        }
    }
}

/// What an input sanitizer's findings do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GuardAction {
    /// Record the findings in the audit log and go on.
    #[default]
    Flag,
    /// Refuse the request (403).
    Block,
}

impl GuardAction {
    /// The option value sanitizers read (`action`).
    pub fn as_str(self) -> &'static str {
        match self {
            GuardAction::Flag => "flag",
            GuardAction::Block => "block",
        }
    }
}

impl TenantPolicy {
    /// Whether the tenant may call `model` of `provider` (`alias`: the name the caller
    /// used, when it was an alias).
    pub fn allows(&self, provider: &str, model: &str, alias: Option<&str>) -> bool {
        let provider_ok = self.providers.as_ref().is_none_or(|providers| providers.iter().any(|p| p == provider));
        let model_ok = self.models.as_ref().is_none_or(|models| {
            models.iter().any(|allowed| {
                Some(allowed.as_str()) == alias
                    || allowed.split_once('/').is_some_and(|(p, m)| p == provider && (m == model || m == "*"))
            })
        });
        provider_ok && model_ok
    }
}

/// A tenant's quotas; `None` is unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TenantQuotas {
    /// Requests per UTC day.
    pub daily_requests: Option<u64>,
    /// Requests per UTC calendar month.
    pub monthly_requests: Option<u64>,
    /// Tokens (prompt and completion) per UTC day.
    pub daily_tokens: Option<u64>,
    /// Tokens per UTC calendar month.
    pub monthly_tokens: Option<u64>,
    /// Streams open at once.
    pub max_concurrent_streams: Option<u32>,
    /// Seconds a request may take, end to end.
    pub request_timeout_secs: Option<u32>,
}

/// A key's rate limits; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct KeyLimits {
    /// Requests per minute.
    pub requests_per_minute: Option<u32>,
    /// Tokens (prompt and completion) per minute.
    pub tokens_per_minute: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_allows_only_what_it_lists() {
        let open = TenantPolicy::default();
        assert!(open.allows("openai", "gpt-4o", None));
        let narrow = TenantPolicy {
            providers: Some(vec!["openai".into(), "anthropic".into()]),
            models: Some(vec!["openai/gpt-4o-mini".into(), "anthropic/*".into(), "fast".into()]),
            ..TenantPolicy::default()
        };
        assert!(narrow.allows("openai", "gpt-4o-mini", None));
        assert!(!narrow.allows("openai", "gpt-4o", None));
        assert!(narrow.allows("anthropic", "claude-x", None));
        assert!(!narrow.allows("gemini", "gemini-pro", None));
        assert!(narrow.allows("openai", "gpt-4o", Some("fast")));
        assert!(!narrow.allows("gemini", "gemini-pro", Some("fast")), "the provider list still holds");
    }
}
