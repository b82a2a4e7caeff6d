//! End-to-end tests of `omnitrail match` and `omnitrail explain`: workspaces built by
//! importing the demo WhatsApp chats and by writing email, call and contact records
//! through the workspace API, then the binary run on them.

use crate::common::{fixture, import};
use omnitrail::import::pipeline::{interaction_id, stage_source, NoProgress, SourcePlan, SourceResult};
use omnitrail::import::whatsapp::WhatsAppOptions;
use omnitrail::import::CommonOptions;
use omnitrail::model::{CallStatus, Channel, Direction, HandleKind, Interaction, Kind};
use omnitrail::normalize::phone::Region;
use omnitrail::workspace::{Counts, Workspace};
use polars::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Command, Output};

fn omnitrail(ws: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_omnitrail"))
        .arg("--workspace")
        .arg(ws)
        .args(args)
        .output()
        .unwrap()
}

fn ms(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_millis()
}

/// A record as an importer of `channel` would write it.
#[allow(clippy::too_many_arguments)]
fn record(
    channel: Channel,
    direction: Direction,
    ts: &str,
    handle: Option<(HandleKind, &str)>,
    name: Option<&str>,
    agent: Option<&str>,
    mentions: &[&str],
    source_ref: &str,
) -> Interaction {
    let kind = match channel {
        Channel::Call => Kind::Call,
        Channel::Contact => Kind::Contact,
        _ => Kind::Message,
    };
    let mut r = Interaction::new("", channel, direction, kind, ms(ts));
    r.customer_handle = handle.map(|h| h.1.to_string());
    r.customer_handle_kind = handle.map(|h| h.0);
    r.customer_name = name.map(str::to_string);
    r.agent = agent.map(str::to_string);
    r.mentions = mentions.iter().map(|m| m.to_string()).collect();
    r.source_ref = source_ref.to_string();
    if channel == Channel::Call {
        r.status = Some(CallStatus::Answered);
    }
    r
}

/// Writes one source of records through a workspace transaction, as importers do.
fn write_source(ws: &mut Workspace, file: &str, channel: &str, options: serde_json::Value, rows: Vec<Interaction>) {
    let hash = blake3::hash(file.as_bytes()).to_hex().to_string();
    let mut seen = HashSet::new();
    let mut txn = ws.begin();
    let plan = SourcePlan {
        id_prefix: "ts",
        display: file.to_string(),
        size: 1,
        content_hash: hash.clone(),
        format: channel.to_string(),
        channel: channel.to_string(),
        options,
        notes: vec![],
    };
    stage_source(&mut txn, &mut seen, false, plan, &NoProgress, |sink| {
        let mut result = SourceResult {
            counts: Counts::default(),
            ..Default::default()
        };
        for (i, mut r) in rows.into_iter().enumerate() {
            result.counts.read += 1;
            r.source_id = sink.source_id.to_string();
            r.source_file = file.to_string();
            r.seq = i as u64;
            r.interaction_id = interaction_id(&hash, i as u64);
            r.dedup_key = format!("{hash}-{i}");
            sink.push(&mut result, r)?;
        }
        Ok(result)
    })
    .unwrap();
    txn.commit().unwrap();
}

/// A WhatsApp chat with one inbound message from `name`, shown under that saved name.
fn write_chat(ws: &mut Workspace, name: &str, ts: &str) {
    write_source(
        ws,
        &format!("WhatsApp Chat with {name}.txt"),
        "whatsapp",
        serde_json::json!({"business_names": ["Bloom & Stem"]}),
        vec![record(
            Channel::Whatsapp,
            Direction::Inbound,
            ts,
            Some((HandleKind::Name, name)),
            Some(name),
            None,
            &[],
            "line:2",
        )],
    );
}

