//! Chatwoot: `contacts.csv` for Chatwoot's contact import (Contacts → Import) and
//! `conversations-NNNN.json`, one object per conversation (customer × thread) with its
//! messages, ready to replay through Chatwoot's application API (create the conversation,
//! then post each message). The API cannot set a message's time: the original time is kept
//! at the start of each message and in the conversation's `additional_attributes`.

use super::fidelity::{rule, Fidelity, Outcome, Rule};
use super::group::{Thread, ThreadSpill};
use super::hubspot::{body_with_context, channel_label, finish_platform};
use super::input::Customer;
use super::platform::{chars, iso_utc, over_limit, row_object, Rejected, SplitCsv, SplitJson};
use super::ExportContext;
use crate::model::{Channel, Direction, Kind};
use anyhow::Result;
use serde_json::json;

/// Chatwoot's limit on a message's `content`.
pub const MAX_CONTENT: usize = 150_000;
/// Chatwoot's limit on names and emails (database string columns).
pub const MAX_FIELD: usize = 255;
/// Conversations per JSON file (a manageable batch for a replay script; not a Chatwoot limit).
pub const CONVERSATIONS_PER_FILE: u64 = 1_000;
/// Contacts per CSV file, so each upload stays small for the import screen.
pub const CONTACTS_PER_FILE: u64 = 10_000;

const CONTACT_HEADER: &[&str] = &["identifier", "name", "email", "phone_number"];

/// Writes contacts, conversations, `rejected.jsonl`, `FIDELITY.md` and `fidelity.json`.
pub fn write(ctx: &mut ExportContext<'_>) -> Result<()> {
    let dir = ctx.dir.to_path_buf();
    let mut fid = Fidelity::new("chatwoot");
    let mut rejected = Rejected::new(&dir);
    let mut contacts = SplitCsv::new(&dir, "contacts", CONTACT_HEADER, CONTACTS_PER_FILE, u64::MAX);
    for c in ctx.customers() {
        contact(&c, &mut contacts, &mut rejected, &mut fid)?;
    }
    let mut spill = ThreadSpill::new(&dir.join(".work"), ctx.workspace_rows()?)?;
    ctx.stream(|rows| {
        for row in rows {
            let r = &row.interaction;
            let channel = r.channel.as_str();
            if r.kind == Kind::System || r.channel == Channel::Contact {
                fid.skipped(
                    channel,
                    if r.channel == Channel::Contact { "contact rows are the contacts file" } else { "system lines are not conversations" },
                );
                continue;
            }
            match row.customer_id.clone() {
                Some(cid) => spill.push(&cid, row)?,
                None => {
                    fid.rejected(channel);
                    rejected.write(
                        "conversations",
                        &r.interaction_id,
                        None,
                        "no customer: a Chatwoot conversation needs a contact (run `omnitrail match` after the last import)",
                        &json!({"interaction_id": r.interaction_id, "channel": channel, "created_at": iso_utc(r.ts)}),
                    )?;
                }
            }
        }
        Ok(())
    })?;
    let mut conversations = SplitJson::new(&dir, "conversations", "conversations", CONVERSATIONS_PER_FILE);
    spill.for_each_thread(|t| conversation(t, &mut conversations, &mut rejected, &mut fid))?;
    for (name, parts) in [
        ("contacts", contacts.finish()?),
        ("conversations", conversations.finish()?),
    ] {
        let mut total = 0;
        for (file, rows) in parts {
            total += rows;
            ctx.add_file(file, Some(rows));
        }
        ctx.count(name, total);
    }
    fid.note("Chatwoot's API sets every message's time to the moment it is posted: the original time is written at the start of each message and kept in additional_attributes.");
    fid.note("Each conversation names its channel; map it to one of your inboxes (inbox_id) when replaying, and find the contact by its identifier (the omnitrail customer_id).");
    fid.note("A Chatwoot contact has one email and one phone number: further ones are dropped (counted under `emails` / `phones`).");
    finish_platform(ctx, fid, rejected)
}

