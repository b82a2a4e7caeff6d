//! Contacts: CRM CSV exports and vCards, identity anchors for the matcher (issue #4).
//!
//! A contact carries no interaction: each row or card becomes one record of channel
//! `contact` (direction `system`, kind `contact`, `ts` = the file's modification time) whose
//! handle and mentions tie a name to phone numbers and email addresses.

pub mod csv;
pub mod header;
pub mod vcard;

use self::header::ColumnMap;
use super::detect::HEAD_BYTES;
use super::pipeline::{
    already_imported, dedup_key, existing_keys, hash_file, hex_into, id_hasher, interaction_id_into, stage_source,
    Progress, Sink, SourcePlan, SourceResult,
};
use super::{check_interrupt, expand_paths, CommonOptions, ImportError, ImportReport, SourceOutcome, SourceOutcomes};
use crate::import::encoding::TextEncoding;
use crate::model::{Channel, Direction, HandleKind, Kind};
use crate::normalize::phone::{to_e164, Region};
use crate::normalize::text::clean_name;
use crate::workspace::{InteractionRow, Reject};
use polars::prelude::{PlHashMap, PlHashSet};
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Options of `import contacts`.
#[derive(Debug, Clone, Default)]
pub struct ContactOptions {
    /// `--contacts-map`: CSV columns named by the user instead of detected.
    pub map: Option<ColumnMap>,
}

/// True when the start of a file looks like a contacts export: a vCard, or a CSV whose
/// header names a name, email or phone column and nothing of a call log.
pub fn sniff(head: &[u8]) -> bool {
    let encoding = TextEncoding::detect(head);
    let text = encoding.decode_head(&head[..head.len().min(16 * 1024)]);
    let first = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    if first.eq_ignore_ascii_case("BEGIN:VCARD") {
        return true;
    }
    if head.contains(&0) && matches!(encoding, TextEncoding::Utf8 | TextEncoding::Utf8Bom) {
        return false;
    }
    match csv::inspect(&text, None) {
        Ok(layout) => layout.header.len() >= 2 && !header::is_call_log_header(&layout.header),
        Err(_) => false,
    }
}

/// The two file families this importer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactFormat {
    Csv,
    VCard,
}

impl ContactFormat {
    pub fn name(self) -> &'static str {
        match self {
            ContactFormat::Csv => "contacts-csv",
            ContactFormat::VCard => "vcard",
        }
    }
}

/// One contacts file, inspected and ready to import.
struct ContactFile {
    path: PathBuf,
    display: String,
    size: u64,
    content_hash: String,
    mtime_ms: i64,
    encoding: TextEncoding,
    format: ContactFormat,
    csv: Option<csv::CsvLayout>,
}

impl ContactFile {
    fn open(path: &Path, opts: &ContactOptions) -> Result<ContactFile, ImportError> {
        let display = path.display().to_string();
        let fail = |m: String| ImportError::file(&display, m);
        // Hashed first: it also refuses a pipe before anything opens it.
        let (content_hash, _) = hash_file(path).map_err(|e| match check_interrupt() {
            Err(stop) => stop,
            Ok(()) => fail(format!("read error: {e}")),
        })?;
        let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot read: {e}")))?;
        let mut file = std::fs::File::open(path).map_err(|e| fail(format!("cannot open: {e}")))?;
        let mut head = Vec::with_capacity(HEAD_BYTES);
        (&mut file)
            .take(HEAD_BYTES as u64)
            .read_to_end(&mut head)
            .map_err(|e| fail(format!("read error: {e}")))?;
        let mtime_ms = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let encoding = TextEncoding::detect(&head);
        let text = encoding.decode_head(&head);
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        let first = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
        let is_vcard = matches!(ext.as_deref(), Some("vcf" | "vcard")) || first.eq_ignore_ascii_case("BEGIN:VCARD");
        let (format, csv) = if is_vcard {
            if !text.trim().is_empty() && !first.eq_ignore_ascii_case("BEGIN:VCARD") {
                return Err(fail(format!(
                    "not a vCard file: expected BEGIN:VCARD on the first line, found {:?}",
                    first.chars().take(60).collect::<String>()
                )));
            }
            (ContactFormat::VCard, None)
        } else if text.trim().is_empty() {
            (ContactFormat::Csv, None)
        } else {
            if head.contains(&0) && matches!(encoding, TextEncoding::Utf8 | TextEncoding::Utf8Bom) {
                return Err(fail(
                    "binary data: expected a contacts CSV or a vCard (.vcf) file".into(),
                ));
            }
            let layout = csv::inspect(&text, opts.map.as_ref()).map_err(fail)?;
            if opts.map.is_none() && header::is_call_log_header(&layout.header) {
                return Err(fail(
                    "this looks like a call log (duration/caller/disposition columns), not contacts: use `omnitrail import calls`".into(),
                ));
            }
            (ContactFormat::Csv, Some(layout))
        };
        Ok(ContactFile {
            path: path.to_path_buf(),
            display,
            size: meta.len(),
            content_hash,
            mtime_ms,
            encoding,
            format,
            csv,
        })
    }

