//! `omnitrail status`

use super::output::{sources_table, SourceRow};
use super::Globals;
use clap::Args;
use omnitrail::workspace::{Counts, Workspace};

#[derive(Debug, Args)]
pub struct StatusArgs {}

pub fn run(g: &Globals, _args: StatusArgs) -> anyhow::Result<u8> {
    let ws = Workspace::open_existing(&g.workspace)?;
    let m = ws.manifest()?;
    if g.json {
        super::output::emit_json(m)?;
        return Ok(0);
    }
    let mut total = Counts::default();
    for s in &m.sources {
        total += s.counts;
    }
    let total_label = format!("total ({} sources)", m.sources.len());
    let rows = m.sources.iter().map(|s| SourceRow {
        path: &s.path,
        label: &s.format,
        counts: s.counts,
        first: s.first_ts.as_deref(),
        last: s.last_ts.as_deref(),
    });
    let total_row = SourceRow {
        path: &total_label,
        label: "",
        counts: total,
        first: None,
        last: None,
    };
    let table = sources_table("format", rows.chain(std::iter::once(total_row)));
    super::output::emit(format!("workspace: {}", ws.root().display()));
    super::output::emit(format!("{table}"));
    Ok(0)
}
