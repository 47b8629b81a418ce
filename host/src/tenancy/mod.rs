//! Multi-tenancy: who is calling (API keys), what they may do (roles, policies), how
//! much (rate limits, quotas), with whose provider credentials, and the record of it
//! all (the audit chain).
//!
//! [`Tenancy`] is the one service the API uses; it keeps its state in a
//! [`Store`](crate::store::Store) and holds the secrets derived from the master key,
//! which never reach the store: keys are stored as keyed hashes, credentials sealed.

pub mod admin;
pub mod api_key;
pub mod audit;
pub mod limits;
pub mod master_key;
pub mod policy;
pub mod roles;
mod usage;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

pub use admin::{KeySpec, TenancyError};
pub use api_key::KeyHasher;
pub use audit::{AuditEvent, AuditLog, Chainer, Verification};
pub use master_key::MasterKey;
pub use policy::{GuardAction, KeyLimits, TenantPolicy, TenantQuotas};
pub use roles::{Action, Principal, Role, authorize};
pub use usage::{Admission, Outcome};

use crate::store::{KeyRecord, SealedCredential, SqliteStore, Store, StoreError, Tenant};

/// Why a presented key was refused (401).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No key was presented.
    #[error("an API key is required (`Authorization: Bearer ak_…`)")]
    Missing,
    /// The key is not one the server issued.
    #[error("the API key is not valid")]
    Invalid,
    /// The key was revoked.
    #[error("the API key was revoked")]
    Revoked,
    /// The key expired.
    #[error("the API key has expired")]
    Expired,
    /// The key's tenant is disabled.
    #[error("the API key's tenant is disabled")]
    TenantDisabled,
}

impl AuthError {
    /// A short machine-readable reason, for the audit log.
    pub fn reason(self) -> &'static str {
        match self {
            AuthError::Missing => "missing",
            AuthError::Invalid => "invalid",
            AuthError::Revoked => "revoked",
            AuthError::Expired => "expired",
            AuthError::TenantDisabled => "tenant-disabled",
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who it is.
    pub principal: Principal,
    /// Its key's rate limits.
    pub limits: KeyLimits,
    /// Its tenant, for tenant roles.
    pub tenant: Option<Arc<Tenant>>,
}

/// A sealed credential as cached: `None` remembers that there is none.
type CachedCredential = Option<Arc<SealedCredential>>;

/// The gateway's tenancy service.
pub struct Tenancy {
    store: Arc<dyn Store>,
    hasher: KeyHasher,
    master: MasterKey,
    chainer: Chainer,
    anchors: PathBuf,
    audit: AuditLog,
    keys: RwLock<HashMap<String, Arc<KeyRecord>>>,
    tenants: RwLock<HashMap<String, Arc<Tenant>>>,
    /// Sealed credentials by (tenant, provider), absent ones too; opened per request.
    credentials: RwLock<HashMap<(String, String), CachedCredential>>,
    rates: limits::KeyRates,
    streams: limits::StreamCaps,
    usage: tokio::sync::Mutex<HashMap<String, limits::PeriodUsage>>,
    metrics: Arc<crate::metrics::Metrics>,
}

impl std::fmt::Debug for Tenancy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tenancy")
    }
}

/// The database file in the data directory.
pub const DATABASE_FILE: &str = "airlock.db";
/// The master key file in the data directory (when `AIRLOCK_MASTER_KEY` is unset).
pub const MASTER_KEY_FILE: &str = "master.key";
/// The audit anchor file in the data directory.
pub const ANCHOR_FILE: &str = "audit.anchors";

