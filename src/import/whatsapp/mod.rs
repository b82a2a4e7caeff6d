//! WhatsApp chat exports (`.txt`, `.zip`, folders of them), Android and iOS layouts.
//!
//! Each chat is read twice, streaming: the scan votes on the header shape, decides the
//! date order from all dates and collects authors; the import then turns messages into
//! [`Interaction`]s. Between the two, the business side is decided across all chats.

pub mod classify;
pub mod dates;
pub mod header;

use self::dates::{DateEvidence, DateOrder, Decision};
use self::header::{Header, Shape};
use super::lines::{Line, LineReader};
use super::pipeline::{self, Sink, SourceResult};
use super::{check_interrupt, CommonOptions, ImportError};
use crate::import::encoding::TextEncoding;
use crate::model::{Channel, Direction, HandleKind, Kind};
use crate::normalize::{mentions, phone, text};
use crate::workspace::{InteractionRow, Reject, RowChunk, NEAR_WHATSAPP_EXPORT_CAP};
use chrono::{LocalResult, NaiveDate, TimeZone};
use polars::prelude::{PlHashMap, PlHashSet};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

/// Options of `import whatsapp`.
#[derive(Debug, Clone, Default)]
pub struct WhatsAppOptions {
    /// Display names of the business side (`--business-name`, repeatable).
    pub business_names: Vec<String>,
    /// Forced day/month order (`--date-order`).
    pub date_order: Option<DateOrder>,
    /// Threads that build the records of a large chat; `None`: one per core (at most 8).
    pub workers: Option<usize>,
}

/// Largest chat text accepted from inside a zip: WhatsApp caps exports at about 40 000
/// messages, far below this; anything bigger is treated as a zip bomb.
pub const MAX_ZIP_CHAT_BYTES: u64 = 256 << 20;
/// Largest compression ratio accepted for a zipped chat (text compresses 5–10×).
const MAX_ZIP_RATIO: u64 = 100;

/// What a chat's message count says about WhatsApp's export cap (~40 000 messages), if
/// anything: near it, older history may be missing; far past it, the file is not one export
/// as WhatsApp wrote it.
pub fn export_cap_note(read: u64) -> Option<String> {
    match read {
        0..39_000 => None,
        39_000..=41_000 => Some(format!(
            "{NEAR_WHATSAPP_EXPORT_CAP}: this file may not hold the full history"
        )),
        _ => Some(format!(
            "{read} messages, more than WhatsApp's ~40 000-message export cap: probably several exports joined, or a file written by another tool"
        )),
    }
}

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

    fn reader(&self) -> Result<Box<dyn BufRead + Send>, ImportError> {
        self.text().map(|(text, _)| text)
    }

    /// The chat text, and its encoding when it is UTF-16 with a byte-order mark (a chat
    /// re-saved by Windows Notepad as "Unicode"), decoded to UTF-8 as it is read.
    fn text(&self) -> Result<(Box<dyn BufRead + Send>, Option<TextEncoding>), ImportError> {
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

#[derive(Debug, Default)]
struct ShapeStats {
    count: u64,
    run: u64,
    max_run: u64,
    first_line: u64,
    dates: DateEvidence,
    /// raw author text → (header lines, whether a non-system line was seen)
    authors: PlHashMap<String, (u64, bool)>,
    /// Authors known to be people, with header lines counted since (added to `authors` at the end).
    recent: Vec<(String, u64)>,
}

impl ShapeStats {
    /// Adds the same layout's figures from the lines that follow, numbered after
    /// `line_base`. `false` when the sum might differ from one pass's (a cap reached).
    fn append(&mut self, later: ShapeStats, line_base: u64) -> bool {
        self.count += later.count;
        self.max_run = self.max_run.max(later.max_run);
        for (name, (lines, person)) in later.authors {
            let entry = self.authors.entry(name).or_insert((0, false));
            entry.0 += lines;
            entry.1 |= person;
        }
        self.authors.len() <= MAX_AUTHORS && self.dates.append(later.dates, line_base)
    }
}

/// What the first pass learned about a chat.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct ChatScan {
    pub input: ChatInput,
    pub size: u64,
    pub content_hash: String,
    pub title: Option<String>,
    accepted: Vec<(Shape, Decision)>,
    /// Layouts whose date order could not be decided, with the reason.
    undecided: Vec<(Shape, String)>,
    /// Authors (cleaned) with at least one non-system line, with their header-line counts.
    pub authors: HashMap<String, u64>,
    pub headers: u64,
    pub notes: Vec<String>,
}

const MAX_SHAPES: usize = 32;
const MAX_AUTHORS: usize = 10_000;
const RECENT_AUTHORS: usize = 2;
/// Chats up to this size are read on the importing thread (no reader thread).
const SMALL_CHAT: u64 = 1 << 20;

/// First author candidate of a header line's body: text before the first `": "`.
fn author_candidate(body: &str) -> Option<&str> {
    // A byte search: `str::find` with a two-byte pattern sets up a general searcher per line.
    let colon_space = memchr::memchr_iter(b':', body.as_bytes()).find(|&i| body.as_bytes().get(i + 1) == Some(&b' '));
    match colon_space {
        Some(p) if p > 0 => Some(&body[..p]),
        _ => body.strip_suffix(':').filter(|a| !a.is_empty() && !a.contains(": ")),
    }
}

/// Pass 1: header shape, date order, authors, content hash.
pub fn scan(input: ChatInput, opts: &WhatsAppOptions) -> Result<ChatScan, ImportError> {
    let (path, len) = match &input {
        // A UTF-16 file is decoded as it is read, in one pass: its halves and its hash are
        // those of its text.
        ChatInput::Text(p) => match std::fs::metadata(p) {
            Ok(m) if m.len() > SMALL_CHAT && !starts_utf16(p) => (p.clone(), m.len()),
            _ => return scan_lines(input, opts, true),
        },
        _ => return scan_lines(input, opts, true),
    };
    // A large file is hashed on a thread of its own while its two halves are scanned on two
    // others: the reads come from the page cache, and the scan would otherwise leave a core
    // idle until the import proper starts.
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|threads| {
        let hasher = threads.spawn(|| pipeline::hash_file_on_one_core(&path, &stop));
        let display = input.display();
        let scanned = match scan_in_halves(&path, len, &display) {
            Ok(Some(lines)) => finish_scan(input, opts, lines, String::new()),
            Ok(None) => scan_lines(input, opts, false),
            Err(e) => Err(e),
        };
        stop.store(scanned.is_err(), std::sync::atomic::Ordering::Relaxed);
        let hashed = hasher
            .join()
            .map_err(|_| ImportError::Other(anyhow::anyhow!("hashing thread panicked")))?;
        let mut scan = scanned?;
        check_interrupt()?;
        let (hash, size) = hashed.map_err(|e| ImportError::file(&display, format!("read error: {e}")))?;
        if size != scan.size {
            return Err(ImportError::file(
                &display,
                "the file changed while it was read; import it again once nothing writes to it",
            ));
        }
        scan.content_hash = hash;
        Ok(scan)
    })
}

/// The scan's pass over the lines; hashes them too when `hash` is set.
fn scan_lines(input: ChatInput, opts: &WhatsAppOptions, hash: bool) -> Result<ChatScan, ImportError> {
    let display = input.display();
    let (text, encoding) = input.text()?;
    let mut reader = LineReader::new(text, hash);
    let mut lines = LineScan::default();
    lines.read(&mut reader, &display)?;
    let content_hash = reader.hash_hex().unwrap_or_default();
    let mut scan = finish_scan(input, opts, lines, content_hash)?;
    if let Some(encoding) = encoding {
        let order = match encoding {
            TextEncoding::Utf16Be { .. } => "big",
            _ => "little",
        };
        scan.notes.push(format!(
            "UTF-16 text ({order}-endian, with a byte-order mark, as Windows Notepad saves \"Unicode\"; WhatsApp writes UTF-8): decoded; the size, content hash and byte offsets are those of the text in UTF-8"
        ));
    }
    Ok(scan)
}

/// True when the file at `path` starts with a UTF-16 byte-order mark.
fn starts_utf16(path: &Path) -> bool {
    let mut head = [0u8; 2];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && TextEncoding::utf16_bom(&head).is_some()
}

/// Scans the two halves of the file at `path` (`len` bytes, cut after a line break) at
/// once and joins them. `Ok(None)` when the joined scan might differ from one pass (a half
/// met an error or a cap, or no line break is near the middle): the caller then reads the
/// file in one pass, which also gives any error its true line number.
fn scan_in_halves(path: &Path, len: u64, display: &str) -> Result<Option<LineScan>, ImportError> {
    use std::io::{Seek, SeekFrom};
    let Some(middle) = line_start_after(path, len / 2) else {
        return Ok(None);
    };
    let half = |range: Range<u64>| -> Result<LineScan, ImportError> {
        let io = |e: std::io::Error| ImportError::file(display, format!("read error: {e}"));
        let mut file = std::fs::File::open(path).map_err(io)?;
        file.seek(SeekFrom::Start(range.start)).map_err(io)?;
        let mut reader = LineReader::new(
            BufReader::with_capacity(1 << 20, file.take(range.end - range.start)),
            false,
        );
        let mut lines = LineScan::default();
        lines.read(&mut reader, display)?;
        Ok(lines)
    };
    let (first, second) = std::thread::scope(|threads| {
        let second = std::thread::Builder::new().spawn_scoped(threads, || half(middle..len));
        let first = half(0..middle);
        (first, second.map(|t| t.join()))
    });
    let second = match second {
        Ok(Ok(second)) => second,
        // No thread or a panic: one pass will tell.
        _ => return Ok(None),
    };
    match (first, second) {
        (Err(ImportError::Interrupted), _) | (_, Err(ImportError::Interrupted)) => Err(ImportError::Interrupted),
        (Ok(mut first), Ok(second)) => Ok(first.append(second).then_some(first)),
        _ => Ok(None),
    }
}

