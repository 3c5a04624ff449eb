//! `driftscope replay`: posts the rows of a CSV/Parquet file to a running service the way a
//! model service would — in batches, at a target rate, optionally shuffled (`--shuffle-seed`)
//! and with injected drift (`--inject`) — then optionally their ground truth (`--labels`), and
//! prints what was sent and measured.
//!
//! Batches go out one at a time in replay order, so windows fill in that order. `--rate`
//! fixes every batch's send time in advance (batch k at k × batch / rate seconds): a slow answer
//! does not lower the rate, the batches behind it go out back-to-back until the schedule is
//! caught up, and a service that cannot keep up shows as an achieved rate below the target.

pub mod body;
pub mod client;
pub mod inject;
pub mod rows;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use body::{Body, Compress, Format};
use client::{Outcome, Sender};
use inject::Spec;
use rows::Rows;

/// Arguments of `driftscope replay`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Rows to send (.csv or .parquet); every column is sent, nulls as JSON null.
    pub file: PathBuf,
    /// Monitor to send them to.
    #[arg(long)]
    pub monitor: String,
    /// Base URL of the service.
    #[arg(long, default_value = "http://127.0.0.1:8000")]
    pub url: String,
    /// File holding a bearer token (default: the DRIFTSCOPE_TOKEN environment variable).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Target rate in rows per second (default: as fast as the service answers).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Rows per request.
    #[arg(long, default_value_t = 500)]
    pub batch: usize,
    /// Then post ground truth from this file: `{"labels": [{"id", "target"}]}`.
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// Id column of the label file.
    #[arg(long, default_value = "id")]
    pub id_column: String,
    /// Target column of the label file.
    #[arg(long, default_value = "employed")]
    pub target_column: String,
    /// Drift to inject (repeatable): COL+=X, COL-=X, COL*=X, COL=const:V, COL=shuffle,
    /// missing:COL:P.
    #[arg(long = "inject", value_name = "SPEC", value_parser = parse_spec)]
    pub inject: Vec<Spec>,
    /// Replay position from which --inject applies (default: the middle of the file).
    #[arg(long)]
    pub inject_from: Option<usize>,
    /// Seed of missing:… and shuffle injections.
    #[arg(long, default_value_t = 0)]
    pub inject_seed: u64,
    /// Send rows in a seeded random order within each value of --shuffle-within (default:
    /// file order).
    #[arg(long)]
    pub shuffle_seed: Option<u64>,
    /// Column whose values keep their order when shuffling (default: `year` when the file has
    /// it, else the whole file is shuffled).
    #[arg(long, requires = "shuffle_seed")]
    pub shuffle_within: Option<String>,
    /// Body format of the rows.
    #[arg(long, value_enum, default_value_t = Format::Rows)]
    pub format: Format,
    /// Content encoding of every body (rows and labels).
    #[arg(long, value_enum, default_value_t = Compress::None)]
    pub compress: Compress,
    /// Retries of a batch answered 429/503 or lost in transport.
    #[arg(long, default_value_t = 5)]
    pub max_retries: u32,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 60.0)]
    pub timeout: f64,
}

fn parse_spec(text: &str) -> Result<Spec, String> {
    text.parse()
}

