//! The control-plane commands.
//!
//! `admin init` and `audit verify` work on the data directory itself (the first key
//! cannot be made over an API that needs a key; verifying must not trust the server).
//! `tenant`, `key` and `usage` call the control plane's HTTP API with a key from
//! `AIRLOCK_ADMIN_KEY`, so they are authorized and audited like any other client.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

use crate::config::Config;
use crate::tenancy::Tenancy;

/// `airlock admin …`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create the first owner key (only while no key exists) and print it once.
    Init {
        /// A label for the key.
        #[arg(long, default_value = "first owner")]
        name: String,
    },
}

/// `airlock audit …`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the audit chain; exits 1 naming the first bad record when it was edited,
    /// cut, or reordered.
    Verify,
}

impl AdminCommand {
    /// Runs it.
    ///
    /// # Errors
    ///
    /// When the data directory is unusable or the server is initialised already.
    pub async fn run(self, config: &Config) -> anyhow::Result<ExitCode> {
        let Self::Init { name } = self;
        let tenancy = Tenancy::open(&config.data_dir).await?;
        let (record, key) = tenancy.init_owner(&name).await?;
        tenancy.audit().flush().await;
        println!("{}", key.key.as_str());
        eprintln!("owner key {} created; it is shown only now. Use it as AIRLOCK_ADMIN_KEY.", record.prefix);
        Ok(ExitCode::SUCCESS)
    }
}

impl AuditCommand {
    /// Runs it.
    ///
    /// # Errors
    ///
    /// When the data directory cannot be read.
    pub async fn run(self, config: &Config) -> anyhow::Result<ExitCode> {
        let tenancy = Tenancy::open(&config.data_dir).await?;
        let verification = tenancy.verify_audit().await?;
        println!("{}", serde_json::to_string_pretty(&verification)?);
        Ok(match &verification.first_bad {
            None => {
                eprintln!("audit chain intact: {} records", verification.records);
                ExitCode::SUCCESS
            }
            Some(bad) => {
                eprintln!("audit chain broken at record {}: {}", bad.seq, bad.reason);
                ExitCode::FAILURE
            }
        })
    }
}

/// Where the control plane is and the key to call it with.
#[derive(Debug, Args)]
pub struct ControlPlane {
    /// The control plane's base URL; default `http://` + `gateway.admin_listen`.
    #[arg(long, global = true, env = "AIRLOCK_ADMIN_URL", value_name = "URL")]
    admin_url: Option<String>,
}

/// `airlock tenant …`.
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant.
    Create {
        /// Its id (a-z, 0-9, `-`).
        id: String,
        /// Its display name.
        #[arg(long, default_value = "")]
        name: String,
        /// Its policy and quotas, as JSON (`{"policy": {...}, "quotas": {...}}`).
        #[arg(long, value_name = "JSON")]
        settings: Option<String>,
    },
    /// List tenants.
    List,
    /// Show one tenant.
    Show {
        /// Its id.
        id: String,
    },
    /// Change a tenant: JSON with any of `name`, `disabled`, `policy`, `quotas`.
    Update {
        /// Its id.
        id: String,
        /// The changes.
        #[arg(value_name = "JSON")]
        changes: String,
    },
}

/// `airlock key …`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a key; it is printed once.
    Create {
        /// Its tenant (tenant roles).
        #[arg(long)]
        tenant: Option<String>,
        /// Its role.
        #[arg(long, default_value = "user")]
        role: String,
        /// A label.
        #[arg(long, default_value = "")]
        name: String,
        /// Seconds until it expires.
        #[arg(long)]
        expires_in: Option<u64>,
    },
    /// List keys (prefixes only).
    List {
        /// Only this tenant's.
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Replace a key; the old one works for `--overlap` more seconds.
    Rotate {
        /// The key's prefix.
        prefix: String,
        /// Seconds both keys work.
        #[arg(long, default_value_t = 0)]
        overlap: u64,
    },
    /// Revoke a key at once.
    Revoke {
        /// The key's prefix.
        prefix: String,
    },
}

/// `airlock usage TENANT`.
#[derive(Debug, Args)]
pub struct UsageArgs {
    /// The tenant.
    tenant: String,
    /// Since when (Unix seconds); default the start of this month.
    #[arg(long)]
    since: Option<i64>,
}

