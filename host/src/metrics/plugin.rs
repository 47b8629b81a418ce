//! What plugin metrics are counted by: a call's outcome, a swap's event, and the
//! per-plugin handle a call records through.

use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::histogram::Histogram;

use super::PLUGIN_BUCKETS;
use crate::runtime::{Failure, LimitExceeded};

/// How a call into a guest ended (`outcome` of `airlock_plugin_calls_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    /// It returned a value.
    Ok,
    /// It trapped, panicked or overflowed its stack.
    Trap,
    /// It ran past its CPU or wall-clock budget.
    Timeout,
    /// It tried to grow its memory (or a table) past its cap.
    Memory,
    /// It reported an error, was refused egress, returned too much, or found no slot.
    Error,
}

impl CallOutcome {
    /// Every outcome, in label order.
    pub const ALL: [CallOutcome; 5] =
        [CallOutcome::Ok, CallOutcome::Trap, CallOutcome::Timeout, CallOutcome::Memory, CallOutcome::Error];

    /// Its label value.
    pub fn label(self) -> &'static str {
        match self {
            CallOutcome::Ok => "ok",
            CallOutcome::Trap => "trap",
            CallOutcome::Timeout => "timeout",
            CallOutcome::Memory => "memory",
            CallOutcome::Error => "error",
        }
    }

    /// The outcome of a call that ended with `failure` (none: it succeeded).
    pub fn of(failure: Option<&Failure>) -> Self {
        match failure {
            None => CallOutcome::Ok,
            Some(Failure::Limit(LimitExceeded::Memory { .. } | LimitExceeded::Table)) => CallOutcome::Memory,
            Some(Failure::Limit(LimitExceeded::Cpu { .. }) | Failure::WallClock { .. }) => CallOutcome::Timeout,
            Some(Failure::StackOverflow | Failure::Panic(_) | Failure::Trap(_)) => CallOutcome::Trap,
            Some(Failure::OutputTooLarge { .. } | Failure::Busy | Failure::Egress(_) | Failure::Reported(_)) => {
                CallOutcome::Error
            }
        }
    }
}

/// What happened to a plugin version (`event` of `airlock_plugin_swaps_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwapEvent {
    /// It was uploaded or found in the watched directory, checked and kept.
    Load,
    /// It was put in service.
    Activate,
    /// It was put back in service by a rollback.
    Rollback,
    /// It was refused (signature, world, self-test).
    Refused,
}

impl SwapEvent {
    /// Its label value.
    pub fn label(self) -> &'static str {
        match self {
            SwapEvent::Load => "load",
            SwapEvent::Activate => "activate",
            SwapEvent::Rollback => "rollback",
            SwapEvent::Refused => "refused",
        }
    }
}

/// One plugin's call counters and duration histogram, resolved once at load so that
/// recording a call touches no map.
#[derive(Debug, Clone)]
pub struct PluginCalls {
    outcomes: [Counter; 5],
    duration: Histogram,
}

/// Counters in no registry: for the manifest call a plugin makes before it has a name.
impl Default for PluginCalls {
    fn default() -> Self {
        Self::new(Default::default(), Histogram::new(PLUGIN_BUCKETS))
    }
}

impl PluginCalls {
    pub(super) fn new(outcomes: [Counter; 5], duration: Histogram) -> Self {
        Self { outcomes, duration }
    }

    /// Records one call that took `elapsed` and ended with `failure` (none: success).
    pub fn observe(&self, failure: Option<&Failure>, elapsed: Duration) {
        let outcome = CallOutcome::of(failure);
        self.outcomes[outcome as usize].inc();
        self.duration.observe(elapsed.as_secs_f64());
    }
}
