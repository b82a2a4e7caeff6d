//! Contacts: CRM CSV exports and vCards, identity anchors for the matcher (issue #4).

/// True when the start of a file looks like a contacts export (vCard or contacts CSV).
pub fn sniff(_head: &[u8]) -> bool {
    false
}
