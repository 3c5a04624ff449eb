//! What is configured: `/readyz` and `GET /v1/monitors`, from the running monitors (`single`)
//! or the catalog (the scale-out roles, where an engine runs only the monitors it owns).

use std::path::Path as FsPath;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::AppState;
use crate::config::Role;
use crate::engine::model::MonitorModel;
use crate::reference::profile::ReferenceProfile;

/// References are loaded before the listener opens, so a serving process is ready; the body
/// lists what was loaded.
pub(super) async fn readyz(State(state): State<AppState>) -> Json<Value> {
    let monitors: Vec<_> = models(&state)
        .iter()
        .map(|m| json!({"name": m.name(), "reference_rows": m.reference_rows}))
        .collect();
    Json(json!({"status": "ready", "role": state.role().as_str(), "monitors": monitors}))
}

/// The configured monitors' models: the running monitors' in `single`, the catalog in the
/// scale-out roles (an engine runs only the monitors it owns).
fn models(state: &AppState) -> Vec<Arc<MonitorModel>> {
    if state.role() == Role::Single {
        let monitors = state.service.monitors();
        monitors
            .ordered
            .iter()
            .map(|m| Arc::clone(&m.model))
            .collect()
    } else {
        state.service.catalog.values().cloned().collect()
    }
}

pub(super) async fn list_monitors(State(state): State<AppState>) -> Json<Value> {
    let monitors: Vec<_> = models(&state)
        .iter()
        .map(|m| describe(m, &state.base_dir))
        .collect();
    Json(json!({"monitors": monitors}))
}

fn describe(m: &MonitorModel, base_dir: &FsPath) -> Value {
    let columns: Vec<_> = m
        .checks
        .iter()
        .map(|c| {
            let kind = match &*c.reference {
                ReferenceProfile::Numeric(_) => "numerical",
                ReferenceProfile::Categorical(_) => "categorical",
            };
            json!({"name": c.name, "role": c.role, "type": kind, "test": c.test, "threshold": c.threshold})
        })
        .collect();
    let window = &m.spec.window;
    json!({
        "name": m.name(),
        "reference_fingerprint": m.fingerprint,
        "reference": shown_path(&m.spec.reference, base_dir),
        "reference_rows": m.reference_rows,
        "columns": columns,
        "id": m.spec.id,
        "timestamp": m.spec.timestamp,
        "window": {
            "kind": m.window.kind_name(),
            "rows": window.rows,
            "duration": window.duration,
            "step": match &window.step {
                Some(crate::config::StepSpec::Rows(n)) => json!(n),
                Some(crate::config::StepSpec::Duration(d)) => json!(d),
                None => Value::Null,
            },
            "min_rows": window.min_rows,
            "max_rows": window.max_rows(),
            "summary": match window.summary {
                crate::config::Summary::Exact => "exact",
                crate::config::Summary::Binned => "binned",
            },
            "fine_bins": (window.summary == crate::config::Summary::Binned).then(|| window.fine_bins()),
            "clock": if m.spec.timestamp.is_some() { "event_time" } else { "arrival_time" },
            "max_future_skew_seconds": m.spec.timestamp.as_ref().map(|_| window.max_future_skew()),
            "allowed_lateness_seconds": m.spec.timestamp.as_ref().map(|_| window.allowed_lateness()),
        },
        "shards": m.spec.shards,
        "drift_share": m.spec.drift_share,
        "labels": m.labelled.as_ref().map(|_| json!({
            "max_pending": m.spec.label_join.max_pending,
            "max_age_seconds": m.spec.label_join.max_age.as_secs_f64(),
        })),
        "alerting": {
            "severity": m.spec.alerting.severity,
            "team": m.spec.alerting.team,
            "labels": m.spec.alerting.labels,
            "for_windows": m.spec.alerting.for_windows,
            "no_data_after_seconds": m.spec.alerting.no_data_after.as_secs_f64(),
        },
    })
}

/// A reference path as clients may see it: relative to the config file, never the server's
/// absolute layout (an absolute path outside the config's directory shows its file name only).
fn shown_path(path: &FsPath, base_dir: &FsPath) -> String {
    if path.is_relative() {
        return path.display().to_string();
    }
    match path.strip_prefix(base_dir) {
        Ok(relative) if base_dir.is_absolute() => relative.display().to_string(),
        _ => path
            .file_name()
            .map_or_else(String::new, |f| f.to_string_lossy().into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_paths_never_show_the_server_layout() {
        let base = FsPath::new("/srv/app");
        assert_eq!(shown_path(FsPath::new("ref/a.csv"), base), "ref/a.csv");
        assert_eq!(
            shown_path(FsPath::new("/srv/app/ref/a.csv"), base),
            "ref/a.csv"
        );
        assert_eq!(shown_path(FsPath::new("/data/secret/a.csv"), base), "a.csv");
    }
}
