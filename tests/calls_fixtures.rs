//! The call-log importer on the project's own fixtures (fixtures/calls, fixtures/demo).

use crate::calls_common::*;
use crate::common::{first, first_has_note};
use omnitrail::import::calls::CallOptions;

fn gb() -> omnitrail::import::CommonOptions {
    common(chrono_tz::Europe::London, Some("GB"))
}

#[test]
fn the_demo_master_csv_is_eleven_calls_as_the_story_says() {
    let opts = CallOptions {
        business_numbers: vec!["+44 20 7946 0100".into()],
        ..Default::default()
    };
    let (report, calls, _dir) = import(&[fixture("demo/calls/Master.csv")], &opts, &gb());
    for c in &calls {
        eprintln!("{c:?}");
    }
    assert_eq!(counts(&report), (11, 11, 0, 0));
    assert_eq!(calls.len(), 11);
    assert_eq!(count_direction(&calls, "inbound"), 9);
    assert_eq!(count_direction(&calls, "outbound"), 1);
    assert_eq!(count_direction(&calls, "internal"), 1);
    assert_eq!(count_status(&calls, "answered"), 7);
    assert_eq!(count_status(&calls, "missed"), 3);
    assert_eq!(count_status(&calls, "busy"), 1);
    assert_eq!(calls[0].ts, "2026-03-16T11:20:05Z");
    assert_eq!(calls[10].ts, "2026-04-03T09:05:30Z");
    // C9 after the DST change: 10:12:44 BST
    let c9 = calls.iter().find(|c| c.source_ref == "1774861964.19").unwrap();
    assert_eq!(c9.ts, "2026-03-30T09:12:44Z");
    assert_eq!(c9.agent.as_deref(), Some("SIP/202"));
    assert_eq!(c9.handle.as_deref(), Some("+447700900123"));
    // talk time of the answered customer calls
    let talk: Vec<i64> = calls
        .iter()
        .filter(|c| c.status.as_deref() == Some("answered") && c.direction != "internal")
        .map(|c| c.duration.unwrap())
        .collect();
    assert_eq!(talk, vec![223, 130, 299, 90, 175, 145]);
    // C1: ring group, Tom answers; the other leg is noted
    assert_eq!(calls[0].agent.as_deref(), Some("SIP/202"));
    assert!(calls[0].legs.as_deref().unwrap().contains("SIP/201 (no answer)"));
    // C3: queue ANSWERED with no dstchannel is missed
    let c3 = calls.iter().find(|c| c.source_ref == "1774025403.7").unwrap();
    assert_eq!((c3.status.as_deref(), c3.agent.as_deref()), (Some("missed"), None));
    // C4: Priya's call-back
    let c4 = calls.iter().find(|c| c.direction == "outbound").unwrap();
    assert_eq!(c4.handle.as_deref(), Some("+447700900789"));
    assert_eq!(c4.agent.as_deref(), Some("SIP/201"));
    assert_eq!(c4.name, None);
    // C5 internal: no customer
    let c5 = calls.iter().find(|c| c.direction == "internal").unwrap();
    assert_eq!((c5.handle.as_deref(), c5.agent.as_deref()), (None, Some("SIP/201")));
    let customers: std::collections::BTreeSet<_> = calls.iter().filter_map(|c| c.handle.clone()).collect();
    assert_eq!(customers.len(), 7);
}

fn with_business() -> CallOptions {
    CallOptions {
        business_numbers: vec!["020 7946 0100".into()],
        ..Default::default()
    }
}

fn find<'a>(calls: &'a [Call], source_ref: &str) -> &'a Call {
    calls
        .iter()
        .find(|c| c.source_ref == source_ref)
        .unwrap_or_else(|| panic!("no call {source_ref}"))
}

fn import_keep(
    path: &str,
    opts: &CallOptions,
) -> (
    omnitrail::import::ImportReport,
    tempfile::TempDir,
    omnitrail::workspace::Workspace,
) {
    let dir = tempfile::tempdir().unwrap();
    let mut ws = omnitrail::workspace::Workspace::open(dir.path()).unwrap();
    let report = omnitrail::import::calls::import_calls(
        &mut ws,
        &[fixture(path)],
        opts,
        &gb(),
        &omnitrail::import::pipeline::NoProgress,
    )
    .unwrap();
    (report, dir, ws)
}

