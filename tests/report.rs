//! Report figures on hand-made scenarios where every figure is known in advance. The demo
//! story (fixtures/demo/STORY.md) is rebuilt record by record through the workspace API,
//! with identities written as the matcher would, so the definitions are checked alone.

use omnitrail::identity::identity_id;
use omnitrail::model::{CallStatus, Channel, Direction, HandleKind, Interaction, Kind};
use omnitrail::report::scenario::{commit_source, write_identities};
use omnitrail::report::{self, DetailKind, ReportSettings};
use omnitrail::workspace::Workspace;
use std::path::Path;
use std::process::Command;

fn ms(utc: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(utc).unwrap().timestamp_millis()
}

/// A record builder: `r("M1", "2026-03-16T10:02:45Z", Email, Inbound)`.
struct R(Interaction);

fn r(id: &str, utc: &str, channel: Channel, direction: Direction) -> R {
    let kind = if channel == Channel::Call {
        Kind::Call
    } else {
        Kind::Message
    };
    let mut i = Interaction::new("t", channel, direction, kind, ms(utc));
    i.interaction_id = id.to_string();
    i.source_ref = id.to_string();
    R(i)
}

impl R {
    fn phone(mut self, p: &str) -> R {
        self.0.customer_handle = Some(p.into());
        self.0.customer_handle_kind = Some(HandleKind::Phone);
        self
    }
    fn email(mut self, e: &str) -> R {
        self.0.customer_handle = Some(e.into());
        self.0.customer_handle_kind = Some(HandleKind::Email);
        self
    }
    fn name(mut self, n: &str) -> R {
        self.0.customer_handle = Some(n.into());
        self.0.customer_handle_kind = Some(HandleKind::Name);
        self
    }
    fn agent(mut self, a: &str) -> R {
        self.0.agent = Some(a.into());
        self
    }
    fn status(mut self, s: CallStatus) -> R {
        self.0.status = Some(s);
        self
    }
    fn mentions(mut self, m: &[&str]) -> R {
        self.0.mentions = m.iter().map(|s| s.to_string()).collect();
        self
    }
    fn kind(mut self, k: Kind) -> R {
        self.0.kind = k;
        self
    }
    fn text(mut self, t: &str) -> R {
        self.0.text = Some(t.into());
        self
    }
}

use Channel::{Call, Email, Whatsapp as Wa};
use Direction::{Inbound as In, Internal, Outbound as Out, System};

/// Writes the rows (one source per channel) and the identities → customers assignment.
/// A customer id and its identities (kind, handle, channel).
type CustomerIdentities<'a> = (&'a str, &'a [(HandleKind, &'a str, Channel)]);

fn workspace(dir: &Path, rows: Vec<R>, customers: &[CustomerIdentities]) -> Workspace {
    let mut ws = Workspace::open(dir).unwrap();
    let mut rows: Vec<Interaction> = rows.into_iter().map(|r| r.0).collect();
    for (seq, row) in rows.iter_mut().enumerate() {
        row.seq = seq as u64;
    }
    for ch in [Wa, Email, Call] {
        let part: Vec<Interaction> = rows.iter().filter(|r| r.channel == ch).cloned().collect();
        if !part.is_empty() {
            commit_source(&mut ws, &format!("src-{ch}"), part).unwrap();
        }
    }
    let mut ids = Vec::new();
    for (customer, handles) in customers {
        for (k, h, ch) in handles.iter() {
            ids.push((identity_id(*k, h, *ch), customer.to_string()));
        }
    }
    write_identities(dir, &ids).unwrap();
    ws
}

const MARK: &str = "Mark Chen";
const SARAH: &str = "Sarah Jones";
const BIZ: &str = "Bloom & Stem";

