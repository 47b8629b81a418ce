//! Where a guest's stdout and stderr go: a bounded, rate-limited log sink.
//!
//! A plugin's output is the plugin's, not the host's: it is split into lines, tagged
//! with the plugin's name and written to the `airlock::plugin` tracing target at
//! `debug` level — a plugin sees request content and could print it, and request
//! content must not reach the logs by default (enable with
//! `AIRLOCK_LOG=info,airlock::plugin=debug` when developing a plugin).
//! Each call may write at most [`Limits::log_kib`](super::Limits) bytes; each plugin at
//! most [`LINES_PER_SECOND`] lines across all its calls. Output past either bound is
//! dropped (and counted), never buffered, so a chatty or hostile guest cannot fill the
//! host's memory or its logs.
//! The last lines of stderr are kept for the call so a panic message can be shown in
//! the error the caller gets.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// Lines per second one plugin may log, summed over all its calls.
pub const LINES_PER_SECOND: f64 = 50.0;
/// Lines a plugin may log in a burst.
const LINE_BURST: f64 = 100.0;
/// Longest line kept; the rest of a longer line is cut.
const MAX_LINE: usize = 1024;
/// Bytes of stderr kept per call to explain a trap.
const STDERR_TAIL: usize = 2048;

/// A token bucket of log lines shared by every call of one plugin.
pub struct LogRate {
    state: Mutex<(f64, Instant)>,
}

impl Default for LogRate {
    fn default() -> Self {
        Self { state: Mutex::new((LINE_BURST, Instant::now())) }
    }
}

impl LogRate {
    fn take(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (tokens, last) = &mut *state;
        let now = Instant::now();
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * LINES_PER_SECOND).min(LINE_BURST);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The log of one call: shared by the guest's stdout and stderr streams.
#[derive(Clone)]
pub struct CallLog {
    inner: Arc<Mutex<CallLogState>>,
}

struct CallLogState {
    plugin: Arc<str>,
    rate: Arc<LogRate>,
    budget: usize,
    partial: [Vec<u8>; 2],
    stderr_tail: Vec<u8>,
    dropped_bytes: usize,
}

/// Which of the guest's outputs.
#[derive(Clone, Copy)]
enum Stream {
    Stdout = 0,
    Stderr = 1,
}

impl CallLog {
    /// A log for one call of `plugin` that may take `budget` bytes.
    pub fn new(plugin: Arc<str>, rate: Arc<LogRate>, budget: usize) -> Self {
        let state = CallLogState {
            plugin,
            rate,
            budget,
            partial: [Vec::new(), Vec::new()],
            stderr_tail: Vec::new(),
            dropped_bytes: 0,
        };
        Self { inner: Arc::new(Mutex::new(state)) }
    }

    /// The guest's stdout.
    pub fn stdout(&self) -> GuestOutput {
        GuestOutput { log: self.clone(), stream: Stream::Stdout }
    }

    /// The guest's stderr.
    pub fn stderr(&self) -> GuestOutput {
        GuestOutput { log: self.clone(), stream: Stream::Stderr }
    }

    /// A Rust panic message from the end of stderr, if the guest printed one.
    pub fn panic_message(&self) -> Option<String> {
        let state = self.lock();
        let tail = String::from_utf8_lossy(&state.stderr_tail);
        let (_, after) = tail.rsplit_once("panicked at ")?;
        let message: Vec<&str> = after.lines().skip(1).take_while(|line| !line.starts_with("note:")).collect();
        let message = message.join(" ");
        let message = message.trim();
        (!message.is_empty()).then(|| message.chars().take(300).collect())
    }

    /// Writes out lines still pending and reports dropped output; called when the call ends.
    pub fn flush(&self) {
        let mut state = self.lock();
        for stream in [Stream::Stdout, Stream::Stderr] {
            let rest = std::mem::take(&mut state.partial[stream as usize]);
            if !rest.is_empty() {
                state.emit(stream, &rest);
            }
        }
        if state.dropped_bytes > 0 {
            tracing::warn!(
                target: "airlock::plugin",
                plugin = %state.plugin,
                dropped_bytes = state.dropped_bytes,
                "plugin output over its log budget was dropped"
            );
            state.dropped_bytes = 0;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CallLogState> {
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self, stream: Stream, bytes: &[u8]) {
        let mut state = self.lock();
        if let Stream::Stderr = stream {
            state.stderr_tail.extend_from_slice(bytes);
            let excess = state.stderr_tail.len().saturating_sub(STDERR_TAIL);
            state.stderr_tail.drain(..excess);
        }
        let accepted = bytes.len().min(state.budget);
        state.budget -= accepted;
        state.dropped_bytes += bytes.len() - accepted;
        let mut pending = std::mem::take(&mut state.partial[stream as usize]);
        pending.extend_from_slice(&bytes[..accepted]);
        let mut start = 0;
        while let Some(newline) = pending[start..].iter().position(|&b| b == b'\n') {
            state.emit(stream, &pending[start..start + newline]);
            start += newline + 1;
        }
        pending.drain(..start);
        if pending.len() > MAX_LINE {
            state.emit(stream, &pending);
            pending.clear();
        }
        state.partial[stream as usize] = pending;
    }
}

impl CallLogState {
    fn emit(&mut self, stream: Stream, line: &[u8]) {
        if !self.rate.take() {
            self.dropped_bytes += line.len();
            return;
        }
        let line = String::from_utf8_lossy(&line[..line.len().min(MAX_LINE)]);
        let stream = match stream {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        };
        tracing::debug!(target: "airlock::plugin", plugin = %self.plugin, stream, "{line}");
    }
}

/// One of the guest's output streams; implements WASI's stdout/stderr.
#[derive(Clone)]
pub struct GuestOutput {
    log: CallLog,
    stream: Stream,
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(tokio::io::sink())
    }
}

#[wasmtime_wasi::async_trait]
impl OutputStream for GuestOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.log.write(self.stream, &bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for GuestOutput {
    async fn ready(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(budget: usize) -> CallLog {
        CallLog::new("test".into(), Arc::new(LogRate::default()), budget)
    }

    #[test]
    fn panic_message_is_extracted_from_stderr() {
        let log = log(4096);
        log.write(Stream::Stderr, b"\nthread '<unnamed>' panicked at src/lib.rs:7:5:\nboom: the guest gave up\nnote: run with `RUST_BACKTRACE=1`\n");
        assert_eq!(log.panic_message().as_deref(), Some("boom: the guest gave up"));
    }

    #[test]
    fn output_past_the_budget_is_dropped_and_counted() {
        let log = log(10);
        log.write(Stream::Stdout, b"0123456789abcdef\n");
        let state = log.lock();
        assert_eq!(state.budget, 0);
        assert_eq!(state.dropped_bytes, 7);
    }

    #[test]
    fn rate_limit_stops_a_flood() {
        let rate = LogRate::default();
        let allowed = (0..1000).filter(|_| rate.take()).count();
        assert!((100..=101).contains(&allowed), "{allowed}");
    }
}
