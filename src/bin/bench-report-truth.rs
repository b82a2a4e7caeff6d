//! Report accuracy against `omnitrail gen` truth: the summary report of a workspace as the
//! matcher clustered it, and again with the true clustering (gen's `truth/identities.csv`,
//! see `omnitrail::gen::oracle`), beside `truth/summary.json`, figure by figure.
//!
//! `bench-report-truth GEN_DIR WORKSPACE [--json]` — WORKSPACE must be imported and matched
//! (e.g. `omnitrail --workspace WS audit GEN_DIR --business-file GEN_DIR/business.toml`).
//! The matcher's files are moved aside while the oracle's are in place, then restored.
//! `--write-oracle` only writes the true clustering into WORKSPACE (replacing the matcher's
//! files) and exits, to look at the detail reports with true customers.

use anyhow::{bail, Context, Result};
use omnitrail::gen::oracle::{shared_figures, write_truth_clustering};
use omnitrail::matcher::output::{CUSTOMERS_FILE, IDENTITIES_FILE, LINKS_FILE};
use omnitrail::report::{self, ReportSettings};
use omnitrail::workspace::Workspace;
use std::path::{Path, PathBuf};

fn summary_json(ws: &Workspace) -> Result<serde_json::Value> {
    Ok(serde_json::to_value(report::summary(ws, &ReportSettings::default())?)?)
}

/// Runs `f` with the oracle's files in place of the matcher's, restoring them afterwards.
fn with_oracle<T>(gen_dir: &Path, root: &Path, f: impl FnOnce(&Workspace) -> Result<T>) -> Result<T> {
    let files = [CUSTOMERS_FILE, IDENTITIES_FILE, LINKS_FILE];
    let aside = |name: &str| root.join(format!(".{name}.matcher"));
    for name in files {
        if root.join(name).exists() {
            std::fs::rename(root.join(name), aside(name))?;
        }
    }
    let result = Workspace::open_existing_to_change(root).and_then(|ws| {
        write_truth_clustering(gen_dir, &ws)?;
        f(&ws)
    });
    for name in files {
        if aside(name).exists() {
            std::fs::rename(aside(name), root.join(name))?;
        } else {
            let _ = std::fs::remove_file(root.join(name));
        }
    }
    result
}

const USAGE: &str = "usage: bench-report-truth GEN_DIR WORKSPACE [--json]
       bench-report-truth GEN_DIR WORKSPACE --write-oracle";

fn main() -> Result<()> {
    omnitrail::benchkit::exit_on_help(USAGE);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let paths: Vec<PathBuf> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .collect();
    let [gen_dir, root] = paths.as_slice() else {
        bail!("usage: bench-report-truth GEN_DIR WORKSPACE [--json]");
    };
    if args.iter().any(|a| a == "--write-oracle") {
        let counts = write_truth_clustering(gen_dir, &Workspace::open_existing_to_change(root)?)?;
        eprintln!("{counts:?}");
        return Ok(());
    }
    let truth_path = gen_dir.join("truth/summary.json");
    let truth: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&truth_path).with_context(|| format!("cannot read {}", truth_path.display()))?,
    )?;
    let matched = summary_json(&Workspace::open_existing(root)?)?;
    let oracle = with_oracle(gen_dir, root, summary_json)?;
    let by_matcher = shared_figures(&truth, &matched);
    let by_oracle = shared_figures(&truth, &oracle);
    if json {
        let rows: Vec<serde_json::Value> = by_oracle
            .iter()
            .zip(&by_matcher)
            .map(|(o, m)| serde_json::json!({"figure": o.key, "truth": o.truth, "oracle": o.report, "matcher": m.report}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    println!("| figure | truth | report, true clustering | report, matcher |");
    println!("|---|---:|---:|---:|");
    for (o, m) in by_oracle.iter().zip(&by_matcher) {
        let mark = if o.truth == o.report { "" } else { " ≠" };
        println!("| `{}` | {} | {}{mark} | {} |", o.key, o.truth, o.report, m.report);
    }
    Ok(())
}