/// The offset just after the first `\n` at or after `from`, if one comes within 64 KiB.
fn line_start_after(path: &Path, from: u64) -> Option<u64> {
    use std::io::{Seek, SeekFrom};
    let mut file = std::fs::File::open(path).ok()?;
    file.seek(SeekFrom::Start(from)).ok()?;
    let mut window = Vec::with_capacity(64 << 10);
    file.take(64 << 10).read_to_end(&mut window).ok()?;
    memchr::memchr(b'\n', &window).map(|i| from + i as u64 + 1)
}

/// What one pass over a chat's lines (or a part of them) gathers for [`ChatScan`].
#[derive(Default)]
struct LineScan {
    /// Few shapes per file (usually one): a list searched from the last one used is faster
    /// than hashing the shape on every header line.
    shapes: Vec<(Shape, ShapeStats)>,
    last_shape: Option<Shape>,
    last_index: usize,
    headers: u64,
    nonblank: u64,
    first_nonblank: Option<String>,
    /// Lines and bytes read.
    lines: u64,
    bytes: u64,
    /// The run of headers of one shape the part starts with, while it lasts: a run may go
    /// on from the part before.
    leading: Option<(Shape, u64)>,
    leading_open: bool,
    /// A shape or an author was left out for a cap ([`MAX_SHAPES`], [`MAX_AUTHORS`]).
    capped: bool,
}

impl LineScan {
    fn read<R: BufRead>(&mut self, reader: &mut LineReader<R>, display: &str) -> Result<(), ImportError> {
        self.leading_open = true;
        while let Some(line) = reader
            .next_line()
            .map_err(|e| ImportError::file(display, format!("read error: {e}")))?
        {
            if line.number % 65_536 == 0 {
                check_interrupt()?;
            }
            self.line(&line, display)?;
        }
        self.lines = reader.lines_read();
        self.bytes = reader.bytes_read();
        for (_, st) in &mut self.shapes {
            for (name, lines) in std::mem::take(&mut st.recent) {
                if let Some(entry) = st.authors.get_mut(&name) {
                    entry.0 += lines;
                }
            }
        }
        Ok(())
    }

    fn line(&mut self, line: &Line<'_>, display: &str) -> Result<(), ImportError> {
        if line.number <= 64 && line.bytes.contains(&0) {
            // UTF-16 without a byte-order mark: text with a NUL byte beside every ASCII one.
            let hint = if TextEncoding::detect(line.bytes).is_utf16() {
                " (this looks like UTF-16 text without a byte-order mark: save it as UTF-8 and import it again)"
            } else {
                ""
            };
            return Err(ImportError::file(
                display,
                format!(
                    "binary data at line {}: expected a WhatsApp chat export (text){hint}",
                    line.number
                ),
            ));
        }
        let lossy = match std::str::from_utf8(line.bytes) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(line.bytes),
        };
        let view = text::matching_view(&lossy);
        if view.trim().is_empty() {
            return Ok(());
        }
        self.nonblank += 1;
        if line.too_long && self.headers == 0 {
            return Err(ImportError::file(
                display,
                format!(
                    "line {} is longer than 1 MiB and no WhatsApp message header came before it: not a WhatsApp export",
                    line.number
                ),
            ));
        }
        if self.first_nonblank.is_none() {
            self.first_nonblank = Some(view.chars().take(60).collect());
        }
        let Some(h) = header::parse(&view) else {
            self.last_shape = None;
            self.leading_open = false;
            return Ok(());
        };
        self.headers += 1;
        let index = if self.shapes.get(self.last_index).is_some_and(|(s, _)| *s == h.shape) {
            self.last_index
        } else if let Some(i) = self.shapes.iter().position(|(s, _)| *s == h.shape) {
            i
        } else if self.shapes.len() >= MAX_SHAPES {
            self.capped = true;
            return Ok(());
        } else {
            self.shapes.push((
                h.shape,
                ShapeStats {
                    first_line: line.number,
                    dates: DateEvidence::new(h.shape.year4_at),
                    ..Default::default()
                },
            ));
            self.shapes.len() - 1
        };
        if self.leading_open {
            match &mut self.leading {
                None => self.leading = Some((h.shape, 1)),
                Some((shape, n)) if *shape == h.shape => *n += 1,
                Some(_) => self.leading_open = false,
            }
        }
        self.last_index = index;
        let st = &mut self.shapes[index].1;
        st.count += 1;
        st.run = if self.last_shape == Some(h.shape) {
            st.run + 1
        } else {
            1
        };
        st.max_run = st.max_run.max(st.run);
        self.last_shape = Some(h.shape);
        st.dates.add(h.fields, line.number);
        let body = &view[h.body_start..];
        if let Some(a) = author_candidate(body) {
            // An author is a person once one of their lines is not a system event; after
            // that their lines are only counted, not classified again (the last few such
            // authors are counted aside, without a hash lookup).
            if let Some(r) = st.recent.iter_mut().find(|(n, _)| n == a) {
                r.1 += 1;
                return Ok(());
            }
            let known = st.authors.get_mut(a);
            if let Some((lines, true)) = known {
                *lines += 1;
                if st.recent.len() < RECENT_AUTHORS {
                    st.recent.push((a.to_string(), 0));
                }
            } else if known.is_some() || st.authors.len() < MAX_AUTHORS {
                let rest = body[a.len()..].trim_start_matches(':').trim_start();
                let person = !classify::is_system_text(rest, Some(a), rest.starts_with('\u{200E}'));
                let entry = st.authors.entry(a.to_string()).or_insert((0, false));
                entry.0 += 1;
                entry.1 |= person;
            } else {
                self.capped = true;
            }
        }
        Ok(())
    }

    /// Adds the scan of the lines that follow this part: the figures one pass would have
    /// gathered (not where it stood at the end: the result is for finishing the scan).
    /// `false` when they might differ from one pass's (a cap was reached).
    fn append(&mut self, later: LineScan) -> bool {
        if self.capped || later.capped {
            return false;
        }
        let base = self.lines;
        // A run of headers crossing the cut counts as one run.
        let crossing = match (self.last_shape, later.leading) {
            (Some(shape), Some((leading, n))) if shape == leading => self
                .shapes
                .iter()
                .find(|(s, _)| *s == shape)
                .map(|(_, st)| (shape, st.run + n)),
            _ => None,
        };
        for (shape, st) in later.shapes {
            let mine = match self.shapes.iter().position(|(s, _)| *s == shape) {
                Some(i) => &mut self.shapes[i].1,
                None => {
                    let first_line = st.first_line + base;
                    let dates = DateEvidence::new(shape.year4_at);
                    self.shapes.push((
                        shape,
                        ShapeStats {
                            first_line,
                            dates,
                            ..Default::default()
                        },
                    ));
                    &mut self.shapes.last_mut().expect("just pushed").1
                }
            };
            if !mine.append(st, base) {
                return false;
            }
        }
        if self.shapes.len() > MAX_SHAPES {
            return false;
        }
        if let Some((shape, run)) = crossing {
            if let Some((_, st)) = self.shapes.iter_mut().find(|(s, _)| *s == shape) {
                st.max_run = st.max_run.max(run);
            }
        }
        self.headers += later.headers;
        self.nonblank += later.nonblank;
        if self.first_nonblank.is_none() {
            self.first_nonblank = later.first_nonblank;
        }
        self.lines += later.lines;
        self.bytes += later.bytes;
        true
    }
}

