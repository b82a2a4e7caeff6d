//! Report settings: the definitions' parameters (docs/metrics.md) and the row filters.

use anyhow::{bail, Context, Result};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::model::Channel;

const HOUR_MS: i64 = 3_600_000;

/// Everything a report depends on besides the workspace. Durations are milliseconds.
#[derive(Debug, Clone)]
pub struct ReportSettings {
    /// A gap of at least this long between a customer's interactions starts a new episode.
    pub window_ms: i64,
    /// An inbound contact with no response within this time is unanswered.
    pub sla_ms: i64,
    /// A new contact within this time of the previous one, with no response in between, is a repeat contact.
    pub repeat_window_ms: i64,
    /// Consecutive inbound messages on one channel less than this apart (and no response in between) form one contact.
    pub contact_gap_ms: i64,
    /// Only interactions at or after this instant (ms UTC).
    pub since_ms: Option<i64>,
    /// Only interactions before this instant (ms UTC).
    pub until_ms: Option<i64>,
    /// Only these channels (empty: all).
    pub channels: Vec<Channel>,
    /// Time zone in which timestamps are shown (computations are always in UTC).
    pub display_tz: Tz,
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings {
            window_ms: 72 * HOUR_MS,
            sla_ms: 24 * HOUR_MS,
            repeat_window_ms: 7 * 24 * HOUR_MS,
            contact_gap_ms: 10 * 60_000,
            since_ms: None,
            until_ms: None,
            channels: Vec::new(),
            display_tz: chrono_tz::UTC,
        }
    }
}

/// Parses a duration such as `72h`, `7d`, `90m`, `1h 30m` into milliseconds.
pub fn parse_duration(flag: &str, text: &str) -> Result<i64> {
    let d = humantime::parse_duration(text.trim())
        .with_context(|| format!("{flag} {text:?}: expected a duration such as 72h, 7d or 90m"))?;
    if d.is_zero() {
        bail!("{flag} {text:?}: the duration must be greater than zero");
    }
    Ok(d.as_millis() as i64)
}

/// Parses `YYYY-MM-DD` (midnight in `tz`) or an RFC 3339 date-time into ms UTC.
pub fn parse_instant(flag: &str, text: &str, tz: Tz) -> Result<i64> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.timestamp_millis());
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        let midnight = d.and_hms_opt(0, 0, 0).expect("midnight exists");
        // A DST gap at midnight (some zones) moves to the first valid instant.
        let local = tz
            .from_local_datetime(&midnight)
            .earliest()
            .or_else(|| {
                tz.from_local_datetime(&(midnight + chrono::Duration::hours(1)))
                    .earliest()
            })
            .with_context(|| format!("{flag} {text:?}: midnight does not exist in {tz}"))?;
        return Ok(local.with_timezone(&Utc).timestamp_millis());
    }
    bail!("{flag} {text:?}: expected YYYY-MM-DD or an RFC 3339 date-time such as 2026-03-18T09:00:00Z")
}

/// Parses a channel name as the workspace writes it.
pub fn parse_channel(text: &str) -> Option<Channel> {
    Some(match text.trim().to_ascii_lowercase().as_str() {
        "whatsapp" => Channel::Whatsapp,
        "email" => Channel::Email,
        "call" | "calls" => Channel::Call,
        "sms" => Channel::Sms,
        "telegram" => Channel::Telegram,
        "instagram" => Channel::Instagram,
        "messenger" => Channel::Messenger,
        "contact" | "contacts" => Channel::Contact,
        _ => return None,
    })
}

/// Formats an instant in the display time zone, RFC 3339 with its offset (seconds precision).
pub fn format_ts(ms: i64, tz: Tz) -> String {
    match DateTime::from_timestamp_millis(ms) {
        Some(dt) if tz == chrono_tz::UTC => dt.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        Some(dt) => dt.with_timezone(&tz).format("%Y-%m-%dT%H:%M:%S%:z").to_string(),
        None => ms.to_string(),
    }
}

/// A duration in seconds as people read it: `45s`, `12m 17s`, `25h 48m`, `3d 4h`.
pub fn format_secs(secs: f64) -> String {
    let s = secs.round() as i64;
    if s > 0 && s % 86_400 == 0 {
        format!("{}d", s / 86_400)
    } else if s >= 3600 && s % 3600 == 0 {
        format!("{}h", s / 3600)
    } else if s >= 60 && s % 60 == 0 && s < 3600 {
        format!("{}m", s / 60)
    } else if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else if s < 72 * 3600 {
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    } else {
        format!("{}d {}h", s / 86_400, (s % 86_400) / 3600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms_of(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
    }

    #[test]
    fn durations_and_dates_parse_and_bad_ones_say_what_was_expected() {
        assert_eq!(parse_duration("--window", "72h").unwrap(), 72 * HOUR_MS);
        assert_eq!(parse_duration("--repeat-window", "7d").unwrap(), 7 * 24 * HOUR_MS);
        assert!(parse_duration("--sla", "soon")
            .unwrap_err()
            .to_string()
            .contains("--sla"));
        assert!(parse_duration("--sla", "0s").is_err());
        let london: Tz = "Europe/London".parse().unwrap();
        // 1 July is in BST: local midnight is 23:00 UTC the day before.
        assert_eq!(
            parse_instant("--since", "2026-07-01", london).unwrap(),
            DateTime::parse_from_rfc3339("2026-06-30T23:00:00Z")
                .unwrap()
                .timestamp_millis()
        );
        assert!(parse_instant("--until", "01/07/2026", london).is_err());
        assert_eq!(
            format_ts(ms_of("2026-03-30T07:55:00Z"), london),
            "2026-03-30T08:55:00+01:00"
        );
        assert_eq!(format_secs(72.0 * 3600.0), "3d");
        assert_eq!(format_secs(600.0), "10m");
        assert_eq!(format_secs(737.0), "12m 17s");
        assert_eq!(format_secs(92890.0), "25h 48m");
    }
}
