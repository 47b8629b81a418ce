//! The one wasmtime [`Engine`] every plugin runs on, and the clock that meters them.
//!
//! Configured for many short calls: the pooling allocator keeps memories, tables and
//! fiber stacks warm so instantiation is a few microseconds; epoch interruption lets the
//! host preempt a guest (to yield its worker thread, or to stop it at its CPU budget)
//! without the cost of fuel metering.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig};

/// How often the epoch advances; the granularity of CPU budgets and of yielding.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Wasm stack a guest may use before it traps with a stack overflow.
pub const MAX_WASM_STACK: usize = 512 * 1024;

/// Bytes of each pooled linear memory reset in place (not decommitted) between calls:
/// a bundled guest's 64 KiB shadow stack plus its static data and first heap pages
/// (measured: 13 µs per call at 80 KiB, 16 µs at 128 KiB, 18.5 µs at 0, 22 µs at 512 KiB).
const MEMORY_KEEP_RESIDENT: usize = 80 * 1024;
/// Bytes of each pooled table reset in place between calls.
const TABLE_KEEP_RESIDENT: usize = 16 * 1024;

/// Engine-wide settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// Plugin instances that may exist at once (each call or open stream holds one);
    /// calls beyond this fail fast with a "busy" error instead of queueing unbounded.
    ///
    /// By default this is 1 000.
    pub max_instances: u32,
    /// The largest memory any plugin may be configured for, in MiB; sizes the pool.
    ///
    /// By default this is 512 MiB.
    pub max_memory_mib: u32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self { max_instances: 1_000, max_memory_mib: 512 }
    }
}

/// The shared engine plus the thread that advances its epoch.
pub struct PluginEngine {
    engine: Engine,
    ticker_stop: Arc<AtomicBool>,
}

impl PluginEngine {
    /// Builds the engine and starts its epoch ticker.
    ///
    /// # Errors
    ///
    /// When wasmtime rejects the configuration (e.g. the pool cannot be reserved).
    pub fn new(config: &EngineConfig) -> anyhow::Result<Self> {
        let mut pool = PoolingAllocationConfig::default();
        let instances = config.max_instances;
        pool.total_component_instances(instances)
            .total_core_instances(instances.saturating_mul(4))
            .total_memories(instances.saturating_mul(2))
            .total_tables(instances.saturating_mul(4))
            .total_stacks(instances)
            .max_memory_size(usize::try_from(u64::from(config.max_memory_mib) << 20)?)
            .max_core_instances_per_component(16)
            .max_memories_per_component(4)
            .max_tables_per_component(16)
            // Reset the first pages of a slot with memset instead of giving them back to
            // the kernel: a short call touches only these (bundled guests keep a 64 KiB
            // shadow stack at the bottom of memory), and madvise + page faults + TLB
            // shootdowns cost more than clearing them.
            .linear_memory_keep_resident(MEMORY_KEEP_RESIDENT)
            .table_keep_resident(TABLE_KEEP_RESIDENT)
            // Free slots in batches, off the hot path of each call.
            .decommit_batch_size(64);

        let mut wasm = Config::new();
        wasm.wasm_component_model(true)
            .epoch_interruption(true)
            .max_wasm_stack(MAX_WASM_STACK)
            .cranelift_opt_level(OptLevel::Speed)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        let engine = Engine::new(&wasm).map_err(anyhow::Error::from)?;

        let ticker_stop = Arc::new(AtomicBool::new(false));
        let (ticking, stop) = (engine.weak(), ticker_stop.clone());
        std::thread::Builder::new().name("airlock-epoch".into()).spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                match ticking.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        })?;
        Ok(Self { engine, ticker_stop })
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

impl Drop for PluginEngine {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}
