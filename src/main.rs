//! The `driftscope` command: `serve` (the default), `check` and `calibrate`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Streaming drift detection for models behind an API.
#[derive(Debug, Parser)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Options of `serve`, accepted without the subcommand too.
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service (what a bare `driftscope` does).
    Serve(ServeArgs),
    /// Validate the config and every reference file, print all problems, exit non-zero on any.
    Check(CheckArgs),
    /// Measure a monitor's false-alarm rate and power on windows drawn from its reference.
    Calibrate(driftscope::calibrate::Args),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Config file.
    #[arg(long, default_value = "monitors.yaml")]
    config: PathBuf,
    /// Address to listen on (overrides `server.listen`; default 127.0.0.1:8000).
    #[arg(long)]
    listen: Option<SocketAddr>,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Config file.
    #[arg(long, default_value = "monitors.yaml")]
    config: PathBuf,
}

/// Exit status for configuration problems (sysexits' EX_CONFIG).
const EXIT_CONFIG: u8 = 78;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    match cli.command {
        Some(Command::Check(args)) => check(&args),
        Some(Command::Calibrate(args)) => match driftscope::calibrate::main(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(problems) => report(&problems),
        },
        Some(Command::Serve(args)) => serve(args),
        None => serve(cli.serve),
    }
}

fn check(args: &CheckArgs) -> ExitCode {
    match driftscope::setup::load_service(&args.config) {
        Ok(service) => {
            for m in &service.monitors {
                println!(
                    "ok: monitor {:?}: {} columns, {} reference rows, {} window",
                    m.name(),
                    m.checks.len(),
                    m.reference_rows,
                    m.window.kind_name()
                );
            }
            println!("{}: valid", args.config.display());
            ExitCode::SUCCESS
        }
        Err(problems) => report(&problems),
    }
}

fn report(problems: &[driftscope::config::Problem]) -> ExitCode {
    for p in problems {
        eprintln!("error: {p}");
    }
    eprintln!("{} problem(s) found", problems.len());
    ExitCode::from(EXIT_CONFIG)
}

fn serve(args: ServeArgs) -> ExitCode {
    let mut service = match driftscope::setup::load_service(&args.config) {
        Ok(s) => s,
        Err(problems) => return report(&problems),
    };
    if let Some(listen) = args.listen {
        service.settings.server.listen = listen;
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let addr = service.settings.server.listen;
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: cannot listen on {addr}: {e}");
                return ExitCode::FAILURE;
            }
        };
        tracing::info!(%addr, monitors = service.monitors.len(), "Serving.");
        match driftscope::run(listener, service, shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: server failed: {e}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("Shutting down.");
}