/// fixtures/demo/STORY.md, "Every interaction in time order", plus the three WhatsApp system lines.
fn demo(dir: &Path) -> Workspace {
    use CallStatus::*;
    let rows = vec![
        r("WA-SYS-MARK", "2026-03-16T10:09:31Z", Wa, System).kind(Kind::System),
        r("M1", "2026-03-16T10:02:45Z", Email, In).email("mark.chen@post.example"),
        r("M2", "2026-03-16T10:09:31Z", Wa, In).name(MARK),
        r("M3", "2026-03-16T10:15:02Z", Wa, Out).name(MARK).agent(BIZ),
        r("M4", "2026-03-16T10:16:40Z", Wa, In).name(MARK),
        r("M5", "2026-03-16T10:18:05Z", Wa, Out)
            .name(MARK)
            .agent(BIZ)
            .mentions(&["order:BS-10457"]),
        r("M6", "2026-03-16T10:25:10Z", Wa, In).name(MARK),
        r("M7", "2026-03-16T10:26:00Z", Wa, Out).name(MARK).agent(BIZ),
        r("C1", "2026-03-16T11:20:05Z", Call, In)
            .phone("+447700900246")
            .agent("SIP/202")
            .status(Answered),
        r("E1", "2026-03-17T15:40:00Z", Email, In).email("emilie.dubois@courrier.example"),
        r("WA-SYS-SARAH", "2026-03-18T09:14:00Z", Wa, System).kind(Kind::System),
        r("S1", "2026-03-18T09:14:00Z", Wa, In)
            .name(SARAH)
            .text("Hi! I ordered a birthday bouquet on your website, order BS-10442")
            .mentions(&["order:BS-10442"]),
        r("E2", "2026-03-18T09:30:00Z", Email, Out)
            .email("emilie.dubois@courrier.example")
            .agent("tom@bloomandstem.example"),
        r("E3", "2026-03-18T10:05:00Z", Email, In).email("emilie.dubois@courrier.example"),
        r("E4", "2026-03-18T10:40:00Z", Email, Out)
            .email("emilie.dubois@courrier.example")
            .agent("tom@bloomandstem.example")
            .mentions(&["order:BS-10460"]),
        r("S2", "2026-03-19T08:47:00Z", Wa, In).name(SARAH),
        r("C2", "2026-03-19T10:05:12Z", Call, In)
            .phone("+447700900456")
            .status(Missed),
        r("S3", "2026-03-19T10:21:37Z", Email, In)
            .email("sarah.jones@mail.example")
            .mentions(&["phone:+447700900456", "order:BS-10442"]),
        r("S4", "2026-03-19T10:21:39Z", Email, System)
            .agent("noreply@bloomandstem.example")
            .mentions(&["order:BS-10442"]),
        r("S5", "2026-03-19T11:02:10Z", Email, Out)
            .email("sarah.jones@mail.example")
            .agent("priya@bloomandstem.example")
            .mentions(&["order:BS-10442"]),
        r("S6", "2026-03-19T11:06:00Z", Wa, Out)
            .name(SARAH)
            .agent(BIZ)
            .mentions(&["order:BS-10442"]),
        r("S7", "2026-03-20T15:40:00Z", Wa, Out)
            .name(SARAH)
            .agent(BIZ)
            .mentions(&["order:BS-10442"]),
        r("C3", "2026-03-20T16:50:03Z", Call, In)
            .phone("+447700900789")
            .status(Missed),
        r("C4", "2026-03-20T17:05:40Z", Call, Out)
            .phone("+447700900789")
            .agent("SIP/201")
            .status(Answered),
        r("C5", "2026-03-23T09:30:10Z", Call, Internal)
            .agent("SIP/201")
            .status(Answered),
        r("C6", "2026-03-25T11:58:30Z", Call, In)
            .phone("+447700900555")
            .agent("SIP/201")
            .status(Answered),
        r("C7", "2026-03-25T12:01:20Z", Call, In)
            .phone("+447700900987")
            .status(Busy),
        r("C8", "2026-03-25T12:06:02Z", Call, In)
            .phone("+447700900987")
            .agent("SIP/201")
            .status(Answered),
        r("WA-SYS-U", "2026-03-30T07:55:00Z", Wa, System).kind(Kind::System),
        r("U1", "2026-03-30T07:55:00Z", Wa, In).phone("+447700900123"),
        r("C9", "2026-03-30T09:12:44Z", Call, In)
            .phone("+447700900123")
            .agent("SIP/202")
            .status(Answered),
        r("U3", "2026-03-30T09:20:00Z", Wa, Out)
            .phone("+447700900123")
            .agent(BIZ),
        r("M8", "2026-03-31T17:45:12Z", Wa, In).name(MARK),
        r("M9", "2026-03-31T18:02:40Z", Wa, Out).name(MARK).agent(BIZ),
        r("M10", "2026-03-31T18:03:30Z", Wa, In).name(MARK).kind(Kind::Media),
        r("M11", "2026-03-31T18:04:55Z", Wa, Out).name(MARK).agent(BIZ),
        r("O1", "2026-04-01T07:15:22Z", Email, In).email("olu.adeyemi@inbox.example"),
        r("O2", "2026-04-01T08:03:10Z", Email, Out)
            .email("olu.adeyemi@inbox.example")
            .agent("priya@bloomandstem.example"),
        r("O3", "2026-04-01T08:40:05Z", Email, In)
            .email("olu.adeyemi@inbox.example")
            .mentions(&["order:BS-10511"]),
        r("O4", "2026-04-01T08:52:44Z", Email, Out)
            .email("olu.adeyemi@inbox.example")
            .agent("priya@bloomandstem.example")
            .mentions(&["order:BS-10511"]),
        r("C10", "2026-04-01T16:58:10Z", Call, In)
            .phone("+447700900678")
            .status(Missed),
        r("C11", "2026-04-03T09:05:30Z", Call, In)
            .phone("+447700900246")
            .agent("SIP/202")
            .status(Answered),
    ];
    use HandleKind::{Email as E, Name as N, Phone as P};
    workspace(
        dir,
        rows,
        &[
            (
                "C-sarah",
                &[
                    (N, SARAH, Wa),
                    (E, "sarah.jones@mail.example", Email),
                    (P, "+447700900456", Call),
                ],
            ),
            ("C-mark", &[(N, MARK, Wa), (E, "mark.chen@post.example", Email)]),
            ("C-unsaved", &[(P, "+447700900123", Call)]),
            ("C-emilie", &[(E, "emilie.dubois@courrier.example", Email)]),
            ("C-olu", &[(E, "olu.adeyemi@inbox.example", Email)]),
            ("C-kate", &[(P, "+447700900789", Call)]),
            ("C-helen", &[(P, "+447700900246", Call)]),
            ("C-ravi", &[(P, "+447700900987", Call)]),
            ("C-ling", &[(P, "+447700900555", Call)]),
            ("C-amir", &[(P, "+447700900678", Call)]),
        ],
    )
}