    fn file_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.display.clone())
    }

    fn text(&self) -> Result<Box<dyn std::io::BufRead + Send>, ImportError> {
        let f = std::fs::File::open(&self.path)
            .map_err(|e| ImportError::file(&self.display, format!("cannot open: {e}")))?;
        self.encoding
            .reader(f)
            .map_err(|e| ImportError::file(&self.display, format!("read error: {e}")))
    }
}

/// `omnitrail import contacts PATH…`: CSV exports and vCard files, one transaction.
pub fn import_contacts(
    ws: &mut crate::workspace::Workspace,
    paths: &[PathBuf],
    opts: &ContactOptions,
    common: &CommonOptions,
    progress: &dyn Progress,
) -> Result<ImportReport, ImportError> {
    crate::normalize::phone::load_metadata_in_background();
    let mut outcomes = SourceOutcomes::spilling_to(ws.root().join(".tmp"));
    let mut files: Vec<ContactFile> = Vec::new();
    let mut hashes_this_run: HashSet<String> = HashSet::new();
    for found in expand_paths(paths) {
        let Some((path, explicit)) = outcomes.file_of(found)? else {
            continue;
        };
        check_interrupt()?;
        let display = path.display().to_string();
        if !path.exists() {
            outcomes.push(SourceOutcome::failed(
                &display,
                format!("{display}: no such file or folder"),
            ))?;
            continue;
        }
        if !explicit {
            let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
            let contacts = super::detect::Format::Contacts;
            let detected = super::detect::detect_export(&path);
            let wanted =
                matches!(ext.as_deref(), Some("csv" | "vcf" | "vcard" | "txt" | "tsv")) && detected == Some(contacts);
            if !wanted {
                outcomes.push(SourceOutcome::skipped(
                    &display,
                    super::detect::skip_reason(detected, contacts),
                ))?;
                continue;
            }
        }
        match ContactFile::open(&path, opts) {
            Ok(file) => match already_imported(ws, &file.content_hash, &file.display, &mut hashes_this_run)? {
                Some(o) => outcomes.push(o)?,
                None => files.push(file),
            },
            Err(ImportError::Interrupted) => return Err(ImportError::Interrupted),
            Err(e) => outcomes.push(SourceOutcome::failed(&display, e.to_string()))?,
        }
    }
    let mut notes = Vec::new();
    if common.region.0.is_none() {
        notes.push("no --region: phone numbers without a +country prefix cannot be normalised and are left out".into());
    }
    let mut seen = existing_keys(ws, Channel::Contact.as_str(), None).map_err(ImportError::Other)?;
    progress.start(files.iter().map(|f| f.size).sum());
    let mut txn = ws.begin();
    let mut phones = PhoneCache::new(common.region);
    let total = files.len();
    for (i, file) in files.iter().enumerate() {
        let mut plan_notes = Vec::new();
        if let Some(n) = file.encoding.note() {
            plan_notes.push(n.to_string());
        }
        if let Some(layout) = &file.csv {
            plan_notes.push(layout.describe());
        }
        let options = serde_json::json!({
            "region": common.region_code,
            "encoding": format!("{:?}", file.encoding),
            "contacts_map": opts.map.as_ref().map(|m| m.0.iter().map(|(r, c)| format!("{r}={c}")).collect::<Vec<_>>()),
            "mtime": super::ms_to_rfc3339(file.mtime_ms),
        });
        let plan = SourcePlan {
            id_prefix: "ct",
            display: file.display.clone(),
            size: file.size,
            content_hash: file.content_hash.clone(),
            format: file.format.name().into(),
            channel: Channel::Contact.as_str().into(),
            options,
            notes: plan_notes,
        };
        let outcome = stage_source(&mut txn, &mut seen, i + 1 < total, plan, progress, |sink| {
            let mut builder = ContactBuilder::new(file, &mut phones);
            match (file.format, &file.csv) {
                (ContactFormat::Csv, Some(layout)) => {
                    csv::import(file.text()?, layout, &file.display, &mut builder, sink)?
                }
                (ContactFormat::Csv, None) => {}
                (ContactFormat::VCard, _) => vcard::import(file.text()?, &file.display, &mut builder, sink)?,
            }
            (sink.progress)(file.size);
            Ok(builder.finish())
        })?;
        outcomes.push(outcome)?;
    }
    progress.finish();
    check_interrupt()?;
    if txn.staged_sources() > 0 {
        txn.commit()?;
    }
    Ok(ImportReport {
        sources: outcomes,
        notes,
    })
}

