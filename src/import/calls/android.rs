//! Android call-log XML: SMS Backup & Restore (`<calls><call number= duration= date=
//! type= contact_name= …/>`) and SuperBackup (`<alllogs><log number= dur= date= type=
//! name= …/>`), read as a stream. The phone is the business's, so every call is between
//! the business and `number`; `type` says which way it went.

use super::leg::{Hint, Leg, LegOutcome};
use super::{RowEvent, RowReject};
use crate::import::lines::{MAX_LINE, MAX_RECORD};
use crate::model::Direction;
use quick_xml::events::Event;
use quick_xml::Reader;
use std::io::{BufRead, Read};

/// True when the head of a file is an Android call-log backup (not an SMS backup).
pub fn sniff(text: &str) -> bool {
    let t = text.trim_start_matches('\u{feff}').trim_start();
    (t.starts_with("<?xml") || t.starts_with('<')) && (t.contains("<calls") || t.contains("<alllogs"))
}

/// What `type` means (Android `CallLog.Calls`): direction and outcome.
fn call_type(code: &str, duration: i64) -> Option<(Direction, LegOutcome)> {
    Some(match code.trim() {
        "1" => (Direction::Inbound, LegOutcome::Person),
        "2" if duration > 0 => (Direction::Outbound, LegOutcome::Person),
        "2" => (Direction::Outbound, LegOutcome::NoAnswer),
        "3" => (Direction::Inbound, LegOutcome::NoAnswer),
        "4" => (Direction::Inbound, LegOutcome::Voicemail),
        // rejected by the phone's user, or a number on the block list: the caller did not get through
        "5" | "6" => (Direction::Inbound, LegOutcome::NoAnswer),
        // answered on another device
        "7" => (Direction::Inbound, LegOutcome::Person),
        _ => return None,
    })
}

