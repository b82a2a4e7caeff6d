//! Call-log timestamps to UTC. PBXs write naive local wall-clock time (Asterisk: the
//! server's zone, or UTC with `usegmtime`, which the file does not say), so naive times are
//! read in `--tz`; text with an offset and epoch values are exact.

use crate::import::whatsapp::dates::DateOrder;
use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;
use std::collections::HashMap;

/// Converts naive local times in one zone to UTC, caching the offset per hour (the zone
/// database lookup is the slow part on a million rows) and counting DST oddities.
pub struct LocalClock {
    tz: Tz,
    offsets: HashMap<i64, i64>,
    /// The last hour looked up and its offset: rows come in time order.
    last: Option<(i64, i64)>,
    /// Wall-clock times that occur twice (autumn change): the first occurrence is used.
    pub ambiguous: u64,
    /// Wall-clock times that do not exist (spring change): read one hour later.
    pub nonexistent: u64,
}

impl LocalClock {
    pub fn new(tz: Tz) -> LocalClock {
        LocalClock {
            tz,
            offsets: HashMap::new(),
            last: None,
            ambiguous: 0,
            nonexistent: 0,
        }
    }

    /// UTC milliseconds for a naive local time.
    pub fn to_utc_ms(&mut self, naive: NaiveDateTime) -> Result<i64, String> {
        let local_s = naive.and_utc().timestamp();
        let hour = local_s.div_euclid(3600);
        let cached = match self.last {
            Some((h, off)) if h == hour => Some(off),
            _ => self.offsets.get(&hour).copied(),
        };
        if let Some(off) = cached {
            self.last = Some((hour, off));
            return Ok((local_s - off) * 1000 + i64::from(naive.and_utc().timestamp_subsec_millis()));
        }
        let dt = match self.tz.from_local_datetime(&naive) {
            LocalResult::Single(d) => {
                // Cache only hours that are unambiguous from start to end.
                let start = naive - chrono::Duration::seconds(local_s.rem_euclid(3600));
                let end = start + chrono::Duration::seconds(3599);
                if let (LocalResult::Single(a), LocalResult::Single(b)) =
                    (self.tz.from_local_datetime(&start), self.tz.from_local_datetime(&end))
                {
                    let off_a = start.and_utc().timestamp() - a.timestamp();
                    let off_b = end.and_utc().timestamp() - b.timestamp();
                    if off_a == off_b && self.offsets.len() < 1_000_000 {
                        self.offsets.insert(hour, off_a);
                    }
                }
                d
            }
            LocalResult::Ambiguous(a, _) => {
                self.ambiguous += 1;
                a
            }
            LocalResult::None => {
                self.nonexistent += 1;
                self.tz
                    .from_local_datetime(&(naive + chrono::Duration::hours(1)))
                    .earliest()
                    .ok_or("time does not exist in this time zone")?
            }
        };
        Ok(dt.timestamp_millis())
    }

    /// Notes about DST transitions met, for the source's notes.
    pub fn notes(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.ambiguous > 0 {
            out.push(format!(
                "{} time(s) fall in the repeated hour of a DST change in {}: the first occurrence was used",
                self.ambiguous,
                self.tz.name()
            ));
        }
        if self.nonexistent > 0 {
            out.push(format!(
                "{} time(s) fall in the skipped hour of a DST change in {}: read one hour later",
                self.nonexistent,
                self.tz.name()
            ));
        }
        out
    }
}

/// Parses `YYYY-MM-DD HH:MM:SS` (Asterisk's only format) without a format-string parser.
pub fn parse_asterisk(s: &str) -> Option<NaiveDateTime> {
    let b = s.as_bytes();
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b' ' || b[10] == b'T')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let mut v = 0u32;
        for &c in &b[r] {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(c - b'0');
        }
        Some(v)
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?.and_hms_opt(
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    )
}

/// How a timestamp was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBasis {
    /// Offset or epoch in the text: exact.
    Exact,
    /// Naive wall clock, read in the clock's zone.
    Local,
}