fn column<'a>(rows: &'a report::Rows, name: &str) -> Vec<&'a str> {
    let i = rows.columns.iter().position(|c| *c == name).unwrap();
    rows.rows.iter().map(|r| r[i].as_str()).collect()
}

#[test]
fn the_demo_story_gives_the_figures_story_md_lists() {
    let dir = tempfile::tempdir().unwrap();
    let ws = demo(dir.path());
    let s = report::summary(&ws, &ReportSettings::default()).unwrap();
    let j = serde_json::to_value(&s).unwrap();
    assert_eq!(j["interactions"], 42);
    assert_eq!(j["customers"], 10);
    assert_eq!(j["identities"], 13);
    assert_eq!(j["channels"]["whatsapp"]["interactions"], 19);
    assert_eq!(j["channels"]["whatsapp"]["inbound"], 8);
    assert_eq!(j["channels"]["whatsapp"]["outbound"], 8);
    assert_eq!(j["channels"]["whatsapp"]["customers"], 3);
    assert_eq!(j["channels"]["email"]["inbound"], 6);
    assert_eq!(j["channels"]["email"]["outbound"], 5);
    assert_eq!(j["channels"]["email"]["customers"], 4);
    assert_eq!(j["channels"]["call"]["interactions"], 11);
    assert_eq!(j["channels"]["call"]["inbound"], 9);
    assert_eq!(j["channels"]["call"]["outbound"], 1);
    assert_eq!(j["channels"]["call"]["customers"], 7);
    assert_eq!(j["multichannel_customers"], 3);
    assert_eq!(j["customer_overcount_ratio"], 1.4);
    assert_eq!(j["episodes"], 12);
    assert_eq!(j["episodes_with_switch"], 3);
    assert_eq!(j["channel_switches"], 4);
    assert_eq!(j["switches_with_repeated_details"], 1);
    assert_eq!(j["needing_response"], 18);
    assert_eq!(j["unanswered_per_channel"], 4);
    assert_eq!(j["unanswered_unified"], 2);
    assert_eq!(j["unanswered"]["whatsapp"]["per_channel"], 1);
    assert_eq!(j["unanswered"]["email"]["per_channel"], 1);
    assert_eq!(j["unanswered"]["call"]["per_channel"], 2);
    assert_eq!(j["unanswered"]["whatsapp"]["unified"], 1);
    assert_eq!(j["unanswered"]["email"]["unified"], 0);
    assert_eq!(j["unanswered"]["call"]["unified"], 1);
    assert_eq!(j["repeat_contacts"], 6);
    assert_eq!(j["repeat_contacts_same_channel"], 2);
    assert_eq!(j["repeat_contacts_cross_channel"], 4);
    assert_eq!(j["agents"], 5);
    let fr = &j["first_response"];
    assert_eq!(fr["whatsapp"]["per_channel"]["median_s"], 689.5);
    assert_eq!(fr["whatsapp"]["unified"]["median_s"], 689.5);
    assert_eq!(fr["whatsapp"]["per_channel"]["count"], 8);
    assert_eq!(fr["email"]["per_channel"]["median_s"], 2433.0);
    assert_eq!(fr["email"]["unified"]["median_s"], 2266.5);
    assert_eq!(fr["call"]["per_channel"]["median_s"], 609.5);
    assert_eq!(fr["call"]["unified"]["median_s"], 937.0);
    assert_eq!(j["recommendation"]["code"], "omnichannel_valuable");
    assert_eq!(j["recommendation"]["seats"], 5);
    for key in [
        "interactions",
        "customers",
        "identities",
        "channels",
        "multichannel_customers",
        "episodes",
        "channel_switches",
        "switches_with_repeated_details",
        "unanswered_per_channel",
        "unanswered_unified",
        "repeat_contacts",
        "customer_overcount_ratio",
        "agents",
        "recommendation",
    ] {
        assert!(j.get(key).is_some(), "missing key {key}");
    }
}

