//! End-to-end tests of `omnitrail export`: dataset formats, platform profiles, filters,
//! subsets, redaction, atomic replacement, and a real Parquet reader.

use omnitrail::identity::identity_id;
use omnitrail::model::{CallStatus, Channel, Direction, HandleKind, Interaction, Kind};
use omnitrail::workspace::{Counts, SourceEntry, Workspace};
use polars::prelude::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SARAH: &str = "C-00000000a1";
const TOMASZ: &str = "C-00000000b2";
const MIKE: &str = "C-00000000c3";

/// Every personal value planted in the workspace, for the redaction leak check.
const PERSONAL: &[&str] = &[
    "+447700900123",
    "07700 900123",
    "07700900123",
    "+447700900456",
    "+447700900789",
    "sarah.jones@mail.example",
    "mike.obrien@corp.example",
    "Sarah Jones",
    "Jones",
    "Wiśniewski",
    "Tomasz",
    "O'Brien",
    "Obrien",
    "Where is my bouquet",
    "Bloom & Stem",
    "orders@bloomandstem.example",
];

fn omnitrail(ws: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_omnitrail"))
        .arg("--workspace")
        .arg(ws)
        .args(args)
        .env_remove("OMNITRAIL_REDACT_KEY")
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

const T0: i64 = 1_773_824_040_000; // 2026-03-18T08:54:00Z

fn record(
    source: &str,
    n: u64,
    channel: Channel,
    direction: Direction,
    kind: Kind,
    hours: i64,
    handle: Option<(HandleKind, &str)>,
) -> Interaction {
    let mut r = Interaction::new(source, channel, direction, kind, T0 + hours * 3_600_000);
    r.interaction_id = format!("{source}-{n:04}");
    r.seq = n;
    r.source_ref = format!("line:{n}");
    r.dedup_key = format!("{n:032x}");
    if let Some((k, h)) = handle {
        r.customer_handle = Some(h.to_string());
        r.customer_handle_kind = Some(k);
    }
    r
}

/// A workspace with WhatsApp, email and call records of three customers, plus system lines
/// and an interaction imported after the match (no identity known).
fn interactions() -> Vec<(&'static str, &'static str, Vec<Interaction>)> {
    use Channel::*;
    use Direction::*;
    let sarah_phone = Some((HandleKind::Phone, "+447700900123"));
    let mut wa = Vec::new();
    let mut sys = record("wa-1", 1, Whatsapp, System, Kind::System, 0, None);
    sys.text = Some("Messages and calls are end-to-end encrypted.".into());
    sys.thread_key = "whatsapp:Sarah Jones".into();
    wa.push(sys);
    let mut m = record("wa-1", 2, Whatsapp, Inbound, Kind::Message, 1, sarah_phone);
    m.customer_name = Some("Sarah Jones".into());
    m.author_raw = Some("Sarah Jones".into());
    m.text = Some("Where is my bouquet? Order BS-10442, call me on 07700 900123 — Sarah Jones".into());
    m.mentions = vec!["order:BS-10442".into(), "phone:+447700900123".into()];
    m.thread_key = "whatsapp:Sarah Jones".into();
    m.thread_title = Some("Sarah Jones".into());
    m.source_file = "WhatsApp Chat with Sarah Jones.txt".into();
    wa.push(m);
    let mut m = record("wa-1", 3, Whatsapp, Outbound, Kind::Media, 2, sarah_phone);
    m.agent = Some("Bloom & Stem".into());
    m.attachments = vec!["IMG-Sarah-Jones.jpg".into()];
    m.text = Some("Here it is, Sarah".into());
    m.thread_key = "whatsapp:Sarah Jones".into();
    m.source_file = "WhatsApp Chat with Sarah Jones.txt".into();
    wa.push(m);
    let mut m = record(
        "wa-1",
        4,
        Whatsapp,
        Inbound,
        Kind::Message,
        30,
        Some((HandleKind::Name, "Tomasz Wiśniewski")),
    );
    m.customer_name = Some("Tomasz Wiśniewski".into());
    m.text = Some("Dzień dobry, tu Tomasz Wiśniewski".into());
    m.thread_key = "whatsapp:Tomasz Wiśniewski".into();
    wa.push(m);

    let mut mail = Vec::new();
    let mut e = record(
        "em-1",
        1,
        Email,
        Inbound,
        Kind::Message,
        5,
        Some((HandleKind::Email, "sarah.jones@mail.example")),
    );
    e.customer_name = Some("Sarah Jones".into());
    e.agent = Some("orders@bloomandstem.example".into());
    e.subject = Some("Order BS-10442 — Sarah Jones".into());
    e.text = Some("Hi, this is Sarah Jones again about my order.".into());
    e.body_full = Some("Hi, this is Sarah Jones again about my order.\n\n> quoted".into());
    e.source_ref = "abc123@mail.example".into();
    e.thread_key = "email:abc123@mail.example".into();
    e.mentions = vec!["order:BS-10442".into()];
    mail.push(e);
    let mut e = record(
        "em-1",
        2,
        Email,
        Outbound,
        Kind::Message,
        6,
        Some((HandleKind::Email, "sarah.jones@mail.example")),
    );
    e.agent = Some("orders@bloomandstem.example".into());
    e.subject = Some("Re: Order BS-10442 — Sarah Jones".into());
    e.text = Some("Dear Sarah Jones, it ships today.".into());
    e.thread_key = "email:abc123@mail.example".into();
    e.source_ref = "def456@bloomandstem.example".into();
    mail.push(e);
    let mut e = record(
        "em-1",
        3,
        Email,
        Inbound,
        Kind::Message,
        50,
        Some((HandleKind::Email, "mike.obrien@corp.example")),
    );
    e.customer_name = Some("Mike O'Brien".into());
    e.subject = Some("Wedding flowers".into());
    e.text = Some("x".repeat(70_000));
    e.thread_key = "email:mike1@corp.example".into();
    e.source_ref = "mike1@corp.example".into();
    mail.push(e);

    let mut calls = Vec::new();
    let mut c = record(
        "call-1",
        1,
        Call,
        Inbound,
        Kind::Call,
        26,
        Some((HandleKind::Phone, "+447700900123")),
    );
    c.customer_name = Some("Sarah Jones".into());
    c.agent = Some("201".into());
    c.status = Some(CallStatus::Answered);
    c.duration_s = Some(95);
    c.thread_key = "call:1700000000.1".into();
    c.source_ref = "1700000000.1".into();
    calls.push(c);
    let mut c = record(
        "call-1",
        2,
        Call,
        Inbound,
        Kind::Call,
        48,
        Some((HandleKind::Phone, "+447700900456")),
    );
    c.status = Some(CallStatus::Missed);
    c.duration_s = Some(0);
    c.thread_key = "call:1700000001.1".into();
    c.source_ref = "1700000001.1".into();
    calls.push(c);
    // imported after the last match: its number is no identity yet
    let mut c = record(
        "call-1",
        3,
        Call,
        Inbound,
        Kind::Call,
        49,
        Some((HandleKind::Phone, "+447700900789")),
    );
    c.status = Some(CallStatus::Missed);
    c.thread_key = "call:1700000002.1".into();
    c.source_ref = "1700000002.1".into();
    calls.push(c);
    vec![
        ("wa-1", "whatsapp", wa),
        ("em-1", "email", mail),
        ("call-1", "call", calls),
    ]
}

fn str_list(name: &str, rows: &[&[&str]]) -> Column {
    let mut b = ListStringChunkedBuilder::new(name.into(), rows.len(), 8);
    for r in rows {
        b.append_values_iter(r.iter().copied());
    }
    b.finish().into_column()
}

fn ts_col(name: &str, values: &[Option<i64>]) -> Column {
    Int64Chunked::from_iter_options(name.into(), values.iter().copied())
        .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
        .into_column()
}

fn write_parquet(path: &Path, mut df: DataFrame) {
    ParquetWriter::new(std::fs::File::create(path).unwrap())
        .finish(&mut df)
        .unwrap();
}

/// The matcher's three files, with the contract's columns (src/identity.rs).
fn write_matcher_files(root: &Path) {
    let ids = [
        (
            identity_id(HandleKind::Phone, "+447700900123", Channel::Whatsapp),
            "phone",
            "+447700900123",
            SARAH,
            "Sarah Jones",
        ),
        (
            identity_id(HandleKind::Email, "sarah.jones@mail.example", Channel::Email),
            "email",
            "sarah.jones@mail.example",
            SARAH,
            "Sarah Jones",
        ),
        (
            identity_id(HandleKind::Name, "Tomasz Wiśniewski", Channel::Whatsapp),
            "name",
            "Tomasz Wiśniewski",
            TOMASZ,
            "Tomasz Wiśniewski",
        ),
        (
            identity_id(HandleKind::Phone, "+447700900456", Channel::Call),
            "phone",
            "+447700900456",
            TOMASZ,
            "Tomasz Wiśniewski",
        ),
        (
            identity_id(HandleKind::Email, "mike.obrien@corp.example", Channel::Email),
            "email",
            "mike.obrien@corp.example",
            MIKE,
            "Mike O'Brien",
        ),
    ];
    let n = ids.len();
    let mut df = DataFrame::new(
        n,
        vec![
            Column::new(
                "identity_id".into(),
                ids.iter().map(|i| i.0.clone()).collect::<Vec<_>>(),
            ),
            Column::new("kind".into(), ids.iter().map(|i| i.1).collect::<Vec<_>>()),
            Column::new("value".into(), ids.iter().map(|i| i.2).collect::<Vec<_>>()),
            str_list(
                "channels",
                &[&["whatsapp", "call"], &["email"], &["whatsapp"], &["call"], &["email"]],
            ),
            Column::new("display_name".into(), ids.iter().map(|i| Some(i.4)).collect::<Vec<_>>()),
            Column::new("interactions".into(), vec![3u64, 2, 1, 1, 1]),
            Column::new("guard".into(), vec![None::<&str>; n]),
            Column::new("customer_id".into(), ids.iter().map(|i| i.3).collect::<Vec<_>>()),
        ],
    )
    .unwrap();
    write_parquet(&root.join("identities.parquet"), df.clone());
    df = DataFrame::new(
        3,
        vec![
            Column::new("customer_id".into(), [SARAH, TOMASZ, MIKE]),
            Column::new(
                "display_name".into(),
                [Some("Sarah Jones"), Some("Tomasz Wiśniewski"), Some("Mike O'Brien")],
            ),
            Column::new(
                "primary_phone".into(),
                [Some("+447700900123"), Some("+447700900456"), None],
            ),
            Column::new(
                "primary_email".into(),
                [Some("sarah.jones@mail.example"), None, Some("mike.obrien@corp.example")],
            ),
            Column::new("identities".into(), [2u32, 2, 1]),
            Column::new("interactions".into(), [6u64, 2, 1]),
            str_list(
                "channels",
                &[&["call", "email", "whatsapp"], &["call", "whatsapp"], &["email"]],
            ),
            ts_col("first_ts", &[Some(T0), Some(T0), Some(T0)]),
            ts_col("last_ts", &[Some(T0 + 1), None, Some(T0 + 2)]),
        ],
    )
    .unwrap();
    write_parquet(&root.join("customers.parquet"), df);
    let links = DataFrame::new(
        2,
        vec![
            Column::new("identity_a".into(), [ids[0].0.clone(), ids[2].0.clone()]),
            Column::new("identity_b".into(), [ids[1].0.clone(), ids[3].0.clone()]),
            Column::new("rule".into(), ["mention", "name+order"]),
            Column::new("score".into(), [0.95f64, 0.7]),
            Column::new(
                "evidence".into(),
                [
                    "Sarah Jones wrote 07700 900123 in an email",
                    "Tomasz Wiśniewski named on a call",
                ],
            ),
            Column::new("accepted".into(), [true, true]),
        ],
    )
    .unwrap();
    write_parquet(&root.join("links.parquet"), links);
}

fn workspace(matched: bool) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("ws");
    let mut ws = Workspace::open(&root).unwrap();
    let mut txn = ws.begin();
    for (source, channel, rows) in interactions() {
        let (mut w, rel) = txn.batch_writer(source).unwrap();
        for r in rows {
            w.push(r).unwrap();
        }
        w.finish().unwrap();
        txn.add_source(SourceEntry {
            source_id: source.into(),
            path: format!("exports/{source} Sarah Jones.txt"),
            size: 1,
            content_hash: format!("{source}-hash"),
            format: channel.into(),
            channel: channel.into(),
            options: serde_json::value::RawValue::NULL.to_owned(),
            counts: Counts::default(),
            first_ts: None,
            last_ts: None,
            imported_at: "2026-11-23T00:00:00Z".into(),
            batch: Some(rel),
            rejects: None,
            notes: Default::default(),
        })
        .unwrap();
    }
    txn.commit().unwrap();
    if matched {
        write_matcher_files(&root);
    }
    (dir, root)
}

