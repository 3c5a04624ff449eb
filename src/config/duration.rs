//! Duration keys (`5m`, `30s`): one parser so every key accepts and rejects the same texts.

use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer};

pub(super) fn de_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(d)?;
    parse_duration(&text).map_err(de::Error::custom)
}

/// An optional duration where zero is allowed (`allowed_lateness: 0s`).
pub(super) fn de_optional_duration<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(d)?;
    if humantime::parse_duration(text.trim()).is_ok_and(|d| d.is_zero()) {
        return Ok(Some(Duration::ZERO));
    }
    parse_duration(&text).map(Some).map_err(de::Error::custom)
}

/// Parses `5m`, `30s`, `1h 30m`, `250ms`; zero is rejected.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text.trim()) {
        Ok(d) if d.is_zero() => Err(format!("duration {text:?} must be greater than zero")),
        Ok(d) => Ok(d),
        Err(e) => Err(format!(
            "invalid duration {text:?} ({e}); write e.g. \"30s\", \"5m\", \"1h\""
        )),
    }
}
