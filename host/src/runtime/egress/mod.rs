//! The egress gate: how a provider's outgoing requests are vetted, credentialed and sent.
//!
//! - `policy.rs` — which destinations (scheme, host, port) a plugin may name;
//! - `address.rs` — which resolved addresses are off limits (loopback, private,
//!   metadata, ...);
//! - `resolve.rs` — the resolver that drops those addresses before connecting;
//! - `credential.rs` — where the key goes and to which hosts it may be sent;
//! - `gate.rs` — the `wasi:http` hook that applies all of the above to each request.

mod address;
mod credential;
mod gate;
mod policy;
mod resolve;

pub use address::forbidden_reason;
pub use credential::{Credential, Placement};
pub use gate::{CallHooks, EgressLimits, EgressStats, Gate, GateConfig, Refusal};
pub use policy::{AllowedHost, AllowedHostError, Denial, Destination, EgressPolicy};
pub use resolve::{NameLookup, StaticLookup, SystemLookup};
