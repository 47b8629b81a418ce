//! The control plane's operations. Each one is authorized by [`authorize`] and
//! recorded in the audit log, durably, before it returns, whether it succeeded or was
//! refused.

use std::future::Future;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::api_key::{self, NewKey};
use super::limits::{month_bounds, unix_now};
use super::roles::{Action, Denied, Principal, Role, authorize};
use super::{AuditEvent, KeyLimits, Tenancy, TenantPolicy, TenantQuotas};
use crate::store::{AuditRow, KeyRecord, SealedCredential, StoreError, Tenant, UsageTotals};

/// Why a control-plane operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TenancyError {
    /// The caller's role may not do it (403).
    #[error(transparent)]
    Denied(#[from] Denied),
    /// What it names does not exist (404).
    #[error("{0} not found")]
    NotFound(String),
    /// It exists already (409).
    #[error("{0} exists already")]
    Conflict(String),
    /// The request is wrong (400).
    #[error("{0}")]
    Invalid(String),
    /// The store or the audit log failed (500).
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for TenancyError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::Conflict(what) => Self::Conflict(what),
            StoreError::Backend(message) => Self::Internal(message),
        }
    }
}

impl TenancyError {
    fn status(&self) -> u16 {
        match self {
            TenancyError::Denied(_) => 403,
            TenancyError::NotFound(_) => 404,
            TenancyError::Conflict(_) => 409,
            TenancyError::Invalid(_) => 400,
            TenancyError::Internal(_) => 500,
        }
    }
}

/// What a new key is for.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeySpec {
    /// The tenant (required for tenant roles, refused for server-wide ones).
    pub tenant: Option<String>,
    /// Its role; by default `user`.
    pub role: Option<Role>,
    /// A label.
    #[serde(default)]
    pub name: String,
    /// Seconds until it expires; none: never.
    pub expires_in_secs: Option<u64>,
    /// Its rate limits.
    #[serde(default)]
    pub limits: KeyLimits,
}

/// A tenant's usage report.
#[derive(Debug, Clone, Serialize)]
pub struct UsageReport {
    /// The tenant.
    pub tenant: String,
    /// Start of the period, Unix seconds.
    pub since: i64,
    /// Totals over the period.
    pub totals: UsageTotals,
    /// Totals per model.
    pub by_model: Vec<ModelUsage>,
}

/// One model's usage.
#[derive(Debug, Clone, Serialize)]
pub struct ModelUsage {
    /// The model.
    pub model: String,
    /// Its totals.
    #[serde(flatten)]
    pub totals: UsageTotals,
}

/// A credential as listed: never its value.
#[derive(Debug, Clone, Serialize)]
pub struct CredentialInfo {
    /// The provider.
    pub provider: String,
    /// Hosts it may be sent to (empty: all the operator bound keys to).
    pub hosts: Vec<String>,
    /// When it was set.
    pub created_at: i64,
}

/// Changes to a tenant; what is absent stays.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantPatch {
    /// New display name.
    pub name: Option<String>,
    /// Disable (refuse every key) or enable.
    pub disabled: Option<bool>,
    /// New plugin policy.
    pub policy: Option<TenantPolicy>,
    /// New quotas.
    pub quotas: Option<TenantQuotas>,
}

