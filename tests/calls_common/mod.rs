//! Helpers shared by the call-log tests.
#![allow(dead_code)]

use omnitrail::import::calls::{import_calls, CallOptions};
use omnitrail::import::pipeline::NoProgress;
use omnitrail::import::{CommonOptions, ImportReport};
use omnitrail::normalize::phone::Region;
use omnitrail::workspace::{read_columns, Workspace};
use std::path::{Path, PathBuf};

pub fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/calls")
        .join(rel)
}

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(rel)
}

pub fn common(tz: chrono_tz::Tz, region: Option<&str>) -> CommonOptions {
    CommonOptions {
        tz,
        tz_origin: "test".into(),
        region: region.map(|r| Region::parse(r).unwrap()).unwrap_or(Region::none()),
        region_code: region.map(str::to_string),
    }
}

/// One imported call, as the tests compare it.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub source_ref: String,
    pub ts: String,
    pub direction: String,
    pub status: Option<String>,
    pub handle: Option<String>,
    pub name: Option<String>,
    pub agent: Option<String>,
    pub duration: Option<i64>,
    pub author: Option<String>,
    pub legs: Option<String>,
}

/// Imports `paths` into a fresh workspace; returns the report, the calls in time order and the workspace.
pub fn import(
    paths: &[PathBuf],
    opts: &CallOptions,
    common: &CommonOptions,
) -> (ImportReport, Vec<Call>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut ws = Workspace::open(dir.path()).unwrap();
    let report = import_calls(&mut ws, paths, opts, common, &NoProgress).unwrap();
    let calls = calls(&ws);
    (report, calls, dir)
}

pub fn calls(ws: &Workspace) -> Vec<Call> {
    let batches = ws.interaction_batches(None).unwrap();
    let cols = [
        "source_ref",
        "ts",
        "direction",
        "status",
        "customer_handle",
        "customer_name",
        "agent",
        "duration_s",
        "author_raw",
        "body_full",
    ];
    let mut out = Vec::new();
    for df in read_columns(ws.root(), &batches, &cols).unwrap() {
        let s = |c: &str| -> Vec<Option<String>> {
            df.column(c)
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect()
        };
        let ts = df
            .column("ts")
            .unwrap()
            .as_materialized_series()
            .to_physical_repr()
            .into_owned();
        let ts: Vec<i64> = ts.i64().unwrap().iter().map(|v| v.unwrap()).collect();
        let dur: Vec<Option<i64>> = df.column("duration_s").unwrap().i64().unwrap().iter().collect();
        let (r, d, st, h, n, a, au, b) = (
            s("source_ref"),
            s("direction"),
            s("status"),
            s("customer_handle"),
            s("customer_name"),
            s("agent"),
            s("author_raw"),
            s("body_full"),
        );
        for i in 0..ts.len() {
            out.push(Call {
                source_ref: r[i].clone().unwrap(),
                ts: omnitrail::import::ms_to_rfc3339(ts[i]),
                direction: d[i].clone().unwrap(),
                status: st[i].clone(),
                handle: h[i].clone(),
                name: n[i].clone(),
                agent: a[i].clone(),
                duration: dur[i],
                author: au[i].clone(),
                legs: b[i].clone(),
            });
        }
    }
    out.sort_by(|a, b| (&a.ts, &a.source_ref).cmp(&(&b.ts, &b.source_ref)));
    out
}

/// `(read, imported, rejected, duplicates)` of the report's first source.
pub fn counts(report: &ImportReport) -> (u64, u64, u64, u64) {
    let c = report.sources.first().unwrap().counts;
    (c.read, c.imported, c.rejected, c.duplicates)
}

pub fn count_status(calls: &[Call], status: &str) -> usize {
    calls.iter().filter(|c| c.status.as_deref() == Some(status)).count()
}

pub fn count_direction(calls: &[Call], d: &str) -> usize {
    calls.iter().filter(|c| c.direction == d).count()
}
