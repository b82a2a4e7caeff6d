//! Mailboxes: mbox, Maildir and .eml (issue #3).

/// True when the start of a file (or a folder, see [`crate::import::detect`]) looks like a
/// mailbox or a single message.
pub fn sniff(_head: &[u8]) -> bool {
    false
}