/// A contact as read from a row or card, before normalisation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawContact {
    pub name: Option<String>,
    pub phones: Vec<String>,
    /// WhatsApp ids (`waid=447700900123` on shared cards): the number without `+`.
    pub whatsapp_ids: Vec<String>,
    pub emails: Vec<String>,
    pub company: Option<String>,
    pub id: Option<String>,
}

/// Where a record sits in its file.
pub struct RecordPlace<'a> {
    /// `line:N` or `card:N`.
    pub source_ref: String,
    pub line: u64,
    pub byte_offset: Option<u64>,
    pub raw: &'a str,
}

/// What a phone value turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneValue {
    E164(String),
    /// `4.47700900123E+11`: a spreadsheet turned the number into a float.
    Scientific,
    /// Digits only and a `0` in front makes it a valid national number: a spreadsheet dropped it.
    LeadingZeroLost,
    /// A national number, and no `--region` to read it with.
    NeedsRegion,
    Invalid,
}

/// Phone normalisation, memoised: CRM files repeat numbers (switchboards, shared lines)
/// and libphonenumber parsing dominates the cost of a row. Bounded so memory stays flat.
pub struct PhoneCache {
    region: Region,
    // polars' fast hash map (as the WhatsApp importer): SipHash was a visible share of a row.
    memo: PlHashMap<String, PhoneValue>,
}

const PHONE_CACHE_ENTRIES: usize = 1 << 16;

impl PhoneCache {
    pub fn new(region: Region) -> PhoneCache {
        PhoneCache {
            region,
            memo: PlHashMap::default(),
        }
    }

    pub fn region(&self) -> Region {
        self.region
    }

    pub fn normalise(&mut self, raw: &str) -> PhoneValue {
        if let Some(v) = self.memo.get(raw) {
            return v.clone();
        }
        let v = classify_phone(raw, self.region);
        if self.memo.len() >= PHONE_CACHE_ENTRIES {
            self.memo.clear();
        }
        self.memo.insert(raw.to_string(), v.clone());
        v
    }
}

/// True for `4.47700900123E+11`, `4,47701E+11`, `7.7009E+9`: a number in scientific notation.
fn is_scientific(s: &str) -> bool {
    let s = s.trim();
    let Some(e) = s.find(['e', 'E']) else { return false };
    let (mantissa, exp) = (&s[..e], &s[e + 1..]);
    let exp = exp.strip_prefix('+').unwrap_or(exp);
    let mantissa = mantissa.strip_prefix('+').unwrap_or(mantissa);
    !exp.is_empty()
        && exp.bytes().all(|b| b.is_ascii_digit())
        && !mantissa.is_empty()
        && mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b',')
        && mantissa.bytes().filter(|b| !b.is_ascii_digit()).count() <= 1
        && mantissa.as_bytes()[0].is_ascii_digit()
}

