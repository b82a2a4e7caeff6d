//! Plumbing shared by the platform profiles: CSV and JSON files split where a platform limits
//! rows or bytes per file, the rejected-records file, and field checks.

use anyhow::{Context, Result};
use serde::Serialize;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// UTC milliseconds as ISO 8601 with seconds (`2026-03-18T09:14:00Z`).
pub fn iso_utc(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// Characters, as platforms count length limits (Unicode scalar values).
pub fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Splits a display name into (first, last): the last word is the last name.
pub fn split_name(name: &str) -> (String, String) {
    let name = name.trim();
    match name.rsplit_once(' ') {
        Some((first, last)) => (first.trim().to_string(), last.to_string()),
        None => (String::new(), name.to_string()),
    }
}

/// A CSV table written in parts of at most `max_rows` data rows and `max_bytes` bytes each;
/// a single part is named `STEM.csv`, several `STEM-0001.csv`, `STEM-0002.csv`, ….
pub struct SplitCsv {
    dir: PathBuf,
    stem: String,
    header: Vec<String>,
    max_rows: u64,
    max_bytes: u64,
    writer: Option<csv::Writer<BufWriter<File>>>,
    part_rows: u64,
    part_bytes: u64,
    /// (file name, rows) of finished parts
    parts: Vec<(String, u64)>,
    buf: Vec<u8>,
}

impl SplitCsv {
    pub fn new(dir: &Path, stem: &str, header: &[&str], max_rows: u64, max_bytes: u64) -> SplitCsv {
        SplitCsv {
            dir: dir.to_path_buf(),
            stem: stem.to_string(),
            header: header.iter().map(|h| h.to_string()).collect(),
            max_rows,
            max_bytes,
            writer: None,
            part_rows: 0,
            part_bytes: 0,
            parts: Vec::new(),
            buf: Vec::new(),
        }
    }

    fn part_name(&self, n: usize) -> String {
        format!("{}-{n:04}.csv", self.stem)
    }

    fn open_part(&mut self) -> Result<()> {
        let name = self.part_name(self.parts.len() + 1);
        let path = self.dir.join(&name);
        let file = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut w = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, file));
        w.write_record(&self.header)?;
        self.part_bytes = self.header.iter().map(|h| h.len() as u64 + 1).sum();
        self.part_rows = 0;
        self.writer = Some(w);
        self.parts.push((name, 0));
        Ok(())
    }

    /// The encoded size of a record (what it adds to the file).
    fn encoded_len(&mut self, record: &[String]) -> Result<u64> {
        self.buf.clear();
        {
            let mut w = csv::Writer::from_writer(&mut self.buf);
            w.write_record(record)?;
            w.flush()?;
        }
        Ok(self.buf.len() as u64)
    }

    pub fn write(&mut self, record: &[String]) -> Result<()> {
        let len = self.encoded_len(record)?;
        let full = self.part_rows >= self.max_rows || (self.part_rows > 0 && self.part_bytes + len > self.max_bytes);
        if self.writer.is_none() || full {
            if let Some(mut w) = self.writer.take() {
                w.flush()?;
            }
            self.open_part()?;
        }
        let w = self.writer.as_mut().expect("opened above");
        w.write_record(record)?;
        self.part_rows += 1;
        self.part_bytes += len;
        if let Some(last) = self.parts.last_mut() {
            last.1 += 1;
        }
        Ok(())
    }

    /// Closes the last part; renames a lone part to `STEM.csv` (an empty table still gets its
    /// header). Returns (file name, rows) per part.
    pub fn finish(mut self) -> Result<Vec<(String, u64)>> {
        if self.writer.is_none() && self.parts.is_empty() {
            self.open_part()?;
        }
        if let Some(mut w) = self.writer.take() {
            w.flush()?;
        }
        if self.parts.len() == 1 {
            let single = format!("{}.csv", self.stem);
            std::fs::rename(self.dir.join(&self.parts[0].0), self.dir.join(&single))?;
            self.parts[0].0 = single;
        }
        Ok(self.parts)
    }
}

/// JSON request bodies of the form `{"KEY": [item, …]}` with at most `max_items` items each
/// (`STEM-0001.json`, …): one file per API call.
pub struct SplitJson {
    dir: PathBuf,
    stem: String,
    key: String,
    max_items: u64,
    writer: Option<BufWriter<File>>,
    part_items: u64,
    parts: Vec<(String, u64)>,
}

impl SplitJson {
    pub fn new(dir: &Path, stem: &str, key: &str, max_items: u64) -> SplitJson {
        SplitJson {
            dir: dir.to_path_buf(),
            stem: stem.to_string(),
            key: key.to_string(),
            max_items,
            writer: None,
            part_items: 0,
            parts: Vec::new(),
        }
    }

    fn close_part(&mut self) -> Result<()> {
        if let Some(mut w) = self.writer.take() {
            w.write_all(b"\n]}\n")?;
            w.flush()?;
        }
        Ok(())
    }