fn rejects(dir: &tempfile::TempDir, ws: &omnitrail::workspace::Workspace) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(
        dir.path()
            .join(ws.manifest().unwrap().sources[0].rejects.as_ref().unwrap()),
    )
    .unwrap();
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn the_demo_without_business_numbers_infers_the_main_line() {
    let (report, calls, _dir) = import(&[fixture("demo/calls/Master.csv")], &CallOptions::default(), &gb());
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("inferred") && n.contains("+442079460100")),
        "{:?}",
        report.notes
    );
    assert_eq!(count_direction(&calls, "inbound"), 9);
    assert_eq!(count_direction(&calls, "outbound"), 1);
    assert_eq!(count_direction(&calls, "internal"), 1);
}

#[test]
fn ring_groups_queues_and_local_channels_are_grouped_by_linkedid() {
    let (report, calls, _dir) = import(
        &[fixture("calls/asterisk_21col_ringgroup_queue_local.csv")],
        &with_business(),
        &gb(),
    );
    assert_eq!(counts(&report), (6, 6, 0, 0));
    assert!(
        first(&report)
            .notes
            .iter()
            .any(|n| n.contains("10 row(s) read: 6 call(s)")),
        "{:?}",
        first(&report).notes
    );
    // ring group: legs not adjacent in the file, Tom answered
    let ring = find(&calls, "1773651600.1");
    assert_eq!(
        (ring.status.as_deref(), ring.agent.as_deref(), ring.duration),
        (Some("answered"), Some("SIP/202"), Some(120))
    );
    // queue through Local channels: the agent is the real device behind the Local channel
    let queue = find(&calls, "1773651660.4");
    assert_eq!(
        (queue.status.as_deref(), queue.agent.as_deref(), queue.duration),
        (Some("answered"), Some("SIP/202"), Some(198))
    );
    assert_eq!(queue.name.as_deref(), Some("Bob Smith"));
    assert_eq!(queue.direction, "inbound");
    assert!(queue.legs.as_deref().unwrap().starts_with("4 legs"));
    let abandoned = find(&calls, "1773652200.9");
    assert_eq!(
        (abandoned.status.as_deref(), abandoned.agent.as_deref()),
        (Some("missed"), None)
    );
    assert_eq!(find(&calls, "1773652800.10").status.as_deref(), Some("voicemail"));
    let out = find(&calls, "1773653400.11");
    assert_eq!(
        (out.direction.as_str(), out.status.as_deref(), out.agent.as_deref()),
        ("outbound", Some("missed"), Some("SIP/202"))
    );
    assert_eq!(out.handle.as_deref(), Some("+447700900555"));
    let internal = find(&calls, "1773654000.13");
    assert_eq!(
        (
            internal.direction.as_str(),
            internal.status.as_deref(),
            internal.handle.as_deref()
        ),
        ("internal", Some("busy"), None)
    );
}

#[test]
fn withheld_callers_are_kept_without_a_handle() {
    let (report, calls, _dir) = import(&[fixture("calls/asterisk_withheld.csv")], &with_business(), &gb());
    assert_eq!(counts(&report), (3, 3, 0, 0));
    assert_eq!(count_direction(&calls, "inbound"), 3);
    assert_eq!(
        (calls[0].author.as_deref(), calls[0].handle.as_deref()),
        (Some("anonymous"), None)
    );
    assert_eq!(calls[0].name.as_deref(), Some("Anonymous"));
    assert_eq!((calls[1].author.as_deref(), calls[1].handle.as_deref()), (None, None));
    assert_eq!(calls[1].agent.as_deref(), Some("SIP/201"));
    assert_eq!(calls[2].name.as_deref(), Some("Jane Doe"));
    assert_eq!(calls[2].handle.as_deref(), Some("+447700900444"));
    assert!(
        first(&report)
            .notes
            .iter()
            .any(|n| n.contains("2 call(s) from withheld")),
        "{:?}",
        first(&report).notes
    );
}