#[test]
fn demo_detail_rows_point_at_the_cases() {
    let dir = tempfile::tempdir().unwrap();
    let ws = demo(dir.path());
    let st = ReportSettings::default();
    let sw = report::detail(&ws, &st, DetailKind::Switches).unwrap();
    let mut to: Vec<&str> = column(&sw, "to_id");
    to.sort();
    assert_eq!(to, ["C2", "C9", "M2", "S3"]);
    let s3 = sw.rows.iter().find(|r| r.contains(&"S3".to_string())).unwrap();
    assert!(s3.contains(&"order:BS-10442".to_string()), "{s3:?}");
    assert!(s3.contains(&"S1".to_string()), "first given in S1: {s3:?}");

    let un = report::detail(&ws, &st, DetailKind::Unanswered).unwrap();
    let mut ids = column(&un, "interaction_id");
    ids.sort();
    assert_eq!(ids, ["C10", "C2", "M1", "S1"]);
    let m1 = un.rows.iter().find(|r| r[3] == "M1").unwrap();
    assert!(m1.contains(&"M3".to_string()), "M1 answered by M3 on WhatsApp: {m1:?}");

    let rep = report::detail(&ws, &st, DetailKind::Repeats).unwrap();
    let mut ids = column(&rep, "interaction_id");
    ids.sort();
    assert_eq!(ids, ["C2", "C8", "C9", "M2", "S2", "S3"]);

    let agents = report::detail(&ws, &st, DetailKind::Agents).unwrap();
    assert_eq!(agents.rows.len(), 5);
    let customers = report::detail(&ws, &st, DetailKind::Customers).unwrap();
    assert_eq!(customers.rows.len(), 10);
    let sarah = customers.rows.iter().find(|r| r[0] == "C-sarah").unwrap();
    assert_eq!(sarah[3], "whatsapp, email, call");
}

