//! The `airlock` binary.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

fn main() -> ExitCode {
    let filter = EnvFilter::try_from_env("AIRLOCK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let json_logs = std::env::var("AIRLOCK_LOG_FORMAT").is_ok_and(|format| format == "json");
    // Every line passes the credential rules before it is written.
    let writer = airlock::log_redaction::Redacting::new(std::io::stderr);
    // Colour only on a terminal: log files and collectors get plain text.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let log = tracing_subscriber::fmt::layer().with_writer(writer).with_ansi(colour);
    // The first layer is where `serve` puts trace export, once it has read the config.
    let subscriber = tracing_subscriber::registry().with(airlock::telemetry::layer()).with(filter);
    if json_logs {
        subscriber.with(log.json()).init();
    } else {
        subscriber.with(log).init();
    }

    match airlock::cli::Cli::parse().run() {
        Ok(code) => code,
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("airlock: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
