//! `omnitrail gen`: determinism, truth consistent with the files, and the generated exports
//! imported with the truth's line references, and matched the same way on every run.

use crate::common::{self, gen, import_generated, ok, omnitrail};

use omnitrail::identity::identity_id;
use omnitrail::model::{Channel, HandleKind};
use omnitrail::workspace::Workspace;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::process::Command;

/// Every file under `dir` (relative path → bytes hash).
fn tree_hash(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, blake3::hash(&std::fs::read(&p).unwrap()).to_hex().to_string());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let a = gen(&dir.path().join("a"), 60, 5);
    let b = gen(&dir.path().join("b"), 60, 5);
    let c = gen(&dir.path().join("c"), 60, 6);
    let (ha, hb, hc) = (tree_hash(&a), tree_hash(&b), tree_hash(&c));
    assert!(ha.len() > 20, "{ha:?}");
    assert_eq!(ha, hb);
    assert_ne!(ha, hc);
}

#[test]
fn gen_refuses_a_folder_that_is_not_empty_and_reports_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x"), "keep").unwrap();
    let o = omnitrail(&["gen", "--customers", "5", "--out", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let out = dir.path().join("new");
    let o = omnitrail(&["--json", "gen", "--customers", "5", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["customers"], 5);
    assert!(v["interactions"].as_u64().unwrap() > 5);
}

#[test]
fn truth_counts_agree_with_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = gen(dir.path(), 150, 11);
    let rows = read_csv(&out.join("truth/interactions.csv"));
    let count = |ch: &str| rows.iter().filter(|r| r["channel"] == ch).count();
    // Email: one truth row per message in the mbox, keyed by Message-ID.
    let mbox = std::fs::read_to_string(out.join("email/support.mbox")).unwrap();
    let ids: BTreeSet<String> = mbox
        .lines()
        .filter_map(|l| l.strip_prefix("Message-ID: <"))
        .map(|l| l.trim_end_matches('>').to_string())
        .collect();
    assert_eq!(mbox.lines().filter(|l| l.starts_with("From ")).count(), ids.len());
    let truth_ids: BTreeSet<String> = rows
        .iter()
        .filter(|r| r["channel"] == "email")
        .map(|r| r["source_ref"].clone())
        .collect();
    assert_eq!(ids, truth_ids);
    assert_eq!(count("email"), ids.len());
    // Calls: one per linkedid in Master.csv, one per parent SID in the Twilio log.
    let mut linked = BTreeSet::new();
    for rec in csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(out.join("calls/Master.csv"))
        .unwrap()
        .records()
    {
        let rec = rec.unwrap();
        assert_eq!(rec.len(), 21);
        linked.insert(rec[19].to_string());
    }
    let twilio = read_csv(&out.join("calls/twilio-calls.csv"));
    let parents: BTreeSet<String> = twilio
        .iter()
        .filter(|r| r["parent_call_sid"].is_empty())
        .map(|r| r["sid"].clone())
        .collect();
    let truth_calls: BTreeSet<String> = rows
        .iter()
        .filter(|r| r["channel"] == "call")
        .map(|r| r["source_ref"].clone())
        .collect();
    assert_eq!(truth_calls, linked.union(&parents).cloned().collect());
    // Contacts: one per CSV record, at its line, and one per address-book card.
    let contacts = read_csv(&out.join("contacts/crm-contacts.csv"));
    let cards = std::fs::read_to_string(out.join("contacts/phone-book.vcf"))
        .unwrap()
        .matches("BEGIN:VCARD")
        .count();
    assert!(cards > 0);
    assert_eq!(count("contact"), contacts.len() + cards);
    // Every customer-side record's customer exists; summary agrees with the rows.
    let customers: BTreeSet<String> = read_csv(&out.join("truth/customers.csv"))
        .into_iter()
        .map(|r| r["customer_id"].clone())
        .collect();
    assert_eq!(customers.len(), 150);
    assert!(rows
        .iter()
        .all(|r| r["customer_id"].is_empty() || customers.contains(&r["customer_id"])));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("truth/summary.json")).unwrap()).unwrap();
    // Contact-list rows are identity anchors, not interactions (docs/metrics.md).
    assert_eq!(
        summary["interactions"].as_u64().unwrap() as usize,
        rows.len() - count("contact")
    );
    assert_eq!(
        summary["generated"]["interactions"].as_u64().unwrap() as usize,
        rows.len()
    );
    let episodes = read_csv(&out.join("truth/episodes.csv"));
    assert_eq!(summary["episodes"].as_u64().unwrap() as usize, episodes.len());
    let switches = read_csv(&out.join("truth/switches.csv"));
    assert_eq!(summary["channel_switches"].as_u64().unwrap() as usize, switches.len());
    assert!(!switches.is_empty());
    let repeated = switches.iter().filter(|s| s["repeated_details"] == "true").count();
    assert_eq!(
        summary["switches_with_repeated_details"].as_u64().unwrap() as usize,
        repeated
    );
    let unanswered = read_csv(&out.join("truth/unanswered.csv"));
    assert_eq!(
        summary["unanswered_per_channel"].as_u64().unwrap() as usize,
        unanswered.len()
    );
    let unified = unanswered.iter().filter(|u| u["unanswered_unified"] == "true").count();
    assert_eq!(summary["unanswered_unified"].as_u64().unwrap() as usize, unified);
    // Base names are unique across the dataset.
    let files: BTreeSet<&String> = rows.iter().map(|r| &r["file"]).collect();
    let bases: BTreeSet<&str> = files.iter().map(|f| f.rsplit('/').next().unwrap()).collect();
    assert_eq!(files.len(), bases.len());
}

