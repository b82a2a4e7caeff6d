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
    let src = first(&report);
    if exp["expect"] == "reject-file" {
        match &src.error {
            Some(e) if src.outcome == "failed" && e.contains(name) => {}
            other => failures.push(format!(
                "{name}: expected the file to be refused with its name in the error, got {:?} {other:?}",
                src.outcome
            )),
        }
        if !ws.manifest().unwrap().sources.is_empty()
            || std::fs::read_dir(dir.path().join("interactions")).unwrap().count() > 0
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
fn a_chat_saved_as_utf16_is_the_same_source_as_its_utf8_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut ws = Workspace::open(dir.path()).unwrap();
    let utf8 = fixture("whatsapp/multiline_media_system.txt");
    let utf16 = fixture("whatsapp/utf16le_bom_notepad.txt");
    let report = import(&mut ws, &[utf16], &WhatsAppOptions::default(), &utc()).unwrap();
    let notes = &first(&report).notes;
    assert!(
        notes.iter().any(|n| n.starts_with("UTF-16 text (little-endian")),
        "{notes:?}"
    );
    let report = import(&mut ws, &[utf8], &WhatsAppOptions::default(), &utc()).unwrap();
    assert_eq!(first(&report).outcome, "already-imported");
}

#[test]
fn utf16_without_a_byte_order_mark_is_refused_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("whatsapp/multiline_media_system.txt")).unwrap();
    let path = dir.path().join("WhatsApp Chat with Rosa.txt");
    std::fs::write(
        &path,
        text.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>(),
    )
    .unwrap();
    let mut ws = Workspace::open(&dir.path().join("ws")).unwrap();
    let report = import(&mut ws, &[path], &WhatsAppOptions::default(), &utc()).unwrap();
    let error = first(&report).error.clone().unwrap_or_default();
    assert!(
        error.contains("looks like UTF-16 text without a byte-order mark"),
        "{error}"
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
    assert_eq!(first(&report).outcome, "already-imported");
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
    assert_eq!(first(&report).counts.duplicates, 3);
}

#[test]
fn later_exports_of_a_chat_meet_its_earlier_messages_across_other_chats_and_imports() {
    let dir = tempfile::tempdir().unwrap();
    let chat = |folder: &str, title: &str, lines: &[&str]| {
        let folder = dir.path().join(folder);
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join(format!("WhatsApp Chat with {title}.txt"));
        std::fs::write(&path, lines.concat()).unwrap();
        path
    };
    let a = ["20/04/2021, 10:00 - Ana: order 1\n", "20/04/2021, 10:05 - Shop: sent\n"];
    let more = "21/04/2021, 09:00 - Ana: thanks\n";
    let b = ["20/04/2021, 10:00 - Ben: order 1\n", "20/04/2021, 10:05 - Shop: sent\n"];
    let a1 = chat("1", "Ana", &a);
    let b1 = chat("2", "Ben", &b);
    let a2 = chat("3", "Ana", &[a[0], a[1], more]);
    let opts = WhatsAppOptions {
        business_names: vec!["Shop".into()],
        ..Default::default()
    };
    // In one import, with another chat between the two exports of Ana's.
    let mut ws = Workspace::open(&dir.path().join("ws")).unwrap();
    let report = import(&mut ws, &[a1.clone(), b1.clone(), a2.clone()], &opts, &utc()).unwrap();
    let counts: Vec<_> = report
        .sources
        .to_vec()
        .unwrap()
        .into_iter()
        .map(|s| (s.counts.imported, s.counts.duplicates))
        .collect();
    assert_eq!(counts, [(2, 0), (2, 0), (1, 2)], "{:?}", report.sources);
    // In two imports: the stored keys of Ana's thread are met, Ben's same text is not.
    let mut ws = Workspace::open(&dir.path().join("ws2")).unwrap();
    import(&mut ws, &[a1, b1], &opts, &utc()).unwrap();
    let b2 = chat("4", "Ben", &[b[0], b[1], more]);
    let report = import(&mut ws, &[a2, b2], &opts, &utc()).unwrap();
    let counts: Vec<_> = report
        .sources
        .to_vec()
        .unwrap()
        .into_iter()
        .map(|s| (s.counts.imported, s.counts.duplicates))
        .collect();
    assert_eq!(counts, [(1, 2), (1, 2)], "{:?}", report.sources);
}

