//! Report accuracy against `omnitrail gen` truth (issues #5 and #7), end to end through the CLI.
//!
//! - With the true clustering (`gen::oracle` writes the matcher's files from
//!   `truth/identities.csv`), every figure `truth/summary.json` states must equal the report's:
//!   any difference is a definition the report and gen disagree on, not matcher error.
//! - With the real matcher (`omnitrail audit`), the figures must stay within stated tolerances:
//!   the distance between the two is the matcher's error as a report reader sees it.

use crate::common::{gen, import_generated, ok, omnitrail};
use omnitrail::gen::oracle::{shared_figures, write_truth_clustering};
use std::path::Path;
use std::process::Output;

fn json(o: &Output) -> serde_json::Value {
    ok(o);
    serde_json::from_slice(&o.stdout).unwrap()
}

fn truth(gen: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(gen.join("truth/summary.json")).unwrap()).unwrap()
}

const CUSTOMERS: u64 = 200;
const SEED: u64 = 11;

#[test]
fn with_the_true_clustering_every_truth_figure_equals_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let gen = gen(dir.path(), CUSTOMERS, SEED);
    let ws = dir.path().join("ws");
    let counts = write_truth_clustering(&gen, &import_generated(&ws, &gen, &[], false)).unwrap();
    assert!(counts.identities > CUSTOMERS);
    assert_eq!(
        counts.unseen, 0,
        "every truth identity is carried by an imported record"
    );
    let report = json(&omnitrail(&["--workspace", ws.to_str().unwrap(), "--json", "report"]));
    let truth = truth(&gen);
    let figures = shared_figures(&truth, &report);
    // The spec's keys are all there, and the truth states them.
    for key in [
        "interactions",
        "customers",
        "identities",
        "multichannel_customers",
        "episodes",
        "channel_switches",
        "switches_with_repeated_details",
        "unanswered_per_channel",
        "unanswered_unified",
        "repeat_contacts",
        "channels.whatsapp.customers",
        "channels.email.inbound",
        "channels.call.outbound",
        "unanswered.call.per_channel",
    ] {
        assert!(figures.iter().any(|f| f.key == key), "truth lacks {key}");
    }
    let wrong: Vec<String> = figures
        .iter()
        .filter(|f| f.truth != f.report)
        .map(|f| format!("{}: truth {} report {}", f.key, f.truth, f.report))
        .collect();
    assert!(
        wrong.is_empty(),
        "report ≠ truth with the true clustering:\n{}",
        wrong.join("\n")
    );
    // Not a test that cannot fail: the scenario has the cases the definitions are about.
    for key in [
        "channel_switches",
        "switches_with_repeated_details",
        "unanswered_unified",
        "repeat_contacts_cross_channel",
    ] {
        assert!(truth[key].as_u64().unwrap() > 0, "{key} is 0 in the truth");
    }
    assert!(truth["unanswered_per_channel"].as_u64() > truth["unanswered_unified"].as_u64());
}

/// The report's figure divided by the truth's.
fn ratio(truth: &serde_json::Value, report: &serde_json::Value, key: &str) -> f64 {
    let t = truth[key].as_f64().unwrap();
    let r = report[key].as_f64().unwrap_or_else(|| panic!("report lacks {key}"));
    r / t
}

#[test]
fn with_the_matcher_the_figures_stay_within_the_stated_tolerances() {
    let dir = tempfile::tempdir().unwrap();
    let gen = gen(dir.path(), CUSTOMERS, SEED);
    let ws = dir.path().join("ws");
    let business = gen.join("business.toml");
    let report = json(&omnitrail(&[
        "--workspace",
        ws.to_str().unwrap(),
        "--json",
        "--quiet",
        "audit",
        gen.to_str().unwrap(),
        "--business-file",
        business.to_str().unwrap(),
    ]));
    let truth = truth(&gen);
    // Volumes do not depend on the clustering: exact.
    for key in ["interactions", "identities"] {
        assert_eq!(report[key], truth[key], "{key}");
    }
    for ch in ["whatsapp", "email", "call"] {
        for k in ["interactions", "inbound", "outbound"] {
            assert_eq!(report["channels"][ch][k], truth["channels"][ch][k], "channels.{ch}.{k}");
        }
    }
    // Clustering-dependent figures: report ÷ truth within [low, high] (docs/metrics.md,
    // "Report accuracy against gen truth"). A matcher that splits customers overcounts
    // customers and episodes and misses the switches between the split halves; one that
    // merges strangers inflates switches. Measured at this seed in session 3: customers 1.12,
    // episodes 1.04, unanswered_unified 1.07, repeat_contacts 0.81, multichannel 0.49,
    // switches 0.47.
    for (key, low, high) in [
        // Contacts barely depend on it (a split or merge can change which messages group).
        ("contacts", 0.99, 1.01),
        ("needing_response", 0.99, 1.01),
        ("customers", 0.95, 1.15),
        ("episodes", 0.95, 1.10),
        ("unanswered_per_channel", 0.98, 1.02),
        ("unanswered_unified", 0.95, 1.10),
        ("repeat_contacts", 0.75, 1.10),
        ("multichannel_customers", 0.40, 1.10),
        ("channel_switches", 0.40, 1.10),
    ] {
        let r = ratio(&truth, &report, key);
        assert!(
            (low..=high).contains(&r),
            "{key}: truth {} report {} (ratio {r:.2}, allowed {low}–{high})",
            truth[key],
            report[key],
        );
    }
}
