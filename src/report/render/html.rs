//! One self-contained HTML page (inline CSS, no scripts or external files), so a consultant can
//! send it as it is.

use super::Section;
use crate::report::summary::Summary;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Horizontal bars comparing per-channel and unified unanswered counts (a chart without scripts).
fn unanswered_chart(s: &Summary) -> String {
    let max = s
        .unanswered
        .values()
        .map(|u| u.needing_response)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let mut out = String::from("<h2>Unanswered within the SLA: per channel vs unified</h2><div class=\"chart\">");
    for (ch, u) in &s.unanswered {
        if u.needing_response == 0 {
            continue;
        }
        let bar = |n: u64, class: &str, label: &str| {
            format!(
                "<div class=\"bar {class}\" style=\"width:{:.1}%\">{label} {n}</div>",
                (n as f64 / max * 100.0).max(0.5)
            )
        };
        out.push_str(&format!(
            "<div class=\"row\"><span class=\"label\">{}</span><div class=\"bars\">{}{}{}</div></div>",
            esc(ch),
            bar(u.needing_response, "total", "need a response"),
            bar(u.per_channel, "pc", "unanswered per channel"),
            bar(u.unified, "un", "unanswered unified"),
        ));
    }
    out.push_str("</div>");
    out
}

/// The page: title, optional charts, every section as a table.
pub fn page(title: &str, sections: &[Section], summary: Option<&Summary>) -> String {
    let mut body = format!("<h1>{}</h1>", esc(title));
    if let Some(s) = summary {
        body.push_str(&format!(
            "<p class=\"verdict\">{} — {} customers, {} episodes, {} switches ({} with repeated details)</p>",
            esc(s.recommendation.verdict),
            s.customers,
            s.episodes,
            s.channel_switches,
            s.switches_with_repeated_details
        ));
        body.push_str(&unanswered_chart(s));
    }
    for (i, sec) in sections.iter().enumerate() {
        if sec.has_heading(title, i) {
            body.push_str(&format!("<h2>{}</h2>", esc(&sec.title)));
        }
        body.push_str("<table><thead><tr>");
        for h in &sec.headers {
            body.push_str(&format!("<th>{}</th>", esc(h)));
        }
        body.push_str("</tr></thead><tbody>");
        for r in &sec.rows {
            body.push_str("<tr>");
            for c in r {
                body.push_str(&format!("<td>{}</td>", esc(c)));
            }
            body.push_str("</tr>");
        }
        body.push_str("</tbody></table>");
        for n in &sec.notes {
            body.push_str(&format!("<p class=\"note\">{}</p>", esc(n)));
        }
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{}</style></head><body>{}</body></html>",
        esc(title),
        STYLE,
        body
    )
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:80rem}\
table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}\
th{background:#f3f3f3}.verdict{font-size:1.2rem;font-weight:600}.note{color:#555;font-size:.9rem}\
.chart .row{display:flex;align-items:center;margin:.4rem 0}.chart .label{width:7rem}.chart .bars{flex:1}\
.bar{color:#fff;font-size:.8rem;padding:.1rem .3rem;margin:1px 0;white-space:nowrap}.bar.total{background:#888}\
.bar.pc{background:#c0392b}.bar.un{background:#2874a6}";