fn valid_tenant_id(id: &str) -> Result<(), TenancyError> {
    let ok = (1..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-');
    if ok { Ok(()) } else { Err(TenancyError::Invalid(format!("tenant id `{id}`: use 1–64 of a-z, 0-9 and `-`"))) }
}

impl Tenancy {
    /// Runs `work` if `who` may do `action`, and records the outcome durably.
    async fn audited<T>(
        &self,
        who: &Principal,
        request_id: &str,
        (action, name): (Action<'_>, &str),
        (tenant, target): (Option<&str>, Option<&str>),
        work: impl Future<Output = Result<T, TenancyError>>,
    ) -> Result<T, TenancyError> {
        let result = match authorize(who, action) {
            Ok(()) => work.await,
            Err(denied) => Err(denied.into()),
        };
        let mut event = AuditEvent::new(name, result.as_ref().map_or_else(TenancyError::status, |_| 200));
        event.request_id = Some(request_id.to_owned());
        event.key_prefix = Some(who.key_prefix.clone());
        event.tenant = tenant.map(str::to_owned);
        event.target = target.map(str::to_owned);
        event.detail = result.as_ref().err().map(ToString::to_string);
        self.audit.record_durably(event).await.map_err(|error| TenancyError::Internal(error.to_string()))?;
        result
    }

    /// Creates the first owner key, when no key exists yet (`airlock admin init`).
    ///
    /// # Errors
    ///
    /// [`TenancyError::Conflict`] when the server already has keys.
    pub async fn init_owner(&self, name: &str) -> Result<(KeyRecord, NewKey), TenancyError> {
        if self.store.has_keys().await? {
            return Err(TenancyError::Conflict("a key (the server is initialised)".into()));
        }
        let (record, key) =
            self.new_key(&KeySpec { role: Some(Role::Owner), name: name.to_owned(), ..KeySpec::default() }, None)?;
        self.store.insert_key(&record).await?;
        let mut event = AuditEvent::new("admin.init", 200);
        event.key_prefix = Some(record.prefix.clone());
        event.target = Some(record.prefix.clone());
        self.audit.record_durably(event).await.map_err(|error| TenancyError::Internal(error.to_string()))?;
        Ok((record, key))
    }

    fn new_key(&self, spec: &KeySpec, rotated_from: Option<String>) -> Result<(KeyRecord, NewKey), TenancyError> {
        let role = spec.role.unwrap_or(Role::User);
        match (&spec.tenant, role.is_tenant_role()) {
            (None, true) => return Err(TenancyError::Invalid(format!("a `{role}` key needs a `tenant`"))),
            (Some(_), false) => {
                return Err(TenancyError::Invalid(format!("a `{role}` key is server-wide: no `tenant`")));
            }
            _ => {}
        }
        let now = unix_now();
        let expires_at = match spec.expires_in_secs {
            Some(secs) => Some(now.saturating_add(
                i64::try_from(secs).map_err(|_| TenancyError::Invalid("`expires_in_secs` is too large".into()))?,
            )),
            None => None,
        };
        let key = api_key::generate();
        let record = KeyRecord {
            prefix: key.prefix.clone(),
            hash: self.hasher.hash(&key.key),
            tenant: spec.tenant.clone(),
            role,
            name: spec.name.clone(),
            created_at: now,
            expires_at,
            revoked_at: None,
            rotated_from,
            limits: spec.limits,
        };
        Ok((record, key))
    }

    /// Creates a tenant.
    ///
    /// # Errors
    ///
    /// As every operation: refused, invalid, conflicting, or the store failed.
    pub async fn create_tenant(
        &self,
        who: &Principal,
        request_id: &str,
        id: &str,
        name: &str,
        patch: TenantPatch,
    ) -> Result<Tenant, TenancyError> {
        self.audited(who, request_id, (Action::ManageTenants, "tenant.create"), (Some(id), Some(id)), async {
            valid_tenant_id(id)?;
            let tenant = Tenant {
                id: id.to_owned(),
                name: if name.is_empty() { id.to_owned() } else { name.to_owned() },
                created_at: unix_now(),
                disabled: patch.disabled.unwrap_or(false),
                policy: patch.policy.unwrap_or_default(),
                quotas: patch.quotas.unwrap_or_default(),
            };
            self.store.create_tenant(&tenant).await?;
            Ok(tenant)
        })
        .await
    }

    /// The tenants `who` may see: every one for admins, its own for a tenant admin.
    ///
    /// # Errors
    ///
    /// As every operation.
    pub async fn tenants(&self, who: &Principal) -> Result<Vec<Tenant>, TenancyError> {
        if authorize(who, Action::ManageTenants).is_ok() {
            return Ok(self.store.tenants().await?);
        }
        let own = who.tenant.as_deref().unwrap_or_default();
        authorize(who, Action::ReadTenant(own))?;
        Ok(self.store.tenant(own).await?.into_iter().collect())
    }

    /// One tenant.
    ///
    /// # Errors
    ///
    /// As every operation.
    pub async fn tenant(&self, who: &Principal, id: &str) -> Result<Tenant, TenancyError> {
        authorize(who, Action::ReadTenant(id))?;
        self.store.tenant(id).await?.ok_or_else(|| TenancyError::NotFound(format!("tenant `{id}`")))
    }

    /// Changes a tenant.
    ///
    /// # Errors
    ///
    /// As every operation.
    pub async fn update_tenant(
        &self,
        who: &Principal,
        request_id: &str,
        id: &str,
        patch: TenantPatch,
    ) -> Result<Tenant, TenancyError> {
        let action = if patch.name.is_some() || patch.disabled.is_some() {
            Action::ManageTenants
        } else {
            Action::ManagePolicy(id)
        };
        self.audited(who, request_id, (action, "tenant.update"), (Some(id), Some(id)), async {
            let mut tenant =
                self.store.tenant(id).await?.ok_or_else(|| TenancyError::NotFound(format!("tenant `{id}`")))?;
            tenant.name = patch.name.unwrap_or(tenant.name);
            tenant.disabled = patch.disabled.unwrap_or(tenant.disabled);
            tenant.policy = patch.policy.unwrap_or(tenant.policy);
            tenant.quotas = patch.quotas.unwrap_or(tenant.quotas);
            self.store.update_tenant(&tenant).await?;
            self.forget_tenant(id);
            Ok(tenant)
        })
        .await
    }

    /// Creates a key; the returned [`NewKey`] is the only time its secret is shown.
    ///
    /// # Errors
    ///
    /// As every operation.
    pub async fn create_key(
        &self,
        who: &Principal,
        request_id: &str,
        spec: KeySpec,
    ) -> Result<(KeyRecord, NewKey), TenancyError> {
        let role = spec.role.unwrap_or(Role::User);
        let tenant = spec.tenant.as_deref();
        let action = Action::ManageKey { tenant, role };
        self.audited(who, request_id, (action, "key.create"), (tenant, None), async {
            if let Some(tenant) = tenant {
                self.store.tenant(tenant).await?.ok_or_else(|| TenancyError::NotFound(format!("tenant `{tenant}`")))?;
            }
            let (record, key) = self.new_key(&spec, None)?;
            self.store.insert_key(&record).await?;
            Ok((record, key))
        })
        .await
    }

    /// The keys of `tenant` (none: every key).
    ///
    /// # Errors
    ///
    /// As every operation.
    pub async fn keys(&self, who: &Principal, tenant: Option<&str>) -> Result<Vec<KeyRecord>, TenancyError> {
        authorize(who, Action::ListKeys(tenant))?;
        Ok(self.store.keys(tenant).await?)
    }

    async fn existing_key(&self, who: &Principal, prefix: &str) -> Result<KeyRecord, TenancyError> {
        let record = self.store.key(prefix).await?;
        // A key the caller may not manage is reported as missing, not as forbidden, so
        // prefixes of other tenants' keys cannot be probed.
        record
            .filter(|record| {
                authorize(who, Action::ManageKey { tenant: record.tenant.as_deref(), role: record.role }).is_ok()
            })
            .ok_or_else(|| TenancyError::NotFound(format!("key `{prefix}`")))
    }

    /// Replaces a key with a new one of the same tenant, role and limits; the old one
    /// keeps working for `overlap_secs` more (none: 0, it stops at once).
    ///
    /// # Errors
    ///
    /// As every operation.
    pub async fn rotate_key(
        &self,
        who: &Principal,
        request_id: &str,
        prefix: &str,
        overlap_secs: u64,
    ) -> Result<(KeyRecord, NewKey), TenancyError> {
        let old = self.existing_key(who, prefix).await;
        let (tenant, role) = old.as_ref().map_or((None, Role::User), |old| (old.tenant.clone(), old.role));
        let action = Action::ManageKey { tenant: tenant.as_deref(), role };
        self.audited(who, request_id, (action, "key.rotate"), (tenant.as_deref(), Some(prefix)), async {
            let old = old?;
            if old.revoked_at.is_some() {
                return Err(TenancyError::Invalid(format!("key `{prefix}` is revoked")));
            }
            let now = unix_now();
            let remaining = old.expires_at.map(|expires| u64::try_from(expires - now).unwrap_or(0));
            let spec = KeySpec {
                tenant: old.tenant.clone(),
                role: Some(old.role),
                name: old.name.clone(),
                expires_in_secs: remaining,
                limits: old.limits,
            };
            let (record, key) = self.new_key(&spec, Some(old.prefix.clone()))?;
            let overlap = i64::try_from(overlap_secs).unwrap_or(i64::MAX);
            self.store.rotate_key(prefix, now.saturating_add(overlap), &record).await?;
            self.forget_key(prefix);
            Ok((record, key))
        })
        .await
    }

    /// Revokes a key: it is refused from the next request on.
    ///
    /// # Errors
    ///
    /// As every operation.
    pub async fn revoke_key(&self, who: &Principal, request_id: &str, prefix: &str) -> Result<(), TenancyError> {
        let old = self.existing_key(who, prefix).await;
        let (tenant, role) = old.as_ref().map_or((None, Role::User), |old| (old.tenant.clone(), old.role));
        let action = Action::ManageKey { tenant: tenant.as_deref(), role };
        self.audited(who, request_id, (action, "key.revoke"), (tenant.as_deref(), Some(prefix)), async {
            old?;
            self.store.revoke_key(prefix, unix_now()).await?;
            self.forget_key(prefix);
            Ok(())
        })
        .await
    }

    fn credential_context(tenant: &str, provider: &str) -> Vec<u8> {
        format!("credential/{tenant}/{provider}").into_bytes()
    }

    /// Sets a tenant's credential for `provider`, sealed, bound to `hosts` (the caller
    /// checked they are among the operator's credential hosts).
    ///
    /// # Errors
    ///
    /// As every operation.
    pub async fn put_credential(
        &self,
        who: &Principal,
        request_id: &str,
        tenant: &str,
        provider: &str,
        key: Zeroizing<String>,
        hosts: Vec<String>,
    ) -> Result<CredentialInfo, TenancyError> {
        let action = Action::ManageCredentials(tenant);
        self.audited(who, request_id, (action, "credential.put"), (Some(tenant), Some(provider)), async {
            self.store.tenant(tenant).await?.ok_or_else(|| TenancyError::NotFound(format!("tenant `{tenant}`")))?;
            if key.trim().is_empty() {
                return Err(TenancyError::Invalid("the credential is empty".into()));
            }
            let sealed = SealedCredential {
                tenant: tenant.to_owned(),
                provider: provider.to_owned(),
                sealed: self.master.seal(key.as_bytes(), &Self::credential_context(tenant, provider)),
                hosts,
                created_at: unix_now(),
            };
            self.store.put_credential(&sealed).await?;
            self.forget_credential(tenant, provider);
            Ok(CredentialInfo { provider: sealed.provider, hosts: sealed.hosts, created_at: sealed.created_at })
        })
        .await
    }

    /// A tenant's credentials, without their values.
    ///
    /// # Errors
    ///
    /// As every operation.
    pub async fn credentials(&self, who: &Principal, tenant: &str) -> Result<Vec<CredentialInfo>, TenancyError> {
        authorize(who, Action::ManageCredentials(tenant))?;
        let sealed = self.store.credentials(tenant).await?;
        Ok(sealed
            .into_iter()
            .map(|c| CredentialInfo { provider: c.provider, hosts: c.hosts, created_at: c.created_at })
            .collect())
    }

    /// Deletes a tenant's credential.
    ///
    /// # Errors
    ///
    /// As every operation.
    pub async fn delete_credential(
        &self,
        who: &Principal,
        request_id: &str,
        tenant: &str,
        provider: &str,
    ) -> Result<(), TenancyError> {
        let action = Action::ManageCredentials(tenant);
        self.audited(who, request_id, (action, "credential.delete"), (Some(tenant), Some(provider)), async {
            let deleted = self.store.delete_credential(tenant, provider).await;
            self.forget_credential(tenant, provider);
            Ok(deleted?)
        })
        .await
    }

    /// The tenant's credential for `provider`, opened, with the hosts it is bound to,
    /// for one outgoing request. Only the host ever holds it.
    ///
    /// # Errors
    ///
    /// When the store fails or the sealed bytes do not open.
    pub async fn open_credential(
        &self,
        tenant: &str,
        provider: &str,
    ) -> Result<Option<(Zeroizing<String>, Vec<String>)>, TenancyError> {
        let Some(sealed) = self.sealed_credential(tenant, provider).await? else { return Ok(None) };
        let plain = self
            .master
            .open(&sealed.sealed, &Self::credential_context(tenant, provider))
            .map_err(|error| TenancyError::Internal(error.to_string()))?;
        let key =
            String::from_utf8(plain.to_vec()).map_err(|_| TenancyError::Internal("credential is not UTF-8".into()))?;
        Ok(Some((Zeroizing::new(key), sealed.hosts.clone())))
    }

    /// A tenant's usage since `since` (none: the start of this month).
    ///
    /// # Errors
    ///
    /// As every operation.
    pub async fn usage_report(
        &self,
        who: &Principal,
        tenant: &str,
        since: Option<i64>,
    ) -> Result<UsageReport, TenancyError> {
        authorize(who, Action::ReadUsage(tenant))?;
        let since = since.unwrap_or_else(|| month_bounds(unix_now()).0);
        let totals = self.store.usage_since(tenant, since).await?;
        let by_model = self.store.usage_by_model(tenant, since).await?;
        Ok(UsageReport {
            tenant: tenant.to_owned(),
            since,
            totals,
            by_model: by_model.into_iter().map(|(model, totals)| ModelUsage { model, totals }).collect(),
        })
    }

    /// Audit links of `tenant` (none: all) after `after`.
    ///
    /// # Errors
    ///
    /// As every operation.
    pub async fn audit_rows(
        &self,
        who: &Principal,
        tenant: Option<&str>,
        after: i64,
        limit: u32,
    ) -> Result<Vec<AuditRow>, TenancyError> {
        authorize(who, Action::ReadAudit(tenant))?;
        Ok(self.store.audit(tenant, after, limit.min(1000)).await?)
    }

    /// Checks the audit chain, for a principal allowed to read all of it.
    ///
    /// # Errors
    ///
    /// As every operation.
    pub async fn verify_audit_as(&self, who: &Principal) -> Result<super::Verification, TenancyError> {
        authorize(who, Action::ReadAudit(None))?;
        self.verify_audit().await.map_err(|error| TenancyError::Internal(format!("{error:#}")))
    }
}