/// The rest of pass 1, once the lines are read: the layouts kept, their date orders, the
/// authors.
fn finish_scan(
    input: ChatInput,
    opts: &WhatsAppOptions,
    lines: LineScan,
    content_hash: String,
) -> Result<ChatScan, ImportError> {
    let display = input.display();
    let LineScan {
        shapes: shape_list,
        headers,
        nonblank,
        first_nonblank,
        bytes: size,
        ..
    } = lines;
    let shapes: HashMap<Shape, ShapeStats> = shape_list.into_iter().collect();
    if nonblank == 0 {
        // WhatsApp never writes an export without a line (it opens with the encryption
        // notice), so an empty file is a failed export or a wrong path, not an empty chat.
        let found = if size == 0 { "empty file" } else { "only blank lines" };
        return Err(ImportError::file(
            &display,
            format!("{found}: expected a WhatsApp chat export, with at least one message"),
        ));
    }
    if headers == 0 {
        return Err(ImportError::file(
            &display,
            format!(
                "not a WhatsApp export: no line starts with a message header like `12/03/2026, 09:14 - Name: text` or `[12/03/2026, 09:14:05] Name: text` (first line: {:?})",
                first_nonblank.unwrap_or_default()
            ),
        ));
    }
    // The modal shape, plus any other shape that persists for a run of lines (two exports
    // concatenated); single odd lines stay continuation text.
    let modal = shapes
        .iter()
        .max_by_key(|(_, s)| (s.count, std::cmp::Reverse(s.first_line)))
        .map(|(k, _)| *k);
    let mut accepted_shapes: Vec<(&Shape, &ShapeStats)> = shapes
        .iter()
        .filter(|(k, s)| Some(**k) == modal || (s.max_run >= 3 && s.count >= 3))
        .collect();
    accepted_shapes.sort_by_key(|(_, s)| s.first_line);
    let mut notes = Vec::new();
    if accepted_shapes.len() > 1 {
        notes.push(format!(
            "the file switches header layout {} time(s) (lines {}): treated as concatenated exports",
            accepted_shapes.len() - 1,
            accepted_shapes
                .iter()
                .map(|(_, s)| s.first_line.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let ignored: u64 = shapes
        .iter()
        .filter(|(k, _)| !accepted_shapes.iter().any(|(a, _)| a == k))
        .map(|(_, s)| s.count)
        .sum();
    if ignored > 0 {
        notes.push(format!(
            "{ignored} header-looking line(s) with another layout kept as message text"
        ));
    }
    let mut accepted = Vec::new();
    let mut undecided = Vec::new();
    let mut authors: HashMap<String, u64> = HashMap::new();
    for (shape, st) in accepted_shapes {
        let decision = match opts.date_order {
            Some(o) => Decision::Forced(o),
            None => match st.dates.decide(shape.date_sep as char) {
                Ok(d) => d,
                Err(message) => {
                    undecided.push((*shape, message));
                    continue;
                }
            },
        };
        notes.push(decision.describe());
        accepted.push((*shape, decision));
        for (raw, (lines, person)) in &st.authors {
            let name = text::clean_name(raw);
            if *person && !name.is_empty() {
                *authors.entry(name).or_default() += lines;
            }
        }
    }
    let title = input.title();
    Ok(ChatScan {
        input,
        size,
        content_hash,
        title,
        accepted,
        undecided,
        authors,
        headers,
        notes,
    })
}

impl ChatScan {
    /// The `thread_key` of the chat's records: its title, else its file name. Records of
    /// two chats with different keys can never have the same dedup key.
    pub fn thread_key(&self) -> String {
        let name = self.title.clone().unwrap_or_else(|| {
            let stem = self.input.path().file_stem().and_then(|s| s.to_str()).unwrap_or("chat");
            stem.to_string()
        });
        format!("whatsapp:{name}")
    }

    /// Why the date order could not be decided, if it could not (the file cannot be
    /// imported until `--date-order` or a sibling file decides it).
    pub fn undecided(&self) -> Option<&str> {
        self.undecided.first().map(|(_, m)| m.as_str())
    }
}

/// The date orders that the files of one import prove with certainty, by header layout:
/// a file whose own dates cannot decide borrows its layout's order from them, if they all
/// agree. Built chat by chat, so that a folder of 100 000 chats is not compared pair by pair.
#[derive(Debug, Default)]
pub struct SiblingOrders(HashMap<Shape, Option<(DateOrder, String)>>);

impl SiblingOrders {
    /// Adds the certain decisions of `scan`; a layout on whose order the chats disagree
    /// lends none.
    pub fn add(&mut self, scan: &ChatScan) {
        for (shape, decision) in &scan.accepted {
            let Decision::Certain { order, .. } = decision else {
                continue;
            };
            self.0
                .entry(*shape)
                .and_modify(|known| {
                    if known.as_ref().is_some_and(|(o, _)| o != order) {
                        *known = None;
                    }
                })
                .or_insert_with(|| Some((*order, scan.input.display())));
        }
    }

    /// The order for `scan`'s undecided layout, with the first file that proves it.
    pub fn order_for(&self, scan: &ChatScan) -> Option<(DateOrder, &str)> {
        let (shape, _) = scan.undecided.first()?;
        let (order, sibling) = self.0.get(shape)?.as_ref()?;
        Some((*order, sibling))
    }
}

/// The business side of a set of chats, and how it was decided.
#[derive(Debug, Clone)]
pub struct BusinessSide {
    pub names: HashSet<String>,
    pub how: String,
}

/// What deciding the business side needs to know of the chats of an import, gathered one
/// chat at a time: the authors who write in every chat so far.
#[derive(Debug, Default)]
pub struct AuthorCensus {
    chats_with_authors: usize,
    common: Option<HashSet<String>>,
}

impl AuthorCensus {
    pub fn add(&mut self, scan: &ChatScan) {
        if scan.authors.is_empty() {
            return;
        }
        self.chats_with_authors += 1;
        match &mut self.common {
            None => self.common = Some(scan.authors.keys().cloned().collect()),
            Some(common) => common.retain(|a| scan.authors.contains_key(a)),
        }
    }
}

/// Who the business is in the chats of one import (see [`decide_business`]), and how many
/// chats got which side, for the import's notes.
#[derive(Debug, Default)]
pub struct BusinessSides {
    /// The side decided for the whole run (given names, or the author in every chat), and
    /// whether it also goes to chats without authors.
    shared: Option<(Rc<BusinessSide>, bool)>,
    /// Whether a chat without a shared side is given the other party of its titled 1:1 chat,
    /// worked out chat by chat: a folder of 100 000 chats would otherwise keep one side each.
    per_chat: bool,
    /// For the notes: whether the shared side went to any chat; how many chats got their
    /// own side and the first three ways; how many chats with authors got none, and the
    /// first three of them.
    shared_given: bool,
    one_by_one: usize,
    first_ones: Vec<String>,
    unknown: usize,
    first_unknown: Vec<String>,
}

impl BusinessSides {
    /// The side of `scan`, one of the run's chats, each taken once.
    pub fn take(&mut self, scan: &ChatScan) -> Option<Rc<BusinessSide>> {
        if let Some((side, to_all)) = &self.shared {
            if *to_all || !scan.authors.is_empty() {
                self.shared_given = true;
                return Some(Rc::clone(side));
            }
        }
        let side = if self.per_chat { other_party(scan) } else { None };
        match &side {
            Some(side) => {
                self.one_by_one += 1;
                if self.first_ones.len() < 3 {
                    self.first_ones.push(side.how.clone());
                }
            }
            // A chat without authors has no messages a side would direct.
            None if !scan.authors.is_empty() => {
                self.unknown += 1;
                if self.first_unknown.len() < 3 {
                    self.first_unknown.push(scan.input.display());
                }
            }
            None => {}
        }
        side.map(Rc::new)
    }

    /// How the sides of the chats taken were decided (each shared way once; the chats read
    /// one by one as one note when there are more than three), and which chats have none.
    pub fn notes(&self) -> Vec<String> {
        let mut hows = Vec::new();
        if let Some((side, _)) = self.shared.as_ref().filter(|_| self.shared_given) {
            hows.push(side.how.clone());
        }
        if self.one_by_one > 3 {
            hows.push(format!(
                "inferred for {} chats, each on its own: the other party of a 1:1 chat titled after the customer (each chat's notes name it)",
                self.one_by_one
            ));
        } else {
            hows.extend(self.first_ones.iter().cloned());
        }
        let mut notes: Vec<String> = hows.into_iter().map(|how| format!("business side {how}")).collect();
        if self.unknown > 0 {
            let more = match self.unknown - self.first_unknown.len() {
                0 => String::new(),
                n => format!(", and {n} more"),
            };
            notes.push(format!(
                "business side unknown for {} chat(s) ({}{more}): their messages have direction `unknown`; pass --business-name NAME",
                self.unknown,
                self.first_unknown.join(", ")
            ));
        }
        notes
    }
}

/// Decides who the business is: `--business-name`, else the author present in every chat
/// of a multi-chat import, else the author who is not the chat's title in a 1:1 chat.
pub fn decide_business(census: AuthorCensus, opts: &WhatsAppOptions) -> BusinessSides {
    if !opts.business_names.is_empty() {
        let side = BusinessSide {
            names: opts.business_names.iter().map(|n| text::clean_name(n)).collect(),
            how: "given by --business-name".into(),
        };
        return BusinessSides {
            shared: Some((Rc::new(side), true)),
            ..Default::default()
        };
    }
    let common = census.common.unwrap_or_default();
    if census.chats_with_authors >= 2 && !common.is_empty() {
        let mut list: Vec<&String> = common.iter().collect();
        list.sort();
        let how = format!(
            "inferred: {} writes in every one of the {} chats",
            list.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", "),
            census.chats_with_authors
        );
        let side = BusinessSide { names: common, how };
        return BusinessSides {
            shared: Some((Rc::new(side), false)),
            ..Default::default()
        };
    }
    BusinessSides {
        per_chat: true,
        ..Default::default()
    }
}

/// The business of a titled chat with exactly two authors: the one who is not the title.
fn other_party(scan: &ChatScan) -> Option<BusinessSide> {
    let title = scan.title.as_ref()?;
    if scan.authors.len() != 2 {
        return None;
    }
    let title_key = handle_key(title);
    let others: Vec<&String> = scan.authors.keys().filter(|a| handle_key(a) != title_key).collect();
    let [other] = others.as_slice() else { return None };
    Some(BusinessSide {
        names: HashSet::from([(*other).clone()]),
        how: format!("inferred: {other:?} is the other party of the chat titled {title:?}"),
    })
}

fn handle_key(name: &str) -> String {
    if phone::looks_like_phone(name) {
        name.chars().filter(|c| c.is_ascii_digit()).collect()
    } else {
        text::clean_name(name).to_lowercase()
    }
}

/// One message (or an orphan line) as the reader thread found it. Its text lives in the
/// batch's shared buffer: `view` is the matching view of the first line, `body` the raw
/// text after the header followed by every continuation line, each after a `\n`.
struct Pending {
    /// Position among the chat's messages (from 1; 0 for an orphan line).
    seq: u64,
    /// `None` for an orphan line (text before the first header).
    header: Option<Header>,
    view: Range<usize>,
    body: Range<usize>,
    /// End of the first line within `body`.
    first_end: usize,
    line: u64,
    offset: u64,
    bad: Option<String>,
}

/// Messages read by the reader thread, with their text in one buffer (one allocation per
/// batch instead of several per message).
struct Batch {
    text: String,
    items: Vec<Pending>,
    /// A batch cut inside a minute (see [`HARD_BATCH`]) starts from the dedup counting
    /// its predecessor ends with, received here; the predecessor sends it on `carry_out`.
    carry_in: Option<Receiver<Occurrence>>,
    carry_out: Option<SyncSender<Occurrence>>,
}

/// The minute of the last message keyed, and how often each key occurred in it.
type Occurrence = (i64, PlHashMap<u128, u32>);

impl Batch {
    fn with_capacity(items: usize) -> Batch {
        Batch {
            text: String::with_capacity(items * 96),
            items: Vec::with_capacity(items),
            carry_in: None,
            carry_out: None,
        }
    }
}

/// The byte index in `raw` that corresponds to byte `view_idx` of its matching view.
fn raw_index(raw: &str, view_idx: usize) -> usize {
    let mut v = 0;
    for (i, c) in raw.char_indices() {
        if v >= view_idx {
            return i;
        }
        if !text::is_invisible(c) {
            v += if text::is_space_like(c) { 1 } else { c.len_utf8() };
        }
    }
    raw.len()
}

/// What is known about one raw author text of a chat, worked out once.
struct Author {
    raw: String,
    /// Cleaned name; `None` when nothing is left after cleaning.
    clean: Option<String>,
    /// Handle of the cleaned name, when it is used as the customer.
    handle: Option<(String, HandleKind)>,
    is_business: bool,
}

/// What every message of a chat is built with, worked out once and shared by the threads
/// that build its records.
struct ChatSetup {
    thread_key: String,
    /// The single customer of a 1:1 chat, with its handle.
    chat_customer: Option<(String, String, HandleKind)>,
    /// Known authors containing ':', longest first (the only ones a prefix search can find).
    known_authors: Vec<String>,
    known_set: PlHashSet<String>,
    /// BLAKE3 state after the file's content hash and `:`; a record's id adds its position.
    id_prefix: blake3::Hasher,
}

impl ChatSetup {
    fn new(scan: &ChatScan, business: Option<&BusinessSide>, common: &CommonOptions) -> ChatSetup {
        let thread_key = scan.thread_key();
        let participants: Vec<&String> = scan
            .authors
            .keys()
            .filter(|a| business.is_none_or(|b| !b.names.contains(*a)))
            .collect();
        let chat_customer = match (business, participants.as_slice()) {
            (Some(_), [one]) => Some((*one).clone()),
            (Some(_), []) => scan.title.clone(),
            _ => None,
        }
        .map(|name| {
            let (handle, kind) = handle_of(&name, common);
            (name, handle, kind)
        });
        let mut known_authors: Vec<String> = scan.authors.keys().cloned().collect();
        if let Some(b) = business {
            known_authors.extend(b.names.iter().cloned());
        }
        known_authors.sort_by_key(|a| std::cmp::Reverse(a.len()));
        ChatSetup {
            thread_key,
            chat_customer,
            known_set: known_authors.iter().cloned().collect(),
            known_authors: known_authors.into_iter().filter(|k| k.contains(':')).collect(),
            id_prefix: pipeline::id_hasher(&scan.content_hash),
        }
    }
}

/// How many header times needed a correction to become an instant (said in notes).
#[derive(Debug, Default, Clone, Copy)]
struct TimeNotes {
    /// 12-hour times with hour 0 or 13+ (hand-edited files), read as 24-hour.
    odd_twelve_hour: u64,
    /// Times in the repeated hour of a DST change.
    repeated_hour: u64,
    /// Times in the skipped hour of a DST change.
    skipped_hour: u64,
}

impl TimeNotes {
    fn add(&mut self, other: TimeNotes) {
        self.odd_twelve_hour += other.odd_twelve_hour;
        self.repeated_hour += other.repeated_hour;
        self.skipped_hour += other.skipped_hour;
    }
}

/// The instant (ms since the epoch) of a header's local date and time in `tz`.
fn utc_millis(tz: chrono_tz::Tz, date: NaiveDate, h: &Header, notes: &mut TimeNotes) -> Result<i64, String> {
    let mut hour = h.hour;
    match h.meridiem {
        Some(header::Meridiem::Am) if hour == 12 => hour = 0,
        Some(header::Meridiem::Pm) if (1..12).contains(&hour) => hour += 12,
        Some(_) if hour == 0 || hour > 12 => notes.odd_twelve_hour += 1,
        _ => {}
    }
    if hour > 23 || h.minute > 59 || h.second > 59 {
        return Err(format!("impossible time {:02}:{:02}:{:02}", h.hour, h.minute, h.second));
    }
    let naive = date.and_hms_opt(hour, h.minute, h.second).ok_or("impossible time")?;
    let dt = match tz.from_local_datetime(&naive) {
        LocalResult::Single(d) => d,
        LocalResult::Ambiguous(a, _) => {
            notes.repeated_hour += 1;
            a
        }
        LocalResult::None => {
            notes.skipped_hour += 1;
            let shifted = naive + chrono::Duration::hours(1);
            tz.from_local_datetime(&shifted)
                .earliest()
                .ok_or("time does not exist in this time zone")?
        }
    };
    Ok(dt.timestamp_millis())
}

/// The instant (ms since the epoch) of a message with this header, or why it has none.
/// Both the records and the batch cuts of a parallel pass 2 take it from here.
fn message_ts(
    accepted: &[(Shape, Decision)],
    tz: chrono_tz::Tz,
    h: &Header,
    notes: &mut TimeNotes,
) -> Result<i64, String> {
    let order = accepted.iter().find(|(s, _)| *s == h.shape).map(|(_, d)| d.order());
    let Some(date) = order.and_then(|o| o.date(h.fields)) else {
        let order = order.map(|o| o.to_string()).unwrap_or_default();
        return Err(format!("impossible date for the file's {order} order"));
    };
    utc_millis(tz, date, h, notes)
}

/// The minute (since the epoch) a message with this header is stored at, if it has one.
fn message_minute(accepted: &[(Shape, Decision)], tz: chrono_tz::Tz, h: &Header) -> Option<i64> {
    let ms = message_ts(accepted, tz, h, &mut TimeNotes::default()).ok()?;
    Some(ms.div_euclid(60_000))
}

/// The state of one thread building a chat's records.
struct ChatContext<'a> {
    scan: &'a ChatScan,
    common: &'a CommonOptions,
    business: Option<&'a BusinessSide>,
    setup: &'a ChatSetup,
    /// Raw author texts seen in this chat (authors repeat on every line).
    authors: Vec<Author>,
    author_index: PlHashMap<String, usize>,
    last_author: usize,
    occurrence: Occurrence,
    notes: TimeNotes,
    /// Keys per header layout, kept only for files that switch layout (concatenated
    /// exports), where the overlap between the parts is a duplicate.
    segment_keys: Option<Vec<HashSet<u128>>>,
}

impl<'a> ChatContext<'a> {
    fn new(
        scan: &'a ChatScan,
        common: &'a CommonOptions,
        business: Option<&'a BusinessSide>,
        setup: &'a ChatSetup,
    ) -> ChatContext<'a> {
        ChatContext {
            scan,
            common,
            business,
            setup,
            authors: Vec::new(),
            author_index: PlHashMap::default(),
            last_author: 0,
            occurrence: (i64::MIN, PlHashMap::default()),
            notes: TimeNotes::default(),
            segment_keys: (scan.accepted.len() > 1).then(|| vec![HashSet::new(); scan.accepted.len()]),
        }
    }
}

/// The customer handle of a name: E.164 for phone-number authors, else the name itself.
fn handle_of(name: &str, common: &CommonOptions) -> (String, HandleKind) {
    if phone::looks_like_phone(name) {
        if let Some(e) = phone::to_e164(name, common.region) {
            return (e, HandleKind::Phone);
        }
    }
    (name.to_string(), HandleKind::Name)
}

impl ChatContext<'_> {
    /// Index of the author entry for this raw author text, creating it on first sight.
    fn author(&mut self, raw: &str) -> usize {
        if let Some(a) = self.authors.get(self.last_author) {
            if a.raw == raw {
                return self.last_author;
            }
        }
        let i = match self.author_index.get(raw) {
            Some(&i) => i,
            None => {
                let clean = Some(text::clean_name(raw)).filter(|a| !a.is_empty());
                let is_business = clean
                    .as_ref()
                    .is_some_and(|c| self.business.is_some_and(|b| b.names.contains(c)));
                self.authors.push(Author {
                    raw: raw.to_string(),
                    clean,
                    handle: None,
                    is_business,
                });
                self.author_index.insert(raw.to_string(), self.authors.len() - 1);
                self.authors.len() - 1
            }
        };
        self.last_author = i;
        i
    }
}

