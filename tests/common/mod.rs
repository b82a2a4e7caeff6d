//! Helpers shared by the integration tests.
#![allow(dead_code)]

use omnitrail::import::pipeline::{import_whatsapp, NoProgress};
use omnitrail::import::whatsapp::WhatsAppOptions;
use omnitrail::import::{CommonOptions, ImportError, ImportReport};
use omnitrail::normalize::phone::Region;
use omnitrail::workspace::{read_columns, Workspace};
use polars::prelude::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus").join(rel)
}

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(rel)
}

pub fn utc() -> CommonOptions {
    CommonOptions {
        tz: chrono_tz::UTC,
        tz_origin: "test".into(),
        region: Region::none(),
        region_code: None,
    }
}

pub fn import(
    ws: &mut Workspace,
    paths: &[PathBuf],
    opts: &WhatsAppOptions,
    common: &CommonOptions,
) -> Result<ImportReport, ImportError> {
    import_whatsapp(ws, paths, opts, common, &NoProgress)
}

/// Imports `paths` as WhatsApp chats with default options (UTC) into a new workspace at
/// `root`.
pub fn import_into(root: &std::path::Path, paths: &[PathBuf]) -> ImportReport {
    let mut ws = Workspace::open(root).unwrap();
    import(&mut ws, paths, &WhatsAppOptions::default(), &utc()).unwrap()
}

/// Every interaction in the workspace, as one frame.
pub fn interactions(ws: &Workspace, columns: &[&str]) -> DataFrame {
    let batches = ws.interaction_batches(None).unwrap();
    let frames = read_columns(ws.root(), &batches, columns).unwrap();
    let mut out: Option<DataFrame> = None;
    for f in frames {
        out = Some(match out {
            None => f,
            Some(mut o) => {
                o.vstack_mut(&f).unwrap();
                o
            }
        });
    }
    out.unwrap_or_else(DataFrame::empty)
}

/// `ts` column as naive UTC text `YYYY-MM-DDTHH:MM:SS`.
pub fn ts_strings(df: &DataFrame) -> Vec<String> {
    let ts = df
        .column("ts")
        .unwrap()
        .as_materialized_series()
        .to_physical_repr()
        .into_owned();
    ts.i64()
        .unwrap()
        .iter()
        .map(|v| {
            chrono::DateTime::from_timestamp_millis(v.unwrap())
                .unwrap()
                .naive_utc()
                .format("%Y-%m-%dT%H:%M:%S")
                .to_string()
        })
        .collect()
}

pub fn strings(df: &DataFrame, col: &str) -> Vec<Option<String>> {
    df.column(col)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.map(str::to_string))
        .collect()
}

/// Checks the imported records against an expectation: time span (`first_ts`, `last_ts`),
/// system lines (`system`), call events (`calls`, when given) and non-system authors.
pub fn check_records(name: &str, exp: &serde_json::Value, ws: &Workspace, failures: &mut Vec<String>) {
    let df = interactions(ws, &["ts", "kind", "author_raw"]);
    let ts = ts_strings(&df);
    let (first, last) = (ts.iter().min().unwrap(), ts.iter().max().unwrap());
    if first != exp["first_ts"].as_str().unwrap() || last != exp["last_ts"].as_str().unwrap() {
        failures.push(format!(
            "{name}: span {first}..{last}, expected {}..{}",
            exp["first_ts"], exp["last_ts"]
        ));
    }
    let kinds = strings(&df, "kind");
    let count = |k: &str| kinds.iter().filter(|x| x.as_deref() == Some(k)).count() as u64;
    if count("system") != exp["system"].as_u64().unwrap() {
        failures.push(format!(
            "{name}: {} system lines, expected {}",
            count("system"),
            exp["system"]
        ));
    }
    if let Some(calls) = exp.get("calls").and_then(|c| c.as_u64()) {
        if count("call") != calls {
            failures.push(format!("{name}: {} call events, expected {calls}", count("call")));
        }
    }
    let authors: std::collections::BTreeSet<String> = strings(&df, "author_raw")
        .into_iter()
        .zip(&kinds)
        .filter(|(_, k)| k.as_deref() != Some("system"))
        .filter_map(|(a, _)| a)
        .collect();
    let want: std::collections::BTreeSet<String> = exp["authors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    if authors != want {
        failures.push(format!("{name}: authors {authors:?}, expected {want:?}"));
    }
}

/// Runs the omnitrail binary.
pub fn omnitrail(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_omnitrail"))
        .args(args)
        .output()
        .unwrap()
}

/// Asserts that a run succeeded, showing its stderr when not.
pub fn ok(o: &Output) {
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
}

/// `omnitrail gen` into a fresh folder under `dir`.
pub fn gen(dir: &Path, customers: u64, seed: u64) -> PathBuf {
    let out = dir.join(format!("gen-{customers}-{seed}"));
    ok(&omnitrail(&[
        "--quiet",
        "gen",
        "--customers",
        &customers.to_string(),
        "--seed",
        &seed.to_string(),
        "--out",
        out.to_str().unwrap(),
    ]));
    out
}

/// Imports the generated folders or files `parts` (relative to `out`; all of `out` when
/// empty) with the generated business settings into `ws`; `clean` asserts that nothing was
/// rejected or a duplicate.
pub fn import_generated(ws: &Path, out: &Path, parts: &[&str], clean: bool) -> Workspace {
    let mut paths: Vec<PathBuf> = parts.iter().map(|p| out.join(p)).collect();
    if paths.is_empty() {
        paths.push(out.to_path_buf());
    }
    let business = out.join("business.toml");
    let mut args = vec!["--workspace", ws.to_str().unwrap(), "--quiet", "import"];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    args.extend(["--business-file", business.to_str().unwrap()]);
    ok(&omnitrail(&args));
    let ws = Workspace::open_existing(ws).unwrap();
    if clean {
        for s in &ws.manifest().unwrap().sources {
            assert_eq!(s.counts.rejected, 0, "{} rejected records", s.path);
            assert_eq!(s.counts.duplicates, 0, "{} duplicates", s.path);
        }
    }
    ws
}

/// The outcome of an import's first file.
pub fn first(report: &ImportReport) -> &omnitrail::import::SourceOutcome {
    report.sources.first().expect("the import has an outcome")
}

/// Whether a note of the import's first file contains `text`.
pub fn first_has_note(report: &ImportReport, text: &str) -> bool {
    first(report).notes.iter().any(|n| n.contains(text))
}

/// The outcome of the import's file whose path contains `part`.
pub fn outcome_of(report: &ImportReport, part: &str) -> omnitrail::import::SourceOutcome {
    let all = report.sources.to_vec().unwrap();
    all.into_iter()
        .find(|s| s.path.contains(part))
        .unwrap_or_else(|| panic!("no outcome for {part}"))
}
