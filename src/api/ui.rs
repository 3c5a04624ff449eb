//! `GET /ui/monitors/{monitor}`: the report page of a monitor's latest window, with score
//! sparklines over its history; read scope when authentication is on. Charts come from the
//! histograms the monitor keeps of its latest window ([`crate::engine::histogram`]).

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use super::handlers::{find_monitor, monitor_name};
use crate::report::html::{Page, render};

/// Seconds between reloads of the page (a `<meta http-equiv="refresh">`, no script).
const REFRESH_SECONDS: u32 = 30;

pub(super) async fn monitor_page(
    State(state): State<AppState>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let monitor = find_monitor(&state, &monitor_name(path)?)?;
    let html = tokio::task::spawn_blocking(move || {
        let results = monitor.results();
        let history: Vec<_> = results.history.iter().cloned().collect();
        let histograms = results.latest_histograms.as_deref().map_or(&[][..], Vec::as_slice);
        let title = format!("monitor {}", monitor.name());
        let page = Page {
            title: &title,
            monitor: &monitor.model,
            report: results.latest.as_deref(),
            histograms,
            history: &history,
            note: "driftscope: the latest window of this monitor.",
        };
        let html = render(&page);
        html.replacen(
            "<meta charset=\"utf-8\">",
            &format!("<meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"{REFRESH_SECONDS}\">"),
            1,
        )
    })
    .await
    .map_err(|e| ApiError::internal(&e))?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}