fn contact(c: &Customer, out: &mut SplitCsv, rejected: &mut Rejected, fid: &mut Fidelity) -> Result<()> {
    let row = vec![
        c.customer_id.clone(),
        c.display_name.clone().unwrap_or_default(),
        c.emails.first().cloned().unwrap_or_default(),
        c.phones.first().cloned().unwrap_or_default(),
    ];
    if let Some((col, n, limit)) = over_limit(CONTACT_HEADER, &row, &[("name", MAX_FIELD), ("email", MAX_FIELD)]) {
        fid.rejected("customer");
        return rejected.write(
            "contacts",
            &c.customer_id,
            Some(&c.customer_id),
            &format!("{col} has {n} characters; Chatwoot accepts at most {limit}"),
            &row_object(CONTACT_HEADER, &row),
        );
    }
    fid.exported("customer");
    fid.field("customer", "customer_id", rule(Outcome::Kept, "identifier", "as is"));
    if c.display_name.is_some() {
        fid.field("customer", "display_name", rule(Outcome::Kept, "name", "as is"));
    }
    for i in 0..c.emails.len() {
        fid.field(
            "customer",
            "emails",
            if i == 0 {
                rule(Outcome::Kept, "email", "as is")
            } else {
                rule(Outcome::Dropped, "—", "one email per contact")
            },
        );
    }
    for i in 0..c.phones.len() {
        fid.field(
            "customer",
            "phones",
            if i == 0 {
                rule(Outcome::Kept, "phone_number", "E.164, as Chatwoot requires")
            } else {
                rule(Outcome::Dropped, "—", "one phone per contact")
            },
        );
    }
    out.write(&row)
}

fn rules(field: &'static str) -> Rule {
    use Outcome::*;
    match field {
        "ts" => rule(
            Changed,
            "content",
            "the API stamps the posting time; the original time opens the message",
        ),
        "interaction_id" => rule(Kept, "content_attributes.omnitrail_interaction_id", "as is"),
        "thread_key" => rule(Changed, "conversation", "one conversation per customer and thread"),
        "text" => rule(Kept, "content", "after the time and header"),
        "direction" => rule(
            Kept,
            "message_type",
            "inbound→incoming, outbound→outgoing, internal→private outgoing note",
        ),
        "agent" => rule(Changed, "content", "in the header; messages are posted by the API user"),
        "subject" => rule(
            Changed,
            "additional_attributes.subject",
            "the first subject of the thread",
        ),
        "body_full" => rule(Dropped, "—", "only the new text is posted"),
        "attachments" => rule(Changed, "content", "names listed; files are not in the export"),
        "status" | "duration_s" => rule(Changed, "content", "in the message text of a call"),
        "customer_name" => rule(Changed, "contact name", "the contact's name"),
        "mentions" => rule(Dropped, "—", "still readable in the text"),
        "edited" => rule(Changed, "content", "`(edited)` appended"),
        _ => rule(Dropped, "—", "no Chatwoot field"),
    }
}

fn conversation(t: Thread, out: &mut SplitJson, rejected: &mut Rejected, fid: &mut Fidelity) -> Result<()> {
    let mut messages = Vec::with_capacity(t.rows.len());
    let mut kept = Vec::new();
    for r in &t.rows {
        let mut content = format!(
            "[{} UTC] {}",
            iso_utc(r.ts).replace('T', " ").trim_end_matches('Z'),
            body_with_context(r)
        );
        if r.kind == Kind::Call || r.channel == Channel::Call {
            let status = r.status.map(|s| s.as_str()).unwrap_or("call");
            let duration = r.duration_s.map(|d| format!(", {d} s")).unwrap_or_default();
            content.push_str(&format!("\nCall {status}{duration}"));
        }
        if chars(&content) > MAX_CONTENT {
            fid.rejected(r.channel.as_str());
            rejected.write(
                "conversations",
                &r.interaction_id,
                Some(&t.customer_id),
                &format!(
                    "message has {} characters; Chatwoot accepts at most {MAX_CONTENT}",
                    chars(&content)
                ),
                &json!({"created_at": iso_utc(r.ts), "length": chars(&content)}),
            )?;
            continue;
        }
        let (message_type, private) = match r.direction {
            Direction::Outbound => ("outgoing", false),
            Direction::Internal => ("outgoing", true),
            _ => ("incoming", false),
        };
        fid.interaction(r, rules);
        messages.push(json!({
            "content": content,
            "message_type": message_type,
            "private": private,
            "content_attributes": {"omnitrail_interaction_id": r.interaction_id},
            "original_created_at": iso_utc(r.ts),
        }));
        kept.push(r);
    }
    let (Some(first), Some(last)) = (kept.first(), kept.last()) else {
        return Ok(());
    };
    let mut attributes = json!({
        "omnitrail_thread": t.thread_key,
        "original_started_at": iso_utc(first.ts),
        "original_ended_at": iso_utc(last.ts),
    });
    if let Some(s) = kept.iter().find_map(|r| r.subject.clone()) {
        attributes["subject"] = json!(s);
    }
    out.write(&json!({
        "contact_identifier": t.customer_id,
        "channel": first.channel.as_str(),
        "inbox_hint": channel_label(first.channel),
        "status": "resolved",
        "additional_attributes": attributes,
        "messages": messages,
    }))
}