#[test]
fn bad_rows_are_rejected_with_line_and_reason() {
    let (report, dir, ws) = import_keep("calls/asterisk_bad_rows.csv", &with_business());
    assert_eq!(counts(&report), (6, 2, 4, 0));
    let got: Vec<(u64, String)> = rejects(&dir, &ws)
        .iter()
        .map(|v| (v["line"].as_u64().unwrap(), v["reason"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), [2, 3, 4, 5]);
    assert!(got[0].1.contains("start"), "{got:?}");
    assert!(got[1].1.contains("found 10"), "{got:?}");
    assert!(got[2].1.contains("MAYBE"), "{got:?}");
    assert!(got[3].1.contains("billsec"), "{got:?}");
}

#[test]
fn freepbx_export_reads_did_voicemail_outbound_and_internal() {
    let (report, calls, _dir) = import(&[fixture("calls/freepbx_cdr_export.csv")], &with_business(), &gb());
    assert_eq!(counts(&report), (4, 4, 0, 0));
    assert_eq!(first(&report).format.as_deref(), Some("calls/cdr-csv"));
    let ring = find(&calls, "1773918000.1");
    assert_eq!(
        (ring.status.as_deref(), ring.agent.as_deref(), ring.duration),
        (Some("answered"), Some("SIP/202"), Some(121))
    );
    assert_eq!(
        (ring.direction.as_str(), ring.name.as_deref()),
        ("inbound", Some("Ling Wu"))
    );
    let vm = find(&calls, "1773919800.4");
    assert_eq!(
        (vm.direction.as_str(), vm.status.as_deref()),
        ("inbound", Some("voicemail"))
    );
    let out = find(&calls, "1773921600.5");
    assert_eq!(
        (out.direction.as_str(), out.handle.as_deref(), out.agent.as_deref()),
        ("outbound", Some("+447700900777"), Some("SIP/201"))
    );
    assert_eq!(find(&calls, "1773923400.7").direction, "internal");
}

#[test]
fn twilio_parent_and_child_legs_are_one_call() {
    let (report, calls, _dir) = import(&[fixture("calls/twilio_call_log.csv")], &with_business(), &gb());
    assert_eq!(counts(&report), (5, 5, 0, 0));
    let answered = find(&calls, "CA00000000000000000000000000000003");
    assert_eq!(answered.ts, "2026-03-20T10:00:00Z");
    assert_eq!(
        (answered.status.as_deref(), answered.agent.as_deref(), answered.duration),
        (Some("answered"), Some("client:alice"), Some(95))
    );
    assert_eq!(
        (answered.direction.as_str(), answered.handle.as_deref()),
        ("inbound", Some("+447700900777"))
    );
    assert_eq!(answered.name.as_deref(), Some("MORGAN R"));
    // the IVR answered the parent, but the agent's leg was not answered
    assert_eq!(
        find(&calls, "CA00000000000000000000000000000002").status.as_deref(),
        Some("missed")
    );
    let busy = find(&calls, "CA00000000000000000000000000000001");
    assert_eq!(
        (busy.direction.as_str(), busy.status.as_deref(), busy.handle.as_deref()),
        ("outbound", Some("busy"), Some("+447700900999"))
    );
    assert_eq!(
        find(&calls, "CA00000000000000000000000000000000").status.as_deref(),
        Some("voicemail")
    );
    let anon = find(&calls, "CA00000000000000000000000000000004");
    assert_eq!((anon.status.as_deref(), anon.handle.as_deref()), (Some("missed"), None));
}

#[test]
fn generic_csv_with_a_column_map() {
    let opts = CallOptions {
        map: Some(
            omnitrail::import::calls::generic::ColumnMap::parse(
                "ts=Start,from=Caller,to=Callee,duration=Seconds,status=Result,agent=Extension",
            )
            .unwrap(),
        ),
        ..with_business()
    };
    let (report, calls, _dir) = import(&[fixture("calls/generic_mapped.csv")], &opts, &gb());
    assert_eq!(counts(&report), (7, 6, 1, 0));
    let s: Vec<(&str, Option<&str>, Option<&str>)> = calls
        .iter()
        .map(|c| (c.direction.as_str(), c.status.as_deref(), c.agent.as_deref()))
        .collect();
    assert_eq!(
        s,
        vec![
            ("inbound", Some("answered"), Some("201")),
            ("inbound", Some("missed"), None),
            ("outbound", Some("answered"), Some("201")),
            ("inbound", Some("voicemail"), None),
            ("inbound", Some("busy"), None),
            ("inbound", None, None),
        ]
    );
    assert_eq!(calls[0].duration, Some(65));
    assert!(first_has_note(&report, "status word"));
}

#[test]
fn spreadsheet_semicolons_and_mangled_numbers_are_detected_and_rejected() {
    let (report, dir, ws) = import_keep("calls/excel_semicolon.csv", &with_business());
    assert_eq!(counts(&report), (4, 1, 3, 0));
    assert!(first_has_note(&report, "re-saved by a spreadsheet"));
    let reasons: Vec<String> = rejects(&dir, &ws)
        .iter()
        .map(|v| v["reason"].as_str().unwrap().to_string())
        .collect();
    assert!(reasons[0].contains("leading zero"), "{reasons:?}");
    assert!(reasons[1].contains("scientific notation"), "{reasons:?}");
    assert!(reasons[2].contains("leading zero"), "{reasons:?}");
    let calls = calls(&ws);
    assert_eq!(calls[0].ts, "2026-03-20T09:00:00Z");
    assert_eq!(calls[0].handle.as_deref(), Some("+447700900123"));
}

#[test]
fn utf16_spreadsheet_export_is_decoded() {
    let (report, calls, _dir) = import(&[fixture("calls/excel_utf16.csv")], &with_business(), &gb());
    assert_eq!(counts(&report), (2, 1, 1, 0));
    assert!(first_has_note(&report, "UTF-16"));
    assert_eq!(calls[0].handle.as_deref(), Some("+447700900123"));
}

#[test]
fn a_windows_1252_export_is_decoded_and_said_not_read_as_broken_utf8() {
    let (report, calls, _dir) = import(&[fixture("calls/master_windows1252.csv")], &with_business(), &gb());
    assert_eq!(counts(&report), (1, 1, 0, 0));
    assert!(first_has_note(&report, "Windows-1252"));
    assert_eq!(calls[0].name.as_deref(), Some("Jérôme Dupont"));
}

#[test]
fn a_row_with_a_huge_field_is_rejected_not_imported() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("cdr.csv");
    let mut text = String::from("calldate,src,dst,duration,billsec,disposition,uniqueid\n");
    text.push_str("2026-03-20 09:00:00,07700900123,02079460100,60,50,ANSWERED,1.1\n");
    text.push_str(&format!(
        "2026-03-20 09:05:00,{},02079460100,60,50,ANSWERED,1.2\n",
        "9".repeat(3 << 20)
    ));
    text.push_str("2026-03-20 09:10:00,07700900124,02079460100,60,50,ANSWERED,1.3\n");
    std::fs::write(&csv, text).unwrap();
    let (report, calls, _ws) = import(&[csv], &with_business(), &gb());
    assert_eq!(counts(&report), (3, 2, 1, 0));
    assert_eq!(calls.len(), 2);
}

