//! Context-loss reports and timelines over the matched workspace: definitions in
//! docs/metrics.md. [`load()`] reads the workspace, [`analyze`] walks each customer's sorted
//! interactions once, [`summary()`] and the detail reports shape the figures, [`render`] prints them.

pub mod load;
pub mod settings;

pub use load::{load, Dataset, LoadOptions, NotMatched};
pub use settings::ReportSettings;
pub mod analyze;
pub mod classify;
pub mod coverage;
pub mod details;
pub mod response;
pub mod rows;
pub mod summary;
pub mod timeline;

use crate::workspace::Workspace;
use anyhow::Result;
pub use details::DetailKind;
pub use rows::Rows;
pub use summary::Summary;

/// Reads `customers.parquet` display names, when the matcher wrote them.
fn customer_names(ws: &Workspace) -> details::CustomerNames {
    use polars::prelude::*;
    let path = ws.root().join("customers.parquet");
    let Ok(p) = PlRefPath::try_from_pathbuf(path) else {
        return Default::default();
    };
    let Ok(df) = LazyFrame::scan_parquet(p, ScanArgsParquet::default())
        .and_then(|lf| lf.select([col("customer_id"), col("display_name")]).collect())
    else {
        return Default::default();
    };
    let (Ok(ids), Ok(names)) = (
        df.column("customer_id").and_then(|c| c.str().cloned()),
        df.column("display_name").and_then(|c| c.str().cloned()),
    ) else {
        return Default::default();
    };
    ids.iter()
        .zip(names.iter())
        .filter_map(|(i, n)| Some((i?.to_string(), n?.to_string())))
        .collect()
}

fn summarize(ws: &Workspace, ds: &Dataset, a: &analyze::Analysis, settings: &ReportSettings) -> Result<Summary> {
    let mut s = summary::build(ds, a, settings, Vec::new());
    s.coverage = coverage::notes(ws, ds, a, &s.channels)?;
    Ok(s)
}

/// The summary report. Fails with [`NotMatched`] when the workspace was never matched.
pub fn summary(ws: &Workspace, settings: &ReportSettings) -> Result<Summary> {
    let ds = load(ws, settings, &LoadOptions::default())?;
    let a = analyze::analyze(&ds, settings, false);
    summarize(ws, &ds, &a, settings)
}

/// A detail report (`switches`, `unanswered`, `repeats`, `agents`, `customers`, `metrics`).
pub fn detail(ws: &Workspace, settings: &ReportSettings, kind: DetailKind) -> Result<Rows> {
    let opts = LoadOptions {
        details: kind != DetailKind::Metrics,
        ..Default::default()
    };
    let ds = load(ws, settings, &opts)?;
    let mut a = analyze::analyze(&ds, settings, kind != DetailKind::Metrics);
    a.sort_cases_by_time(&ds);
    let s = summarize(ws, &ds, &a, settings)?;
    let names = if kind == DetailKind::Customers {
        customer_names(ws)
    } else {
        Default::default()
    };
    Ok(details::build(kind, &ds, &a, &s, settings, &names))
}

pub use timeline::timeline;
pub mod render;
#[doc(hidden)]
pub mod scenario;
