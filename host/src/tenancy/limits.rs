//! Rate limits (per key: requests and tokens per minute, as token buckets), quotas (per
//! tenant: requests and tokens per UTC day and month) and the per-tenant cap on open
//! streams. Every refusal says when to retry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::policy::{KeyLimits, TenantQuotas};
use crate::store::UsageTotals;

/// A refusal for going over a limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}; retry after {retry_after_secs} s")]
pub struct OverLimit {
    /// Which limit, in words.
    pub what: String,
    /// Seconds until a retry can succeed.
    pub retry_after_secs: u64,
}

/// A token bucket that may go into debt: a request needs a positive level, and its
/// real cost (e.g. tokens, known only afterwards) is taken when known.
#[derive(Debug, Clone)]
struct Bucket {
    capacity: f64,
    per_second: f64,
    level: f64,
    at: Instant,
}

impl Bucket {
    fn per_minute(capacity: u32, now: Instant) -> Self {
        let capacity = f64::from(capacity);
        Self { capacity, per_second: capacity / 60.0, level: capacity, at: now }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.level = (self.level + elapsed * self.per_second).min(self.capacity);
        self.at = now;
    }

    /// Takes `cost` when at least that much is there (`cost` 0: when the level is
    /// positive); otherwise the seconds until it will be.
    fn try_take(&mut self, cost: f64, now: Instant) -> Result<(), u64> {
        self.refill(now);
        let needed = cost.max(f64::MIN_POSITIVE);
        if self.level >= needed {
            self.level -= cost;
            Ok(())
        } else {
            Err(((needed - self.level) / self.per_second).ceil().max(1.0) as u64)
        }
    }

    fn charge(&mut self, cost: f64, now: Instant) {
        self.refill(now);
        self.level -= cost;
    }
}

#[derive(Debug, Default)]
struct KeyBuckets {
    limits: KeyLimits,
    requests: Option<Bucket>,
    tokens: Option<Bucket>,
}

/// Per-key request and token buckets.
#[derive(Debug, Default)]
pub struct KeyRates {
    buckets: Mutex<HashMap<String, KeyBuckets>>,
}

impl KeyRates {
    /// Admits one request of `key`, or says when to retry.
    ///
    /// # Errors
    ///
    /// [`OverLimit`] when the key's requests or tokens per minute are spent.
    pub fn admit(&self, key: &str, limits: KeyLimits) -> Result<(), OverLimit> {
        self.admit_at(key, limits, Instant::now())
    }

    fn admit_at(&self, key: &str, limits: KeyLimits, now: Instant) -> Result<(), OverLimit> {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = buckets.entry(key.to_owned()).or_default();
        if entry.limits != limits {
            *entry = KeyBuckets {
                limits,
                requests: limits.requests_per_minute.map(|rpm| Bucket::per_minute(rpm, now)),
                tokens: limits.tokens_per_minute.map(|tpm| Bucket::per_minute(tpm, now)),
            };
        }
        if let Some(tokens) = &mut entry.tokens {
            tokens.try_take(0.0, now).map_err(|secs| over("the key's tokens per minute are spent", secs))?;
        }
        if let Some(requests) = &mut entry.requests {
            requests.try_take(1.0, now).map_err(|secs| over("the key's requests per minute are spent", secs))?;
        }
        Ok(())
    }

    /// Charges `tokens` a request used to `key`'s token bucket.
    pub fn charge_tokens(&self, key: &str, tokens: u64) {
        let mut buckets = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(bucket) = buckets.get_mut(key).and_then(|entry| entry.tokens.as_mut()) {
            bucket.charge(tokens as f64, Instant::now());
        }
    }
}

fn over(what: &str, retry_after_secs: u64) -> OverLimit {
    OverLimit { what: what.to_owned(), retry_after_secs }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
}

/// The start of the UTC day holding `at` (Unix seconds).
pub fn day_start(at: i64) -> i64 {
    at - at.rem_euclid(86_400)
}