#[test]
fn android_backup_types_withheld_and_overlapping_entries() {
    let (report, calls, _dir) = import(
        &[fixture("calls/android_sms_backup_restore.xml")],
        &CallOptions::default(),
        &gb(),
    );
    assert_eq!(counts(&report), (8, 7, 0, 1));
    // The directions note counts the 7 imported calls, not the duplicate.
    let directions = first(&report)
        .notes
        .iter()
        .find(|n| n.starts_with("directions:"))
        .unwrap();
    let counted: u64 = directions
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse::<u64>().ok())
        .sum();
    assert_eq!(counted, 7, "{directions}");
    assert_eq!(calls[0].handle.as_deref(), Some("+447700900123"));
    assert_eq!(calls[0].name.as_deref(), Some("Sarah Jones"));
    let withheld = find(&calls, "call:2");
    assert_eq!(
        (
            withheld.handle.as_deref(),
            withheld.status.as_deref(),
            withheld.name.as_deref()
        ),
        (None, Some("missed"), None)
    );
    assert_eq!(find(&calls, "call:3").status.as_deref(), Some("voicemail"));
    assert_eq!(find(&calls, "call:4").status.as_deref(), Some("missed"));
    assert_eq!(find(&calls, "call:5").status.as_deref(), Some("missed"));
    assert_eq!(find(&calls, "call:6").status.as_deref(), Some("answered"));
    assert_eq!(find(&calls, "call:7").status, None);
}

