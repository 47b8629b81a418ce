//! The gateway's persistent state: tenants, API keys, provider credentials, usage and
//! the audit chain.
//!
//! Callers see only the [`Store`] trait; [`SqliteStore`] (one embedded file, WAL) is
//! the default backend, and another (PostgreSQL for scale-out) implements the same
//! trait without touching callers. The store keeps what it is given: hashing keys,
//! encrypting credentials and chaining audit records happen in [`crate::tenancy`], so
//! no backend ever sees a plaintext key or credential.

mod schema;
mod sqlite;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

pub use sqlite::SqliteStore;

use crate::tenancy::{KeyLimits, Role, TenantPolicy, TenantQuotas};

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row to change or read does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A row with that identity exists already.
    #[error("{0} exists already")]
    Conflict(String),
    /// The database failed.
    #[error("the store failed: {0}")]
    Backend(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::RowNotFound => Self::NotFound("row".into()),
            sqlx::Error::Database(db) if db.is_unique_violation() => Self::Conflict("row".into()),
            _ => Self::Backend(error.to_string()),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(error: serde_json::Error) -> Self {
        Self::Backend(format!("a stored document does not parse: {error}"))
    }
}

/// A tenant: one customer organisation, isolated from every other.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    /// Stable identifier (lowercase letters, digits, `-`).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Creation time, Unix seconds.
    pub created_at: i64,
    /// A disabled tenant's keys are refused.
    pub disabled: bool,
    /// Which providers, models and sanitizers the tenant may use.
    pub policy: TenantPolicy,
    /// The tenant's quotas.
    pub quotas: TenantQuotas,
}

/// An API key as stored: its public prefix and keyed hash, never the key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// The public part of the key (`ak_<prefix>_…`), unique.
    pub prefix: String,
    /// HMAC-SHA256 of the whole key under the server's key-hashing secret.
    #[serde(skip)]
    pub hash: Vec<u8>,
    /// The tenant the key acts for; `None` for server-wide roles.
    pub tenant: Option<String>,
    /// What the key may do.
    pub role: Role,
    /// A label for people.
    pub name: String,
    /// Creation time, Unix seconds.
    pub created_at: i64,
    /// After this time (Unix seconds) the key is refused.
    pub expires_at: Option<i64>,
    /// When the key was revoked; a revoked key is refused.
    pub revoked_at: Option<i64>,
    /// The key this one replaced by rotation.
    pub rotated_from: Option<String>,
    /// Per-key rate limits.
    pub limits: KeyLimits,
}

/// A provider credential as stored: sealed, bound to its tenant and provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedCredential {
    /// The tenant that owns it.
    pub tenant: String,
    /// The provider it is for.
    pub provider: String,
    /// The nonce and ciphertext (see [`crate::tenancy::MasterKey::seal`]).
    pub sealed: Vec<u8>,
    /// Hosts it may be sent to (each also one of the operator's credential hosts);
    /// empty means all of the operator's.
    pub hosts: Vec<String>,
    /// When it was set, Unix seconds.
    pub created_at: i64,
}

/// One request's usage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsageRecord {
    /// When, Unix seconds.
    pub at: i64,
    /// The tenant billed.
    pub tenant: String,
    /// The key used (its prefix).
    pub key_prefix: String,
    /// The request's id.
    pub request_id: String,
    /// The provider that served it.
    pub provider: String,
    /// The model.
    pub model: String,
    /// Prompt tokens.
    pub prompt_tokens: u32,
    /// Completion tokens.
    pub completion_tokens: u32,
    /// Estimated cost, in millionths of a US dollar.
    pub cost_micro_usd: u64,
    /// The HTTP status answered.
    pub status: u16,
}

/// Usage summed over a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageTotals {
    /// Requests.
    pub requests: u64,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Estimated cost, in millionths of a US dollar.
    pub cost_micro_usd: u64,
}

impl UsageTotals {
    /// Prompt and completion tokens together.
    pub fn tokens(&self) -> u64 {
        self.prompt_tokens + self.completion_tokens
    }
}

/// One link of the audit chain as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// The tenant the event concerns, if any (for filtering; it is also in `event`).
    pub tenant: Option<String>,
    /// The event, as canonical JSON.
    pub event: String,
    /// The previous link's hash (hex; zeros for the first).
    pub prev_hash: String,
    /// This link's hash (hex).
    pub hash: String,
}

/// What the gateway keeps, whatever the backend.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates a tenant.
    async fn create_tenant(&self, tenant: &Tenant) -> Result<(), StoreError>;
    /// One tenant.
    async fn tenant(&self, id: &str) -> Result<Option<Tenant>, StoreError>;
    /// Every tenant, by id.
    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError>;
    /// Replaces a tenant's name, state, policy and quotas.
    async fn update_tenant(&self, tenant: &Tenant) -> Result<(), StoreError>;

    /// Adds a key.
    async fn insert_key(&self, key: &KeyRecord) -> Result<(), StoreError>;
    /// The key with this prefix.
    async fn key(&self, prefix: &str) -> Result<Option<KeyRecord>, StoreError>;
    /// The keys of a tenant, or with `None` every key.
    async fn keys(&self, tenant: Option<&str>) -> Result<Vec<KeyRecord>, StoreError>;
    /// Adds `new` and shortens `old_prefix`'s life to `old_expires_at`, atomically.
    async fn rotate_key(&self, old_prefix: &str, old_expires_at: i64, new: &KeyRecord) -> Result<(), StoreError>;
    /// Marks a key revoked at `at`.
    async fn revoke_key(&self, prefix: &str, at: i64) -> Result<(), StoreError>;
    /// Whether any key exists (the server has been initialised).
    async fn has_keys(&self) -> Result<bool, StoreError>;

    /// Sets (replaces) a tenant's credential for a provider.
    async fn put_credential(&self, credential: &SealedCredential) -> Result<(), StoreError>;
    /// A tenant's credential for a provider.
    async fn credential(&self, tenant: &str, provider: &str) -> Result<Option<SealedCredential>, StoreError>;
    /// A tenant's credentials.
    async fn credentials(&self, tenant: &str) -> Result<Vec<SealedCredential>, StoreError>;
    /// Deletes a tenant's credential for a provider.
    async fn delete_credential(&self, tenant: &str, provider: &str) -> Result<(), StoreError>;

    /// A tenant's usage since `since` (Unix seconds).
    async fn usage_since(&self, tenant: &str, since: i64) -> Result<UsageTotals, StoreError>;
    /// A tenant's usage since `since`, per model.
    async fn usage_by_model(&self, tenant: &str, since: i64) -> Result<Vec<(String, UsageTotals)>, StoreError>;

    /// Appends audit links (already chained), in order, and usage records, in one
    /// transaction.
    async fn append(&self, rows: &[AuditRow], usage: &[UsageRecord]) -> Result<(), StoreError>;
    /// The last audit link.
    async fn audit_head(&self) -> Result<Option<AuditRow>, StoreError>;
    /// Audit links after `after_seq`, at most `limit`, optionally of one tenant.
    async fn audit(&self, tenant: Option<&str>, after_seq: i64, limit: u32) -> Result<Vec<AuditRow>, StoreError>;
}