#[test]
fn whatsapp_exports_import_with_the_truths_line_references_and_identities() {
    let dir = tempfile::tempdir().unwrap();
    let out = gen(dir.path(), 120, 3);
    let ws = import_generated(&dir.path().join("ws"), &out, &["whatsapp"], true);
    let df = common::interactions(
        &ws,
        &[
            "source_file",
            "source_ref",
            "ts",
            "customer_handle",
            "customer_handle_kind",
        ],
    );
    let ts = common::ts_strings(&df);
    let file = common::strings(&df, "source_file");
    let r = common::strings(&df, "source_ref");
    let handle = common::strings(&df, "customer_handle");
    let kind = common::strings(&df, "customer_handle_kind");
    // A zipped iOS chat is `…/WhatsApp Chat - NAME.zip!_chat.txt` in the workspace.
    let base = |f: &str| f.split('!').next().unwrap().rsplit('/').next().unwrap().to_string();
    let mut imported: BTreeMap<(String, String), (String, Option<String>)> = BTreeMap::new();
    for i in 0..df.height() {
        let identity = match (kind[i].as_deref(), handle[i].as_deref()) {
            (Some("phone"), Some(h)) => Some(identity_id(HandleKind::Phone, h, Channel::Whatsapp)),
            (Some("name"), Some(h)) => Some(identity_id(HandleKind::Name, h, Channel::Whatsapp)),
            (Some(k), _) => panic!("unexpected handle kind {k}"),
            _ => None,
        };
        imported.insert(
            (base(file[i].as_deref().unwrap()), r[i].clone().unwrap()),
            (ts[i].clone(), identity),
        );
    }
    let identities: HashMap<String, BTreeSet<String>> =
        read_csv(&out.join("truth/identities.csv"))
            .into_iter()
            .fold(HashMap::new(), |mut m, r| {
                m.entry(r["identity_id"].clone())
                    .or_default()
                    .insert(r["customer_id"].clone());
                m
            });
    let truth: Vec<HashMap<String, String>> = read_csv(&out.join("truth/interactions.csv"))
        .into_iter()
        .filter(|r| r["channel"] == "whatsapp")
        .collect();
    assert_eq!(truth.len(), imported.len(), "record counts differ");
    assert!(truth.iter().any(|t| t["file"].ends_with(".zip")), "no zipped iOS chat");
    for t in &truth {
        let key = (base(&t["file"]), t["source_ref"].clone());
        let (ts, identity) = imported.get(&key).unwrap_or_else(|| panic!("{key:?} not imported"));
        assert_eq!(&t["ts"][..19], ts, "{key:?}");
        match identity {
            Some(id) => {
                let owners = identities
                    .get(id)
                    .unwrap_or_else(|| panic!("{id} not in truth/identities.csv"));
                assert!(
                    owners.contains(&t["customer_id"]),
                    "{key:?}: {id} belongs to {owners:?}"
                );
            }
            None => assert!(t["customer_id"].is_empty(), "{key:?} has no identity after import"),
        }
    }
}