#[test]
fn a_truncated_android_backup_keeps_what_is_whole() {
    let (report, calls, _dir) = import(
        &[fixture("calls/android_truncated.xml")],
        &CallOptions::default(),
        &gb(),
    );
    assert_eq!(counts(&report), (3, 2, 1, 0));
    assert_eq!(calls[1].direction, "outbound");
    assert_eq!(calls[1].status.as_deref(), Some("missed"));
}

#[test]
fn empty_files_contacts_and_unknown_csvs() {
    let (report, calls, _dir) = import(
        &[fixture("calls/empty.csv"), fixture("calls/contacts_lookalike.csv")],
        &CallOptions::default(),
        &gb(),
    );
    assert!(calls.is_empty());
    assert_eq!(first(&report).outcome, "skipped");
    assert_eq!(report.sources.to_vec().unwrap()[1].outcome, "failed");
    assert!(!omnitrail::import::calls::sniff(
        &std::fs::read(fixture("calls/contacts_lookalike.csv")).unwrap()
    ));
    for f in [
        "calls/asterisk_21col_ringgroup_queue_local.csv",
        "calls/freepbx_cdr_export.csv",
        "calls/twilio_call_log.csv",
        "calls/excel_utf16.csv",
        "calls/excel_semicolon.csv",
        "calls/android_sms_backup_restore.xml",
        "calls/android_utf16.xml",
        "demo/calls/Master.csv",
    ] {
        assert!(
            omnitrail::import::calls::sniff(&std::fs::read(fixture(f)).unwrap()),
            "{f}"
        );
    }
}

#[test]
fn a_second_overlapping_file_adds_only_new_calls() {
    let dir = tempfile::tempdir().unwrap();
    let mut ws = omnitrail::workspace::Workspace::open(&dir.path().join("ws")).unwrap();
    let base = std::fs::read_to_string(fixture("demo/calls/Master.csv")).unwrap();
    let lines: Vec<&str> = base.lines().collect();
    let a = dir.path().join("a.csv");
    let b = dir.path().join("b.csv");
    std::fs::write(&a, lines[..9].join("\n") + "\n").unwrap();
    std::fs::write(&b, lines[5..].join("\n") + "\n").unwrap();
    let report = omnitrail::import::calls::import_calls(
        &mut ws,
        &[a, b],
        &with_business(),
        &gb(),
        &omnitrail::import::pipeline::NoProgress,
    )
    .unwrap();
    assert_eq!(calls(&ws).len(), 11);
    // rows 6-9 are calls C4, C5 and C6 (two legs): in both files
    assert_eq!(report.sources.to_vec().unwrap()[1].counts.duplicates, 3, "{report:#?}");
}

