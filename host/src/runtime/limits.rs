//! Resource limits for one plugin call, and the store limiter that enforces them.
//!
//! Every call runs in a fresh `Store` whose memory, tables and instances are capped
//! by [`GuestLimiter`], whose CPU time is metered in epoch ticks, and whose wall-clock
//! time is bounded by a timer around the call.
//! A guest that goes over any of them fails its own call with [`LimitExceeded`].

use serde::{Deserialize, Serialize};
use std::time::Duration;
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};

/// Instances one component may create (its core modules and shims).
pub const MAX_INSTANCES: usize = 32;
/// Tables one call may create.
pub const MAX_TABLES: usize = 32;
/// Elements one table may hold.
pub const MAX_TABLE_ELEMENTS: usize = 100_000;

/// Per-plugin resource budget for one call (or one push of a stream).
///
/// Operators set these per plugin in the config file (`[sanitizers.NAME.limits]`);
/// anything left out takes the sanitizer default below.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest linear memory the guest may grow to, in MiB.
    ///
    /// By default this is 64 MiB for sanitizers.
    pub memory_mib: u32,
    /// Guest execution time per call, in milliseconds, counted in epoch ticks while the
    /// guest runs (time the guest spends suspended does not count).
    ///
    /// By default this is 2 000 ms for sanitizers.
    pub cpu_ms: u64,
    /// Wall-clock time per call, in milliseconds, including time spent waiting.
    ///
    /// By default this is 5 000 ms for sanitizers.
    pub wall_ms: u64,
    /// Largest text a call may return, in MiB.
    ///
    /// By default this is 16 MiB.
    pub output_mib: u32,
    /// Bytes of stdout and stderr a call may write to the log, in KiB; the rest is dropped.
    ///
    /// By default this is 16 KiB.
    pub log_kib: u32,
}

/// The defaults for sanitizers.
pub const DEFAULT_SANITIZER_LIMITS: Limits =
    Limits { memory_mib: 64, cpu_ms: 2_000, wall_ms: 5_000, output_mib: 16, log_kib: 16 };

/// The defaults for providers: a call (one `next` of a stream) may wait on the
/// upstream for as long as the egress gate's first-byte deadline, and the memory holds
/// the largest request the API takes (five 10 MiB screenshots, and their base64 text).
pub const DEFAULT_PROVIDER_LIMITS: Limits =
    Limits { memory_mib: 192, cpu_ms: 2_000, wall_ms: 120_000, output_mib: 16, log_kib: 16 };

/// Limits as an operator writes them: each field left out keeps the default of the
/// plugin's kind ([`LimitsPatch::over`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsPatch {
    /// See [`Limits::memory_mib`].
    pub memory_mib: Option<u32>,
    /// See [`Limits::cpu_ms`].
    pub cpu_ms: Option<u64>,
    /// See [`Limits::wall_ms`].
    pub wall_ms: Option<u64>,
    /// See [`Limits::output_mib`].
    pub output_mib: Option<u32>,
    /// See [`Limits::log_kib`].
    pub log_kib: Option<u32>,
}

impl LimitsPatch {
    /// `defaults` with the fields this patch sets replaced.
    pub fn over(&self, defaults: Limits) -> Limits {
        Limits {
            memory_mib: self.memory_mib.unwrap_or(defaults.memory_mib),
            cpu_ms: self.cpu_ms.unwrap_or(defaults.cpu_ms),
            wall_ms: self.wall_ms.unwrap_or(defaults.wall_ms),
            output_mib: self.output_mib.unwrap_or(defaults.output_mib),
            log_kib: self.log_kib.unwrap_or(defaults.log_kib),
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        DEFAULT_SANITIZER_LIMITS
    }
}

impl Limits {
    /// The memory cap in bytes.
    pub fn memory_bytes(&self) -> usize {
        usize::try_from(u64::from(self.memory_mib) << 20).unwrap_or(usize::MAX)
    }

    /// The output cap in bytes.
    pub fn output_bytes(&self) -> usize {
        usize::try_from(u64::from(self.output_mib) << 20).unwrap_or(usize::MAX)
    }

    /// The log budget in bytes.
    pub fn log_bytes(&self) -> usize {
        usize::try_from(u64::from(self.log_kib) << 10).unwrap_or(usize::MAX)
    }

    /// The wall-clock budget.
    pub fn wall_time(&self) -> Duration {
        Duration::from_millis(self.wall_ms)
    }
}

/// A limit a guest went over; carried inside the trap so the call can be classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LimitExceeded {
    /// The guest tried to grow its memory past the cap.
    #[error("memory limit of {limit_mib} MiB")]
    Memory {
        /// The cap.
        limit_mib: u32,
    },
    /// The guest ran past its CPU budget.
    #[error("CPU budget of {limit_ms} ms")]
    Cpu {
        /// The budget.
        limit_ms: u64,
    },
    /// The guest tried to grow a table past the cap.
    #[error("table limit of {MAX_TABLE_ELEMENTS} elements")]
    Table,
}

/// The store's [`ResourceLimiter`]: wasmtime's [`StoreLimits`] plus a trap that names
/// the limit, so a memory bomb reads as "memory limit exceeded", not as a guest abort.
pub struct GuestLimiter {
    limits: StoreLimits,
    memory_mib: u32,
}

impl GuestLimiter {
    /// A limiter for one call under `limits`.
    pub fn new(limits: &Limits) -> Self {
        let store_limits = StoreLimitsBuilder::new()
            .memory_size(limits.memory_bytes())
            .table_elements(MAX_TABLE_ELEMENTS)
            .instances(MAX_INSTANCES)
            .tables(MAX_TABLES)
            .memories(MAX_INSTANCES)
            .build();
        Self { limits: store_limits, memory_mib: limits.memory_mib }
    }
}

impl ResourceLimiter for GuestLimiter {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        if self.limits.memory_growing(current, desired, maximum)? {
            Ok(true)
        } else {
            Err(wasmtime::Error::new(LimitExceeded::Memory { limit_mib: self.memory_mib }))
        }
    }

    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        if self.limits.table_growing(current, desired, maximum)? {
            Ok(true)
        } else {
            Err(wasmtime::Error::new(LimitExceeded::Table))
        }
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_config_keeps_defaults() {
        let limits: Limits = serde_json::from_str(r#"{"memory_mib": 128}"#).unwrap();
        assert_eq!(limits, Limits { memory_mib: 128, ..DEFAULT_SANITIZER_LIMITS });
        assert_eq!(limits.memory_bytes(), 128 << 20);
    }

    #[test]
    fn unknown_field_is_rejected() {
        let error = serde_json::from_str::<Limits>(r#"{"memory": 1}"#).unwrap_err().to_string();
        assert!(error.contains("unknown field `memory`"), "{error}");
    }

    #[test]
    fn growth_past_the_cap_traps_with_the_limit() {
        let mut limiter = GuestLimiter::new(&Limits { memory_mib: 1, ..Limits::default() });
        assert!(limiter.memory_growing(0, 1 << 20, None).unwrap());
        let error = limiter.memory_growing(1 << 20, 2 << 20, None).unwrap_err();
        assert_eq!(error.downcast_ref::<LimitExceeded>(), Some(&LimitExceeded::Memory { limit_mib: 1 }));
    }
}
