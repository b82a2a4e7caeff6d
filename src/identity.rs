//! Identities: the keys the matcher links into customers, and the column contract of the
//! matcher's output files. Importers, the matcher, reports and export all derive an
//! interaction's identity with [`identity_id`], so they always agree.

use crate::model::{Channel, HandleKind};

/// The identity an interaction's customer side belongs to.
///
/// Phones and emails are channel-independent (`phone:+447700900123`, `email:ann@example.com`):
/// the same number on WhatsApp and in a call log is one identity. A display name only means
/// something within its channel (`name:whatsapp:Sarah Jones`), so it is scoped by channel.
pub fn identity_id(kind: HandleKind, handle: &str, channel: Channel) -> String {
    match kind {
        HandleKind::Phone => format!("phone:{handle}"),
        HandleKind::Email => format!("email:{handle}"),
        HandleKind::Name => format!("name:{channel}:{handle}"),
    }
}

/// `identities.parquet`: one row per identity.
/// - `identity_id` (str): as [`identity_id`] builds it
/// - `kind` (str): `phone`, `email`, `name`
/// - `value` (str): the handle (E.164, lower-cased address, display name)
/// - `channels` (list[str]): channels it appears on
/// - `display_name` (str, nullable): the most frequent display name seen with it
/// - `interactions` (u64): interactions that carry it (contact rows included)
/// - `guard` (str, nullable): why it may not glue people together (`shared`, `generic`, `withheld`, `business`)
/// - `customer_id` (str): the customer it belongs to
pub const IDENTITY_COLUMNS: &[&str] = &[
    "identity_id",
    "kind",
    "value",
    "channels",
    "display_name",
    "interactions",
    "guard",
    "customer_id",
];

/// `customers.parquet`: one row per unified customer.
/// - `customer_id` (str): `C-` and 10 hex digits, stable for the same cluster anchor
/// - `display_name`, `primary_phone`, `primary_email` (str, nullable)
/// - `identities` (u32), `interactions` (u64), `channels` (list[str])
/// - `first_ts`, `last_ts` (datetime ms UTC, nullable)
pub const CUSTOMER_COLUMNS: &[&str] = &[
    "customer_id",
    "display_name",
    "primary_phone",
    "primary_email",
    "identities",
    "interactions",
    "channels",
    "first_ts",
    "last_ts",
];

/// `links.parquet`: one row per piece of evidence considered between two identities.
/// - `identity_a`, `identity_b` (str), `rule` (str: `same_phone`, `mention`, `name+order`, `contact`, `override`, …)
/// - `score` (f64, 0–1), `evidence` (str: human-readable, e.g. the message that mentions the number)
/// - `accepted` (bool): whether the link joined the two in the final clustering
pub const LINK_COLUMNS: &[&str] = &["identity_a", "identity_b", "rule", "score", "evidence", "accepted"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_scoped_by_channel_and_numbers_are_not() {
        assert_eq!(
            identity_id(HandleKind::Phone, "+447700900123", Channel::Call),
            identity_id(HandleKind::Phone, "+447700900123", Channel::Whatsapp)
        );
        assert_eq!(
            identity_id(HandleKind::Name, "Sarah Jones", Channel::Whatsapp),
            "name:whatsapp:Sarah Jones"
        );
    }
}
