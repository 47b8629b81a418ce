//! The operator's side of plugin publishing: validate, keygen, sign and verify locally;
//! upload, activate, roll back and show on a running server through its admin API.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use base64::Engine as _;

use super::plugin::{Remote, minisig_path};
use crate::config::Config;
use crate::runtime::Runtime;
use crate::signature::{PublicKey, SecretKey};

/// `airlock plugin validate FILE`.
pub(super) async fn validate(runtime: &Runtime, config: &Config, file: &Path) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let plugin = match runtime.load(&bytes, &file.display().to_string(), config).await {
        Ok(plugin) => plugin,
        Err(error) => {
            eprintln!("airlock: {} is refused: {error}", file.display());
            return Ok(ExitCode::FAILURE);
        }
    };
    if let Err(error) = crate::validate::self_test(&plugin).await {
        eprintln!("airlock: {} fails its self-test: {error}", file.display());
        return Ok(ExitCode::FAILURE);
    }
    println!(
        "{} {}@{} ({}) passes: sha256 {}",
        plugin.world(),
        plugin.name(),
        plugin.version(),
        file.display(),
        plugin.sha256
    );
    Ok(ExitCode::SUCCESS)
}

/// `airlock plugin test FILE`.
pub(super) async fn conformance(
    config: &Config,
    file: &Path,
    wire: Option<crate::conformance::WireChoice>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let report = match crate::conformance::run(&bytes, wire, &config.engine).await {
        Ok(report) => report,
        Err(error) => {
            eprintln!("airlock: {} is refused: {error:#}", file.display());
            return Ok(ExitCode::FAILURE);
        }
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.text());
    }
    Ok(if report.passed() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// `airlock plugin keygen PREFIX`.
pub(super) fn keygen(prefix: &Path) -> anyhow::Result<ExitCode> {
    let key = SecretKey::generate().map_err(|error| anyhow::anyhow!("no randomness for a key: {error}"))?;
    let secret = prefix.with_extension("key");
    let public = prefix.with_extension("pub");
    anyhow::ensure!(!secret.exists(), "{} exists; not overwriting a key", secret.display());
    write_private(&secret, key.to_text().as_bytes())?;
    std::fs::write(&public, key.public().to_text()).with_context(|| format!("writing {}", public.display()))?;
    println!(
        "secret key: {} (keep it offline)\npublic key: {} (id {})",
        secret.display(),
        public.display(),
        key.public().id()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// `airlock plugin sign FILE --key KEY`.
pub(super) fn sign(file: &Path, key: &Path, comment: &str) -> anyhow::Result<ExitCode> {
    let key = std::fs::read_to_string(key).with_context(|| format!("reading {}", key.display()))?;
    let key = SecretKey::parse(&key)?;
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let output = minisig_path(file);
    std::fs::write(&output, key.sign(&bytes, comment)).with_context(|| format!("writing {}", output.display()))?;
    println!("{}", output.display());
    Ok(ExitCode::SUCCESS)
}

/// `airlock plugin verify FILE --pubkey KEY`.
pub(super) fn verify(file: &Path, pubkey: &Path, signature: Option<&Path>) -> anyhow::Result<ExitCode> {
    let key =
        PublicKey::parse(&std::fs::read_to_string(pubkey).with_context(|| format!("reading {}", pubkey.display()))?)?;
    let signature_path = signature.map_or_else(|| minisig_path(file), Path::to_path_buf);
    let text =
        std::fs::read_to_string(&signature_path).with_context(|| format!("reading {}", signature_path.display()))?;
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    match crate::signature::verify(&bytes, &text, &[key]) {
        Ok(comment) => {
            println!("signature valid; trusted comment: {comment}");
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("airlock: {}: {error}", file.display());
            Ok(ExitCode::FAILURE)
        }
    }
}

impl Remote {
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        reqwest::Client::new()
            .request(method, format!("{}{path}", self.server.trim_end_matches('/')))
            .bearer_auth(&self.token)
    }

    async fn print(response: reqwest::RequestBuilder) -> anyhow::Result<ExitCode> {
        let response = response.send().await.context("reaching the server's admin API")?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let pretty = serde_json::from_str::<serde_json::Value>(&text)
            .map(|json| serde_json::to_string_pretty(&json).unwrap_or_default())
            .unwrap_or(text);
        if status.is_success() {
            println!("{pretty}");
            Ok(ExitCode::SUCCESS)
        } else {
            eprintln!("airlock: the server answered {status}: {pretty}");
            Ok(ExitCode::FAILURE)
        }
    }

    pub(super) async fn upload(
        &self,
        file: &Path,
        signature: Option<&Path>,
        activate: bool,
    ) -> anyhow::Result<ExitCode> {
        let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        let mut request =
            self.request(reqwest::Method::POST, &format!("/admin/plugins?activate={activate}")).body(bytes);
        if let Some(signature) = signature {
            let text = std::fs::read(signature).with_context(|| format!("reading {}", signature.display()))?;
            request = request.header("x-airlock-signature", base64::engine::general_purpose::STANDARD.encode(text));
        }
        Self::print(request).await
    }

    pub(super) async fn post(&self, path: &str) -> anyhow::Result<ExitCode> {
        Self::print(self.request(reqwest::Method::POST, path)).await
    }

    pub(super) async fn get(&self, path: &str) -> anyhow::Result<ExitCode> {
        Self::print(self.request(reqwest::Method::GET, path)).await
    }
}