/// The demo's WhatsApp chats plus hand-written email, call and contact records.
fn demo_workspace(root: &Path) {
    let mut ws = Workspace::open(root).unwrap();
    let opts = WhatsAppOptions {
        business_names: vec!["Bloom & Stem".into()],
        ..Default::default()
    };
    let common = CommonOptions {
        tz: chrono_tz::Europe::London,
        tz_origin: "test".into(),
        region: Region::parse("GB").unwrap(),
        region_code: Some("GB".into()),
    };
    import(&mut ws, &[fixture("demo/whatsapp")], &opts, &common).unwrap();
    use Channel::*;
    use Direction::*;
    use HandleKind::{Email as E, Name as N, Phone as P};
    let shop = Some("tom@bloomandstem.example");
    write_source(
        &mut ws,
        "support.mbox",
        "email",
        serde_json::json!({"business_domains": ["bloomandstem.example"]}),
        vec![
            // Mark e-mails 7 minutes before writing on WhatsApp.
            record(
                Email,
                Inbound,
                "2026-03-16T10:02:45Z",
                Some((E, "mark.chen@post.example")),
                Some("Mark Chen"),
                Some("support@bloomandstem.example"),
                &[],
                "m1@post.example",
            ),
            // Sarah restates her order and signs with her mobile.
            record(
                Email,
                Inbound,
                "2026-03-19T10:21:37Z",
                Some((E, "sarah.jones@mail.example")),
                Some("Sarah Jones"),
                Some("support@bloomandstem.example"),
                &["phone:+447700900456", "order:BS-10442"],
                "s3@mail.example",
            ),
            record(
                Email,
                Outbound,
                "2026-03-19T11:02:10Z",
                Some((E, "sarah.jones@mail.example")),
                Some("Sarah Jones"),
                Some("priya@bloomandstem.example"),
                &["order:BS-10442"],
                "s5@bloomandstem.example",
            ),
            // Tom's outbound signature carries the shop's number: no evidence about anyone.
            record(
                Email,
                Outbound,
                "2026-03-18T09:30:00Z",
                Some((E, "emilie.dubois@courrier.example")),
                Some("Émilie Dubois"),
                shop,
                &["phone:+442079460100"],
                "e2@bloomandstem.example",
            ),
            record(
                Email,
                Inbound,
                "2026-03-17T15:40:00Z",
                Some((E, "emilie.dubois@courrier.example")),
                Some("Émilie Dubois"),
                None,
                &[],
                "e1@courrier.example",
            ),
            // Two people of one household both write the family number.
            record(
                Email,
                Inbound,
                "2026-03-20T09:00:00Z",
                Some((E, "ann.smith@home.example")),
                Some("Ann Smith"),
                None,
                &["phone:+447700900300"],
                "a1@home.example",
            ),
            record(
                Email,
                Inbound,
                "2026-03-21T09:00:00Z",
                Some((E, "bob.smith@work.example")),
                Some("Bob Smith"),
                None,
                &["phone:+447700900300"],
                "b1@work.example",
            ),
            // Two customers write the shop's number and a role mailbox: neither glues them.
            record(
                Email,
                Inbound,
                "2026-03-22T09:00:00Z",
                Some((E, "kate.moss@mail.example")),
                Some("Kate Moss"),
                None,
                &["phone:+442079460100", "email:info@florist.example"],
                "k1@mail.example",
            ),
            record(
                Email,
                Inbound,
                "2026-03-22T10:00:00Z",
                Some((E, "ravi.rao@mail.example")),
                Some("Ravi Rao"),
                None,
                &["phone:+442079460100", "email:info@florist.example"],
                "r1@mail.example",
            ),
            record(
                Email,
                Inbound,
                "2026-03-10T10:00:00Z",
                Some((E, "info@florist.example")),
                Some("Florist Info"),
                None,
                &[],
                "i1@florist.example",
            ),
            // A common name, far apart in time, nothing else shared: not the same person.
            record(
                Email,
                Inbound,
                "2026-01-05T10:00:00Z",
                Some((E, "js1984@mail.example")),
                Some("John Smith"),
                None,
                &[],
                "j1@mail.example",
            ),
        ],
    );
    write_source(
        &mut ws,
        "Master.csv",
        "call",
        serde_json::json!({"business_numbers": ["+44 20 7946 0100"], "region": "GB"}),
        vec![
            record(
                Call,
                Inbound,
                "2026-03-19T10:05:12Z",
                Some((P, "+447700900456")),
                None,
                None,
                &[],
                "1773915912.8",
            ),
            record(
                Call,
                Inbound,
                "2026-03-30T09:12:44Z",
                Some((P, "+447700900123")),
                None,
                Some("SIP/202"),
                &[],
                "1774861964.12",
            ),
            record(
                Call,
                Inbound,
                "2026-03-20T10:00:00Z",
                Some((P, "+447700900300")),
                Some("Ann Smith"),
                Some("SIP/201"),
                &[],
                "c-ann",
            ),
            record(
                Call,
                Inbound,
                "2026-03-21T10:00:00Z",
                Some((P, "+447700900300")),
                Some("Bob Smith"),
                Some("SIP/201"),
                &[],
                "c-bob",
            ),
            // A misconfigured leg with the shop's own number as the customer side.
            record(
                Call,
                Inbound,
                "2026-03-22T11:00:00Z",
                Some((P, "+442079460100")),
                None,
                None,
                &[],
                "c-self",
            ),
        ],
    );
    write_source(
        &mut ws,
        "phone-book.vcf",
        "contact",
        serde_json::Value::Null,
        vec![record(
            Contact,
            System,
            "2026-04-01T00:00:00Z",
            Some((P, "+447700900777")),
            Some("Priti Patel"),
            None,
            &["phone:+447700900777", "email:priti@patel.example", "extid:CRM-1"],
            "line:2",
        )],
    );
    write_source(
        &mut ws,
        "more-chats.txt",
        "whatsapp",
        serde_json::json!({"business_names": ["Bloom & Stem"]}),
        vec![
            record(
                Whatsapp,
                Inbound,
                "2026-03-25T09:00:00Z",
                Some((N, "Priti Patel")),
                Some("Priti Patel"),
                None,
                &[],
                "line:1",
            ),
            record(
                Whatsapp,
                Inbound,
                "2026-09-01T09:00:00Z",
                Some((N, "John Smith")),
                Some("John Smith"),
                None,
                &[],
                "line:2",
            ),
        ],
    );
    write_source(
        &mut ws,
        "priti.mbox",
        "email",
        serde_json::Value::Null,
        vec![record(
            Email,
            Inbound,
            "2026-03-26T09:00:00Z",
            Some((E, "priti@patel.example")),
            Some("Priti"),
            None,
            &[],
            "p1@patel.example",
        )],
    );
}

