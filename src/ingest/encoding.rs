//! `Content-Encoding` of request bodies: identity, gzip or zstd, inflated within a byte limit.
//!
//! The decoder reads at most `limit + 1` bytes of output, so a small body that would inflate
//! to gigabytes (a "zip bomb") costs no more than the limit before it is refused.

use std::io::Read;

/// Largest zstd window accepted (2^24 = 16 MiB); frames needing more are refused as corrupt.
const ZSTD_WINDOW_LOG_MAX: u32 = 24;

/// A request body's `Content-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// No encoding (`identity` or no header).
    Identity,
    /// `gzip` (also `x-gzip`); concatenated members are read as one stream.
    Gzip,
    /// `zstd`.
    Zstd,
}

/// Why a body could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// The header names an encoding driftscope does not read (415).
    #[error("Content-Encoding {0:?} is not supported; send identity (no header), gzip or zstd")]
    Unsupported(String),
    /// The decoded body is larger than the limit (413).
    #[error("the decompressed request body exceeds server.max_body_bytes ({0} bytes)")]
    TooLarge(usize),
    /// The compressed data is corrupt or truncated (400).
    #[error("could not decompress the {encoding} request body: {message}")]
    Corrupt {
        /// `gzip` or `zstd`.
        encoding: &'static str,
        /// The decoder's error.
        message: String,
    },
}

impl Encoding {
    /// The encoding named by a `Content-Encoding` header value (`None` = no header).
    pub fn from_header(value: Option<&str>) -> Result<Self, DecodeError> {
        let Some(value) = value else {
            return Ok(Self::Identity);
        };
        match value.trim().to_ascii_lowercase().as_str() {
            "" | "identity" => Ok(Self::Identity),
            "gzip" | "x-gzip" => Ok(Self::Gzip),
            "zstd" => Ok(Self::Zstd),
            _ => Err(DecodeError::Unsupported(value.to_owned())),
        }
    }

    /// Decodes `body`, refusing output beyond `limit` bytes without producing more than
    /// `limit + 1` of them.
    pub fn decode(self, body: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
        match self {
            Self::Identity if body.len() > limit => Err(DecodeError::TooLarge(limit)),
            Self::Identity => Ok(body.to_vec()),
            Self::Gzip => bounded(flate2::read::MultiGzDecoder::new(body), "gzip", limit),
            Self::Zstd => {
                let mut decoder =
                    zstd::stream::read::Decoder::new(body).map_err(|e| corrupt("zstd", &e))?;
                // A frame may ask for a window of up to 2 GiB; 16 MiB covers every standard level
                // (level 19 uses 8 MiB) and bounds the decoder's memory per request.
                decoder
                    .window_log_max(ZSTD_WINDOW_LOG_MAX)
                    .map_err(|e| corrupt("zstd", &e))?;
                bounded(decoder, "zstd", limit)
            }
        }
    }
}

fn corrupt(encoding: &'static str, e: &std::io::Error) -> DecodeError {
    DecodeError::Corrupt {
        encoding,
        message: e.to_string(),
    }
}

fn bounded(
    decoder: impl Read,
    encoding: &'static str,
    limit: usize,
) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    decoder
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| corrupt(encoding, &e))?;
    if out.len() > limit {
        return Err(DecodeError::TooLarge(limit));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn round_trips_and_limits() {
        let data = b"{\"rows\": [{\"a\": 1}]}".repeat(10);
        assert_eq!(Encoding::Gzip.decode(&gzip(&data), 1000).unwrap(), data);
        let z = zstd::encode_all(&data[..], 3).unwrap();
        assert_eq!(Encoding::Zstd.decode(&z, 1000).unwrap(), data);
        assert_eq!(
            Encoding::Gzip.decode(&gzip(&data), 10),
            Err(DecodeError::TooLarge(10))
        );
        assert!(matches!(
            Encoding::Gzip.decode(b"not gzip", 1000),
            Err(DecodeError::Corrupt { .. })
        ));
        assert!(matches!(
            Encoding::Zstd.decode(b"not zstd", 1000),
            Err(DecodeError::Corrupt { .. })
        ));
        assert_eq!(Encoding::from_header(Some("GZIP")), Ok(Encoding::Gzip));
        assert!(Encoding::from_header(Some("br")).is_err());
    }

    #[test]
    fn zstd_frames_asking_for_a_huge_window_are_refused() {
        let mut e = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        e.window_log(ZSTD_WINDOW_LOG_MAX + 2).unwrap();
        e.include_contentsize(false).unwrap();
        e.write_all(&[b'a'; 1000]).unwrap();
        let frame = e.finish().unwrap();
        assert!(matches!(
            Encoding::Zstd.decode(&frame, 1 << 20),
            Err(DecodeError::Corrupt { .. })
        ));
    }
}
