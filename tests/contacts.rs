//! `omnitrail import contacts` end to end on the hand-made fixtures in fixtures/contacts
//! (the shared corpus has no contacts files): every CSV and vCard variant, the accounting,
//! re-imports, bad rows, spreadsheet damage, --contacts-map and detection.

use crate::common::{fixture, interactions, strings};
use omnitrail::workspace::Workspace;
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

/// Imports contacts files with `--json`; returns the report.
fn import(ws: &Path, files: &[&str], extra: &[&str]) -> serde_json::Value {
    let paths: Vec<String> = files
        .iter()
        .map(|f| fixture(&format!("contacts/{f}")).display().to_string())
        .collect();
    import_paths(ws, &paths.iter().map(String::as_str).collect::<Vec<_>>(), extra)
}

fn import_paths(ws: &Path, paths: &[&str], extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["--json", "import", "contacts"];
    args.extend(paths);
    args.extend(extra);
    let out = omnitrail(ws, &args);
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// `(read, imported, rejected, duplicates)` of the report's first source.
fn counts(report: &serde_json::Value) -> (u64, u64, u64, u64) {
    let c = &report["sources"][0]["counts"];
    let n = |k: &str| c[k].as_u64().unwrap();
    assert_eq!(
        n("read"),
        n("imported") + n("rejected") + n("duplicates"),
        "read = imported + rejected + duplicates"
    );
    (n("read"), n("imported"), n("rejected"), n("duplicates"))
}

/// One imported contact: handle, handle kind, name, mentions.
#[derive(Debug, PartialEq)]
struct Contact {
    handle: String,
    kind: String,
    name: Option<String>,
    mentions: Vec<String>,
}

fn contacts(ws: &Path) -> Vec<Contact> {
    let ws = Workspace::open_existing(ws).unwrap();
    let df = interactions(
        &ws,
        &[
            "customer_handle",
            "customer_handle_kind",
            "customer_name",
            "mentions",
            "seq",
        ],
    );
    if df.height() == 0 {
        return Vec::new();
    }
    let handles = strings(&df, "customer_handle");
    let kinds = strings(&df, "customer_handle_kind");
    let names = strings(&df, "customer_name");
    let mentions: Vec<Vec<String>> = df
        .column("mentions")
        .unwrap()
        .list()
        .unwrap()
        .amortized_iter()
        .map(|l| {
            l.map(|s| s.as_ref().str().unwrap().iter().flatten().map(str::to_string).collect())
                .unwrap_or_default()
        })
        .collect();
    (0..df.height())
        .map(|i| Contact {
            handle: handles[i].clone().unwrap(),
            kind: kinds[i].clone().unwrap(),
            name: names[i].clone(),
            mentions: mentions[i].clone(),
        })
        .collect()
}

fn c(handle: &str, kind: &str, name: Option<&str>, mentions: &[&str]) -> Contact {
    Contact {
        handle: handle.into(),
        kind: kind.into(),
        name: name.map(str::to_string),
        mentions: mentions.iter().map(|m| m.to_string()).collect(),
    }
}

fn rejects(ws: &Path) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(ws.join("rejects")).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
        out.extend(
            text.lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()),
        );
    }
    out.sort_by_key(|r| r["line"].as_u64());
    out
}

#[test]
fn hubspot_export_ignores_owner_columns_rejects_rows_without_identity_and_dedups() {
    let dir = tempfile::tempdir().unwrap();
    let report = import(dir.path(), &["hubspot-contacts.csv"], &["--region", "GB"]);
    assert_eq!(counts(&report), (6, 3, 2, 1));
    assert_eq!(
        contacts(dir.path()),
        vec![
            c(
                "+447700900456",
                "phone",
                Some("Sarah Jones"),
                &["phone:+447700900456", "email:sarah.jones@mail.example", "extid:1001"]
            ),
            c(
                "+442079460999",
                "phone",
                Some("Mark Chen"),
                &[
                    "phone:+442079460999",
                    "email:mark.chen@post.example",
                    "extid:1002",
                    "company:Chen Architects Ltd"
                ]
            ),
            c(
                "+447700900789",
                "phone",
                Some("Kate Price"),
                &["phone:+447700900789", "extid:1004"]
            ),
        ]
    );
    let r = rejects(dir.path());
    assert_eq!(r.len(), 2);
    assert_eq!(r[0]["line"], 4);
    assert_eq!(r[0]["reason"], "no name, phone or email");
    assert!(r[0]["raw"].as_str().unwrap().contains("Nameless Corp"));
    assert_eq!(r[1]["line"], 7);
    assert!(
        r[1]["reason"].as_str().unwrap().contains("not a valid number"),
        "{}",
        r[1]
    );
}

