//! PBX CDR exports with a header row: FreePBX "CDR Reports → Download CSV" (the
//! `asteriskcdrdb.cdr` columns), CDR-Stats and similar switch exports. Columns are found
//! by their names, never by position.

use super::mapped::{find, Columns};

/// Column names of a FreePBX/CDR-style header, normalised (see [`super::mapped::norm_header`]).
pub fn columns(headers: &[String]) -> Columns {
    Columns {
        ts: find(
            headers,
            &[
                "calldate",
                "startingdate",
                "start",
                "starttime",
                "callstart",
                "timestart",
                "datetime",
                "date",
                "timestamp",
            ],
        ),
        from: find(
            headers,
            &[
                "src",
                "cnum",
                "calleridnumber",
                "callernumber",
                "caller",
                "from",
                "fromnumber",
                "fromno",
                "source",
            ],
        ),
        to: find(
            headers,
            &[
                "dst",
                "destinationnumber",
                "destination",
                "callednumber",
                "callee",
                "to",
                "tonumber",
                "tono",
                "dialno",
            ],
        ),
        name: find(
            headers,
            &["cnam", "calleridname", "callername", "fromname", "fromdispname"],
        ),
        clid: find(headers, &["clid"]),
        did: find(headers, &["did"]),
        outbound_cnum: find(headers, &["outboundcnum"]),
        duration: find(headers, &["duration"]),
        billsec: find(headers, &["billsec", "talktime", "talkseconds"]),
        status: find(
            headers,
            &["disposition", "hangupcause", "status", "result", "reasonterminated"],
        ),
        cause_id: find(headers, &["hangupcauseid"]),
        direction: find(headers, &["direction"]),
        agent: find(headers, &["agent", "answeredby", "user"]),
        channel: find(headers, &["channel"]),
        dstchannel: find(headers, &["dstchannel"]),
        dcontext: find(headers, &["dcontext"]),
        lastapp: find(headers, &["lastapp"]),
        group: find(headers, &["linkedid"]),
        id: find(headers, &["uniqueid", "callid", "uuid"]),
        answered_by: None,
    }
}

/// A header is a call log's when it names a start time, a caller, a callee and a
/// duration or outcome. A contacts CSV (name, email, phone) has none of the time columns.
pub fn is_cdr_header(headers: &[String]) -> bool {
    let c = columns(headers);
    c.ts.is_some()
        && c.from.is_some()
        && c.to.is_some()
        && (c.duration.is_some() || c.billsec.is_some() || c.status.is_some() || c.cause_id.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::calls::mapped::norm_header;

    fn h(s: &str) -> Vec<String> {
        s.split(',').map(norm_header).collect()
    }

    #[test]
    fn freepbx_and_cdrstats_headers_are_call_logs_and_contacts_are_not() {
        assert!(is_cdr_header(&h("calldate,clid,src,dst,dcontext,channel,dstchannel,lastapp,lastdata,duration,billsec,disposition,amaflags,accountcode,uniqueid,userfield,did,cnum,cnam,outbound_cnum,outbound_cnam,dst_cnam,recordingfile,linkedid,peeraccount,sequence")));
        assert!(is_cdr_header(&h("switch,cdr_source_type,callid,caller_id_number,caller_id_name,destination_number,dialcode,state,channel,starting_date,duration,billsec")));
        assert!(!is_cdr_header(&h("First Name,Last Name,Email,Phone,Company")));
        assert!(!is_cdr_header(&h("name,email,phone,mobile,created date")));
    }
}
