//! Day/month/year order, decided once per file from all of its dates — never per line.

use chrono::NaiveDate;
use std::fmt;

/// Which header field holds the year, the month and the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum DateOrder {
    Dmy,
    Mdy,
    Ymd,
    /// year in the middle: `06/2018/13` (month, year, day)
    Myd,
    /// year in the middle, day first: `13/2018/06`
    Dym,
}

impl DateOrder {
    pub const ALL: [DateOrder; 5] = [
        DateOrder::Dmy,
        DateOrder::Mdy,
        DateOrder::Ymd,
        DateOrder::Myd,
        DateOrder::Dym,
    ];

    /// The `--date-order` word of the order.
    pub fn flag(self) -> &'static str {
        match self {
            DateOrder::Dmy => "dmy",
            DateOrder::Mdy => "mdy",
            DateOrder::Ymd => "ymd",
            DateOrder::Myd => "myd",
            DateOrder::Dym => "dym",
        }
    }

    /// (year index, month index, day index)
    fn positions(self) -> (usize, usize, usize) {
        match self {
            DateOrder::Dmy => (2, 1, 0),
            DateOrder::Mdy => (2, 0, 1),
            DateOrder::Ymd => (0, 1, 2),
            DateOrder::Myd => (1, 0, 2),
            DateOrder::Dym => (1, 2, 0),
        }
    }

    pub fn parse(s: &str) -> Result<DateOrder, String> {
        match s.to_ascii_lowercase().as_str() {
            "dmy" => Ok(DateOrder::Dmy),
            "mdy" => Ok(DateOrder::Mdy),
            "ymd" => Ok(DateOrder::Ymd),
            "myd" => Ok(DateOrder::Myd),
            "dym" => Ok(DateOrder::Dym),
            _ => Err(format!("unknown date order {s:?}: expected dmy, mdy or ymd")),
        }
    }

    /// The calendar date of raw header fields under this order; `None` if impossible.
    /// Two-digit years are 20yy: WhatsApp did not exist before 2009.
    pub fn date(self, fields: [u32; 3]) -> Option<NaiveDate> {
        let (y, m, d) = self.positions();
        let mut year = fields[y];
        if year < 100 {
            year += 2000;
        }
        if !(2009..=2100).contains(&year) {
            return None;
        }
        NaiveDate::from_ymd_opt(year as i32, fields[m], fields[d])
    }

    fn fits_width(self, year4_at: Option<u8>) -> bool {
        match year4_at {
            Some(i) => self.positions().0 == i as usize,
            // Without a 4-digit field the year can only be read at either end.
            None => matches!(self, DateOrder::Dmy | DateOrder::Mdy | DateOrder::Ymd),
        }
    }
}

impl fmt::Display for DateOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DateOrder::Dmy => "day-month-year",
            DateOrder::Mdy => "month-day-year",
            DateOrder::Ymd => "year-month-day",
            DateOrder::Myd => "month-year-day",
            DateOrder::Dym => "day-year-month",
        })
    }
}

/// How a date order was arrived at, for the import notes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Decision {
    Forced(DateOrder),
    /// Every other order produces an impossible date.
    Certain {
        order: DateOrder,
        evidence: String,
    },
    /// Several orders are possible; this one keeps the chat in chronological order.
    Chronology {
        order: DateOrder,
        evidence: String,
    },
    /// All possible orders give the same dates (e.g. only `1/1/21`).
    Irrelevant(DateOrder),
}

impl Decision {
    pub fn order(&self) -> DateOrder {
        match self {
            Decision::Forced(o) | Decision::Irrelevant(o) => *o,
            Decision::Certain { order, .. } | Decision::Chronology { order, .. } => *order,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Decision::Forced(o) => format!("date order {o} (forced by --date-order)"),
            Decision::Certain { order, evidence } => format!("date order {order}: {evidence}"),
            Decision::Chronology { order, evidence } => {
                format!("date order {order} inferred from chronology, not certain: {evidence}; use --date-order to override")
            }
            Decision::Irrelevant(o) => {
                format!("date order {o}: every date reads the same in any order")
            }
        }
    }
}

/// The last date an export read today can hold (two days of slack for time zones and clocks).
fn latest_possible_date() -> NaiveDate {
    chrono::Utc::now().date_naive() + chrono::Duration::days(2)
}

