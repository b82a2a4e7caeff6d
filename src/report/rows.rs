//! A detail report as a plain table: named columns and string cells, rendered by [`super::render`].

use super::coverage::Note;
use serde::Serialize;

/// Rows of one detail report (or a timeline), each pointing at interactions.
#[derive(Debug, Clone, Serialize)]
pub struct Rows {
    pub report: String,
    pub title: String,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
    /// Lines printed under the table (what the figures mean, totals).
    pub notes: Vec<String>,
    pub coverage: Vec<Note>,
}

impl Rows {
    pub fn new(report: &str, title: String, columns: Vec<&'static str>) -> Rows {
        Rows {
            report: report.to_string(),
            title,
            columns,
            rows: Vec::new(),
            notes: Vec::new(),
            coverage: Vec::new(),
        }
    }

    /// JSON: `{report, title, rows: [{column: value}], notes, coverage}`.
    pub fn to_json(&self) -> serde_json::Value {
        let rows: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|r| {
                let obj: serde_json::Map<String, serde_json::Value> = self
                    .columns
                    .iter()
                    .zip(r)
                    .map(|(c, v)| (c.to_string(), serde_json::Value::String(v.clone())))
                    .collect();
                serde_json::Value::Object(obj)
            })
            .collect();
        serde_json::json!({
            "report": self.report,
            "title": self.title,
            "rows": rows,
            "notes": self.notes,
            "coverage": self.coverage,
        })
    }
}
