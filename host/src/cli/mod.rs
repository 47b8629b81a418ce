//! The `airlock` command line: raw flags ([`Cli`]) are resolved into one [`Config`]
//! before any command runs.

mod admin;
mod plugin;
mod registry;
mod sanitize;
mod scaffold;

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use figment::Figment;

use crate::config::Config;

/// Airlock: screenshots to front-end code, and a multi-tenant LLM gateway, with every
/// provider and sanitizer sandboxed as a WebAssembly component.
#[derive(Debug, Parser)]
#[command(name = "airlock", version)]
pub struct Cli {
    /// Configuration file (TOML); `AIRLOCK_*` environment variables and flags override it.
    #[arg(long, global = true, env = "AIRLOCK_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory for the server's data (code cache); default `./airlock-data`.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the HTTP server with every bundled and configured plugin.
    Serve {
        /// Address to listen on; default `127.0.0.1:8080`.
        #[arg(long, value_name = "ADDR")]
        listen: Option<SocketAddr>,
    },
    /// Inspect and list plugins.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Sanitize standard input with one sanitizer; the result goes to standard output,
    /// the findings to standard error as JSON.
    Sanitize(sanitize::SanitizeArgs),
    /// Set up the control plane (`admin init` makes the first owner key).
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Check the audit log.
    #[command(subcommand)]
    Audit(admin::AuditCommand),
    /// Manage tenants through the control plane (needs `AIRLOCK_ADMIN_KEY`).
    Tenant {
        #[command(flatten)]
        plane: admin::ControlPlane,
        #[command(subcommand)]
        command: admin::TenantCommand,
    },
    /// Manage API keys through the control plane (needs `AIRLOCK_ADMIN_KEY`).
    Key {
        #[command(flatten)]
        plane: admin::ControlPlane,
        #[command(subcommand)]
        command: admin::KeyCommand,
    },
    /// Show a tenant's usage (needs `AIRLOCK_ADMIN_KEY`).
    Usage {
        #[command(flatten)]
        plane: admin::ControlPlane,
        #[command(flatten)]
        args: admin::UsageArgs,
    },
}

impl Cli {
    /// Runs the command.
    ///
    /// # Errors
    ///
    /// Whatever the command fails with; `main` prints the chain.
    pub fn run(self) -> anyhow::Result<std::process::ExitCode> {
        let mut overrides = Figment::new();
        if let Some(data_dir) = &self.data_dir {
            overrides = overrides.merge(("data_dir", data_dir));
        }
        if let Command::Serve { listen: Some(listen) } = &self.command {
            overrides = overrides.merge(("listen", listen.to_string()));
        }
        let config = Config::load(self.config.as_deref(), overrides)?;
        // Outside the async runtime (the exporter's client blocks); dropped after it.
        let _traces = match &self.command {
            Command::Serve { .. } => crate::telemetry::install(&config.telemetry)?,
            _ => None,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        runtime.block_on(async move {
            match self.command {
                Command::Serve { .. } => serve(&config).await,
                Command::Plugin(command) => command.run(&config).await,
                Command::Sanitize(args) => args.run(&config).await,
                Command::Admin(command) => command.run(&config).await,
                Command::Audit(command) => command.run(&config).await,
                Command::Tenant { plane, command } => command.run(&plane, &config).await,
                Command::Key { plane, command } => command.run(&plane, &config).await,
                Command::Usage { plane, args } => args.run(&plane, &config).await,
            }
        })
    }
}

async fn serve(config: &Config) -> anyhow::Result<std::process::ExitCode> {
    let server = crate::server::Server::bind(config).await?;
    tracing::info!(address = %server.local_addr()?, control_plane = ?server.admin_addr(), "airlock is serving");
    server.run(crate::server::shutdown_signal()).await?;
    Ok(std::process::ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_spelling_parses() {
        let cli = Cli::parse_from(["airlock", "serve", "--listen", "0.0.0.0:9"]);
        assert!(matches!(cli.command, Command::Serve { listen: Some(_) }));
        let cli = Cli::parse_from(["airlock", "--config", "a.toml", "plugin", "list", "--json"]);
        assert_eq!(cli.config, Some(PathBuf::from("a.toml")));
        let cli = Cli::parse_from(["airlock", "sanitize", "--plugin", "html", "--mode", "app", "--option", "k=v"]);
        assert!(matches!(cli.command, Command::Sanitize(_)));
        assert!(Cli::try_parse_from(["airlock", "sanitize", "--option", "novalue", "--plugin", "x"]).is_err());
    }
}