#[test]
fn the_timeline_marks_where_sarah_lost_context() {
    let dir = tempfile::tempdir().unwrap();
    let ws = demo(dir.path());
    let london: chrono_tz::Tz = "Europe/London".parse().unwrap();
    let st = ReportSettings {
        display_tz: london,
        ..Default::default()
    };
    for query in ["C-sarah", "sarah.jones@mail.example", "+447700900456", "sarah jones"] {
        let t = report::timeline(&ws, &st, query, omnitrail::normalize::phone::Region::none()).unwrap();
        let ids = column(&t, "interaction_id");
        // S4, the auto-reply, carries no customer handle (system mail), so it is not hers.
        assert_eq!(ids, ["S1", "S2", "C2", "S3", "S5", "S6", "S7"], "{query}");
    }
    let t = report::timeline(&ws, &st, "C-sarah", omnitrail::normalize::phone::Region::none()).unwrap();
    let markers = column(&t, "markers");
    assert!(markers[0].contains("episode 1 starts"));
    assert!(markers[0].contains("UNANSWERED within the SLA"), "{}", markers[0]);
    assert!(markers[2].contains("switch: whatsapp → call"), "{}", markers[2]);
    assert!(
        markers[3].contains("CONTEXT LOST: restates order:BS-10442"),
        "{}",
        markers[3]
    );
    assert!(
        markers[5].contains("handoff priya@bloomandstem.example → Bloom & Stem across channels"),
        "{}",
        markers[6]
    );
    assert_eq!(column(&t, "ts")[0], "2026-03-18T09:14:00+00:00");
    assert!(column(&t, "what")[0].contains("birthday bouquet"));
    let err = report::timeline(
        &ws,
        &st,
        "nobody@example.com",
        omnitrail::normalize::phone::Region::none(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("no customer matches"));
}

/// The codes of a summary's coverage notes.
fn coverage_codes(summary: &serde_json::Value) -> Vec<&str> {
    summary["coverage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["code"].as_str().unwrap())
        .collect()
}

fn summary_json(ws: &Workspace, st: &ReportSettings) -> serde_json::Value {
    serde_json::to_value(report::summary(ws, st).unwrap()).unwrap()
}

const ANN: &str = "+447700900111";
const BEN: &str = "+447700900222";

fn ann_and_ben(dir: &Path, rows: Vec<R>) -> Workspace {
    use HandleKind::{Email as E, Name as N, Phone as P};
    workspace(
        dir,
        rows,
        &[
            (
                "C-ann",
                &[(P, ANN, Call), (E, "ann@example.com", Email), (N, "Ann", Wa)],
            ),
            ("C-ben", &[(P, BEN, Call), (E, "ben@example.com", Email)]),
        ],
    )
}

#[test]
fn a_reply_across_the_dst_change_is_timed_in_real_hours_not_wall_clock() {
    // London: Sat 28 Mar 2026 23:30 GMT; the reply on Mon 30 Mar 00:00 BST is 23 h 30 min later,
    // although the wall clocks differ by 24 h 30 min.
    let dir = tempfile::tempdir().unwrap();
    let ws = ann_and_ben(
        dir.path(),
        vec![
            r("in", "2026-03-28T23:30:00Z", Wa, In).phone(ANN),
            r("out", "2026-03-29T23:00:00Z", Wa, Out).phone(ANN).agent("shop"),
        ],
    );
    let j = summary_json(&ws, &ReportSettings::default());
    assert_eq!(j["unanswered_unified"], 0);
    assert_eq!(j["first_response"]["whatsapp"]["unified"]["median_s"], 23.5 * 3600.0);
    // Bare dates are local midnight in --tz: since 29 Mar (London, still GMT at midnight) keeps nothing of the 28th.
    let london: chrono_tz::Tz = "Europe/London".parse().unwrap();
    let st = ReportSettings {
        since_ms: Some(omnitrail::report::settings::parse_instant("--since", "2026-03-29", london).unwrap()),
        display_tz: london,
        ..Default::default()
    };
    let j = summary_json(&ws, &st);
    assert_eq!(j["interactions"], 1);
    assert_eq!(j["last_ts"], "2026-03-30T00:00:00+01:00");
}

#[test]
fn time_zones_of_the_sources_do_not_matter_once_stored_in_utc() {
    // A Paris email at 10:00 +01:00 (09:00 UTC) answered from London at 09:30 GMT: 30 minutes.
    let dir = tempfile::tempdir().unwrap();
    let ws = ann_and_ben(
        dir.path(),
        vec![
            r("paris", "2026-03-18T10:00:00+01:00", Email, In).email("ann@example.com"),
            r("london", "2026-03-18T09:30:00+00:00", Email, Out)
                .email("ann@example.com")
                .agent("tom"),
        ],
    );
    let j = summary_json(&ws, &ReportSettings::default());
    assert_eq!(j["first_response"]["email"]["per_channel"]["median_s"], 1800.0);
}

#[test]
fn a_reply_on_another_channel_answers_in_the_unified_view_only() {
    let dir = tempfile::tempdir().unwrap();
    let ws = ann_and_ben(
        dir.path(),
        vec![
            r("wa", "2026-05-04T09:00:00Z", Wa, In).phone(ANN),
            r("mail", "2026-05-04T11:00:00Z", Email, Out)
                .email("ann@example.com")
                .agent("tom"),
            r("later", "2026-05-20T09:00:00Z", Email, In).email("ben@example.com"),
            r("later-reply", "2026-05-20T10:00:00Z", Email, Out)
                .email("ben@example.com")
                .agent("tom"),
        ],
    );
    let j = summary_json(&ws, &ReportSettings::default());
    assert_eq!(j["unanswered"]["whatsapp"]["per_channel"], 1);
    assert_eq!(j["unanswered"]["whatsapp"]["unified"], 0);
    assert_eq!(j["unanswered_per_channel"], 1);
    assert_eq!(j["unanswered_unified"], 0);
    assert_eq!(j["first_response"]["whatsapp"]["unified"]["median_s"], 7200.0);
    assert_eq!(j["first_response"]["whatsapp"]["per_channel"]["count"], 0);
    assert_eq!(j["multichannel_customers"], 1);
}

#[test]
fn night_messages_have_the_same_sla_as_daytime_ones() {
    // 03:00 answered at 09:00 (6 h: answered); 02:00 answered at 04:00 the next day (26 h: unanswered).
    let dir = tempfile::tempdir().unwrap();
    let ws = ann_and_ben(
        dir.path(),
        vec![
            r("night", "2026-06-02T03:00:00Z", Wa, In).phone(ANN),
            r("morning", "2026-06-02T09:00:00Z", Wa, Out).phone(ANN).agent("shop"),
            r("night2", "2026-06-10T02:00:00Z", Wa, In).phone(BEN),
            r("late", "2026-06-11T04:00:00Z", Wa, Out).phone(BEN).agent("shop"),
        ],
    );
    let j = summary_json(&ws, &ReportSettings::default());
    assert_eq!(j["needing_response"], 2);
    assert_eq!(j["unanswered_unified"], 1);
    let wider = ReportSettings {
        sla_ms: 48 * 3_600_000,
        ..Default::default()
    };
    assert_eq!(summary_json(&ws, &wider)["unanswered_unified"], 0);
}

#[test]
fn a_customer_who_never_gets_an_answer_is_unanswered_everywhere_and_the_blind_spot_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let ws = ann_and_ben(
        dir.path(),
        vec![
            r("a1", "2026-02-01T10:00:00Z", Wa, In).phone(ANN),
            r("a2", "2026-02-02T10:00:00Z", Wa, In).phone(ANN),
            r("a3", "2026-02-02T12:00:00Z", Call, In)
                .phone(ANN)
                .status(CallStatus::Missed),
            r("a4", "2026-02-03T09:00:00Z", Email, In).email("ann@example.com"),
            r("b1", "2026-02-10T10:00:00Z", Call, In)
                .phone(BEN)
                .status(CallStatus::Answered)
                .agent("201"),
        ],
    );
    let j = summary_json(&ws, &ReportSettings::default());
    assert_eq!(j["unanswered_per_channel"], 4);
    assert_eq!(j["unanswered_unified"], 4);
    assert_eq!(j["channel_switches"], 2);
    assert_eq!(j["repeat_contacts"], 3);
    assert_eq!(j["repeat_contacts_same_channel"], 1);
    let codes = coverage_codes(&j);
    assert!(codes.contains(&"no_business_side"), "{codes:?}");
    // The call log does record a missed call, so it is not suspected of hiding them.
    assert!(!codes.contains(&"calls_without_unanswered"), "{codes:?}");
}

#[test]
fn a_call_log_with_only_answered_calls_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let ws = ann_and_ben(
        dir.path(),
        vec![
            r("c1", "2026-02-10T10:00:00Z", Call, In)
                .phone(ANN)
                .status(CallStatus::Answered)
                .agent("201"),
            r("c2", "2026-02-11T10:00:00Z", Call, In)
                .phone(BEN)
                .status(CallStatus::Answered)
                .agent("202"),
        ],
    );
    let j = summary_json(&ws, &ReportSettings::default());
    let codes = coverage_codes(&j);
    assert!(codes.contains(&"calls_without_unanswered"), "{codes:?}");
    assert_eq!(j["needing_response"], 0);
}

