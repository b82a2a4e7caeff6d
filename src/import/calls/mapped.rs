//! CSVs with a header row, read by column name: FreePBX/CDR exports (`cdr_csv`), Twilio,
//! and generic files mapped with `--map`. The dialect decides which header means what
//! ([`Columns`]); this module turns a row into a [`Leg`].

use super::asterisk::{clid_name, endpoint, is_device};
use super::csv_input::{mangled_number, Row};
use super::leg::{Hint, Leg, LegOutcome};
use super::RowCtx;
use crate::import::csv_records::CsvRow;
use crate::model::Direction;

/// Which column holds what (indexes into the row); `None` when the file lacks it.
#[derive(Debug, Default, Clone)]
pub struct Columns {
    pub ts: Option<usize>,
    pub from: Option<usize>,
    pub to: Option<usize>,
    pub name: Option<usize>,
    pub clid: Option<usize>,
    pub did: Option<usize>,
    pub outbound_cnum: Option<usize>,
    pub duration: Option<usize>,
    pub billsec: Option<usize>,
    pub status: Option<usize>,
    pub cause_id: Option<usize>,
    pub direction: Option<usize>,
    pub agent: Option<usize>,
    pub channel: Option<usize>,
    pub dstchannel: Option<usize>,
    pub dcontext: Option<usize>,
    pub lastapp: Option<usize>,
    /// The id that groups legs (`linkedid`, Twilio parent SID)…
    pub group: Option<usize>,
    /// …and the row's own id (`uniqueid`, `callid`, SID), used when the group id is empty.
    pub id: Option<usize>,
    pub answered_by: Option<usize>,
}

/// How a flavour reads statuses and ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    /// PBX CDR with a header (FreePBX, CDR-Stats): Asterisk dispositions or Q.850 causes.
    Cdr,
    /// Twilio call log: parent/child SIDs, Twilio status and direction words.
    Twilio,
    /// Columns named by the user with `--map`.
    Generic,
}

