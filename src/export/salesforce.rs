//! Salesforce: `Contact.csv` and `Task.csv` for Data Loader (upsert on the external-id
//! fields `Omnitrail_Customer_Id__c` and `Omnitrail_Interaction_Id__c`). Tasks point at
//! their contact through the contact's external id. Dates use Data Loader's
//! `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`; `ActivityDate` is a date only.
//!
//! Limits applied: Data Loader reads at most 32,000 characters per CSV field; Salesforce
//! field lengths (LastName 80, FirstName 40, Email 80, Phone 40, Subject 255); files are
//! split every 5,000,000 rows, Data Loader's recommended maximum per operation.

use super::fidelity::{rule, Fidelity, Outcome, Rule};
use super::hubspot::{body_with_context, channel_label, finish_platform};
use super::input::{Customer, ExportRow};
use super::platform::{over_limit, row_object, split_name, Rejected, SplitCsv};
use super::ExportContext;
use crate::model::{CallStatus, Channel, Direction, Kind};
use anyhow::Result;

/// Rows per file: Data Loader handles up to 5 million records per operation.
pub const MAX_ROWS: u64 = 5_000_000;
/// Data Loader's maximum CSV field size.
pub const MAX_FIELD: usize = 32_000;

const CONTACT_HEADER: &[&str] = &[
    "Omnitrail_Customer_Id__c",
    "FirstName",
    "LastName",
    "Email",
    "Phone",
    "MobilePhone",
    "Description",
];
const CONTACT_LIMITS: &[(&str, usize)] = &[
    ("FirstName", 40),
    ("LastName", 80),
    ("Email", 80),
    ("Phone", 40),
    ("MobilePhone", 40),
    ("Description", MAX_FIELD),
];
const TASK_HEADER: &[&str] = &[
    "Omnitrail_Interaction_Id__c",
    "Who.Omnitrail_Customer_Id__c",
    "Subject",
    "ActivityDate",
    "CreatedDate",
    "Status",
    "Priority",
    "TaskSubtype",
    "Type",
    "CallType",
    "CallDurationInSeconds",
    "CallDisposition",
    "Description",
];
const TASK_LIMITS: &[(&str, usize)] = &[("Subject", 255), ("CallDisposition", 255), ("Description", MAX_FIELD)];

/// Writes `Contact.csv`, `Task.csv`, `rejected.jsonl`, `FIDELITY.md` and `fidelity.json`.
pub fn write(ctx: &mut ExportContext<'_>) -> Result<()> {
    let dir = ctx.dir.to_path_buf();
    let mut fid = Fidelity::new("salesforce");
    let mut rejected = Rejected::new(&dir);
    let mut contacts = SplitCsv::new(&dir, "Contact", CONTACT_HEADER, MAX_ROWS, u64::MAX);
    for c in ctx.customers() {
        contact(&c, &mut contacts, &mut rejected, &mut fid)?;
    }
    let mut tasks = SplitCsv::new(&dir, "Task", TASK_HEADER, MAX_ROWS, u64::MAX);
    ctx.stream(|rows| {
        for row in rows {
            task(&row, &mut tasks, &mut rejected, &mut fid)?;
        }
        Ok(())
    })?;
    for (name, parts) in [("contacts", contacts.finish()?), ("tasks", tasks.finish()?)] {
        let mut total = 0;
        for (file, rows) in parts {
            total += rows;
            ctx.add_file(file, Some(rows));
        }
        ctx.count(name, total);
    }
    fid.note("Create the text external-id fields Omnitrail_Customer_Id__c (Contact) and Omnitrail_Interaction_Id__c (Task) before loading; upsert on them so re-loading changes nothing.");
    fid.note("CreatedDate is only accepted with the org permission `Set Audit Fields upon Record Creation` (and the user's `Set Audit Fields` permission). Without it, unmap the column: the Task then keeps only its ActivityDate (a date, no time), and the time is still written in the Description.");
    fid.note("WhatsApp, SMS and other messages become Tasks of subtype Task: Salesforce has no standard object for chat messages.");
    fid.note("Salesforce needs a LastName: a customer with no name gets its email, phone or customer id as LastName (counted as changed).");
    finish_platform(ctx, fid, rejected)
}

