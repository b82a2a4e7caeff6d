//! The call-log importer on every file in ../shared/corpus/calls: exact call counts after
//! leg grouping, statuses, directions and first/last timestamps.

use crate::calls_common::*;
use crate::common::first;
use omnitrail::import::calls::CallOptions;

fn run(
    file: &str,
    tz: chrono_tz::Tz,
    region: Option<&str>,
) -> (omnitrail::import::ImportReport, Vec<Call>, tempfile::TempDir) {
    let out = import(&[corpus(file)], &CallOptions::default(), &common(tz, region));
    for c in &out.1 {
        eprintln!("{c:?}");
    }
    eprintln!("{:#?}", out.0);
    out
}

#[test]
fn cdrlib_good_is_five_legs_of_one_call_that_no_person_answered() {
    let (report, calls, _d) = run("asterisk-testsuite--cdrlib-good.Master.csv", chrono_tz::UTC, None);
    // All five rows share uniqueid 1231977075.0: one call. ANSWERED rows have no
    // dstchannel (the Hangup app answered), so no person answered.
    assert_eq!(counts(&report), (1, 1, 0, 0));
    assert_eq!(calls.len(), 1);
    let c = &calls[0];
    assert_eq!(c.source_ref, "1231977075.0");
    assert_eq!(c.ts, "2009-01-14T23:51:15Z");
    assert_eq!(c.status.as_deref(), Some("missed"));
    assert_eq!(c.direction, "internal");
    assert_eq!(c.handle, None);
    assert_eq!(c.duration, Some(0));
    assert!(c.legs.as_deref().unwrap().starts_with("5 legs"));
    assert!(first(&report)
        .notes
        .iter()
        .any(|n| n.contains("5 row(s) read: 1 call(s)")));
}

#[test]
fn cdrlib_buggy_truncated_row_is_rejected_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut ws = omnitrail::workspace::Workspace::open(dir.path()).unwrap();
    let report = omnitrail::import::calls::import_calls(
        &mut ws,
        &[corpus("asterisk-testsuite--cdrlib-buggy.Master.csv")],
        &CallOptions::default(),
        &common(chrono_tz::UTC, None),
        &omnitrail::import::pipeline::NoProgress,
    )
    .unwrap();
    assert_eq!(counts(&report), (1, 0, 1, 0));
    let rejects = std::fs::read_to_string(
        dir.path()
            .join(ws.manifest().unwrap().sources[0].rejects.as_ref().unwrap()),
    )
    .unwrap();
    assert!(rejects.contains("\"line\":1"), "{rejects}");
    assert!(rejects.contains("cut off"), "{rejects}");
}

#[test]
fn selftest_console_calls_are_two_internal_calls_answered_by_the_dialplan_only() {
    let (report, calls, _d) = run("asterisk-testsuite--selftest.Master.csv", chrono_tz::UTC, None);
    assert_eq!(counts(&report), (2, 2, 0, 0));
    assert_eq!(
        calls.iter().map(|c| c.ts.as_str()).collect::<Vec<_>>(),
        ["2010-04-02T00:26:32Z", "2010-04-02T00:34:02Z"]
    );
    assert!(calls
        .iter()
        .all(|c| c.direction == "internal" && c.status.as_deref() == Some("missed") && c.handle.is_none()));
}

#[test]
fn asterisk_times_are_read_in_the_given_zone() {
    let (_, calls, _d) = run(
        "asterisk-testsuite--selftest.Master.csv",
        chrono_tz::Europe::Berlin,
        None,
    );
    assert_eq!(calls[0].ts, "2010-04-01T22:26:32Z");
}

#[test]
fn cdrstats_switch_export_is_five_inbound_answered_calls() {
    let (report, calls, _d) = run("cdrstats--CDRImport-2015-10-26.csv", chrono_tz::UTC, Some("ES"));
    assert_eq!(counts(&report), (5, 5, 0, 0));
    assert_eq!(count_direction(&calls, "inbound"), 5);
    assert_eq!(count_status(&calls, "answered"), 5);
    assert_eq!(calls.first().unwrap().ts, "2015-10-21T12:13:10Z");
    assert_eq!(calls.last().unwrap().ts, "2015-10-21T12:53:16Z");
    let mut talk: Vec<i64> = calls.iter().map(|c| c.duration.unwrap()).collect();
    talk.sort();
    assert_eq!(talk, vec![5, 10, 11, 34, 50]);
    assert_eq!(calls[0].handle.as_deref(), Some("+34904151440"));
    assert_eq!(calls[0].source_ref, "96aa82fe-7bd1-11e5-a230-5c514f6a0f72");
}

