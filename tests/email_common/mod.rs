//! Helpers for the email tests: import into a temporary workspace, read rows back.
#![allow(dead_code)]

use crate::common::{interactions, strings, ts_strings, utc};
use omnitrail::import::email::{import_email, EmailOptions};
use omnitrail::import::pipeline::NoProgress;
use omnitrail::import::{CommonOptions, ImportReport};
use omnitrail::workspace::Workspace;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One interaction as text columns (`ts` as naive UTC), keyed by column name.
pub type Row = BTreeMap<String, String>;

pub const COLUMNS: &[&str] = &[
    "source_ref",
    "direction",
    "thread_key",
    "customer_handle",
    "customer_name",
    "agent",
    "text",
    "body_full",
    "subject",
    "kind",
    "author_raw",
];

pub fn business(domains: &[&str], addresses: &[&str]) -> EmailOptions {
    EmailOptions {
        business_domains: domains.iter().map(|s| s.to_string()).collect(),
        business_addresses: addresses.iter().map(|s| s.to_string()).collect(),
        mboxo: false,
    }
}

pub fn import(paths: &[PathBuf], opts: &EmailOptions) -> (tempfile::TempDir, Workspace, ImportReport) {
    import_with(paths, opts, &utc())
}

pub fn import_with(
    paths: &[PathBuf],
    opts: &EmailOptions,
    common: &CommonOptions,
) -> (tempfile::TempDir, Workspace, ImportReport) {
    let dir = tempfile::tempdir().unwrap();
    let mut ws = Workspace::open(dir.path()).unwrap();
    let report = import_email(&mut ws, paths, opts, common, &NoProgress).unwrap();
    (dir, ws, report)
}

pub fn rows(ws: &Workspace) -> Vec<Row> {
    let mut cols = COLUMNS.to_vec();
    cols.push("ts");
    cols.push("seq");
    let df = interactions(ws, &cols);
    if df.height() == 0 {
        return Vec::new();
    }
    let ts = ts_strings(&df);
    let mut out: Vec<Row> = (0..df.height()).map(|_| Row::new()).collect();
    for c in COLUMNS {
        for (i, v) in strings(&df, c).into_iter().enumerate() {
            if let Some(v) = v {
                out[i].insert(c.to_string(), v);
            }
        }
    }
    for (i, t) in ts.into_iter().enumerate() {
        out[i].insert("ts".into(), t);
    }
    let mentions = interactions(ws, &["mentions", "attachments"]);
    for (col, key) in [("mentions", "mentions"), ("attachments", "attachments")] {
        let list = mentions.column(col).unwrap().list().unwrap().clone();
        for (i, v) in list.amortized_iter().enumerate() {
            let items: Vec<String> = v
                .map(|s| s.as_ref().str().unwrap().iter().flatten().map(str::to_string).collect())
                .unwrap_or_default();
            out[i].insert(key.into(), items.join(" "));
        }
    }
    out
}

/// The field of the row whose `source_ref` is `r`.
pub fn field<'a>(rows: &'a [Row], r: &str, col: &str) -> &'a str {
    rows.iter()
        .find(|x| x.get("source_ref").map(String::as_str) == Some(r))
        .unwrap_or_else(|| panic!("no row {r}"))
        .get(col)
        .map_or("", String::as_str)
}
