//! Every WhatsApp export in ../shared/corpus imports with the message counts, time span,
//! system lines and authors that an independent reading of each file found
//! (tests/expected/whatsapp_corpus.json, see tests/expected/README.md).

mod common;

use common::*;
use omnitrail::import::whatsapp::dates::DateOrder;
use omnitrail::import::whatsapp::WhatsAppOptions;
use omnitrail::workspace::Workspace;
use std::collections::BTreeSet;

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
            let msg = err.sources[0].error.clone().unwrap_or_default();
            if !msg.contains("ambiguous") || !msg.contains("--date-order") {
                failures.push(format!(
                    "{name}: expected an ambiguity refusal, got {msg:?}"
                ));
            }
            opts.date_order = Some(DateOrder::parse(exp["date_order"].as_str().unwrap()).unwrap());
        }
        let report = import(&mut ws, &[path], &opts, &utc()).unwrap();
        let src = &report.sources[0];
        if let Some(e) = &src.error {
            failures.push(format!("{name}: {e}"));
            continue;
        }
        let messages = exp["messages"].as_u64().unwrap();
        let c = src.counts;
        if (c.read, c.imported, c.rejected, c.duplicates) != (messages, messages, 0, 0) {
            failures.push(format!(
                "{name}: counts {c:?}, expected {messages} read and imported"
            ));
        }
        if messages == 0 {
            continue;
        }
        let df = interactions(&ws, &["ts", "kind", "author_raw"]);
        let ts = ts_strings(&df);
        let (first, last) = (ts.iter().min().unwrap(), ts.iter().max().unwrap());
        if first != exp["first_ts"].as_str().unwrap() || last != exp["last_ts"].as_str().unwrap() {
            failures.push(format!(
                "{name}: span {first}..{last}, expected {}..{}",
                exp["first_ts"], exp["last_ts"]
            ));
        }
        let kinds = strings(&df, "kind");
        let system = kinds
            .iter()
            .filter(|k| k.as_deref() == Some("system"))
            .count() as u64;
        if system != exp["system"].as_u64().unwrap() {
            failures.push(format!(
                "{name}: {system} system lines, expected {}",
                exp["system"]
            ));
        }
        let authors: BTreeSet<String> = strings(&df, "author_raw")
            .into_iter()
            .zip(&kinds)
            .filter(|(_, k)| k.as_deref() != Some("system"))
            .filter_map(|(a, _)| a)
            .collect();
        let want: BTreeSet<String> = exp["authors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        if authors != want {
            failures.push(format!("{name}: authors {authors:?}, expected {want:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} corpus file(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