/// Splits an mbox at its `From ` separators (a blank line, then `From `).
fn mbox_messages(mbox: &str) -> Vec<&str> {
    let mut starts = vec![0];
    starts.extend(mbox.match_indices("\n\nFrom ").map(|(i, _)| i + 2));
    starts
        .iter()
        .enumerate()
        .map(|(n, &s)| &mbox[s..starts.get(n + 1).copied().unwrap_or(mbox.len())])
        .collect()
}

#[test]
fn emails_and_calls_carry_the_identities_the_truth_lists() {
    let dir = tempfile::tempdir().unwrap();
    let out = gen(dir.path(), 150, 21);
    let rows = read_csv(&out.join("truth/interactions.csv"));
    let owner: HashMap<String, String> = rows
        .iter()
        .map(|r| (r["source_ref"].clone(), r["customer_id"].clone()))
        .collect();
    let identities: BTreeSet<(String, String)> = read_csv(&out.join("truth/identities.csv"))
        .into_iter()
        .map(|r| (r["identity_id"].clone(), r["customer_id"].clone()))
        .collect();
    let mbox = std::fs::read_to_string(out.join("email/support.mbox")).unwrap();
    let (mut customer_mail, mut multipart, mut encoded, mut auto) = (0, 0, 0, 0);
    for raw in mbox_messages(&mbox) {
        let body_start = raw.find('\n').unwrap() + 1;
        let m = mailparse::parse_mail(&raw.as_bytes()[body_start..]).unwrap();
        let header = |h: &str| m.headers.iter().find(|x| x.get_key_ref().eq_ignore_ascii_case(h));
        let id = header("Message-ID").unwrap().get_value();
        let id = id.trim_matches(|c| c == '<' || c == '>');
        let customer = owner.get(id).unwrap_or_else(|| panic!("{id} not in truth"));
        let from = mailparse::addrparse_header(header("From").unwrap()).unwrap();
        let from = from.extract_single_info().unwrap();
        assert!(!from.display_name.clone().unwrap_or_default().contains("=?"), "{raw}");
        if raw.contains("=?UTF-8?Q?") {
            encoded += 1;
        }
        if m.ctype.mimetype == "multipart/alternative" {
            multipart += 1;
            assert_eq!(m.subparts.len(), 2);
            assert!(m.subparts[0].get_body().unwrap().contains(' '));
        }
        if header("Auto-Submitted").is_some() {
            auto += 1;
            assert!(customer.is_empty(), "automated mail {id} has customer {customer}");
            continue;
        }
        if from.addr.ends_with("@bloomandstem.example") {
            let to = mailparse::addrparse_header(header("To").unwrap()).unwrap();
            let to = to.extract_single_info().unwrap().addr.to_lowercase();
            if to.ends_with("@bloomandstem.example") {
                assert!(customer.is_empty());
            } else {
                assert!(
                    identities.contains(&(format!("email:{to}"), customer.clone())),
                    "{to} of {customer}"
                );
            }
        } else {
            customer_mail += 1;
            let addr = from.addr.to_lowercase();
            assert!(
                identities.contains(&(format!("email:{addr}"), customer.clone())),
                "{addr} of {customer}"
            );
        }
    }
    assert!(
        customer_mail > 20 && multipart > 5 && encoded > 0 && auto > 0,
        "{customer_mail} {multipart} {encoded} {auto}"
    );
    // Calls: the customer's number on each Asterisk call (caller or callee) is theirs.
    let gb = omnitrail::normalize::phone::Region::parse("GB").unwrap();
    for rec in csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(out.join("calls/Master.csv"))
        .unwrap()
        .records()
    {
        let rec = rec.unwrap();
        let customer = &owner[&rec[19]];
        let number = if &rec[3] == "from-internal" { &rec[2] } else { &rec[1] };
        match omnitrail::normalize::phone::to_e164(number, gb) {
            Some(e164) if !customer.is_empty() => {
                assert!(
                    identities.contains(&(format!("phone:{e164}"), customer.clone())),
                    "{e164} of {customer}"
                )
            }
            _ => assert!(customer.is_empty() && number.len() == 3, "{rec:?}"),
        }
    }
}

