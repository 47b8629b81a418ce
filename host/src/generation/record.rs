//! What is kept of a generation: code, stack, models, timings, usage and findings —
//! never the images or the prompt. Kept in memory, bounded by count and age (the
//! store of the gateway issue will hold them durably).

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use serde::Serialize;

use super::stack::Stack;
use crate::runtime::Finding;

/// One generation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GenerationRecord {
    /// Its id.
    pub id: String,
    /// When it started, in milliseconds since the Unix epoch.
    pub created_ms: u64,
    /// The stack.
    pub stack: Stack,
    /// Its variants, by index.
    pub variants: Vec<VariantRecord>,
    #[serde(skip)]
    created: SystemTime,
}

impl GenerationRecord {
    /// A generation that has just started.
    pub fn new(id: String, stack: Stack, variants: Vec<VariantRecord>) -> Self {
        let created = SystemTime::now();
        let created_ms = created.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        Self { id, created_ms, stack, variants, created }
    }
}

/// How a variant ended, or that it has not yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VariantStatus {
    /// Still streaming.
    Running,
    /// Finished with sanitized code.
    Completed,
    /// Failed.
    Failed,
}

/// One variant.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VariantRecord {
    /// Its provider.
    pub provider: String,
    /// Its model.
    pub model: String,
    /// Where it is.
    pub status: VariantStatus,
    /// The sanitized code, once completed.
    pub code: Option<String>,
    /// What the sanitizers changed.
    pub findings: Vec<Finding>,
    /// Tokens spent: (prompt, completion).
    #[schema(value_type = Option<Vec<u32>>, min_items = 2, max_items = 2)]
    pub usage: Option<(u32, u32)>,
    /// Why it failed.
    pub error: Option<String>,
    /// Time from the start to the end, in milliseconds.
    pub duration_ms: Option<u64>,
}

impl VariantRecord {
    /// A variant that has not started yet.
    pub fn pending(provider: &str, model: &str) -> Self {
        Self {
            provider: provider.to_owned(),
            model: model.to_owned(),
            status: VariantStatus::Running,
            code: None,
            findings: Vec::new(),
            usage: None,
            error: None,
            duration_ms: None,
        }
    }
}

/// How long records are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    /// Most records kept; the oldest go first. Default 1000.
    pub max_records: usize,
    /// Seconds a record is kept. Default 86 400 (a day).
    pub max_age_secs: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Self { max_records: 1000, max_age_secs: 86_400 }
    }
}

/// The generations kept.
#[derive(Debug, Default)]
pub struct Generations {
    records: Mutex<VecDeque<GenerationRecord>>,
    retention: Retention,
}

impl Generations {
    /// An empty set with `retention`.
    pub fn new(retention: Retention) -> Self {
        Self { records: Mutex::default(), retention }
    }

    /// Keeps `record`, dropping what is past retention.
    pub fn insert(&self, record: GenerationRecord) {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        records.push_back(record);
        let max_age = Duration::from_secs(self.retention.max_age_secs);
        while records.len() > self.retention.max_records
            || records.front().is_some_and(|r| r.created.elapsed().unwrap_or_default() > max_age)
        {
            records.pop_front();
        }
    }

    /// Changes variant `index` of generation `id`, if it is still kept.
    pub fn update_variant(&self, id: &str, index: usize, change: impl FnOnce(&mut VariantRecord)) {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(variant) = records.iter_mut().find(|r| r.id == id).and_then(|r| r.variants.get_mut(index)) {
            change(variant);
        }
    }

    /// A copy of generation `id`.
    pub fn get(&self, id: &str) -> Option<GenerationRecord> {
        let records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        records.iter().find(|r| r.id == id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_records_go_past_the_count() {
        let generations = Generations::new(Retention { max_records: 2, max_age_secs: 3600 });
        for id in ["a", "b", "c"] {
            generations.insert(GenerationRecord::new(
                id.into(),
                Stack::HtmlCss,
                vec![VariantRecord::pending("p", "m")],
            ));
        }
        assert!(generations.get("a").is_none());
        generations.update_variant("c", 0, |v| v.code = Some("<p>x</p>".into()));
        assert_eq!(generations.get("c").unwrap().variants[0].code.as_deref(), Some("<p>x</p>"));
    }
}