#[test]
fn business_sides_read_chat_by_chat_are_one_note_for_the_import_and_one_per_chat() {
    let dir = tempfile::tempdir().unwrap();
    let chats = dir.path().join("chats");
    std::fs::create_dir(&chats).unwrap();
    let pairs = [
        ("Ana", "Shop"),
        ("Ben", "Shop"),
        ("Cleo", "Shop"),
        ("Dan", "Shop"),
        ("Zed", "Yan"),
    ];
    for (customer, business) in pairs {
        std::fs::write(
            chats.join(format!("WhatsApp Chat with {customer}.txt")),
            format!("20/04/2021, 10:00 - {customer}: hi\n20/04/2021, 10:05 - {business}: hello\n"),
        )
        .unwrap();
    }
    let report = import_into(&dir.path().join("ws"), std::slice::from_ref(&chats));
    let about_sides: Vec<&String> = report.notes.iter().filter(|n| n.starts_with("business side")).collect();
    assert_eq!(about_sides.len(), 1, "{:?}", report.notes);
    assert!(about_sides[0].contains("inferred for 5 chats"), "{about_sides:?}");
    for (customer, business) in pairs {
        let chat = outcome_of(&report, customer);
        let side = format!(
            "business side: {business:?} (inferred: {business:?} is the other party of the chat titled {customer:?})"
        );
        assert!(chat.notes.contains(&side), "{:?}", chat.notes);
    }
}

/// The first line of the first source's rejects file.
fn first_reject(ws: &Workspace) -> serde_json::Value {
    let rel = ws.manifest().unwrap().sources[0]
        .rejects
        .clone()
        .expect("a rejects file");
    let text = std::fs::read_to_string(ws.root().join(rel)).unwrap();
    serde_json::from_str(text.lines().next().unwrap()).unwrap()
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
    let row = first_reject(&ws);
    assert_eq!(row["line"], 4);
    assert!(row["reason"].as_str().unwrap().contains("invalid UTF-8"), "{row}");
    assert!(row["file"].as_str().unwrap().ends_with("invalid_utf8.txt"));
    assert!(row["byte_offset"].as_u64().unwrap() > 0);
}

/// A message of more lines than WhatsApp allows in one (a file of one header and a
/// million lines) is not held whole: it is one reject, clipped, and the chat goes on.
#[test]
fn a_message_longer_than_1_mib_is_a_reject_and_the_next_one_is_imported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("WhatsApp Chat with Ana.txt");
    let mut text = String::from("13/03/2024, 10:00 - Ana: the start of a very long message\n");
    text.push_str(&"a line of a message that never ends, over and over\n".repeat(40_000));
    text.push_str("13/03/2024, 10:01 - Ana: and a short one\n");
    std::fs::write(&path, text).unwrap();
    let mut ws = Workspace::open(&dir.path().join("ws")).unwrap();
    let report = import(&mut ws, &[path], &WhatsAppOptions::default(), &utc()).unwrap();
    let c = first(&report).counts;
    assert_eq!((c.read, c.imported, c.rejected), (2, 1, 1));
    let row = first_reject(&ws);
    assert_eq!(row["line"], 1);
    assert!(
        row["reason"].as_str().unwrap().starts_with("message longer than 1 MiB"),
        "{row}"
    );
    let df = interactions(&ws, &["text"]);
    assert_eq!(strings(&df, "text"), [Some("and a short one".to_string())]);
}

/// More messages in one minute than are counted for their keys (only another tool writes
/// that many): every message is still imported, a repeat included, none lost as a duplicate.
#[test]
fn a_minute_of_more_messages_than_are_counted_loses_none() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("WhatsApp Chat with Ana.txt");
    let mut text = String::from("13/03/2024, 10:00 - Ana: the same words\n13/03/2024, 10:00 - Ana: the same words\n");
    for i in 0..70_000 {
        text.push_str(&format!("13/03/2024, 10:00 - Ana: message {i}\n"));
    }
    text.push_str("13/03/2024, 10:00 - Ana: the same words\n");
    std::fs::write(&path, text).unwrap();
    let mut ws = Workspace::open(&dir.path().join("ws")).unwrap();
    let report = import(&mut ws, &[path], &WhatsAppOptions::default(), &utc()).unwrap();
    let c = first(&report).counts;
    assert_eq!((c.read, c.imported, c.rejected, c.duplicates), (70_003, 70_003, 0, 0));
    let df = interactions(&ws, &["text", "dedup_key"]);
    let keys = strings(&df, "dedup_key");
    // The first two copies, counted together, have keys of their own.
    assert_ne!(keys[0], keys[1]);
}

