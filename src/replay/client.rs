//! The HTTP side of `driftscope replay` (also used by `examples/soak.rs`): a client with the
//! bearer token, POSTs with an `Idempotency-Key` retried on 429/503 and transport errors
//! (honouring `Retry-After`), and what was measured: latency, statuses, retries, errors.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, RETRY_AFTER};
use serde_json::Value;

use super::body::Body;

/// Wait before retrying when a 429/503 has no `Retry-After`, and after a transport error.
pub const DEFAULT_RETRY_WAIT: Duration = Duration::from_secs(1);

/// Longest `Retry-After` honoured.
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(30);

/// A client sending `Authorization: Bearer TOKEN` when a token is given.
pub fn client(token: Option<&str>, timeout: Duration) -> Result<reqwest::Client, String> {
    let mut headers = HeaderMap::new();
    if let Some(token) = token {
        let mut value = HeaderValue::from_str(&format!("Bearer {}", token.trim()))
            .map_err(|_| "the token is not a valid header value".to_owned())?;
        value.set_sensitive(true);
        headers.insert(AUTHORIZATION, value);
    }
    reqwest::Client::builder()
        .default_headers(headers)
        .timeout(timeout)
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// `Retry-After` in seconds (the service's form), capped at [`MAX_RETRY_WAIT`].
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_WAIT))
}

/// A transport error with its causes ("error sending request: ...: Connection refused").
pub fn error_chain(e: &reqwest::Error) -> String {
    let mut chain = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        chain.push_str(&format!(": {s}"));
        source = s.source();
    }
    chain
}

/// What became of one batch.
#[derive(Debug)]
pub enum Outcome {
    /// 2xx, with the reply body.
    Accepted(Value),
    /// A 5xx, or retries used up: counted, the replay goes on.
    Failed(String),
    /// A 4xx other than 429: the request itself is wrong (unknown monitor, bad rows, no
    /// token) and every further batch would get the same answer.
    Refused(String),
}

/// Sends batches and measures them.
#[derive(Debug)]
pub struct Sender {
    client: reqwest::Client,
    max_retries: u32,
    /// Prefix of the idempotency keys, unique per run.
    run: String,
    /// Every attempt's latency (request sent → response headers, or the transport error).
    pub latencies: Vec<Duration>,
    /// Answers by status code (`transport` for none).
    pub statuses: BTreeMap<String, u64>,
    /// Attempts repeated after a 429/503/transport error.
    pub retries: u64,
    /// Batches that failed, with the first few reasons.
    pub errors: Vec<String>,
}