/// identity_id → (customer_id, guard) from identities.parquet.
fn identities(root: &Path) -> HashMap<String, (String, Option<String>)> {
    let df = ParquetReader::new(std::fs::File::open(root.join("identities.parquet")).unwrap())
        .finish()
        .unwrap();
    let get = |c: &str| -> Vec<Option<String>> {
        df.column(c)
            .unwrap()
            .str()
            .unwrap()
            .iter()
            .map(|s| s.map(str::to_string))
            .collect()
    };
    let (ids, custs, guards) = (get("identity_id"), get("customer_id"), get("guard"));
    ids.into_iter()
        .zip(custs)
        .zip(guards)
        .map(|((i, c), g)| (i.unwrap(), (c.unwrap(), g)))
        .collect()
}

fn run_ok(root: &Path, args: &[&str]) -> String {
    let out = omnitrail(root, args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_demo_people_become_one_customer_each_and_guards_hold() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    demo_workspace(root);
    run_ok(root, &["match"]);
    let ids = identities(root);
    let cust = |id: &str| ids.get(id).unwrap_or_else(|| panic!("no identity {id}")).0.clone();
    let guard = |id: &str| ids[id].1.clone();
    // Sarah: WhatsApp saved name + order + window; e-mail signature → her phone.
    assert_eq!(
        cust("name:whatsapp:Sarah Jones"),
        cust("email:sarah.jones@mail.example")
    );
    assert_eq!(cust("email:sarah.jones@mail.example"), cust("phone:+447700900456"));
    // Mark: name + 7-minute window + local part.
    assert_eq!(cust("name:whatsapp:Mark Chen"), cust("email:mark.chen@post.example"));
    assert_ne!(cust("name:whatsapp:Mark Chen"), cust("name:whatsapp:Sarah Jones"));
    // Contact record: phone, address and the WhatsApp saved name are one person.
    assert_eq!(cust("phone:+447700900777"), cust("email:priti@patel.example"));
    assert_eq!(cust("phone:+447700900777"), cust("name:whatsapp:Priti Patel"));
    // The family phone is shared and glues nobody.
    assert_eq!(guard("phone:+447700900300").as_deref(), Some("shared"));
    assert_ne!(
        cust("email:ann.smith@home.example"),
        cust("email:bob.smith@work.example")
    );
    // The shop's number and a role mailbox glue nobody.
    assert_eq!(guard("phone:+442079460100").as_deref(), Some("business"));
    assert_eq!(guard("email:info@florist.example").as_deref(), Some("generic"));
    assert_ne!(
        cust("email:kate.moss@mail.example"),
        cust("email:ravi.rao@mail.example")
    );
    assert_ne!(cust("email:kate.moss@mail.example"), cust("phone:+442079460100"));
    // A common name alone is not enough.
    assert_ne!(cust("email:js1984@mail.example"), cust("name:whatsapp:John Smith"));
    // Émilie's e-mail with the shop number in Tom's signature is not linked to the shop.
    assert_ne!(
        cust("email:emilie.dubois@courrier.example"),
        cust("phone:+442079460100")
    );
    for c in ids.values() {
        assert!(c.0.starts_with("C-") && c.0.len() == 12, "{}", c.0);
    }
}

#[test]
fn customer_ids_are_stable_across_runs_and_files_are_replaced_whole() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    demo_workspace(root);
    run_ok(root, &["match"]);
    let first = identities(root);
    run_ok(root, &["match", "--threshold", "0.8"]);
    assert_eq!(first, identities(root));
    let leftovers: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with("tmp-write"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // The id derives from the cluster's anchor (its phone when it has one).
    let expected = format!("C-{}", &blake3::hash(b"phone:+447700900456").to_hex()[..10]);
    assert_eq!(first["email:sarah.jones@mail.example"].0, expected);
}

#[test]
fn threshold_trades_precision_for_recall() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    demo_workspace(root);
    run_ok(root, &["match", "--threshold", "0.5"]);
    let low = identities(root);
    // At 0.5 a bare common name links (0.55): the two John Smiths merge.
    assert_eq!(low["email:js1984@mail.example"].0, low["name:whatsapp:John Smith"].0);
    run_ok(root, &["match", "--threshold", "0.9"]);
    let high = identities(root);
    assert_ne!(
        high["name:whatsapp:Mark Chen"].0,
        high["email:mark.chen@post.example"].0
    );
    assert_eq!(
        high["email:sarah.jones@mail.example"].0, high["phone:+447700900456"].0,
        "contact/mention links are strong"
    );
}

