//! The call-log importer on the project's own fixtures (fixtures/calls, fixtures/demo).

mod calls_common;

use calls_common::*;
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