#[test]
fn consecutive_messages_close_together_are_one_contact_timed_from_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let ws = ann_and_ben(
        dir.path(),
        vec![
            r("a1", "2026-04-01T09:00:00Z", Wa, In).phone(ANN),
            r("a2", "2026-04-01T09:01:00Z", Wa, In).phone(ANN),
            r("a3", "2026-04-01T09:02:30Z", Wa, In).phone(ANN),
            r("reply", "2026-04-01T09:10:00Z", Wa, Out).phone(ANN).agent("shop"),
            // 30 minutes after a3 with no reply in between would be a new contact; this one follows the reply.
            r("a4", "2026-04-01T09:11:00Z", Wa, In).phone(ANN),
            r("reply2", "2026-04-01T09:12:00Z", Wa, Out).phone(ANN).agent("shop"),
        ],
    );
    let j = summary_json(&ws, &ReportSettings::default());
    assert_eq!(j["contacts"], 2);
    assert_eq!(j["needing_response"], 2);
    assert_eq!(j["repeat_contacts"], 0);
    // Delays 600 s (from a1) and 60 s.
    assert_eq!(j["first_response"]["whatsapp"]["per_channel"]["median_s"], 330.0);
    let apart = ReportSettings {
        contact_gap_ms: 30_000,
        ..Default::default()
    };
    let j = summary_json(&ws, &apart);
    assert_eq!(j["contacts"], 4);
    assert_eq!(j["repeat_contacts_same_channel"], 2);
}

#[test]
fn a_contact_near_the_end_of_the_data_is_pending_not_unanswered() {
    let dir = tempfile::tempdir().unwrap();
    let ws = ann_and_ben(
        dir.path(),
        vec![
            r("old", "2026-04-01T09:00:00Z", Wa, In).phone(BEN),
            r("old-reply", "2026-04-01T09:05:00Z", Wa, Out).phone(BEN).agent("shop"),
            r("fresh", "2026-04-05T09:00:00Z", Wa, In).phone(ANN),
            r("last", "2026-04-05T10:00:00Z", Email, In).email("ben@example.com"),
        ],
    );
    let j = summary_json(&ws, &ReportSettings::default());
    assert_eq!(j["unanswered_unified"], 0);
    assert_eq!(j["unanswered"]["whatsapp"]["pending_unified"], 1);
    let codes = coverage_codes(&j);
    assert!(codes.contains(&"pending_at_end"));
}

