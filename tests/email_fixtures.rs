//! The email importer on hand-made fixtures (fixtures/email, fixtures/demo/email).

use crate::common::{self, first, first_has_note, fixture};
use crate::email_common::{business, field, import_with, rows};
use omnitrail::normalize::phone::Region;

fn gb() -> omnitrail::import::CommonOptions {
    omnitrail::import::CommonOptions {
        region: Region::parse("GB").unwrap(),
        region_code: Some("GB".into()),
        ..common::utc()
    }
}

#[test]
fn the_demo_mailbox_gives_twelve_messages_in_four_threads_with_sides_and_mentions() {
    let (_d, ws, report) = import_with(
        &[fixture("demo/email/support.mbox")],
        &business(&["bloomandstem.example"], &[]),
        &gb(),
    );
    let c = first(&report).counts;
    assert_eq!((c.read, c.imported, c.rejected, c.duplicates), (12, 12, 0, 0));
    let rows = rows(&ws);
    let dirs = |d: &str| rows.iter().filter(|r| r["direction"] == d).count();
    assert_eq!((dirs("inbound"), dirs("outbound"), dirs("system")), (6, 5, 1));
    let threads: std::collections::BTreeSet<&str> = rows.iter().map(|r| r["thread_key"].as_str()).collect();
    assert_eq!(threads.len(), 4, "{threads:?}");
    assert_eq!(rows.first().unwrap()["ts"], "2026-03-16T10:02:45");
    assert_eq!(rows.last().unwrap()["ts"], "2026-04-01T08:52:44");
    // RFC 2047 name and folded B-encoded subject.
    let e1 = "20260317154000.4f2a91@courrier.example";
    assert_eq!(field(&rows, e1, "customer_name"), "Émilie Dubois");
    assert_eq!(
        field(&rows, e1, "subject"),
        "Fleurs pour notre soirée de lancement – 2 avril"
    );
    assert!(!field(&rows, e1, "body_full").contains('\r'));
    // Sarah: signature phone is a mention; the quote in Priya's reply is not new text.
    let s3 = "a1b2c3d4-0319-1021@mail.example";
    assert!(field(&rows, s3, "mentions").contains("phone:+447700900456"));
    assert!(field(&rows, s3, "text").ends_with("Thanks,"));
    let s4 = "autoreply.20260319102139@bloomandstem.example";
    assert_eq!(field(&rows, s4, "direction"), "system");
    assert_eq!(field(&rows, s4, "customer_handle"), "");
    assert_eq!(field(&rows, s4, "thread_key"), format!("email:{s3}"));
    let s5 = "bs.20260319110210.priya.1@bloomandstem.example";
    assert_eq!(field(&rows, s5, "customer_handle"), "sarah.jones@mail.example");
    assert_eq!(field(&rows, s5, "agent"), "priya@bloomandstem.example");
    assert!(!field(&rows, s5, "text").contains("wrote:"));
    assert!(!field(&rows, s5, "mentions").contains("phone:"));
    // mboxrd: `>From the options` reads `From the options`.
    assert!(field(&rows, "olu.20260401084005@inbox.example", "text").contains("\nFrom the options"));
    assert_eq!(
        field(&rows, "bs.20260318104000.tom.2@bloomandstem.example", "attachments"),
        "BS-10460-invoice.pdf"
    );
}

#[test]
fn without_flags_the_business_side_is_inferred_and_said() {
    let (_d, ws, report) = import_with(&[fixture("demo/email/support.mbox")], &business(&[], &[]), &gb());
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("bloomandstem.example") && n.contains("inferred")),
        "{:?}",
        report.notes
    );
    let rows = rows(&ws);
    assert_eq!(rows.iter().filter(|r| r["direction"] == "inbound").count(), 6);
}