#[test]
fn overrides_are_obeyed_and_bad_ones_name_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    demo_workspace(root);
    let ov = root.join("overrides.csv");
    std::fs::write(
        &ov,
        "action,identity_a,identity_b\nnever_link,name:whatsapp:Mark Chen,email:mark.chen@post.example\nforce_link,email:js1984@mail.example,name:whatsapp:John Smith\n",
    )
    .unwrap();
    run_ok(root, &["match", "--overrides", ov.to_str().unwrap()]);
    let ids = identities(root);
    assert_ne!(ids["name:whatsapp:Mark Chen"].0, ids["email:mark.chen@post.example"].0);
    assert_eq!(ids["email:js1984@mail.example"].0, ids["name:whatsapp:John Smith"].0);
    std::fs::write(&ov, "force_link,email:nobody@x.example,name:whatsapp:John Smith\n").unwrap();
    let out = omnitrail(root, &["match", "--overrides", ov.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 1") && err.contains("nobody@x.example"), "{err}");
}

#[test]
fn explain_shows_the_chain_of_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    demo_workspace(root);
    let out = omnitrail(root, &["explain", "Sarah Jones"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("omnitrail match"));
    run_ok(root, &["match"]);
    let text = run_ok(root, &["explain", "Sarah Jones"]);
    assert!(
        text.contains("name:whatsapp:Sarah Jones") && text.contains("phone:+447700900456"),
        "{text}"
    );
    assert!(text.contains("mention") && text.contains("BS-10442"), "{text}");
    let json: serde_json::Value =
        serde_json::from_str(&run_ok(root, &["--json", "explain", "07700 900456", "--region", "GB"])).unwrap();
    assert_eq!(json["anchor"], "phone:+447700900456");
    let ids = json["identities"].as_array().unwrap();
    assert_eq!(ids.len(), 3);
    let wa = ids
        .iter()
        .find(|i| i["identity_id"] == "name:whatsapp:Sarah Jones")
        .unwrap();
    let chain = wa["chain"].as_array().unwrap();
    assert_eq!(chain.len(), 2, "phone → email → WhatsApp name: {chain:?}");
    assert_eq!(chain[0]["rule"], "mention");
    assert!(
        chain[1]["rule"].as_str().unwrap().starts_with("name+order"),
        "{chain:?}"
    );
    let by_id = json["customer_id"].as_str().unwrap().to_string();
    let again: serde_json::Value = serde_json::from_str(&run_ok(root, &["--json", "explain", &by_id])).unwrap();
    assert_eq!(again["customer_id"], json["customer_id"]);
    assert_eq!(
        omnitrail(root, &["explain", "nobody@nowhere.example"]).status.code(),
        Some(1)
    );
}

#[test]
fn match_on_an_empty_workspace_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = omnitrail(dir.path(), &["match"]);
    assert_eq!(out.status.code(), Some(1));
    let json = omnitrail(dir.path(), &["match", "--threshold", "2"]);
    assert_eq!(json.status.code(), Some(2));
}