/// Classifies one phone value (see [`PhoneValue`]).
pub fn classify_phone(raw: &str, region: Region) -> PhoneValue {
    let s = raw.trim();
    let s = s.strip_prefix("tel:").unwrap_or(s);
    if is_scientific(s) {
        return PhoneValue::Scientific;
    }
    // Excel writes numbers as `7700900123` or `7700900123.0`.
    let digits = s.strip_suffix(".0").or_else(|| s.strip_suffix(",0")).unwrap_or(s);
    let digits_only = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    if digits_only && !digits.starts_with('0') && (6..=12).contains(&digits.len()) && region.0.is_some() {
        let with_zero = format!("0{digits}");
        if to_e164(&with_zero, region).is_some() {
            return PhoneValue::LeadingZeroLost;
        }
    }
    match to_e164(digits, region) {
        Some(e) => PhoneValue::E164(e),
        None if region.0.is_none() && !s.starts_with('+') && !s.starts_with("00") => {
            if s.bytes().filter(u8::is_ascii_digit).count() >= 6 {
                PhoneValue::NeedsRegion
            } else {
                PhoneValue::Invalid
            }
        }
        None => PhoneValue::Invalid,
    }
}

/// A lower-cased email address, or `None` when the text is not one.
pub fn clean_email(raw: &str) -> Option<String> {
    let s = raw
        .trim()
        .trim_matches(|c: char| matches!(c, '<' | '>' | '"' | '\'' | '(' | ')' | ',' | ';'));
    let s = s
        .strip_prefix("mailto:")
        .or_else(|| s.strip_prefix("MAILTO:"))
        .unwrap_or(s);
    let (local, domain) = s.rsplit_once('@')?;
    let ok = !local.is_empty()
        && !local.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'));
    ok.then(|| s.to_lowercase())
}

/// Counts of values left out of otherwise imported records, with the first lines.
#[derive(Debug, Default)]
struct DroppedValues {
    count: u64,
    lines: Vec<u64>,
}

impl DroppedValues {
    fn add(&mut self, line: u64) {
        self.count += 1;
        if self.lines.len() < 5 && self.lines.last() != Some(&line) {
            self.lines.push(line);
        }
    }

    /// Adds another count's lines (its first five kept as examples, as `add` keeps).
    fn absorb(&mut self, other: DroppedValues) {
        let count = self.count + other.count;
        for line in other.lines {
            self.add(line);
        }
        self.count = count;
    }

    fn note(&self, what: &str) -> Option<String> {
        (self.count > 0).then(|| {
            let lines: Vec<String> = self.lines.iter().map(u64::to_string).collect();
            format!(
                "{} {what} (line {}{})",
                self.count,
                lines.join(", "),
                if self.count > self.lines.len() as u64 {
                    ", …"
                } else {
                    ""
                }
            )
        })
    }
}

/// What every record of one file shares; all that [`FileContext::prepare`] needs, so rows
/// can be prepared on several threads while [`ContactBuilder::commit`] keeps their order.
#[derive(Debug, Clone)]
pub struct FileContext {
    /// The file's [`id_hasher`]: every record's id continues it with the record's position.
    ids: blake3::Hasher,
    display: String,
    thread_key: String,
    ts: i64,
    source_id: String,
    /// A vCard file: the address book of a phone, not a CRM.
    phone_book: bool,
}

/// A value left out of a record, for the source notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dropped {
    Scientific,
    LeadingZero,
    NeedsRegion,
    BadPhone,
    BadEmail,
}

/// One row or card, normalised: what [`ContactBuilder::commit`] stores, rejects or counts.
#[derive(Debug)]
pub struct Prepared {
    line: u64,
    /// The record's position among the file's records (rejected ones included).
    seq: u64,
    /// Values left out, in the order met.
    dropped: Vec<Dropped>,
    outcome: Outcome,
}