fn omnitrail_cli(ws: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_omnitrail"))
        .arg("--workspace")
        .arg(ws)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn cli_imports_calls_as_json_and_a_reimport_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let demo = fixture("demo/calls/Master.csv");
    let args = [
        "--json",
        "import",
        "calls",
        demo.to_str().unwrap(),
        "--business-number",
        "+44 20 7946 0100",
        "--region",
        "GB",
        "--tz",
        "Europe/London",
    ];
    let out = omnitrail_cli(dir.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["sources"][0]["counts"]["imported"], 11);
    let again = omnitrail_cli(dir.path(), &args);
    let v: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(v["sources"][0]["outcome"], "already-imported");
    // detection without naming the format
    let dir2 = tempfile::tempdir().unwrap();
    let out = omnitrail_cli(
        dir2.path(),
        &[
            "--json",
            "import",
            demo.to_str().unwrap(),
            "--region",
            "GB",
            "--tz",
            "Europe/London",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["sources"][0]["format"], "calls/asterisk");
}

#[test]
fn cli_usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let demo = fixture("demo/calls/Master.csv");
    let d = demo.to_str().unwrap();
    for args in [
        &["import", "calls", d, "--dialect", "nokia"][..],
        &["import", "calls", d, "--dialect", "generic"],
        &["import", "calls", d, "--map", "ts=Start"],
        &["import", "calls", d, "--business-number", "not a number"],
        // Digits, but no number: found once the metadata is loaded, after hashing.
        &["import", "calls", d, "--business-number", "12"],
    ] {
        let out = omnitrail_cli(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("omnitrail: "), "{args:?}");
    }
    let status = omnitrail_cli(dir.path(), &["status", "--json"]);
    assert!(
        !String::from_utf8_lossy(&status.stdout).contains("Master.csv"),
        "nothing was imported"
    );
}

// Day/month order of a/b/yyyy dates: decided once per file, never per row.

fn with_order(order: &str) -> CallOptions {
    CallOptions {
        date_order: Some(omnitrail::import::whatsapp::dates::DateOrder::parse(order).unwrap()),
        ..with_business()
    }
}

fn times(calls: &[Call]) -> Vec<&str> {
    calls.iter().map(|c| c.ts.as_str()).collect()
}

fn reasons(dir: &tempfile::TempDir, ws: &omnitrail::workspace::Workspace) -> Vec<(u64, String)> {
    rejects(dir, ws)
        .iter()
        .map(|v| (v["line"].as_u64().unwrap(), v["reason"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn slashed_dates_are_read_day_first_when_a_first_field_is_over_twelve() {
    let (report, calls, _dir) = import(&[fixture("calls/dates_day_first.csv")], &with_business(), &gb());
    assert_eq!(counts(&report), (5, 5, 0, 0));
    assert_eq!(first(&report).format.as_deref(), Some("calls/cdr-csv"));
    // Europe/London is on BST from 29 March
    assert_eq!(
        times(&calls),
        [
            "2026-04-03T08:15:00Z",
            "2026-04-05T09:00:00Z",
            "2026-04-13T10:30:00Z",
            "2026-04-14T07:00:00Z",
            "2026-04-28T15:45:00Z"
        ]
    );
    let note = first(&report)
        .notes
        .iter()
        .find(|n| n.starts_with("dates read"))
        .unwrap_or_else(|| panic!("{:?}", first(&report).notes));
    assert!(
        note.contains("day-first")
            && note.contains("2 of 4")
            && note.contains("first field over 12")
            && note.contains("line 4"),
        "{note}"
    );
}

#[test]
fn slashed_dates_are_read_month_first_in_a_mapped_csv() {
    let opts = CallOptions {
        map: Some(
            omnitrail::import::calls::generic::ColumnMap::parse(
                "ts=Start,from=Caller,to=Callee,duration=Seconds,status=Result",
            )
            .unwrap(),
        ),
        ..with_business()
    };
    let (report, calls, _dir) = import(&[fixture("calls/dates_month_first.csv")], &opts, &gb());
    assert_eq!(counts(&report), (4, 4, 0, 0));
    assert_eq!(
        times(&calls),
        [
            "2026-04-03T08:15:00Z",
            "2026-04-04T11:00:00Z",
            "2026-04-05T13:00:00Z",
            "2026-04-17T10:30:00Z"
        ]
    );
    assert!(
        first(&report)
            .notes
            .iter()
            .any(|n| n.contains("month-first") && n.contains("second field over 12")),
        "{:?}",
        first(&report).notes
    );
}

#[test]
fn undecidable_slashed_dates_are_rejected_unless_date_order_is_given() {
    let (report, dir, ws) = import_keep("calls/dates_undecidable.csv", &with_business());
    assert_eq!(counts(&report), (5, 1, 4, 0));
    let got = reasons(&dir, &ws);
    assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), [2, 3, 5, 6]);
    for (line, why) in &got[..3] {
        assert!(
            why.contains("ambiguous") && why.contains("--date-order dmy or mdy"),
            "{line}: {why}"
        );
    }
    assert!(got[3].1.contains("two-digit year"), "{got:?}");
    let notes = &first(&report).notes;
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("3 row(s) rejected") && n.contains("--date-order")),
        "{notes:?}"
    );
    assert!(notes.iter().any(|n| n.contains("two-digit year")), "{notes:?}");

    let (report, calls, _dir) = import(&[fixture("calls/dates_undecidable.csv")], &with_order("dmy"), &gb());
    assert_eq!(counts(&report), (5, 5, 0, 0));
    assert_eq!(
        times(&calls),
        [
            "2026-04-03T08:15:00Z",
            "2026-04-03T14:00:00Z",
            "2026-04-05T09:00:00Z",
            "2026-04-06T10:00:00Z",
            "2026-08-07T11:00:00Z"
        ]
    );
    assert!(first(&report)
        .notes
        .iter()
        .any(|n| n.contains("day-first") && n.contains("--date-order dmy")));

    let (report, calls, _dir) = import(&[fixture("calls/dates_undecidable.csv")], &with_order("mdy"), &gb());
    assert_eq!(counts(&report), (5, 5, 0, 0));
    assert_eq!(
        times(&calls),
        [
            "2026-03-04T09:15:00Z",
            "2026-03-04T15:00:00Z",
            "2026-04-06T10:00:00Z",
            "2026-05-04T09:00:00Z",
            "2026-07-08T11:00:00Z"
        ]
    );
}