impl Sender {
    /// A sender retrying each batch at most `max_retries` times.
    pub fn new(client: reqwest::Client, max_retries: u32) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Self {
            client,
            max_retries,
            run: format!("replay-{:x}-{nanos:x}", std::process::id()),
            latencies: Vec::new(),
            statuses: BTreeMap::new(),
            retries: 0,
            errors: Vec::new(),
        }
    }

    /// POSTs `body` (with its content type and encoding) to `url` with `Idempotency-Key: {run}-{key}`, the same key on
    /// every retry, so a batch the service applied before its answer was lost is not counted
    /// twice.
    pub async fn post(&mut self, url: &str, body: Body, key: &str) -> Outcome {
        let key = format!("{}-{key}", self.run);
        let mut attempt = 0;
        loop {
            let started = Instant::now();
            let mut request = self
                .client
                .post(url)
                .header("content-type", body.content_type)
                .header("idempotency-key", &key);
            if let Some(encoding) = body.encoding {
                request = request.header("content-encoding", encoding);
            }
            let response = request.body(body.bytes.clone()).send().await;
            self.latencies.push(started.elapsed());
            let (wait, why) = match response {
                Err(e) => {
                    self.count("transport");
                    (
                        DEFAULT_RETRY_WAIT,
                        format!("transport error: {}", error_chain(&e)),
                    )
                }
                Ok(response) => {
                    let status = response.status();
                    self.count(status.as_str());
                    let wait = retry_after(response.headers()).unwrap_or(DEFAULT_RETRY_WAIT);
                    let text = response.text().await.unwrap_or_default();
                    let reply: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    if status.is_success() {
                        return Outcome::Accepted(reply);
                    }
                    let message = reply["error"]["message"]
                        .as_str()
                        .map_or_else(|| text.chars().take(300).collect(), str::to_owned);
                    let why = format!("HTTP {status}: {message}");
                    if status.is_client_error() && status.as_u16() != 429 {
                        return Outcome::Refused(why);
                    }
                    if status.as_u16() != 429 && status.as_u16() != 503 {
                        return self.failed(why);
                    }
                    (wait, why)
                }
            };
            if attempt >= self.max_retries {
                return self.failed(format!("{why} (after {attempt} retries)"));
            }
            attempt += 1;
            self.retries += 1;
            tokio::time::sleep(wait).await;
        }
    }

    fn count(&mut self, status: &str) {
        *self.statuses.entry(status.to_owned()).or_default() += 1;
    }

    fn failed(&mut self, why: String) -> Outcome {
        self.errors.push(why.clone());
        Outcome::Failed(why)
    }

    /// `p50 1.2 ms, p90 …, p99 …, max …` over every attempt (nearest rank).
    pub fn latency_line(&self) -> String {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let Some(&max) = sorted.last() else {
            return "no requests".into();
        };
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let rank = |p: f64| sorted[((p * sorted.len() as f64).ceil() as usize).max(1) - 1];
        format!(
            "p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} requests)",
            ms(rank(0.5)),
            ms(rank(0.9)),
            ms(rank(0.99)),
            ms(max),
            sorted.len()
        )
    }

    /// `200 × 59, 429 × 1`.
    pub fn status_line(&self) -> String {
        let parts: Vec<String> = self
            .statuses
            .iter()
            .map(|(s, n)| format!("{s} × {n}"))
            .collect();
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::body::Compress;

    #[test]
    fn reads_retry_after_seconds_capped() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert(RETRY_AFTER, HeaderValue::from_static("3600"));
        assert_eq!(retry_after(&h), Some(MAX_RETRY_WAIT));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    /// A one-connection-per-request stub on a thread: answers `statuses` in turn and returns
    /// each request's head, lower-cased.
    fn stub(statuses: &'static [&'static str]) -> (String, std::thread::JoinHandle<Vec<String>>) {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/v1/monitors/m/rows",
            listener.local_addr().unwrap()
        );
        let thread = std::thread::spawn(move || {
            let mut heads = Vec::new();
            for status in statuses {
                let (mut socket, _) = listener.accept().unwrap();
                let mut buffer = vec![0; 64 * 1024];
                let mut read = 0;
                while !String::from_utf8_lossy(&buffer[..read]).contains("\r\n\r\n{}") {
                    read += socket.read(&mut buffer[read..]).unwrap();
                }
                heads.push(String::from_utf8_lossy(&buffer[..read]).to_lowercase());
                let body = r#"{"error": {"code": "x", "message": "busy"}}"#;
                let answer = format!(
                    "HTTP/1.1 {status}\r\nretry-after: 0\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                socket.write_all(answer.as_bytes()).unwrap();
            }
            heads
        });
        (url, thread)
    }

    #[tokio::test]
    async fn retries_429_and_503_with_the_same_idempotency_key() {
        let (url, task) = stub(&["429 Too Many Requests", "503 Service Unavailable", "200 OK"]);
        let mut sender = Sender::new(client(Some("t0k"), Duration::from_secs(5)).unwrap(), 5);
        let body = Body::json(&serde_json::json!({}), Compress::None).unwrap();
        let outcome = sender.post(&url, body, "rows-0").await;
        assert!(matches!(outcome, Outcome::Accepted(_)), "{outcome:?}");
        let heads = task.join().unwrap();
        let key = |h: &str| {
            h.lines()
                .find(|l| l.starts_with("idempotency-key:"))
                .map(str::to_owned)
        };
        assert_eq!(heads.len(), 3);
        assert!(key(&heads[0]).is_some_and(|k| k.ends_with("-rows-0")));
        assert!(heads.iter().all(|h| key(h) == key(&heads[0])), "{heads:?}");
        assert!(heads[0].contains("authorization: bearer t0k"));
        assert_eq!(
            (sender.retries, sender.status_line()),
            (2, "200 × 1, 429 × 1, 503 × 1".into())
        );

        let (url, task) = stub(&["429 Too Many Requests", "429 Too Many Requests"]);
        let mut sender = Sender::new(client(None, Duration::from_secs(5)).unwrap(), 1);
        let body = Body::json(&serde_json::json!({}), Compress::None).unwrap();
        let outcome = sender.post(&url, body, "rows-0").await;
        let Outcome::Failed(why) = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(why, "HTTP 429 Too Many Requests: busy (after 1 retries)");
        assert_eq!(task.join().unwrap().len(), 2);
    }

    #[test]
    fn summarises_latencies_by_nearest_rank() {
        let mut s = Sender::new(reqwest::Client::new(), 0);
        assert_eq!(s.latency_line(), "no requests");
        s.latencies = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(
            s.latency_line(),
            "p50 50.0 ms, p90 90.0 ms, p99 99.0 ms, max 100.0 ms (100 requests)"
        );
        s.statuses.insert("200".into(), 3);
        s.statuses.insert("429".into(), 1);
        assert_eq!(s.status_line(), "200 × 3, 429 × 1");
    }
}