/// The date part of a naive timestamp as written, before a day/month order is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrittenDate {
    /// `yyyy-mm-dd` or `yyyy/mm/dd`: year first, one reading.
    YearFirst([u32; 3]),
    /// `dd.mm.yyyy`: day first (the dotted convention has no month-first counterpart).
    Dotted([u32; 3]),
    /// `a/b/yyyy` or `a-b-yyyy`: day-first or month-first, decided once per file.
    Slashed([u32; 3]),
    /// A two-digit year (`03/04/26`, `03.04.26`): the year may be the first or the last
    /// field. The digit count of each field is kept.
    ShortYear([u32; 3], [u8; 3]),
}

/// A naive timestamp (`2026-04-03 14:05:33`, `3/4/2026 2:05 PM`, `03.04.2026 14:05`) split
/// into its fields, before any day/month order is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub date: WrittenDate,
    /// Hour, minute, second and nanosecond as written.
    hms: (u32, u32, u32, u32),
    /// `Some(true)` after PM, `Some(false)` after AM.
    pm: Option<bool>,
    /// `UTC`, `GMT` or `Z` after the time: exact, not local.
    pub utc: bool,
}

/// The digits at the start of `s` (at most 9): value, digit count and the rest.
fn digits(s: &str) -> Option<(u32, usize, &str)> {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 || n > 9 {
        return None;
    }
    Some((s[..n].parse().ok()?, n, &s[n..]))
}

/// A date token: three numbers joined by one separator (`-`, `/` or `.`).
fn written_date(d: &str) -> Option<WrittenDate> {
    let sep = *d.as_bytes().iter().find(|b| !b.is_ascii_digit())?;
    let mut parts = d.split(sep as char);
    let p = [parts.next()?, parts.next()?, parts.next()?];
    if parts.next().is_some() || p.iter().any(|x| x.is_empty() || x.len() > 4) {
        return None;
    }
    let mut f = [0u32; 3];
    let mut len = [0u8; 3];
    for i in 0..3 {
        let (v, n, rest) = digits(p[i])?;
        if !rest.is_empty() {
            return None;
        }
        f[i] = v;
        len[i] = n as u8;
    }
    let small = |i: usize| len[i] <= 2;
    Some(match sep {
        b'-' | b'/' if len[0] == 4 && small(1) && small(2) => WrittenDate::YearFirst(f),
        // `03-04-2026` is as ambiguous as `03/04/2026` and is read the same way.
        b'/' | b'-' if small(0) && small(1) && len[2] == 4 => WrittenDate::Slashed(f),
        b'.' if small(0) && small(1) && len[2] == 4 => WrittenDate::Dotted(f),
        b'/' | b'.' | b'-' if small(0) && small(1) && small(2) && (len[0] == 2 || len[2] == 2) => {
            WrittenDate::ShortYear(f, len)
        }
        _ => return None,
    })
}

/// An AM/PM marker at the start of `s`: `AM`, `pm`, `a.m.`, `P.M.`, `a. m.` (the space
/// may be a no-break space). Returns whether it is PM, and the rest.
fn marker(s: &str) -> Option<(bool, &str)> {
    let mut chars = s.chars();
    let pm = match chars.next()? {
        'a' | 'A' => false,
        'p' | 'P' => true,
        _ => return None,
    };
    let r = chars.as_str();
    let r = r.strip_prefix('.').unwrap_or(r).trim_start();
    let r = r.strip_prefix(['m', 'M'])?;
    let r = r.strip_prefix('.').unwrap_or(r);
    if r.starts_with(char::is_alphanumeric) {
        return None;
    }
    Some((pm, r))
}

