//! Which importer a file belongs to, by content (not only by name).

use super::SourceOutcome;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Formats omnitrail can import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    WhatsApp,
    Email,
    Calls,
    Contacts,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::WhatsApp => "whatsapp",
            Format::Email => "email",
            Format::Calls => "calls",
            Format::Contacts => "contacts",
        }
    }
}

/// The format of a file met in a folder walk, sniffed only when its extension is one an
/// export can have (a chat folder is mostly photos and voice notes).
pub fn detect_export(path: &Path) -> Option<Format> {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let may_be_export = matches!(
        ext.as_deref(),
        None | Some("txt" | "zip" | "csv" | "tsv" | "xml" | "mbox" | "mbx" | "eml" | "vcf" | "vcard")
    );
    may_be_export.then(|| detect(path)).flatten()
}

/// Why a file of format `detected` (see [`detect_export`]) is left out of an import of
/// `wanted`: the export of another format, or nothing omnitrail imports.
pub fn skip_reason(detected: Option<Format>, wanted: Format) -> String {
    match detected.filter(|f| *f != wanted) {
        Some(f) => format!(
            "a {} export: import it with `omnitrail import {}` (or `omnitrail import PATH`, which detects the format)",
            f.name(),
            f.name()
        ),
        None => "not a format this version imports".into(),
    }
}

/// Bytes sniffed from the start of a file.
pub const HEAD_BYTES: usize = 64 * 1024;

/// Sniffs a file (or a Maildir folder). `None`: not a format this build can import.
pub fn detect(path: &Path) -> Option<Format> {
    if path.is_dir() {
        return super::is_maildir(path).then_some(Format::Email);
    }
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    if ext.as_deref() == Some("zip") {
        return crate::import::whatsapp::zip_has_chat(path).then_some(Format::WhatsApp);
    }
    super::pipeline::ensure_regular_file(path).ok()?;
    let mut head = vec![0u8; HEAD_BYTES];
    let n = std::fs::File::open(path).and_then(|mut f| f.read(&mut head)).ok()?;
    head.truncate(n);
    detect_head(&head)
}

/// Decides from the first bytes of a file. Each importer owns its own sniffing rule.
pub fn detect_head(head: &[u8]) -> Option<Format> {
    if head.is_empty() {
        return None;
    }
    // A chat whose first line is a message header is no other format's file; asked first
    // because the CSV sniffers below build a parser each, and a folder can hold 100 000 chats.
    let first_line = head.split(|&b| b == b'\n').find(|l| !l.trim_ascii().is_empty());
    if first_line.is_some_and(|l| is_whatsapp_header(&String::from_utf8_lossy(l))) {
        return Some(Format::WhatsApp);
    }
    // A chat re-saved as UTF-16 (Windows Notepad's "Unicode") starts with a byte-order mark.
    if let Some(encoding) = crate::import::encoding::TextEncoding::utf16_bom(head) {
        let text = encoding.decode_head(head);
        if text.lines().take(200).any(is_whatsapp_header) {
            return Some(Format::WhatsApp);
        }
    }
    // Order matters: a contacts CSV and a call-log CSV are both CSVs; mail can quote chat lines.
    if crate::import::email::sniff(head) {
        return Some(Format::Email);
    }
    if crate::import::contacts::sniff(head) {
        return Some(Format::Contacts);
    }
    if crate::import::calls::sniff(head) {
        return Some(Format::Calls);
    }
    if head.contains(&0) {
        return None;
    }
    let text = String::from_utf8_lossy(head);
    let headers = text.lines().take(200).filter(|l| is_whatsapp_header(l)).count();
    (headers > 0).then_some(Format::WhatsApp)
}

fn is_whatsapp_header(line: &str) -> bool {
    crate::import::whatsapp::header::parse(&crate::normalize::text::matching_view(line)).is_some()
}

/// Files found under PATHs, grouped by detected format, plus what was skipped and why.
/// Used by `import PATH…` (no format named) and `audit`.
pub fn group_by_format(paths: &[PathBuf]) -> (BTreeMap<Format, Vec<PathBuf>>, Vec<SourceOutcome>) {
    let mut groups: BTreeMap<Format, Vec<PathBuf>> = BTreeMap::new();
    let mut skipped = Vec::new();
    for found in super::expand_paths(paths) {
        let (path, explicit) = match found.into_file() {
            Ok(file) => file,
            Err(unwalked) => {
                skipped.push(*unwalked);
                continue;
            }
        };
        let display = path.display().to_string();
        if !path.exists() {
            skipped.push(SourceOutcome::failed(
                &display,
                format!("{display}: no such file or folder"),
            ));
            continue;
        }
        if path.metadata().map(|m| m.is_file() && m.len() == 0).unwrap_or(false) {
            let why = format!("{display}: empty file: nothing to import");
            skipped.push(if explicit {
                SourceOutcome::failed(&display, why)
            } else {
                SourceOutcome::skipped(&display, why)
            });
            continue;
        }
        match detect(&path) {
            Some(format) => groups.entry(format).or_default().push(path),
            None => {
                let why = format!(
                    "{display}: not a format omnitrail imports (expected a WhatsApp export, a mailbox, a call log or a contacts file)"
                );
                skipped.push(if explicit {
                    SourceOutcome::failed(&display, why)
                } else {
                    SourceOutcome::skipped(&display, why)
                });
            }
        }
    }
    (groups, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chat_is_told_from_files_that_quote_chat_lines() {
        let line = "12/01/2024, 09:00 - Ana: order 123 please\n";
        assert_eq!(detect_head(line.as_bytes()), Some(Format::WhatsApp));
        let chat = format!("\u{feff}\n{line}");
        assert_eq!(detect_head(chat.as_bytes()), Some(Format::WhatsApp));
        let mbox =
            format!("From ana@example.com Fri Jan 12 09:00:00 2024\nFrom: ana@example.com\nSubject: chat\n\n{line}");
        assert_eq!(detect_head(mbox.as_bytes()), Some(Format::Email));
        let contacts = format!("Name,Phone,Notes\nAna,+44 7700 900123,\"{}\"\n", line.trim());
        assert_eq!(detect_head(contacts.as_bytes()), Some(Format::Contacts));
    }

    #[test]
    fn a_chat_saved_as_utf16_with_a_byte_order_mark_is_a_chat() {
        let text = "12/01/2024, 09:00 - Ana: order 123 please\n12/01/2024, 09:01 - Bo: ok\n";
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(detect_head(&le), Some(Format::WhatsApp));
        assert_eq!(detect_head(&be), Some(Format::WhatsApp));
        let prose: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("just some words\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_ne!(detect_head(&prose), Some(Format::WhatsApp));
    }

    #[test]
    fn a_skipped_file_of_another_format_names_its_importer() {
        let calls = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo/calls/Master.csv");
        let why = skip_reason(detect_export(&calls), Format::WhatsApp);
        assert!(why.contains("`omnitrail import calls`"), "{why}");
        assert_eq!(
            skip_reason(detect_export(&calls), Format::Calls),
            "not a format this version imports"
        );
        assert_eq!(
            skip_reason(detect_export(Path::new("no-such-photo.jpg")), Format::WhatsApp),
            "not a format this version imports"
        );
    }
}