fn contact(c: &Customer, out: &mut SplitCsv, rejected: &mut Rejected, fid: &mut Fidelity) -> Result<()> {
    let (first, last) = match &c.display_name {
        Some(n) => split_name(n),
        None => (
            String::new(),
            c.emails
                .first()
                .or(c.phones.first())
                .cloned()
                .unwrap_or_else(|| c.customer_id.clone()),
        ),
    };
    let mut description = Vec::new();
    if c.emails.len() > 1 {
        description.push(format!("Other emails: {}", c.emails[1..].join(", ")));
    }
    if c.phones.len() > 2 {
        description.push(format!("Other phones: {}", c.phones[2..].join(", ")));
    }
    if !c.channels.is_empty() {
        description.push(format!("Channels: {}", c.channels.join(", ")));
    }
    let row = vec![
        c.customer_id.clone(),
        first,
        last,
        c.emails.first().cloned().unwrap_or_default(),
        c.phones.first().cloned().unwrap_or_default(),
        c.phones.get(1).cloned().unwrap_or_default(),
        description.join("\n"),
    ];
    if let Some((col, n, limit)) = over_limit(CONTACT_HEADER, &row, CONTACT_LIMITS) {
        fid.rejected("customer");
        return rejected.write(
            "Contact",
            &c.customer_id,
            Some(&c.customer_id),
            &format!("{col} has {n} characters; Salesforce accepts at most {limit}"),
            &row_object(CONTACT_HEADER, &row),
        );
    }
    fid.exported("customer");
    fid.field(
        "customer",
        "customer_id",
        rule(Outcome::Kept, "Omnitrail_Customer_Id__c", "external id"),
    );
    fid.field(
        "customer",
        "display_name",
        if c.display_name.is_some() {
            rule(Outcome::Changed, "FirstName + LastName", "split at the last space")
        } else {
            rule(
                Outcome::Changed,
                "LastName",
                "no name: email, phone or customer id stands in",
            )
        },
    );
    for i in 0..c.emails.len() {
        fid.field(
            "customer",
            "emails",
            if i == 0 {
                rule(Outcome::Kept, "Email", "as is")
            } else {
                rule(Outcome::Changed, "Description", "listed as text")
            },
        );
    }
    for i in 0..c.phones.len() {
        fid.field(
            "customer",
            "phones",
            match i {
                0 => rule(Outcome::Kept, "Phone", "E.164"),
                1 => rule(Outcome::Kept, "MobilePhone", "E.164"),
                _ => rule(Outcome::Changed, "Description", "listed as text"),
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
            "ActivityDate + CreatedDate",
            "date kept; the time needs the audit-fields permission (also written in Description)",
        ),
        "interaction_id" => rule(Kept, "Omnitrail_Interaction_Id__c", "external id"),
        "thread_key" => rule(Dropped, "—", "Tasks are not grouped into conversations"),
        "text" => rule(Kept, "Description", "after a `[channel · direction · agent]` header"),
        "direction" => rule(
            Kept,
            "CallType / Description",
            "Inbound/Outbound/Internal for calls; in the header otherwise",
        ),
        "agent" => rule(
            Changed,
            "Description",
            "in the header; the Task owner is the loading user",
        ),
        "subject" => rule(Kept, "Subject", "as is"),
        "body_full" => rule(Dropped, "—", "only the new text is loaded"),
        "attachments" => rule(Changed, "Description", "names listed; files are not in the export"),
        "status" => rule(Kept, "CallDisposition", "answered, missed, voicemail, busy, failed"),
        "duration_s" => rule(Kept, "CallDurationInSeconds", "as is"),
        "customer_name" => rule(Changed, "Contact name", "the contact's name"),
        "mentions" => rule(Dropped, "—", "still readable in the text"),
        "edited" => rule(Changed, "Description", "`(edited)` appended"),
        _ => rule(Dropped, "—", "no Salesforce field"),
    }
}

/// `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`, the UTC form Data Loader documents.
fn data_loader_datetime(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

fn task(row: &ExportRow, out: &mut SplitCsv, rejected: &mut Rejected, fid: &mut Fidelity) -> Result<()> {
    let r = &row.interaction;
    let channel = r.channel.as_str();
    if r.kind == Kind::System || r.channel == Channel::Contact {
        fid.skipped(
            channel,
            if r.channel == Channel::Contact {
                "contact rows are the Contact file"
            } else {
                "system lines are not conversations"
            },
        );
        return Ok(());
    }
    let is_call = r.kind == Kind::Call || r.channel == Channel::Call;
    let (subtype, kind) = if is_call {
        ("Call", "Call")
    } else if r.channel == Channel::Email {
        ("Email", "Email")
    } else {
        ("Task", "Other")
    };
    let subject = match (&r.subject, is_call) {
        (Some(s), _) => s.clone(),
        (None, true) => format!(
            "{} {} call{}",
            channel_label(r.channel),
            r.direction.as_str(),
            match r.status {
                Some(CallStatus::Missed) => " (missed)",
                Some(CallStatus::Voicemail) => " (voicemail)",
                _ => "",
            }
        ),
        (None, false) => format!("{} {} message", channel_label(r.channel), r.direction.as_str()),
    };
    let call_type = match (is_call, r.direction) {
        (false, _) => "",
        (true, Direction::Outbound) => "Outbound",
        (true, Direction::Internal) => "Internal",
        (true, _) => "Inbound",
    };
    let description = format!("{} UTC\n{}", data_loader_datetime(r.ts), body_with_context(r));
    let record = vec![
        r.interaction_id.clone(),
        row.customer_id.clone().unwrap_or_default(),
        subject,
        data_loader_datetime(r.ts)[..10].to_string(),
        data_loader_datetime(r.ts),
        "Completed".to_string(),
        "Normal".to_string(),
        subtype.to_string(),
        kind.to_string(),
        call_type.to_string(),
        if is_call {
            r.duration_s.map(|d| d.to_string()).unwrap_or_default()
        } else {
            String::new()
        },
        if is_call {
            r.status.map(|s| s.as_str().to_string()).unwrap_or_default()
        } else {
            String::new()
        },
        description,
    ];
    if row.customer_id.is_none() {
        fid.rejected(channel);
        return rejected.write(
            "Task",
            &r.interaction_id,
            None,
            "no customer: the Task would be related to no Contact (run `omnitrail match` after the last import)",
            &row_object(TASK_HEADER, &record),
        );
    }
    if let Some((col, n, limit)) = over_limit(TASK_HEADER, &record, TASK_LIMITS) {
        fid.rejected(channel);
        return rejected.write(
            "Task",
            &r.interaction_id,
            row.customer_id.as_deref(),
            &format!("{col} has {n} characters; Salesforce accepts at most {limit}"),
            &row_object(TASK_HEADER, &record),
        );
    }
    fid.interaction(r, rules);
    out.write(&record)
}