#[test]
fn google_contacts_multi_value_cells_and_bom() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        counts(&import(dir.path(), &["google-contacts.csv"], &["--region", "GB"])),
        (2, 2, 0, 0)
    );
    assert_eq!(
        contacts(dir.path()),
        vec![
            c(
                "+33612345678",
                "phone",
                Some("Émilie Dubois"),
                &[
                    "phone:+33612345678",
                    "phone:+33199001234",
                    "email:emilie.dubois@courrier.example",
                    "email:e.dubois@travail.example"
                ]
            ),
            c(
                "+442079460777",
                "phone",
                Some("Olu Adeyemi"),
                &[
                    "phone:+442079460777",
                    "phone:+447700900321",
                    "email:olu.adeyemi@inbox.example",
                    "email:olu@home.example",
                    "company:Adeyemi & Sons"
                ]
            ),
        ]
    );
}

#[test]
fn excel_resaved_german_outlook_file_drops_mangled_numbers_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let report = import(dir.path(), &["outlook-de-excel.csv"], &["--region", "DE"]);
    assert_eq!(counts(&report), (4, 3, 1, 0));
    let notes = report["sources"][0]["notes"].to_string();
    assert!(notes.contains("Windows-1252"), "{notes}");
    assert!(notes.contains("delimiter `;`"), "{notes}");
    assert!(notes.contains("2 phone value(s) in scientific notation"), "{notes}");
    assert!(notes.contains("1 phone value(s) that lost their leading 0"), "{notes}");
    let got = contacts(dir.path());
    // Jörg keeps his office number; the mangled mobile is not imported as a number.
    assert_eq!(
        got[0],
        c(
            "+4930901820",
            "phone",
            Some("Jörg Müller"),
            &[
                "phone:+4930901820",
                "email:joerg.mueller@blumen.example",
                "company:Blumen Müller GmbH"
            ]
        )
    );
    // Anke's only number lost its 0: she is kept by name, without a number.
    assert_eq!(got[1], c("Anke Weiß", "name", Some("Anke Weiß"), &[]));
    assert_eq!(got[2].handle, "+4915123456789");
    assert!(got.iter().all(|c| c.mentions.iter().all(|m| !m.contains("4477"))));
    let r = rejects(dir.path());
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["line"], 6);
    assert!(
        r[0]["reason"].as_str().unwrap().contains("scientific notation"),
        "{}",
        r[0]
    );
}

#[test]
fn utf16_tab_separated_french_outlook_file() {
    let dir = tempfile::tempdir().unwrap();
    let report = import(dir.path(), &["outlook-fr-unicode.txt"], &["--region", "FR"]);
    assert_eq!(counts(&report), (2, 2, 0, 0));
    assert!(report["sources"][0]["notes"].to_string().contains("UTF-16"));
    assert_eq!(
        contacts(dir.path()),
        vec![
            c(
                "+33612345678",
                "phone",
                Some("Émilie Dubois"),
                &[
                    "phone:+33612345678",
                    "email:emilie.dubois@courrier.example",
                    "company:Agence Lumière"
                ]
            ),
            c(
                "+33199001235",
                "phone",
                Some("Zoé Lefèvre"),
                &["phone:+33199001235", "email:zoe.lefevre@courrier.example"]
            ),
        ]
    );
}