#[test]
fn episodes_split_on_the_window_and_join_on_a_shared_order_number() {
    let dir = tempfile::tempdir().unwrap();
    let ws = ann_and_ben(
        dir.path(),
        vec![
            r("a1", "2026-04-01T09:00:00Z", Wa, In)
                .phone(ANN)
                .mentions(&["order:X-1"]),
            r("a2", "2026-04-01T09:30:00Z", Wa, Out).phone(ANN).agent("shop"),
            // 5 days later, same order: same episode, a switch with repeated details.
            r("a3", "2026-04-06T09:00:00Z", Email, In)
                .email("ann@example.com")
                .mentions(&["order:X-1"]),
            r("a4", "2026-04-06T09:20:00Z", Email, Out)
                .email("ann@example.com")
                .agent("tom"),
            // 5 days later again, no shared order: a new episode.
            r("a5", "2026-04-11T09:00:00Z", Call, In)
                .phone(ANN)
                .status(CallStatus::Answered)
                .agent("201"),
        ],
    );
    let j = summary_json(&ws, &ReportSettings::default());
    assert_eq!(j["episodes"], 2);
    assert_eq!(j["channel_switches"], 1);
    assert_eq!(j["switches_with_repeated_details"], 1);
    // A reply came in between, and 5 days is within --repeat-window, but it is not a repeat.
    assert_eq!(j["repeat_contacts"], 0);
    let short = ReportSettings {
        window_ms: 3_600_000,
        ..Default::default()
    };
    assert_eq!(summary_json(&ws, &short)["episodes"], 2);
    let long = ReportSettings {
        window_ms: 10 * 24 * 3_600_000,
        ..Default::default()
    };
    assert_eq!(summary_json(&ws, &long)["episodes"], 1);
}

#[test]
fn a_switch_without_restated_details_is_not_context_lost() {
    let dir = tempfile::tempdir().unwrap();
    let ws = ann_and_ben(
        dir.path(),
        vec![
            r("a1", "2026-04-01T09:00:00Z", Wa, In)
                .phone(ANN)
                .mentions(&["order:X-1"]),
            r("a2", "2026-04-01T10:00:00Z", Email, In)
                .email("ann@example.com")
                .mentions(&["order:X-2"]),
            r("a3", "2026-04-01T11:00:00Z", Email, Out)
                .email("ann@example.com")
                .agent("tom"),
        ],
    );
    let j = summary_json(&ws, &ReportSettings::default());
    assert_eq!(j["channel_switches"], 1);
    assert_eq!(j["switches_with_repeated_details"], 0);
    assert_eq!(j["repeat_contacts_cross_channel"], 1);
}

#[test]
fn a_phone_number_in_a_signature_after_a_switch_is_not_context_lost() {
    // Ann wrote her number on WhatsApp; her e-mail signature carries it again. Only the order
    // number she has to repeat is a restated detail (docs/metrics.md).
    let dir = tempfile::tempdir().unwrap();
    let ws = ann_and_ben(
        dir.path(),
        vec![
            r("a1", "2026-04-01T09:00:00Z", Wa, In)
                .phone(ANN)
                .mentions(&["phone:+447700900001", "order:X-1"]),
            r("a2", "2026-04-01T12:00:00Z", Email, In)
                .email("ann@example.com")
                .mentions(&["phone:+447700900001"]),
            r("a3", "2026-04-01T15:00:00Z", Wa, In)
                .phone(ANN)
                .mentions(&["order:X-1"]),
        ],
    );
    let j = summary_json(&ws, &ReportSettings::default());
    assert_eq!(j["channel_switches"], 2);
    assert_eq!(j["switches_with_repeated_details"], 0);
    let ws2 = ann_and_ben(
        &dir.path().join("b"),
        vec![
            r("a1", "2026-04-01T09:00:00Z", Wa, In)
                .phone(ANN)
                .mentions(&["order:X-1"]),
            r("a2", "2026-04-01T12:00:00Z", Email, In)
                .email("ann@example.com")
                .mentions(&["phone:+447700900001", "order:X-1"]),
        ],
    );
    assert_eq!(
        summary_json(&ws2, &ReportSettings::default())["switches_with_repeated_details"],
        1
    );
}

#[test]
fn agent_handoffs_within_an_episode_are_counted_across_channels() {
    let dir = tempfile::tempdir().unwrap();
    let ws = ann_and_ben(
        dir.path(),
        vec![
            r("a1", "2026-04-01T09:00:00Z", Wa, In).phone(ANN),
            r("a2", "2026-04-01T09:10:00Z", Wa, Out).phone(ANN).agent("Priya"),
            r("a3", "2026-04-01T12:00:00Z", Call, In)
                .phone(ANN)
                .status(CallStatus::Answered)
                .agent("SIP/202"),
            r("a4", "2026-04-01T12:30:00Z", Wa, Out).phone(ANN).agent("Priya"),
            r("a5", "2026-04-01T13:00:00Z", Wa, Out).phone(ANN).agent("Priya"),
        ],
    );
    let j = summary_json(&ws, &ReportSettings::default());
    assert_eq!(j["agents"], 2);
    assert_eq!(j["agent_fragmentation"]["handoffs"], 2);
    assert_eq!(j["agent_fragmentation"]["cross_channel_handoffs"], 2);
    assert_eq!(j["agent_fragmentation"]["episodes_with_several_agents"], 1);
}

