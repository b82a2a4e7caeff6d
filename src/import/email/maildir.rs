//! Maildir folders (`cur/`, `new/`, Maildir++ `.Folder` sub-folders, nested trees) and
//! single-message files (`.eml`, a Maildir file, a `msg_*.txt`).

use super::mbox::RawMessage;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Every message file under a Maildir root, sorted, `tmp/` skipped (deliveries in progress).
pub fn message_files(root: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if p.is_dir() {
                if name != "tmp" {
                    walk(&p, out);
                }
            } else if !name.starts_with('.') && !is_index_file(name) {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, &mut out);
    out
}

/// Files mail servers keep beside messages (Dovecot indexes, Courier state).
fn is_index_file(name: &str) -> bool {
    name.starts_with("dovecot") || name.starts_with("courier") || name == "maildirfolder" || name == "subscriptions"
}

/// Name parts of a Maildir file: `<unique>[:;!]2,<flags>`.
pub struct MaildirName {
    pub flags: Option<String>,
    /// Delivery time: the unique part starts with epoch seconds.
    pub epoch: Option<i64>,
}

pub fn parse_name(name: &str) -> MaildirName {
    let flags = [":2,", ";2,", "!2,"]
        .iter()
        .find_map(|sep| name.rfind(sep).map(|i| name[i + 3..].to_string()));
    let digits: String = name.chars().take_while(|c| c.is_ascii_digit()).collect();
    // Epochs between 1995 and 2100 only: short numeric names (`01`, `29`) are not times.
    let epoch = digits
        .parse::<i64>()
        .ok()
        .filter(|d| digits.len() >= 9 && (788_918_400..4_102_444_800).contains(d));
    MaildirName { flags, epoch }
}

/// Reads one message file of a Maildir (or a single .eml) as a raw message.
pub fn read_message(root: Option<&Path>, file: &Path) -> std::io::Result<RawMessage> {
    let mut bytes = Vec::new();
    let f = std::fs::File::open(file)?;
    let size = f.metadata()?.len();
    // At most MAX_MESSAGE_BYTES of it, as for a message in an mbox.
    f.take(super::mbox::MAX_MESSAGE_BYTES as u64).read_to_end(&mut bytes)?;
    let cut_bytes = size.saturating_sub(bytes.len() as u64);
    let mut envelope = None;
    // A bare envelope line (`From sender [date]`) before the headers, as some tools save.
    if bytes.starts_with(b"From ") {
        let end = memchr::memchr(b'\n', &bytes).map_or(bytes.len(), |i| i + 1);
        let line = String::from_utf8_lossy(&bytes[5..end]).trim().to_string();
        if !line.contains(':')
            || super::mbox::is_separator(String::from_utf8_lossy(&bytes[..end]).trim_end().as_bytes())
        {
            envelope = Some(line);
            bytes.drain(..end);
        }
    }
    let mut msg = RawMessage {
        offset: 0,
        line: 1,
        envelope,
        bytes,
        cut_bytes,
        ..Default::default()
    };
    if let Some(root) = root {
        let rel = file.strip_prefix(root).unwrap_or(file);
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let parsed = parse_name(name);
        msg.maildir_file = Some(rel.display().to_string());
        msg.maildir_folder = rel.parent().map(|p| p.display().to_string());
        msg.maildir_flags = parsed.flags;
        msg.maildir_epoch = parsed.epoch;
    }
    Ok(msg)
}

/// True when a Maildir folder path names a sent-mail folder (in a few languages).
pub fn is_sent_folder(folder: &str) -> bool {
    let lower = folder.to_lowercase();
    lower.split(['/', '.']).any(|part| {
        matches!(
            part.trim(),
            "sent"
                | "sent items"
                | "sent mail"
                | "sent messages"
                | "gesendet"
                | "gesendete objekte"
                | "enviados"
                | "envoyés"
                | "inviati"
                | "verzonden"
                | "skickat"
                | "sendt"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_file_is_read_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("big.eml");
        let size = super::super::mbox::MAX_MESSAGE_BYTES + 1000;
        let mut text = b"From: a@example.com\nSubject: big\n\n".to_vec();
        text.resize(size, b'x');
        std::fs::write(&file, &text).unwrap();
        let m = read_message(None, &file).unwrap();
        assert_eq!(m.bytes.len(), super::super::mbox::MAX_MESSAGE_BYTES);
        assert_eq!(m.cut_bytes, 1000);
        std::fs::write(&file, b"From: a@example.com\n\nsmall\n").unwrap();
        assert_eq!(read_message(None, &file).unwrap().cut_bytes, 0);
    }

    #[test]
    fn flags_and_epoch_from_file_names() {
        let n = parse_name("1491941793.M41850P8566V0000000000000015I0000000004F3030E_0.mx1.example.com,S=10956;2,STln");
        assert_eq!(n.flags.as_deref(), Some("STln"));
        assert_eq!(n.epoch, Some(1_491_941_793));
        let n = parse_name("29:2,");
        assert_eq!(n.flags.as_deref(), Some(""));
        assert_eq!(n.epoch, None);
        assert!(is_sent_folder(".INBOX.Sent/cur"));
        assert!(is_sent_folder(".Gesendet/new"));
        assert!(!is_sent_folder("cur"));
    }
}