/// For each order of [`DateOrder::ALL`], whether it cannot read `fields` as a date. An
/// export cannot contain dates after the day it was read: that rules out readings such as
/// `29.1.18` as 2029-01-18.
fn impossible_readings(fields: [u32; 3]) -> [bool; 5] {
    let latest = latest_possible_date();
    DateOrder::ALL.map(|order| order.date(fields).is_none_or(|d| d > latest))
}

/// Collects the dates of one header shape and decides their order.
#[derive(Debug, Default, Clone)]
pub struct DateEvidence {
    /// Distinct consecutive raw date triples in file order (capped).
    sequence: Vec<[u32; 3]>,
    /// For each order: the first raw date (and line) it cannot read.
    impossible: [Option<([u32; 3], u64)>; 5],
    impossible_count: [u64; 5],
    distinct: u64,
    pub year4_at: Option<u8>,
}

const SEQUENCE_CAP: usize = 200_000;

impl DateEvidence {
    pub fn new(year4_at: Option<u8>) -> DateEvidence {
        DateEvidence {
            year4_at,
            ..Default::default()
        }
    }

    pub fn add(&mut self, fields: [u32; 3], line: u64) {
        if self.sequence.last() == Some(&fields) {
            return;
        }
        self.distinct += 1;
        for (k, impossible) in impossible_readings(fields).into_iter().enumerate() {
            if impossible {
                self.impossible_count[k] += 1;
                if self.impossible[k].is_none() {
                    self.impossible[k] = Some((fields, line));
                }
            }
        }
        if self.sequence.len() < SEQUENCE_CAP {
            self.sequence.push(fields);
        }
    }

    /// Adds the evidence gathered from the rest of the file, whose line numbers start after
    /// `line_base`, as if one pass had read on. `false` when that cannot be told exactly
    /// (the date list would reach its cap).
    pub fn append(&mut self, later: DateEvidence, line_base: u64) -> bool {
        if self.sequence.len() + later.sequence.len() >= SEQUENCE_CAP {
            return false;
        }
        let mut dates = later.sequence.into_iter().peekable();
        let mut counts = later.impossible_count;
        let mut distinct = later.distinct;
        if let Some(first) = dates.next_if(|first| self.sequence.last() == Some(first)) {
            // One pass would not have counted the date it had just seen.
            distinct -= 1;
            for (k, impossible) in impossible_readings(first).into_iter().enumerate() {
                counts[k] -= u64::from(impossible);
            }
        }
        self.sequence.extend(dates);
        self.distinct += distinct;
        for (count, more) in self.impossible_count.iter_mut().zip(counts) {
            *count += more;
        }
        for (first, later) in self.impossible.iter_mut().zip(later.impossible) {
            if first.is_none() {
                *first = later.map(|(fields, line)| (fields, line + line_base));
            }
        }
        true
    }