/// Splits a naive timestamp into its fields; `None` when it has none of the accepted
/// shapes. The date is `yyyy-mm-dd`, `yyyy/mm/dd`, `dd.mm.yyyy`, `a/b/yyyy`, `a-b-yyyy` or one with a
/// two-digit year; then `T`, or spaces with an optional comma before them; then
/// `H:MM[:SS[.fff]]`, an optional AM/PM marker (after a space, a no-break space or
/// U+202F, or none) and an optional `UTC`/`Z`.
pub fn written(t: &str) -> Option<Written> {
    let dlen = t
        .bytes()
        .take_while(|b| b.is_ascii_digit() || matches!(b, b'-' | b'/' | b'.'))
        .count();
    let date = written_date(&t[..dlen])?;
    let mut r = &t[dlen..];
    match r.strip_prefix('T') {
        Some(rest) if matches!(date, WrittenDate::YearFirst(_)) => r = rest,
        _ => {
            r = r.strip_prefix(',').unwrap_or(r);
            let trimmed = r.trim_start();
            if trimmed.len() == r.len() {
                return None;
            }
            r = trimmed;
        }
    }
    let (h, hl, rest) = digits(r)?;
    let (m, ml, mut r) = digits(rest.strip_prefix(':')?)?;
    if hl > 2 || ml != 2 {
        return None;
    }
    let (mut s, mut nanos) = (0, 0);
    if let Some(rest) = r.strip_prefix(':') {
        let (v, n, rest) = digits(rest)?;
        if n != 2 {
            return None;
        }
        s = v;
        r = rest;
        if let Some(rest) = r.strip_prefix('.') {
            let (v, n, rest) = digits(rest)?;
            nanos = v * 10u32.pow(9 - n as u32);
            r = rest;
        }
    }
    let mut r = r.trim_start();
    let mut pm = None;
    if let Some((p, rest)) = marker(r) {
        pm = Some(p);
        r = rest.trim_start();
    }
    let utc = match r {
        "" => false,
        _ if r.eq_ignore_ascii_case("utc") || r.eq_ignore_ascii_case("gmt") || r.eq_ignore_ascii_case("z") => true,
        _ => return None,
    };
    Some(Written {
        date,
        hms: (h, m, s, nanos),
        pm,
        utc,
    })
}

impl Written {
    /// The time of day, with AM/PM applied (12 AM is 00, 12 PM is 12), and whether a
    /// marker sat on a 24-hour hour (`13:05 PM`, `0:30 AM`: read as 24-hour).
    fn time(&self) -> Result<(NaiveTime, bool), String> {
        let (h, m, s, n) = self.hms;
        let (hour, on_24h) = match self.pm {
            None => (h, false),
            Some(pm) => match h {
                1..=12 => (h % 12 + if pm { 12 } else { 0 }, false),
                0 if !pm => (0, true),
                13..=23 if pm => (h, true),
                _ => {
                    return Err(format!(
                        "{h}:{m:02} {} is not a time of day",
                        if pm { "PM" } else { "AM" }
                    ))
                }
            },
        };
        NaiveTime::from_hms_nano_opt(hour, m, s, n)
            .map(|t| (t, on_24h))
            .ok_or_else(|| format!("{h}:{m:02}:{s:02} is not a time of day"))
    }
}

/// How dates read under an order, for notes.
fn order_shape(o: DateOrder) -> &'static str {
    match o {
        DateOrder::Dmy => "day-first, dd/mm/yyyy",
        DateOrder::Mdy => "month-first, mm/dd/yyyy",
        DateOrder::Ymd => "year-first, yy/mm/dd",
        DateOrder::Myd | DateOrder::Dym => "with the year in the middle",
    }
}

/// How one file's `a/b/yyyy` dates (and two-digit years) are read: forced with
/// `--date-order`, inferred from the whole file, or undecided (such rows are rejected).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlashRule {
    pub order: Option<DateOrder>,
    /// Given with `--date-order`: a date that does not fit it is rejected as such.
    pub forced: bool,
    /// What was decided and why, when inferred.
    pub note: Option<String>,
}

impl SlashRule {
    pub fn forced(order: DateOrder) -> SlashRule {
        SlashRule {
            order: Some(order),
            forced: true,
            note: None,
        }
    }
}

/// The `a/b/yyyy` dates of one file, collected by a pre-scan of its start-time column to
/// decide their day/month order once for the whole file. Constant memory.
#[derive(Debug, Default, Clone)]
pub struct SlashEvidence {
    /// `a/b/yyyy` dates seen.
    pub slashed: u64,
    /// Dates only day-first reads (first field over 12).
    pub day_first: u64,
    /// Dates only month-first reads (second field over 12).
    pub month_first: u64,
    first_day: Option<(u64, String)>,
    first_month: Option<(u64, String)>,
}

