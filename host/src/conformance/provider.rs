//! The provider checks, against a fake upstream that speaks the vendor's wire format
//! over TLS under the provider's own host name (a throwaway CA and a test resolver make
//! that name reach 127.0.0.1), exactly the path production traffic takes.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use airlock_fake_upstream::{FakeUpstream, Replay, TestCa, Vendor, answer_chunks, reasoning_chunks};

use super::{Check, Report};
use crate::config::{Config, ProviderConfig};
use crate::runtime::{
    CallError, Chunk, EgressEnvironment, EngineConfig, Failure, GenerateRequest, LoadedPlugin, Message, Part,
    PluginSettings, ProviderManifest, ProviderPlugin, Reported, Role, Runtime, StaticLookup,
};

/// The key the fake upstream expects; only the host holds it.
const KEY: &str = "sk-conformance-key-only-the-host-has";

/// A vendor wire format the kit can fake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Wire {
    /// OpenAI Chat Completions.
    Openai,
    /// Anthropic Messages.
    Anthropic,
    /// Google Gemini.
    Gemini,
    /// Azure OpenAI (OpenAI's format on a deployment, key in `api-key`).
    Azure,
}

impl Wire {
    /// The format a manifest's hosts suggest (OpenAI's, the de facto standard, otherwise).
    fn guess(manifest: &ProviderManifest) -> Self {
        if manifest.hosts.iter().any(|host| host.contains("azure.com")) {
            Wire::Azure
        } else if manifest.hosts.iter().any(|host| host.contains("anthropic")) {
            Wire::Anthropic
        } else if manifest.hosts.iter().any(|host| host.contains("googleapis")) {
            Wire::Gemini
        } else {
            Wire::Openai
        }
    }

    fn vendor(self) -> Vendor {
        match self {
            Wire::Openai => Vendor::OpenAi,
            Wire::Anthropic => Vendor::Anthropic,
            Wire::Gemini => Vendor::Gemini,
            Wire::Azure => Vendor::AzureOpenAi,
        }
    }
}

/// Runs the provider checks; with `transcripts`, also replays each transcript there of
/// the provider's wire format.
pub(super) async fn run(
    engine: &EngineConfig,
    bytes: &[u8],
    wire: Option<Wire>,
    transcripts: Option<&Path>,
) -> anyhow::Result<Report> {
    // First without network, to learn the manifest.
    let probe = Runtime::new(engine, None)?.load(bytes, "conformance", |_: &str| PluginSettings::default()).await?;
    let manifest = probe.provider().ok_or_else(|| anyhow::anyhow!("not a provider"))?.manifest().clone();
    let wire = wire.unwrap_or_else(|| Wire::guess(&manifest));
    // A host family (`*.openai.azure.com`) is tried with one host of it.
    let host = match manifest.hosts.iter().find(|host| *host != "*") {
        Some(host) => host.strip_prefix("*.").map_or_else(|| host.clone(), |parent| format!("conformance.{parent}")),
        None => "upstream.test".into(),
    };
    let ca = TestCa::for_hosts(&[host.as_str()]);
    let upstream = FakeUpstream::start(wire.vendor(), KEY, Some(&ca)).await;
    let target = Target { engine, bytes, name: &manifest.name, host: &host, ca: &ca };
    let (loaded, provider) = target.load(&upstream).await?;

    let mut checks = vec![
        Check::new("manifest", Ok(format!("hosts {}, key in {}", manifest.hosts.join(", "), manifest.credential))),
        Check::new("imports within the provider world", Ok(loaded.interfaces.imports.join(", "))),
        Check::new("streams an answer", answer(&provider, wire).await),
        Check::new("the host added the key", key_seen(&upstream)),
    ];
    for (name, model, expected) in [
        ("401 from the upstream is reported as 401", "fake-401", 401..=401),
        ("429 from the upstream is reported as 429", "fake-429", 429..=429),
        ("500 from the upstream is reported as an upstream error", "fake-500", 500..=599),
    ] {
        checks.push(Check::new(name, status(&provider, model, expected).await));
    }
    checks.push(Check::new("reasoning is never answer text", reasoning(&provider).await));
    checks.push(Check::new("a refusal is the error `refused`", refusal(&provider, "fake-refusal").await));
    checks.push(Check::new("a safety stop is the error `refused`", refusal(&provider, "fake-filtered").await));
    checks.push(Check::new("a malformed stream is an error, not a crash", malformed(&provider).await));
    checks.push(Check::new("dropping a generation closes the upstream stream", cancelled(&provider, &upstream).await));
    if let Some(dir) = transcripts {
        let replay = Replay::default();
        let replaying = FakeUpstream::replaying(wire.vendor(), Some(&ca), replay.clone()).await;
        let (_, provider) = target.load(&replaying).await?;
        checks.extend(super::replay::checks(dir, wire, &replay, async |model| collect(&provider, model).await).await?);
    }
    Ok(Report { plugin: format!("{}@{}", manifest.name, manifest.version), kind: "provider", checks })
}

fn request(model: &str) -> GenerateRequest {
    GenerateRequest {
        model: model.to_owned(),
        messages: vec![Message {
            role: Role::User,
            parts: vec![
                Part::Text("Build this page.".into()),
                Part::Image { media_type: "image/png".into(), data: b"\x89PNG\r\n\x1a\n".to_vec() },
            ],
        }],
        ..GenerateRequest::default()
    }
}

/// The provider under test, to be loaded against one fake upstream or another.
struct Target<'a> {
    engine: &'a EngineConfig,
    bytes: &'a [u8],
    name: &'a str,
    /// The host it is configured to reach; resolves to 127.0.0.1.
    host: &'a str,
    ca: &'a TestCa,
}