    /// Decides the order, or explains why it cannot.
    pub fn decide(&self, sep: char) -> Result<Decision, String> {
        let candidates: Vec<DateOrder> = DateOrder::ALL
            .iter()
            .enumerate()
            .filter(|(k, o)| o.fits_width(self.year4_at) && self.impossible[*k].is_none())
            .map(|(_, o)| *o)
            .collect();
        let show = |f: [u32; 3]| format!("{}{sep}{}{sep}{}", f[0], f[1], f[2]);
        if candidates.is_empty() {
            // A few hand-edited or corrupt dates must not sink a whole export: when one
            // order reads all but at most 1% of the dates, use it and reject the rest.
            let best = DateOrder::ALL
                .iter()
                .enumerate()
                .filter(|(_, o)| o.fits_width(self.year4_at))
                .min_by_key(|(k, _)| self.impossible_count[*k]);
            if let Some((k, order)) = best {
                let bad = self.impossible_count[k];
                let unique = DateOrder::ALL
                    .iter()
                    .enumerate()
                    .filter(|(j, o)| o.fits_width(self.year4_at) && *j != k)
                    .all(|(j, _)| self.impossible_count[j] > bad);
                if unique && bad * 100 <= self.distinct {
                    let (f, line) = self.impossible[k].unwrap_or(([0, 0, 0], 0));
                    return Ok(Decision::Certain {
                        order: *order,
                        evidence: format!(
                            "every other order fails more often; {bad} date(s) impossible in this order (first: {} at line {line}) are rejected",
                            show(f)
                        ),
                    });
                }
            }
            let (f, line) = DateOrder::ALL
                .iter()
                .enumerate()
                .filter(|(_, o)| o.fits_width(self.year4_at))
                .filter_map(|(k, _)| self.impossible[k])
                .max_by_key(|(_, line)| *line)
                .unwrap_or(([0, 0, 0], 0));
            return Err(format!(
                "no day/month/year order reads every date (line {line}: {} is impossible in every order: not a date, or after {latest})",
                show(f),
                latest = latest_possible_date()
            ));
        }
        if candidates.len() == 1 {
            let order = candidates[0];
            let ruled_out: Vec<String> = DateOrder::ALL
                .iter()
                .enumerate()
                .filter(|(_, o)| o.fits_width(self.year4_at) && **o != order)
                .filter_map(|(k, o)| {
                    self.impossible[k].map(|(f, line)| format!("{} at line {line} rules out {o}", show(f)))
                })
                .collect();
            let evidence = if ruled_out.is_empty() {
                "the 4-digit year fixes the order".to_string()
            } else {
                ruled_out.join("; ")
            };
            return Ok(Decision::Certain { order, evidence });
        }
        let same = self
            .sequence
            .iter()
            .all(|f| candidates.iter().all(|o| o.date(*f) == candidates[0].date(*f)));
        if same {
            return Ok(Decision::Irrelevant(candidates[0]));
        }
        // Chronology: a wrong order makes a chat jump backwards in time.
        let mut scored: Vec<(DateOrder, usize, i64)> = candidates
            .iter()
            .map(|o| {
                let dates: Vec<NaiveDate> = self.sequence.iter().filter_map(|f| o.date(*f)).collect();
                let mut steps = 0;
                let mut days = 0;
                for w in dates.windows(2) {
                    if w[1] < w[0] {
                        steps += 1;
                        days += (w[0] - w[1]).num_days();
                    }
                }
                (*o, steps, days)
            })
            .collect();
        scored.sort_by_key(|&(_, steps, days)| (steps, days));
        let (best, s0, d0) = scored[0];
        let (second, s1, d1) = scored[1];
        if (s0, d0) == (s1, d1) {
            let dates: Vec<String> = self.sequence.iter().take(3).map(|f| show(*f)).collect();
            return Err(format!(
                "day/month order is ambiguous: every date ({}{}) is valid as {best} and as {second}, and neither keeps the chat more chronological; rerun with --date-order {}",
                dates.join(", "),
                if self.sequence.len() > 3 { ", …" } else { "" },
                candidates.iter().map(|o| o.flag()).collect::<Vec<_>>().join("|")
            ));
        }
        Ok(Decision::Chronology {
            order: best,
            evidence: format!("{best} goes back in time {s0} time(s) ({d0} days), {second} {s1} time(s) ({d1} days)"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn evidence(dates: &[[u32; 3]], year4_at: Option<u8>) -> DateEvidence {
        let mut e = DateEvidence::new(year4_at);
        for (i, d) in dates.iter().enumerate() {
            e.add(*d, i as u64 + 1);
        }
        e
    }

    #[test]
    fn a_day_above_twelve_decides() {
        let d = evidence(&[[1, 2, 2019], [20, 2, 2019]], Some(2)).decide('/').unwrap();
        assert!(
            matches!(
                d,
                Decision::Certain {
                    order: DateOrder::Dmy,
                    ..
                }
            ),
            "{d:?}"
        );
        let d = evidence(&[[1, 20, 19]], None).decide('/').unwrap();
        assert_eq!(d.order(), DateOrder::Mdy);
    }

    #[test]
    fn chronology_decides_when_all_fields_are_small() {
        let d = evidence(&[[1, 2, 21], [1, 5, 21], [1, 9, 21], [2, 1, 21]], Some(2))
            .decide('/')
            .unwrap();
        assert!(
            matches!(
                d,
                Decision::Chronology {
                    order: DateOrder::Mdy,
                    ..
                }
            ),
            "{d:?}"
        );
    }

    #[test]
    fn undecidable_is_an_error_not_a_guess() {
        assert!(evidence(&[[3, 4, 21]], None).decide('/').is_err());
        assert!(matches!(
            evidence(&[[1, 1, 21]], Some(2)).decide('/'),
            Ok(Decision::Irrelevant(_))
        ));
    }
}

#[cfg(test)]
mod tolerance_tests {
    use super::*;

    #[test]
    fn one_impossible_date_among_many_is_rejected_not_fatal() {
        let mut e = DateEvidence::new(Some(2));
        for day in 1..=28 {
            for month in [1, 2, 3, 5] {
                e.add([day, month, 2020], u64::from(day));
            }
        }
        e.add([31, 4, 2020], 999);
        let d = e.decide('/').unwrap();
        assert_eq!(d.order(), DateOrder::Dmy, "{d:?}");
    }
}
