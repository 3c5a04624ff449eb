//! The report page: one self-contained HTML document (inline CSS and SVG, no scripts, no
//! network) with the dataset verdict, a table of every column's test, and per column a chart of
//! reference against current values. `driftscope report --format html` writes it for two files;
//! the service serves it per monitor at `GET /ui/monitors/{name}` with score sparklines from
//! the history. Every text from data (column names, categories, paths) is escaped.

use std::fmt::Write as _;

use crate::check::report::ColumnReport;
use crate::engine::evaluate::WindowReport;
use crate::engine::histogram::Histogram;
use crate::engine::model::MonitorModel;
use crate::engine::results::WindowSummary;
use crate::report::svg::{self, CURRENT_COLOUR, REFERENCE_COLOUR, escape};
use crate::report::text::{number, percent, verdict};

/// What a page shows.
pub struct Page<'a> {
    /// Heading.
    pub title: &'a str,
    /// The monitor (policy, reference size).
    pub monitor: &'a MonitorModel,
    /// The window's report; `None` before the first window.
    pub report: Option<&'a WindowReport>,
    /// Charts, by column name.
    pub histograms: &'a [Histogram],
    /// Past windows, oldest first, for sparklines (empty for a one-off report).
    pub history: &'a [WindowSummary],
    /// A line under the heading.
    pub note: &'a str,
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}\
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}h3{font-size:14px;margin:0 0 4px}\
.muted{color:#666}.verdict{padding:10px 14px;border-radius:6px;margin:12px 0;font-weight:600}\
.verdict.drift{background:#fde2d8;border:1px solid #e07b39}.verdict.ok{background:#e3f2e6;border:1px solid #5a9e6b}\
table{border-collapse:collapse;width:100%}th,td{padding:4px 8px;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}\
th:first-child,td:first-child,th:nth-child(2),td.test{text-align:left}tr.drift td{background:#fff1ea}td.v-drift{color:#b4441a;font-weight:700}\
.charts{display:flex;flex-wrap:wrap;gap:16px}.card{border:1px solid #ddd;border-radius:6px;padding:10px}\
.key{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}";

/// Renders the page.
pub fn render(page: &Page<'_>) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = write!(
        w,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>driftscope: {}</title><style>{STYLE}</style></head><body>",
        escape(page.title)
    );
    let spec = &page.monitor.spec;
    let family = crate::check::policy::FamilySettings::of(spec);
    let _ = write!(
        w,
        "<h1>{}</h1><p class=\"muted\">{} Policy {}, alpha {}, correction {}; {} reference rows.</p>",
        escape(page.title),
        escape(page.note),
        spec.policy.as_str(),
        spec.alpha,
        family.correction.as_str(),
        page.monitor.reference_rows
    );
    let Some(report) = page.report else {
        w.push_str(
            "<div class=\"verdict ok\">No window has been evaluated yet.</div></body></html>\n",
        );
        return out;
    };
    let d = &report.dataset;
    let _ = write!(
        w,
        "<div class=\"verdict {}\">Dataset drift: {} — {} of {} features drifted (share {:.3}, threshold {})</div>\
         <p class=\"muted\">Window {}: {} rows, {} to {}, evaluated {}.</p>",
        if d.drifted { "drift" } else { "ok" },
        if d.drifted { "yes" } else { "no" },
        d.drifted_features,
        d.features_evaluated,
        d.drift_share,
        d.threshold,
        report.seq,
        report.rows,
        escape(&report.start),
        escape(&report.end),
        escape(&report.evaluated_at)
    );
    table(w, "Features", &report.features, page.history);
    if !report.predictions.is_empty() {
        table(
            w,
            "Prediction drift (not counted in dataset drift)",
            &report.predictions,
            page.history,
        );
    }
    let _ = write!(
        w,
        "<h2>Distributions</h2><p class=\"muted\"><span class=\"key\" style=\"background:{REFERENCE_COLOUR}\"></span>reference\
         <span class=\"key\" style=\"background:{CURRENT_COLOUR}\"></span>current \
         (numerical: densities over equal-width bins of the reference's central 99 %, outliers in the outer bins; \
         categorical: shares of the most frequent categories)</p><div class=\"charts\">"
    );
    for column in report.features.iter().chain(&report.predictions) {
        let _ = write!(
            w,
            "<div class=\"card\"><h3>{} <span class=\"muted\">{} · {}</span></h3>",
            escape(&column.name),
            column.outcome.test.as_str(),
            verdict(column)
        );
        match page.histograms.iter().find(|h| h.name == column.name) {
            Some(h) => w.push_str(&svg::chart(h)),
            None => w.push_str("<p class=\"muted\">No chart for this window.</p>"),
        }
        w.push_str("</div>");
    }
    w.push_str("</div></body></html>\n");
    out
}

fn table(w: &mut String, heading: &str, columns: &[ColumnReport], history: &[WindowSummary]) {
    let _ = write!(
        w,
        "<h2>{heading}</h2><table><thead><tr><th>column</th><th>test</th><th>score</th><th>p-value</th>\
         <th>adjusted p</th><th>threshold</th><th>effect (min)</th><th>verdict</th><th>missing</th>\
         <th>invalid</th><th>out of range</th><th>new category</th>{}</tr></thead><tbody>",
        if history.is_empty() {
            ""
        } else {
            "<th>score history</th>"
        }
    );
    for c in columns {
        let o = &c.outcome;
        let _ = write!(
            w,
            "<tr{}><td>{}</td><td class=\"test\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{} ({})</td><td class=\"v-{}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
            if o.drifted { " class=\"drift\"" } else { "" },
            escape(&c.name),
            o.test.as_str(),
            number(o.score),
            number(o.p_value),
            number(o.p_value_adjusted),
            number(Some(o.threshold)),
            number(o.effect_size),
            number(Some(o.min_effect)),
            if o.drifted { "drift" } else { "ok" },
            verdict(c),
            percent(c.missing_ratio),
            percent(c.invalid_ratio),
            percent(c.out_of_range_ratio),
            percent(c.new_category_ratio),
        );
        if !history.is_empty() {
            let scores: Vec<Option<f64>> = history
                .iter()
                .map(|s| s.scores.get(&c.name).copied().flatten())
                .collect();
            let _ = write!(w, "<td>{}</td>", svg::sparkline(&c.name, &scores));
        }
        w.push_str("</tr>");
    }
    w.push_str("</tbody></table>");
}
