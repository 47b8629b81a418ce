//! How a plugin call fails, in terms a caller and an operator can act on.
//!
//! Wasmtime reports a guest's failure as a trap or as the error a limit raised;
//! [`CallError`] names which: the limit and its value, a stack overflow, the guest's
//! own panic message, or the error the plugin chose to report.
//! Host internals (paths, wasm backtraces) stay in the log.

use std::fmt;
use std::sync::Arc;

use wasmtime::{PoolConcurrencyLimitError, Trap};

use super::egress::Refusal;
use super::guest_log::CallLog;
use super::limits::LimitExceeded;

/// A failed call, with the plugin it happened in.
#[derive(Debug, thiserror::Error)]
#[error("plugin `{plugin}` {failure}")]
pub struct CallError {
    /// The plugin's name.
    pub plugin: Arc<str>,
    /// What went wrong.
    pub failure: Failure,
}

/// What went wrong in a plugin call.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Failure {
    /// It went over a resource limit.
    #[error("exceeded its {0}")]
    Limit(LimitExceeded),
    /// It ran past its wall-clock budget.
    #[error("exceeded its wall-clock budget of {limit_ms} ms")]
    WallClock {
        /// The budget.
        limit_ms: u64,
    },
    /// It recursed past the wasm stack limit.
    #[error("overflowed its stack")]
    StackOverflow,
    /// It panicked (a Rust guest), with the message it printed.
    #[error("panicked: {0}")]
    Panic(String),
    /// It trapped.
    #[error("trapped: {0}")]
    Trap(String),
    /// It returned more than its output limit.
    #[error("returned {size} bytes, more than its output limit of {limit} bytes")]
    OutputTooLarge {
        /// What it returned.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// No instance slot was free.
    #[error("could not start: every plugin instance slot is busy")]
    Busy,
    /// The egress gate refused one of its requests (or cut off a response); this is
    /// reported instead of whatever the plugin made of the refusal.
    #[error("was stopped by the egress gate: {0}")]
    Egress(Refusal),
    /// The plugin reported an error of its own.
    #[error("reported {0}")]
    Reported(Reported),
}

/// An error a plugin reported through its WIT interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reported {
    /// `invalid-request`: the caller's input is not acceptable.
    InvalidRequest(String),
    /// `upstream`: the upstream service answered with an error.
    Upstream {
        /// The upstream's status.
        status: u16,
        /// The upstream's message.
        message: String,
    },
    /// `denied`: the host refused something the plugin asked for.
    Denied(String),
    /// `refused`: the model or the vendor's safety system declined to answer.
    Refused {
        /// The vendor's code (`refusal`, `content_filter`, `SAFETY`, ...).
        reason: String,
        /// The model's explanation or the vendor's message; may be empty.
        message: String,
    },
    /// `internal`: the plugin failed on its own.
    Internal(String),
}

impl fmt::Display for Reported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reported::InvalidRequest(message) => write!(f, "an invalid request: {message}"),
            Reported::Upstream { status, message } => write!(f, "an upstream error {status}: {message}"),
            Reported::Denied(message) => write!(f, "a denial: {message}"),
            Reported::Refused { reason, message } if message.is_empty() => {
                write!(f, "that the model declined to answer ({reason})")
            }
            Reported::Refused { reason, message } => {
                write!(f, "that the model declined to answer ({reason}): {message}")
            }
            Reported::Internal(message) => write!(f, "an internal error: {message}"),
        }
    }
}

impl Failure {
    /// Classifies the error wasmtime returned from a call; `log` supplies a panic message.
    pub fn from_wasmtime(plugin: &str, error: &wasmtime::Error, log: &CallLog) -> Self {
        let failure = if let Some(limit) = error.downcast_ref::<LimitExceeded>() {
            Failure::Limit(*limit)
        } else if error.downcast_ref::<PoolConcurrencyLimitError>().is_some() {
            Failure::Busy
        } else if let Some(trap) = error.downcast_ref::<Trap>() {
            match (trap, log.panic_message()) {
                (Trap::StackOverflow, _) => Failure::StackOverflow,
                (_, Some(message)) => Failure::Panic(message),
                (trap, None) => Failure::Trap(trap.to_string()),
            }
        } else {
            Failure::Trap(error.root_cause().to_string())
        };
        tracing::warn!(plugin, %failure, detail = %format!("{error:?}"), "plugin call failed");
        failure
    }
}
