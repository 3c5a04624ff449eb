//! `server:`: what the HTTP server listens on and every limit that bounds one client's cost.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::duration::de_duration;
use super::kafka::Role;

/// HTTP server settings, including every limit that bounds what one client can cost.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// What this process does: everything (`single`, the default), or one of the scale-out
    /// roles (`ingest`, `engine`; see `kafka:`). `--role` overrides it.
    pub role: Role,
    /// Address to listen on; `--listen` overrides it.
    pub listen: SocketAddr,
    /// Largest accepted request body in bytes; larger bodies get 413.
    pub max_body_bytes: usize,
    /// Requests taking longer than this get 408, so a stuck request cannot pin a connection.
    #[serde(deserialize_with = "de_duration")]
    pub request_timeout: Duration,
    /// A connection must deliver a request's headers within this time of waiting for one, so
    /// it is also the keep-alive idle timeout: slow or idle sockets cannot pile up.
    #[serde(deserialize_with = "de_duration")]
    pub header_read_timeout: Duration,
    /// Open connections at most; further ones are closed on accept (and counted).
    pub max_connections: usize,
    /// Ingest requests (rows and labels) processed at once; more get 429 with `Retry-After`.
    pub max_concurrent_ingest: usize,
    /// Rows (or label items) in one request at most; larger batches get 413.
    pub max_rows_per_request: usize,
    /// Longest row id / label id in bytes; longer ids are invalid (counted, never stored).
    pub max_id_bytes: usize,
    /// Longest category value in bytes; longer values are invalid (counted, never stored).
    pub max_category_bytes: usize,
    /// Bytes of new (not in the reference) category text a column may learn; later unseen
    /// values share one overflow category.
    pub max_new_category_bytes: usize,
    /// Closed windows waiting for evaluation per monitor; while that many wait, ingest gets
    /// 429 instead of queueing without bound.
    pub max_queued_windows: usize,
    /// Idempotency keys remembered per monitor, at most (oldest forgotten first).
    pub idempotency_keys: usize,
    /// How long an idempotency key is remembered.
    #[serde(deserialize_with = "de_duration")]
    pub idempotency_horizon: Duration,
    /// After SIGTERM, in-flight requests get this long before the process exits anyway.
    #[serde(deserialize_with = "de_duration")]
    pub shutdown_grace: Duration,
    /// Bearer-token authentication; off when absent.
    pub auth: Option<AuthSpec>,
    /// Directory for the write-ahead log and snapshots (relative paths: to the config file);
    /// `--state-dir` overrides it. Without one, state lives in memory only.
    pub state_dir: Option<PathBuf>,
    /// When logged events reach the disk: before each acknowledgement, or on a timer.
    pub fsync: Fsync,
    /// With `fsync: interval`, how often the log is synced.
    #[serde(deserialize_with = "de_duration")]
    pub fsync_interval: Duration,
    /// How often each monitor's state is snapshotted (which bounds log replay at start-up).
    #[serde(deserialize_with = "de_duration")]
    pub snapshot_interval: Duration,
}

/// When an acknowledged event is on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fsync {
    /// Synced before the response: survives power loss, costs one fsync per request.
    #[default]
    Always,
    /// Written before the response (survives a crash or `kill -9` of the process), synced
    /// every `fsync_interval` (a power loss can lose that much).
    Interval,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            role: Role::Single,
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            max_body_bytes: 16 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(10),
            max_connections: 512,
            max_concurrent_ingest: 4,
            max_rows_per_request: 100_000,
            max_id_bytes: 128,
            max_category_bytes: 256,
            max_new_category_bytes: 1024 * 1024,
            max_queued_windows: 16,
            idempotency_keys: 10_000,
            idempotency_horizon: Duration::from_secs(600),
            shutdown_grace: Duration::from_secs(10),
            auth: None,
            state_dir: None,
            fsync: Fsync::Always,
            fsync_interval: Duration::from_secs(1),
            snapshot_interval: Duration::from_secs(60),
        }
    }
}

/// The limits a monitor and its parser enforce, copied out of [`ServerSettings`].
#[derive(Debug, Clone, Copy)]
pub struct IngestLimits {
    /// `server.max_rows_per_request`.
    pub max_rows_per_request: usize,
    /// `server.max_id_bytes`.
    pub max_id_bytes: usize,
    /// `server.max_category_bytes`.
    pub max_category_bytes: usize,
    /// `server.max_new_category_bytes`.
    pub max_new_category_bytes: usize,
    /// `server.max_queued_windows`.
    pub max_queued_windows: usize,
    /// `server.idempotency_keys`.
    pub idempotency_keys: usize,
    /// `server.idempotency_horizon`.
    pub idempotency_horizon: Duration,
}

impl Default for IngestLimits {
    fn default() -> Self {
        ServerSettings::default().ingest_limits()
    }
}

impl ServerSettings {
    /// The limits monitors enforce.
    pub fn ingest_limits(&self) -> IngestLimits {
        IngestLimits {
            max_rows_per_request: self.max_rows_per_request,
            max_id_bytes: self.max_id_bytes,
            max_category_bytes: self.max_category_bytes,
            max_new_category_bytes: self.max_new_category_bytes,
            max_queued_windows: self.max_queued_windows,
            idempotency_keys: self.idempotency_keys,
            idempotency_horizon: self.idempotency_horizon,
        }
    }
}

/// `server.auth`: bearer tokens, each with scopes. Tokens are named by reference (an
/// environment variable or a file), never written in the YAML itself.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSpec {
    /// The accepted tokens.
    pub tokens: Vec<TokenSpec>,
}

/// One accepted token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSpec {
    /// Who holds it (logs only).
    pub name: String,
    /// What it may do.
    pub scopes: Vec<Scope>,
    /// Environment variable holding the token.
    #[serde(default)]
    pub from_env: Option<String>,
    /// File holding the token (relative to the config file); surrounding whitespace is trimmed.
    #[serde(default)]
    pub from_file: Option<PathBuf>,
}

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// POST rows and labels.
    Ingest,
    /// GET results, the monitor list and `/metrics`.
    Read,
    /// Operator endpoints (reload, state).
    Admin,
}

impl Scope {
    /// Lower-case name, as in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Ingest => "ingest",
            Scope::Read => "read",
            Scope::Admin => "admin",
        }
    }
}