#[derive(Debug)]
enum Outcome {
    /// Not a record: an empty row.
    Ignored,
    Rejected {
        byte_offset: Option<u64>,
        reason: String,
        raw: String,
    },
    Record {
        key: u128,
        record: ContactRecord,
    },
}

/// What differs from one contact record to the next; the file's context supplies the
/// rest when the record is stored (no per-row copy of the file name, source or thread).
#[derive(Debug)]
struct ContactRecord {
    /// `interaction_id`, as hex digits (hashed on the worker that prepared the row).
    id: [u8; 32],
    source_ref: String,
    handle: String,
    kind: HandleKind,
    name: Option<String>,
    mentions: Vec<String>,
}

impl Prepared {
    /// A line that belongs to no record.
    pub fn ignored(line: u64) -> Prepared {
        Prepared {
            line,
            seq: 0,
            dropped: Vec::new(),
            outcome: Outcome::Ignored,
        }
    }

    /// A record that could not be read at all.
    pub fn rejected(place: &RecordPlace<'_>, seq: u64, reason: String) -> Prepared {
        Prepared {
            line: place.line,
            seq,
            dropped: Vec::new(),
            outcome: Outcome::Rejected {
                byte_offset: place.byte_offset,
                reason,
                raw: place.raw.to_string(),
            },
        }
    }
}

/// `prefix` followed by `value`, in one allocation.
fn prefixed(prefix: &str, value: &str) -> String {
    let mut s = String::with_capacity(prefix.len() + value.len());
    s.push_str(prefix);
    s.push_str(value);
    s
}

/// The values sorted and joined with line breaks (the dedup key's form).
fn sorted_lines(values: &[String]) -> std::borrow::Cow<'_, str> {
    match values {
        // Most contacts have one phone and one email: nothing to sort or join.
        [] => "".into(),
        [one] => one.as_str().into(),
        _ => {
            let mut v: Vec<&str> = values.iter().map(String::as_str).collect();
            v.sort_unstable();
            v.join("\n").into()
        }
    }
}

impl FileContext {
    /// Normalises one contact into a record, or a reject. `seq` is the record's position
    /// among the file's records; `phones` may be any cache for the same region.
    pub fn prepare(&self, phones: &mut PhoneCache, place: RecordPlace<'_>, seq: u64, raw: RawContact) -> Prepared {
        let line = place.line;
        let mut dropped = Vec::new();
        let name = raw.name.as_deref().map(clean_name).filter(|n| !n.is_empty());
        let mut e164s: Vec<String> = Vec::with_capacity(raw.phones.len());
        let mut why_no_phone: Option<&str> = None;
        for p in &raw.phones {
            match phones.normalise(p) {
                PhoneValue::E164(e) => {
                    if !e164s.contains(&e) {
                        e164s.push(e);
                    }
                }
                PhoneValue::Scientific => {
                    dropped.push(Dropped::Scientific);
                    why_no_phone = Some("its phone is in scientific notation (a spreadsheet turned it into a number and may have lost digits)");
                }
                PhoneValue::LeadingZeroLost => {
                    dropped.push(Dropped::LeadingZero);
                    why_no_phone = Some("its phone lost its leading 0 (a spreadsheet turned it into a number)");
                }
                PhoneValue::NeedsRegion => {
                    dropped.push(Dropped::NeedsRegion);
                    why_no_phone = Some("its phone is a national number and no --region was given");
                }
                PhoneValue::Invalid => {
                    dropped.push(Dropped::BadPhone);
                    why_no_phone = Some("its phone is not a valid number");
                }
            }
        }
        for w in &raw.whatsapp_ids {
            if let PhoneValue::E164(e) = phones.normalise(&prefixed("+", w.trim_start_matches('+'))) {
                if !e164s.contains(&e) {
                    e164s.push(e);
                }
            }
        }
        let phones = e164s;
        let mut emails: Vec<String> = Vec::with_capacity(raw.emails.len());
        for e in &raw.emails {
            match clean_email(e) {
                Some(e) if !emails.contains(&e) => emails.push(e),
                Some(_) => {}
                None => dropped.push(Dropped::BadEmail),
            }
        }
        let (handle, kind) = match (phones.first(), emails.first(), &name) {
            (Some(p), _, _) => (p.clone(), HandleKind::Phone),
            (None, Some(e), _) => (e.clone(), HandleKind::Email),
            (None, None, Some(n)) => (n.clone(), HandleKind::Name),
            (None, None, None) => {
                let reason = match why_no_phone {
                    Some(why) => format!("no name or email, and {why}"),
                    None => "no name, phone or email".to_string(),
                };
                let mut prepared = Prepared::rejected(&place, seq, reason);
                prepared.dropped = dropped;
                return prepared;
            }
        };
        let company = raw.company.as_deref().map(clean_name).filter(|c| !c.is_empty());
        let extid = raw.id.as_deref().map(str::trim).filter(|c| !c.is_empty());
        let key = {
            let lower = name.as_deref().map(str::to_lowercase).unwrap_or_default();
            // A phone-book card repeating a CRM row is still its own record: it also says
            // that the business phone saved this name, which is what WhatsApp shows.
            dedup_key(&[
                if self.phone_book { b"contact-card" } else { b"contact" },
                lower.as_bytes(),
                sorted_lines(&phones).as_bytes(),
                sorted_lines(&emails).as_bytes(),
            ])
        };
        let mut mentions: Vec<String> = Vec::with_capacity(phones.len() + emails.len() + 2);
        mentions.extend(phones.iter().map(|p| prefixed("phone:", p)));
        mentions.extend(emails.iter().map(|e| prefixed("email:", e)));
        if let Some(id) = extid {
            mentions.push(prefixed("extid:", id));
        }
        if let Some(c) = &company {
            mentions.push(prefixed("company:", c));
        }
        let mut record = ContactRecord {
            id: [0; 32],
            source_ref: place.source_ref,
            handle,
            kind,
            name,
            mentions,
        };
        interaction_id_into(self.ids.clone(), seq, &mut record.id);
        Prepared {
            line,
            seq,
            dropped,
            outcome: Outcome::Record { key, record },
        }
    }
}

