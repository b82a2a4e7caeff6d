//! What a platform keeps, changes or drops, counted per channel and field while a profile is
//! written, then reported as `FIDELITY.md` (for people) and `fidelity.json` (for scripts), so
//! an ops team knows before migrating what its new CRM will not show.

use crate::model::Interaction;
use anyhow::Result;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// What happens to a field on import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Imported as it is.
    Kept,
    /// Imported in another form (time lost, folded into another field, prefixed, …).
    Changed,
    /// Not imported.
    Dropped,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Kept => "kept",
            Outcome::Changed => "changed",
            Outcome::Dropped => "dropped",
        }
    }
}

/// The rule for one source field on one platform.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub outcome: Outcome,
    /// The platform's field (or `—`).
    pub target: &'static str,
    /// What the platform does with it, in a few words.
    pub how: &'static str,
}

pub const fn rule(outcome: Outcome, target: &'static str, how: &'static str) -> Rule {
    Rule { outcome, target, how }
}

#[derive(Debug, Clone, Serialize)]
struct FieldEntry {
    channel: &'static str,
    field: &'static str,
    outcome: Outcome,
    target: &'static str,
    how: &'static str,
    count: u64,
}

/// Records per channel: written, rejected (the platform would refuse them; see the rejected
/// file) or skipped (not a record the platform has a place for, e.g. WhatsApp system lines).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct RecordCounts {
    pub exported: u64,
    pub rejected: u64,
    pub skipped: u64,
}

/// Accumulates field fates and record counts for one platform export.
#[derive(Debug)]
pub struct Fidelity {
    platform: &'static str,
    fields: HashMap<(&'static str, &'static str), FieldEntry>,
    records: BTreeMap<&'static str, RecordCounts>,
    skipped_why: BTreeMap<(&'static str, &'static str), u64>,
    notes: Vec<String>,
}

/// The interaction fields a record carries (non-null, non-empty), in schema order.
pub fn present_fields(r: &Interaction) -> Vec<&'static str> {
    let mut out = vec!["interaction_id", "ts", "direction", "thread_key"];
    let mut add = |cond: bool, f: &'static str| {
        if cond {
            out.push(f);
        }
    };
    add(r.customer_name.is_some(), "customer_name");
    add(r.agent.is_some(), "agent");
    add(r.text.is_some(), "text");
    add(r.body_full.is_some(), "body_full");
    add(r.subject.is_some(), "subject");
    add(!r.attachments.is_empty(), "attachments");
    add(r.duration_s.is_some(), "duration_s");
    add(r.status.is_some(), "status");
    add(!r.mentions.is_empty(), "mentions");
    add(r.edited, "edited");
    out
}

impl Fidelity {
    pub fn new(platform: &'static str) -> Fidelity {
        Fidelity {
            platform,
            fields: HashMap::new(),
            records: BTreeMap::new(),
            skipped_why: BTreeMap::new(),
            notes: Vec::new(),
        }
    }

    /// Counts one occurrence of `field` on `channel` under `rule`.
    pub fn field(&mut self, channel: &'static str, field: &'static str, rule: Rule) {
        let e = self.fields.entry((channel, field)).or_insert(FieldEntry {
            channel,
            field,
            outcome: rule.outcome,
            target: rule.target,
            how: rule.how,
            count: 0,
        });
        e.count += 1;
    }

    /// Counts every present field of an exported interaction through the platform's rules.
    pub fn interaction(&mut self, r: &Interaction, rules: impl Fn(&'static str) -> Rule) {
        let channel = r.channel.as_str();
        for f in present_fields(r) {
            self.field(channel, f, rules(f));
        }
        self.records.entry(channel).or_default().exported += 1;
    }

    pub fn exported(&mut self, channel: &'static str) {
        self.records.entry(channel).or_default().exported += 1;
    }

    pub fn rejected(&mut self, channel: &'static str) {
        self.records.entry(channel).or_default().rejected += 1;
    }

    pub fn skipped(&mut self, channel: &'static str, why: &'static str) {
        self.records.entry(channel).or_default().skipped += 1;
        *self.skipped_why.entry((channel, why)).or_default() += 1;
    }

    /// A platform-wide limitation worth saying once.
    pub fn note(&mut self, text: impl Into<String>) {
        self.notes.push(text.into());
    }

    pub fn records(&self) -> &BTreeMap<&'static str, RecordCounts> {
        &self.records
    }