    pub fn write(&mut self, item: &impl Serialize) -> Result<()> {
        if self.writer.is_none() || self.part_items >= self.max_items {
            self.close_part()?;
            let name = format!("{}-{:04}.json", self.stem, self.parts.len() + 1);
            let path = self.dir.join(&name);
            let file = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
            let mut w = BufWriter::new(file);
            writeln!(w, "{{{}: [", serde_json::to_string(&self.key)?)?;
            self.writer = Some(w);
            self.part_items = 0;
            self.parts.push((name, 0));
        }
        let w = self.writer.as_mut().expect("opened above");
        if self.part_items > 0 {
            w.write_all(b",\n")?;
        }
        serde_json::to_writer(&mut *w, item)?;
        self.part_items += 1;
        if let Some(last) = self.parts.last_mut() {
            last.1 += 1;
        }
        Ok(())
    }

    pub fn finish(mut self) -> Result<Vec<(String, u64)>> {
        self.close_part()?;
        Ok(self.parts)
    }
}

/// `rejected.jsonl`: one line per record the platform would refuse, with the reason and the
/// record as it would have been written. Created on the first rejection only.
pub struct Rejected {
    path: PathBuf,
    writer: Option<BufWriter<File>>,
    count: u64,
}

/// File name of the rejected records.
pub const REJECTED_FILE: &str = "rejected.jsonl";

#[derive(Serialize)]
struct RejectLine<'a, T: Serialize> {
    /// The file the record was meant for (`contacts`, `calls`, `tickets`, …).
    target: &'a str,
    id: &'a str,
    customer_id: Option<&'a str>,
    reason: &'a str,
    record: &'a T,
}

impl Rejected {
    pub fn new(dir: &Path) -> Rejected {
        Rejected {
            path: dir.join(REJECTED_FILE),
            writer: None,
            count: 0,
        }
    }

    pub fn write(
        &mut self,
        target: &str,
        id: &str,
        customer_id: Option<&str>,
        reason: &str,
        record: &impl Serialize,
    ) -> Result<()> {
        if self.writer.is_none() {
            let file = File::create(&self.path).with_context(|| format!("cannot create {}", self.path.display()))?;
            self.writer = Some(BufWriter::new(file));
        }
        let w = self.writer.as_mut().expect("opened above");
        serde_json::to_writer(
            &mut *w,
            &RejectLine {
                target,
                id,
                customer_id,
                reason,
                record,
            },
        )?;
        w.write_all(b"\n")?;
        self.count += 1;
        Ok(())
    }

    /// Closes the file; returns the count (0 means no file was written).
    pub fn finish(mut self) -> Result<u64> {
        if let Some(mut w) = self.writer.take() {
            w.flush()?;
        }
        Ok(self.count)
    }
}

/// Header and values of a CSV row as a JSON object, for the rejected file.
pub fn row_object(header: &[&str], row: &[String]) -> serde_json::Map<String, serde_json::Value> {
    header
        .iter()
        .zip(row)
        .map(|(h, v)| (h.to_string(), serde_json::Value::String(v.clone())))
        .collect()
}

/// The first column of `row` whose value is longer than its limit: `(column, chars, limit)`.
pub fn over_limit(header: &[&str], row: &[String], limits: &[(&str, usize)]) -> Option<(String, usize, usize)> {
    for (col, limit) in limits {
        if let Some(i) = header.iter().position(|h| h == col) {
            let n = chars(&row[i]);
            if n > *limit {
                return Some((col.to_string(), n, *limit));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_over_the_row_limit_is_split_and_a_small_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = SplitCsv::new(dir.path(), "calls", &["a", "b"], 2, u64::MAX);
        for i in 0..5 {
            t.write(&[i.to_string(), "x".into()]).unwrap();
        }
        let parts = t.finish().unwrap();
        assert_eq!(
            parts,
            vec![
                ("calls-0001.csv".to_string(), 2),
                ("calls-0002.csv".to_string(), 2),
                ("calls-0003.csv".to_string(), 1)
            ]
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("calls-0003.csv")).unwrap(),
            "a,b\n4,x\n"
        );
        let t = SplitCsv::new(dir.path(), "notes", &["a"], 2, u64::MAX);
        assert_eq!(t.finish().unwrap(), vec![("notes.csv".to_string(), 0)]);
    }

    #[test]
    fn a_table_over_the_byte_limit_is_split() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = SplitCsv::new(dir.path(), "c", &["a"], u64::MAX, 20);
        for _ in 0..4 {
            t.write(&["0123456789".into()]).unwrap();
        }
        let parts = t.finish().unwrap();
        assert_eq!(parts.len(), 4, "{parts:?}");
        for (name, _) in parts {
            assert!(std::fs::metadata(dir.path().join(name)).unwrap().len() <= 20);
        }
    }

    #[test]
    fn json_bodies_hold_at_most_the_limit_and_parse() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = SplitJson::new(dir.path(), "tickets", "tickets", 100);
        for i in 0..250 {
            t.write(&serde_json::json!({"n": i})).unwrap();
        }
        let parts = t.finish().unwrap();
        assert_eq!(parts.iter().map(|p| p.1).collect::<Vec<_>>(), vec![100, 100, 50]);
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("tickets-0003.json")).unwrap()).unwrap();
        assert_eq!(v["tickets"].as_array().unwrap().len(), 50);
    }

    #[test]
    fn names_split_on_the_last_space() {
        assert_eq!(split_name("Mary Ann Smith"), ("Mary Ann".into(), "Smith".into()));
        assert_eq!(split_name("Cher"), ("".into(), "Cher".into()));
    }
}