/// Turns raw contacts of one file into records: normalises, dedups, counts.
pub struct ContactBuilder<'a> {
    context: FileContext,
    phones: &'a mut PhoneCache,
    /// Dedup keys seen earlier in this file.
    in_file: PlHashSet<u128>,
    seq: u64,
    result: SourceResult,
    scientific: DroppedValues,
    leading_zero: DroppedValues,
    needs_region: DroppedValues,
    bad_phone: DroppedValues,
    bad_email: DroppedValues,
    /// Lines that were not part of any record (vCard text outside cards, empty CSV rows).
    ignored_lines: DroppedValues,
    /// vCard properties over `lines::MAX_LINE` unfolded (inlined photos) left out.
    long_properties: DroppedValues,
}

impl<'a> ContactBuilder<'a> {
    fn new(file: &ContactFile, phones: &'a mut PhoneCache) -> ContactBuilder<'a> {
        ContactBuilder::for_file(
            &file.content_hash,
            &file.display,
            &file.file_name(),
            file.mtime_ms,
            file.format == ContactFormat::VCard,
            phones,
        )
    }

    /// A builder for one file (its content hash, display path, base name, mtime and whether
    /// it is a phone book of vCards).
    pub fn for_file(
        content_hash: &str,
        display: &str,
        file_name: &str,
        ts: i64,
        phone_book: bool,
        phones: &'a mut PhoneCache,
    ) -> Self {
        ContactBuilder {
            context: FileContext {
                ids: id_hasher(content_hash),
                display: display.to_string(),
                thread_key: format!("contacts:{file_name}"),
                ts,
                source_id: String::new(),
                phone_book,
            },
            phones,
            in_file: PlHashSet::default(),
            seq: 0,
            result: SourceResult::default(),
            scientific: DroppedValues::default(),
            leading_zero: DroppedValues::default(),
            needs_region: DroppedValues::default(),
            bad_phone: DroppedValues::default(),
            bad_email: DroppedValues::default(),
            ignored_lines: DroppedValues::default(),
            long_properties: DroppedValues::default(),
        }
    }

    /// What preparing this file's rows needs, for the sink's source.
    pub fn context(&mut self, sink: &Sink<'_>) -> &FileContext {
        if self.context.source_id.is_empty() {
            self.context.source_id = sink.source_id.to_string();
        }
        &self.context
    }

    /// The region phone values are read in.
    pub fn region(&self) -> Region {
        self.phones.region()
    }

    /// The number of records committed so far.
    pub fn records(&self) -> u64 {
        self.seq
    }

    /// Notes a line that belongs to no record.
    pub fn ignore_line(&mut self, line: u64) {
        self.ignored_lines.add(line);
    }

    /// Notes lines that belong to no record, counted elsewhere.
    fn ignore_lines(&mut self, lines: DroppedValues) {
        self.ignored_lines.absorb(lines);
    }

    /// Notes a vCard property left out for its length (the card is kept).
    fn leave_out_long_property(&mut self, line: u64) {
        self.long_properties.add(line);
    }

    /// Rejects a record that could not be read at all.
    pub fn reject(&mut self, sink: &mut Sink<'_>, place: &RecordPlace<'_>, reason: &str) -> Result<(), ImportError> {
        let prepared = Prepared::rejected(place, self.seq + 1, reason.to_string());
        self.commit(sink, prepared)
    }

    /// Normalises one contact and stores it, or rejects it, or counts it as a duplicate.
    pub fn add(&mut self, sink: &mut Sink<'_>, place: RecordPlace<'_>, raw: RawContact) -> Result<(), ImportError> {
        self.context(sink);
        let prepared = self.context.prepare(self.phones, place, self.seq + 1, raw);
        self.commit(sink, prepared)
    }

    /// Stores a prepared row or card, or rejects it, or counts it as a duplicate. Rows
    /// must come in file order.
    pub fn commit(&mut self, sink: &mut Sink<'_>, prepared: Prepared) -> Result<(), ImportError> {
        let line = prepared.line;
        for d in &prepared.dropped {
            match d {
                Dropped::Scientific => self.scientific.add(line),
                Dropped::LeadingZero => self.leading_zero.add(line),
                Dropped::NeedsRegion => self.needs_region.add(line),
                Dropped::BadPhone => self.bad_phone.add(line),
                Dropped::BadEmail => self.bad_email.add(line),
            }
        }
        match prepared.outcome {
            Outcome::Ignored => {
                self.ignore_line(line);
                Ok(())
            }
            Outcome::Rejected {
                byte_offset,
                reason,
                raw,
            } => {
                self.result.counts.read += 1;
                self.seq += 1;
                debug_assert_eq!(self.seq, prepared.seq);
                sink.reject(
                    &mut self.result,
                    &Reject {
                        file: &self.context.display,
                        line: Some(line),
                        byte_offset,
                        reason: &reason,
                        raw: &raw,
                    },
                )
            }
            Outcome::Record { key, record } => {
                self.result.counts.read += 1;
                self.seq += 1;
                debug_assert_eq!(self.seq, prepared.seq);
                if !self.in_file.insert(key) || sink.is_duplicate(key) {
                    self.result.counts.duplicates += 1;
                    return Ok(());
                }
                let mut key_hex = [0u8; 32];
                let c = &self.context;
                let row = InteractionRow {
                    interaction_id: std::str::from_utf8(&record.id).expect("hex digits are ASCII"),
                    source_id: &c.source_id,
                    source_file: &c.display,
                    source_ref: &record.source_ref,
                    channel: Channel::Contact,
                    direction: Direction::System,
                    ts: c.ts,
                    ts_raw: "",
                    thread_key: &c.thread_key,
                    customer_handle: Some(&record.handle),
                    customer_handle_kind: Some(record.kind),
                    customer_name: record.name.as_deref(),
                    agent: None,
                    text: None,
                    body_full: None,
                    subject: None,
                    attachments: &[],
                    duration_s: None,
                    status: None,
                    mentions: &record.mentions,
                    kind: Kind::Contact,
                    seq: prepared.seq,
                    author_raw: None,
                    thread_title: None,
                    edited: false,
                    dedup_key: hex_into(&key.to_be_bytes(), &mut key_hex),
                };
                sink.push_row(&mut self.result, &row)
            }
        }
    }

    /// The source's counts and notes.
    pub fn finish(mut self) -> SourceResult {
        let notes = [
            self.scientific.note("phone value(s) in scientific notation (e.g. 4.47700900123E+11: a spreadsheet turned them into numbers and may have lost digits) left out; re-export the file with the phone column as text"),
            self.leading_zero.note("phone value(s) that lost their leading 0 (a spreadsheet turned them into numbers) left out; re-export the file with the phone column as text"),
            self.needs_region.note("national phone number(s) left out: pass --region to read them"),
            self.bad_phone.note("phone value(s) that are not valid numbers left out"),
            self.bad_email.note("email value(s) that are not addresses left out"),
            self.ignored_lines.note("line(s) outside any record ignored (empty rows or text between cards)"),
            self.long_properties.note("vCard propert(y/ies) over 1 MiB left out, unread (a photo or a file inlined in the card)"),
        ];
        self.result.notes.extend(notes.into_iter().flatten());
        self.result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreadsheet_mangled_phones_are_recognised_not_imported() {
        let gb = Region::parse("GB").unwrap();
        assert_eq!(classify_phone("4.47700900123E+11", gb), PhoneValue::Scientific);
        assert_eq!(classify_phone("4,47701E+11", gb), PhoneValue::Scientific);
        assert_eq!(classify_phone("7700900123", gb), PhoneValue::LeadingZeroLost);
        assert_eq!(classify_phone("7700900123.0", gb), PhoneValue::LeadingZeroLost);
        assert_eq!(
            classify_phone("07700900123", gb),
            PhoneValue::E164("+447700900123".into())
        );
        assert_eq!(
            classify_phone("447700900123", gb),
            PhoneValue::E164("+447700900123".into())
        );
        assert_eq!(
            classify_phone("+44 7700 900123", gb),
            PhoneValue::E164("+447700900123".into())
        );
        assert_eq!(
            classify_phone("tel:+44-7700-900123", gb),
            PhoneValue::E164("+447700900123".into())
        );
        assert_eq!(classify_phone("07700 900123", Region::none()), PhoneValue::NeedsRegion);
        assert_eq!(classify_phone("n/a", gb), PhoneValue::Invalid);
        let us = Region::parse("US").unwrap();
        assert_eq!(
            classify_phone("2125551234", us),
            PhoneValue::E164("+12125551234".into())
        );
    }

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            clean_email(" Sarah.Jones@Mail.Example ").as_deref(),
            Some("sarah.jones@mail.example")
        );
        assert_eq!(clean_email("<a@b.example>").as_deref(), Some("a@b.example"));
        assert_eq!(clean_email("mailto:a@b.example").as_deref(), Some("a@b.example"));
        assert_eq!(clean_email("not an address"), None);
        assert_eq!(clean_email("a@localhost"), None);
    }

    #[test]
    fn sniff_claims_vcards_and_contact_csvs_but_not_call_logs_or_mail() {
        assert!(sniff(b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann\r\nEND:VCARD\r\n"));
        assert!(sniff(
            b"\xEF\xBB\xBFFirst Name,Last Name,E-mail Address,Mobile Phone\nAnn,Lee,a@b.example,07700900123\n"
        ));
        assert!(sniff(
            "Vorname;Nachname;E-Mail-Adresse\nJörg;Ma;j@m.example\n".as_bytes()
        ));
        assert!(!sniff(b"Date,Name,Phone Number,Duration\n2026-01-01,Ann,0770,12\n"));
        assert!(!sniff(b"Call Sid,From,To,Status,Start Time,Duration\n"));
        assert!(!sniff(
            b"From ann@b.example Mon Jan  1 00:00:00 2026\nFrom: Ann <ann@b.example>\n"
        ));
        assert!(!sniff(b"12/03/2026, 09:14 - Sarah Jones: Hi, name, email\n"));
        assert!(!sniff(b"\"\",\"07700900246\",\"02079460100\",\"from-pstn\"\n"));
    }
}