/// Where the records of a chat go: the import's [`Sink`], or a worker's [`BatchOut`]
/// that is handed to the sink in file order.
trait MessageOut<'s> {
    fn source_id(&self) -> &'s str;
    fn is_duplicate(&mut self, key: u128) -> bool;
    fn push_row(&mut self, result: &mut SourceResult, row: &InteractionRow<'_>) -> Result<(), ImportError>;
    fn reject(&mut self, result: &mut SourceResult, reject: &Reject<'_>) -> Result<(), ImportError>;
}

impl<'s> MessageOut<'s> for Sink<'s> {
    fn source_id(&self) -> &'s str {
        self.source_id
    }

    fn is_duplicate(&mut self, key: u128) -> bool {
        Sink::is_duplicate(self, key)
    }

    fn push_row(&mut self, result: &mut SourceResult, row: &InteractionRow<'_>) -> Result<(), ImportError> {
        Sink::push_row(self, result, row)
    }

    fn reject(&mut self, result: &mut SourceResult, reject: &Reject<'_>) -> Result<(), ImportError> {
        Sink::reject(self, result, reject)
    }
}

/// A reject kept by a worker until its batch is stored.
struct KeptReject {
    line: Option<u64>,
    byte_offset: Option<u64>,
    reason: String,
    raw: String,
}

/// The records, rejects and new dedup keys of one batch built on a worker thread.
struct BatchOut<'a> {
    source_id: &'a str,
    /// Dedup keys of the workspace's other sources (read-only, shared by the workers).
    seen: &'a HashSet<u128>,
    /// This batch's keys, kept when later sources of the import need them.
    keys: Option<Vec<u128>>,
    rows: RowChunk,
    rejects: Vec<KeptReject>,
}

impl<'s> MessageOut<'s> for BatchOut<'s> {
    fn source_id(&self) -> &'s str {
        self.source_id
    }

    fn is_duplicate(&mut self, key: u128) -> bool {
        pipeline::is_duplicate_key(self.seen, self.keys.as_mut(), key)
    }

    fn push_row(&mut self, result: &mut SourceResult, row: &InteractionRow<'_>) -> Result<(), ImportError> {
        result.count_imported(row.ts);
        self.rows.push_row(row);
        Ok(())
    }

    fn reject(&mut self, result: &mut SourceResult, reject: &Reject<'_>) -> Result<(), ImportError> {
        result.counts.rejected += 1;
        self.rejects.push(KeptReject {
            line: reject.line,
            byte_offset: reject.byte_offset,
            reason: reject.reason.to_string(),
            raw: reject.raw.to_string(),
        });
        Ok(())
    }
}

/// What building one batch gave, besides its records.
#[derive(Default)]
struct BatchTally {
    result: SourceResult,
    notes: TimeNotes,
    orphan_lines: u64,
    /// Byte offset of the batch's last message (for progress).
    last_offset: u64,
}