fn read_parquet(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap()).finish().unwrap()
}

fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap()
}

fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

#[test]
fn parquet_dataset_has_the_schema_columns_and_every_interaction_with_its_customer() {
    let (dir, ws) = workspace(true);
    let out = dir.path().join("dataset");
    ok(&omnitrail(
        &ws,
        &["export", "--format", "parquet", "--out", out.to_str().unwrap()],
    ));
    let df = read_parquet(&out.join("interactions.parquet"));
    let mut want: Vec<&str> = omnitrail::workspace::INTERACTION_COLUMNS.to_vec();
    want.push("customer_id");
    assert_eq!(
        df.get_column_names().iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        want
    );
    assert_eq!(df.height(), 10);
    assert_eq!(
        df.column("ts").unwrap().dtype(),
        &DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
    );
    let ids = df.column("interaction_id").unwrap().str().unwrap().clone();
    let cids = df.column("customer_id").unwrap().str().unwrap().clone();
    let customer_of = |id: &str| {
        ids.iter()
            .zip(cids.iter())
            .find(|(i, _)| *i == Some(id))
            .and_then(|(_, c)| c.map(str::to_string))
    };
    assert_eq!(customer_of("wa-1-0002").as_deref(), Some(SARAH));
    assert_eq!(
        customer_of("em-1-0001").as_deref(),
        Some(SARAH),
        "email joins the same customer"
    );
    assert_eq!(
        customer_of("wa-1-0004").as_deref(),
        Some(TOMASZ),
        "name identity scoped by channel"
    );
    assert_eq!(customer_of("call-1-0002").as_deref(), Some(TOMASZ));
    assert_eq!(customer_of("wa-1-0001"), None, "system line");
    assert_eq!(customer_of("call-1-0003"), None, "imported after the match");
    for (name, rows, cols) in [
        ("customers", 3, omnitrail::identity::CUSTOMER_COLUMNS),
        ("identities", 5, omnitrail::identity::IDENTITY_COLUMNS),
        ("links", 2, omnitrail::identity::LINK_COLUMNS),
    ] {
        let t = read_parquet(&out.join(format!("{name}.parquet")));
        assert_eq!(t.height(), rows, "{name}");
        assert_eq!(
            t.get_column_names().iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            cols.to_vec()
        );
    }
    let m = manifest(&out);
    assert_eq!(m["export_schema_version"], 1);
    assert_eq!(m["counts"]["interactions"], 10);
    assert_eq!(m["counts"]["interactions_without_customer"], 2);
    assert_eq!(m["sources"].as_array().unwrap().len(), 3);
    for f in m["files"].as_array().unwrap() {
        let bytes = std::fs::read(out.join(f["path"].as_str().unwrap())).unwrap();
        assert_eq!(f["blake3"].as_str().unwrap(), blake3::hash(&bytes).to_hex().as_str());
        assert_eq!(f["bytes"].as_u64().unwrap(), bytes.len() as u64);
    }
}