/// Runs `driftscope replay`: `Ok(true)` when every batch was accepted, `Ok(false)` when some
/// failed (the summary says which), `Err` when the replay could not run or the service refused
/// a request (its message).
pub fn main(args: &Args) -> Result<bool, String> {
    if args.batch == 0 {
        return Err("--batch must be at least 1".into());
    }
    if let Some(rate) = args.rate
        && !(rate.is_finite() && rate > 0.0)
    {
        return Err(format!(
            "--rate must be a positive number of rows/s, got {rate}"
        ));
    }
    let token = match &args.token_file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| format!("--token-file {}: {e}", path.display()))?,
        ),
        None => std::env::var("DRIFTSCOPE_TOKEN").ok(),
    };
    let timeout = Duration::try_from_secs_f64(args.timeout)
        .map_err(|_| format!("--timeout {} is not a duration", args.timeout))?;
    let http = client::client(token.as_deref(), timeout)?;
    let mut rows = Rows::read(&args.file)?;
    let within = match (&args.shuffle_within, args.shuffle_seed) {
        (Some(column), _) => Some(column.as_str()),
        (None, Some(_)) => rows
            .column(rows::DEFAULT_SHUFFLE_WITHIN)
            .ok()
            .map(|_| rows::DEFAULT_SHUFFLE_WITHIN),
        (None, None) => None,
    };
    let order = rows::order(&rows, within, args.shuffle_seed)
        .map_err(|e| format!("--shuffle-within: {e}"))?;
    let from = args.inject_from.unwrap_or(rows.len / 2);
    if from > rows.len {
        return Err(format!(
            "--inject-from {from} is past the end of the file ({} rows)",
            rows.len
        ));
    }
    inject::apply(&args.inject, &mut rows, &order[from..], args.inject_seed)?;
    let labels = match &args.labels {
        Some(path) => Some(label_bodies(args, path)?),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let base = args.url.trim_end_matches('/');
    let url = format!("{base}/v1/monitors/{}/rows", args.monitor);
    println!(
        "replay: {} rows of {} to {url}, {}{}",
        rows.len,
        args.file.display(),
        match (args.shuffle_seed, within) {
            (None, _) => "in file order".to_owned(),
            (Some(seed), Some(col)) => format!("shuffled within {col} (seed {seed})"),
            (Some(seed), None) => format!("shuffled (seed {seed})"),
        },
        match args.rate {
            Some(rate) => format!(", target {rate} rows/s"),
            None => String::new(),
        }
    );
    if !args.inject.is_empty() {
        let specs: Vec<String> = args.inject.iter().map(ToString::to_string).collect();
        println!(
            "inject: {} on replay rows {from}..{} ({} rows)",
            specs.join(", "),
            rows.len,
            rows.len - from
        );
    }
    let bodies = order
        .chunks(args.batch)
        .map(|chunk| {
            Ok((
                Body::rows(&rows, chunk, args.format, args.compress)?,
                chunk.len(),
            ))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let mut all_ok = runtime.block_on(send_all(&http, args, "rows", &url, bodies.into_iter()))?;
    if let Some(labels) = labels {
        let url = format!("{base}/v1/monitors/{}/labels", args.monitor);
        let sent = runtime.block_on(send_all(&http, args, "labels", &url, labels.into_iter()))?;
        all_ok &= sent;
    }
    Ok(all_ok)
}

/// The label file as request bodies of `--batch` labels.
fn label_bodies(args: &Args, path: &std::path::Path) -> Result<Vec<(Body, usize)>, String> {
    let table = Rows::read(path)?;
    let ids = &table
        .column(&args.id_column)
        .map_err(|e| format!("--id-column: {e}"))?
        .values;
    let targets = &table
        .column(&args.target_column)
        .map_err(|e| format!("--target-column: {e}"))?
        .values;
    let labels: Vec<Value> = (0..table.len)
        .map(|i| json!({"id": ids.json(i), "target": targets.json(i)}))
        .collect();
    labels
        .chunks(args.batch)
        .map(|chunk| {
            Ok((
                Body::json(&json!({ "labels": chunk }), args.compress)?,
                chunk.len(),
            ))
        })
        .collect()
}

/// Sends `bodies` (body, item count) to `url` at `--rate`, with a progress bar on a
/// terminal, then prints the summary. `what` is "rows" or "labels".
async fn send_all(
    http: &reqwest::Client,
    args: &Args,
    what: &str,
    url: &str,
    bodies: impl ExactSizeIterator<Item = (Body, usize)>,
) -> Result<bool, String> {
    let mut sender = Sender::new(http.clone(), args.max_retries);
    let progress = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} ({per_sec}, eta {eta})",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_owned());
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut totals = Totals::default();
    let (mut sent, mut failed) = (0usize, 0usize);
    let started = Instant::now();
    for (k, (body, count)) in bodies.enumerate() {
        progress.inc_length(count as u64);
        if let Some(rate) = args.rate {
            let due = started + Duration::from_secs_f64(sent as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
        }
        match sender.post(url, body, &format!("{what}-{k}")).await {
            Outcome::Accepted(reply) => totals.add(&reply),
            Outcome::Failed(_) => failed += count,
            Outcome::Refused(why) => {
                progress.finish_and_clear();
                summary(&sender, what, sent, started.elapsed(), &totals, failed);
                return Err(format!("the service refused {url}: {why}"));
            }
        }
        sent += count;
        progress.inc(count as u64);
    }
    progress.finish_and_clear();
    summary(&sender, what, sent, started.elapsed(), &totals, failed);
    Ok(sender.errors.is_empty())
}

/// Sums of the service's replies.
#[derive(Debug, Default)]
struct Totals {
    fields: Vec<(&'static str, u64)>,
}

impl Totals {
    const FIELDS: [&'static str; 5] = [
        "accepted",
        "windows_evaluated",
        "matched",
        "labelled_windows_evaluated",
        "dropped",
    ];

    fn add(&mut self, reply: &Value) {
        for name in Self::FIELDS {
            let value = match &reply[name] {
                Value::Object(parts) => parts.values().filter_map(Value::as_u64).sum(),
                v => match v.as_u64() {
                    Some(n) => n,
                    None => continue,
                },
            };
            match self.fields.iter_mut().find(|(n, _)| *n == name) {
                Some((_, total)) => *total += value,
                None => self.fields.push((name, value)),
            }
        }
    }
}

fn summary(
    sender: &Sender,
    what: &str,
    sent: usize,
    elapsed: Duration,
    totals: &Totals,
    failed: usize,
) {
    let seconds = elapsed.as_secs_f64();
    println!(
        "{what}: {sent} sent in {:.2} s ({:.0} {what}/s achieved)",
        seconds,
        sent as f64 / seconds.max(1e-9)
    );
    println!("latency: {}", sender.latency_line());
    println!("responses: {}", sender.status_line());
    println!(
        "retries: {}, errors: {} batches ({failed} {what} not accepted)",
        sender.retries,
        sender.errors.len()
    );
    for error in sender.errors.iter().take(5) {
        println!("  error: {error}");
    }
    if !totals.fields.is_empty() {
        let parts: Vec<String> = totals
            .fields
            .iter()
            .map(|(n, v)| format!("{n} {v}"))
            .collect();
        println!("service: {}", parts.join(", "));
    }
}