/// A call to the control plane.
struct Call<'a> {
    method: reqwest::Method,
    path: String,
    body: Option<Value>,
    plane: &'a ControlPlane,
}

impl Call<'_> {
    async fn send(self, config: &Config) -> anyhow::Result<ExitCode> {
        let key = std::env::var("AIRLOCK_ADMIN_KEY").context("set AIRLOCK_ADMIN_KEY to a control-plane key")?;
        let base = match &self.plane.admin_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => {
                let address = config.gateway.admin_listen.context("`gateway.admin_listen` is off; pass --admin-url")?;
                format!("http://{address}")
            }
        };
        let client = reqwest::Client::new();
        let mut request = client.request(self.method, format!("{base}{}", self.path)).bearer_auth(key);
        if let Some(body) = &self.body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let response = request.send().await.with_context(|| format!("calling the control plane at {base}"))?;
        let status = response.status();
        let text = response.text().await?;
        let shown = serde_json::from_str::<Value>(&text)
            .map_or(text, |value| serde_json::to_string_pretty(&value).unwrap_or_default());
        if status.is_success() {
            if !shown.is_empty() {
                println!("{shown}");
            }
            Ok(ExitCode::SUCCESS)
        } else {
            eprintln!("{status}: {shown}");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn parse_json(text: &str, what: &str) -> anyhow::Result<Value> {
    serde_json::from_str(text).with_context(|| format!("{what} is not JSON"))
}

impl TenantCommand {
    /// Runs it against the control plane.
    ///
    /// # Errors
    ///
    /// When the control plane cannot be reached or the arguments are not JSON.
    pub async fn run(self, plane: &ControlPlane, config: &Config) -> anyhow::Result<ExitCode> {
        use reqwest::Method;
        let (method, path, body) = match self {
            TenantCommand::Create { id, name, settings } => {
                let mut body = match settings {
                    Some(settings) => parse_json(&settings, "--settings")?,
                    None => json!({}),
                };
                body["id"] = json!(id);
                body["name"] = json!(name);
                (Method::POST, "/v1/tenants".to_owned(), Some(body))
            }
            TenantCommand::List => (Method::GET, "/v1/tenants".to_owned(), None),
            TenantCommand::Show { id } => (Method::GET, format!("/v1/tenants/{id}"), None),
            TenantCommand::Update { id, changes } => {
                (Method::PATCH, format!("/v1/tenants/{id}"), Some(parse_json(&changes, "the changes")?))
            }
        };
        Call { method, path, body, plane }.send(config).await
    }
}

impl KeyCommand {
    /// Runs it against the control plane.
    ///
    /// # Errors
    ///
    /// When the control plane cannot be reached.
    pub async fn run(self, plane: &ControlPlane, config: &Config) -> anyhow::Result<ExitCode> {
        use reqwest::Method;
        let (method, path, body) = match self {
            KeyCommand::Create { tenant, role, name, expires_in } => (
                Method::POST,
                "/v1/keys".to_owned(),
                Some(json!({ "tenant": tenant, "role": role, "name": name, "expires_in_secs": expires_in })),
            ),
            KeyCommand::List { tenant } => {
                let query = tenant.map(|tenant| format!("?tenant={tenant}")).unwrap_or_default();
                (Method::GET, format!("/v1/keys{query}"), None)
            }
            KeyCommand::Rotate { prefix, overlap } => {
                (Method::POST, format!("/v1/keys/{prefix}/rotate"), Some(json!({ "overlap_secs": overlap })))
            }
            KeyCommand::Revoke { prefix } => (Method::DELETE, format!("/v1/keys/{prefix}"), None),
        };
        Call { method, path, body, plane }.send(config).await
    }
}

impl UsageArgs {
    /// Runs it against the control plane.
    ///
    /// # Errors
    ///
    /// When the control plane cannot be reached.
    pub async fn run(self, plane: &ControlPlane, config: &Config) -> anyhow::Result<ExitCode> {
        let query = self.since.map(|since| format!("?since={since}")).unwrap_or_default();
        let path = format!("/v1/tenants/{}/usage{query}", self.tenant);
        Call { method: reqwest::Method::GET, path, body: None, plane }.send(config).await
    }
}
