//! Call-log timestamps to UTC. PBXs write naive local wall-clock time (Asterisk: the
//! server's zone, or UTC with `usegmtime`, which the file does not say), so naive times are
//! read in `--tz`; text with an offset and epoch values are exact.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone};
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

/// Naive formats accepted in header CSVs. Day-first only with dots (a European
/// convention with no month-first counterpart); slashed `a/b/yyyy` is refused as ambiguous.
const NAIVE_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
];

/// How a timestamp was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBasis {
    /// Offset or epoch in the text: exact.
    Exact,
    /// Naive wall clock, read in the clock's zone.
    Local,
}

/// Any timestamp a call-log CSV is likely to hold, to UTC milliseconds.
pub fn parse_any(s: &str, clock: &mut LocalClock) -> Result<(i64, TimeBasis), String> {
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
    let plain = t.trim_end_matches(" UTC").trim_end_matches('Z');
    for f in NAIVE_FORMATS {
        if let Ok(n) = NaiveDateTime::parse_from_str(plain, f) {
            if plain.len() != t.len() {
                return Ok((n.and_utc().timestamp_millis(), TimeBasis::Exact));
            }
            return clock.to_utc_ms(n).map(|ms| (ms, TimeBasis::Local));
        }
    }
    if t.contains('/') {
        return Err(format!(
            "timestamp {t:?}: day/month order is ambiguous in a/b/yyyy dates; re-export as YYYY-MM-DD"
        ));
    }
    Err(format!(
        "timestamp {t:?}: expected YYYY-MM-DD HH:MM:SS, ISO 8601, RFC 2822, dd.mm.yyyy HH:MM or epoch"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn london_wall_clock_crosses_dst() {
        let mut c = LocalClock::new(chrono_tz::Europe::London);
        let winter = parse_any("2026-03-16 11:20:05", &mut c).unwrap().0;
        let summer = parse_any("2026-03-30 10:12:44", &mut c).unwrap().0;
        assert_eq!(crate::import::ms_to_rfc3339(winter), "2026-03-16T11:20:05Z");
        assert_eq!(crate::import::ms_to_rfc3339(summer), "2026-03-30T09:12:44Z");
        // cached hour gives the same answer
        assert_eq!(parse_any("2026-03-30 10:59:59", &mut c).unwrap().0, summer + 2_835_000);
    }

    #[test]
    fn exact_and_refused_forms() {
        let mut c = LocalClock::new(chrono_tz::UTC);
        assert_eq!(
            parse_any("Wed, 22 Jun 2016 19:27:30 +0000", &mut c).unwrap(),
            (1_466_623_650_000, TimeBasis::Exact)
        );
        assert_eq!(parse_any("1609632000000", &mut c).unwrap().0, 1_609_632_000_000);
        assert!(parse_any("10/02/2020 22:41", &mut c).unwrap_err().contains("ambiguous"));
        assert!(parse_any("10.02.2020 22:41", &mut c).is_ok());
        assert!(parse_any("yesterday", &mut c).is_err());
    }
}