impl SlashEvidence {
    /// Adds one start-time field (any shape; only `a/b/yyyy` dates count) and its line.
    pub fn add(&mut self, raw: &str, line: u64) {
        let t = raw.trim();
        let Some(WrittenDate::Slashed([a, b, y])) = written(t).map(|w| w.date) else {
            return;
        };
        self.slashed += 1;
        let fits = |m: u32, d: u32| NaiveDate::from_ymd_opt(y as i32, m, d).is_some();
        if a > 12 && fits(b, a) {
            self.day_first += 1;
            self.first_day.get_or_insert_with(|| (line, t.to_string()));
        } else if b > 12 && fits(a, b) {
            self.month_first += 1;
            self.first_month.get_or_insert_with(|| (line, t.to_string()));
        }
    }

    /// The file's day/month order: day-first when a first field is over 12, month-first
    /// when a second one is, an error when both occur, undecided when neither does.
    pub fn decide(&self) -> Result<SlashRule, String> {
        let (order, count, which, (line, raw)) = match (&self.first_day, &self.first_month) {
            (Some((dl, dr)), Some((ml, mr))) => {
                return Err(format!(
                    "day/month order contradicts itself: line {dl} has {dr:?} (first field over 12: day first) and line {ml} has {mr:?} (second field over 12: month first); pass --date-order dmy or mdy to import the rows that fit it"
                ))
            }
            (Some(d), None) => (DateOrder::Dmy, self.day_first, "a first", d),
            (None, Some(m)) => (DateOrder::Mdy, self.month_first, "a second", m),
            (None, None) => return Ok(SlashRule::default()),
        };
        Ok(SlashRule {
            order: Some(order),
            forced: false,
            note: Some(format!(
                "dates read {} ({count} of {} a/b/yyyy or a-b-yyyy date(s) have {which} field over 12, first at line {line}: {raw:?}); pass --date-order to override",
                order_shape(order),
                self.slashed
            )),
        })
    }
}

/// Reads the dates of one file under its [`SlashRule`] and counts what it met, for notes.
#[derive(Debug, Default)]
pub struct DateReading {
    pub rule: SlashRule,
    /// `a/b/yyyy` dates and two-digit years met.
    pub ordered: u64,
    /// Rows rejected because their date does not fit the forced order.
    pub contradicted: u64,
    /// Rows rejected because the file does not tell the day/month order.
    pub undecided: u64,
    /// Rows rejected for a two-digit year without `--date-order`.
    pub short_year: u64,
    /// AM/PM markers on a 24-hour hour, read as 24-hour.
    pub marker_on_24h: u64,
}

impl DateReading {
    pub fn new(rule: SlashRule) -> DateReading {
        DateReading {
            rule,
            ..Default::default()
        }
    }

