//! The sandbox: wasmtime engine, per-world linkers, limits, and the loaded plugins.
//!
//! Setup, in order:
//! 1. [`PluginEngine::new`] builds the one engine (pooling allocator, epoch ticker).
//! 2. [`Runtime::new`] adds the linkers and the on-disk [`CodeCache`].
//! 3. [`Runtime::load`] checks a component's world and imports ([`Interfaces::world`]),
//!    compiles it (or loads it from the cache), links it and reads its manifest.
//! 4. Calls go through [`SanitizerPlugin::sanitize`] or [`SanitizerPlugin::session`],
//!    each in a fresh store under the plugin's [`Limits`].

mod call_error;
mod code_cache;
mod egress_address;
mod egress_policy;
mod engine;
mod guest_log;
mod limits;
mod linker;
mod loader;
mod sanitizer;
mod world;

pub use call_error::{CallError, Failure, Reported};
pub use code_cache::{CacheOutcome, CodeCache, sha256_hex};
pub use egress_address::forbidden_reason;
pub use egress_policy::{AllowedHost, AllowedHostError, Denial, Destination, EgressPolicy};
pub use engine::{EngineConfig, PluginEngine};
pub use limits::{DEFAULT_SANITIZER_LIMITS, LimitExceeded, Limits};
pub use loader::{Checked, LoadError, LoadedPlugin, PluginSettings, Runtime};
pub use sanitizer::{
    Finding, SanitizeRequest, SanitizerManifest, SanitizerPlugin, SanitizerSession, Stage, StreamEnd, Verdict,
    is_valid_name,
};
pub use world::{Interfaces, World, WorldError};
