//! HubSpot: `contacts.csv` plus `calls.csv`, `emails.csv` and `notes.csv` activity files in
//! the layout of HubSpot's import tool (and `POST /crm/v3/imports`). Every activity carries
//! the contact's `Omnitrail Customer ID`, a unique-value contact property the import uses to
//! associate it: HubSpot hides activities that are associated with no record.
//!
//! Limits applied (HubSpot import file requirements): at most 1,048,576 rows and 512 MB per
//! file (files are split below both), property values of at most 65,536 characters.

use super::fidelity::{rule, Fidelity, Outcome, Rule};
use super::input::{Customer, ExportRow};
use super::platform::{over_limit, row_object, split_name, Rejected, SplitCsv};
use super::ExportContext;
use crate::model::{CallStatus, Channel, Direction, Interaction, Kind};
use anyhow::Result;

/// Data rows per file: HubSpot refuses files of 1,048,576 rows or more (header included).
pub const MAX_ROWS: u64 = 1_048_000;
/// Bytes per file: HubSpot's limit is 512 MB.
pub const MAX_BYTES: u64 = 500 * 1024 * 1024;
/// HubSpot's limit for a text property value.
pub const MAX_VALUE: usize = 65_536;

const CONTACT_HEADER: &[&str] = &[
    "Omnitrail Customer ID",
    "First Name",
    "Last Name",
    "Email",
    "Additional email addresses",
    "Phone Number",
    "Mobile Phone Number",
];
const CALL_HEADER: &[&str] = &[
    "Omnitrail Customer ID",
    "Activity date",
    "Call title",
    "Call direction",
    "Call status",
    "Call duration",
    "Call notes",
];
const EMAIL_HEADER: &[&str] = &[
    "Omnitrail Customer ID",
    "Activity date",
    "Email direction",
    "Email subject",
    "Email body",
    "Email from address",
    "Email to address",
];
const NOTE_HEADER: &[&str] = &["Omnitrail Customer ID", "Activity date", "Note body"];

/// Writes the HubSpot files, `rejected.jsonl`, `FIDELITY.md` and `fidelity.json`.
pub fn write(ctx: &mut ExportContext<'_>) -> Result<()> {
    let dir = ctx.dir.to_path_buf();
    let mut fid = Fidelity::new("hubspot");
    let mut rejected = Rejected::new(&dir);
    let mut contacts = SplitCsv::new(&dir, "contacts", CONTACT_HEADER, MAX_ROWS, MAX_BYTES);
    for c in ctx.customers() {
        write_contact(&c, &mut contacts, &mut rejected, &mut fid)?;
    }
    let mut calls = SplitCsv::new(&dir, "calls", CALL_HEADER, MAX_ROWS, MAX_BYTES);
    let mut emails = SplitCsv::new(&dir, "emails", EMAIL_HEADER, MAX_ROWS, MAX_BYTES);
    let mut notes = SplitCsv::new(&dir, "notes", NOTE_HEADER, MAX_ROWS, MAX_BYTES);
    ctx.stream(|rows| {
        for row in rows {
            write_activity(&row, &mut calls, &mut emails, &mut notes, &mut rejected, &mut fid)?;
        }
        Ok(())
    })?;
    for (name, table) in [
        ("contacts", contacts),
        ("calls", calls),
        ("emails", emails),
        ("notes", notes),
    ] {
        let mut total = 0;
        for (file, rows) in table.finish()? {
            total += rows;
            ctx.add_file(file, Some(rows));
        }
        ctx.count(name, total);
    }
    fid.note("Activities are associated through the contact property `Omnitrail Customer ID`: create it (single-line text, unique values) before importing.");
    fid.note("WhatsApp, SMS and other messages become notes: HubSpot's import has no object for chat messages, so the channel and direction are written at the start of the note.");
    fid.note("The business-side agent (extension, mailbox, WhatsApp account) is written into the activity text; HubSpot's activity owner needs a HubSpot user, which omnitrail cannot know.");
    fid.note("A contact keeps two phone numbers (Phone Number, Mobile Phone Number); further numbers are dropped and counted under `phones`.");
    finish_platform(ctx, fid, rejected)
}

/// Writes the fidelity report and records the rejected file; shared by every profile.
pub(crate) fn finish_platform(ctx: &mut ExportContext<'_>, fid: Fidelity, rejected: Rejected) -> Result<()> {
    let n = rejected.finish()?;
    ctx.count("rejected", n);
    if n > 0 {
        ctx.add_file(super::platform::REJECTED_FILE, Some(n));
        ctx.notes.push(format!(
            "{n} records would be refused by the platform: see {} for each reason",
            super::platform::REJECTED_FILE
        ));
    }
    let skipped: u64 = fid.records().values().map(|r| r.skipped).sum();
    ctx.count("skipped", skipped);
    for f in fid.write(ctx.dir)? {
        ctx.add_file(f, None);
    }
    Ok(())
}

