//! The user's overrides file: `force_link|never_link,identity_a,identity_b` per line,
//! applied after every rule and always obeyed.

use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverrideKind {
    ForceLink,
    NeverLink,
}

/// One override between two identities (indices into the collected identities).
#[derive(Debug, Clone)]
pub struct Override {
    pub kind: OverrideKind,
    pub a: u32,
    pub b: u32,
    /// `FILE line N`, for the link's evidence.
    pub origin: String,
}

/// Reads the overrides file. Blank lines, `#` comments and a header row
/// (`action,identity_a,identity_b`) are allowed; anything else that does not name two known
/// identities is an error with the file and line.
pub fn load(path: &Path, index: &HashMap<String, u32>) -> Result<Vec<Override>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read overrides file {}", path.display()))?;
    parse(&text, &path.display().to_string(), index)
}

pub fn parse(text: &str, name: &str, index: &HashMap<String, u32>) -> Result<Vec<Override>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("{name}: not valid CSV"))?;
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        let action = record.get(0).unwrap_or("").to_ascii_lowercase();
        if out.is_empty() && (action == "action" || action == "kind" || action == "rule") {
            continue;
        }
        let kind = match action.as_str() {
            "force_link" => OverrideKind::ForceLink,
            "never_link" => OverrideKind::NeverLink,
            other => bail!("{name} line {line}: expected force_link or never_link, found {other:?}"),
        };
        if record.len() != 3 {
            bail!(
                "{name} line {line}: expected 3 fields (action,identity_a,identity_b), found {}",
                record.len()
            );
        }
        let lookup = |id: &str| {
            index.get(id).copied().with_context(|| {
                format!("{name} line {line}: no identity {id:?} in the workspace (identities look like phone:+447700900123, email:ann@example.com, name:whatsapp:Ann)")
            })
        };
        let (a, b) = (lookup(&record[1])?, lookup(&record[2])?);
        if a == b {
            bail!("{name} line {line}: both sides are the same identity");
        }
        out.push(Override {
            kind,
            a,
            b,
            origin: format!("{name} line {line}"),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_actions_and_names_bad_lines() {
        let index: HashMap<String, u32> = [
            ("phone:+447700900123", 0),
            ("email:a@x.example", 1),
            ("name:whatsapp:Ann", 2),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let ok = parse(
            "action,identity_a,identity_b\n# keep apart\nforce_link,phone:+447700900123,email:a@x.example\n\nnever_link, name:whatsapp:Ann ,email:a@x.example\n",
            "o.csv",
            &index,
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!((ok[0].kind, ok[0].a, ok[0].b), (OverrideKind::ForceLink, 0, 1));
        assert_eq!((ok[1].kind, ok[1].a, ok[1].b), (OverrideKind::NeverLink, 2, 1));
        let err = parse("merge,phone:+447700900123,email:a@x.example\n", "o.csv", &index).unwrap_err();
        assert!(err.to_string().contains("o.csv line 1"), "{err}");
        let err = parse(
            "force_link,phone:+447700900123,email:nobody@x.example\n",
            "o.csv",
            &index,
        )
        .unwrap_err();
        assert!(err.to_string().contains("no identity"), "{err}");
    }
}
