//! The `driftscope` command: `serve` (the default), `check`, `calibrate`, `init` and `report`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use driftscope::config::Role;

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
    /// Write a commented monitors.yaml for a reference file (column types inferred).
    Init(driftscope::init::Args),
    /// Run the checks once on a reference and a current file; exit 1 on drift.
    Report(driftscope::report::Args),
    /// Post a CSV/Parquet file's rows to a running service at a rate, optionally with drift.
    Replay(driftscope::replay::Args),
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Config file.
    #[arg(long, default_value = "monitors.yaml")]
    config: PathBuf,
    /// Address to listen on (overrides `server.listen`; default 127.0.0.1:8000).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// Directory for the write-ahead log and snapshots (overrides `server.state_dir`).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// What this process does: single (default), ingest or engine (overrides `server.role`).
    #[arg(long, value_parser = ["single", "ingest", "engine"])]
    role: Option<String>,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Config file.
    #[arg(long, default_value = "monitors.yaml")]
    config: PathBuf,
}

/// Log lines held while stdout is not keeping up; beyond this, lines are dropped rather than
/// blocking the service (about 2 MB at typical line lengths).
const LOG_BUFFER_LINES: usize = 10_000;

/// Exit status for configuration problems (sysexits' EX_CONFIG).
const EXIT_CONFIG: u8 = 78;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (writer, _flush_on_exit) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_BUFFER_LINES)
        .lossy(true)
        .finish(std::io::stdout());
    tracing_subscriber::fmt()
        .with_writer(writer)
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
        Some(Command::Init(args)) => match driftscope::init::main(&args) {
            Ok(path) => {
                println!(
                    "wrote {}; review it, then: driftscope check --config {}",
                    path.display(),
                    path.display()
                );
                ExitCode::SUCCESS
            }
            Err(problems) => report(&problems),
        },
        Some(Command::Report(args)) => match driftscope::report::main(&args) {
            Ok(outcome) if outcome.failed => ExitCode::from(driftscope::report::EXIT_DRIFT),
            Ok(_) => ExitCode::SUCCESS,
            Err(failure) => {
                report(&failure.problems);
                ExitCode::from(failure.status)
            }
        },
        Some(Command::Replay(args)) => match driftscope::replay::main(&args) {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Some(Command::Serve(args)) => serve(args),
        None => serve(cli.serve),
    }
}

fn check(args: &CheckArgs) -> ExitCode {
    match driftscope::service::load_service(&args.config) {
        Ok(service) => {
            for m in &service.monitors().ordered {
                let m = &m.model;
                println!(
                    "ok: monitor {:?}: {} columns, {} reference rows, {} window",
                    m.name(),
                    m.checks.len(),
                    m.reference_rows,
                    m.window.kind_name()
                );
                if let Some(latency) = m.latency.as_ref().filter(|l| l.check.is_none()) {
                    println!(
                        "note: monitor {:?}: the reference has no latency column {:?}; latencies \
                         are summarised and exported but not drift-tested",
                        m.name(),
                        latency.column
                    );
                }
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
    let mut settings = match driftscope::config::load(&args.config, None) {
        Ok(s) => s,
        Err(e) => return report(&[driftscope::config::Problem::new("", e.to_string())]),
    };
    if let Some(listen) = args.listen {
        settings.server.listen = listen;
    }
    settings.server.role = match args.role.as_deref() {
        Some("ingest") => Role::Ingest,
        Some("engine") => Role::Engine,
        Some(_) => Role::Single,
        None => settings.server.role,
    };
    let role = settings.server.role;
    let service = if role == Role::Single {
        let state_dir = driftscope::service::state_dir(&settings, args.state_dir.as_deref());
        driftscope::service::build_service(settings, &args.config, state_dir.as_deref())
    } else {
        if settings.server.state_dir.is_some() || args.state_dir.is_some() {
            tracing::warn!(
                role = role.as_str(),
                "server.state_dir is not used in this role: state lives in Kafka."
            );
        }
        driftscope::service::build_cluster_service(settings, &args.config)
    };
    let service = match service {
        Ok(s) => s,
        Err(problems) => return report(&problems),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(async move {
        let addr = service.settings.server.listen;
        let listener = match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: cannot listen on {addr}: {e}");
                return ExitCode::FAILURE;
            }
        };
        if role == Role::Single {
            tracing::info!(%addr, monitors = service.monitors().ordered.len(), state_dir = ?service.settings.server.state_dir, "Serving.");
        } else {
            tracing::info!(%addr, role = role.as_str(), monitors = service.catalog.len(), "Serving.");
        }
        let outcome = match role {
            Role::Single => {
                driftscope::run(listener, service, shutdown_signal()).await;
                Ok(())
            }
            Role::Ingest => driftscope::run_ingest(listener, service, shutdown_signal()).await,
            Role::Engine => driftscope::run_engine(listener, service, shutdown_signal()).await,
        };
        match outcome {
            Ok(()) => {
                tracing::info!("Stopped.");
                ExitCode::SUCCESS
            }
            Err(e) => {
                tracing::error!(error = %e, "Stopped on an error.");
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    });
    // Blocking work still running (an evaluation, a parse) must not hold the exit: the
    // connections have drained or their grace has passed.
    runtime.shutdown_timeout(EXIT_WAIT);
    code
}

/// How long the exiting process waits for blocking work after the server has stopped.
const EXIT_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Resolves on SIGINT (Ctrl-C), SIGTERM or SIGQUIT. SIGUSR1 and SIGUSR2, whose default action
/// would kill the process without draining, are logged and ignored; SIGHUP reloads the config
/// (see `driftscope::run`).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{Signal, SignalKind, signal};
        /// Waits for `s`, or forever when it could not be installed.
        async fn next(s: &mut Option<Signal>) {
            match s {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending().await,
            }
        }
        for (kind, name) in [
            (SignalKind::user_defined1(), "SIGUSR1"),
            (SignalKind::user_defined2(), "SIGUSR2"),
        ] {
            if let Ok(mut s) = signal(kind) {
                tokio::spawn(async move {
                    while s.recv().await.is_some() {
                        tracing::warn!(signal = name, "Signal ignored; SIGTERM stops the service.");
                    }
                });
            }
        }
        let mut interrupt = signal(SignalKind::interrupt()).ok();
        let mut terminate = signal(SignalKind::terminate()).ok();
        let mut quit = signal(SignalKind::quit()).ok();
        tokio::select! {
            () = next(&mut interrupt) => {},
            () = next(&mut terminate) => {},
            () = next(&mut quit) => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("Shutting down.");
}