#[test]
fn dashed_dates_get_the_same_inference_as_slashed_ones() {
    // The same rows as dates_day_first.csv, written 03-04-2026.
    let (report, calls, _dir) = import(&[fixture("calls/dates_dashed_day_first.csv")], &with_business(), &gb());
    assert_eq!(counts(&report), (5, 5, 0, 0));
    let (_, slashed, _dir) = import(&[fixture("calls/dates_day_first.csv")], &with_business(), &gb());
    assert_eq!(times(&calls), times(&slashed));
    assert!(
        first(&report)
            .notes
            .iter()
            .any(|n| n.contains("day-first") && n.contains("2 of 4") && n.contains("line 4")),
        "{:?}",
        first(&report).notes
    );

    // 03-04 and 05-04 cannot be told; 04-04 reads the same either way.
    let (report, dir, ws) = import_keep("calls/dates_dashed_undecidable.csv", &with_business());
    assert_eq!(counts(&report), (3, 1, 2, 0));
    let got = reasons(&dir, &ws);
    assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), [2, 3]);
    assert!(got.iter().all(|(_, why)| why.contains("ambiguous")), "{got:?}");
    let (report, calls, _dir) = import(
        &[fixture("calls/dates_dashed_undecidable.csv")],
        &with_order("mdy"),
        &gb(),
    );
    assert_eq!(counts(&report), (3, 3, 0, 0));
    assert_eq!(
        times(&calls),
        ["2026-03-04T09:15:00Z", "2026-04-04T10:30:00Z", "2026-05-04T09:00:00Z"]
    );
}

#[test]
fn contradictory_dates_fail_the_file_naming_a_line_of_each_kind() {
    let (report, calls, _dir) = import(&[fixture("calls/dates_contradictory.csv")], &with_business(), &gb());
    assert!(calls.is_empty());
    let s = first(&report);
    assert_eq!(s.outcome, "failed");
    let err = s.error.as_deref().unwrap();
    assert!(err.contains("dates_contradictory.csv"), "{err}");
    assert!(err.contains("line 3") && err.contains("13/04/2026"), "{err}");
    assert!(err.contains("line 4") && err.contains("04/14/2026"), "{err}");
    assert!(err.contains("--date-order"), "{err}");

    // Forced, the rows that do not fit are rejected with the reason.
    let (report, dir, ws) = import_keep("calls/dates_contradictory.csv", &with_order("dmy"));
    assert_eq!(counts(&report), (4, 3, 1, 0));
    let got = reasons(&dir, &ws);
    assert_eq!(got[0].0, 4);
    assert!(
        got[0].1.contains("14 cannot be a month") && got[0].1.contains("--date-order dmy"),
        "{got:?}"
    );
    assert!(first(&report)
        .notes
        .iter()
        .any(|n| n.contains("1 date(s) do not fit it")));
    let (report, _, _) = import(&[fixture("calls/dates_contradictory.csv")], &with_order("ymd"), &gb());
    assert_eq!(counts(&report), (4, 0, 4, 0));
}