/// A chat of more authors than the importer remembers (only another tool writes one) is
/// read as any other: every message keeps its own author's handle.
#[test]
fn a_chat_of_more_authors_than_are_remembered_keeps_each_message_s_author() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("forum.txt");
    let mut text = String::new();
    for i in 0..20_000 {
        text.push_str(&format!(
            "13/03/2024, 10:{:02} - Customer {i}: hello from {i}\n",
            i % 60
        ));
        if i % 10 == 0 {
            text.push_str(&format!("13/03/2024, 10:{:02} - Shop: hello {i}\n", i % 60));
        }
    }
    std::fs::write(&path, text).unwrap();
    let mut ws = Workspace::open(&dir.path().join("ws")).unwrap();
    let opts = WhatsAppOptions {
        business_names: vec!["Shop".into()],
        ..Default::default()
    };
    import(&mut ws, &[path], &opts, &utc()).unwrap();
    let df = interactions(&ws, &["direction", "customer_handle", "author_raw", "text"]);
    let (direction, handle, author, text) = (
        strings(&df, "direction"),
        strings(&df, "customer_handle"),
        strings(&df, "author_raw"),
        strings(&df, "text"),
    );
    let mut customers = std::collections::HashSet::new();
    for i in 0..df.height() {
        if direction[i].as_deref() == Some("inbound") {
            let author = author[i].clone().unwrap();
            assert_eq!(handle[i].as_ref(), Some(&author));
            assert_eq!(
                text[i].as_deref().unwrap().strip_prefix("hello from "),
                author.strip_prefix("Customer ")
            );
            customers.insert(author);
        } else {
            assert_eq!(
                (direction[i].as_deref(), author[i].as_deref()),
                (Some("outbound"), Some("Shop"))
            );
        }
    }
    assert_eq!(customers.len(), 20_000);
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
    let nina_in_folder = |workspace: &str| {
        let report = import_into(&dir.path().join(workspace), std::slice::from_ref(&chats));
        report
            .sources
            .to_vec()
            .unwrap()
            .into_iter()
            .find(|s| s.path.contains("Nina"))
            .unwrap()
    };
    let nina = nina_in_folder("ws");
    assert_eq!(nina.outcome, "imported", "{nina:?}");
    assert_eq!(nina.first_ts.as_deref(), Some("2021-04-03T09:15:00Z"));
    assert!(
        nina.notes
            .iter()
            .any(|n| n.contains("taken from") && n.contains("Owen")),
        "{:?}",
        nina.notes
    );

    // A sibling in the same layout proving the other order: they disagree, none is lent.
    std::fs::write(
        chats.join("WhatsApp Chat with Pat.txt"),
        "04/20/2021, 10:00 - Pat: x\n04/21/2021, 10:05 - Shop: y\n",
    )
    .unwrap();
    let nina = nina_in_folder("ws3");
    assert_eq!(nina.outcome, "failed", "{nina:?}");
    std::fs::remove_file(chats.join("WhatsApp Chat with Pat.txt")).unwrap();

    // Alone, the same file is refused until told the order.
    let report = import_into(&dir.path().join("ws2"), &[chats.join("WhatsApp Chat with Nina.txt")]);
    assert!(first(&report).error.as_deref().unwrap_or("").contains("--date-order"));
}

/// A chat that exercises what batches built on several threads must agree on with one
/// thread: identical messages repeated within a minute (their dedup keys count them), a
/// minute that comes back after others, a minute too long for one batch, impossible times and invalid UTF-8 (rejected, so
/// they take no part in the counting), both DST changes, orphan lines, multi-line messages.
/// Writes the first `messages` messages of the sequence; returns how many it wrote.
fn tricky_chat(path: &std::path::Path, messages: u64) -> u64 {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    out.write_all(b"exported by a tool\nsecond line before any header\n")
        .unwrap();
    let start = chrono::NaiveDate::from_ymd_opt(2021, 3, 27)
        .unwrap()
        .and_hms_opt(23, 0, 0)
        .unwrap();
    let mut minute = 0i64;
    let total = messages;
    let mut messages = 0u64;
    // Groups of four messages in one minute: three identical ones, then another.
    for i in 0..total {
        let group = i / 4;
        // 34 000 messages in one minute: batches must be cut inside it and hand the
        // counting on.
        if i % 4 == 0 && !(2_000..36_000).contains(&i) {
            minute += [1, 1, 2, -3, 1][(group % 5) as usize];
        }
        if i == 36_000 {
            // Into the repeated hour of 31 October 2021 in London.
            minute = (chrono::NaiveDate::from_ymd_opt(2021, 10, 31)
                .unwrap()
                .and_hms_opt(0, 30, 0)
                .unwrap()
                - start)
                .num_minutes();
        }
        let ts = start + chrono::Duration::minutes(minute.max(0));
        let last = i % 4 == 3;
        let author = if last && group % 2 == 0 {
            "Bloom & Stem"
        } else {
            "+44 7700 900123"
        };
        let date = if last && group % 250 == 7 {
            ts.format("%d/%m/%Y, 25:%M").to_string()
        } else {
            ts.format("%d/%m/%Y, %H:%M").to_string()
        };
        let text = match (last, group % 3) {
            (false, _) => "ok".to_string(),
            (true, 0) => format!("order BS-{} please call me on 07700 900{:03}", 10_000 + i, i % 1000),
            (true, 1) => format!("line one {i}\nline two"),
            (true, _) => "<Media omitted>".to_string(),
        };
        write!(out, "{date} - {author}: {text}").unwrap();
        if last && group % 250 == 100 {
            out.write_all(b"\ncontinued \xff\xfe bytes").unwrap();
        }
        out.write_all(b"\n").unwrap();
        messages += 1;
    }
    out.flush().unwrap();
    messages
}

