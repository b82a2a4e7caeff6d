//! The email importer on every file of ../shared/corpus/email: exact counts, spans and
//! directions where the file is a known case; "no panic, every message accounted" for all.

use crate::common::{corpus, first, outcome_of};
use crate::email_common::{business, field, import, rows};

/// (read, imported, rejected, duplicates, first ts, last ts) of one file imported alone.
fn alone(rel: &str) -> (u64, u64, u64, u64, Option<String>, Option<String>) {
    let (_d, _ws, report) = import(&[corpus(rel)], &business(&[], &[]));
    let s = first(&report);
    let c = s.counts;
    (
        c.read,
        c.imported,
        c.rejected,
        c.duplicates,
        s.first_ts.clone(),
        s.last_ts.clone(),
    )
}

fn ts(s: &str) -> Option<String> {
    Some(s.to_string())
}

#[test]
fn the_whole_corpus_is_accounted_for_without_a_panic() {
    let (_d, ws, report) = import(&[corpus("email")], &business(&[], &[]));
    let mut totals = (0, 0, 0, 0);
    for s in report.sources.to_vec().unwrap() {
        let c = s.counts;
        assert_eq!(c.read, c.imported + c.rejected + c.duplicates, "{}", s.path);
        totals.0 += c.read;
        totals.1 += c.imported;
        totals.2 += c.rejected;
        totals.3 += c.duplicates;
    }
    assert_eq!(totals, (523, 410, 81, 32));
    assert_eq!(rows(&ws).len(), 410);
    // Not mailboxes: refused as files, never imported as one giant message.
    for name in [
        "nodembox--test-not-an.mbox",
        "neomutt--cherry-not-mbox.mbox",
        "neomutt--endive-not-mbox.mbox",
        "nodembox--test-attached.mbox",
    ] {
        let s = outcome_of(&report, name);
        assert_eq!(s.outcome, "skipped", "{name}");
        assert!(s.error.as_deref().unwrap().contains("not a mailbox"), "{name}");
    }
}

#[test]
fn mbox_files_split_into_the_right_messages() {
    assert_eq!(alone("email/nodembox--test-1-message.mbox").0, 1);
    assert_eq!(
        alone("email/nodembox--test-4-message.mbox"),
        (4, 4, 0, 0, ts("2011-12-25T13:33:37Z"), ts("2011-12-25T13:33:37Z"))
    );
    assert_eq!(
        alone("email/neomutt--banana.mbox"),
        (1, 1, 0, 0, ts("2020-02-18T16:41:40Z"), ts("2020-02-18T16:41:40Z"))
    );
    // Leading whitespace lines, git format-patch separators, in-body From lines.
    let s = alone("email/git--sample.mbox");
    assert_eq!(
        (s.0, s.4, s.5),
        (14, ts("2001-09-16T15:00:00Z"), ts("2012-09-17T21:23:44Z"))
    );
    assert_eq!(alone("email/git--embed-from.eml").0, 1);
    assert_eq!(alone("email/git--quoted-cr.mbox").0, 2);
    // The RFC 2047 samples carry only git's fake From_ date and no Date: rejected with the reason.
    assert_eq!(alone("email/git--rfc2047-samples.mbox"), (11, 0, 11, 0, None, None));
    // MMDF with no message, a 2-message mboxrd.
    assert_eq!(alone("email/neomutt--fig-mmdf.mbox").0, 0);
    assert_eq!(alone("email/git--sample.mboxrd").1, 2);
}