fn write_contact(c: &Customer, out: &mut SplitCsv, rejected: &mut Rejected, fid: &mut Fidelity) -> Result<()> {
    let name = c.display_name.clone().unwrap_or_default();
    let (first, last) = split_name(&name);
    let row = vec![
        c.customer_id.clone(),
        first,
        last,
        c.emails.first().cloned().unwrap_or_default(),
        c.emails.iter().skip(1).cloned().collect::<Vec<_>>().join(";"),
        c.phones.first().cloned().unwrap_or_default(),
        c.phones.get(1).cloned().unwrap_or_default(),
    ];
    if c.emails.is_empty() && c.phones.is_empty() {
        fid.rejected("customer");
        return rejected.write(
            "contacts",
            &c.customer_id,
            Some(&c.customer_id),
            "no email and no phone: HubSpot deduplicates and reaches contacts by email or phone",
            &row_object(CONTACT_HEADER, &row),
        );
    }
    if let Some((col, n, limit)) = over_limit(
        CONTACT_HEADER,
        &row,
        &[("First Name", MAX_VALUE), ("Last Name", MAX_VALUE)],
    ) {
        fid.rejected("customer");
        return rejected.write(
            "contacts",
            &c.customer_id,
            Some(&c.customer_id),
            &format!("{col} has {n} characters; HubSpot accepts at most {limit}"),
            &row_object(CONTACT_HEADER, &row),
        );
    }
    fid.exported("customer");
    fid.field(
        "customer",
        "customer_id",
        rule(Outcome::Kept, "Omnitrail Customer ID", "custom unique property"),
    );
    if c.display_name.is_some() {
        fid.field(
            "customer",
            "display_name",
            rule(Outcome::Changed, "First Name + Last Name", "split at the last space"),
        );
    }
    for (i, _) in c.emails.iter().enumerate() {
        let r = if i == 0 {
            rule(Outcome::Kept, "Email", "primary email")
        } else {
            rule(Outcome::Kept, "Additional email addresses", "`;`-separated")
        };
        fid.field("customer", "emails", r);
    }
    for (i, _) in c.phones.iter().enumerate() {
        let r = match i {
            0 => rule(Outcome::Kept, "Phone Number", "E.164"),
            1 => rule(Outcome::Kept, "Mobile Phone Number", "E.164"),
            _ => rule(Outcome::Dropped, "—", "HubSpot has two phone properties"),
        };
        fid.field("customer", "phones", r);
    }
    out.write(&row)
}

pub(crate) fn channel_label(c: Channel) -> &'static str {
    match c {
        Channel::Whatsapp => "WhatsApp",
        Channel::Email => "Email",
        Channel::Call => "Call",
        Channel::Sms => "SMS",
        Channel::Telegram => "Telegram",
        Channel::Instagram => "Instagram",
        Channel::Messenger => "Messenger",
        Channel::Contact => "Contact",
    }
}

/// `[WhatsApp · inbound · agent]` then the text and attachment names: what a note or call
/// body shows of a record whose fields HubSpot has no place for.
pub(crate) fn body_with_context(r: &Interaction) -> String {
    let mut head = format!("[{} · {}", channel_label(r.channel), r.direction.as_str());
    if let Some(a) = &r.agent {
        head.push_str(" · ");
        head.push_str(a);
    }
    head.push(']');
    let mut body = head;
    if let Some(t) = &r.text {
        body.push('\n');
        body.push_str(t);
    }
    if !r.attachments.is_empty() {
        body.push_str("\nAttachments: ");
        body.push_str(&r.attachments.join(", "));
    }
    if r.edited {
        body.push_str("\n(edited)");
    }
    body
}

/// Where a record goes on HubSpot.
enum Activity {
    Call,
    Email,
    Note,
}

fn activity_of(r: &Interaction) -> Option<Activity> {
    match (r.channel, r.kind) {
        (_, Kind::System) | (Channel::Contact, _) => None,
        (Channel::Call, _) | (_, Kind::Call) => Some(Activity::Call),
        (Channel::Email, _) => Some(Activity::Email),
        _ => Some(Activity::Note),
    }
}

