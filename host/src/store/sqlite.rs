//! The default backend: one SQLite file in WAL mode, fully synchronous so that what a
//! response confirmed survives a crash.

use std::path::Path;
use std::str::FromStr;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};

use super::schema::MIGRATIONS;
use super::{AuditRow, KeyRecord, SealedCredential, Store, StoreError, Tenant, UsageRecord, UsageTotals};
use crate::tenancy::Role;

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// # Errors
    ///
    /// When the file cannot be opened or a migration fails.
    pub async fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(5));
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY)")
            .execute(&mut *tx)
            .await?;
        let current: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetch_one(&mut *tx).await?;
        for (version, sql) in MIGRATIONS.iter().filter(|(version, _)| *version > current) {
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO schema_version (version) VALUES (?)").bind(version).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

fn tenant_from(row: &SqliteRow) -> Result<Tenant, StoreError> {
    Ok(Tenant {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        disabled: row.try_get("disabled")?,
        policy: serde_json::from_str(row.try_get("policy")?)?,
        quotas: serde_json::from_str(row.try_get("quotas")?)?,
    })
}

fn key_from(row: &SqliteRow) -> Result<KeyRecord, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(KeyRecord {
        prefix: row.try_get("prefix")?,
        hash: row.try_get("hash")?,
        tenant: row.try_get("tenant_id")?,
        role: Role::from_str(&role).map_err(StoreError::Backend)?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        rotated_from: row.try_get("rotated_from")?,
        limits: serde_json::from_str(row.try_get("limits")?)?,
    })
}

fn credential_from(row: &SqliteRow) -> Result<SealedCredential, StoreError> {
    Ok(SealedCredential {
        tenant: row.try_get("tenant_id")?,
        provider: row.try_get("provider")?,
        sealed: row.try_get("sealed")?,
        hosts: serde_json::from_str(row.try_get("hosts")?)?,
        created_at: row.try_get("created_at")?,
    })
}

fn audit_from(row: &SqliteRow) -> Result<AuditRow, StoreError> {
    Ok(AuditRow {
        seq: row.try_get("seq")?,
        tenant: row.try_get("tenant_id")?,
        event: row.try_get("event")?,
        prev_hash: row.try_get("prev_hash")?,
        hash: row.try_get("hash")?,
    })
}

fn totals_from(row: &SqliteRow) -> Result<UsageTotals, StoreError> {
    let get = |column: &str| -> Result<u64, StoreError> {
        let value: i64 = row.try_get(column)?;
        Ok(u64::try_from(value).unwrap_or(0))
    };
    Ok(UsageTotals {
        requests: get("requests")?,
        prompt_tokens: get("prompt_tokens")?,
        completion_tokens: get("completion_tokens")?,
        cost_micro_usd: get("cost")?,
    })
}

const TOTALS: &str = "COUNT(*) AS requests, COALESCE(SUM(prompt_tokens), 0) AS prompt_tokens, \
     COALESCE(SUM(completion_tokens), 0) AS completion_tokens, COALESCE(SUM(cost_micro_usd), 0) AS cost";

async fn insert_key(tx: &mut Transaction<'_, Sqlite>, key: &KeyRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO api_keys (prefix, hash, tenant_id, role, name, created_at, expires_at, revoked_at, rotated_from, limits) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&key.prefix)
    .bind(&key.hash)
    .bind(&key.tenant)
    .bind(key.role.as_str())
    .bind(&key.name)
    .bind(key.created_at)
    .bind(key.expires_at)
    .bind(key.revoked_at)
    .bind(&key.rotated_from)
    .bind(serde_json::to_string(&key.limits)?)
    .execute(&mut **tx)
    .await
    .map_err(|error| named(error, &format!("key `{}`", key.prefix)))?;
    Ok(())
}

/// A store error naming what it was about.
fn named(error: sqlx::Error, what: &str) -> StoreError {
    match StoreError::from(error) {
        StoreError::NotFound(_) => StoreError::NotFound(what.to_owned()),
        StoreError::Conflict(_) => StoreError::Conflict(what.to_owned()),
        other => other,
    }
}

