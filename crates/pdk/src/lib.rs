//! Airlock's plugin development kit.
//!
//! A plugin is a WebAssembly component built against the WIT package `airlock:plugin`
//! (`wit/plugin.wit` in the repository). This crate holds the generated bindings and
//! turns a world's exports into one trait:
//!
//! - feature `sanitizer`: a sanitizer is one `impl` of `sanitizer::Sanitizer` (and of
//!   `sanitizer::SanitizerStream` for its streaming sessions) plus
//!   `export_sanitizer!`;
//! - feature `provider`: a provider is one `impl` of `provider::Provider` plus
//!   `export_provider!`, with an HTTP client
//!   (`provider::http`) that goes through the host's egress gate and a reader of
//!   server-sent events (`provider::stream`, [`sse`]).
//!
//! One component is one world, so a plugin crate enables one of the two features
//! (the items of each are documented when it is enabled:
//! `cargo doc -p airlock-pdk --features sanitizer,provider`).
//! `docs/plugins.md` in the repository explains the contract, the sandbox and
//! publishing in full.
//!
//! # Walkthrough
//!
//! 1. Create a crate. `airlock plugin new sanitizer my-rule` (or `provider my-llm`)
//!    writes one with a working example; by hand, it is a `cdylib` that depends on this
//!    crate with one feature:
//!
//!    ```toml
//!    [lib]
//!    crate-type = ["cdylib"]
//!
//!    [dependencies]
//!    airlock-pdk = { path = "…/crates/pdk", features = ["sanitizer"] }
//!    ```
//!
//! 2. Implement the trait and export it (the examples below).
//!
//! 3. Build a component: `airlock plugin build`, which runs
//!    `cargo build --release --target wasm32-wasip2`
//!    (`rustup target add wasm32-wasip2` once).
//!
//! 4. Check it: `airlock plugin inspect target/wasm32-wasip2/release/my_rule.wasm` shows
//!    its world and imports (a sanitizer that imports `wasi:filesystem`, `wasi:sockets`
//!    or `wasi:http` is refused);
//!    `airlock plugin test target/wasm32-wasip2/release/my_rule.wasm` runs the
//!    conformance kit (for a provider, against a fake upstream of its vendor's wire
//!    format: `--wire openai|anthropic|gemini`).
//!
//! 5. Publish it: `airlock plugin sign FILE --key ops.key`, then
//!    `airlock plugin upload FILE --activate` against a running server.
//!
//! What the sandbox gives a plugin: its arguments, memory and CPU within the operator's
//! limits, clocks and randomness, stdout/stderr to the host's log — and, for a provider,
//! HTTP requests to the hosts both its manifest and the operator allow. No files, no
//! environment variables, no sockets, no API keys: the host adds the key to each request
//! after the plugin built it. Each call runs in a fresh instance, so nothing survives
//! between calls; a streaming session keeps one instance for its own lifetime.
//!
//! # A sanitizer
//!
//! The rule runs on a whole text in `sanitize`, and on a stream in `push`/`finish`:
//! concatenating what `push` returned and the `tail` of `finish` must give what
//! `sanitize` gives for the whole text (the conformance kit checks it in 1-, 7- and
//! 64-byte chunks). A session may hold text back until it can decide about it.
//!
//! ```no_run
//! # #[cfg(feature = "sanitizer")] mod plugin {
//! use airlock_pdk::sanitizer::{
//!     Finding, PluginError, SanitizeContext, Sanitizer, SanitizerManifest, SanitizerStream, Stage, StreamEnd,
//!     Verdict, verdict,
//! };
//!
//! struct NoTabs;
//!
//! /// The rule: tabs become four spaces.
//! fn rewrite(text: &str, base: u64) -> (String, Vec<Finding>) {
//!     let findings = text
//!         .match_indices('\t')
//!         .map(|(at, _)| Finding {
//!             rule: "tab".into(),
//!             message: "a tab was replaced".into(),
//!             offset: Some(base + at as u64),
//!         })
//!         .collect();
//!     (text.replace('\t', "    "), findings)
//! }
//!
//! impl Sanitizer for NoTabs {
//!     type Stream = Session;
//!
//!     fn manifest() -> SanitizerManifest {
//!         SanitizerManifest {
//!             name: "no-tabs".into(),
//!             version: "0.1.0".into(),
//!             description: "Replaces tabs with spaces".into(),
//!             stages: vec![Stage::Input, Stage::Output],
//!             content_types: vec!["text/plain".into()],
//!             options: Vec::new(),
//!         }
//!     }
//!
//!     fn sanitize(content: String, context: SanitizeContext) -> Result<Verdict, PluginError> {
//!         if let Some((name, _)) = context.options.first() {
//!             return Err(PluginError::InvalidRequest(format!("no-tabs takes no option `{name}`")));
//!         }
//!         let (text, findings) = rewrite(&content, 0);
//!         Ok(verdict(&content, text, findings))
//!     }
//!
//!     fn stream(_context: SanitizeContext) -> Result<Session, PluginError> {
//!         Ok(Session { offset: 0, findings: Vec::new() })
//!     }
//! }
//!
//! /// A tab is one character, so every chunk can be released at once.
//! struct Session {
//!     offset: u64,
//!     findings: Vec<Finding>,
//! }
//!
//! impl SanitizerStream for Session {
//!     fn push(&mut self, chunk: &str) -> Result<String, PluginError> {
//!         let (text, findings) = rewrite(chunk, self.offset);
//!         self.offset += chunk.len() as u64;
//!         self.findings.extend(findings);
//!         Ok(text)
//!     }
//!
//!     fn finish(self) -> Result<StreamEnd, PluginError> {
//!         Ok(StreamEnd { tail: String::new(), findings: self.findings, blocked: None })
//!     }
//! }
//!
//! airlock_pdk::export_sanitizer!(NoTabs);
//! # }
//! ```
//!
//! # A provider
//!
//! A provider declares the hosts it needs and where the key goes, builds the vendor's
//! request and turns the streamed answer into chunks. It never holds the key: the
//! manifest's `provider::CredentialPlacement` tells the
//! host where to put it, and the guest cannot set that header itself.
//!
//! ```no_run
//! # #[cfg(feature = "provider")] mod plugin {
//! use airlock_pdk::provider::http::{self, Request};
//! use airlock_pdk::provider::stream::{self, Decoded, EventDecoder, SseGeneration};
//! use airlock_pdk::provider::{
//!     Chunk, ContentPart, CredentialPlacement, GenerateRequest, HeaderCredential, ModelInfo, PluginError,
//!     Provider, ProviderManifest,
//! };
//! use airlock_pdk::sse::SseEvent;
//!
//! struct Echo;
//!
//! impl Provider for Echo {
//!     type Generation = SseGeneration<Decoder>;
//!
//!     fn manifest() -> ProviderManifest {
//!         ProviderManifest {
//!             name: "echo".into(),
//!             version: "0.1.0".into(),
//!             description: "An OpenAI-style upstream".into(),
//!             models: vec![ModelInfo { id: "echo-1".into(), vision: false, context_window: None }],
//!             hosts: vec!["api.echo.example".into()],
//!             credential: CredentialPlacement::Header(HeaderCredential {
//!                 name: "authorization".into(),
//!                 format: "Bearer {key}".into(),
//!             }),
//!             options: Vec::new(),
//!         }
//!     }
//!
//!     fn generate(request: GenerateRequest) -> Result<Self::Generation, PluginError> {
//!         let prompt: String = request
//!             .messages
//!             .iter()
//!             .flat_map(|message| &message.content)
//!             .filter_map(|part| match part {
//!                 ContentPart::Text(text) => Some(text.as_str()),
//!                 ContentPart::Image(_) => None,
//!             })
//!             .collect();
//!         let body = serde_json::json!({ "model": request.model, "stream": true,
//!             "messages": [{ "role": "user", "content": prompt }] });
//!         // The egress gate checks the host, resolves it, adds the key and caps the
//!         // response; a refusal comes back as `PluginError::Denied`.
//!         let response = http::send(Request::post_json("https://api.echo.example/v1/chat/completions", body))?;
//!         stream::start(response, Decoder)
//!     }
//! }
//!
//! struct Decoder;
//!
//! impl EventDecoder for Decoder {
//!     fn decode(&mut self, event: &SseEvent) -> Result<Decoded, PluginError> {
//!         if event.data == "[DONE]" {
//!             return Ok(Decoded::End(Vec::new()));
//!         }
//!         let data = stream::json("echo", event)?;
//!         let text = data.pointer("/choices/0/delta/content").and_then(|text| text.as_str());
//!         Ok(Decoded::Chunks(text.map(|text| Chunk::Text(text.to_owned())).into_iter().collect()))
//!     }
//! }
//!
//! airlock_pdk::export_provider!(Echo);
//! # }
//! ```
#![deny(missing_docs)]

#[cfg(feature = "provider")]
pub mod provider;
#[cfg(feature = "sanitizer")]
pub mod sanitizer;
pub mod sse;
