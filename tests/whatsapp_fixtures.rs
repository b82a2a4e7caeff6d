//! Hand-made WhatsApp fixtures for the variants the corpus lacks (fixtures/whatsapp,
//! expectations in fixtures/whatsapp/EXPECTED.json), and bad inputs.

use crate::common::*;
use omnitrail::import::whatsapp::dates::DateOrder;
use omnitrail::import::whatsapp::WhatsAppOptions;
use omnitrail::workspace::Workspace;

fn check(name: &str, exp: &serde_json::Value, opts: &WhatsAppOptions, failures: &mut Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut ws = Workspace::open(dir.path()).unwrap();
    let report = import(&mut ws, &[fixture(&format!("whatsapp/{name}"))], opts, &utc()).unwrap();
    let src = &report.sources[0];
    if exp["expect"] == "reject-file" {
        match &src.error {
            Some(e) if src.outcome == "failed" && e.contains(name) => {}
            other => failures.push(format!(
                "{name}: expected the file to be refused with its name in the error, got {:?} {other:?}",
                src.outcome
            )),
        }
        if !ws.manifest().sources.is_empty() || std::fs::read_dir(dir.path().join("interactions")).unwrap().count() > 0
        {
            failures.push(format!("{name}: a refused file changed the workspace"));
        }
        return;
    }
    if let Some(e) = &src.error {
        failures.push(format!("{name}: {e}"));
        return;
    }
    let c = src.counts;
    // EXPECTED.json counts messages, system lines and call events separately.
    let messages = exp["messages"].as_u64().unwrap() + exp["system"].as_u64().unwrap() + exp["calls"].as_u64().unwrap();
    let rejected = exp.get("rejected").and_then(|v| v.as_u64()).unwrap_or(0);
    let duplicates = exp.get("duplicates").and_then(|v| v.as_u64()).unwrap_or(0);
    if (c.imported, c.rejected, c.duplicates) != (messages, rejected, duplicates)
        || c.read != c.imported + c.rejected + c.duplicates
    {
        failures.push(format!(
            "{name}: counts {c:?}, expected imported {messages}, rejected {rejected}, duplicates {duplicates}"
        ));
    }
    if messages == 0 {
        return;
    }
    check_records(name, exp, &ws, failures);
}

#[test]
fn every_fixture_matches_its_expectation() {
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("whatsapp/EXPECTED.json")).unwrap()).unwrap();
    let mut failures = Vec::new();
    for (name, exp) in expected.as_object().unwrap() {
        check(name, exp, &WhatsAppOptions::default(), &mut failures);
        if let Some(forced) = exp.get("with_date_order").and_then(|v| v.as_object()) {
            for (order, exp) in forced {
                let opts = WhatsAppOptions {
                    date_order: Some(DateOrder::parse(order).unwrap()),
                    ..Default::default()
                };
                check(name, exp, &opts, &mut failures);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} fixture check(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn reimporting_the_same_file_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut ws = Workspace::open(dir.path()).unwrap();
    let path = fixture("whatsapp/multiline_media_system.txt");
    import(
        &mut ws,
        std::slice::from_ref(&path),
        &WhatsAppOptions::default(),
        &utc(),
    )
    .unwrap();
    let manifest = std::fs::read(dir.path().join("manifest.json")).unwrap();
    let report = import(&mut ws, &[path], &WhatsAppOptions::default(), &utc()).unwrap();
    assert_eq!(report.sources[0].outcome, "already-imported");
    assert_eq!(std::fs::read(dir.path().join("manifest.json")).unwrap(), manifest);
}

#[test]
fn overlapping_exports_of_one_chat_count_duplicates() {
    // The same chat exported by Android (minutes) and iOS (seconds) overlaps by 3 messages.
    let dir = tempfile::tempdir().unwrap();
    let mut ws = Workspace::open(dir.path()).unwrap();
    let report = import(
        &mut ws,
        &[fixture("whatsapp/concatenated_two_phones.txt")],
        &WhatsAppOptions::default(),
        &utc(),
    )
    .unwrap();
    assert_eq!(report.sources[0].counts.duplicates, 3);
}

#[test]
fn rejected_lines_keep_file_line_offset_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut ws = Workspace::open(dir.path()).unwrap();
    import(
        &mut ws,
        &[fixture("whatsapp/invalid_utf8.txt")],
        &WhatsAppOptions::default(),
        &utc(),
    )
    .unwrap();
    let rel = ws.manifest().sources[0].rejects.clone().expect("a rejects file");
    let text = std::fs::read_to_string(dir.path().join(rel)).unwrap();
    let row: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(row["line"], 4);
    assert!(row["reason"].as_str().unwrap().contains("invalid UTF-8"), "{row}");
    assert!(row["file"].as_str().unwrap().ends_with("invalid_utf8.txt"));
    assert!(row["byte_offset"].as_u64().unwrap() > 0);
}

#[test]
fn an_undecidable_date_order_is_taken_from_a_sibling_in_the_same_layout() {
    let dir = tempfile::tempdir().unwrap();
    let chats = dir.path().join("chats");
    std::fs::create_dir(&chats).unwrap();
    std::fs::write(
        chats.join("WhatsApp Chat with Nina.txt"),
        "03/04/2021, 09:15 - Nina: hi\n03/04/2021, 09:20 - Shop: hello\n",
    )
    .unwrap();
    std::fs::write(
        chats.join("WhatsApp Chat with Owen.txt"),
        "20/04/2021, 10:00 - Owen: x\n21/04/2021, 10:05 - Shop: y\n",
    )
    .unwrap();
    let mut ws = Workspace::open(&dir.path().join("ws")).unwrap();
    let report = import(
        &mut ws,
        std::slice::from_ref(&chats),
        &WhatsAppOptions::default(),
        &utc(),
    )
    .unwrap();
    let nina = report.sources.iter().find(|s| s.path.contains("Nina")).unwrap();
    assert_eq!(nina.outcome, "imported", "{nina:?}");
    assert_eq!(nina.first_ts.as_deref(), Some("2021-04-03T09:15:00Z"));
    assert!(
        nina.notes
            .iter()
            .any(|n| n.contains("taken from") && n.contains("Owen")),
        "{:?}",
        nina.notes
    );

    // Alone, the same file is refused until told the order.
    let mut ws = Workspace::open(&dir.path().join("ws2")).unwrap();
    let report = import(
        &mut ws,
        &[chats.join("WhatsApp Chat with Nina.txt")],
        &WhatsAppOptions::default(),
        &utc(),
    )
    .unwrap();
    assert!(report.sources[0]
        .error
        .as_deref()
        .unwrap_or("")
        .contains("--date-order"));
}
