//! Zendesk: `users-NNNN.json` request bodies for `POST /api/v2/users/create_or_update_many`
//! and `tickets-NNNN.json` bodies for the ticket import API
//! (`POST /api/v2/imports/tickets/create_many`), at most 100 items per body as both
//! endpoints require. One ticket per conversation (customer × thread), its interactions as
//! comments; the import API keeps `created_at` on tickets and comments.

use super::fidelity::{rule, Fidelity, Outcome, Rule};
use super::group::{Thread, ThreadSpill};
use super::hubspot::{body_with_context, finish_platform};
use super::input::Customer;
use super::platform::{chars, iso_utc, Rejected, SplitJson};
use super::ExportContext;
use crate::model::{Channel, Kind};
use anyhow::Result;
use serde_json::json;
use std::collections::HashMap;

/// Items per request body: the limit of Zendesk's `create_many` endpoints.
pub const MAX_ITEMS: u64 = 100;
/// Characters per comment body kept well inside Zendesk's comment size limit (64 KB).
pub const MAX_COMMENT: usize = 65_000;

/// Writes users, tickets, `rejected.jsonl`, `FIDELITY.md` and `fidelity.json`.
pub fn write(ctx: &mut ExportContext<'_>) -> Result<()> {
    let dir = ctx.dir.to_path_buf();
    let mut fid = Fidelity::new("zendesk");
    let mut rejected = Rejected::new(&dir);
    let customers = ctx.customers();
    let mut users = SplitJson::new(&dir, "users", "users", MAX_ITEMS);
    for c in &customers {
        users.write(&user(c, &mut fid))?;
    }
    let by_id: HashMap<&str, &Customer> = customers.iter().map(|c| (c.customer_id.as_str(), c)).collect();
    let mut spill = ThreadSpill::new(&dir.join(".work"), ctx.workspace_rows()?)?;
    ctx.stream(|rows| {
        for row in rows {
            let r = &row.interaction;
            let channel = r.channel.as_str();
            if r.kind == Kind::System || r.channel == Channel::Contact {
                fid.skipped(
                    channel,
                    if r.channel == Channel::Contact {
                        "contact rows are the users file"
                    } else {
                        "system lines are not conversations"
                    },
                );
                continue;
            }
            match row.customer_id.clone() {
                Some(cid) => spill.push(&cid, row)?,
                None => {
                    fid.rejected(channel);
                    rejected.write(
                        "tickets",
                        &r.interaction_id,
                        None,
                        "no customer: a Zendesk ticket needs a requester (run `omnitrail match` after the last import)",
                        &json!({"interaction_id": r.interaction_id, "channel": channel, "created_at": iso_utc(r.ts)}),
                    )?;
                }
            }
        }
        Ok(())
    })?;
    let mut tickets = SplitJson::new(&dir, "tickets", "tickets", MAX_ITEMS);
    let now = chrono::Utc::now().timestamp_millis();
    spill.for_each_thread(|t| ticket(t, &by_id, now, &mut tickets, &mut rejected, &mut fid))?;
    for (name, parts) in [("users", users.finish()?), ("tickets", tickets.finish()?)] {
        let mut total = 0;
        for (file, rows) in parts {
            total += rows;
            ctx.add_file(file, Some(rows));
        }
        ctx.count(name, total);
    }
    fid.note(
        "Import users.json first (POST /api/v2/users/create_or_update_many): external_id is the omnitrail customer_id.",
    );
    fid.note("Ticket and comment created_at are kept by the ticket import API; Zendesk refuses times before 1970 or in the future.");
    fid.note("Comments are authored by the requester unless author_id is set: the direction and the business-side agent are written at the start of each comment.");
    fid.note("Tickets are imported with status `closed`: Zendesk runs no triggers on them and they go straight to the archive with archive_immediately=true.");
    finish_platform(ctx, fid, rejected)
}

fn user(c: &Customer, fid: &mut Fidelity) -> serde_json::Value {
    let name = c
        .display_name
        .clone()
        .or_else(|| c.emails.first().cloned())
        .or_else(|| c.phones.first().cloned())
        .unwrap_or_else(|| c.customer_id.clone());
    fid.exported("customer");
    fid.field("customer", "customer_id", rule(Outcome::Kept, "external_id", "as is"));
    fid.field(
        "customer",
        "display_name",
        if c.display_name.is_some() {
            rule(Outcome::Kept, "name", "as is")
        } else {
            rule(
                Outcome::Changed,
                "name",
                "no name known: the email, phone or customer id stands in",
            )
        },
    );
    let mut identities = Vec::new();
    for (i, e) in c.emails.iter().enumerate() {
        fid.field(
            "customer",
            "emails",
            rule(
                Outcome::Kept,
                if i == 0 { "email" } else { "identities (email)" },
                "as is",
            ),
        );
        if i > 0 {
            identities.push(json!({"type": "email", "value": e}));
        }
    }
    for (i, p) in c.phones.iter().enumerate() {
        fid.field(
            "customer",
            "phones",
            rule(
                Outcome::Kept,
                if i == 0 { "phone" } else { "identities (phone_number)" },
                "E.164",
            ),
        );
        if i > 0 {
            identities.push(json!({"type": "phone_number", "value": p}));
        }
    }
    let mut u = json!({
        "external_id": c.customer_id,
        "name": name,
        "role": "end-user",
    });
    if let Some(e) = c.emails.first() {
        u["email"] = json!(e);
    }
    if let Some(p) = c.phones.first() {
        u["phone"] = json!(p);
    }
    if !identities.is_empty() {
        u["identities"] = json!(identities);
    }
    u
}