/// Streams the `<call>`/`<log>` elements of a backup; `f` gets each one in order, as a leg
/// or a reject (the element's index as its line). A malformed or truncated document ends
/// with one reject naming the byte offset. Returns false when the document has no
/// `<calls>` or `<alllogs>` element at all (not a call-log backup, or not decoded).
pub fn read<R: BufRead>(
    input: R,
    mut f: impl FnMut(RowEvent) -> Result<(), crate::import::ImportError>,
) -> Result<bool, crate::import::ImportError> {
    let mut reader = Reader::from_reader(ElementLimit {
        inner: input,
        since_close: 0,
    });
    let mut buf = Vec::new();
    let mut index = 0u64;
    let mut saw_root = false;
    loop {
        let offset = reader.buffer_position();
        let ev = match reader.read_event_into(&mut buf) {
            Ok(ev) => ev,
            Err(e) => {
                f(RowEvent::Reject(RowReject {
                    line: Some(index + 1),
                    offset: reader.error_position(),
                    reason: format!("XML is malformed or cut off here ({e}): the rest of the file cannot be read"),
                    raw: String::new(),
                }))?;
                return Ok(true);
            }
        };
        match ev {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.name();
                let name = name.as_ref();
                if name == b"calls" || name == b"alllogs" {
                    saw_root = true;
                }
                if saw_root && (name == b"call" || name == b"log") {
                    index += 1;
                    let raw = String::from_utf8_lossy(&e).into_owned();
                    let mut attrs: Vec<(String, String)> = Vec::new();
                    let mut bad = None;
                    for a in e.attributes() {
                        match a {
                            Ok(a) if a.value.len() > MAX_LINE => {
                                bad = Some(format!("a value of {} bytes (over {MAX_LINE})", a.value.len()));
                            }
                            Ok(a) => {
                                let v = a
                                    .unescape_value()
                                    .map(|v| v.into_owned())
                                    .unwrap_or_else(|_| String::from_utf8_lossy(&a.value).into_owned());
                                attrs.push((String::from_utf8_lossy(a.key.as_ref()).into_owned(), v));
                            }
                            Err(err) => bad = Some(err.to_string()),
                        }
                    }
                    let item = match bad {
                        Some(err) => RowEvent::Reject(RowReject {
                            line: Some(index),
                            offset,
                            reason: format!("bad attribute: {err}"),
                            raw,
                        }),
                        None => match element(index, &attrs) {
                            Ok(leg) => RowEvent::Leg(leg),
                            Err(reason) => RowEvent::Reject(RowReject {
                                line: Some(index),
                                offset,
                                reason,
                                raw: format!("<{raw}/>"),
                            }),
                        },
                    };
                    f(item)?;
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(saw_root)
}

/// The input, refused once more than [`MAX_RECORD`] pass without a `>`: quick-xml
/// holds an element whole until its `>`, and a value whose closing quote is missing would
/// make that the rest of the file (the document's rows before it are kept). (A `>` inside
/// a value also counts as one: that only lets a long element through sooner.)
struct ElementLimit<R> {
    inner: R,
    since_close: usize,
}

impl<R: BufRead> Read for ElementLimit<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = {
            let buf = self.fill_buf()?;
            let n = buf.len().min(out.len());
            out[..n].copy_from_slice(&buf[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for ElementLimit<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.since_close > MAX_RECORD {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("an element longer than {MAX_RECORD} bytes: a value whose closing quote is missing?"),
            ));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        // The bytes consumed are still the front of the inner buffer (no read in between).
        if let Ok(buf) = self.inner.fill_buf() {
            let seen = &buf[..n.min(buf.len())];
            self.since_close = match memchr::memrchr(b'>', seen) {
                Some(i) => seen.len() - i - 1,
                None => self.since_close + seen.len(),
            };
        }
        self.inner.consume(n);
    }
}

fn element(index: u64, attrs: &[(String, String)]) -> Result<Leg, String> {
    let get = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let date = get("date").ok_or("no `date` attribute")?;
    let start_ms: i64 = date
        .trim()
        .parse()
        .map_err(|_| format!("`date` {date:?} is not epoch milliseconds"))?;
    let duration_raw = get("duration").or_else(|| get("dur")).unwrap_or("0");
    let duration: i64 = duration_raw
        .trim()
        .parse()
        .map_err(|_| format!("`duration` {duration_raw:?} is not a number of seconds"))?;
    let type_raw = get("type").ok_or("no `type` attribute")?;
    let (direction, outcome) = call_type(type_raw, duration).unwrap_or((Direction::Unknown, LegOutcome::Unknown));
    let mut number = get("number").unwrap_or("").trim().to_string();
    // presentation 2 restricted, 3 unknown, 4 payphone: no usable number whatever `number` says
    if matches!(get("presentation").map(str::trim), Some("2" | "3" | "4")) && number.is_empty() {
        number = "-2".into();
    }
    let name = get("contact_name")
        .or_else(|| get("name"))
        .map(crate::normalize::text::clean_name)
        .filter(|n| !n.is_empty() && n != "(Unknown)" && *n != number);
    let (from, to) = if direction == Direction::Outbound {
        (String::new(), number.clone())
    } else {
        (number.clone(), String::new())
    };
    Ok(Leg {
        line: index,
        group: None,
        own_ref: compact_str::format_compact!("call:{index}"),
        start_ms,
        ts_raw: date.trim().into(),
        from: from.into(),
        name: name.map(Into::into),
        to: to.into(),
        outcome,
        talk_s: Some(if outcome == LegOutcome::Person { duration } else { 0 }),
        callee_endpoint: None,
        caller_endpoint: None,
        caller_is_device: direction == Direction::Outbound,
        hint: Hint {
            direction: Some(direction).filter(|d| *d != Direction::Unknown),
            strong: true,
        },
        child: false,
        dedup_extra: compact_str::format_compact!("{}|{}|{}", number, type_raw.trim(), duration),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn legs(xml: &str) -> (Vec<Leg>, Vec<String>) {
        let mut legs = Vec::new();
        let mut rejects = Vec::new();
        read(xml.as_bytes(), |i| {
            match i {
                RowEvent::Leg(l) => legs.push(l),
                RowEvent::Reject(r) => rejects.push(r.reason),
                RowEvent::Progress(_) => {}
            }
            Ok(())
        })
        .unwrap();
        (legs, rejects)
    }

    #[test]
    fn an_element_past_the_limit_stops_the_document_and_a_long_value_is_a_reject() {
        let call = |n: u32, name: &str| {
            format!(
                r#"<call number="0770090{n:04}" duration="5" date="1773914712000" type="1" contact_name="{name}" />"#
            )
        };
        let long = "x".repeat(MAX_LINE + 10);
        let xml = format!("<calls>{}{}{}</calls>", call(1, "Ana"), call(2, &long), call(3, "Ben"));
        let (l, r) = legs(&xml);
        assert_eq!((l.len(), r.len()), (2, 1));
        assert!(r[0].starts_with("bad attribute: a value of 1048586 bytes"), "{r:?}");
        // No closing quote: the element would run to the end of the file.
        let runaway = "y".repeat(MAX_RECORD + 10);
        let xml = format!("<calls>{}<call number=\"1\" contact_name=\"{runaway}", call(1, "Ana"));
        let (l, r) = legs(&xml);
        assert_eq!((l.len(), r.len()), (1, 1));
        assert!(r[0].contains("an element longer than 2097152 bytes"), "{r:?}");
    }

    #[test]
    fn types_give_direction_and_outcome() {
        let (l, r) = legs(
            r#"<?xml version='1.0'?><calls count="3"><call number="+4312341234" duration="0" date="1312473751975" type="2" /><call number="-1" duration="382" date="1312530691081" type="1" /><call number="+43" duration="x" date="1" type="1"/></calls>"#,
        );
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].outcome, LegOutcome::NoAnswer);
        assert_eq!(l[0].to, "+4312341234");
        assert_eq!(l[1].from, "-1");
        assert_eq!(l[1].talk_s, Some(382));
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn a_document_without_a_calls_element_is_said_to_be_one() {
        assert!(!read("<smses><sms/></smses>".as_bytes(), |_| Ok(())).unwrap());
        assert!(read("<calls count=\"0\"></calls>".as_bytes(), |_| Ok(())).unwrap());
    }

    #[test]
    fn a_cut_off_file_ends_with_one_reject() {
        let (l, r) = legs(r#"<calls><call number="1" duration="1" date="1" type="1" /><call number="2" dur"#);
        assert_eq!(l.len(), 1);
        assert_eq!(r.len(), 1);
    }
}
