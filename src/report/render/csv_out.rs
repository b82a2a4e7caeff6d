//! CSV: detail rows as a table; the summary as `metric,value` lines (nested keys joined by dots).

use crate::report::rows::Rows;
use anyhow::Result;

fn finish(w: csv::Writer<Vec<u8>>) -> Result<String> {
    let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("csv: {e}"))?;
    Ok(String::from_utf8(bytes)?.trim_end().to_string())
}

/// One line per row; the header is the column names.
pub fn rows(r: &Rows) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&r.columns)?;
    for row in &r.rows {
        w.write_record(row)?;
    }
    finish(w)
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                flatten(&format!("{prefix}.{i}"), v, out);
            }
        }
        serde_json::Value::String(s) => out.push((prefix.to_string(), s.clone())),
        serde_json::Value::Null => out.push((prefix.to_string(), String::new())),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// `metric,value` lines of a JSON object.
pub fn flat_json(v: &serde_json::Value) -> Result<String> {
    let mut pairs = Vec::new();
    flatten("", v, &mut pairs);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["metric", "value"])?;
    for (k, v) in pairs {
        w.write_record([k, v])?;
    }
    finish(w)
}