#[test]
fn near_in_time_links_a_name_only_when_nobody_else_goes_by_it() {
    use Channel::*;
    use Direction::*;
    use HandleKind::Email as E;
    // Lena e-mails, then writes on WhatsApp 7 minutes later; `extra` adds a namesake who
    // wrote months earlier from another address.
    let build = |root: &Path, extra: bool| {
        let mut ws = Workspace::open(root).unwrap();
        let mut mails = vec![record(
            Email,
            Inbound,
            "2026-03-16T10:02:45Z",
            Some((E, "lena.vogt@post.example")),
            Some("Lena Vogt"),
            Some("support@bloomandstem.example"),
            &[],
            "m1@post.example",
        )];
        if extra {
            mails.push(record(
                Email,
                Inbound,
                "2025-11-02T09:00:00Z",
                Some((E, "lv1990@mail.example")),
                Some("Lena Vogt"),
                Some("support@bloomandstem.example"),
                &[],
                "m2@mail.example",
            ));
        }
        write_source(
            &mut ws,
            "support.mbox",
            "email",
            serde_json::json!({"business_domains": ["bloomandstem.example"]}),
            mails,
        );
        write_chat(&mut ws, "Lena Vogt", "2026-03-16T10:09:45Z");
    };
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), false);
    run_ok(dir.path(), &["match"]);
    let ids = identities(dir.path());
    assert_eq!(ids["name:whatsapp:Lena Vogt"].0, ids["email:lena.vogt@post.example"].0);

    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), true);
    run_ok(dir.path(), &["match"]);
    let ids = identities(dir.path());
    assert_ne!(ids["name:whatsapp:Lena Vogt"].0, ids["email:lena.vogt@post.example"].0);
    assert_ne!(ids["name:whatsapp:Lena Vogt"].0, ids["email:lv1990@mail.example"].0);
}

#[test]
fn a_phone_book_card_named_exactly_as_the_chat_links_it_unless_another_card_is_too() {
    use Channel::*;
    use Direction::*;
    use HandleKind::{Email as E, Phone as P};
    let card = |phone: &str, name: &str, line: &str| {
        record(
            Contact,
            System,
            "2026-04-01T00:00:00Z",
            Some((P, phone)),
            Some(name),
            None,
            &[&format!("phone:{phone}")],
            line,
        )
    };
    // `twin` saves a second, different Fatima Adeyemi in the phone book under the same name.
    let build = |root: &Path, twin: bool| {
        let mut ws = Workspace::open(root).unwrap();
        let mut cards = vec![card("+447700900501", "Fatima Adeyemi", "line:1")];
        if twin {
            cards.push(card("+447700900502", "Fatima Adeyemi", "line:9"));
        }
        write_source(&mut ws, "phone-book.vcf", "contact", serde_json::Value::Null, cards);
        // Another Fatima Adeyemi in the CRM, spelled the CRM's way, with her own address.
        write_source(
            &mut ws,
            "crm.csv",
            "contact",
            serde_json::Value::Null,
            vec![record(
                Contact,
                System,
                "2026-04-01T00:00:00Z",
                Some((E, "f.adeyemi@mail.example")),
                Some("ADEYEMI, Fatima"),
                None,
                &["email:f.adeyemi@mail.example"],
                "line:2",
            )],
        );
        write_chat(&mut ws, "Fatima Adeyemi", "2026-03-16T10:09:45Z");
    };
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), false);
    run_ok(dir.path(), &["match"]);
    let ids = identities(dir.path());
    let chat = &ids["name:whatsapp:Fatima Adeyemi"].0;
    assert_eq!(chat, &ids["phone:+447700900501"].0);
    assert_ne!(chat, &ids["email:f.adeyemi@mail.example"].0);

    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), true);
    run_ok(dir.path(), &["match"]);
    let ids = identities(dir.path());
    let chat = &ids["name:whatsapp:Fatima Adeyemi"].0;
    assert_ne!(chat, &ids["phone:+447700900501"].0);
    assert_ne!(chat, &ids["phone:+447700900502"].0);
}
