//! Asterisk `cdr_csv` `Master.csv`: no header, 18 columns with `loguniqueid` and
//! `loguserfield` (16 or 17 without them), 21 with `newcdrcolumns` (peeraccount, linkedid, sequence).

use super::csv_input::{mangled_number, Row};
use super::leg::{Hint, Leg, LegOutcome};
use super::RowCtx;
use crate::import::csv_records::CsvRow;
use crate::model::Direction;
use crate::normalize::text::trim;
use compact_str::CompactString;
use memchr::{memchr, memrchr};

const SRC: usize = 1;
const DST: usize = 2;
const DCONTEXT: usize = 3;
const CLID: usize = 4;
const CHANNEL: usize = 5;
const DSTCHANNEL: usize = 6;
const LASTAPP: usize = 7;
const START: usize = 9;
const BILLSEC: usize = 13;
const DISPOSITION: usize = 14;
const UNIQUEID: usize = 16;
const LINKEDID: usize = 19;

/// Dispositions Asterisk writes.
pub const DISPOSITIONS: &[&str] = &["ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION"];

/// True when a row has the shape of a `Master.csv` row: a date in column 10 and a
/// disposition in column 15.
pub fn looks_like_row(fields: &[String]) -> bool {
    fields.len() >= 16
        && super::time::parse_asterisk(fields[START].trim()).is_some()
        && DISPOSITIONS.contains(&fields[DISPOSITION].trim())
}

/// An Asterisk channel name without its per-call suffix: `SIP/202-00000003` → `SIP/202`,
/// `Local/201@from-queue-00000a1b;2` → `Local/201@from-queue`.
pub fn endpoint(channel: &str) -> Option<CompactString> {
    // memchr: the standard library's char searcher was dear on two fields a row.
    let c = trim(channel);
    if c.is_empty() {
        return None;
    }
    let c = memchr(b';', c.as_bytes()).map_or(c, |i| &c[..i]);
    let b = c.as_bytes();
    let slash = memchr(b'/', b).unwrap_or(0);
    let base = match memrchr(b'-', b) {
        Some(i) if i > slash && i + 1 < b.len() && b[i + 1..].iter().all(u8::is_ascii_hexdigit) => &c[..i],
        _ => c,
    };
    Some(base.into())
}

/// The peer of an endpoint is an extension (`SIP/201`, `PJSIP/202`) or the console:
/// a device of the business rather than a trunk.
pub fn is_device(endpoint: &str) -> bool {
    if endpoint.starts_with("Console/") {
        return true;
    }
    let Some(slash) = memchr(b'/', endpoint.as_bytes()) else {
        return false;
    };
    let (tech, peer) = (&endpoint[..slash], &endpoint[slash + 1..]);
    matches!(tech, "SIP" | "PJSIP" | "IAX2" | "SCCP")
        && super::direction::is_extension(peer)
        && peer.bytes().any(|b| b.is_ascii_digit())
}

/// `"Name" <number>` → the name, when it is not just the number again.
pub fn clid_name(clid: &str, number: &str) -> Option<CompactString> {
    let t = trim(clid);
    let b = t.as_bytes();
    let name = match (memchr(b'"', b), memrchr(b'"', b)) {
        (Some(open), Some(close)) if close > open => &t[open + 1..close],
        _ => trim(&t[..memchr(b'<', b).unwrap_or(t.len())]),
    };
    let number = trim(number);
    // The usual `"07700900123" <07700900123>`: cleaning cannot change plain digits.
    if name == number && name.bytes().all(|b| b.is_ascii_digit() || b == b'+') {
        return None;
    }
    let name = crate::normalize::text::clean_name(name);
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<Vec<char>>();
    if name.is_empty()
        || name == number
        || (name.chars().all(|c| !c.is_alphabetic()) && {
            let d = digits(&name);
            !d.is_empty() && d == digits(number)
        })
    {
        None
    } else {
        Some(name.into())
    }
}

/// ASCII case-insensitive substring test, without allocating.
fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Direction hint from the dialplan context: trunk contexts bring calls in.
fn context_hint(context: &str, dst: &str) -> Option<Direction> {
    let has = |needle: &str| contains_ignore_case(context, needle);
    if has("pstn") || has("trunk") || has("from-did") || has("inbound") || has("incoming") {
        Some(Direction::Inbound)
    } else if (has("internal") || has("outbound") || has("outgoing"))
        && dst.bytes().filter(u8::is_ascii_digit).count() >= 7
    {
        Some(Direction::Outbound)
    } else {
        None
    }
}

