//! Message dates: RFC 5322 `Date:` in its modern and obsolete forms and the common broken
//! ones, `Received:` stamps, mbox From_ lines. Everything ends up as UTC milliseconds.

use chrono::{DateTime, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use std::borrow::Cow;

/// Earliest accepted date (1 Jan 1900): RFC 2822's own examples are dated 1969; older is a
/// broken clock. Dates before 1990 are accepted but counted in a note.
const EARLIEST_MS: i64 = -2_208_988_800_000;

/// Dates before this (1 Jan 1990) are flagged in the source's notes.
pub const SUSPICIOUS_BEFORE_MS: i64 = 631_152_000_000;

/// Accepts a parsed instant only when it is plausible: not before 1900 and not more than a
/// day in the future (`Mon, 30 Jun 3609` exists).
fn plausible(ms: i64) -> Option<i64> {
    // The clock is read once per run, not once per message.
    static LATEST: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    let latest = *LATEST.get_or_init(|| chrono::Utc::now().timestamp_millis() + 86_400_000);
    (EARLIEST_MS..=latest).contains(&ms).then_some(ms)
}

/// Removes `(comments)`, which may hold anything (a zone name, raw Hebrew bytes).
fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Parses a `Date:` value. `None` when it is empty, unparseable or implausible.
pub fn parse_date_header(raw: &str) -> Option<i64> {
    // Most dates have no comment and single spaces: nothing to clean, nothing to copy.
    let cleaned = if raw.contains('(') {
        Cow::Owned(strip_comments(raw))
    } else {
        Cow::Borrowed(raw)
    };
    let single_spaced =
        !crate::normalize::text::has_pair(&cleaned, b' ') && cleaned.chars().all(|c| c == ' ' || !c.is_whitespace());
    let mut text = if single_spaced {
        Cow::Borrowed(cleaned.trim_matches(' '))
    } else {
        Cow::Owned(cleaned.split_whitespace().collect::<Vec<_>>().join(" "))
    };
    if text.is_empty() {
        return None;
    }
    // `GMT-0800`, `UTC+0100`: the offset is what counts.
    // Most dates have no `GMT+hhmm` form: two searches rule all six out.
    let has_offset_name = text.contains("GMT") || text.contains("UT");
    for prefix in ["GMT+", "GMT-", "UTC+", "UTC-", "UT+", "UT-"]
        .into_iter()
        .filter(|_| has_offset_name)
    {
        if let Some(i) = text.find(prefix) {
            let sign_at = i + prefix.len() - 1;
            text = Cow::Owned(format!("{}{}", &text[..i], &text[sign_at..]));
            break;
        }
    }
    if let Ok(dt) = DateTime::parse_from_rfc2822(&text) {
        return plausible(dt.timestamp_millis());
    }
    // Obsolete pieces chrono does not take: a trailing `UTC`, a missing zone, a dotted time.
    let alt = text.replace(" UTC", " +0000").replace(" utc", " +0000");
    if let Ok(dt) = DateTime::parse_from_rfc2822(&alt) {
        return plausible(dt.timestamp_millis());
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(text.trim()) {
        return plausible(dt.timestamp_millis());
    }
    // mailparse is lenient with the remaining shapes, but it happily reads `59:10` as a time;
    // require a valid clock first.
    if has_impossible_time(&text) {
        return None;
    }
    // A one-letter military zone means no zone (RFC 5322 4.3: they were used with both
    // signs, so `-0000`), as chrono reads it; mailparse would turn it into an offset.
    if let Some((head, zone)) = text.rsplit_once(' ') {
        let after_time = head.rsplit(' ').next().is_some_and(|t| t.contains(':'));
        if after_time && zone.len() == 1 && zone.as_bytes()[0].is_ascii_alphabetic() {
            text = Cow::Owned(format!("{head} +0000"));
        }
    }
    mailparse::dateparse(&text)
        .ok()
        .and_then(|s| s.checked_mul(1000))
        .and_then(plausible)
}

/// A `HH:MM` with an hour above 23 or a minute above 59.
fn has_impossible_time(text: &str) -> bool {
    text.split_whitespace().any(|tok| {
        let parts: Vec<&str> = tok.split(':').collect();
        if parts.len() < 2
            || !parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        {
            return false;
        }
        let h: u32 = parts[0].parse().unwrap_or(99);
        let m: u32 = parts[1].parse().unwrap_or(99);
        h > 23 || m > 59
    })
}

/// The date stamp of a `Received:` header: the text after its last `;`.
pub fn parse_received(raw: &str) -> Option<i64> {
    raw.rsplit_once(';').and_then(|(_, d)| parse_date_header(d))
}

/// The date of an mbox From_ line (`sender asctime-date`), in `tz` when it has no zone.
/// git format-patch writes the constant `Mon Sep 17 00:00:00 2001`: never a real date.
pub fn parse_envelope(envelope: &str, tz: Tz) -> Option<i64> {
    let text = envelope.split_whitespace().skip(1).collect::<Vec<_>>().join(" ");
    if text.ends_with("Sep 17 00:00:00 2001") {
        return None;
    }
    // Google Takeout: `Wed Jun 22 19:27:30 +0000 2016`.
    if let Ok(dt) = DateTime::parse_from_str(&text, "%a %b %d %H:%M:%S %z %Y") {
        return plausible(dt.timestamp_millis());
    }
    let naive = NaiveDateTime::parse_from_str(&text, "%a %b %e %H:%M:%S %Y").ok()?;
    let local = tz.from_local_datetime(&naive).earliest()?;
    plausible(local.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    #[test]
    fn rfc5322_and_obsolete_forms() {
        assert_eq!(
            parse_date_header("Mon, 16 Mar 2026 10:02:45 +0000 (GMT)"),
            Some(utc("2026-03-16T10:02:45Z"))
        );
        assert_eq!(
            parse_date_header("18 Feb 2020 16:41:40 +0000"),
            Some(utc("2020-02-18T16:41:40Z"))
        );
        assert_eq!(
            parse_date_header("Tue,  4 Jun 2002 10:00:00 EST"),
            Some(utc("2002-06-04T15:00:00Z"))
        );
        assert_eq!(
            parse_date_header("Fri, 21 Nov 97 09:55:06 -0600"),
            Some(utc("1997-11-21T15:55:06Z"))
        );
        assert_eq!(
            parse_date_header("Thu, 13 Feb 1969 23:32:54 -0330"),
            Some(utc("1969-02-14T03:02:54Z"))
        );
        assert_eq!(
            parse_date_header("Wed, 1 Apr 2026 08:15:22 GMT+0100"),
            Some(utc("2026-04-01T07:15:22Z"))
        );
        // Military zones mean no zone, whichever parser reads them (the weekday is wrong in
        // the first, so chrono refuses it and mailparse reads it).
        for date in [
            "Mon, 30 Nov 2012 20:57:23 Q",
            "Fri, 30 Nov 2012 20:57:23 Q",
            "30 Nov 2012 20:57:23 z",
        ] {
            assert_eq!(parse_date_header(date), Some(utc("2012-11-30T20:57:23Z")), "{date}");
        }
    }

    #[test]
    fn broken_dates_are_refused() {
        assert_eq!(parse_date_header(""), None);
        assert_eq!(parse_date_header("Wed, 15 Dec 2010    59:10 -0500"), None);
        assert_eq!(parse_date_header("Mon, 30 Jun 3609 15:33:50 +0600"), None);
        assert_eq!(parse_date_header("Pn, 29 paX 2007 21:13:00 +0100"), None);
    }

    #[test]
    fn envelope_dates() {
        assert_eq!(
            parse_envelope("abc@gmail.com Sun Dec 25 21:33:37 2011", chrono_tz::UTC),
            Some(utc("2011-12-25T21:33:37Z"))
        );
        assert_eq!(
            parse_envelope("1537866361256992303@xxx Wed Jun 22 19:27:30 +0000 2016", chrono_tz::UTC),
            Some(utc("2016-06-22T19:27:30Z"))
        );
        assert_eq!(parse_envelope("nobody Mon Sep 17 00:00:00 2001", chrono_tz::UTC), None);
        assert_eq!(
            parse_envelope("nobody Fri Aug  8 22:24:03 2008", chrono_tz::UTC),
            Some(utc("2008-08-08T22:24:03Z"))
        );
    }
}
