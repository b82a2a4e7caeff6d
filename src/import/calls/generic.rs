//! Any other vendor's CSV, with the columns named by the user:
//! `--map ts=Start,from=Caller,to=Callee,duration=Seconds,status=Result,agent=Extension`.

use super::mapped::{norm_header, Columns};

/// Keys `--map` accepts, and what each means.
pub const KEYS: &[(&str, &str)] = &[
    ("ts", "call start time (required)"),
    ("from", "caller number (required)"),
    ("to", "called number (required)"),
    ("duration", "talk time in seconds"),
    ("status", "outcome word (answered, missed, busy, voicemail, failed, …)"),
    ("agent", "answering extension or user"),
    ("direction", "inbound/outbound/internal"),
    ("name", "caller-ID name"),
    ("call_id", "id shared by the legs of one call"),
    ("parent_id", "id of the parent leg"),
];

/// A parsed `--map`: key → header name as the user wrote it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ColumnMap(pub Vec<(String, String)>);

impl ColumnMap {
    /// Parses `key=Header,key=Header`. Unknown keys and missing required ones are errors.
    pub fn parse(spec: &str) -> Result<ColumnMap, String> {
        let mut out = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("--map: {part:?} is not key=Column"))?;
            let k = k.trim().to_ascii_lowercase();
            if !KEYS.iter().any(|(key, _)| *key == k) {
                return Err(format!(
                    "--map: unknown key {k:?}; expected one of {}",
                    KEYS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
                ));
            }
            out.push((k, v.trim().to_string()));
        }
        for required in ["ts", "from", "to"] {
            if !out.iter().any(|(k, _)| k == required) {
                return Err(format!(
                    "--map: `{required}=COLUMN` is required (ts, from and to always are)"
                ));
            }
        }
        Ok(ColumnMap(out))
    }

    /// Resolves the map against a header row; names a missing column.
    pub fn columns(&self, headers: &[String]) -> Result<Columns, String> {
        let mut c = Columns::default();
        for (k, v) in &self.0 {
            let want = norm_header(v);
            let i = headers
                .iter()
                .position(|h| *h == want)
                .ok_or_else(|| format!("--map {k}={v}: the header has no column {v:?}"))?;
            let slot = match k.as_str() {
                "ts" => &mut c.ts,
                "from" => &mut c.from,
                "to" => &mut c.to,
                "duration" => &mut c.billsec,
                "status" => &mut c.status,
                "agent" => &mut c.agent,
                "direction" => &mut c.direction,
                "name" => &mut c.name,
                "call_id" => &mut c.id,
                "parent_id" => &mut c.group,
                _ => continue,
            };
            *slot = Some(i);
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_map_names_columns_and_requires_ts_from_to() {
        let m =
            ColumnMap::parse("ts=Start,from=Caller,to=Callee,duration=Seconds,status=Result,agent=Extension").unwrap();
        let headers: Vec<String> = "Start,Caller,Callee,Seconds,Result,Extension"
            .split(',')
            .map(norm_header)
            .collect();
        let c = m.columns(&headers).unwrap();
        assert_eq!(
            (c.ts, c.from, c.to, c.billsec, c.status, c.agent),
            (Some(0), Some(1), Some(2), Some(3), Some(4), Some(5))
        );
        assert!(ColumnMap::parse("ts=Start,from=Caller")
            .unwrap_err()
            .contains("to=COLUMN"));
        assert!(ColumnMap::parse("ts=Start,from=A,to=B,colour=C")
            .unwrap_err()
            .contains("unknown key"));
        assert!(m.columns(&["start".into()]).unwrap_err().contains("Caller"));
    }
}