#[test]
fn parquet_output_is_readable_by_pyarrow() {
    let probe = Command::new("python3").args(["-c", "import pyarrow.parquet"]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED parquet_output_is_readable_by_pyarrow: python3 with pyarrow is not installed here (pip install pyarrow)");
        return;
    }
    let (dir, ws) = workspace(true);
    let out = dir.path().join("dataset");
    ok(&omnitrail(
        &ws,
        &["export", "--format", "parquet", "--out", out.to_str().unwrap()],
    ));
    let script = r#"
import sys, pyarrow.parquet as pq
out = sys.argv[1]
for name in ["customers", "identities", "interactions", "links"]:
    t = pq.read_table(f"{out}/{name}.parquet")
    print(name, t.num_rows)
    for f in t.schema:
        print(" ", f.name, f.type)
"#;
    let res = Command::new("python3")
        .args(["-c", script, out.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&res.stdout);
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    assert!(text.contains("interactions 10"), "{text}");
    assert!(text.contains("customers 3"), "{text}");
    assert!(text.contains("ts timestamp[ms, tz=UTC]"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("mentions ") && l.contains("list<")),
        "{text}"
    );
    assert!(text.contains("first_ts timestamp[ms, tz=UTC]"), "{text}");
}

#[test]
fn csv_and_jsonl_datasets_hold_the_same_rows() {
    let (dir, ws) = workspace(true);
    let csv_out = dir.path().join("csv");
    let jsonl_out = dir.path().join("jsonl");
    ok(&omnitrail(
        &ws,
        &["export", "--format", "csv", "--out", csv_out.to_str().unwrap()],
    ));
    ok(&omnitrail(
        &ws,
        &["export", "--format", "jsonl", "--out", jsonl_out.to_str().unwrap()],
    ));
    let (header, rows) = csv_rows(&csv_out.join("interactions.csv"));
    assert_eq!(header.last().map(String::as_str), Some("customer_id"));
    assert_eq!(rows.len(), 10);
    let ts = header.iter().position(|h| h == "ts").unwrap();
    assert!(
        rows.iter().any(|r| r[ts] == "2026-03-18T09:54:00.000Z"),
        "{:?}",
        rows[0]
    );
    let mentions = header.iter().position(|h| h == "mentions").unwrap();
    assert!(rows
        .iter()
        .any(|r| r[mentions] == r#"["order:BS-10442","phone:+447700900123"]"#));
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(jsonl_out.join("interactions.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 10);
    let sarah = lines.iter().find(|l| l["interaction_id"] == "wa-1-0002").unwrap();
    assert_eq!(sarah["customer_id"], SARAH);
    assert_eq!(sarah["mentions"][0], "order:BS-10442");
    assert_eq!(sarah["duration_s"], serde_json::Value::Null);
    assert_eq!(sarah["seq"], 2);
    let customers: Vec<serde_json::Value> = std::fs::read_to_string(jsonl_out.join("customers.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(customers.len(), 3);
    assert_eq!(customers[0]["channels"][0], "call");
}

#[test]
fn an_unmatched_workspace_is_refused_with_a_pointer_to_match() {
    let (dir, ws) = workspace(false);
    let out = dir.path().join("o");
    let res = omnitrail(&ws, &["export", "--format", "csv", "--out", out.to_str().unwrap()]);
    assert_eq!(res.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&res.stderr).contains("omnitrail match"));
    assert!(!out.exists());
}

#[test]
fn bad_usage_exits_2() {
    let (dir, ws) = workspace(true);
    let out = dir.path().join("o");
    let o = out.to_str().unwrap();
    for args in [
        &["export", "--format", "xlsx", "--out", o][..],
        &["export", "--format", "csv", "--out", o, "--since", "18/03/2026"],
        &["export", "--format", "csv", "--out", o, "--channel", "fax"],
        &["export", "--format", "csv", "--out", o, "--redact-key", "k"],
    ] {
        assert_eq!(omnitrail(&ws, args).status.code(), Some(2), "{args:?}");
    }
    assert!(!out.exists());
}

#[test]
fn a_rerun_replaces_the_export_and_never_touches_a_foreign_folder() {
    let (dir, ws) = workspace(true);
    let out = dir.path().join("o");
    let o = out.to_str().unwrap();
    ok(&omnitrail(&ws, &["export", "--format", "csv", "--out", o]));
    ok(&omnitrail(&ws, &["export", "--format", "jsonl", "--out", o]));
    assert!(!out.join("interactions.csv").exists(), "the old files are gone");
    assert!(out.join("interactions.jsonl").exists());
    let siblings: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(siblings.len(), 2, "no staging folder left: {siblings:?}");
    let foreign = dir.path().join("mine");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "keep").unwrap();
    let res = omnitrail(&ws, &["export", "--format", "csv", "--out", foreign.to_str().unwrap()]);
    assert_eq!(res.status.code(), Some(1));
    assert_eq!(std::fs::read_to_string(foreign.join("notes.txt")).unwrap(), "keep");
}

#[test]
fn a_failed_export_leaves_the_previous_one_and_no_partial_files() {
    let (dir, ws) = workspace(true);
    let out = dir.path().join("o");
    let o = out.to_str().unwrap();
    ok(&omnitrail(&ws, &["export", "--format", "csv", "--out", o]));
    let before = std::fs::read(out.join("manifest.json")).unwrap();
    // a corrupt matcher file makes the next export fail after it has started
    std::fs::write(ws.join("links.parquet"), b"not parquet").unwrap();
    let res = omnitrail(&ws, &["export", "--format", "jsonl", "--out", o]);
    assert_eq!(res.status.code(), Some(1));
    assert_eq!(std::fs::read(out.join("manifest.json")).unwrap(), before);
    assert!(out.join("interactions.csv").exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        2,
        "no staging folder left"
    );
}

#[test]
fn filters_select_by_time_channel_and_customer() {
    let (dir, ws) = workspace(true);
    let count = |extra: &[&str], name: &str| -> usize {
        let out = dir.path().join(name);
        let mut args = vec!["export", "--format", "csv", "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        ok(&omnitrail(&ws, &args));
        csv_rows(&out.join("interactions.csv")).1.len()
    };
    assert_eq!(count(&["--channel", "call"], "a"), 3);
    assert_eq!(count(&["--channel", "call", "--channel", "email"], "b"), 6);
    // T0 = 08:54; +2h = 10:54; +26h next day
    assert_eq!(
        count(&["--since", "2026-03-18T10:00:00Z", "--until", "2026-03-19"], "c"),
        3
    );
    let ids = dir.path().join("ids.txt");
    std::fs::write(&ids, format!("customer_id\n{TOMASZ}\n# comment\n\n")).unwrap();
    let out = dir.path().join("d");
    ok(&omnitrail(
        &ws,
        &[
            "export",
            "--format",
            "csv",
            "--out",
            out.to_str().unwrap(),
            "--customers",
            ids.to_str().unwrap(),
        ],
    ));
    let (h, rows) = csv_rows(&out.join("interactions.csv"));
    let cid = h.iter().position(|c| c == "customer_id").unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r[cid] == TOMASZ));
    assert_eq!(csv_rows(&out.join("customers.csv")).1.len(), 1);
    assert_eq!(csv_rows(&out.join("identities.csv")).1.len(), 2);
    assert_eq!(
        csv_rows(&out.join("links.csv")).1.len(),
        1,
        "only links inside the subset"
    );
    std::fs::write(&ids, "C-ffffffffff\n").unwrap();
    let res = omnitrail(
        &ws,
        &[
            "export",
            "--format",
            "csv",
            "--out",
            dir.path().join("e").to_str().unwrap(),
            "--customers",
            ids.to_str().unwrap(),
        ],
    );
    assert_eq!(res.status.code(), Some(1));
}

/// Every byte of every file, plus the decoded cells of Parquet files (compressed pages could
/// hide a value from a byte scan).
fn export_text(out: &Path) -> String {
    let mut text = String::new();
    for entry in walk(out) {
        let bytes = std::fs::read(&entry).unwrap();
        text.push_str(&String::from_utf8_lossy(&bytes));
        if entry.extension().is_some_and(|e| e == "parquet") {
            let df = read_parquet(&entry);
            text.push_str(&format!("{df:?}"));
            for c in df.columns() {
                let s = c.as_materialized_series();
                for i in 0..s.len() {
                    text.push_str(&format!("{}\n", s.get(i).unwrap()));
                }
            }
        }
    }
    text
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn a_redacted_export_contains_no_original_phone_email_or_name_in_any_format() {
    let (dir, ws) = workspace(true);
    for format in [
        "csv",
        "jsonl",
        "parquet",
        "hubspot",
        "chatwoot",
        "zendesk",
        "salesforce",
    ] {
        let out = dir.path().join(format!("r-{format}"));
        let res = omnitrail(
            &ws,
            &["export", "--format", format, "--out", out.to_str().unwrap(), "--redact"],
        );
        ok(&res);
        let text = export_text(&out);
        for value in PERSONAL {
            assert!(!text.contains(value), "{format}: `{value}` leaked");
            assert!(
                !text.to_lowercase().contains(&value.to_lowercase()),
                "{format}: `{value}` leaked (case-insensitive)"
            );
        }
        let stdout_and_err = format!(
            "{}{}",
            String::from_utf8_lossy(&res.stdout),
            String::from_utf8_lossy(&res.stderr)
        );
        for value in PERSONAL {
            assert!(!stdout_and_err.contains(value), "{format}: `{value}` printed");
        }
    }
    let key = std::fs::read_to_string(ws.join("redact.key")).unwrap();
    assert_eq!(key.trim().len(), 64);
    for format in ["csv", "parquet"] {
        assert!(
            !export_text(&dir.path().join(format!("r-{format}"))).contains(key.trim()),
            "the key is never written"
        );
    }
}

#[test]
fn redacted_files_still_join_and_the_same_key_gives_the_same_pseudonyms() {
    let (dir, ws) = workspace(true);
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    ok(&omnitrail(
        &ws,
        &[
            "export",
            "--format",
            "jsonl",
            "--out",
            a.to_str().unwrap(),
            "--redact",
            "--redact-key",
            "k1",
        ],
    ));
    ok(&omnitrail(
        &ws,
        &[
            "export",
            "--format",
            "jsonl",
            "--out",
            b.to_str().unwrap(),
            "--redact",
            "--redact-key",
            "k1",
        ],
    ));
    let read = |p: &Path| std::fs::read_to_string(p).unwrap();
    assert_eq!(read(&a.join("interactions.jsonl")), read(&b.join("interactions.jsonl")));
    let identities: Vec<serde_json::Value> = read(&a.join("identities.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let interactions: Vec<serde_json::Value> = read(&a.join("interactions.jsonl"))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let wa = interactions
        .iter()
        .find(|i| i["interaction_id"] == "wa-1-0002")
        .unwrap();
    let handle = wa["customer_handle"].as_str().unwrap();
    assert!(handle.starts_with("+999"));
    let identity = identities
        .iter()
        .find(|i| i["identity_id"] == format!("phone:{handle}"))
        .expect("the redacted handle is a redacted identity");
    assert_eq!(identity["customer_id"], SARAH);
    assert!(wa["mentions"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!(format!("phone:{handle}"))));
    let c = dir.path().join("c");
    ok(&omnitrail(
        &ws,
        &[
            "export",
            "--format",
            "jsonl",
            "--out",
            c.to_str().unwrap(),
            "--redact",
            "--redact-key",
            "k2",
        ],
    ));
    assert_ne!(read(&a.join("interactions.jsonl")), read(&c.join("interactions.jsonl")));
}

fn rejected_lines(out: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(out.join("rejected.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn fidelity(out: &Path) -> serde_json::Value {
    assert!(out.join("FIDELITY.md").exists());
    serde_json::from_str(&std::fs::read_to_string(out.join("fidelity.json")).unwrap()).unwrap()
}

#[test]
fn hubspot_profile_writes_contacts_and_associated_activities_and_rejects_what_hubspot_would() {
    let (dir, ws) = workspace(true);
    let out = dir.path().join("hs");
    ok(&omnitrail(
        &ws,
        &["export", "--format", "hubspot", "--out", out.to_str().unwrap()],
    ));
    let (h, contacts) = csv_rows(&out.join("contacts.csv"));
    assert_eq!(
        h,
        [
            "Omnitrail Customer ID",
            "First Name",
            "Last Name",
            "Email",
            "Additional email addresses",
            "Phone Number",
            "Mobile Phone Number"
        ]
    );
    let sarah = contacts.iter().find(|r| r[0] == SARAH).unwrap();
    assert_eq!(
        sarah[1..6],
        ["Sarah", "Jones", "sarah.jones@mail.example", "", "+447700900123"]
    );
    assert_eq!(contacts.len(), 3);
    let (h, calls) = csv_rows(&out.join("calls.csv"));
    assert_eq!(
        h,
        [
            "Omnitrail Customer ID",
            "Activity date",
            "Call title",
            "Call direction",
            "Call status",
            "Call duration",
            "Call notes"
        ]
    );
    assert_eq!(calls.len(), 2, "the call with no customer is rejected");
    let answered = calls.iter().find(|r| r[0] == SARAH).unwrap();
    assert_eq!(answered[1], (T0 + 26 * 3_600_000).to_string());
    assert_eq!(answered[3..6], ["INBOUND", "COMPLETED", "95000"]);
    assert!(answered[6].contains("201"), "agent kept in the notes: {}", answered[6]);
    let missed = calls.iter().find(|r| r[0] == TOMASZ).unwrap();
    assert_eq!(missed[4], "NO_ANSWER");
    let (h, emails) = csv_rows(&out.join("emails.csv"));
    assert_eq!(h[2..5], ["Email direction", "Email subject", "Email body"]);
    assert_eq!(emails.len(), 2, "the 70 000-character email is over HubSpot's limit");
    assert!(emails
        .iter()
        .any(|r| r[2] == "INCOMING_EMAIL" && r[5] == "sarah.jones@mail.example"));
    assert!(emails
        .iter()
        .any(|r| r[2] == "EMAIL" && r[5] == "orders@bloomandstem.example"));
    let (_, notes) = csv_rows(&out.join("notes.csv"));
    assert_eq!(
        notes.len(),
        3,
        "WhatsApp messages become notes; the system line is skipped"
    );
    assert!(notes
        .iter()
        .any(|r| r[2].starts_with("[WhatsApp · inbound]\nWhere is my bouquet")));
    assert!(notes.iter().any(|r| r[2].contains("Attachments: IMG-Sarah-Jones.jpg")));
    let rejected = rejected_lines(&out);
    assert_eq!(rejected.len(), 2);
    assert!(rejected
        .iter()
        .any(|r| r["target"] == "emails" && r["reason"].as_str().unwrap().contains("65536")));
    assert!(rejected
        .iter()
        .any(|r| r["target"] == "calls" && r["reason"].as_str().unwrap().contains("no customer")));
    let f = fidelity(&out);
    assert_eq!(f["records"]["whatsapp"]["exported"], 3);
    assert_eq!(f["records"]["whatsapp"]["skipped"], 1);
    assert_eq!(f["records"]["email"]["rejected"], 1);
    let fields = f["fields"].as_array().unwrap();
    assert!(fields
        .iter()
        .any(|e| e["channel"] == "call" && e["field"] == "status" && e["outcome"] == "changed"));
    let m = manifest(&out);
    assert_eq!(m["counts"]["rejected"], 2);
}

fn json_file(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn zendesk_profile_writes_users_and_tickets_with_timed_comments() {
    let (dir, ws) = workspace(true);
    let out = dir.path().join("zd");
    ok(&omnitrail(
        &ws,
        &["export", "--format", "zendesk", "--out", out.to_str().unwrap()],
    ));
    let users = json_file(&out.join("users-0001.json"));
    let users = users["users"].as_array().unwrap();
    assert_eq!(users.len(), 3);
    let sarah = users.iter().find(|u| u["external_id"] == SARAH).unwrap();
    assert_eq!(sarah["name"], "Sarah Jones");
    assert_eq!(sarah["email"], "sarah.jones@mail.example");
    assert_eq!(sarah["phone"], "+447700900123");
    assert_eq!(sarah["role"], "end-user");
    let tickets = json_file(&out.join("tickets-0001.json"));
    let tickets = tickets["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 3, "{tickets:#?}");
    let mail = tickets.iter().find(|t| t["tags"][1] == "email").unwrap();
    assert_eq!(mail["subject"], "Order BS-10442 — Sarah Jones");
    assert_eq!(mail["requester"]["email"], "sarah.jones@mail.example");
    assert_eq!(mail["status"], "closed");
    assert_eq!(mail["created_at"], "2026-03-18T13:54:00Z");
    let comments = mail["comments"].as_array().unwrap();
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[0]["created_at"], "2026-03-18T13:54:00Z");
    assert_eq!(comments[1]["created_at"], "2026-03-18T14:54:00Z");
    assert!(comments[1]["value"]
        .as_str()
        .unwrap()
        .starts_with("[Email · outbound · orders@bloomandstem.example]"));
    let wa = tickets.iter().find(|t| t["tags"][1] == "whatsapp").unwrap();
    assert_eq!(
        wa["comments"].as_array().unwrap().len(),
        2,
        "the system line is skipped"
    );
    let rejected = rejected_lines(&out);
    let reasons: Vec<&str> = rejected.iter().map(|r| r["reason"].as_str().unwrap()).collect();
    assert_eq!(
        reasons.iter().filter(|r| r.contains("has no email")).count(),
        2,
        "{reasons:?}"
    );
    assert!(reasons.iter().any(|r| r.contains("65000")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.starts_with("no customer")), "{reasons:?}");
    let f = fidelity(&out);
    assert_eq!(f["records"]["whatsapp"]["exported"], 2);
    assert_eq!(f["records"]["whatsapp"]["rejected"], 1);
    assert!(f["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["field"] == "ts" && e["outcome"] == "kept"));
}

#[test]
fn zendesk_bodies_hold_at_most_100_items() {
    let dir = tempfile::tempdir().unwrap();
    let mut parts = omnitrail::export::platform::SplitJson::new(
        dir.path(),
        "tickets",
        "tickets",
        omnitrail::export::zendesk::MAX_ITEMS,
    );
    for i in 0..201 {
        parts.write(&serde_json::json!({"external_id": i})).unwrap();
    }
    let names: Vec<(String, u64)> = parts.finish().unwrap();
    assert_eq!(names.iter().map(|p| p.1).collect::<Vec<_>>(), vec![100, 100, 1]);
}

#[test]
fn chatwoot_profile_writes_contacts_and_conversations_keeping_original_times_in_the_text() {
    let (dir, ws) = workspace(true);
    let out = dir.path().join("cw");
    ok(&omnitrail(
        &ws,
        &["export", "--format", "chatwoot", "--out", out.to_str().unwrap()],
    ));
    let (h, contacts) = csv_rows(&out.join("contacts.csv"));
    assert_eq!(h, ["identifier", "name", "email", "phone_number"]);
    assert_eq!(contacts.len(), 3);
    assert!(contacts.contains(&vec![
        TOMASZ.to_string(),
        "Tomasz Wiśniewski".into(),
        "".into(),
        "+447700900456".into()
    ]));
    let conv = json_file(&out.join("conversations-0001.json"));
    let conv = conv["conversations"].as_array().unwrap();
    assert_eq!(conv.len(), 6);
    let wa = conv
        .iter()
        .find(|c| c["contact_identifier"] == SARAH && c["channel"] == "whatsapp")
        .unwrap();
    let msgs = wa["messages"].as_array().unwrap();
    assert_eq!(msgs[0]["message_type"], "incoming");
    assert_eq!(msgs[1]["message_type"], "outgoing");
    assert!(msgs[0]["content"]
        .as_str()
        .unwrap()
        .starts_with("[2026-03-18 09:54:00 UTC] [WhatsApp · inbound]"));
    assert_eq!(msgs[0]["original_created_at"], "2026-03-18T09:54:00Z");
    assert_eq!(
        wa["additional_attributes"]["original_started_at"],
        "2026-03-18T09:54:00Z"
    );
    assert_eq!(rejected_lines(&out).len(), 1);
    let f = fidelity(&out);
    assert!(f["fields"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["field"] == "ts" && e["outcome"] == "changed"));
    assert!(std::fs::read_to_string(out.join("FIDELITY.md"))
        .unwrap()
        .contains("original time"));
}

#[test]
fn salesforce_profile_writes_data_loader_contacts_and_tasks() {
    let (dir, ws) = workspace(true);
    let out = dir.path().join("sf");
    ok(&omnitrail(
        &ws,
        &["export", "--format", "salesforce", "--out", out.to_str().unwrap()],
    ));
    let (h, contacts) = csv_rows(&out.join("Contact.csv"));
    assert_eq!(
        h[..5],
        ["Omnitrail_Customer_Id__c", "FirstName", "LastName", "Email", "Phone"]
    );
    assert_eq!(contacts.len(), 3);
    let mike = contacts.iter().find(|r| r[0] == MIKE).unwrap();
    assert_eq!(mike[1..4], ["Mike", "O'Brien", "mike.obrien@corp.example"]);
    let (h, tasks) = csv_rows(&out.join("Task.csv"));
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    assert_eq!(tasks.len(), 7);
    let call = tasks
        .iter()
        .find(|t| t[col("Omnitrail_Interaction_Id__c")] == "call-1-0001")
        .unwrap();
    assert_eq!(call[col("Who.Omnitrail_Customer_Id__c")], SARAH);
    assert_eq!(call[col("TaskSubtype")], "Call");
    assert_eq!(call[col("CallType")], "Inbound");
    assert_eq!(call[col("CallDurationInSeconds")], "95");
    assert_eq!(call[col("ActivityDate")], "2026-03-19");
    assert_eq!(call[col("CreatedDate")], "2026-03-19T10:54:00.000Z");
    let wa = tasks
        .iter()
        .find(|t| t[col("Omnitrail_Interaction_Id__c")] == "wa-1-0002")
        .unwrap();
    assert_eq!(wa[col("Subject")], "WhatsApp inbound message");
    assert_eq!(wa[col("TaskSubtype")], "Task");
    let rejected = rejected_lines(&out);
    assert_eq!(rejected.len(), 2);
    assert!(rejected.iter().any(|r| r["reason"].as_str().unwrap().contains("32000")));
    assert!(std::fs::read_to_string(out.join("FIDELITY.md"))
        .unwrap()
        .contains("Set Audit Fields"));
}

#[test]
fn json_summary_lists_every_file_with_its_checksum() {
    let (dir, ws) = workspace(true);
    let out = dir.path().join("j");
    let text = ok(&omnitrail(
        &ws,
        &["--json", "export", "--format", "jsonl", "--out", out.to_str().unwrap()],
    ));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["format"], "jsonl");
    assert_eq!(v["counts"]["interactions"], 10);
    let files: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            "customers.jsonl",
            "identities.jsonl",
            "links.jsonl",
            "interactions.jsonl"
        ]
    );
}