/// Header text reduced for matching: lower case, letters and digits only.
pub fn norm_header(h: &str) -> String {
    h.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Finds the first header matching any of `names` (already normalised).
pub fn find(headers: &[String], names: &[&str]) -> Option<usize> {
    names.iter().find_map(|n| headers.iter().position(|h| h == n))
}

/// A status word from any vendor to a leg outcome.
pub fn status_word(word: &str) -> LegOutcome {
    let w: String = word.trim().to_ascii_lowercase().replace(['_', '-'], " ");
    match w.as_str() {
        "answered" | "completed" | "connected" | "call connected" | "accepted" | "answer" | "normal clearing"
        | "human" | "in progress" | "ok" | "success" | "successful" | "answered by human" => LegOutcome::Person,
        "missed" | "no answer" | "noanswer" | "unanswered" | "abandoned" | "cancelled" | "canceled" | "rejected"
        | "declined" | "no user response" | "originator cancel" | "call rejected" | "hang up" | "hangup"
        | "not answered" | "ringing" => LegOutcome::NoAnswer,
        "voicemail"
        | "voice mail"
        | "vm"
        | "machine start"
        | "machine end beep"
        | "machine end silence"
        | "machine end other" => LegOutcome::Voicemail,
        "busy" | "user busy" => LegOutcome::Busy,
        "failed"
        | "failure"
        | "congestion"
        | "error"
        | "unallocated number"
        | "recovery on timer expire"
        | "network out of order"
        | "normal temporary failure" => LegOutcome::Failed,
        _ => LegOutcome::Unknown,
    }
}

/// A direction word or code (`inbound`, `Incoming`, `1`/`2` in CDR-Stats).
pub fn direction_word(word: &str) -> Option<Direction> {
    let w = word.trim().to_ascii_lowercase();
    match w.as_str() {
        "inbound" | "incoming" | "in" | "1" | "trunking-originating" | "received" => Some(Direction::Inbound),
        "outbound"
        | "outgoing"
        | "out"
        | "2"
        | "outbound-api"
        | "outbound-dial"
        | "trunking-terminating"
        | "placed"
        | "dialed" => Some(Direction::Outbound),
        "internal" | "local" | "3" => Some(Direction::Internal),
        _ => None,
    }
}

/// Q.850 cause codes (CDR-Stats `hangup_cause_id`).
fn cause_code(code: i64, talk: i64) -> LegOutcome {
    match code {
        16 if talk > 0 => LegOutcome::Person,
        16 | 18 | 19 | 21 => LegOutcome::NoAnswer,
        17 => LegOutcome::Busy,
        _ => LegOutcome::Failed,
    }
}

fn secs(row: &Row<'_>, col: Option<usize>, what: &str) -> Result<Option<i64>, String> {
    let Some(i) = col else { return Ok(None) };
    let v = row.field(i);
    let t = v.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if let Ok(n) = t.parse::<i64>() {
        return Ok(Some(n));
    }
    if let Ok(f) = t.replace(',', ".").parse::<f64>() {
        return Ok(Some(f.round() as i64));
    }
    // h:mm:ss or mm:ss
    let parts: Vec<&str> = t.split(':').collect();
    if (2..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return Ok(Some(
            parts
                .iter()
                .fold(0i64, |acc, p| acc * 60 + p.parse::<i64>().unwrap_or(0)),
        ));
    }
    Err(format!("{what} {t:?} is not a number of seconds"))
}

/// Reads one row of a header CSV.
pub fn leg(rec: &CsvRow, line: u64, cols: &Columns, flavor: Flavor, ctx: &mut RowCtx) -> Result<Leg, String> {
    let row = Row::new(rec);
    let get = |c: Option<usize>| {
        c.map(|i| compact_str::CompactString::from(row.field(i).trim()))
            .unwrap_or_default()
    };
    let ts_raw = get(cols.ts);
    let (start_ms, _basis) = if flavor == Flavor::Twilio {
        super::time::parse_any(&ts_raw, &mut ctx.utc_clock, &mut ctx.dates)?
    } else {
        super::time::parse_any(&ts_raw, &mut ctx.clock, &mut ctx.dates)?
    };
    let from = get(cols.from);
    let to = get(cols.to);
    for n in [&from, &to] {
        if let Some(why) = mangled_number(n, ctx.region, ctx.spreadsheet) {
            return Err(why);
        }
    }
    let billsec = secs(&row, cols.billsec, "billsec")?;
    let duration = secs(&row, cols.duration, "duration")?;
    let talk = billsec.or(duration).unwrap_or(0);
    let dstchannel = cols.dstchannel.and_then(|i| endpoint(&row.field(i)));
    let status = get(cols.status);
    let answered_by = get(cols.answered_by).to_ascii_lowercase();
    let mut outcome = if cols.status.is_some() && !status.is_empty() {
        match status.to_ascii_uppercase().as_str() {
            // Asterisk dispositions in a FreePBX export: a person answered only with a destination channel.
            "ANSWERED" if cols.dstchannel.is_some() => {
                if dstchannel.is_some() {
                    LegOutcome::Person
                } else if get(cols.lastapp).eq_ignore_ascii_case("voicemail") {
                    LegOutcome::Voicemail
                } else {
                    LegOutcome::Machine
                }
            }
            _ => status_word(&status),
        }
    } else if let Some(code) = cols
        .cause_id
        .map(|i| row.field(i).trim().to_string())
        .filter(|c| !c.is_empty())
    {
        let code: i64 = code
            .parse()
            .map_err(|_| format!("hangup cause {code:?} is not a Q.850 number"))?;
        cause_code(code, talk)
    } else if talk > 0 {
        LegOutcome::Person
    } else {
        LegOutcome::NoAnswer
    };
    if flavor == Flavor::Twilio {
        if answered_by.starts_with("machine") || answered_by == "fax" {
            outcome = LegOutcome::Voicemail;
        } else if status.eq_ignore_ascii_case("completed") && talk == 0 {
            // A completed call of 0 s is an immediate hang-up.
            outcome = LegOutcome::NoAnswer;
        }
    }
    if outcome == LegOutcome::Unknown {
        ctx.unknown_status += 1;
    }
    let group_id = get(cols.group);
    let own_id = get(cols.id);
    let (group, child) = match flavor {
        Flavor::Twilio if !group_id.is_empty() => (Some(group_id), true),
        _ if !group_id.is_empty() => (Some(group_id), false),
        _ if !own_id.is_empty() => (Some(own_id), false),
        _ => (None, false),
    };
    let direction_raw = get(cols.direction);
    let mut hint = Hint {
        direction: direction_word(&direction_raw),
        strong: flavor == Flavor::Twilio || (cols.direction.is_some() && !direction_raw.is_empty()),
    };
    if hint.direction.is_none() {
        if !get(cols.did).is_empty() {
            hint = Hint {
                direction: Some(Direction::Inbound),
                strong: false,
            };
        } else if !get(cols.outbound_cnum).is_empty() {
            hint = Hint {
                direction: Some(Direction::Outbound),
                strong: false,
            };
        } else {
            hint.strong = false;
        }
    }
    if flavor == Flavor::Twilio && direction_raw == "outbound-dial" && !child {
        // A <Dial> leg without its parent in the file: still the business calling out.
        hint.direction = Some(Direction::Outbound);
    }
    let name = {
        let n = get(cols.name);
        let n = crate::normalize::text::clean_name(&n);
        if !n.is_empty() && n != from && !n.eq_ignore_ascii_case("(unknown)") {
            Some(n.into())
        } else {
            cols.clid.and_then(|i| clid_name(&row.field(i), &from))
        }
    };
    let agent = get(cols.agent);
    let channel = cols.channel.and_then(|i| endpoint(&row.field(i)));
    let callee_endpoint = if !agent.is_empty() {
        Some(agent.clone())
    } else {
        dstchannel
    };
    let callee_endpoint = match (flavor, callee_endpoint) {
        (Flavor::Twilio, None) => Some(to.clone()).filter(|t| !t.is_empty()),
        (_, e) => e,
    };
    let caller_is_device = channel.as_deref().is_some_and(is_device);
    Ok(Leg {
        line,
        group,
        own_ref: compact_str::format_compact!("line:{line}"),
        start_ms,
        ts_raw,
        from,
        name,
        to,
        outcome,
        talk_s: Some(if outcome == LegOutcome::Person { talk } else { 0 }),
        callee_endpoint,
        caller_endpoint: channel.or_else(|| (!agent.is_empty()).then_some(agent)),
        caller_is_device,
        hint,
        child,
        dedup_extra: compact_str::CompactString::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_words_map_to_outcomes() {
        assert_eq!(status_word("NO ANSWER"), LegOutcome::NoAnswer);
        assert_eq!(status_word("no-answer"), LegOutcome::NoAnswer);
        assert_eq!(status_word("Call connected"), LegOutcome::Person);
        assert_eq!(status_word("USER_BUSY"), LegOutcome::Busy);
        assert_eq!(status_word("Voicemail"), LegOutcome::Voicemail);
        assert_eq!(status_word("ORIGINATOR_CANCEL"), LegOutcome::NoAnswer);
        assert_eq!(status_word("weird"), LegOutcome::Unknown);
        assert_eq!(direction_word("Incoming"), Some(Direction::Inbound));
        assert_eq!(direction_word("outbound-dial"), Some(Direction::Outbound));
        assert_eq!(norm_header("Call SID"), "callsid");
    }
}