fn rules(activity: &Activity, field: &'static str) -> Rule {
    use Outcome::*;
    match (activity, field) {
        (_, "ts") => rule(Kept, "Activity date", "Unix milliseconds, exact"),
        (_, "interaction_id") => rule(Dropped, "—", "HubSpot activities have no external id to import"),
        (_, "thread_key") => rule(Dropped, "—", "HubSpot does not group activities into conversations"),
        (_, "mentions") => rule(Dropped, "—", "still readable in the text"),
        (_, "customer_name") => rule(Changed, "contact name", "the contact's name, not per activity"),
        (Activity::Call, "direction") => rule(Kept, "Call direction", "INBOUND / OUTBOUND"),
        (Activity::Call, "status") => rule(Changed, "Call status", "answered→COMPLETED, missed→NO_ANSWER, voicemail→COMPLETED (title says voicemail), busy→BUSY, failed→FAILED"),
        (Activity::Call, "duration_s") => rule(Kept, "Call duration", "milliseconds"),
        (Activity::Call, "agent") => rule(Changed, "Call notes", "written in the notes header"),
        (Activity::Call, "text") => rule(Kept, "Call notes", "after the header"),
        (Activity::Email, "direction") => rule(Kept, "Email direction", "INCOMING_EMAIL / EMAIL"),
        (Activity::Email, "subject") => rule(Kept, "Email subject", "as is"),
        (Activity::Email, "text") => rule(Changed, "Email body", "replaced by the full body when there is one"),
        (Activity::Email, "body_full") => rule(Kept, "Email body", "full body with quotes"),
        (Activity::Email, "agent") => rule(Kept, "Email from / to address", "the business address"),
        (Activity::Note, "direction") => rule(Changed, "Note body", "written in the note header"),
        (Activity::Note, "agent") => rule(Changed, "Note body", "written in the note header"),
        (Activity::Note, "text") => rule(Kept, "Note body", "after the header"),
        (_, "attachments") => rule(Changed, "body", "names listed; the files are not in the export"),
        (_, "edited") => rule(Changed, "body", "`(edited)` appended"),
        _ => rule(Dropped, "—", "no HubSpot field"),
    }
}

fn write_activity(
    row: &ExportRow,
    calls: &mut SplitCsv,
    emails: &mut SplitCsv,
    notes: &mut SplitCsv,
    rejected: &mut Rejected,
    fid: &mut Fidelity,
) -> Result<()> {
    let r = &row.interaction;
    let channel = r.channel.as_str();
    let Some(activity) = activity_of(r) else {
        fid.skipped(
            channel,
            if r.channel == Channel::Contact {
                "contact rows are the contacts file"
            } else {
                "system lines are not conversations"
            },
        );
        return Ok(());
    };
    let cid = row.customer_id.clone().unwrap_or_default();
    let date = r.ts.to_string();
    let (target, header, out, record): (&str, &[&str], &mut SplitCsv, Vec<String>) = match activity {
        Activity::Call => {
            let status = match r.status {
                Some(CallStatus::Answered) | Some(CallStatus::Voicemail) => "COMPLETED",
                Some(CallStatus::Missed) => "NO_ANSWER",
                Some(CallStatus::Busy) => "BUSY",
                Some(CallStatus::Failed) => "FAILED",
                None => "",
            };
            let title = format!(
                "{} {}{}",
                channel_label(r.channel),
                if r.direction == Direction::Outbound {
                    "outbound call"
                } else {
                    "inbound call"
                },
                match r.status {
                    Some(CallStatus::Voicemail) => " (voicemail)",
                    Some(CallStatus::Missed) => " (missed)",
                    _ => "",
                }
            );
            let direction = match r.direction {
                Direction::Outbound => "OUTBOUND",
                _ => "INBOUND",
            };
            let duration = r.duration_s.map(|s| (s * 1000).to_string()).unwrap_or_default();
            (
                "calls",
                CALL_HEADER,
                calls,
                vec![
                    cid.clone(),
                    date,
                    title,
                    direction.into(),
                    status.into(),
                    duration,
                    body_with_context(r),
                ],
            )
        }
        Activity::Email => {
            let outbound = r.direction == Direction::Outbound;
            let customer = r.customer_handle.clone().unwrap_or_default();
            let agent = r.agent.clone().unwrap_or_default();
            let (from, to) = if outbound { (agent, customer) } else { (customer, agent) };
            let mut body = r.body_full.clone().or_else(|| r.text.clone()).unwrap_or_default();
            if !r.attachments.is_empty() {
                body.push_str("\n\nAttachments: ");
                body.push_str(&r.attachments.join(", "));
            }
            (
                "emails",
                EMAIL_HEADER,
                emails,
                vec![
                    cid.clone(),
                    date,
                    if outbound { "EMAIL" } else { "INCOMING_EMAIL" }.into(),
                    r.subject.clone().unwrap_or_default(),
                    body,
                    from,
                    to,
                ],
            )
        }
        Activity::Note => (
            "notes",
            NOTE_HEADER,
            notes,
            vec![cid.clone(), date, body_with_context(r)],
        ),
    };
    if row.customer_id.is_none() {
        fid.rejected(channel);
        return rejected.write(
            target,
            &r.interaction_id,
            None,
            "no customer: HubSpot shows only activities associated with a record (run `omnitrail match` after the last import)",
            &row_object(header, &record),
        );
    }
    let limits: Vec<(&str, usize)> = header.iter().skip(2).map(|h| (*h, MAX_VALUE)).collect();
    if let Some((col, n, limit)) = over_limit(header, &record, &limits) {
        fid.rejected(channel);
        return rejected.write(
            target,
            &r.interaction_id,
            row.customer_id.as_deref(),
            &format!("{col} has {n} characters; HubSpot accepts at most {limit}"),
            &row_object(header, &record),
        );
    }
    fid.interaction(r, |f| rules(&activity, f));
    out.write(&record)
}
