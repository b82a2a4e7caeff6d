//! Where a chat's text comes from: a `.txt` file, or the chat inside a WhatsApp `.zip`
//! export (read in place, attachments counted and named, never extracted).

use crate::import::encoding::TextEncoding;
use crate::import::ImportError;
use crate::normalize::text;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Largest chat text accepted from inside a zip: WhatsApp caps exports at about 40 000
/// messages, far below this; anything bigger is treated as a zip bomb.
pub const MAX_ZIP_CHAT_BYTES: u64 = 256 << 20;
/// Largest compression ratio accepted for a zipped chat (text compresses 5–10×).
const MAX_ZIP_RATIO: u64 = 100;

/// Where a chat's text comes from.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum ChatInput {
    Text(#[serde(with = "crate::import::spill::path_bytes")] PathBuf),
    /// A chat inside a zip, with the names of the other (media) entries.
    Zip {
        #[serde(with = "crate::import::spill::path_bytes")]
        zip: PathBuf,
        entry: String,
        media: Vec<String>,
    },
}

impl ChatInput {
    /// Opens a chat file or a zip, choosing the chat entry as WhatsApp writes it.
    pub fn open(path: &Path) -> Result<ChatInput, ImportError> {
        let display = path.display().to_string();
        crate::import::pipeline::ensure_regular_file(path).map_err(|e| ImportError::file(&display, e.to_string()))?;
        let is_zip = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
        if !is_zip {
            return Ok(ChatInput::Text(path.to_path_buf()));
        }
        let file = open_zip(path).map_err(|e| ImportError::file(&display, format!("cannot open: {e}")))?;
        let mut archive = zip::ZipArchive::new(file)
            .map_err(|e| ImportError::file(&display, format!("not a readable zip archive: {e}")))?;
        let names: Vec<String> = archive.file_names().map(str::to_string).collect();
        let visible = |n: &&String| {
            !n.starts_with("__MACOSX/") && !n.rsplit('/').next().unwrap_or("").starts_with('.') && !n.ends_with('/')
        };
        let texts: Vec<&String> = names
            .iter()
            .filter(visible)
            .filter(|n| n.to_ascii_lowercase().ends_with(".txt"))
            .collect();
        let chosen = texts
            .iter()
            .find(|n| n.rsplit('/').next() == Some("_chat.txt"))
            .or_else(|| if texts.len() == 1 { texts.first() } else { None })
            .map(|s| s.to_string());
        let entry = match chosen {
            Some(e) => e,
            None if texts.is_empty() => {
                return Err(ImportError::file(
                    &display,
                    "expected a WhatsApp export zip with a chat text file (_chat.txt) inside, found none",
                ))
            }
            None => {
                let list: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
                return Err(ImportError::file(
                    &display,
                    format!(
                        "expected one chat text file in the zip, found {}: {}; unzip it and import the one you mean",
                        texts.len(),
                        list.join(", ")
                    ),
                ));
            }
        };
        let z = archive
            .by_name(&entry)
            .map_err(|e| ImportError::file(&display, format!("cannot read {entry}: {e}")))?;
        let (size, packed) = (z.size(), z.compressed_size().max(1));
        if size > MAX_ZIP_CHAT_BYTES || (size > (16 << 20) && size / packed > MAX_ZIP_RATIO) {
            return Err(ImportError::file(
                &display,
                format!("refusing {entry}: it unpacks to {} MB from {} KB (ratio {}:1), not what a WhatsApp export looks like (possible zip bomb)", size >> 20, packed >> 10, size / packed),
            ));
        }
        drop(z);
        let media = names.iter().filter(visible).filter(|n| **n != entry).cloned().collect();
        Ok(ChatInput::Zip {
            zip: path.to_path_buf(),
            entry,
            media,
        })
    }

    /// Display path: `file.zip!_chat.txt` for zip entries.
    pub fn display(&self) -> String {
        match self {
            ChatInput::Text(p) => p.display().to_string(),
            ChatInput::Zip { zip, entry, .. } => format!("{}!{entry}", zip.display()),
        }
    }

    /// The file the user named (the zip for zip entries).
    pub fn path(&self) -> &Path {
        match self {
            ChatInput::Text(p) => p,
            ChatInput::Zip { zip, .. } => zip,
        }
    }

    pub(super) fn reader(&self) -> Result<Box<dyn BufRead + Send>, ImportError> {
        self.text().map(|(text, _)| text)
    }