#[test]
fn a_chat_built_on_several_threads_gives_what_one_thread_gives() {
    // Two exports of one chat, the later one longer: the second's first 30 000 messages are
    // duplicates of the first's (dedup keys passed from one source to the next).
    let dir = tempfile::tempdir().unwrap();
    let (early, late) = (dir.path().join("early"), dir.path().join("late"));
    std::fs::create_dir_all(&early).unwrap();
    std::fs::create_dir_all(&late).unwrap();
    let chats = [
        early.join("WhatsApp Chat with Sarah.txt"),
        late.join("WhatsApp Chat with Sarah.txt"),
    ];
    assert_eq!(tricky_chat(&chats[0], 30_000), 30_000);
    assert_eq!(tricky_chat(&chats[1], 40_000), 40_000);
    let common = omnitrail::import::CommonOptions {
        tz: chrono_tz::Europe::London,
        ..utc()
    };
    let import_with = |workers: usize| {
        let root = dir.path().join(format!("ws-{workers}"));
        let mut ws = Workspace::open(&root).unwrap();
        let opts = WhatsAppOptions {
            business_names: vec!["Bloom & Stem".into()],
            workers: Some(workers),
            ..Default::default()
        };
        let report = import(&mut ws, &chats, &opts, &common).unwrap();
        let mut files: Vec<String> = ws
            .manifest()
            .unwrap()
            .sources
            .iter()
            .filter_map(|s| s.rejects.clone())
            .collect();
        files.dedup();
        let rejects: String = files
            .iter()
            .map(|f| std::fs::read_to_string(root.join(f)).unwrap())
            .collect();
        let frame = interactions(&ws, omnitrail::workspace::INTERACTION_COLUMNS);
        let outcomes: Vec<_> = report
            .sources
            .to_vec()
            .unwrap()
            .into_iter()
            .map(|s| (s.counts, s.notes.clone()))
            .collect();
        (outcomes, rejects, frame)
    };
    let (outcomes, rejects, frame) = import_with(1);
    let (early, late) = (outcomes[0].0, outcomes[1].0);
    assert_eq!((early.read, late.read), (30_002, 40_002));
    assert_eq!(early.rejected, 2 + 30 + 30, "{early:?}");
    // (a few more: minutes that come back just after the end of the early export)
    assert!(
        late.duplicates >= early.imported && late.duplicates < early.imported + 20,
        "{late:?}"
    );
    assert!(late.imported > 9_000, "{late:?}");
    let notes = &outcomes[1].1;
    assert!(notes.iter().any(|n| n.contains("repeated hour")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("skipped hour")), "{notes:?}");
    for workers in [2, 3] {
        let (o, r, f) = import_with(workers);
        assert_eq!(o, outcomes, "{workers} workers");
        assert_eq!(r, rejects, "{workers} workers");
        assert!(f.equals_missing(&frame), "{workers} workers: records differ");
    }
}

/// Batches are cut by their text as well as by their count: a chat of long messages (24 of
/// 600 KB, three batches' worth of text) gives the same records on one thread and on two.
#[test]
fn a_chat_of_long_messages_is_cut_into_batches_by_its_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("WhatsApp Chat with Sarah.txt");
    let mut text = String::new();
    for i in 0..24 {
        let words = format!("order BS-{i} ").repeat(50_000);
        text.push_str(&format!("{:02}/03/2024, 10:{i:02} - Sarah: {words}\n", 13 + i % 3));
    }
    std::fs::write(&path, text).unwrap();
    let frame = |workers: usize| {
        let mut ws = Workspace::open(&dir.path().join(format!("ws-{workers}"))).unwrap();
        let opts = WhatsAppOptions {
            workers: Some(workers),
            ..Default::default()
        };
        let report = import(&mut ws, std::slice::from_ref(&path), &opts, &utc()).unwrap();
        assert_eq!(first(&report).counts.imported, 24);
        interactions(&ws, &["ts", "text", "seq", "dedup_key", "interaction_id"])
    };
    assert!(frame(1).equals_missing(&frame(2)));
}