#[test]
fn reimporting_the_same_mailbox_adds_nothing() {
    let (_d, mut ws, _) = import_with(
        &[fixture("demo/email/support.mbox")],
        &business(&["bloomandstem.example"], &[]),
        &gb(),
    );
    let again = omnitrail::import::email::import_email(
        &mut ws,
        &[fixture("demo/email/support.mbox")],
        &business(&["bloomandstem.example"], &[]),
        &gb(),
        &omnitrail::import::pipeline::NoProgress,
    )
    .unwrap();
    assert_eq!(again.sources.to_vec().unwrap()[0].outcome, "already-imported");
    assert_eq!(rows(&ws).len(), 12);
}

#[test]
fn variants_mbox_charsets_outlook_blocks_html_bounces_and_dates() {
    let (_d, ws, report) = import_with(
        &[fixture("email/variants.mbox")],
        &business(&["shop.example"], &[]),
        &gb(),
    );
    let c = first(&report).counts;
    assert_eq!((c.read, c.imported, c.rejected, c.duplicates), (5, 4, 1, 0));
    let rows = rows(&ws);
    // RFC 2047 Latin-1 name and subject, QP body, plus-addressing kept, German Outlook block cut.
    assert_eq!(field(&rows, "de-1@post.example", "customer_name"), "Anna Müller");
    assert_eq!(
        field(&rows, "de-1@post.example", "customer_handle"),
        "anna.schmidt+shop@post.example"
    );
    assert_eq!(
        field(&rows, "de-1@post.example", "subject"),
        "Bestätigung Bestellung 558812"
    );
    assert_eq!(
        field(&rows, "de-1@post.example", "text"),
        "Ja bitte, die Lieferung am Freitag passt.\nFrom now on please use my new address."
    );
    let m = field(&rows, "de-1@post.example", "mentions");
    assert_eq!(m, "phone:+4930901820", "the order number is only in the quoted part");
    assert!(first_has_note(&report, "plus-addressed"));
    // Base64 HTML-only reply: text without the blockquote, same thread.
    assert_eq!(field(&rows, "tom-1@shop.example", "text"), "Danke, bis Freitag!");
    assert_eq!(field(&rows, "tom-1@shop.example", "direction"), "outbound");
    assert_eq!(
        field(&rows, "tom-1@shop.example", "thread_key"),
        "email:de-1@post.example"
    );
    // Bounce: system, no customer.
    assert_eq!(field(&rows, "bounce-1@post.example", "direction"), "system");
    assert_eq!(field(&rows, "bounce-1@post.example", "customer_handle"), "");
    // No Date: the From_ line date, and the Outlook original cut.
    let li = rows.iter().find(|r| r["source_ref"] == "li-1@mail.example").unwrap();
    assert_eq!(li["ts"], "2026-03-03T08:00:00");
    assert_eq!(li["text"], "No Date header here: the From_ line gives the time.");
}

#[test]
fn the_cli_imports_a_mailbox_and_prints_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_omnitrail"))
        .args(["--json", "--workspace"])
        .arg(dir.path())
        .args(["import", "email", "--business-domain", "shop.example", "--tz", "UTC"])
        .arg(fixture("email/variants.mbox"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["sources"][0]["counts"]["rejected"], 1);
}

#[test]
fn a_mailbox_cut_short_is_imported_and_said_to_be_cut() {
    let whole = std::fs::read(fixture("demo/email/support.mbox")).unwrap();
    assert_eq!(whole.last(), Some(&b'\n'));
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.mbox");
    // Cut inside the last message's body, as a copy interrupted mid-file leaves it.
    std::fs::write(&cut, &whole[..whole.len() - 40]).unwrap();
    let said = |report: &omnitrail::import::ImportReport| first_has_note(report, "does not end with a line break");
    let opts = business(&["bloomandstem.example"], &[]);
    let (_d, _ws, report) = import_with(&[cut], &opts, &gb());
    let c = first(&report).counts;
    assert_eq!((c.read, c.imported), (12, 12));
    assert!(said(&report), "{:?}", first(&report).notes);
    let (_d, _ws, report) = import_with(&[fixture("demo/email/support.mbox")], &opts, &gb());
    assert!(!said(&report), "{:?}", first(&report).notes);
}