#[test]
fn salesforce_and_crm_exports_in_five_languages() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        counts(&import(dir.path(), &["salesforce-contacts.csv"], &["--region", "GB"])),
        (2, 2, 0, 0)
    );
    let got = contacts(dir.path());
    assert_eq!(
        got[0],
        c(
            "+442079460555",
            "phone",
            Some("Helen Price"),
            &[
                "phone:+442079460555",
                "phone:+447700900246",
                "email:helen@priceevents.example",
                "extid:0035g00000AbCdEAAZ",
                "company:Price Events"
            ]
        )
    );
    for (file, name, handle) in [
        ("crm-es.csv", "Lucía García López", "+34912345678"),
        ("crm-pt.csv", "João da Silva", "+5511912345678"),
        ("crm-it.csv", "Giulia Rossi", "+393123456789"),
        ("crm-nl.csv", "Jan van der Berg", "+31612345678"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(counts(&import(dir.path(), &[file], &[])), (1, 1, 0, 0), "{file}");
        let got = contacts(dir.path());
        assert_eq!(got[0].name.as_deref(), Some(name), "{file}");
        assert_eq!(got[0].handle, handle, "{file}");
        assert!(got[0].mentions.iter().any(|m| m.starts_with("email:")), "{file}");
        assert!(got[0].mentions.iter().any(|m| m.starts_with("company:")), "{file}");
    }
}

#[test]
fn contacts_map_names_columns_the_header_does_not_explain() {
    let dir = tempfile::tempdir().unwrap();
    let out = omnitrail(
        dir.path(),
        &[
            "import",
            "contacts",
            &fixture("contacts/crm-unmapped.csv").display().to_string(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("crm-unmapped.csv") && err.contains("--contacts-map"),
        "{err}"
    );
    assert!(!dir.path().join("manifest.json").exists() || contacts(dir.path()).is_empty());

    let map = "name=Who,phone=Reach at,phone=Also reach at,email=Mail,company=Firm,id=Ref";
    let report = import(
        dir.path(),
        &["crm-custom.csv"],
        &["--region", "GB", "--contacts-map", map],
    );
    assert_eq!(counts(&report), (2, 2, 0, 0));
    assert!(report["sources"][0]["notes"]
        .to_string()
        .contains("from --contacts-map"));
    assert_eq!(
        contacts(dir.path())[0],
        c(
            "+447700900678",
            "phone",
            Some("Amir Haddad"),
            &[
                "phone:+447700900678",
                "phone:+442079460678",
                "email:amir@haddad.example",
                "extid:CRM-77",
                "company:Haddad Trading"
            ]
        )
    );

    for bad in ["colour=Red", "phone=No Such Column"] {
        let out = omnitrail(
            dir.path(),
            &[
                "import",
                "contacts",
                &fixture("contacts/crm-custom.csv").display().to_string(),
                "--contacts-map",
                bad,
            ],
        );
        let err = String::from_utf8_lossy(&out.stderr);
        if bad.starts_with("colour") {
            assert_eq!(out.status.code(), Some(2), "a bad map is bad usage: {err}");
        } else {
            assert_eq!(out.status.code(), Some(1), "{err}");
            assert!(err.contains("\"No Such Column\""), "{err}");
        }
    }
}

#[test]
fn rows_cut_off_or_with_extra_fields_are_rejected_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        counts(&import(dir.path(), &["broken-rows.csv"], &["--region", "GB"])),
        (4, 2, 2, 0)
    );
    let r = rejects(dir.path());
    assert_eq!((r[0]["line"].as_u64(), r[1]["line"].as_u64()), (Some(3), Some(4)));
    assert!(
        r[0]["reason"].as_str().unwrap().contains("expected 3 fields"),
        "{}",
        r[0]
    );
    assert_eq!(r[1]["raw"], "Cy Twombly,cy@mail.example,07700 900112,extra");
    // Trailing empty fields (Excel pads rows) are harmless.
    assert_eq!(contacts(dir.path())[1].name.as_deref(), Some("Dee Ray"));
}

