//! Inline SVG charts for the report page: reference-versus-current histograms and bar charts,
//! and score sparklines. Plain markup, no scripts; every text from data goes through
//! [`escape`].

use std::fmt::Write as _;

use crate::engine::histogram::{Bins, Histogram};

/// Fill of reference bars.
pub const REFERENCE_COLOUR: &str = "#7a8fa6";
/// Fill of current bars.
pub const CURRENT_COLOUR: &str = "#e07b39";

/// Escapes text for HTML content and attribute values (`&`, `<`, `>`, `"`, `'`).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A short axis label for a number.
fn tick(v: f64) -> String {
    if v.abs() >= 1e5 || (v != 0.0 && v.abs() < 1e-2) {
        format!("{v:.2e}")
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Cuts `text` to `max` characters with an ellipsis.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max - 1).collect();
        cut.push('…');
        cut
    }
}

/// The chart of one column: a histogram (numerical) or horizontal bars (categorical).
pub fn chart(h: &Histogram) -> String {
    match &h.bins {
        Bins::Numeric { edges } => numeric(h, edges),
        Bins::Categorical { labels, .. } => categorical(h, labels),
    }
}

fn numeric(h: &Histogram, edges: &[f64]) -> String {
    let (width, height, left, bottom, top) = (420.0, 170.0, 8.0, 22.0, 8.0);
    let plot_w = width - 2.0 * left;
    let plot_h = height - bottom - top;
    let max = h
        .reference
        .iter()
        .chain(&h.current)
        .fold(0.0_f64, |m, &v| m.max(v))
        .max(f64::MIN_POSITIVE);
    let bins = h.reference.len().max(1);
    let slot = plot_w / bins as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{}: reference (grey) and current (orange) densities</title>"#,
        escape(&h.name)
    );
    for (i, (r, c)) in h.reference.iter().zip(&h.current).enumerate() {
        let x = left + slot * i as f64;
        for (value, colour, offset) in [(r, REFERENCE_COLOUR, 0.0), (c, CURRENT_COLOUR, 0.5)] {
            let bar = value / max * plot_h;
            let _ = write!(
                svg,
                r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{colour}"/>"#,
                x + slot * offset + 0.5,
                top + plot_h - bar,
                (slot / 2.0 - 1.0).max(0.5),
                bar
            );
        }
    }
    let axis = top + plot_h;
    let _ = write!(
        svg,
        r##"<line x1="{left}" y1="{axis}" x2="{}" y2="{axis}" stroke="#444"/>"##,
        left + plot_w
    );
    if let (Some(first), Some(last)) = (edges.first(), edges.last()) {
        let mid = edges[edges.len() / 2];
        for (x, anchor, v) in [
            (left, "start", first),
            (left + plot_w / 2.0, "middle", &mid),
            (left + plot_w, "end", last),
        ] {
            let _ = write!(
                svg,
                r#"<text x="{x}" y="{}" font-size="11" text-anchor="{anchor}">{}</text>"#,
                axis + 15.0,
                escape(&tick(*v))
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

fn categorical(h: &Histogram, labels: &[String]) -> String {
    let (row, label_w, bar_w, top) = (20.0, 150.0, 230.0, 6.0);
    let width = label_w + bar_w + 90.0;
    let height = top * 2.0 + row * labels.len().max(1) as f64;
    let max = h
        .reference
        .iter()
        .chain(&h.current)
        .fold(0.0_f64, |m, &v| m.max(v))
        .max(f64::MIN_POSITIVE);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{}: reference (grey) and current (orange) shares</title>"#,
        escape(&h.name)
    );
    for (i, label) in labels.iter().enumerate() {
        let y = top + row * i as f64;
        let _ = write!(
            svg,
            r#"<text x="{}" y="{:.1}" font-size="11" text-anchor="end"><title>{}</title>{}</text>"#,
            label_w - 6.0,
            y + row * 0.65,
            escape(label),
            escape(&shorten(label, 22))
        );
        let (r, c) = (h.reference[i], h.current[i]);
        for (value, colour, offset) in [(r, REFERENCE_COLOUR, 1.0), (c, CURRENT_COLOUR, 9.5)] {
            let _ = write!(
                svg,
                r#"<rect x="{label_w}" y="{:.1}" width="{:.1}" height="8" fill="{colour}"/>"#,
                y + offset,
                value / max * bar_w
            );
        }
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" font-size="10">{:.1}/{:.1} %</text>"#,
            label_w + bar_w + 4.0,
            y + row * 0.65,
            r * 100.0,
            c * 100.0
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A sparkline of a column's score over past windows (oldest first); gaps where a window had
/// no score. Empty text for fewer than two scores.
pub fn sparkline(name: &str, scores: &[Option<f64>]) -> String {
    let values: Vec<f64> = scores.iter().flatten().copied().collect();
    if values.len() < 2 {
        return String::new();
    }
    let (width, height, pad) = (140.0, 28.0, 3.0);
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let step = (width - 2.0 * pad) / (scores.len() - 1) as f64;
    let mut svg = format!(
        r#"<svg class="spark" role="img" viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{}: score over the last {} windows, {} to {}</title>"#,
        escape(name),
        scores.len(),
        escape(&tick(lo)),
        escape(&tick(hi))
    );
    let mut segment: Vec<String> = Vec::new();
    let flush = |segment: &mut Vec<String>, svg: &mut String| {
        if segment.len() > 1 {
            let _ = write!(
                svg,
                r#"<polyline fill="none" stroke="{CURRENT_COLOUR}" stroke-width="1.5" points="{}"/>"#,
                segment.join(" ")
            );
        }
        segment.clear();
    };
    for (i, score) in scores.iter().enumerate() {
        match score {
            Some(v) => {
                let x = pad + step * i as f64;
                let y = height - pad - (v - lo) / span * (height - 2.0 * pad);
                segment.push(format!("{x:.1},{y:.1}"));
            }
            None => flush(&mut segment, &mut svg),
        }
    }
    flush(&mut segment, &mut svg);
    if let Some(Some(v)) = scores.last() {
        let y = height - pad - (v - lo) / span * (height - 2.0 * pad);
        let _ = write!(
            svg,
            r#"<circle cx="{:.1}" cy="{y:.1}" r="2.5" fill="{CURRENT_COLOUR}"/>"#,
            width - pad
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn sparklines_break_at_missing_scores() {
        let svg = sparkline("a", &[Some(1.0), Some(2.0), None, Some(0.5), Some(3.0)]);
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(sparkline("a", &[Some(1.0)]).is_empty());
    }
}
