//! Every WhatsApp export in ../shared/corpus imports with the message counts, time span,
//! system lines and authors that an independent reading of each file found
//! (tests/expected/whatsapp_corpus.json, see tests/expected/README.md).

use crate::common::*;
use omnitrail::import::whatsapp::dates::DateOrder;
use omnitrail::import::whatsapp::WhatsAppOptions;
use omnitrail::workspace::Workspace;

/// Files whose dates are valid in both day/month orders with no chronological clue:
/// the importer must refuse them until told the order.
const UNDECIDABLE: &[&str] = &[
    "chatanalytics--4A_11M.txt",
    "chatanalytics--4A_11M.zip",
    "langwa--ios-en-gb-attached.txt",
];

#[test]
fn every_corpus_chat_matches_the_independent_reading() {
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/expected/whatsapp_corpus.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut failures = Vec::new();
    for (name, exp) in expected.as_object().unwrap() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = Workspace::open(dir.path()).unwrap();
        let path = corpus(&format!("whatsapp/{name}"));
        let mut opts = WhatsAppOptions::default();
        if UNDECIDABLE.contains(&name.as_str()) {
            let err = import(&mut ws, std::slice::from_ref(&path), &opts, &utc()).unwrap();
            let msg = err.sources.to_vec().unwrap()[0].error.clone().unwrap_or_default();
            if !msg.contains("ambiguous") || !msg.contains("--date-order") {
                failures.push(format!("{name}: expected an ambiguity refusal, got {msg:?}"));
            }
            opts.date_order = Some(DateOrder::parse(exp["date_order"].as_str().unwrap()).unwrap());
        }
        let report = import(&mut ws, &[path], &opts, &utc()).unwrap();
        let src = first(&report);
        let messages = exp["messages"].as_u64().unwrap();
        if messages == 0 {
            // An empty file is refused (issue #2's bad inputs), and nothing is stored.
            match &src.error {
                Some(e) if src.outcome == "failed" && e.contains("empty file") => {}
                other => failures.push(format!("{name}: expected the empty file refused, got {other:?}")),
            }
            if !ws.manifest().unwrap().sources.is_empty() {
                failures.push(format!("{name}: the refused empty file was recorded"));
            }
            continue;
        }
        if let Some(e) = &src.error {
            failures.push(format!("{name}: {e}"));
            continue;
        }
        let c = src.counts;
        if (c.read, c.imported, c.rejected, c.duplicates) != (messages, messages, 0, 0) {
            failures.push(format!("{name}: counts {c:?}, expected {messages} read and imported"));
        }
        check_records(name, exp, &ws, &mut failures);
    }
    assert!(
        failures.is_empty(),
        "{} corpus file(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
