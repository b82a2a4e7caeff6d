//! Guards: identities that must not glue different people together — numbers several
//! people use, role mailboxes, withheld callers, and the business's own handles.

use super::identities::{Collected, Guard};
use super::names::FoldedName;
use crate::identity::identity_id;
use crate::model::{Channel, HandleKind};
use crate::normalize::phone::{looks_like_phone, to_e164, Region};
use crate::workspace::Workspace;
use std::collections::HashSet;

/// Local parts of role mailboxes: several people write from or to them.
const GENERIC_LOCAL_PARTS: &[&str] = &[
    "info",
    "support",
    "noreply",
    "no-reply",
    "donotreply",
    "do-not-reply",
    "sales",
    "admin",
    "contact",
    "hello",
    "office",
    "enquiries",
    "enquiry",
    "inquiries",
    "billing",
    "accounts",
    "orders",
    "help",
    "service",
    "customerservice",
    "team",
    "mail",
    "webmaster",
    "postmaster",
    "mailer-daemon",
    "reception",
    "bookings",
    "booking",
    "hr",
    "jobs",
    "careers",
    "marketing",
    "newsletter",
    "notifications",
    "news",
    "care",
    "feedback",
    "shop",
    "store",
    "team",
    "general",
    "family",
    "home",
];

/// Caller names that say the number was hidden.
const WITHHELD_NAMES: &[&str] = &[
    "withheld",
    "anonymous",
    "private",
    "unknown",
    "restricted",
    "unavailable",
    "no caller id",
    "private number",
    "number withheld",
    "unknown caller",
    "blocked",
    "hidden",
];

/// True for role mailboxes such as `info@` or `noreply@`.
pub fn is_generic_mailbox(address: &str) -> bool {
    let local = address.split('@').next().unwrap_or("").to_ascii_lowercase();
    let base = local.split('+').next().unwrap_or("");
    GENERIC_LOCAL_PARTS.contains(&base)
}

/// True for a display name that stands for a hidden number.
pub fn is_withheld_name(name: &str) -> bool {
    let f = super::names::fold(name);
    WITHHELD_NAMES.contains(&f.as_str())
}

/// The identity an agent handle would have if it appeared as a customer.
pub fn agent_identity(agent: &str, channel: Channel) -> String {
    let a = agent.trim();
    if a.contains('@') && !a.contains(' ') {
        identity_id(HandleKind::Email, &a.to_ascii_lowercase(), channel)
    } else if looks_like_phone(a) {
        match to_e164(a, Region::none()) {
            Some(p) => identity_id(HandleKind::Phone, &p, channel),
            None => identity_id(HandleKind::Name, a, channel),
        }
    } else {
        identity_id(HandleKind::Name, a, channel)
    }
}

/// The business's own handles as the importers recorded them in the manifest
/// (`business_*` options: names, addresses, domains, numbers).
fn business_from_manifest(ws: &Workspace, region: Region) -> anyhow::Result<(HashSet<String>, HashSet<String>)> {
    let mut ids = HashSet::new();
    let mut domains = HashSet::new();
    ws.for_each_source(|source| {
        let channel = super::identities::channel_from_str(&source.channel).unwrap_or(Channel::Whatsapp);
        let options = source.options_value();
        let Some(obj) = options.as_object() else {
            return Ok(());
        };
        let source_region = obj
            .get("region")
            .and_then(|r| r.as_str())
            .and_then(|r| Region::parse(r).ok())
            .unwrap_or(region);
        for (key, value) in obj {
            if !key.contains("business") {
                continue;
            }
            let mut strings = Vec::new();
            collect_strings(value, &mut strings);
            for s in strings {
                let s = s.trim();
                if s.is_empty() {
                    continue;
                }
                if key.contains("domain") {
                    domains.insert(s.trim_start_matches('@').to_ascii_lowercase());
                } else if s.contains('@') {
                    ids.insert(format!("email:{}", s.to_ascii_lowercase()));
                } else if looks_like_phone(s) {
                    if let Some(p) = to_e164(s, source_region) {
                        ids.insert(format!("phone:{p}"));
                    }
                } else {
                    ids.insert(identity_id(HandleKind::Name, s, channel));
                }
            }
        }
        Ok(())
    })?;
    Ok((ids, domains))
}

fn collect_strings(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        serde_json::Value::Object(o) => o.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

/// True when some two of the names cannot be the same person.
pub fn names_disagree<'a>(names: impl Iterator<Item = &'a str>) -> bool {
    let folded: Vec<FoldedName> = names
        .filter(|n| !is_withheld_name(n) && !looks_like_phone(n))
        .filter_map(FoldedName::new)
        .collect();
    for (i, a) in folded.iter().enumerate() {
        for b in &folded[i + 1..] {
            if a.agreement(b).is_none() {
                return true;
            }
        }
    }
    false
}

/// Sets every identity's guard. Business first (it wins), then withheld, generic, shared.
pub fn detect(collected: &mut Collected, ws: &Workspace, region: Region) -> anyhow::Result<()> {
    let (mut business, mut domains) = business_from_manifest(ws, region)?;
    business.extend(collected.business.iter().cloned());
    for id in &collected.business {
        if let Some(addr) = id.strip_prefix("email:") {
            if let Some((_, d)) = addr.split_once('@') {
                domains.insert(d.to_string());
            }
        }
    }
    for ident in &mut collected.identities {
        let domain_is_business = ident.kind == HandleKind::Email
            && ident
                .value
                .split_once('@')
                .is_some_and(|(_, d)| domains.contains(&d.to_ascii_lowercase()));
        ident.guard = if business.contains(&ident.id) || domain_is_business {
            Some(Guard::Business)
        } else if ident.kind == HandleKind::Name && is_withheld_name(&ident.value) {
            Some(Guard::Withheld)
        } else if ident.kind == HandleKind::Email && is_generic_mailbox(&ident.value) {
            Some(Guard::Generic)
        } else if ident.kind != HandleKind::Name && names_disagree(ident.names.iter().map(|(n, _)| n.as_str())) {
            Some(Guard::Shared)
        } else {
            None
        };
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_mailboxes_are_generic_and_people_are_not() {
        assert!(is_generic_mailbox("info@shop.example"));
        assert!(is_generic_mailbox("NoReply@shop.example"));
        assert!(is_generic_mailbox("support+tickets@shop.example"));
        assert!(!is_generic_mailbox("sarah.jones@mail.example"));
    }

    #[test]
    fn hidden_callers_are_withheld() {
        assert!(is_withheld_name("Withheld"));
        assert!(is_withheld_name("PRIVATE NUMBER"));
        assert!(!is_withheld_name("Priya"));
    }

    #[test]
    fn a_phone_with_two_different_people_is_shared() {
        assert!(names_disagree(["Ann Smith", "Bob Smith"].into_iter()));
        assert!(!names_disagree(["Ann Smith", "SMITH ANN", "A. Smith"].into_iter()));
        assert!(!names_disagree(["Ann Smith", "Withheld"].into_iter()));
    }

    #[test]
    fn agents_map_to_the_identity_they_would_have() {
        assert_eq!(
            agent_identity("Tom@Shop.example", Channel::Email),
            "email:tom@shop.example"
        );
        assert_eq!(agent_identity("+44 20 7946 0100", Channel::Call), "phone:+442079460100");
        assert_eq!(
            agent_identity("Bloom & Stem", Channel::Whatsapp),
            "name:whatsapp:Bloom & Stem"
        );
    }
}