#[test]
fn vcards_of_every_version_and_the_whatsapp_card() {
    let dir = tempfile::tempdir().unwrap();
    let report = import(dir.path(), &["android-2.1.vcf"], &["--region", "GB"]);
    assert_eq!(counts(&report), (4, 3, 1, 0));
    let got = contacts(dir.path());
    assert_eq!(
        got[0],
        c(
            "+33612345678",
            "phone",
            Some("Émilie Dubois"),
            &["phone:+33612345678", "email:emilie.dubois@courrier.example"]
        )
    );
    assert_eq!(
        got[1].name.as_deref(),
        Some("Jörg Müller"),
        "ISO-8859-1 quoted-printable"
    );
    assert_eq!(got[1].handle, "+4915123456789", "the mobile comes first");
    assert_eq!(got[2].name.as_deref(), Some("王小明"));
    assert_eq!(rejects(dir.path())[0]["line"], 19, "the line of the card's BEGIN:VCARD");

    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        counts(&import(
            dir.path(),
            &["iphone-3.0.vcf", "contacts-4.0.vcf", "Kate Price.vcf"],
            &["--region", "GB"]
        )),
        (2, 2, 0, 0)
    );
    let got = contacts(dir.path());
    assert_eq!(
        got[1],
        c(
            "+447700900321",
            "phone",
            Some("Mark Chen"),
            &[
                "phone:+447700900321",
                "phone:+442079460999",
                "extid:6B29FC40-CA47-1067-B31D-00DD010662DA",
                "company:Chen Architects, Ltd"
            ]
        )
    );
    assert_eq!(
        got[2],
        c(
            "+447700900246",
            "phone",
            Some("Helen Price"),
            &[
                "phone:+447700900246",
                "phone:+442079460555",
                "email:helen@priceevents.example",
                "extid:urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
            ]
        )
    );
    assert_eq!(
        got[3],
        c("+447700900789", "phone", Some("Kate Price"), &["phone:+447700900789"])
    );
}

#[test]
fn a_truncated_vcard_keeps_its_complete_cards_and_an_empty_one_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        counts(&import(dir.path(), &["truncated.vcf"], &["--region", "GB"])),
        (2, 1, 1, 0)
    );
    let r = rejects(dir.path());
    assert!(r[0]["reason"].as_str().unwrap().contains("END:VCARD"));
    assert_eq!(r[0]["line"], 6);
    let report = import(dir.path(), &["empty.vcf"], &[]);
    assert_eq!(counts(&report), (0, 0, 0, 0));
    assert_eq!(report["sources"][0]["outcome"], "imported");
}

#[test]
fn records_follow_the_contact_contract() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture("contacts/iphone-3.0.vcf");
    import(dir.path(), &["iphone-3.0.vcf"], &["--region", "GB"]);
    let ws = Workspace::open_existing(dir.path()).unwrap();
    let df = interactions(
        &ws,
        &[
            "channel",
            "direction",
            "kind",
            "source_ref",
            "thread_key",
            "ts",
            "ts_raw",
            "source_file",
            "dedup_key",
            "interaction_id",
        ],
    );
    assert_eq!(df.height(), 2);
    for (col, want) in [
        ("channel", "contact"),
        ("direction", "system"),
        ("kind", "contact"),
        ("thread_key", "contacts:iphone-3.0.vcf"),
        ("ts_raw", ""),
    ] {
        assert!(strings(&df, col).iter().all(|v| v.as_deref() == Some(want)), "{col}");
    }
    assert_eq!(
        strings(&df, "source_ref"),
        vec![Some("card:1".into()), Some("card:2".into())]
    );
    let mtime = std::fs::metadata(&file)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let ts = df
        .column("ts")
        .unwrap()
        .as_materialized_series()
        .to_physical_repr()
        .into_owned();
    assert!(
        ts.i64().unwrap().iter().all(|t| t == Some(mtime)),
        "ts is the file's mtime"
    );

    let dir = tempfile::tempdir().unwrap();
    import(dir.path(), &["hubspot-contacts.csv"], &["--region", "GB"]);
    let df = interactions(&Workspace::open_existing(dir.path()).unwrap(), &["source_ref"]);
    assert_eq!(
        strings(&df, "source_ref"),
        vec![Some("line:2".into()), Some("line:3".into()), Some("line:5".into())],
        "CRLF file: lines counted from the start of the file"
    );
}