fn changed_one(rows: u64, what: &str) -> Result<(), StoreError> {
    if rows == 0 { Err(StoreError::NotFound(what.to_owned())) } else { Ok(()) }
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO tenants (id, name, created_at, disabled, policy, quotas) VALUES (?, ?, ?, ?, ?, ?)")
            .bind(&tenant.id)
            .bind(&tenant.name)
            .bind(tenant.created_at)
            .bind(tenant.disabled)
            .bind(serde_json::to_string(&tenant.policy)?)
            .bind(serde_json::to_string(&tenant.quotas)?)
            .execute(&self.pool)
            .await
            .map_err(|error| named(error, &format!("tenant `{}`", tenant.id)))?;
        Ok(())
    }

    async fn tenant(&self, id: &str) -> Result<Option<Tenant>, StoreError> {
        let row = sqlx::query("SELECT * FROM tenants WHERE id = ?").bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(tenant_from).transpose()
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let rows = sqlx::query("SELECT * FROM tenants ORDER BY id").fetch_all(&self.pool).await?;
        rows.iter().map(tenant_from).collect()
    }

    async fn update_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE tenants SET name = ?, disabled = ?, policy = ?, quotas = ? WHERE id = ?")
            .bind(&tenant.name)
            .bind(tenant.disabled)
            .bind(serde_json::to_string(&tenant.policy)?)
            .bind(serde_json::to_string(&tenant.quotas)?)
            .bind(&tenant.id)
            .execute(&self.pool)
            .await?;
        changed_one(done.rows_affected(), &format!("tenant `{}`", tenant.id))
    }

    async fn insert_key(&self, key: &KeyRecord) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        insert_key(&mut tx, key).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn key(&self, prefix: &str) -> Result<Option<KeyRecord>, StoreError> {
        let row =
            sqlx::query("SELECT * FROM api_keys WHERE prefix = ?").bind(prefix).fetch_optional(&self.pool).await?;
        row.as_ref().map(key_from).transpose()
    }

    async fn keys(&self, tenant: Option<&str>) -> Result<Vec<KeyRecord>, StoreError> {
        let rows = match tenant {
            Some(tenant) => {
                sqlx::query("SELECT * FROM api_keys WHERE tenant_id = ? ORDER BY created_at, prefix")
                    .bind(tenant)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => sqlx::query("SELECT * FROM api_keys ORDER BY created_at, prefix").fetch_all(&self.pool).await?,
        };
        rows.iter().map(key_from).collect()
    }

    async fn rotate_key(&self, old_prefix: &str, old_expires_at: i64, new: &KeyRecord) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE api_keys SET expires_at = MIN(COALESCE(expires_at, ?1), ?1) WHERE prefix = ?2 AND revoked_at IS NULL",
        )
        .bind(old_expires_at)
        .bind(old_prefix)
        .execute(&mut *tx)
        .await?;
        changed_one(done.rows_affected(), &format!("key `{old_prefix}`"))?;
        insert_key(&mut tx, new).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn revoke_key(&self, prefix: &str, at: i64) -> Result<(), StoreError> {
        let done = sqlx::query("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE prefix = ?")
            .bind(at)
            .bind(prefix)
            .execute(&self.pool)
            .await?;
        changed_one(done.rows_affected(), &format!("key `{prefix}`"))
    }

    async fn has_keys(&self) -> Result<bool, StoreError> {
        Ok(sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM api_keys").fetch_one(&self.pool).await? > 0)
    }

    async fn put_credential(&self, credential: &SealedCredential) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO credentials (tenant_id, provider, sealed, hosts, created_at) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (tenant_id, provider) DO UPDATE SET sealed = excluded.sealed, hosts = excluded.hosts, \
             created_at = excluded.created_at",
        )
        .bind(&credential.tenant)
        .bind(&credential.provider)
        .bind(&credential.sealed)
        .bind(serde_json::to_string(&credential.hosts)?)
        .bind(credential.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn credential(&self, tenant: &str, provider: &str) -> Result<Option<SealedCredential>, StoreError> {
        let row = sqlx::query("SELECT * FROM credentials WHERE tenant_id = ? AND provider = ?")
            .bind(tenant)
            .bind(provider)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(credential_from).transpose()
    }

    async fn credentials(&self, tenant: &str) -> Result<Vec<SealedCredential>, StoreError> {
        let rows = sqlx::query("SELECT * FROM credentials WHERE tenant_id = ? ORDER BY provider")
            .bind(tenant)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(credential_from).collect()
    }

    async fn delete_credential(&self, tenant: &str, provider: &str) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM credentials WHERE tenant_id = ? AND provider = ?")
            .bind(tenant)
            .bind(provider)
            .execute(&self.pool)
            .await?;
        changed_one(done.rows_affected(), &format!("credential for `{provider}`"))
    }

    async fn usage_since(&self, tenant: &str, since: i64) -> Result<UsageTotals, StoreError> {
        let row = sqlx::query(&format!("SELECT {TOTALS} FROM usage WHERE tenant_id = ? AND at >= ?"))
            .bind(tenant)
            .bind(since)
            .fetch_one(&self.pool)
            .await?;
        totals_from(&row)
    }

    async fn usage_by_model(&self, tenant: &str, since: i64) -> Result<Vec<(String, UsageTotals)>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT model, {TOTALS} FROM usage WHERE tenant_id = ? AND at >= ? GROUP BY model ORDER BY model"
        ))
        .bind(tenant)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok((row.try_get("model")?, totals_from(row)?))).collect()
    }

    async fn append(&self, rows: &[AuditRow], usage: &[UsageRecord]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for row in rows {
            sqlx::query("INSERT INTO audit (seq, tenant_id, event, prev_hash, hash) VALUES (?, ?, ?, ?, ?)")
                .bind(row.seq)
                .bind(&row.tenant)
                .bind(&row.event)
                .bind(&row.prev_hash)
                .bind(&row.hash)
                .execute(&mut *tx)
                .await?;
        }
        for record in usage {
            sqlx::query(
                "INSERT INTO usage (at, tenant_id, key_prefix, request_id, provider, model, prompt_tokens, \
                 completion_tokens, cost_micro_usd, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(record.at)
            .bind(&record.tenant)
            .bind(&record.key_prefix)
            .bind(&record.request_id)
            .bind(&record.provider)
            .bind(&record.model)
            .bind(record.prompt_tokens)
            .bind(record.completion_tokens)
            .bind(i64::try_from(record.cost_micro_usd).unwrap_or(i64::MAX))
            .bind(record.status)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn audit_head(&self) -> Result<Option<AuditRow>, StoreError> {
        let row = sqlx::query("SELECT * FROM audit ORDER BY seq DESC LIMIT 1").fetch_optional(&self.pool).await?;
        row.as_ref().map(audit_from).transpose()
    }

    async fn audit(&self, tenant: Option<&str>, after_seq: i64, limit: u32) -> Result<Vec<AuditRow>, StoreError> {
        let rows = match tenant {
            Some(tenant) => {
                sqlx::query("SELECT * FROM audit WHERE tenant_id = ? AND seq > ? ORDER BY seq LIMIT ?")
                    .bind(tenant)
                    .bind(after_seq)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                sqlx::query("SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?")
                    .bind(after_seq)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
        };
        rows.iter().map(audit_from).collect()
    }
}