impl BatchTally {
    /// Adds a later batch's tally to this one.
    fn add(&mut self, other: BatchTally) {
        let (a, b) = (&mut self.result, other.result);
        a.counts += b.counts;
        a.notes.extend(b.notes);
        a.first_ms = a.first_ms.into_iter().chain(b.first_ms).min();
        a.last_ms = a.last_ms.into_iter().chain(b.last_ms).max();
        self.notes.add(other.notes);
        self.orphan_lines += other.orphan_lines;
        self.last_offset = self.last_offset.max(other.last_offset);
    }
}

/// Turns a batch's messages into records and rejects.
fn build_batch<'s, O: MessageOut<'s>>(
    batch: &Batch,
    display: &str,
    ctx: &mut ChatContext<'_>,
    out: &mut O,
) -> Result<BatchTally, ImportError> {
    let mut tally = BatchTally::default();
    for p in &batch.items {
        tally.last_offset = p.offset;
        if p.header.is_none() {
            tally.orphan_lines += 1;
            tally.result.counts.read += 1;
            out.reject(
                &mut tally.result,
                &Reject {
                    file: display,
                    line: Some(p.line),
                    byte_offset: Some(p.offset),
                    reason: "text before the first message header",
                    raw: &batch.text[p.body.clone()],
                },
            )?;
            continue;
        }
        finish(p, &batch.text, display, ctx, out, &mut tally.result)?;
    }
    tally.notes = std::mem::take(&mut ctx.notes);
    Ok(tally)
}

/// Worker threads for building one chat's records: as asked, else the machine's cores
/// (at most 8).
fn workers(opts: &WhatsAppOptions) -> usize {
    opts.workers.unwrap_or_else(|| super::cores().min(8)).max(1)
}

/// Pass 2: reads the chat again and writes its interactions and rejects.
pub fn import(
    scan: &ChatScan,
    business: Option<&BusinessSide>,
    common: &CommonOptions,
    opts: &WhatsAppOptions,
    sink: &mut Sink<'_>,
) -> Result<SourceResult, ImportError> {
    let display = scan.input.display();
    if let Some(why) = scan.undecided() {
        return Err(ImportError::file(&display, why));
    }
    let setup = ChatSetup::new(scan, business, common);
    let input = scan.input.reader()?;
    let accepted = &scan.accepted;
    let display_ref = display.as_str();
    let mut tally = BatchTally::default();
    let mut last_progress = 0u64;
    let mut progress = |sink: &mut Sink<'_>, offset: u64| {
        (sink.progress)(offset.saturating_sub(last_progress));
        last_progress = last_progress.max(offset);
    };
    // A file with one header layout (all but concatenated exports, whose parts are
    // compared with each other) is built by several workers, batch by batch.
    let workers = workers(opts);
    let total_bytes = if scan.size > SMALL_CHAT && accepted.len() == 1 && workers > 1 {
        let chat = (scan, common, business, &setup);
        build_in_parallel(input, chat, workers, display_ref, sink, &mut |sink, t| {
            progress(sink, t.last_offset);
            tally.add(t);
        })?
    } else if scan.size <= SMALL_CHAT {
        // A small chat is read and built on this thread: starting a reader thread and
        // handing batches over would cost more than reading it.
        let mut batches = Vec::new();
        let total = read_items(input, accepted, display_ref, Cut::Anywhere, &mut |b| {
            batches.push(b);
            true
        })?;
        let mut ctx = ChatContext::new(scan, common, business, &setup);
        for batch in batches {
            tally.add(build_batch(&batch, display_ref, &mut ctx, sink)?);
        }
        total
    } else {
        // Reading and header recognition run on one thread, message building on this
        // one, Parquet encoding on a third.
        let (tx, rx) = sync_channel::<Batch>(4);
        let mut ctx = ChatContext::new(scan, common, business, &setup);
        std::thread::scope(|scope| -> Result<u64, ImportError> {
            let producer = scope
                .spawn(move || read_items(input, accepted, display_ref, Cut::Anywhere, &mut |b| tx.send(b).is_ok()));
            for batch in rx {
                let t = build_batch(&batch, display_ref, &mut ctx, sink)?;
                progress(sink, t.last_offset);
                tally.add(t);
            }
            producer
                .join()
                .map_err(|_| ImportError::Other(anyhow::anyhow!("reader thread panicked")))?
        })?
    };
    progress(sink, total_bytes);
    let BatchTally {
        mut result,
        notes,
        orphan_lines,
        ..
    } = tally;
    if orphan_lines > 0 {
        result.notes.push(format!(
            "{orphan_lines} line(s) before the first message header rejected"
        ));
    }
    if notes.odd_twelve_hour > 0 {
        result.notes.push(format!(
            "{} line(s) carry AM/PM with an hour of 0 or above 12 (e.g. `23:59 PM`): read as 24-hour times",
            notes.odd_twelve_hour
        ));
    }
    if notes.repeated_hour > 0 {
        result.notes.push(format!(
            "{} message(s) fall in the repeated hour of a DST change: the earlier instant was used",
            notes.repeated_hour
        ));
    }
    if notes.skipped_hour > 0 {
        result.notes.push(format!(
            "{} message(s) fall in the skipped hour of a DST change: moved forward one hour",
            notes.skipped_hour
        ));
    }
    if let Some(b) = business {
        if !scan.authors.keys().any(|a| b.names.contains(a)) {
            result.notes.push("the business side never writes in this chat".into());
        }
    }
    Ok(result)
}

/// A batch built by a worker: its tally, rows, rejects and (when wanted) new dedup keys.
type Built = (BatchTally, RowChunk, Vec<KeptReject>, Option<Vec<u128>>);

/// What every worker of one chat shares.
#[derive(Clone, Copy)]
struct Workshop<'a> {
    scan: &'a ChatScan,
    common: &'a CommonOptions,
    business: Option<&'a BusinessSide>,
    setup: &'a ChatSetup,
    display: &'a str,
    source_id: &'a str,
    seen: &'a HashSet<u128>,
    keep_keys: bool,
}

impl Workshop<'_> {
    /// A worker's loop: takes batches in file order until there are none, sends each one
    /// built (or its error) with its index.
    fn work(self, batches: &Mutex<Receiver<(usize, Batch)>>, done: &SyncSender<(usize, Result<Built, ImportError>)>) {
        let mut ctx = ChatContext::new(self.scan, self.common, self.business, self.setup);
        loop {
            let next = batches.lock().map_err(|_| ()).and_then(|rx| rx.recv().map_err(|_| ()));
            let Ok((index, mut batch)) = next else { break };
            // A batch starts where no earlier message shares its minute, or from the counting
            // its predecessor ends with, which that batch's worker hands on when done.
            ctx.occurrence = batch
                .carry_in
                .take()
                .and_then(|rx| rx.recv().ok())
                .unwrap_or_else(|| (i64::MIN, PlHashMap::default()));
            // A panic must reach the storing thread as an error: it waits for every batch in
            // turn, and would wait for this one for ever.
            let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.build(&batch, &mut ctx)))
                .unwrap_or_else(|_| Err(ImportError::Other(anyhow::anyhow!("a worker thread panicked"))));
            if let Some(next) = batch.carry_out.take() {
                let _ = next.send(std::mem::take(&mut ctx.occurrence));
            }
            if done.send((index, built)).is_err() {
                break;
            }
        }
    }

    fn build(&self, batch: &Batch, ctx: &mut ChatContext<'_>) -> Result<Built, ImportError> {
        let mut out = BatchOut {
            source_id: self.source_id,
            seen: self.seen,
            keys: self.keep_keys.then(Vec::new),
            rows: RowChunk::with_capacity(batch.items.len()),
            rejects: Vec::new(),
        };
        let tally = build_batch(batch, self.display, ctx, &mut out)?;
        Ok((tally, out.rows, out.rejects, out.keys))
    }
}