impl Target<'_> {
    /// Loads the provider as an operator would configure it for `upstream`.
    async fn load(&self, upstream: &FakeUpstream) -> anyhow::Result<(LoadedPlugin, Arc<ProviderPlugin>)> {
        let mut config = Config::default();
        let local = format!("{}:{}", self.host, upstream.port()).parse()?;
        config.providers.insert(
            self.name.to_owned(),
            ProviderConfig {
                api_key: Some(KEY.into()),
                base_url: Some(upstream.base_url(self.host)),
                local_hosts: vec![local],
                ..ProviderConfig::default()
            },
        );
        let egress = EgressEnvironment {
            lookup: Arc::new(StaticLookup(vec![(self.host.to_owned(), IpAddr::V4(Ipv4Addr::LOCALHOST))])),
            extra_roots: vec![reqwest::Certificate::from_pem(self.ca.ca_pem().as_bytes())?],
            stats: Arc::default(),
        };
        let runtime = Runtime::new(self.engine, None)?.with_egress(egress);
        let loaded = runtime.load(self.bytes, "conformance", &config).await?;
        let provider = loaded.provider().cloned().ok_or_else(|| anyhow::anyhow!("not a provider"))?;
        Ok((loaded, provider))
    }
}

/// A generation's text, as the host keeps it apart.
#[derive(Debug, Default)]
pub(super) struct Collected {
    pub(super) answer: String,
    text_chunks: usize,
    pub(super) reasoning: String,
}

/// Runs a generation to its end.
async fn collect(provider: &Arc<ProviderPlugin>, model: &str) -> Result<Collected, CallError> {
    let mut generation = provider.generate(&request(model), None).await?;
    let mut collected = Collected::default();
    while let Some(chunk) = generation.next().await? {
        match chunk {
            Chunk::Text { text } => {
                collected.answer.push_str(&text);
                collected.text_chunks += 1;
            }
            Chunk::Reasoning { text } => collected.reasoning.push_str(&text),
            Chunk::Usage { .. } | Chunk::Finished { .. } => {}
        }
    }
    Ok(collected)
}

async fn answer(provider: &Arc<ProviderPlugin>, wire: Wire) -> Result<String, String> {
    let collected = collect(provider, "conformance-model").await.map_err(|error| error.to_string())?;
    let expected = answer_chunks().concat();
    if collected.answer != expected {
        return Err(format!("expected {expected:?}, got {:?}", collected.answer));
    }
    Ok(format!("{} text chunks in {wire:?}'s format", collected.text_chunks))
}

/// A thinking model's reasoning comes out as reasoning, and only its answer as text.
async fn reasoning(provider: &Arc<ProviderPlugin>) -> Result<String, String> {
    let collected = collect(provider, "fake-thinking").await.map_err(|error| error.to_string())?;
    let expected = answer_chunks().concat();
    if collected.answer != expected {
        return Err(format!("the answer should be {expected:?}, got {:?}", collected.answer));
    }
    if collected.reasoning != reasoning_chunks().concat() {
        return Err(format!("expected the reasoning {:?}, got {:?}", reasoning_chunks().concat(), collected.reasoning));
    }
    Ok(format!("{} bytes of reasoning kept out of the answer", collected.reasoning.len()))
}

/// A refusal, or a safety stop after part of an answer, is the typed error `refused`.
async fn refusal(provider: &Arc<ProviderPlugin>, model: &str) -> Result<String, String> {
    match collect(provider, model).await {
        Err(CallError { failure: Failure::Reported(refused @ Reported::Refused { .. }), .. }) => {
            Ok(format!("reported {refused}"))
        }
        Err(error) => Err(format!("expected the error `refused`, got: {error}")),
        Ok(collected) => Err(format!("the refusal came out as a successful answer {:?}", collected.answer)),
    }
}

fn key_seen(upstream: &FakeUpstream) -> Result<String, String> {
    let request = upstream.requests().into_iter().next().ok_or("the upstream saw no request")?;
    let in_headers = request.headers.iter().any(|(_, value)| value.contains(KEY));
    if in_headers || request.path_and_query.contains(KEY) {
        Ok("the fake upstream received the host's key".into())
    } else {
        Err("the request reached the upstream without the key: does the manifest say where it goes?".into())
    }
}

async fn status(
    provider: &Arc<ProviderPlugin>,
    model: &str,
    expected: std::ops::RangeInclusive<u16>,
) -> Result<String, String> {
    match collect(provider, model).await {
        Err(CallError { failure: Failure::Reported(Reported::Upstream { status, message }), .. })
            if expected.contains(&status) =>
        {
            Ok(format!("upstream error {status}: {message}"))
        }
        Err(error) => Err(format!("expected an upstream error {expected:?}, got: {error}")),
        Ok(_) => Err("the error status was treated as a success".into()),
    }
}

async fn malformed(provider: &Arc<ProviderPlugin>) -> Result<String, String> {
    match collect(provider, "fake-malformed").await {
        Err(CallError { failure: Failure::Reported(reported), .. }) => Ok(format!("reported {reported}")),
        Err(error) => Err(format!("the plugin failed instead of reporting: {error}")),
        Ok(_) => Err("the malformed event was ignored".into()),
    }
}

async fn cancelled(provider: &Arc<ProviderPlugin>, upstream: &FakeUpstream) -> Result<String, String> {
    let mut generation = provider.generate(&request("fake-slow"), None).await.map_err(|error| error.to_string())?;
    generation.next().await.map_err(|error| error.to_string())?;
    drop(generation);
    for _ in 0..100 {
        if upstream.abandoned() > 0 {
            return Ok("the upstream saw the stream end".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("the upstream stream was still open 10 s after the generation was dropped".into())
}
