//! Where a chat's text comes from: a `.txt` file, or the chat inside a WhatsApp `.zip`
//! export (read in place, attachments counted and named, never extracted).

use crate::import::encoding::TextEncoding;
use crate::import::ImportError;
use crate::normalize::text;
use std::io::{BufRead, BufReader, Read, Seek};
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
                let fail = |e: &dyn std::fmt::Display| ImportError::file(&display, format!("cannot unzip: {e}"));
                let f = open_zip(zip).map_err(|e| ImportError::file(&display, format!("cannot open: {e}")))?;
                let mut archive = zip::ZipArchive::new(f).map_err(|e| fail(&e))?;
                let index = archive
                    .index_for_name(entry)
                    .ok_or_else(|| fail(&"the entry is gone"))?;
                let z = archive.by_index_raw(index).map_err(|e| fail(&e))?;
                if z.encrypted() {
                    return Err(fail(
                        &"the chat text is encrypted (unzip it with its password and import the .txt)",
                    ));
                }
                let (start, packed, method) = (z.data_start(), z.compressed_size(), z.compression());
                let (size, crc) = (z.size(), z.crc32());
                drop(z);
                let mut file = archive.into_inner();
                file.seek(std::io::SeekFrom::Start(start)).map_err(|e| fail(&e))?;
                // Buffers sized to the entry: std clears a buffer it lends a reader such as
                // these once, and a folder of 60 000 small zips paid 2 MiB of clearing each.
                let raw = BufReader::with_capacity(packed.clamp(1 << 10, 1 << 16) as usize, file.take(packed));
                let inflated: Box<dyn Read + Send> = match method {
                    zip::CompressionMethod::Stored => Box::new(raw),
                    zip::CompressionMethod::Deflated => Box::new(flate2::bufread::DeflateDecoder::new(raw)),
                    other => {
                        return Err(fail(&format!(
                            "the chat text is compressed with {other}, which omnitrail does not read (unzip it and import the .txt)"
                        )))
                    }
                };
                let entry = ZipEntryReader {
                    inflated,
                    crc: crc32fast::Hasher::new(),
                    read: 0,
                    size,
                    expected_crc: crc,
                };
                Ok(Box::new(BufReader::with_capacity(
                    size.clamp(1 << 10, 1 << 20) as usize,
                    entry,
                )))
            }
        }
    }

    /// The chat title WhatsApp puts in the export's file name (`WhatsApp Chat with Sarah Jones.txt`).
    pub fn title(&self) -> Option<String> {
        let name = self.path().file_stem()?.to_str()?;
        chat_title(name)
    }
}

/// A zipped chat's text, inflated as it is read — never held whole, so a large chat in a
/// zip costs no more memory than the same chat as a `.txt` — and checked as it ends against
/// the size and CRC-32 the zip's directory gives.
struct ZipEntryReader {
    inflated: Box<dyn Read + Send>,
    crc: crc32fast::Hasher,
    read: u64,
    size: u64,
    expected_crc: u32,
}

impl Read for ZipEntryReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inflated.read(buf)?;
        self.read += n as u64;
        let damaged = |why: &str| Err(std::io::Error::new(std::io::ErrorKind::InvalidData, why.to_string()));
        if self.read > self.size {
            return damaged("the chat text is larger than its zip header says (possible zip bomb)");
        }
        if n == 0 && !buf.is_empty() {
            if self.read < self.size {
                return damaged("the chat text ends before the size its zip header gives (a cut or damaged zip)");
            }
            if self.crc.clone().finalize() != self.expected_crc {
                return damaged("the chat text does not match its zip checksum (CRC-32): the zip is damaged");
            }
        }
        self.crc.update(&buf[..n]);
        Ok(n)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A zip holding `text` as `_chat.txt` (compressed with `method`) and one photo.
    fn zip_of(text: &str, method: zip::CompressionMethod) -> Vec<u8> {
        let options = zip::write::SimpleFileOptions::default().compression_method(method);
        let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        z.start_file("_chat.txt", options).unwrap();
        std::io::Write::write_all(&mut z, text.as_bytes()).unwrap();
        z.start_file("IMG-0001.jpg", options).unwrap();
        std::io::Write::write_all(&mut z, b"\xff\xd8 not much of a photo").unwrap();
        z.finish().unwrap().into_inner()
    }

    /// The chat text of a zip, or the error of opening or reading it.
    fn read_chat(path: &Path) -> Result<String, String> {
        let mut text = String::new();
        let mut reader = ChatInput::open(path).unwrap().reader().map_err(|e| e.to_string())?;
        reader.read_to_string(&mut text).map_err(|e| e.to_string())?;
        Ok(text)
    }

    #[test]
    fn a_zipped_chat_is_read_as_it_was_written_stored_or_deflated_small_or_large() {
        let dir = tempfile::tempdir().unwrap();
        let line = |i: usize| format!("03/02/2024, 10:{:02} - Ana: message {i}\n", i % 60);
        // Small zips are read into memory first; one over ZIP_READ_WHOLE is read in place.
        let small: String = (0..50).map(line).collect();
        let mut large = String::new();
        let mut i = 0;
        while (large.len() as u64) < ZIP_READ_WHOLE + (1 << 20) {
            large.push_str(&line(i));
            i += 1;
        }
        for method in [zip::CompressionMethod::Stored, zip::CompressionMethod::Deflated] {
            for text in [&small, &large] {
                let path = dir.path().join("chat.zip");
                std::fs::write(&path, zip_of(text, method)).unwrap();
                assert_eq!(&read_chat(&path).unwrap(), text, "{method} {} bytes", text.len());
                let ChatInput::Zip { media, .. } = ChatInput::open(&path).unwrap() else {
                    panic!()
                };
                assert_eq!(media, ["IMG-0001.jpg"]);
            }
        }
    }

    #[test]
    fn a_damaged_zipped_chat_is_an_error_not_a_shorter_chat() {
        let dir = tempfile::tempdir().unwrap();
        let text = "03/02/2024, 10:00 - Ana: is order 1234 ready?\n03/02/2024, 10:01 - Shop: yes\n";
        let mut bytes = zip_of(text, zip::CompressionMethod::Stored);
        // Stored, the text sits in the zip as it is: change one of its letters.
        let at = bytes.windows(4).position(|w| w == b"1234").unwrap();
        bytes[at] = b'9';
        let path = dir.path().join("chat.zip");
        std::fs::write(&path, &bytes).unwrap();
        let err = read_chat(&path).unwrap_err();
        assert!(err.contains("CRC-32"), "{err}");
    }

    #[test]
    fn a_zipped_chat_longer_than_its_header_says_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let text = "03/02/2024, 10:00 - Ana: is order 1234 ready?\n".repeat(100);
        let mut bytes = zip_of(&text, zip::CompressionMethod::Stored);
        // Claim 10 bytes less in both the entry's local header and the central directory.
        let claimed = (text.len() as u32 - 10).to_le_bytes();
        bytes[22..26].copy_from_slice(&claimed);
        let central = bytes.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        bytes[central + 24..central + 28].copy_from_slice(&claimed);
        let path = dir.path().join("chat.zip");
        std::fs::write(&path, &bytes).unwrap();
        let err = read_chat(&path).unwrap_err();
        assert!(err.contains("larger than its zip header says"), "{err}");
    }
}