#[test]
fn mboxrd_bodies_match_the_expected_unquoting() {
    let (_d, ws, _) = import(&[corpus("email/git--sample.mboxrd")], &business(&[], &[]));
    let rows = rows(&ws);
    let body = |r: &str| field(&rows, r, "body_full").to_string();
    let b1 = body("offset:0");
    assert!(
        b1.contains("From the beginning, mbox should have been mboxrd\n>From escaped\nFrom not mangled"),
        "{b1}"
    );
    let second = rows.iter().find(|r| r["source_ref"] != "offset:0").unwrap()["body_full"].clone();
    assert!(second.contains(" >From unchanged\n From also unchanged\n"), "{second}");
    assert!(second.contains("\n>From"), "{second}");
    let expect1 = std::fs::read_to_string(corpus("email/git--sample.mboxrd.expect-0001.eml")).unwrap();
    // The expected file holds the body as mboxrd readers must give it.
    assert_eq!(b1.trim_end(), expect1.trim_end());
}

#[test]
fn maildir_trees_walk_sub_folders_and_skip_stubs() {
    assert_eq!(
        alone("email/maildir-notmuch/default"),
        (53, 52, 0, 1, ts("2009-11-17T15:28:37Z"), ts("2010-12-29T14:07:54Z"))
    );
    // 2-byte stub files: not messages, each rejected with the reason.
    let s = alone("email/maildir-stalwart");
    assert_eq!((s.0, s.1, s.2), (6, 0, 6));
}

#[test]
fn duplicate_message_ids_with_different_content_are_all_kept() {
    let (_d, ws, report) = import(&[corpus("email/maildir-notmuch/duplicate")], &business(&[], &[]));
    assert_eq!(report.sources.len(), 9);
    assert_eq!(rows(&ws).len(), 9);
}

#[test]
fn threads_follow_references_through_ghost_roots_and_loops() {
    let (_d, ws, _) = import(
        &[corpus("email/maildir-notmuch/threading/ghost-root")],
        &business(&[], &[]),
    );
    let ghost = rows(&ws);
    let threads: std::collections::BTreeSet<&str> = ghost.iter().map(|r| r["thread_key"].as_str()).collect();
    assert!(threads.len() < ghost.len(), "{threads:?}");
    let (_d, ws, report) = import(&[corpus("email/maildir-notmuch/broken/loop")], &business(&[], &[]));
    assert_eq!(report.sources.len(), 2);
    assert_eq!(rows(&ws).len(), 2);
}

#[test]
fn dates_fall_back_to_received_and_bad_dates_are_never_guessed() {
    // `59:10` is no time: the topmost Received stamp dates it.
    let s = alone("email/rubymail--error_emails--bad_date_header2.eml");
    assert_eq!((s.0, s.1), (1, 1));
    // Year 3609 → Received.
    assert_eq!(
        alone("email/rubymail--plain_emails--raw_email_bad_time.eml").4,
        ts("2008-06-30T09:34:00Z")
    );
    // RFC 2822's 1969 example is accepted (and noted), folded over several lines or not.
    assert_eq!(alone("email/rubymail--rfc2822--example04.eml").1, 1);
}

#[test]
fn bounces_and_lists_are_system_mail_never_customers() {
    let (_d, ws, _) = import(
        &[
            corpus("email/nodemailer--delivery-status.eml"),
            corpus("email/rubymail--multipart_report_emails--report_530.eml"),
            corpus("email/cpython--msg_16.txt"),
        ],
        &business(&["example.com"], &[]),
    );
    for r in rows(&ws) {
        assert_eq!(r["direction"], "system", "{r:?}");
        assert!(!r.contains_key("customer_handle"), "{r:?}");
    }
}

#[test]
fn charsets_and_html_only_mail_become_text() {
    let (_d, ws, _) = import(
        &[
            corpus("email/rubymail--multi_charset--ks_c_5601-1987.eml"),
            corpus("email/spamscope--mail_test_9.eml"),
        ],
        &business(&[], &[]),
    );
    let rows = rows(&ws);
    assert_eq!(rows.len(), 2);
    for r in &rows {
        let body = r.get("body_full").map_or("", String::as_str);
        assert!(
            !body.is_empty() && !body.contains("<html") && !body.contains('\u{FFFD}'),
            "{r:?}"
        );
    }
}