fn rules(field: &'static str) -> Rule {
    use Outcome::*;
    match field {
        "ts" => rule(Kept, "comment created_at", "exact (ticket import API)"),
        "interaction_id" => rule(Dropped, "—", "comments have no external id"),
        "thread_key" => rule(Changed, "ticket external_id", "one ticket per customer and thread"),
        "text" => rule(Kept, "comment value", "after a `[channel · direction · agent]` header"),
        "direction" => rule(
            Changed,
            "comment value",
            "in the header; every comment is public and authored by the requester",
        ),
        "agent" => rule(Changed, "comment value", "in the header; not a Zendesk agent"),
        "subject" => rule(Changed, "ticket subject", "the first subject of the thread"),
        "body_full" => rule(
            Dropped,
            "—",
            "only the new text is imported; quoted history is already in earlier comments",
        ),
        "attachments" => rule(Changed, "comment value", "names listed; files are not in the export"),
        "status" | "duration_s" => rule(Changed, "comment value", "in the header line of a call"),
        "customer_name" => rule(Changed, "requester name", "the user's name"),
        "mentions" => rule(Dropped, "—", "still readable in the text"),
        "edited" => rule(Changed, "comment value", "`(edited)` appended"),
        _ => rule(Dropped, "—", "no Zendesk field"),
    }
}

fn comment_value(r: &crate::model::Interaction) -> String {
    let mut body = body_with_context(r);
    if r.kind == Kind::Call || r.channel == Channel::Call {
        let status = r.status.map(|s| s.as_str()).unwrap_or("call");
        let duration = r.duration_s.map(|d| format!(", {d} s")).unwrap_or_default();
        body.push_str(&format!("\nCall {status}{duration}"));
    }
    body
}

fn ticket(
    t: Thread,
    customers: &HashMap<&str, &Customer>,
    now: i64,
    out: &mut SplitJson,
    rejected: &mut Rejected,
    fid: &mut Fidelity,
) -> Result<()> {
    let external_id = format!(
        "omnitrail-{}",
        &blake3::hash(format!("{}\u{1f}{}", t.customer_id, t.thread_key).as_bytes()).to_hex()[..16]
    );
    let customer = customers.get(t.customer_id.as_str());
    let email = customer.and_then(|c| c.emails.first());
    let Some(email) = email else {
        for r in &t.rows {
            fid.rejected(r.channel.as_str());
        }
        return rejected.write(
            "tickets",
            &external_id,
            Some(&t.customer_id),
            "the customer has no email: Zendesk's ticket import identifies a new requester by email (import users.json, then set requester_id to the user with this external_id)",
            &json!({"external_id": external_id, "comments": t.rows.len(), "channel": t.rows[0].channel.as_str()}),
        );
    };
    let mut comments = Vec::with_capacity(t.rows.len());
    let mut kept = Vec::new();
    for r in &t.rows {
        let value = comment_value(r);
        let reason = if chars(&value) > MAX_COMMENT {
            Some(format!(
                "comment has {} characters; Zendesk accepts about {MAX_COMMENT}",
                chars(&value)
            ))
        } else if r.ts > now || r.ts < 0 {
            Some("created_at before 1970 or in the future: Zendesk's import refuses it".to_string())
        } else {
            None
        };
        if let Some(reason) = reason {
            fid.rejected(r.channel.as_str());
            rejected.write(
                "tickets",
                &r.interaction_id,
                Some(&t.customer_id),
                &reason,
                &json!({"ticket_external_id": external_id, "created_at": iso_utc(r.ts), "length": chars(&value)}),
            )?;
            continue;
        }
        fid.interaction(r, rules);
        comments.push(json!({"value": value, "created_at": iso_utc(r.ts), "public": true}));
        kept.push(r);
    }
    let (Some(first), Some(last)) = (kept.first(), kept.last()) else {
        return Ok(());
    };
    let channel = first.channel.as_str();
    let subject = kept
        .iter()
        .find_map(|r| r.subject.clone())
        .unwrap_or_else(|| format!("{} conversation", super::hubspot::channel_label(first.channel)));
    let name = customer
        .and_then(|c| c.display_name.clone())
        .unwrap_or_else(|| email.clone());
    out.write(&json!({
        "external_id": external_id,
        "subject": subject,
        "requester": {"name": name, "email": email},
        "status": "closed",
        "created_at": iso_utc(first.ts),
        "updated_at": iso_utc(last.ts),
        "tags": ["omnitrail", channel],
        "comments": comments,
    }))
}
