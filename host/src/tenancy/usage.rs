//! Admitting an API call (rate limits, quotas, stream caps) and recording what it used
//! (usage, tokens charged, the audit record).

use std::time::Instant;

use tokio::sync::OwnedSemaphorePermit;

use super::limits::{OverLimit, PeriodUsage, day_start, month_bounds, unix_now};
use super::{AuditEvent, Caller, Tenancy};
use crate::store::{UsageRecord, UsageTotals};

/// An admitted call: holds its stream slot until it is finished.
#[derive(Debug)]
pub struct Admission {
    tenant: String,
    key_prefix: String,
    request_id: String,
    started: Instant,
    _slot: Option<OwnedSemaphorePermit>,
}

/// What a finished call did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The provider that served it (the last one tried).
    pub provider: String,
    /// The model.
    pub model: String,
    /// Tokens in.
    pub prompt_tokens: u32,
    /// Tokens out.
    pub completion_tokens: u32,
    /// Estimated cost, in millionths of a US dollar.
    pub cost_micro_usd: u64,
    /// The status answered.
    pub status: u16,
    /// The plugins that served it, `name@version` with sha256.
    pub plugins: Vec<String>,
    /// Rule ids the sanitizers reported.
    pub findings: Vec<String>,
    /// Why it failed, if it did.
    pub detail: Option<String>,
}

impl Tenancy {
    /// Admits one call of `caller` (a tenant role): its key's rate limits, its tenant's
    /// quotas and stream cap.
    ///
    /// # Errors
    ///
    /// [`OverLimit`] with the seconds to wait; the refusal is audited.
    pub async fn admit(&self, caller: &Caller, request_id: &str) -> Result<Admission, OverLimit> {
        let tenant = caller.tenant.as_ref().map(|tenant| tenant.id.clone()).unwrap_or_default();
        let quotas = caller.tenant.as_ref().map(|tenant| tenant.quotas.clone()).unwrap_or_default();
        let result = async {
            let now = unix_now();
            self.period_usage(&tenant, now).await.check(&quotas, now)?;
            let slot = self.streams.acquire(&tenant, quotas.max_concurrent_streams)?;
            self.rates.admit(&caller.principal.key_prefix, caller.limits)?;
            Ok::<_, OverLimit>(slot)
        }
        .await;
        match result {
            Ok(slot) => Ok(Admission {
                tenant,
                key_prefix: caller.principal.key_prefix.clone(),
                request_id: request_id.to_owned(),
                started: Instant::now(),
                _slot: slot,
            }),
            Err(over) => {
                self.audit.record(throttled(&tenant, caller, request_id, &over)).await;
                Err(over)
            }
        }
    }

    /// A slot among `caller`'s tenant's concurrent streams (none for callers without a
    /// tenant or a cap), held until the permit is dropped: for the screenshot API, whose
    /// calls are not metered per request like the gateway's.
    ///
    /// # Errors
    ///
    /// [`OverLimit`] when every slot is taken; the refusal is audited.
    pub async fn stream_slot(
        &self,
        caller: &Caller,
        request_id: &str,
    ) -> Result<Option<OwnedSemaphorePermit>, OverLimit> {
        let Some(tenant) = caller.tenant.as_ref() else { return Ok(None) };
        match self.streams.acquire(&tenant.id, tenant.quotas.max_concurrent_streams) {
            Ok(slot) => Ok(slot),
            Err(over) => {
                self.audit.record(throttled(&tenant.id, caller, request_id, &over)).await;
                Err(over)
            }
        }
    }

    async fn period_usage(&self, tenant: &str, now: i64) -> PeriodUsage {
        let mut usage = self.usage.lock().await;
        if let Some(known) = usage.get(tenant)
            && known.day == day_start(now)
            && known.month == month_bounds(now).0
        {
            return *known;
        }
        let (day, month) = (day_start(now), month_bounds(now).0);
        let loaded = async {
            Ok::<_, crate::store::StoreError>(PeriodUsage {
                day,
                today: self.store.usage_since(tenant, day).await?,
                month,
                this_month: self.store.usage_since(tenant, month).await?,
            })
        }
        .await
        .unwrap_or_else(|error| {
            tracing::error!(%error, tenant, "usage could not be read; quotas start from zero");
            PeriodUsage { day, month, ..PeriodUsage::default() }
        });
        usage.insert(tenant.to_owned(), loaded);
        loaded
    }

    /// Records a finished call: its usage counts against the quotas and the key's
    /// tokens per minute, and its audit record and usage row are queued together.
    pub async fn finish(&self, admission: Admission, outcome: Outcome) {
        let now = unix_now();
        let tokens = UsageTotals {
            requests: 1,
            prompt_tokens: u64::from(outcome.prompt_tokens),
            completion_tokens: u64::from(outcome.completion_tokens),
            cost_micro_usd: outcome.cost_micro_usd,
        };
        self.period_usage(&admission.tenant, now).await;
        if let Some(usage) = self.usage.lock().await.get_mut(&admission.tenant) {
            usage.add(tokens, now);
        }
        self.rates.charge_tokens(&admission.key_prefix, tokens.tokens());
        self.metrics.tokens(&admission.tenant, &outcome.provider, outcome.prompt_tokens, outcome.completion_tokens);
        let latency = admission.started.elapsed();
        let event = AuditEvent {
            request_id: Some(admission.request_id.clone()),
            tenant: Some(admission.tenant.clone()),
            key_prefix: Some(admission.key_prefix.clone()),
            provider: Some(outcome.provider.clone()),
            model: Some(outcome.model.clone()),
            plugins: outcome.plugins,
            prompt_tokens: Some(outcome.prompt_tokens),
            completion_tokens: Some(outcome.completion_tokens),
            latency_ms: Some(u64::try_from(latency.as_millis()).unwrap_or(u64::MAX)),
            findings: outcome.findings,
            detail: outcome.detail,
            ..AuditEvent::new("chat.completion", outcome.status)
        };
        let record = UsageRecord {
            at: now,
            tenant: admission.tenant,
            key_prefix: admission.key_prefix,
            request_id: admission.request_id,
            provider: outcome.provider,
            model: outcome.model,
            prompt_tokens: outcome.prompt_tokens,
            completion_tokens: outcome.completion_tokens,
            cost_micro_usd: outcome.cost_micro_usd,
            status: outcome.status,
        };
        self.audit.record_request(event, record).await;
    }
}

/// The audit record of a call refused for going over a limit.
fn throttled(tenant: &str, caller: &Caller, request_id: &str, over: &OverLimit) -> AuditEvent {
    let mut event = AuditEvent::new("request.throttled", 429);
    event.request_id = Some(request_id.to_owned());
    event.tenant = Some(tenant.to_owned());
    event.key_prefix = Some(caller.principal.key_prefix.clone());
    event.detail = Some(over.what.clone());
    event
}