#[test]
fn unknown_direction_and_system_rows_are_counted_but_never_contacts_or_responses() {
    let dir = tempfile::tempdir().unwrap();
    let ws = ann_and_ben(
        dir.path(),
        vec![
            r("u1", "2026-04-01T09:00:00Z", Wa, Direction::Unknown).phone(ANN),
            r("sys", "2026-04-01T09:00:01Z", Email, System).agent("noreply"),
            r("b1", "2026-04-02T09:00:00Z", Email, In).email("ben@example.com"),
            r("auto", "2026-04-02T09:00:02Z", Email, Out)
                .email("ben@example.com")
                .kind(Kind::System),
        ],
    );
    let j = summary_json(&ws, &ReportSettings::default());
    assert_eq!(j["interactions"], 4);
    assert_eq!(j["contacts"], 1);
    // The outbound auto-reply (kind system) is no response; the data ends within the SLA: pending.
    assert_eq!(j["first_response"]["email"]["unified"]["count"], 0);
    assert_eq!(j["unanswered"]["email"]["pending_unified"], 1);
    assert_eq!(j["customers"], 2);
    let codes = coverage_codes(&j);
    assert!(codes.contains(&"unknown_direction"), "{codes:?}");
    assert!(codes.contains(&"no_customer_side"), "{codes:?}");
}

#[test]
fn channel_filter_and_identities_imported_after_the_match() {
    let dir = tempfile::tempdir().unwrap();
    let ws = ann_and_ben(
        dir.path(),
        vec![
            r("a1", "2026-04-01T09:00:00Z", Wa, In).phone(ANN),
            r("z1", "2026-04-01T09:00:00Z", Wa, In).phone("+447700900999"),
            r("a2", "2026-04-01T10:00:00Z", Email, In).email("ann@example.com"),
        ],
    );
    let j = summary_json(&ws, &ReportSettings::default());
    assert_eq!(j["customers"], 2);
    let codes = coverage_codes(&j);
    assert!(codes.contains(&"unmatched_identities"));
    let only_mail = ReportSettings {
        channels: vec![Email],
        ..Default::default()
    };
    let j = summary_json(&ws, &only_mail);
    assert_eq!(j["interactions"], 1);
    assert_eq!(j["channels"].as_object().unwrap().len(), 1);
}

#[test]
fn an_unmatched_workspace_is_refused_with_a_pointer_to_match() {
    let dir = tempfile::tempdir().unwrap();
    let mut ws = Workspace::open(dir.path()).unwrap();
    commit_source(&mut ws, "w", vec![r("a", "2026-04-01T09:00:00Z", Wa, In).phone(ANN).0]).unwrap();
    let err = report::summary(&ws, &ReportSettings::default()).unwrap_err();
    assert!(err.downcast_ref::<report::NotMatched>().is_some());
    assert!(err.to_string().contains("omnitrail match"));
}

fn omnitrail(ws: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_omnitrail"))
        .arg("--workspace")
        .arg(ws)
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn cli_report_prints_every_format_and_rejects_bad_usage() {
    let dir = tempfile::tempdir().unwrap();
    demo(dir.path());
    let ws = dir.path();
    let out = omnitrail(ws, &["report", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["customers"], 10);
    let table = String::from_utf8(omnitrail(ws, &["report"]).stdout).unwrap();
    assert!(
        table.contains("unanswered, unified") && table.contains("omnichannel is valuable"),
        "{table}"
    );
    let csv = String::from_utf8(omnitrail(ws, &["report", "--format", "csv"]).stdout).unwrap();
    assert!(csv.lines().any(|l| l == "unanswered_per_channel,4"), "{csv}");
    let md = String::from_utf8(omnitrail(ws, &["report", "switches", "--format", "markdown"]).stdout).unwrap();
    assert!(
        md.starts_with("# Channel switches: 4") && md.contains("| order:BS-10442 |"),
        "{md}"
    );
    let html = String::from_utf8(omnitrail(ws, &["report", "--format", "html"]).stdout).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && !html.contains("<script src"));
    let un = String::from_utf8(omnitrail(ws, &["report", "unanswered", "--format", "csv"]).stdout).unwrap();
    assert_eq!(un.lines().count(), 5, "{un}");
    let tl = omnitrail(
        ws,
        &[
            "timeline",
            "07700 900456",
            "--region",
            "GB",
            "--tz",
            "Europe/London",
            "--json",
        ],
    );
    let j: serde_json::Value = serde_json::from_slice(&tl.stdout).unwrap();
    assert_eq!(j["rows"].as_array().unwrap().len(), 7);
    assert_eq!(omnitrail(ws, &["report", "nonsense"]).status.code(), Some(2));
    assert_eq!(omnitrail(ws, &["report", "--window", "soon"]).status.code(), Some(2));
    assert_eq!(omnitrail(ws, &["report", "--channel", "fax"]).status.code(), Some(2));
    assert_eq!(omnitrail(ws, &["timeline", "nobody"]).status.code(), Some(1));
    std::fs::remove_file(ws.join("identities.parquet")).unwrap();
    let out = omnitrail(ws, &["report"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("run `omnitrail match`"));
}