#[test]
fn cel_event_logs_are_refused_with_the_reason() {
    for f in [
        "asterisk-testsuite--CELMaster1.csv",
        "asterisk-testsuite--CELMaster2.csv",
    ] {
        let (report, calls, _d) = run(f, chrono_tz::UTC, None);
        assert!(calls.is_empty());
        assert_eq!(first(&report).outcome, "failed");
        assert!(first(&report).error.as_deref().unwrap().contains("CEL"));
    }
}

#[test]
fn memacs_old_android_backup_is_eight_calls() {
    let (report, calls, _d) = run("memacs--calls.xml", chrono_tz::UTC, Some("AT"));
    assert_eq!(counts(&report), (8, 8, 0, 0));
    assert_eq!(count_direction(&calls, "inbound"), 5);
    assert_eq!(count_direction(&calls, "outbound"), 3);
    assert_eq!(count_status(&calls, "answered"), 6);
    assert_eq!(count_status(&calls, "missed"), 2);
    assert_eq!(calls.first().unwrap().ts, "2011-08-04T14:36:02Z");
    assert_eq!(calls.last().unwrap().ts, "2011-08-05T17:05:06Z");
    let withheld = calls.iter().find(|c| c.author.as_deref() == Some("-1")).unwrap();
    assert_eq!((withheld.handle.as_deref(), withheld.duration), (None, Some(382)));
    let national = calls.iter().find(|c| c.source_ref == "call:2").unwrap();
    assert_eq!(
        (national.direction.as_str(), national.handle.as_deref()),
        ("outbound", Some("+436612341234"))
    );
    let unanswered_out = calls.iter().find(|c| c.source_ref == "call:6").unwrap();
    assert_eq!(unanswered_out.status.as_deref(), Some("missed"));
}

#[test]
fn superbackup_logs_keep_names_and_durations() {
    let (report, calls, _d) = run("memacs--calls_superbackup.xml", chrono_tz::UTC, Some("DE"));
    assert_eq!(counts(&report), (2, 2, 0, 0));
    assert_eq!(calls[0].ts, "2018-09-17T17:24:42Z");
    assert_eq!(calls[1].ts, "2018-09-17T19:58:22Z");
    assert_eq!(calls[1].name.as_deref(), Some("TestPerson1"));
    assert_eq!(calls[1].duration, Some(264));
    assert!(calls
        .iter()
        .all(|c| c.direction == "inbound" && c.status.as_deref() == Some("answered")));
}

#[test]
fn sms_backup_restore_minimal_call() {
    let (report, calls, _d) = run("sbr-shruggie--minimal_calls.xml", chrono_tz::UTC, Some("US"));
    assert_eq!(counts(&report), (1, 1, 0, 0));
    let c = &calls[0];
    assert_eq!(c.ts, "2021-01-03T00:00:00Z");
    assert_eq!(
        (c.direction.as_str(), c.status.as_deref(), c.duration),
        ("inbound", Some("answered"), Some(125))
    );
    assert_eq!(c.name.as_deref(), Some("Alice Smith"));
    assert_eq!(c.source_ref, "call:1");
    // +1 555 123 4567 is a fictional number: kept as the author, not as a customer handle
    assert_eq!((c.author.as_deref(), c.handle.as_deref()), (Some("+15551234567"), None));
}

#[test]
fn reimporting_the_corpus_adds_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut ws = omnitrail::workspace::Workspace::open(dir.path()).unwrap();
    let all: Vec<_> = std::fs::read_dir(corpus(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let c = common(chrono_tz::UTC, Some("AT"));
    let first = omnitrail::import::calls::import_calls(
        &mut ws,
        &all,
        &CallOptions::default(),
        &c,
        &omnitrail::import::pipeline::NoProgress,
    )
    .unwrap();
    let n = calls(&ws).len();
    assert_eq!(n, 1 + 2 + 5 + 8 + 2 + 1);
    for s in first.sources.to_vec().unwrap() {
        assert_eq!(
            s.counts.read,
            s.counts.imported + s.counts.rejected + s.counts.duplicates,
            "{}",
            s.path
        );
    }
    let again = omnitrail::import::calls::import_calls(
        &mut ws,
        &all,
        &CallOptions::default(),
        &c,
        &omnitrail::import::pipeline::NoProgress,
    )
    .unwrap();
    assert_eq!(calls(&ws).len(), n);
    assert!(again
        .sources
        .to_vec()
        .unwrap()
        .into_iter()
        .all(|s| s.outcome == "already-imported" || s.outcome == "failed"));
}
