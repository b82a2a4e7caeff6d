//! Call logs: Asterisk/FreePBX CDR, Twilio, Android XML, generic mapped CSV (issue #4).

/// True when the start of a file looks like a call log this importer reads.
pub fn sniff(_head: &[u8]) -> bool {
    false
}