    fn sorted_fields(&self) -> Vec<&FieldEntry> {
        let mut v: Vec<&FieldEntry> = self.fields.values().collect();
        v.sort_by_key(|e| (e.channel, e.field));
        v
    }

    /// Writes `FIDELITY.md` and `fidelity.json` into `dir`; returns their names.
    pub fn write(&self, dir: &Path) -> Result<Vec<&'static str>> {
        let fields = self.sorted_fields();
        let skipped: Vec<serde_json::Value> = self
            .skipped_why
            .iter()
            .map(|((c, why), n)| serde_json::json!({"channel": c, "reason": why, "count": n}))
            .collect();
        let json = serde_json::json!({
            "platform": self.platform,
            "records": self.records,
            "fields": fields,
            "skipped": skipped,
            "notes": self.notes,
        });
        std::fs::write(dir.join("fidelity.json"), serde_json::to_string_pretty(&json)? + "\n")?;

        let mut md = format!(
            "# What {} will keep, change or drop\n\nWritten by `omnitrail export --format {}`. Counts are records of this export.\n\n",
            display_name(self.platform),
            self.platform
        );
        md.push_str("## Records per channel\n\n| channel | exported | rejected | skipped |\n|---|---|---|---|\n");
        for (c, r) in &self.records {
            md.push_str(&format!("| {c} | {} | {} | {} |\n", r.exported, r.rejected, r.skipped));
        }
        md.push_str("\nRejected records are listed in `rejected.jsonl` with the reason. Skipped records have no place on the platform:\n\n");
        if self.skipped_why.is_empty() {
            md.push_str("- none\n");
        }
        for ((c, why), n) in &self.skipped_why {
            md.push_str(&format!("- {c}: {n} — {why}\n"));
        }
        md.push_str("\n## Fields\n\n| channel | field | outcome | platform field | count | what happens |\n|---|---|---|---|---|---|\n");
        for e in &fields {
            md.push_str(&format!(
                "| {} | `{}` | {} | {} | {} | {} |\n",
                e.channel,
                e.field,
                e.outcome.as_str(),
                e.target,
                e.count,
                e.how
            ));
        }
        if !self.notes.is_empty() {
            md.push_str("\n## Limits of the platform\n\n");
            for n in &self.notes {
                md.push_str(&format!("- {n}\n"));
            }
        }
        std::fs::write(dir.join("FIDELITY.md"), md)?;
        Ok(vec!["FIDELITY.md", "fidelity.json"])
    }
}

fn display_name(platform: &str) -> &str {
    match platform {
        "hubspot" => "HubSpot",
        "chatwoot" => "Chatwoot",
        "zendesk" => "Zendesk",
        "salesforce" => "Salesforce",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Channel, Direction, Kind};

    #[test]
    fn every_present_field_is_counted_under_its_rule() {
        let mut f = Fidelity::new("chatwoot");
        let mut r = Interaction::new("s", Channel::Whatsapp, Direction::Inbound, Kind::Message, 0);
        r.text = Some("hi".into());
        for _ in 0..3 {
            f.interaction(&r, |field| match field {
                "ts" => rule(Outcome::Changed, "created_at", "set to the import time"),
                _ => rule(Outcome::Kept, "content", "as is"),
            });
        }
        f.skipped("whatsapp", "system line");
        let dir = tempfile::tempdir().unwrap();
        f.write(dir.path()).unwrap();
        let md = std::fs::read_to_string(dir.path().join("FIDELITY.md")).unwrap();
        assert!(
            md.contains("| whatsapp | `ts` | changed | created_at | 3 | set to the import time |"),
            "{md}"
        );
        assert!(md.contains("| whatsapp | 3 | 0 | 1 |"), "{md}");
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("fidelity.json")).unwrap()).unwrap();
        assert_eq!(json["records"]["whatsapp"]["exported"], 3);
    }
}
