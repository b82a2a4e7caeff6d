//! Twilio call logs (Console CSV download and BulkExport fields), mapped by header name:
//! an inbound call forwarded to an agent is an `inbound` parent plus an `outbound-dial`
//! child whose `parent_call_sid` is the parent's SID. The parent is the customer call;
//! the child says who answered and for how long. Times are UTC.

use super::mapped::{find, Columns};

pub fn columns(headers: &[String]) -> Columns {
    Columns {
        ts: find(headers, &["starttime", "datecreated", "start", "date"]),
        from: find(headers, &["from"]),
        to: find(headers, &["to"]),
        name: find(headers, &["callername", "fromname", "callerid"]),
        duration: find(headers, &["duration", "durationseconds"]),
        status: find(headers, &["status", "callstatus"]),
        direction: find(headers, &["direction"]),
        group: find(headers, &["parentcallsid", "parentsid", "parentcall"]),
        id: find(headers, &["sid", "callsid"]),
        answered_by: find(headers, &["answeredby"]),
        ..Columns::default()
    }
}

/// A Twilio header: a call SID, a parent SID or `direction` with from/to/status.
pub fn is_twilio_header(headers: &[String]) -> bool {
    let c = columns(headers);
    c.id.is_some()
        && c.from.is_some()
        && c.to.is_some()
        && c.status.is_some()
        && c.ts.is_some()
        && (c.group.is_some() || c.direction.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::calls::mapped::norm_header;

    #[test]
    fn console_and_api_headers_are_recognised() {
        let h = |s: &str| s.split(',').map(norm_header).collect::<Vec<_>>();
        assert!(is_twilio_header(&h(
            "Call Sid,Parent Call Sid,Start Time,End Time,Duration,From,To,Direction,Status,Price"
        )));
        assert!(is_twilio_header(&h(
            "sid,parent_call_sid,date_created,from,to,status,start_time,duration,direction,answered_by"
        )));
        assert!(!is_twilio_header(&h("calldate,src,dst,duration,disposition")));
    }
}