#[test]
fn twelve_hour_clock_with_am_pm_and_a_narrow_no_break_space() {
    let (report, calls, _dir) = import(&[fixture("calls/dates_twelve_hour.csv")], &with_business(), &gb());
    assert_eq!(counts(&report), (5, 5, 0, 0));
    assert_eq!(first(&report).format.as_deref(), Some("calls/twilio"));
    // Twilio writes UTC; 12 AM is midnight, 12 PM noon; seconds are optional
    assert_eq!(
        times(&calls),
        [
            "2026-04-17T14:05:33Z",
            "2026-04-18T00:10:00Z",
            "2026-04-18T09:00:00Z",
            "2026-04-18T12:30:00Z",
            "2026-04-19T23:59:59Z"
        ]
    );
    assert!(first_has_note(&report, "month-first"));
}

#[test]
fn cli_date_order_is_inferred_with_a_note_or_forced() {
    let f = |name: &str| fixture(&format!("calls/{name}")).to_str().unwrap().to_string();
    let base = [
        "--region",
        "GB",
        "--tz",
        "Europe/London",
        "--business-number",
        "020 7946 0100",
    ];
    let run = |args: &[&str]| {
        let dir = tempfile::tempdir().unwrap();
        let mut all: Vec<&str> = args.to_vec();
        all.extend(base);
        let out = omnitrail_cli(dir.path(), &all);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let day_first = f("dates_day_first.csv");
    let (code, _, err) = run(&["import", "calls", &day_first]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains(&format!("note: {day_first}: dates read day-first")) && err.contains("first field over 12"),
        "{err}"
    );

    let undecidable = f("dates_undecidable.csv");
    let (code, out, err) = run(&["--json", "import", "calls", &undecidable]);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["sources"][0]["counts"]["rejected"], 4);
    let (code, _, _) = run(&["import", "calls", &undecidable, "--strict"]);
    assert_eq!(code, Some(1));
    let (code, out, err) = run(&["--json", "import", "calls", &undecidable, "--date-order", "dmy"]);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["sources"][0]["counts"]["imported"], 5);
    // detected formats share one --date-order
    let (code, out, err) = run(&["--json", "import", &undecidable, "--date-order", "mdy"]);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["sources"][0]["counts"]["imported"], 5, "{v}");

    let contradictory = f("dates_contradictory.csv");
    let (code, _, err) = run(&["import", "calls", &contradictory]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains(&format!("error: {contradictory}: day/month order contradicts itself")) && err.contains("line 3"),
        "{err}"
    );
    for bad in ["myd", "dd/mm", ""] {
        let (code, _, _) = run(&["import", "calls", &day_first, "--date-order", bad]);
        assert_eq!(code, Some(2), "{bad}");
    }
}

#[test]
fn an_android_backup_saved_as_utf16_is_decoded_and_reads_as_the_original() {
    let (original, original_calls, _d1) = import(
        &[fixture("calls/android_sms_backup_restore.xml")],
        &with_business(),
        &gb(),
    );
    let (report, calls, _d2) = import(&[fixture("calls/android_utf16.xml")], &with_business(), &gb());
    assert!(counts(&report).0 > 0);
    assert_eq!(counts(&report), counts(&original));
    assert!(first_has_note(&report, "UTF-16"));
    let key = |c: &Call| (c.ts.clone(), c.direction.clone(), c.status.clone(), c.handle.clone());
    assert_eq!(
        calls.iter().map(key).collect::<Vec<_>>(),
        original_calls.iter().map(key).collect::<Vec<_>>()
    );
}