#[test]
fn reimporting_adds_nothing_and_the_same_people_in_another_file_are_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    import(dir.path(), &["hubspot-contacts.csv"], &["--region", "GB"]);
    let before = std::fs::read(dir.path().join("manifest.json")).unwrap();
    let again = import(dir.path(), &["hubspot-contacts.csv"], &["--region", "GB"]);
    assert_eq!(again["sources"][0]["outcome"], "already-imported");
    assert_eq!(std::fs::read(dir.path().join("manifest.json")).unwrap(), before);
    // The same CRM rows in another CSV are duplicates.
    let elsewhere = tempfile::tempdir().unwrap();
    let copy = elsewhere.path().join("hubspot-again.csv");
    let mut text = std::fs::read_to_string(fixture("contacts/hubspot-contacts.csv")).unwrap();
    text.push('\n');
    std::fs::write(&copy, text).unwrap();
    let report = import_paths(dir.path(), &[copy.to_str().unwrap()], &["--region", "GB"]);
    assert_eq!(report["sources"][0]["outcome"], "imported");
    assert_eq!(counts(&report).1, 0, "{report}");
    // The iPhone's card for Sarah Jones repeats her CRM row (same name, number, email) but
    // is a record of another kind: the phone saved that name, which the matcher uses.
    let report = import(dir.path(), &["iphone-3.0.vcf"], &["--region", "GB"]);
    assert_eq!(counts(&report), (2, 2, 0, 0));
    assert_eq!(contacts(dir.path()).len(), 5);
    // ...and the same cards in another vCard file are duplicates.
    let copy = elsewhere.path().join("iphone-again.vcf");
    let mut text = std::fs::read_to_string(fixture("contacts/iphone-3.0.vcf")).unwrap();
    text.push_str("\r\n");
    std::fs::write(&copy, text).unwrap();
    let report = import_paths(dir.path(), &[copy.to_str().unwrap()], &["--region", "GB"]);
    assert_eq!(counts(&report), (2, 0, 0, 2));
    assert_eq!(contacts(dir.path()).len(), 5);
}

#[test]
fn without_region_national_numbers_are_left_out_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let report = import(dir.path(), &["hubspot-contacts.csv"], &[]);
    // Sarah's second row gives her number in international form, readable without a
    // region: no longer the same normalised contact as her first row.
    assert_eq!(counts(&report), (6, 4, 2, 0));
    assert!(report["notes"].to_string().contains("no --region"));
    assert!(report["sources"][0]["notes"].to_string().contains("pass --region"));
    let got = contacts(dir.path());
    assert_eq!(
        got[0].handle, "sarah.jones@mail.example",
        "the email when no phone can be read"
    );
    assert_eq!(got[0].kind, "email");
}