    fn date(&mut self, w: WrittenDate) -> Result<NaiveDate, String> {
        let ymd = |y: u32, m: u32, d: u32| NaiveDate::from_ymd_opt(y as i32, m, d);
        let not_a_date = || "not a calendar date".to_string();
        match w {
            WrittenDate::YearFirst([y, m, d]) => ymd(y, m, d).ok_or_else(not_a_date),
            WrittenDate::Dotted([d, m, y]) => ymd(y, m, d).ok_or_else(not_a_date),
            WrittenDate::Slashed([a, b, y]) => {
                self.ordered += 1;
                let forced = self.rule.forced;
                let (date, other, field) = match self.rule.order {
                    Some(DateOrder::Dmy) => (ymd(y, b, a), ymd(y, a, b), b),
                    Some(DateOrder::Mdy) => (ymd(y, a, b), ymd(y, b, a), a),
                    Some(o) => {
                        self.contradicted += 1;
                        return Err(format!(
                            "the year is the last field, which does not fit --date-order {}",
                            o.flag()
                        ));
                    }
                    None if a == b => return ymd(y, a, b).ok_or_else(not_a_date),
                    None => {
                        self.undecided += 1;
                        return Err(
                            "day/month order is ambiguous: no a/b/yyyy or a-b-yyyy date in this file has a field over 12; pass --date-order dmy or mdy".into(),
                        );
                    }
                };
                let order = self.rule.order.map(DateOrder::flag).unwrap_or_default();
                match date {
                    Some(d) => Ok(d),
                    None if forced && other.is_some() => {
                        self.contradicted += 1;
                        Err(format!(
                            "{field} cannot be a month: the date does not fit --date-order {order}"
                        ))
                    }
                    None => Err(format!(
                        "not a calendar date read {}",
                        self.rule.order.map(order_shape).unwrap_or_default()
                    )),
                }
            }
            WrittenDate::ShortYear(f, len) => {
                self.ordered += 1;
                let Some(order) = self.rule.order.filter(|_| self.rule.forced) else {
                    self.short_year += 1;
                    return Err(
                        "two-digit year: the year may be the first or the last field; pass --date-order dmy, mdy or ymd".into(),
                    );
                };
                let (y, m, d, year_len) = match order {
                    DateOrder::Dmy => (f[2], f[1], f[0], len[2]),
                    DateOrder::Mdy => (f[2], f[0], f[1], len[2]),
                    DateOrder::Ymd => (f[0], f[1], f[2], len[0]),
                    o => {
                        self.contradicted += 1;
                        return Err(format!("--date-order {} does not apply to call-log dates", o.flag()));
                    }
                };
                let flag = order.flag();
                if year_len != 2 {
                    self.contradicted += 1;
                    return Err(format!(
                        "the year field has {year_len} digit(s) under --date-order {flag}"
                    ));
                }
                let Some(date) = ymd(2000 + y, m, d) else {
                    self.contradicted += 1;
                    return Err(format!("not a calendar date under --date-order {flag}"));
                };
                // Two-digit years are 20yy: a call log holds no calls from the future.
                if date > chrono::Utc::now().date_naive() + chrono::Duration::days(2) {
                    return Err(format!("the two-digit year reads as {}, in the future", 2000 + y));
                }
                Ok(date)
            }
        }
    }

    /// The naive date and time of a written timestamp, under this file's rule.
    pub fn resolve(&mut self, w: &Written) -> Result<NaiveDateTime, String> {
        let (time, on_24h) = w.time()?;
        let date = self.date(w.date)?;
        if on_24h {
            self.marker_on_24h += 1;
        }
        Ok(date.and_time(time))
    }

    /// Notes for the source: the decision and what was rejected because of it.
    pub fn notes(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(n) = &self.rule.note {
            out.push(n.clone());
        }
        if let (true, Some(order)) = (self.rule.forced, self.rule.order) {
            if self.ordered > 0 {
                let mut n = format!("dates read {} (--date-order {})", order_shape(order), order.flag());
                if self.contradicted > 0 {
                    n.push_str(&format!("; {} date(s) do not fit it: rejected", self.contradicted));
                }
                out.push(n);
            }
        }
        if self.undecided > 0 {
            out.push(format!(
                "{} row(s) rejected: no a/b/yyyy or a-b-yyyy date in this file has a field over 12, so day/month order cannot be told; pass --date-order dmy or mdy",
                self.undecided
            ));
        }
        if self.short_year > 0 {
            out.push(format!(
                "{} row(s) rejected for a two-digit year (it may be the first or the last field); pass --date-order dmy, mdy or ymd",
                self.short_year
            ));
        }
        if self.marker_on_24h > 0 {
            out.push(format!(
                "{} time(s) with AM/PM on a 24-hour hour (such as 13:05 PM): read as 24-hour",
                self.marker_on_24h
            ));
        }
        out
    }
}