impl Tenancy {
    /// Opens the SQLite store and the master key in `data_dir` (creating both on first
    /// start) and starts the audit writer.
    ///
    /// # Errors
    ///
    /// When the directory, the database or the master key is unusable.
    pub async fn open(data_dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)?;
        let master = MasterKey::load(&data_dir.join(MASTER_KEY_FILE))?;
        let store = Arc::new(SqliteStore::open(&data_dir.join(DATABASE_FILE)).await?);
        Ok(Self::with_store(store, master, data_dir.join(ANCHOR_FILE)).await?)
    }

    /// A service over `store` with `master`, anchoring the audit chain to `anchors`.
    ///
    /// # Errors
    ///
    /// When the audit chain's head cannot be read.
    pub async fn with_store(store: Arc<dyn Store>, master: MasterKey, anchors: PathBuf) -> Result<Self, StoreError> {
        let chainer = Chainer::new(master.derive("audit-chain/v1"));
        let audit = AuditLog::start(store.clone(), chainer.clone(), anchors.clone()).await?;
        Ok(Self {
            hasher: KeyHasher::new(master.derive("api-key-hash/v1")),
            store,
            master,
            chainer,
            anchors,
            audit,
            keys: RwLock::default(),
            tenants: RwLock::default(),
            credentials: RwLock::default(),
            rates: limits::KeyRates::default(),
            streams: limits::StreamCaps::default(),
            usage: tokio::sync::Mutex::default(),
            metrics: Arc::default(),
        })
    }

    /// The same service, counting the tokens of finished calls in `metrics`.
    #[must_use]
    pub fn with_metrics(mut self, metrics: Arc<crate::metrics::Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// The audit log.
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// Checks the whole audit chain.
    ///
    /// # Errors
    ///
    /// When the store or the anchor file cannot be read.
    pub async fn verify_audit(&self) -> anyhow::Result<Verification> {
        audit::verify(self.store.as_ref(), &self.chainer, &self.anchors).await
    }

    /// Authenticates a presented key (the bearer token), recording refusals.
    ///
    /// # Errors
    ///
    /// [`AuthError`] saying why the key is refused.
    pub async fn authenticate(&self, presented: Option<&str>, request_id: &str) -> Result<Caller, AuthError> {
        let result = self.check_key(presented).await;
        if let Err(error) = &result {
            let mut event = AuditEvent::new("auth.denied", 401);
            event.request_id = Some(request_id.to_owned());
            event.key_prefix = presented.and_then(api_key::prefix_of).map(str::to_owned);
            event.detail = Some(error.reason().to_owned());
            self.audit.record(event).await;
        }
        result
    }

    async fn check_key(&self, presented: Option<&str>) -> Result<Caller, AuthError> {
        let presented = presented.ok_or(AuthError::Missing)?;
        let prefix = api_key::prefix_of(presented).ok_or(AuthError::Invalid)?;
        let record = self.key_record(prefix).await.map_err(|error| {
            tracing::error!(%error, "the key store failed");
            AuthError::Invalid
        })?;
        let record = record.ok_or(AuthError::Invalid)?;
        if !self.hasher.matches(presented, &record.hash) {
            return Err(AuthError::Invalid);
        }
        let now = limits::unix_now();
        if record.revoked_at.is_some() {
            return Err(AuthError::Revoked);
        }
        if record.expires_at.is_some_and(|expires| expires <= now) {
            return Err(AuthError::Expired);
        }
        let tenant = match &record.tenant {
            Some(id) => {
                let tenant = self.tenant_record(id).await.ok().flatten().ok_or(AuthError::Invalid)?;
                if tenant.disabled {
                    return Err(AuthError::TenantDisabled);
                }
                Some(tenant)
            }
            None => None,
        };
        Ok(Caller {
            principal: Principal {
                key_prefix: record.prefix.clone(),
                role: record.role,
                tenant: record.tenant.clone(),
            },
            limits: record.limits,
            tenant,
        })
    }

    async fn key_record(&self, prefix: &str) -> Result<Option<Arc<KeyRecord>>, StoreError> {
        if let Some(record) = self.keys.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(prefix) {
            return Ok(Some(record.clone()));
        }
        let Some(record) = self.store.key(prefix).await? else { return Ok(None) };
        let record = Arc::new(record);
        self.keys.write().unwrap_or_else(std::sync::PoisonError::into_inner).insert(prefix.to_owned(), record.clone());
        Ok(Some(record))
    }

    async fn tenant_record(&self, id: &str) -> Result<Option<Arc<Tenant>>, StoreError> {
        if let Some(tenant) = self.tenants.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(id) {
            return Ok(Some(tenant.clone()));
        }
        let Some(tenant) = self.store.tenant(id).await? else { return Ok(None) };
        let tenant = Arc::new(tenant);
        self.tenants.write().unwrap_or_else(std::sync::PoisonError::into_inner).insert(id.to_owned(), tenant.clone());
        Ok(Some(tenant))
    }

    /// Forgets cached copies of a key, so a change takes effect on the next request.
    fn forget_key(&self, prefix: &str) {
        self.keys.write().unwrap_or_else(std::sync::PoisonError::into_inner).remove(prefix);
    }

    /// A tenant's sealed credential for a provider, from the cache or the store.
    async fn sealed_credential(
        &self,
        tenant: &str,
        provider: &str,
    ) -> Result<Option<Arc<SealedCredential>>, StoreError> {
        let id = (tenant.to_owned(), provider.to_owned());
        if let Some(known) = self.credentials.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(&id) {
            return Ok(known.clone());
        }
        let sealed = self.store.credential(tenant, provider).await?.map(Arc::new);
        self.credentials.write().unwrap_or_else(std::sync::PoisonError::into_inner).insert(id, sealed.clone());
        Ok(sealed)
    }

    /// Forgets the cached copy of a credential.
    fn forget_credential(&self, tenant: &str, provider: &str) {
        let id = (tenant.to_owned(), provider.to_owned());
        self.credentials.write().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&id);
    }

    /// Forgets the cached copy of a tenant.
    fn forget_tenant(&self, id: &str) {
        self.tenants.write().unwrap_or_else(std::sync::PoisonError::into_inner).remove(id);
    }
}
