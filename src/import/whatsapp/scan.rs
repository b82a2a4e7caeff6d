//! Pass 1 over a chat: the header layout by vote, the date order from all its dates, the
//! authors, the content hash — everything pass 2 needs decided before it writes a record.

use super::dates::{DateEvidence, DateOrder, Decision};
use super::header::{self, Shape};
use super::{classify, ChatInput, WhatsAppOptions, SMALL_CHAT};
use crate::import::encoding::TextEncoding;
use crate::import::lines::{Line, LineReader};
use crate::import::{check_interrupt, pipeline, ImportError};
use crate::normalize::text;
use polars::prelude::PlHashMap;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::ops::Range;
use std::path::Path;

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
    pub(super) accepted: Vec<(Shape, Decision)>,
    /// Layouts whose date order could not be decided, with the reason.
    pub(super) undecided: Vec<(Shape, String)>,
    /// Authors (cleaned) with at least one non-system line, with their header-line counts.
    pub authors: HashMap<String, u64>,
    pub headers: u64,
    pub notes: Vec<String>,
}

const MAX_SHAPES: usize = 32;
const MAX_AUTHORS: usize = 10_000;
const RECENT_AUTHORS: usize = 2;

/// First author candidate of a header line's body: text before the first `": "`.
pub(super) fn author_candidate(body: &str) -> Option<&str> {
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// Scans of chats written under `dir`, one per (file name, lines).
    pub(in crate::import::whatsapp) fn scans_of(dir: &Path, chats: &[(&str, &str)]) -> Vec<ChatScan> {
        chats
            .iter()
            .map(|(name, text)| {
                let path = dir.join(name);
                std::fs::write(&path, text).unwrap();
                scan(ChatInput::open(&path).unwrap(), &WhatsAppOptions::default()).unwrap()
            })
            .collect()
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