/// The start of the UTC calendar month holding `at`, and of the next one.
pub fn month_bounds(at: i64) -> (i64, i64) {
    let (year, month, _) = civil_from_days(at.div_euclid(86_400));
    let start = days_from_civil(year, month, 1) * 86_400;
    let (next_year, next_month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    (start, days_from_civil(next_year, next_month, 1) * 86_400)
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// The inverse of [`civil_from_days`].
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year.rem_euclid(400);
    let month = i64::from(month);
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A tenant's usage in the current day and month, as the quotas see it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeriodUsage {
    /// Start of the day these totals are for.
    pub day: i64,
    /// Usage this day.
    pub today: UsageTotals,
    /// Start of the month these totals are for.
    pub month: i64,
    /// Usage this month.
    pub this_month: UsageTotals,
}

impl PeriodUsage {
    /// Checks `quotas` at `now`: the next request is refused when a quota is used up.
    ///
    /// # Errors
    ///
    /// [`OverLimit`] naming the quota, retrying at the next day or month.
    pub fn check(&self, quotas: &TenantQuotas, now: i64) -> Result<(), OverLimit> {
        let to_tomorrow = u64::try_from(self.day + 86_400 - now).unwrap_or(1).max(1);
        let to_next_month = u64::try_from(month_bounds(now).1 - now).unwrap_or(1).max(1);
        let checks = [
            (quotas.daily_requests, self.today.requests, "daily request quota", to_tomorrow),
            (quotas.daily_tokens, self.today.tokens(), "daily token quota", to_tomorrow),
            (quotas.monthly_requests, self.this_month.requests, "monthly request quota", to_next_month),
            (quotas.monthly_tokens, self.this_month.tokens(), "monthly token quota", to_next_month),
        ];
        for (limit, used, what, retry) in checks {
            if let Some(limit) = limit
                && used >= limit
            {
                return Err(over(&format!("the tenant's {what} ({limit}) is used up"), retry));
            }
        }
        Ok(())
    }

    /// Adds one request's usage, moving to a new day or month when `now` is in one.
    pub fn add(&mut self, usage: UsageTotals, now: i64) {
        if day_start(now) != self.day {
            self.day = day_start(now);
            self.today = UsageTotals::default();
        }
        if month_bounds(now).0 != self.month {
            self.month = month_bounds(now).0;
            self.this_month = UsageTotals::default();
        }
        for totals in [&mut self.today, &mut self.this_month] {
            totals.requests += usage.requests;
            totals.prompt_tokens += usage.prompt_tokens;
            totals.completion_tokens += usage.completion_tokens;
            totals.cost_micro_usd += usage.cost_micro_usd;
        }
    }
}

/// The per-tenant caps on open streams.
#[derive(Debug, Default)]
pub struct StreamCaps {
    semaphores: Mutex<HashMap<String, (u32, Arc<Semaphore>)>>,
}

impl StreamCaps {
    /// A slot for one stream of `tenant` under `cap` (none: unlimited), held until the
    /// permit is dropped.
    ///
    /// # Errors
    ///
    /// [`OverLimit`] when every slot is taken.
    pub fn acquire(&self, tenant: &str, cap: Option<u32>) -> Result<Option<OwnedSemaphorePermit>, OverLimit> {
        let Some(cap) = cap else { return Ok(None) };
        let semaphore = {
            let mut semaphores = self.semaphores.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let entry =
                semaphores.entry(tenant.to_owned()).or_insert_with(|| (cap, Arc::new(Semaphore::new(cap as usize))));
            if entry.0 != cap {
                *entry = (cap, Arc::new(Semaphore::new(cap as usize)));
            }
            entry.1.clone()
        };
        semaphore
            .try_acquire_owned()
            .map(Some)
            .map_err(|_| over(&format!("the tenant's {cap} concurrent streams are all in use"), 1))
    }
}

/// How long a request may take under `quotas`.
pub fn request_timeout(quotas: &TenantQuotas) -> Option<Duration> {
    quotas.request_timeout_secs.map(|secs| Duration::from_secs(u64::from(secs)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_per_minute_refill_over_time() {
        let rates = KeyRates::default();
        let limits = KeyLimits { requests_per_minute: Some(2), tokens_per_minute: None };
        let start = Instant::now();
        assert!(rates.admit_at("k", limits, start).is_ok());
        assert!(rates.admit_at("k", limits, start).is_ok());
        let refused = rates.admit_at("k", limits, start).unwrap_err();
        assert_eq!(refused.retry_after_secs, 30);
        assert!(rates.admit_at("other", limits, start).is_ok(), "buckets are per key");
        assert!(rates.admit_at("k", limits, start + Duration::from_secs(30)).is_ok());
    }

    #[test]
    fn tokens_are_charged_afterwards_and_debt_blocks() {
        let rates = KeyRates::default();
        let limits = KeyLimits { requests_per_minute: None, tokens_per_minute: Some(600) };
        assert!(rates.admit("k", limits).is_ok());
        rates.charge_tokens("k", 900);
        let refused = rates.admit("k", limits).unwrap_err();
        assert!(refused.what.contains("tokens per minute"));
        assert!((30..=31).contains(&refused.retry_after_secs), "{refused:?}");
    }

    #[test]
    fn quotas_refuse_until_the_next_period() {
        let now = 1_764_158_400 + 3600; // 2025-11-26T13:00:00Z
        let mut usage = PeriodUsage { day: day_start(now), month: month_bounds(now).0, ..PeriodUsage::default() };
        let quotas = TenantQuotas { daily_requests: Some(2), monthly_tokens: Some(1000), ..TenantQuotas::default() };
        usage.add(UsageTotals { requests: 1, prompt_tokens: 10, ..UsageTotals::default() }, now);
        assert!(usage.check(&quotas, now).is_ok());
        usage.add(UsageTotals { requests: 1, completion_tokens: 10, ..UsageTotals::default() }, now);
        let refused = usage.check(&quotas, now).unwrap_err();
        assert_eq!(refused.retry_after_secs, 11 * 3600);
        let tomorrow = day_start(now) + 86_400;
        usage.add(UsageTotals { requests: 1, prompt_tokens: 980, ..UsageTotals::default() }, tomorrow);
        let refused = usage.check(&quotas, tomorrow).unwrap_err();
        assert!(refused.what.contains("monthly token quota"), "{refused:?}");
        assert_eq!(refused.retry_after_secs, u64::try_from(month_bounds(now).1 - tomorrow).unwrap());
    }

    #[test]
    fn month_bounds_follow_the_calendar() {
        assert_eq!(month_bounds(0), (0, 31 * 86_400));
        let feb_2024 = days_from_civil(2024, 2, 10) * 86_400;
        assert_eq!(
            month_bounds(feb_2024),
            (days_from_civil(2024, 2, 1) * 86_400, days_from_civil(2024, 3, 1) * 86_400)
        );
        assert_eq!(days_from_civil(2024, 3, 1) - days_from_civil(2024, 2, 1), 29);
        assert_eq!(civil_from_days(days_from_civil(2026, 12, 31)), (2026, 12, 31));
    }

    #[test]
    fn stream_caps_hold_until_the_permit_drops() {
        let caps = StreamCaps::default();
        let first = caps.acquire("t", Some(1)).unwrap();
        assert!(caps.acquire("t", Some(1)).is_err());
        assert!(caps.acquire("u", Some(1)).is_ok());
        drop(first);
        assert!(caps.acquire("t", Some(1)).is_ok());
        assert!(caps.acquire("t", None).unwrap().is_none());
    }
}
