//! Which importer a file belongs to, by content (not only by name).

use std::io::Read;
use std::path::Path;

/// Formats omnitrail can import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    WhatsApp,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::WhatsApp => "whatsapp",
        }
    }
}

/// Sniffs the first bytes of a file. `None`: not a format this build can import.
pub fn detect(path: &Path) -> Option<Format> {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    if ext.as_deref() == Some("zip") {
        return crate::import::whatsapp::zip_has_chat(path).then_some(Format::WhatsApp);
    }
    let mut head = vec![0u8; 64 * 1024];
    let n = std::fs::File::open(path).and_then(|mut f| f.read(&mut head)).ok()?;
    head.truncate(n);
    if head.contains(&0) {
        return None;
    }
    let text = String::from_utf8_lossy(&head);
    let headers = text
        .lines()
        .take(200)
        .filter(|l| crate::import::whatsapp::header::parse(&crate::normalize::text::matching_view(l)).is_some())
        .count();
    (headers > 0).then_some(Format::WhatsApp)
}