/// Stores built batches in file order as they arrive (rejects, dedup keys, rows), returning
/// a ticket for each; fails on the first batch that failed or never came back.
fn store_in_order(
    done: &Receiver<(usize, Result<Built, ImportError>)>,
    tickets: &SyncSender<()>,
    display: &str,
    sink: &mut Sink<'_>,
    stored: &mut dyn FnMut(&mut Sink<'_>, BatchTally),
) -> Result<(), ImportError> {
    let mut waiting: std::collections::BTreeMap<usize, Built> = Default::default();
    let mut next = 0;
    for (index, built) in done {
        waiting.insert(index, built?);
        while let Some((tally, rows, rejects, keys)) = waiting.remove(&next) {
            for r in &rejects {
                let reject = Reject {
                    file: display,
                    line: r.line,
                    byte_offset: r.byte_offset,
                    reason: &r.reason,
                    raw: &r.raw,
                };
                sink.rejects.write(&reject).map_err(ImportError::Other)?;
            }
            if let (Some(new_keys), Some(keys)) = (sink.new_keys.as_mut(), keys) {
                new_keys.extend(keys);
            }
            sink.batch.push_chunk(rows).map_err(ImportError::Other)?;
            stored(sink, tally);
            next += 1;
            // The reader may have finished; a ticket it no longer wants is fine.
            let _ = tickets.send(());
        }
    }
    match waiting.keys().next() {
        Some(index) => Err(ImportError::Other(anyhow::anyhow!(
            "batch {next} of the chat never came back (batch {index} did)"
        ))),
        None => Ok(()),
    }
}

/// Pass 2 on several cores: a reader thread splits the chat into batches (cut only where
/// each batch's duplicate counting starts afresh, see [`Cut::BetweenMinutes`]), workers
/// build them, and this thread stores them in file order. Returns the bytes read.
fn build_in_parallel(
    input: Box<dyn BufRead + Send>,
    (scan, common, business, setup): (&ChatScan, &CommonOptions, Option<&BusinessSide>, &ChatSetup),
    workers: usize,
    display: &str,
    sink: &mut Sink<'_>,
    stored: &mut dyn FnMut(&mut Sink<'_>, BatchTally),
) -> Result<u64, ImportError> {
    // Batches in flight (being read, built or waiting for their turn) hold a ticket each,
    // so memory stays bounded however uneven the workers are.
    let in_flight = workers + 2;
    let (ticket_tx, ticket_rx) = sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        ticket_tx.send(()).expect("room for every ticket");
    }
    let (batch_tx, batch_rx) = sync_channel::<(usize, Batch)>(workers);
    let batch_rx = Arc::new(Mutex::new(batch_rx));
    let (done_tx, done_rx) = sync_channel::<(usize, Result<Built, ImportError>)>(workers);
    let workshop = Workshop {
        scan,
        common,
        business,
        setup,
        display,
        source_id: sink.source_id,
        seen: sink.seen,
        keep_keys: sink.new_keys.is_some(),
    };
    let (accepted, tz) = (&scan.accepted, common.tz);
    std::thread::scope(|scope| -> Result<u64, ImportError> {
        let thread = || std::thread::Builder::new();
        let mut started = 0;
        for _ in 0..workers {
            let (batch_rx, done_tx) = (batch_rx.clone(), done_tx.clone());
            // A thread the system refuses is one worker fewer.
            let worker = thread().spawn_scoped(scope, move || workshop.work(&batch_rx, &done_tx));
            started += usize::from(worker.is_ok());
        }
        let reader = (started > 0)
            .then(|| {
                thread().spawn_scoped(scope, move || {
                    let mut index = 0;
                    read_items(input, accepted, display, Cut::BetweenMinutes(tz), &mut |batch| {
                        let sent = ticket_rx.recv().is_ok() && batch_tx.send((index, batch)).is_ok();
                        index += 1;
                        sent
                    })
                })
            })
            .and_then(Result::ok)
            .ok_or_else(|| ImportError::Other(anyhow::anyhow!("cannot start the threads that read the chat")));
        // The workers and the reader stop when the receiving ends they hold are all gone.
        drop((batch_rx, done_tx));
        let reader = reader?;
        let stored_all = store_in_order(&done_rx, &ticket_tx, display, sink, stored);
        drop((done_rx, ticket_tx));
        let read = reader
            .join()
            .map_err(|_| ImportError::Other(anyhow::anyhow!("reader thread panicked")))?;
        stored_all?;
        read
    })
}

/// Where [`read_items`] may end a batch.
#[derive(Clone, Copy)]
enum Cut {
    /// After [`BATCH`] messages, anywhere.
    Anywhere,
    /// After [`PARALLEL_BATCH`] messages, and only where the valid messages on either side
    /// fall in different minutes (in this zone): a message's dedup key counts the same
    /// messages before it in its minute, so a batch built alone must not start inside a
    /// minute (rejected messages take no part in the counting). After [`HARD_BATCH`]
    /// messages without such a place, the cut is made anyway and the counting is handed on.
    BetweenMinutes(chrono_tz::Tz),
}

/// Messages per batch when one thread builds them.
const BATCH: usize = 4096;
/// Messages per batch when workers build them (each batch is a row group).
const PARALLEL_BATCH: usize = 8192;
/// Messages after which a batch is cut even inside a minute (see [`Batch::carry_in`]).
const HARD_BATCH: usize = 4 * PARALLEL_BATCH;

/// The minute of a message that takes part in the dedup counting (a valid one).
fn valid_minute(p: &Pending, accepted: &[(Shape, Decision)], tz: chrono_tz::Tz) -> Option<i64> {
    let h = p.header.as_ref().filter(|_| p.bad.is_none())?;
    message_minute(accepted, tz, h)
}

/// Where a full batch looks for its end: the minute of the last valid message before its
/// last (complete) message, updated as messages arrive.
struct CutSearch {
    last_valid: Option<i64>,
}

impl CutSearch {
    /// True when the batch may end before its last message: that message is valid and its
    /// minute differs from the last valid message's before it (rejected messages between
    /// them take no part in the counting). Called each time a message has been completed.
    fn may_cut(&mut self, batch: &Batch, accepted: &[(Shape, Decision)], tz: chrono_tz::Tz) -> bool {
        let [.., before, last] = batch.items.as_slice() else {
            return false;
        };
        if self.last_valid.is_none() {
            self.last_valid = valid_minute(before, accepted, tz);
        }
        let Some(minute) = valid_minute(last, accepted, tz) else {
            return false;
        };
        let cut = self.last_valid.is_some_and(|m| m != minute);
        self.last_valid = Some(minute);
        cut
    }
}

/// Moves the last message of `batch` into a new batch.
fn split_off_last(batch: &mut Batch, capacity: usize) -> Batch {
    let mut last = batch.items.pop().expect("a batch to split has messages");
    // A message's text is the end of the buffer, from its first line's view on.
    let start = last.view.start.min(last.body.start);
    let mut next = Batch::with_capacity(capacity);
    next.text.push_str(&batch.text[start..]);
    batch.text.truncate(start);
    last.view = last.view.start - start..last.view.end - start;
    last.body = last.body.start - start..last.body.end - start;
    last.first_end -= start;
    next.items.push(last);
    next
}

/// Splits a chat into messages: a header of an accepted layout starts one, other lines
/// continue it. Sends them in batches cut as `cut` allows; returns the bytes read.
fn read_items(
    input: Box<dyn BufRead + Send>,
    accepted: &[(Shape, Decision)],
    display: &str,
    cut: Cut,
    send: &mut dyn FnMut(Batch) -> bool,
) -> Result<u64, ImportError> {
    let capacity = match cut {
        Cut::Anywhere => BATCH,
        Cut::BetweenMinutes(_) => PARALLEL_BATCH,
    };
    let mut reader = LineReader::new(input, false);
    let mut batch = Batch::with_capacity(capacity);
    let mut seq = 0u64;
    let mut search = CutSearch { last_valid: None };
    // Index in `batch.items` of the message that continuation lines extend.
    let mut open = false;
    while let Some(line) = reader
        .next_line()
        .map_err(|e| ImportError::file(display, format!("read error: {e}")))?
    {
        if line.number % 65_536 == 0 {
            check_interrupt()?;
        }
        let (raw, bad) = match std::str::from_utf8(line.bytes) {
            Ok(s) => (std::borrow::Cow::Borrowed(s), None),
            Err(e) => (
                String::from_utf8_lossy(line.bytes),
                Some(format!(
                    "invalid UTF-8 at line {} byte offset {}",
                    line.number,
                    line.offset + e.valid_up_to() as u64
                )),
            ),
        };
        let bad = bad.or_else(|| {
            line.too_long
                .then(|| format!("line {} is longer than 1 MiB", line.number))
        });
        let view = text::matching_view(&raw);
        let header = header::parse(&view).filter(|h| accepted.iter().any(|(s, _)| *s == h.shape));
        match header {
            Some(h) => {
                // A full batch is sent before a new message starts, never in the middle of one.
                let full = match cut {
                    Cut::Anywhere if batch.items.len() >= BATCH => {
                        Some(std::mem::replace(&mut batch, Batch::with_capacity(BATCH)))
                    }
                    Cut::BetweenMinutes(tz)
                        if batch.items.len() > PARALLEL_BATCH && search.may_cut(&batch, accepted, tz) =>
                    {
                        let next = split_off_last(&mut batch, capacity);
                        search.last_valid = None;
                        Some(std::mem::replace(&mut batch, next))
                    }
                    Cut::BetweenMinutes(_) if batch.items.len() >= HARD_BATCH => {
                        // No minute change in sight: cut anyway, and have the next batch wait
                        // for this one's counting (memory stays bounded; these two batches
                        // are built one after the other).
                        let mut next = split_off_last(&mut batch, capacity);
                        let (carry_out, carry_in) = sync_channel(1);
                        (batch.carry_out, next.carry_in) = (Some(carry_out), Some(carry_in));
                        search.last_valid = None;
                        Some(std::mem::replace(&mut batch, next))
                    }
                    _ => None,
                };
                if let Some(full) = full {
                    if !send(full) {
                        return Ok(reader.bytes_read());
                    }
                }
                seq += 1;
                let start = batch.text.len();
                batch.text.push_str(&view);
                let view_range = start..batch.text.len();
                let body = match &view {
                    // The view is the raw line: the body is its tail.
                    std::borrow::Cow::Borrowed(_) => start + h.body_start..batch.text.len(),
                    std::borrow::Cow::Owned(_) => {
                        let tail = &raw[raw_index(&raw, h.body_start)..];
                        let body_start = batch.text.len();
                        batch.text.push_str(tail);
                        body_start..batch.text.len()
                    }
                };
                batch.items.push(Pending {
                    seq,
                    header: Some(h),
                    view: view_range,
                    first_end: body.end,
                    body,
                    line: line.number,
                    offset: line.offset,
                    bad,
                });
                open = true;
            }
            None if open => {
                let p = batch.items.last_mut().expect("an open message");
                if p.bad.is_none() {
                    p.bad = bad;
                }
                batch.text.push('\n');
                batch.text.push_str(&raw);
                p.body.end = batch.text.len();
            }
            None if view.trim().is_empty() => {}
            None => {
                let start = batch.text.len();
                batch.text.push_str(&raw);
                batch.items.push(Pending {
                    seq: 0,
                    header: None,
                    view: start..start,
                    body: start..batch.text.len(),
                    first_end: batch.text.len(),
                    line: line.number,
                    offset: line.offset,
                    bad: None,
                });
            }
        }
    }
    send(batch);
    Ok(reader.bytes_read())
}

/// `line:N` into `out`, without the formatting machinery (it is written for every message).
fn line_ref(line: u64, out: &mut [u8; 25]) -> &str {
    let mut at = out.len();
    let mut n = line;
    loop {
        at -= 1;
        out[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    at -= 5;
    out[at..at + 5].copy_from_slice(b"line:");
    std::str::from_utf8(&out[at..]).expect("ASCII")
}

fn reject<'s, O: MessageOut<'s>>(
    p: &Pending,
    text: &str,
    reason: &str,
    display: &str,
    sink: &mut O,
    result: &mut SourceResult,
) -> Result<(), ImportError> {
    // The first line's matching view, then the continuation lines as read.
    let mut raw = text[p.view.clone()].to_string();
    raw.push_str(&text[p.first_end..p.body.end]);
    sink.reject(
        result,
        &Reject {
            file: display,
            line: Some(p.line),
            byte_offset: Some(p.offset),
            reason,
            raw: &raw,
        },
    )
}

fn finish<'s, O: MessageOut<'s>>(
    p: &Pending,
    text: &str,
    display: &str,
    ctx: &mut ChatContext<'_>,
    sink: &mut O,
    result: &mut SourceResult,
) -> Result<(), ImportError> {
    result.counts.read += 1;
    if let Some(bad) = &p.bad {
        return reject(p, text, bad, display, sink, result);
    }
    let h = p.header.as_ref().expect("a message has a header");
    let ts = match message_ts(&ctx.scan.accepted, ctx.common.tz, h, &mut ctx.notes) {
        Ok(ts) => ts,
        Err(e) => return reject(p, text, &e, display, sink, result),
    };
    let view_first = &text[p.view.clone()];
    let ts_raw = &view_first[usize::from(h.shape.bracketed)..h.ts_end];
    // Author and text: split at ": ", preferring the longest known author.
    let body_view = &view_first[h.body_start..];
    let mut author: Option<&str> = None;
    let mut text_view_start = body_view.len();
    // Only authors that themselves contain ':' can be longer than the first-colon split,
    // so only those are tried by prefix; the rest is a set lookup.
    let first_split = body_view.find(':').map(|p| &body_view[..p]);
    if let Some(a) = first_split.filter(|a| ctx.setup.known_set.contains(*a)) {
        author = Some(a);
        text_view_start = a.len() + 1;
    }
    for known in &ctx.setup.known_authors {
        if let Some(rest) = body_view.strip_prefix(known.as_str()) {
            // `Name:.` (a view-once message) and `Name:text` (CJK exports) follow a known author.
            if rest.starts_with(':') {
                author = Some(&body_view[..known.len()]);
                text_view_start = known.len() + 1;
                break;
            }
        }
    }
    if author.is_none() {
        if let Some(a) = author_candidate(body_view) {
            author = Some(a);
            text_view_start = a.len() + 1;
        } else {
            text_view_start = 0;
        }
    }
    let raw_first = &text[p.body.start..p.first_end];
    // Map the view offset (relative to body) into the raw body.
    let text_raw_start = if p.view.end == p.first_end {
        text_view_start.min(raw_first.len())
    } else {
        raw_index(raw_first, text_view_start)
    };
    let mut text_first = &raw_first[text_raw_start..];
    if author.is_some() {
        text_first = text_first.strip_prefix(' ').unwrap_or(text_first);
    }
    let author_id = author.map(|a| ctx.author(a));
    let author_entry = author_id.map(|i| &ctx.authors[i]).filter(|a| a.clean.is_some());
    let author_clean = author_entry.and_then(|a| a.clean.as_deref());
    let strong = author_clean.is_none()
        || text_first.starts_with('\u{200E}')
        || author_clean.is_some_and(|a| ctx.scan.title.as_deref() == Some(a) && ctx.scan.authors.len() > 2);
    // The text is the first line's tail and the continuation lines; an Android line
    // without an author is a system line, and its whole body is the text.
    let body_text = if author_clean.is_none() {
        let skip = raw_first.len() - raw_first.trim_start().len();
        &text[p.body.start + skip..p.body.end]
    } else {
        let start = p.first_end - text_first.len();
        &text[start..p.body.end]
    };
    // One search tells most messages apart from every special case (the first line's
    // text is a prefix of the body).
    let phrase_free = author_clean.is_some() && classify::phrase_free(body_text);
    let is_system =
        author_clean.is_none() || classify::is_system_text_of(text_first, author_clean, strong, phrase_free);
    // Dedup key: the same message seen in an overlapping export of the same chat.
    // Minute precision because Android exports have no seconds; invisible marks ignored.
    let minute = ts.div_euclid(60_000);
    let mut hasher = blake3::Hasher::new();
    hasher.update(ctx.setup.thread_key.as_bytes());
    hasher.update(&[0]);
    hasher.update(&minute.to_le_bytes());
    hasher.update(author_clean.unwrap_or("").as_bytes());
    hasher.update(&[0]);
    let trimmed = body_text.trim();
    if !trimmed.is_ascii() && trimmed.chars().any(text::is_invisible) {
        let visible: String = trimmed.chars().filter(|c| !text::is_invisible(*c)).collect();
        hasher.update(visible.trim().as_bytes());
    } else {
        hasher.update(trimmed.as_bytes());
    }
    let base = u128::from_le_bytes(hasher.finalize().as_bytes()[..16].try_into().unwrap());
    if ctx.occurrence.0 != minute {
        ctx.occurrence.0 = minute;
        ctx.occurrence.1.clear();
    }
    let occ = ctx.occurrence.1.entry(base).or_insert(0);
    *occ += 1;
    let key = base ^ u128::from(*occ - 1).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835);
    // A layout switch inside one file repeats messages: a key met in another layout's
    // segment of this file is a duplicate too.
    let mut duplicate = false;
    if let Some(segments) = ctx.segment_keys.as_mut() {
        let own = ctx.scan.accepted.iter().position(|(s, _)| *s == h.shape).unwrap_or(0);
        duplicate = segments
            .iter()
            .enumerate()
            .any(|(i, keys)| i != own && keys.contains(&key));
        segments[own].insert(key);
    }
    if duplicate || sink.is_duplicate(key) {
        result.counts.duplicates += 1;
        return Ok(());
    }
    let body = if is_system {
        classify::Body {
            kind: Kind::System,
            text: Some(std::borrow::Cow::Borrowed(body_text)),
            attachments: vec![],
            edited: false,
            call_status: None,
            duration_s: None,
        }
    } else {
        classify::classify_of(body_text, phrase_free)
    };
    let is_business = author_entry.is_some_and(|a| a.is_business);
    let direction = if is_system {
        Direction::System
    } else {
        match (ctx.business, author_clean) {
            (Some(_), Some(_)) if is_business => Direction::Outbound,
            (Some(_), Some(_)) => Direction::Inbound,
            _ => Direction::Unknown,
        }
    };
    // The customer is the chat's single customer, else the author; its handle is worked
    // out once per name.
    let use_author = match direction {
        Direction::System => false,
        Direction::Outbound => false,
        Direction::Inbound => ctx.setup.chat_customer.is_none(),
        _ => true,
    };
    let use_chat = matches!(direction, Direction::Outbound | Direction::Inbound) && ctx.setup.chat_customer.is_some();
    if use_author {
        if let Some(i) = author_id.filter(|_| author_clean.is_some()) {
            if ctx.authors[i].handle.is_none() {
                let h = handle_of(ctx.authors[i].clean.as_deref().unwrap_or(""), ctx.common);
                ctx.authors[i].handle = Some(h);
            }
        }
    }
    let author_entry = author_id.map(|i| &ctx.authors[i]).filter(|a| a.clean.is_some());
    let author_clean = author_entry.and_then(|a| a.clean.as_deref());
    let (customer_handle, customer_handle_kind, customer_name) = if use_chat {
        let (name, handle, kind) = ctx.setup.chat_customer.as_ref().expect("checked");
        (Some(handle.as_str()), Some(*kind), Some(name.as_str()))
    } else if use_author && author_entry.is_some() {
        let a = author_entry.expect("checked");
        let (handle, kind) = a.handle.as_ref().expect("computed above");
        (Some(handle.as_str()), Some(*kind), a.clean.as_deref())
    } else {
        (None, None, None)
    };
    let agent = if direction == Direction::Outbound {
        author_clean
    } else {
        None
    };
    let mentions = match (&body.text, body.kind) {
        (Some(t), Kind::Message | Kind::Media) => mentions::extract(t, ctx.common.region),
        _ => Vec::new(),
    };
    let mut id_buf = [0u8; 32];
    let interaction_id = pipeline::interaction_id_into(ctx.setup.id_prefix.clone(), p.seq, &mut id_buf);
    let mut key_buf = [0u8; 32];
    let dedup_key = pipeline::hex_into(&key.to_be_bytes(), &mut key_buf);
    let mut ref_buf = [0u8; 25];
    let source_ref = line_ref(p.line, &mut ref_buf);
    let row = InteractionRow {
        interaction_id,
        source_id: sink.source_id(),
        source_file: display,
        source_ref,
        channel: Channel::Whatsapp,
        direction,
        ts,
        ts_raw,
        thread_key: &ctx.setup.thread_key,
        customer_handle,
        customer_handle_kind,
        customer_name,
        agent,
        text: body.text.as_deref(),
        body_full: None,
        subject: None,
        attachments: &body.attachments,
        duration_s: body.duration_s,
        status: body.call_status,
        mentions: &mentions,
        kind: body.kind,
        seq: p.seq,
        author_raw: author_clean,
        thread_title: ctx.scan.title.as_deref(),
        edited: body.edited,
        dedup_key,
    };
    sink.push_row(result, &row)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_export_cap_note_tells_near_from_far_past() {
        assert_eq!(export_cap_note(38_999), None);
        for near in [39_000, 40_000, 41_000] {
            assert!(export_cap_note(near).unwrap().starts_with(NEAR_WHATSAPP_EXPORT_CAP));
        }
        let far = export_cap_note(2_417_276).unwrap();
        assert!(!far.starts_with(NEAR_WHATSAPP_EXPORT_CAP), "{far}");
        assert!(far.starts_with("2417276 messages, more than"), "{far}");
    }

    #[test]
    fn line_refs_are_written_like_format() {
        for n in [0, 7, 10, 1234, 99_999_999, u64::MAX] {
            assert_eq!(line_ref(n, &mut [0; 25]), format!("line:{n}"));
        }
    }

    /// Scans of chats written under `dir`, one per (file name, lines).
    fn scans_of(dir: &Path, chats: &[(&str, &str)]) -> Vec<ChatScan> {
        chats
            .iter()
            .map(|(name, text)| {
                let path = dir.join(name);
                std::fs::write(&path, text).unwrap();
                scan(ChatInput::open(&path).unwrap(), &WhatsAppOptions::default()).unwrap()
            })
            .collect()
    }

    /// The sides `decide_business` gives `scans`, by their names, and the notes.
    fn sides(scans: &[ChatScan], opts: &WhatsAppOptions) -> (Vec<Option<Vec<String>>>, Vec<String>) {
        let mut census = AuthorCensus::default();
        scans.iter().for_each(|s| census.add(s));
        let mut business = decide_business(census, opts);
        let sides = scans
            .iter()
            .map(|s| {
                business.take(s).map(|b| {
                    let mut names: Vec<String> = b.names.iter().cloned().collect();
                    names.sort();
                    names
                })
            })
            .collect();
        (sides, business.notes())
    }

    #[test]
    fn the_business_side_is_decided_from_every_chat_of_the_import() {
        let dir = tempfile::tempdir().unwrap();
        let scans = scans_of(
            dir.path(),
            &[
                ("WhatsApp Chat with Ana.txt", "13/02/2024, 10:00 - Ana: Hi, is order 1234 ready?\n13/02/2024, 10:01 - Shop: Yes, it ships today.\n"),
                ("WhatsApp Chat with Ben.txt", "13/02/2024, 11:00 - Ben: Hi, is order 1234 ready?\n13/02/2024, 11:01 - Shop: Yes, it ships today.\n"),
                ("WhatsApp Chat with Cy.txt", "13/02/2024, 12:00 - Cy: Hi, is order 1234 ready?\n13/02/2024, 12:01 - Dee: Yes, it ships today.\n"),
                ("WhatsApp Chat with Nobody.txt", "13/02/2024, 12:00 - Messages are end-to-end encrypted.\n"),
            ],
        );
        assert!(scans[3].authors.is_empty());
        // Nobody writes in every chat: each titled 1:1 chat gives its other party.
        let (got, notes) = sides(&scans, &WhatsAppOptions::default());
        let one = |n: &str| Some(vec![n.to_string()]);
        assert_eq!(got, [one("Shop"), one("Shop"), one("Dee"), None]);
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes[0].starts_with("business side inferred: \"Shop\" is the other party"));
        // "Shop" in the first two chats only: the author in every chat of those two.
        let (got, notes) = sides(&scans[..2], &WhatsAppOptions::default());
        assert_eq!(got, [one("Shop"), one("Shop")]);
        assert_eq!(
            notes,
            ["business side inferred: \"Shop\" writes in every one of the 2 chats"]
        );
        // Given names go to every chat, authors or not.
        let given = WhatsAppOptions {
            business_names: vec!["Dee".into()],
            ..Default::default()
        };
        let (got, notes) = sides(&scans, &given);
        assert_eq!(got, vec![one("Dee"); 4]);
        assert_eq!(notes, ["business side given by --business-name"]);
        // A chat with authors but no title that names one of two: no side, and said.
        let untitled = scans_of(
            dir.path(),
            &[(
                "notes.txt",
                "13/02/2024, 10:00 - Ana: Hi, is order 1234 ready?\n13/02/2024, 10:01 - Bo: Yes, it ships today.\n",
            )],
        );
        let (got, notes) = sides(&untitled, &WhatsAppOptions::default());
        assert_eq!(got, [None]);
        assert!(
            notes[0].starts_with("business side unknown for 1 chat(s) ("),
            "{notes:?}"
        );
    }

    #[test]
    fn spilled_scans_come_back_in_order_and_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let mut scans = scans_of(
            dir.path(),
            &[
                ("WhatsApp Chat with Ana.txt", "13/02/2024, 10:00 - Ana: Hi, is order 1234 ready?\n13/02/2024, 10:01 - Shop: Yes, it ships today.\n"),
                ("b.txt", "2/3/24, 10:00 - Ben: Hi, is order 1234 ready?\n"),
            ],
        );
        // A file name that is not UTF-8 survives too.
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            scans[1].input = ChatInput::Zip {
                zip: dir.path().join(std::ffi::OsString::from_vec(b"chat-\xff.zip".to_vec())),
                entry: "_chat.txt".into(),
                media: vec!["IMG-1.jpg".into()],
            };
        }
        let mut spill = crate::import::spill::Spill::new_in(dir.path());
        for scan in &scans {
            spill.push(scan).unwrap();
        }
        assert_eq!(spill.len(), 2);
        let back: Vec<ChatScan> = spill.read().unwrap().map(Result::unwrap).collect();
        // Every field, the authors in a fixed order (a map's order is its own).
        let fields = |s: &ChatScan| {
            let mut authors: Vec<_> = s.authors.iter().collect();
            authors.sort();
            let (i, t, a, u, n) = (&s.input, &s.title, &s.accepted, &s.undecided, &s.notes);
            format!(
                "{i:?} {} {} {t:?} {a:?} {u:?} {authors:?} {} {n:?}",
                s.size, s.content_hash, s.headers
            )
        };
        assert_eq!(
            back.iter().map(fields).collect::<Vec<_>>(),
            scans.iter().map(fields).collect::<Vec<_>>()
        );
        // Read twice, and written to after a reading.
        assert_eq!(spill.read().unwrap().count(), 2);
        spill.push(&scans[0]).unwrap();
        let again: Vec<ChatScan> = spill.read().unwrap().map(Result::unwrap).collect();
        assert_eq!(again.iter().map(fields).collect::<Vec<_>>()[2], fields(&scans[0]));
        drop(spill);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            2,
            "the spill's file has no name"
        );
        let empty = crate::import::spill::Spill::<ChatScan>::new_in(dir.path().join("none"));
        assert_eq!(empty.read().unwrap().count(), 0);
    }

    #[test]
    fn a_large_chat_hashed_beside_the_scan_has_the_file_hash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("WhatsApp Chat with Ana.txt");
        let mut text = String::new();
        let mut i = 0u64;
        while text.len() as u64 <= SMALL_CHAT + 4096 {
            text.push_str(&format!("03/02/2024, 10:{:02} - Ana: message {i}\n", i % 60));
            i += 1;
        }
        std::fs::write(&path, &text).unwrap();
        let scan = scan(ChatInput::open(&path).unwrap(), &WhatsAppOptions::default()).unwrap();
        assert_eq!(scan.size, text.len() as u64);
        assert_eq!(scan.content_hash, blake3::hash(text.as_bytes()).to_hex().to_string());
        assert_eq!(scan.headers, i);
    }

    /// A chat of about 2 MB whose middle falls where `middle` is written.
    fn chat_around_the_middle(head: impl Fn(u64) -> String, middle: &str, tail: impl Fn(u64) -> String) -> String {
        let mut text = String::new();
        let mut i = 0;
        while text.len() < 1 << 20 {
            text.push_str(&head(i));
            i += 1;
        }
        text.push_str(middle);
        let half = text.len();
        let mut i = 0;
        while text.len() < 2 * half {
            text.push_str(&tail(i));
            i += 1;
        }
        text
    }

    #[test]
    fn a_chat_scanned_in_halves_scans_as_in_one_pass() {
        let dir = tempfile::tempdir().unwrap();
        let android =
            |day: u64, i: u64, who: &str| format!("{day:02}/03/2021, 10:{:02} - {who}: message {i}\n", i % 60);
        let ios = |day: u64, i: u64, who: &str| format!("[{day:02}/03/2021, 10:{:02}:05] {who}: message {i}\n", i % 60);
        let cases: Vec<(&str, String)> = vec![
            // One layout, a run of headers and one date across the cut, and the only date
            // ruling out month-day-year after it (its line number must be the file's).
            (
                "run",
                chat_around_the_middle(
                    |i| android(1 + i / 5000, i, "Ana"),
                    &android(3, 0, "Shop"),
                    |i| {
                        android(
                            if i == 9000 { 19 } else { 3 },
                            i,
                            if i % 2 == 0 { "Shop" } else { "Ana" },
                        )
                    },
                ),
            ),
            // Two exports concatenated, the second layout starting near the cut, multi-line
            // messages crossing it, odd header lines, an author who first only posts events.
            (
                "switch",
                chat_around_the_middle(
                    |i| {
                        let who = if i < 3 { "Bo" } else { "Ana" };
                        let body = if i < 3 {
                            "Bo joined using this group's invite link".to_string()
                        } else {
                            format!("message {i}")
                        };
                        let more = if i % 100 == 0 { "\nsecond line\n" } else { "" };
                        format!(
                            "{:02}/03/2021, 10:{:02} - {who}: {body}{more}\n",
                            13 + i / 3000 % 10,
                            i % 60
                        )
                    },
                    "a line that\nis cut\n",
                    |i| {
                        let line = ios(13 + i / 3000 % 10, i, if i == 10 { "Bo" } else { "Shop" });
                        if i % 10_000 == 7 {
                            format!("2021-03-04 10:00 - Odd: one\n{line}")
                        } else {
                            line
                        }
                    },
                ),
            ),
            // A second layout only in a run of four lines across the cut (two on each side):
            // kept as a layout only if the run is counted whole.
            (
                "crossing",
                chat_around_the_middle(
                    |i| android(13, i, "Ana"),
                    &ios(14, 0, "Shop"),
                    |i| {
                        if i < 3 {
                            ios(14, i, "Shop")
                        } else {
                            android(15, i, "Ana")
                        }
                    },
                ),
            ),
            // The cut lands inside an undecidable run: every date fits both orders.
            (
                "undecided",
                chat_around_the_middle(|i| android(1, i, "Ana"), "", |i| android(2, i, "Ana")),
            ),
        ];
        for (name, text) in cases {
            let path = dir.path().join(format!("WhatsApp Chat with {name}.txt"));
            std::fs::write(&path, &text).unwrap();
            let opts = WhatsAppOptions::default();
            let halves = scan_in_halves(&path, text.len() as u64, name).unwrap().expect(name);
            let halves = finish_scan(ChatInput::open(&path).unwrap(), &opts, halves, String::new());
            let one_pass = scan_lines(ChatInput::open(&path).unwrap(), &opts, false);
            let summary = |scan: &Result<ChatScan, ImportError>| match scan {
                Ok(s) => {
                    let mut authors: Vec<_> = s.authors.iter().collect();
                    authors.sort();
                    let decided = (&s.accepted, &s.undecided, s.headers, &s.notes, s.size);
                    format!("{decided:?} {authors:?}")
                }
                Err(e) => e.to_string(),
            };
            assert_eq!(summary(&halves), summary(&one_pass), "{name}");
            let scanned = scan(ChatInput::open(&path).unwrap(), &opts);
            assert_eq!(scanned.is_ok(), one_pass.is_ok(), "{name}");
        }
    }
}
