//! The sandbox: wasmtime engine, per-world linkers, limits, and the loaded plugins.
//!
//! Setup, in order:
//! 1. [`PluginEngine::new`] builds the one engine (pooling allocator, epoch ticker).
//! 2. [`Runtime::new`] adds the linkers and the on-disk [`CodeCache`].
//! 3. [`Runtime::load`] checks a component's world and imports ([`Interfaces::world`]),
//!    compiles it (or loads it from the cache), links it and reads its manifest.
//! 4. Calls go through [`SanitizerPlugin::sanitize`] or [`SanitizerPlugin::session`],
//!    each in a fresh store under the plugin's [`Limits`], or through
//!    [`ProviderPlugin::generate`], whose store sends HTTP only through the plugin's
//!    egress [`Gate`].

mod call_error;
mod code_cache;
mod egress;
mod engine;
mod guest_log;
mod limits;
mod linker;
mod loader;
mod provider;
mod sanitizer;
mod world;

pub use call_error::{CallError, Failure, Reported};
pub use code_cache::{CacheOutcome, CodeCache, sha256_hex, write_atomically};
pub use egress::{
    AllowedHost, AllowedHostError, CallHooks, Credential, Denial, Destination, EgressLimits, EgressPolicy, EgressStats,
    Gate, GateConfig, NameLookup, Placement, Refusal, StaticLookup, SystemLookup, forbidden_reason,
};
pub use engine::{EngineConfig, PluginEngine};
pub use limits::{DEFAULT_PROVIDER_LIMITS, DEFAULT_SANITIZER_LIMITS, LimitExceeded, Limits, LimitsPatch};
pub use loader::{
    Checked, EgressEnvironment, LoadError, LoadedPlugin, Plugin, PluginSettings, ProviderSettings, Runtime, Settings,
    in_manifest_spelling,
};
pub use provider::{
    Chunk, GenerateRequest, Generation, Message, ModelInfo, Part, ProviderManifest, ProviderPlugin, ProviderSetup,
    RequestKey, Role,
};
pub use sanitizer::{
    Finding, SanitizeRequest, SanitizerManifest, SanitizerPlugin, SanitizerSession, Stage, StreamEnd, Verdict,
    is_valid_name,
};
pub use world::{Interfaces, WIT_VERSION, World, WorldError};