/// Any timestamp a call-log CSV is likely to hold, to UTC milliseconds. Day/month order
/// of `a/b/yyyy` dates comes from `dates` (decided once per file, never per row).
pub fn parse_any(s: &str, clock: &mut LocalClock, dates: &mut DateReading) -> Result<(i64, TimeBasis), String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("empty timestamp".into());
    }
    if let Some(n) = parse_asterisk(t) {
        return clock.to_utc_ms(n).map(|ms| (ms, TimeBasis::Local));
    }
    if t.bytes().all(|b| b.is_ascii_digit()) {
        let v: i64 = t.parse().map_err(|_| format!("timestamp {t:?} is not a number"))?;
        return match t.len() {
            13 => Ok((v, TimeBasis::Exact)),
            10 => Ok((v * 1000, TimeBasis::Exact)),
            _ => Err(format!(
                "timestamp {t:?}: expected epoch seconds (10 digits) or milliseconds (13)"
            )),
        };
    }
    if let Some(w) = written(t) {
        let n = dates.resolve(&w).map_err(|why| format!("timestamp {t:?}: {why}"))?;
        if w.utc {
            return Ok((n.and_utc().timestamp_millis(), TimeBasis::Exact));
        }
        return clock.to_utc_ms(n).map(|ms| (ms, TimeBasis::Local));
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok((d.timestamp_millis(), TimeBasis::Exact));
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(t) {
        return Ok((d.timestamp_millis(), TimeBasis::Exact));
    }
    for f in ["%Y-%m-%d %H:%M:%S%.f %z", "%Y-%m-%d %H:%M:%S%.f%:z"] {
        if let Ok(d) = DateTime::parse_from_str(t, f) {
            return Ok((d.timestamp_millis(), TimeBasis::Exact));
        }
    }
    Err(format!(
        "timestamp {t:?}: expected YYYY-MM-DD HH:MM:SS, ISO 8601, RFC 2822, dd.mm.yyyy HH:MM, a/b/yyyy or a-b-yyyy H:MM[:SS] [AM|PM] or epoch"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn undecided() -> DateReading {
        DateReading::default()
    }

    fn read(order: Option<DateOrder>, forced: bool, t: &str) -> Result<String, String> {
        let mut c = LocalClock::new(chrono_tz::UTC);
        let mut d = DateReading::new(SlashRule {
            order,
            forced,
            note: None,
        });
        parse_any(t, &mut c, &mut d).map(|(ms, _)| crate::import::ms_to_rfc3339(ms))
    }

    fn evidence(dates: &[&str]) -> SlashEvidence {
        let mut e = SlashEvidence::default();
        for (i, d) in dates.iter().enumerate() {
            e.add(d, i as u64 + 2);
        }
        e
    }

    #[test]
    fn london_wall_clock_crosses_dst() {
        let mut c = LocalClock::new(chrono_tz::Europe::London);
        let d = &mut undecided();
        let winter = parse_any("2026-03-16 11:20:05", &mut c, d).unwrap().0;
        let summer = parse_any("2026-03-30 10:12:44", &mut c, d).unwrap().0;
        assert_eq!(crate::import::ms_to_rfc3339(winter), "2026-03-16T11:20:05Z");
        assert_eq!(crate::import::ms_to_rfc3339(summer), "2026-03-30T09:12:44Z");
        // cached hour gives the same answer
        assert_eq!(
            parse_any("2026-03-30 10:59:59", &mut c, d).unwrap().0,
            summer + 2_835_000
        );
    }

    #[test]
    fn exact_and_refused_forms() {
        let mut c = LocalClock::new(chrono_tz::UTC);
        let d = &mut undecided();
        assert_eq!(
            parse_any("Wed, 22 Jun 2016 19:27:30 +0000", &mut c, d).unwrap(),
            (1_466_623_650_000, TimeBasis::Exact)
        );
        assert_eq!(parse_any("1609632000000", &mut c, d).unwrap().0, 1_609_632_000_000);
        assert!(parse_any("10/02/2020 22:41", &mut c, d)
            .unwrap_err()
            .contains("ambiguous"));
        assert!(parse_any("10.02.2020 22:41", &mut c, d).is_ok());
        assert!(parse_any("yesterday", &mut c, d).is_err());
        assert_eq!(d.undecided, 1);
    }

    #[test]
    fn naive_forms_read_as_before() {
        for (t, want) in [
            ("2026-03-20 09:00:00", "2026-03-20T09:00:00Z"),
            ("2026-03-20T09:00:00.250", "2026-03-20T09:00:00Z"),
            ("2026-03-20 09:00", "2026-03-20T09:00:00Z"),
            ("2026-3-2 9:05", "2026-03-02T09:05:00Z"),
            ("2026/03/20 09:00:05", "2026-03-20T09:00:05Z"),
            ("2020/2/10 22:41", "2020-02-10T22:41:00Z"),
            ("20.03.2026 09:00:05", "2026-03-20T09:00:05Z"),
            ("2026-03-20 09:00:00 UTC", "2026-03-20T09:00:00Z"),
            ("2026-03-20T09:30:05Z", "2026-03-20T09:30:05Z"),
            ("2026-03-20T09:30:05+01:00", "2026-03-20T08:30:05Z"),
            ("2026-03-20 09:30:05 +0100", "2026-03-20T08:30:05Z"),
        ] {
            assert_eq!(read(None, false, t).as_deref(), Ok(want), "{t}");
        }
        let mut c = LocalClock::new(chrono_tz::Europe::Berlin);
        let (_, basis) = parse_any("2026-03-20 09:00:00 UTC", &mut c, &mut undecided()).unwrap();
        assert_eq!(basis, TimeBasis::Exact);
        let (ms, basis) = parse_any("20.03.2026 10:00", &mut c, &mut undecided()).unwrap();
        assert_eq!(
            (crate::import::ms_to_rfc3339(ms).as_str(), basis),
            ("2026-03-20T09:00:00Z", TimeBasis::Local)
        );
        for bad in [
            "31.04.2026 10:00",
            "2026-02-29 10:00",
            "2026-03-20 25:00",
            "2026-03-20 10:61",
            "2026-03-20 9",
        ] {
            assert!(read(None, false, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn slashed_dates_follow_the_files_order() {
        let dmy = Some(DateOrder::Dmy);
        let mdy = Some(DateOrder::Mdy);
        assert_eq!(
            read(dmy, false, "03/04/2026 14:05:33").as_deref(),
            Ok("2026-04-03T14:05:33Z")
        );
        assert_eq!(
            read(mdy, false, "03/04/2026 14:05:33").as_deref(),
            Ok("2026-03-04T14:05:33Z")
        );
        assert_eq!(
            read(dmy, false, "13/04/2026 09:00").as_deref(),
            Ok("2026-04-13T09:00:00Z")
        );
        assert_eq!(
            read(dmy, false, "3/4/2026, 9:00").as_deref(),
            Ok("2026-04-03T09:00:00Z")
        );
        // the same date either way needs no order
        assert_eq!(
            read(None, false, "04/04/2026 09:00").as_deref(),
            Ok("2026-04-04T09:00:00Z")
        );
        assert!(read(None, false, "03/04/2026 09:00")
            .unwrap_err()
            .contains("--date-order"));
        // a forced order the data contradicts
        let e = read(dmy, true, "04/13/2026 09:00").unwrap_err();
        assert!(
            e.contains("13 cannot be a month") && e.contains("--date-order dmy"),
            "{e}"
        );
        let e = read(Some(DateOrder::Ymd), true, "03/04/2026 09:00").unwrap_err();
        assert!(e.contains("year is the last field"), "{e}");
        assert!(read(dmy, true, "31/04/2026 09:00")
            .unwrap_err()
            .contains("not a calendar date"));
        // year-first slashes stay year-first whatever is forced
        assert_eq!(
            read(mdy, true, "2026/04/03 09:00").as_deref(),
            Ok("2026-04-03T09:00:00Z")
        );
    }

    #[test]
    fn twelve_hour_clock() {
        let dmy = Some(DateOrder::Dmy);
        for (t, want) in [
            ("3/4/2026 2:05:33 PM", "2026-04-03T14:05:33Z"),
            ("3/4/2026 2:05 pm", "2026-04-03T14:05:00Z"),
            ("3/4/2026 2:05:33\u{202f}PM", "2026-04-03T14:05:33Z"),
            ("3/4/2026 2:05\u{a0}p.m.", "2026-04-03T14:05:00Z"),
            ("3/4/2026 2:05 a.\u{a0}m.", "2026-04-03T02:05:00Z"),
            ("3/4/2026 12:05 AM", "2026-04-03T00:05:00Z"),
            ("3/4/2026 12:05 PM", "2026-04-03T12:05:00Z"),
            ("3/4/2026 2:05PM", "2026-04-03T14:05:00Z"),
            ("3/4/2026 2:05 PM UTC", "2026-04-03T14:05:00Z"),
            ("2026-04-03 11:59:59 PM", "2026-04-03T23:59:59Z"),
            ("3/4/2026 13:05 PM", "2026-04-03T13:05:00Z"),
        ] {
            assert_eq!(read(dmy, false, t).as_deref(), Ok(want), "{t}");
        }
        for bad in [
            "3/4/2026 13:05 AM",
            "3/4/2026 0:05 PM",
            "3/4/2026 2:05 PMX",
            "3/4/2026 2:5 PM",
        ] {
            assert!(read(dmy, false, bad).is_err(), "{bad}");
        }
        let mut c = LocalClock::new(chrono_tz::UTC);
        let mut d = DateReading::new(SlashRule::forced(DateOrder::Dmy));
        parse_any("3/4/2026 13:05 PM", &mut c, &mut d).unwrap();
        assert_eq!(d.marker_on_24h, 1);
        assert!(d.notes().iter().any(|n| n.contains("24-hour")), "{:?}", d.notes());
    }

    #[test]
    fn two_digit_years_only_with_a_forced_order() {
        let e = read(None, false, "03/04/26 14:05").unwrap_err();
        assert!(e.contains("two-digit year") && e.contains("--date-order"), "{e}");
        // inferred from a/b/yyyy dates is not enough: the year could still be first
        assert!(read(Some(DateOrder::Dmy), false, "03/04/26 14:05").is_err());
        assert!(read(None, false, "03.04.26 14:05")
            .unwrap_err()
            .contains("two-digit year"));
        assert_eq!(
            read(Some(DateOrder::Dmy), true, "03/04/26 14:05").as_deref(),
            Ok("2026-04-03T14:05:00Z")
        );
        assert_eq!(
            read(Some(DateOrder::Mdy), true, "03/04/26 2:05 PM").as_deref(),
            Ok("2026-03-04T14:05:00Z")
        );
        assert_eq!(
            read(Some(DateOrder::Ymd), true, "26/04/03 14:05").as_deref(),
            Ok("2026-04-03T14:05:00Z")
        );
        assert!(read(Some(DateOrder::Ymd), true, "3/4/26 14:05")
            .unwrap_err()
            .contains("digit"));
        assert!(read(Some(DateOrder::Dmy), true, "03/04/99 14:05")
            .unwrap_err()
            .contains("future"));
    }

    #[test]
    fn one_order_per_file_from_fields_over_twelve() {
        let day = evidence(&[
            "03/04/2026 10:00",
            "2026-04-01 10:00",
            "17/04/2026 10:00",
            "25/04/2026 9:00 AM",
        ]);
        let rule = day.decide().unwrap();
        assert_eq!((rule.order, rule.forced), (Some(DateOrder::Dmy), false));
        let note = rule.note.unwrap();
        assert!(
            note.contains("day-first") && note.contains("2 of 3") && note.contains("line 4"),
            "{note}"
        );

        let month = evidence(&["03/04/2026 10:00", "04/17/2026 10:00"]).decide().unwrap();
        assert_eq!(month.order, Some(DateOrder::Mdy));
        assert!(month.note.unwrap().contains("a second field over 12"));

        let none = evidence(&["03/04/2026 10:00", "05/06/2026 10:00", "2026-04-17 10:00"]);
        assert_eq!(none.decide().unwrap(), SlashRule::default());
        assert_eq!(none.slashed, 2);

        let e = evidence(&["03/04/2026 10:00", "13/04/2026 10:00", "04/13/2026 10:00"])
            .decide()
            .unwrap_err();
        assert!(
            e.contains("line 3") && e.contains("line 4") && e.contains("13/04/2026"),
            "{e}"
        );

        // impossible dates prove nothing: 31/02 and 02/31 fit neither order
        let odd = evidence(&["31/02/2026 10:00", "02/31/2026 10:00"]).decide().unwrap();
        assert_eq!(odd.order, None);
    }
}