/// Reads one Master.csv row.
pub fn leg(rec: &CsvRow, line: u64, ctx: &mut RowCtx) -> Result<Leg, String> {
    if rec.len() < 16 {
        return Err(format!("expected 16 to 21 Asterisk CDR columns, found {}", rec.len()));
    }
    let row = Row::new(rec);
    let start = row.field(START);
    let naive = super::time::parse_asterisk(trim(&start))
        .ok_or_else(|| format!("column 10 (start) {:?} is not YYYY-MM-DD HH:MM:SS", start.as_ref()))?;
    let start_ms = ctx.clock.to_utc_ms(naive)?;
    let disposition = row.field(DISPOSITION);
    let src = CompactString::from(trim(&row.field(SRC)));
    let dst = CompactString::from(trim(&row.field(DST)));
    for n in [&src, &dst] {
        if let Some(why) = mangled_number(n, ctx.region, ctx.spreadsheet) {
            return Err(why);
        }
    }
    let dstchannel = endpoint(&row.field(DSTCHANNEL));
    let lastapp = row.field(LASTAPP);
    let outcome = match trim(&disposition) {
        "ANSWERED" if dstchannel.is_some() => LegOutcome::Person,
        "ANSWERED" if lastapp.eq_ignore_ascii_case("VoiceMail") => LegOutcome::Voicemail,
        "ANSWERED" => LegOutcome::Machine,
        "NO ANSWER" => LegOutcome::NoAnswer,
        "BUSY" => LegOutcome::Busy,
        "FAILED" | "CONGESTION" => LegOutcome::Failed,
        other => {
            return Err(format!(
                "column 15 (disposition) {other:?} is not one of {}",
                DISPOSITIONS.join(", ")
            ))
        }
    };
    let billsec = row.field(BILLSEC);
    let talk_s = trim(&billsec).parse::<i64>().map_err(|_| {
        format!(
            "column 14 (billsec) {:?} is not a whole number of seconds",
            billsec.as_ref()
        )
    })?;
    let uniqueid = CompactString::from(trim(&row.field(UNIQUEID)));
    let linkedid = if rec.len() > LINKEDID {
        CompactString::from(trim(&row.field(LINKEDID)))
    } else {
        CompactString::default()
    };
    let group = if !linkedid.is_empty() {
        Some(linkedid)
    } else if !uniqueid.is_empty() {
        Some(uniqueid)
    } else {
        None
    };
    // Only a row without a call id is its own call and needs its own reference.
    let own_ref = if group.is_none() {
        compact_str::format_compact!("line:{line}")
    } else {
        CompactString::default()
    };
    let channel = endpoint(&row.field(CHANNEL));
    let caller_is_device = channel.as_deref().is_some_and(is_device);
    let context = row.field(DCONTEXT);
    Ok(Leg {
        line,
        group,
        own_ref,
        start_ms,
        ts_raw: trim(&start).into(),
        name: clid_name(&row.field(CLID), &src),
        hint: Hint {
            direction: context_hint(&context, &dst),
            strong: false,
        },
        from: src,
        to: dst,
        outcome,
        talk_s: Some(if outcome == LegOutcome::Person { talk_s } else { 0 }),
        callee_endpoint: dstchannel,
        caller_endpoint: channel,
        caller_is_device,
        child: false,
        dedup_extra: CompactString::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_suffixes_are_dropped() {
        assert_eq!(endpoint("SIP/202-00000003").as_deref(), Some("SIP/202"));
        assert_eq!(endpoint("SIP/uk-trunk-00000001").as_deref(), Some("SIP/uk-trunk"));
        assert_eq!(
            endpoint("Local/ch1@TimeDelay-00000000;2").as_deref(),
            Some("Local/ch1@TimeDelay")
        );
        assert_eq!(endpoint("Console/dsp").as_deref(), Some("Console/dsp"));
        assert_eq!(endpoint(""), None);
        assert!(is_device("SIP/201"));
        assert!(!is_device("SIP/uk-trunk"));
        assert!(is_device("Console/dsp"));
    }

    #[test]
    fn caller_id_names_are_kept_only_when_they_are_names() {
        assert_eq!(clid_name("\"Test User\" <test>", "test").as_deref(), Some("Test User"));
        assert_eq!(clid_name("\"07700900246\" <07700900246>", "07700900246"), None);
        assert_eq!(clid_name("", ""), None);
        assert_eq!(clid_name("\"Priya\" <201>", "201").as_deref(), Some("Priya"));
    }
}