#[test]
fn detection_takes_contacts_and_leaves_call_logs_and_unknown_csvs() {
    let dir = tempfile::tempdir().unwrap();
    let out = omnitrail(
        dir.path(),
        &[
            "--json",
            "import",
            &fixture("contacts").display().to_string(),
            "--region",
            "GB",
        ],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let outcome = |name: &str| {
        report["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["path"].as_str().unwrap().ends_with(name))
            .map(|s| {
                (
                    s["outcome"].as_str().unwrap().to_string(),
                    s["format"].as_str().map(str::to_string),
                )
            })
            .unwrap_or_else(|| panic!("{name} not in {report}"))
    };
    for f in [
        "hubspot-contacts.csv",
        "outlook-fr-unicode.txt",
        "outlook-de-excel.csv",
        "iphone-3.0.vcf",
    ] {
        assert_eq!(outcome(f).0, "imported", "{f}");
    }
    assert_eq!(outcome("android-2.1.vcf").1.as_deref(), Some("vcard"));
    assert_eq!(outcome("google-contacts.csv").1.as_deref(), Some("contacts-csv"));
    assert_ne!(outcome("call-history.csv").1.as_deref(), Some("contacts-csv"));
    assert_eq!(outcome("crm-unmapped.csv").0, "skipped");
    // Asked explicitly, a call log is refused with a pointer to the right importer.
    let out = omnitrail(
        dir.path(),
        &[
            "import",
            "contacts",
            &fixture("contacts/call-history.csv").display().to_string(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("import calls"));
}

#[test]
fn the_demo_phone_book_ties_whatsapp_names_to_call_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let out = omnitrail(
        dir.path(),
        &[
            "--json",
            "import",
            "contacts",
            &fixture("demo/contacts/phone-book.vcf").display().to_string(),
            "--region",
            "GB",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let got = contacts(dir.path());
    assert_eq!(
        got[0],
        c(
            "+447700900456",
            "phone",
            Some("Sarah Jones"),
            &["phone:+447700900456", "email:sarah.jones@mail.example"]
        )
    );
    assert_eq!(
        got[1],
        c("+447700900246", "phone", Some("Helen Price"), &["phone:+447700900246"])
    );
    assert_eq!(
        got[2],
        c(
            "emilie.dubois@courrier.example",
            "email",
            Some("Émilie Dubois"),
            &["email:emilie.dubois@courrier.example", "company:Agence Lumière"]
        )
    );
    // The WhatsApp chat's saved name and the CDR's number appear in the demo.
    let chat = std::fs::read_to_string(fixture("demo/whatsapp/WhatsApp Chat with Sarah Jones.txt")).unwrap();
    assert!(chat.contains("Sarah Jones:"));
    assert!(std::fs::read_to_string(fixture("demo/calls/Master.csv"))
        .unwrap()
        .contains("07700900456"));
}

#[test]
fn a_row_with_a_huge_field_is_rejected_and_its_raw_kept_short() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("crm.csv");
    let mut text = String::from("Name,Email,Phone\n\"");
    text.push_str(&"A".repeat(3 << 20));
    text.push_str("\",a@example.com,+447700900123\nBob Lee,bob@example.com,+447700900124\n");
    std::fs::write(&csv, text).unwrap();
    let ws = dir.path().join("ws");
    let out = omnitrail(&ws, &["--json", "import", "contacts", csv.to_str().unwrap()]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(counts(&report), (2, 1, 1, 0));
    let rejects = std::fs::read_dir(ws.join("rejects"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let reject: serde_json::Value =
        serde_json::from_str(std::fs::read_to_string(rejects).unwrap().lines().next().unwrap()).unwrap();
    assert!(
        reject["reason"].as_str().unwrap().contains("not a contact row"),
        "{reject}"
    );
    assert!(reject["raw_bytes"].as_u64().unwrap() as usize > omnitrail::workspace::MAX_REJECT_RAW);
    assert!(reject["raw"].as_str().unwrap().len() <= omnitrail::workspace::MAX_REJECT_RAW);
    assert_eq!(reject["line"], 2);
}

#[test]
fn rows_with_invalid_utf8_after_a_valid_start_are_rejected_even_when_a_character_spans_a_delimiter() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("crm.csv");
    // A valid start long enough for the file to be read as UTF-8, then a lead byte before a
    // delimiter, and one whose continuation byte is the next field's first byte (the row's
    // bytes without delimiters would be valid UTF-8; each field is not).
    let mut bytes = b"Name,Email,Phone\n".to_vec();
    for i in 0..20_000 {
        bytes.extend_from_slice(format!("Ann Lee {i},ann{i}@x.example,07700 9{i:05}\n").as_bytes());
    }
    bytes.extend_from_slice(b"Bob \xC3,bob@x.example,07700 900124\n");
    bytes.extend_from_slice(b"C\xC3,\xA9d@x.example,07700 900125\n");
    bytes.extend_from_slice("Zoé Ng,zoe@x.example,07700 900126\n".as_bytes());
    std::fs::write(&csv, bytes).unwrap();
    let ws = dir.path().join("ws");
    let report = import_paths(&ws, &[csv.to_str().unwrap()], &["--region", "GB"]);
    assert_eq!(counts(&report), (20_003, 20_001, 2, 0));
    let rejected = rejects(&ws);
    let lines: Vec<u64> = rejected.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, vec![20_002, 20_003]);
    assert!(
        rejected.iter().all(|r| r["reason"] == "invalid UTF-8 in the row"),
        "{rejected:?}"
    );
}
