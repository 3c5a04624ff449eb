//! Reading `monitors.yaml` with `DRIFTSCOPE__…` environment overrides, strict about keys.

use std::path::{Path, PathBuf};

use super::Settings;

/// Prefix of environment variables that override config keys, e.g.
/// `DRIFTSCOPE__SERVER__MAX_BODY_BYTES=1048576`.
pub const ENV_PREFIX: &str = "DRIFTSCOPE";

/// Why the file could not be loaded at all.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file is missing or unreadable, or the YAML is not well formed.
    #[error("{path}: {message}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The YAML parsed, but a key is unknown, missing or of the wrong type.
    #[error("{path}: {key}: {message}")]
    Shape {
        /// The config file.
        path: PathBuf,
        /// Key path at fault.
        key: String,
        /// What went wrong.
        message: String,
    },
}

/// Reads and deserializes `path`, applying `DRIFTSCOPE__…` overrides from `env`
/// (`None` = the process environment; tests pass their own map).
pub fn load(
    path: &Path,
    env: Option<std::collections::HashMap<String, String>>,
) -> Result<Settings, LoadError> {
    if !path.is_file() {
        return Err(LoadError::Read {
            path: path.to_owned(),
            message: "file not found; pass --config PATH or run from the directory holding \
                      monitors.yaml"
                .into(),
        });
    }
    let source = config::Config::builder()
        .add_source(config::File::from(path).format(config::FileFormat::Yaml))
        .add_source(
            config::Environment::with_prefix(ENV_PREFIX)
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .source(env),
        )
        .build()
        .map_err(|e| LoadError::Read {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
    let mut settings: Settings = serde_path_to_error::deserialize(source).map_err(|e| {
        let key = e.path().to_string();
        LoadError::Shape {
            path: path.to_owned(),
            key,
            message: e.into_inner().to_string(),
        }
    })?;
    settings.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::{MINIMAL, write};
    use crate::config::{TestKind, Window};
    use std::collections::HashMap;

    #[test]
    fn loads_both_feature_forms_and_sliding_window() {
        let dir = tempfile::tempdir().unwrap();
        let s = load(&write(dir.path(), MINIMAL), Some(HashMap::new())).unwrap();
        assert!(s.validate().is_empty(), "{:?}", s.validate());
        let m = &s.monitors[0];
        assert_eq!(m.features.numerical[1].test, Some(TestKind::Psi));
        assert_eq!(m.features.numerical[1].bins, Some(5));
        assert_eq!(
            m.window.resolve(),
            Ok(Window::CountSliding {
                size: 100,
                step: 25
            })
        );
        assert_eq!(s.reference_path(m), dir.path().join("r.csv"));
    }

    #[test]
    fn environment_overrides_keys() {
        let dir = tempfile::tempdir().unwrap();
        let env = HashMap::from([
            (
                "DRIFTSCOPE__SERVER__MAX_BODY_BYTES".to_string(),
                "4096".to_string(),
            ),
            (
                "DRIFTSCOPE__SERVER__LISTEN".to_string(),
                "127.0.0.1:9999".to_string(),
            ),
        ]);
        let s = load(&write(dir.path(), MINIMAL), Some(env)).unwrap();
        assert_eq!(s.server.max_body_bytes, 4096);
        assert_eq!(s.server.listen.port(), 9999);
    }

    #[test]
    fn unknown_key_is_reported_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let text = MINIMAL.replace("window: {rows: 100, step: 25}", "window: {rowz: 100}");
        let err = load(&write(dir.path(), &text), Some(HashMap::new())).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("monitors[0].window"), "{msg}");
        assert!(msg.contains("rowz"), "{msg}");
    }
}