#[test]
fn crm_leads_are_contact_only_customers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("g");
    let o = omnitrail(&[
        "--quiet",
        "gen",
        "--customers",
        "20",
        "--crm-leads",
        "40",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    let contacts = read_csv(&out.join("contacts/crm-contacts.csv"));
    let rows = read_csv(&out.join("truth/interactions.csv"));
    let contact_rows: Vec<&HashMap<String, String>> = rows
        .iter()
        .filter(|r| r["file"] == "contacts/crm-contacts.csv")
        .collect();
    assert_eq!(contact_rows.len(), contacts.len());
    assert!(contacts.len() >= 40);
    assert_eq!(read_csv(&out.join("truth/customers.csv")).len(), 60);
    // Line references point at the rows: line N holds record N-1 (after the header).
    for (n, r) in contact_rows.iter().enumerate() {
        assert_eq!(r["source_ref"], format!("line:{}", n + 2));
    }
}

/// The benchmark suite at a tiny scale: it must run end to end (not a timing).
#[test]
fn the_benchmark_runs_at_small_scale() {
    let dir = tempfile::tempdir().unwrap();
    let bench = env!("CARGO_BIN_EXE_bench-gen");
    let o = Command::new(bench)
        .args(["gen", "30"])
        .arg(dir.path().join("g"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("customers/s"));
    let o = Command::new(bench)
        .args(["import", "0.05", env!("CARGO_BIN_EXE_omnitrail")])
        .arg(dir.path().join("i"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{stdout}{}", String::from_utf8_lossy(&o.stderr));
    let row = stdout
        .lines()
        .find(|l| l.starts_with("| whatsapp |"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(row.contains("MB/s") && row.contains("×"), "{row}");
}

/// The business phone's address book: one card per saved chat name (its `FN` is the name the
/// chat shows, its key the customer's mobile), none for unsaved chats; imported with the
/// truth's card references and identities.
#[test]
fn the_phone_book_names_every_saved_chat_and_imports_with_the_truths_cards() {
    let dir = tempfile::tempdir().unwrap();
    let out = gen(dir.path(), 120, 3);
    let ws = import_generated(&dir.path().join("ws"), &out, &["contacts/phone-book.vcf"], true);
    let df = common::interactions(&ws, &["source_ref", "ts", "customer_handle", "customer_name"]);
    let ts = common::ts_strings(&df);
    let refs = common::strings(&df, "source_ref");
    let handle = common::strings(&df, "customer_handle");
    let name = common::strings(&df, "customer_name");
    let truth: HashMap<String, HashMap<String, String>> = read_csv(&out.join("truth/interactions.csv"))
        .into_iter()
        .filter(|r| r["file"] == "contacts/phone-book.vcf")
        .map(|r| (r["source_ref"].clone(), r))
        .collect();
    assert_eq!(truth.len(), df.height());
    let identities: BTreeSet<(String, String)> = read_csv(&out.join("truth/identities.csv"))
        .into_iter()
        .map(|r| (r["identity_id"].clone(), r["customer_id"].clone()))
        .collect();
    // customer → card name
    let mut card_names: HashMap<String, String> = HashMap::new();
    for i in 0..df.height() {
        let r = refs[i].clone().unwrap();
        let t = truth.get(&r).unwrap_or_else(|| panic!("{r} not in the truth"));
        assert_eq!(&t["ts"][..19], ts[i], "{r}");
        let id = identity_id(HandleKind::Phone, handle[i].as_deref().unwrap(), Channel::Contact);
        assert!(
            identities.contains(&(id.clone(), t["customer_id"].clone())),
            "{r}: {id} is not {}'s",
            t["customer_id"]
        );
        assert!(card_names
            .insert(t["customer_id"].clone(), name[i].clone().unwrap())
            .is_none());
    }
    let saved: Vec<(String, String)> = identities
        .iter()
        .filter_map(|(id, c)| id.strip_prefix("name:whatsapp:").map(|n| (n.to_string(), c.clone())))
        .collect();
    assert!(saved.len() > 20);
    for (n, c) in &saved {
        assert_eq!(card_names.get(c), Some(n), "{c}'s card does not carry the chat name");
    }
    // Unsaved chats (the file names the number) have no card; some callers have one.
    let chats = read_csv(&out.join("truth/interactions.csv"));
    let unsaved: BTreeSet<&String> = chats
        .iter()
        .filter(|r| r["channel"] == "whatsapp" && r["file"].contains("+44") && !r["customer_id"].is_empty())
        .map(|r| &r["customer_id"])
        .collect();
    assert!(!unsaved.is_empty());
    assert!(unsaved.iter().all(|c| !card_names.contains_key(*c)));
    assert!(card_names.len() > saved.len());
}

/// `match` writes the same bytes on every run: no rule's output may depend on hash-map
/// order or threads (a thousand customers have enough shared orders and mentions to show it).
#[test]
fn matching_generated_data_gives_the_same_files_on_every_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = gen(dir.path(), 1000, 1);
    let ws = dir.path().join("ws");
    import_generated(&ws, &out, &["whatsapp", "email", "calls", "contacts"], false);
    let ws = ws.to_str().unwrap();
    let files = ["customers.parquet", "identities.parquet", "links.parquet"];
    let run = || {
        let o = omnitrail(&["--quiet", "--workspace", ws, "match"]);
        ok(&o);
        files.map(|f| std::fs::read(Path::new(ws).join(f)).unwrap())
    };
    let first = run();
    for _ in 0..3 {
        assert!(run() == first, "match output changed between runs");
    }
}

/// An import of many files prints one table row per format and outcome and each shared
/// note once, not a row and notes per chat; `status --json` keeps every file.
#[test]
fn an_import_of_many_chats_is_summarised() {
    let dir = tempfile::tempdir().unwrap();
    let out = gen(dir.path(), 120, 3);
    let ws = dir.path().join("ws");
    let o = omnitrail(&[
        "--workspace",
        ws.to_str().unwrap(),
        "import",
        out.join("whatsapp").to_str().unwrap(),
        "--business-file",
        out.join("business.toml").to_str().unwrap(),
    ]);
    ok(&o);
    let chats = Workspace::open_existing(&ws).unwrap().manifest().unwrap().sources.len();
    assert!(chats > 25, "{chats} chats");
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains(&format!("{chats} whatsapp files")), "{table}");
    assert!(table.contains(&format!("{chats} files in all")), "{table}");
    assert!(table.lines().count() < 12, "{table}");
    let notes = String::from_utf8_lossy(&o.stderr);
    assert!(notes.lines().count() <= 25, "{notes}");
    assert!(
        notes.contains(&format!("note: {chats} files (e.g. ")) && notes.contains("business side"),
        "{notes}"
    );
}