    /// The chat text, and its encoding when it is UTF-16 with a byte-order mark (a chat
    /// re-saved by Windows Notepad as "Unicode"), decoded to UTF-8 as it is read.
    pub(super) fn text(&self) -> Result<(Box<dyn BufRead + Send>, Option<TextEncoding>), ImportError> {
        let display = self.display();
        let mut raw = self.bytes()?;
        let head = raw
            .fill_buf()
            .map_err(|e| ImportError::file(&display, format!("read error: {e}")))?;
        match TextEncoding::utf16_bom(head) {
            None => Ok((raw, None)),
            Some(encoding) => {
                let text = encoding
                    .reader(raw)
                    .map_err(|e| ImportError::file(&display, format!("read error: {e}")))?;
                Ok((text, Some(encoding)))
            }
        }
    }

    /// The chat file's bytes as they are.
    fn bytes(&self) -> Result<Box<dyn BufRead + Send>, ImportError> {
        let display = self.display();
        match self {
            ChatInput::Text(p) => {
                let f = std::fs::File::open(p).map_err(|e| ImportError::file(&display, format!("cannot open: {e}")))?;
                Ok(Box::new(BufReader::with_capacity(1 << 20, f)))
            }
            ChatInput::Zip { zip, entry, .. } => {
                // The entry is read into memory (bounded by MAX_ZIP_CHAT_BYTES) because the
                // zip reader borrows its archive; exports are capped far below that bound.
                let f = open_zip(zip).map_err(|e| ImportError::file(&display, format!("cannot open: {e}")))?;
                let mut archive = zip::ZipArchive::new(f).map_err(|e| ImportError::file(&display, e.to_string()))?;
                let z = archive
                    .by_name(entry)
                    .map_err(|e| ImportError::file(&display, e.to_string()))?;
                let mut buf = Vec::new();
                z.take(MAX_ZIP_CHAT_BYTES + 1)
                    .read_to_end(&mut buf)
                    .map_err(|e| ImportError::file(&display, format!("cannot unzip: {e}")))?;
                if buf.len() as u64 > MAX_ZIP_CHAT_BYTES {
                    return Err(ImportError::file(
                        &display,
                        "chat text is larger than its zip header says (possible zip bomb)",
                    ));
                }
                Ok(Box::new(std::io::Cursor::new(buf)))
            }
        }
    }

    /// The chat title WhatsApp puts in the export's file name (`WhatsApp Chat with Sarah Jones.txt`).
    pub fn title(&self) -> Option<String> {
        let name = self.path().file_stem()?.to_str()?;
        chat_title(name)
    }
}

/// Zips up to this size are read whole before their directory is read.
const ZIP_READ_WHOLE: u64 = 4 << 20;

/// A zip for the zip reader, which seeks a dozen times to find an entry: in memory when
/// small (a chat export without media is a few KB), so that a folder of 100 000 of them
/// costs one read each instead of a dozen seeks and reads.
enum ZipFile {
    Memory(std::io::Cursor<Vec<u8>>),
    Disk(std::fs::File),
}

fn open_zip(path: &Path) -> std::io::Result<ZipFile> {
    let mut file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    if size > ZIP_READ_WHOLE {
        return Ok(ZipFile::Disk(file));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.read_to_end(&mut bytes)?;
    Ok(ZipFile::Memory(std::io::Cursor::new(bytes)))
}

impl Read for ZipFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            ZipFile::Memory(bytes) => bytes.read(buf),
            ZipFile::Disk(file) => file.read(buf),
        }
    }
}

impl std::io::Seek for ZipFile {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        match self {
            ZipFile::Memory(bytes) => bytes.seek(pos),
            ZipFile::Disk(file) => file.seek(pos),
        }
    }
}

/// Extracts the chat name from a WhatsApp export file name, in the languages seen.
pub fn chat_title(stem: &str) -> Option<String> {
    const PREFIXES: &[&str] = &[
        "WhatsApp Chat with ",
        "WhatsApp Chat - ",
        "WhatsApp-Chat mit ",
        "Chat de WhatsApp con ",
        "Conversa do WhatsApp com ",
        "Discussion WhatsApp avec ",
        "Chat WhatsApp con ",
        "WhatsApp-chat met ",
        "Чат WhatsApp с ",
    ];
    PREFIXES
        .iter()
        .find_map(|p| stem.strip_prefix(p))
        .map(text::clean_name)
        .filter(|t| !t.is_empty())
}

/// True when `path` is a zip with a WhatsApp chat in it (for detection).
pub fn zip_has_chat(path: &Path) -> bool {
    ChatInput::open(path).is_ok()
}
