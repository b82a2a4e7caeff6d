//! `omnitrail status`

use super::Globals;
use clap::Args;
use omnitrail::workspace::Workspace;

#[derive(Debug, Args)]
pub struct StatusArgs {}

pub fn run(g: &Globals, _args: StatusArgs) -> anyhow::Result<u8> {
    let ws = Workspace::open_existing(&g.workspace)?;
    let m = ws.manifest();
    if g.json {
        super::output::emit(serde_json::to_string_pretty(m)?);
        return Ok(0);
    }
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header([
        "source",
        "format",
        "read",
        "imported",
        "rejected",
        "duplicates",
        "first",
        "last",
    ]);
    let mut total = omnitrail::workspace::Counts::default();
    for s in &m.sources {
        table.add_row([
            s.path.clone(),
            s.format.clone(),
            s.counts.read.to_string(),
            s.counts.imported.to_string(),
            s.counts.rejected.to_string(),
            s.counts.duplicates.to_string(),
            s.first_ts.clone().unwrap_or_default(),
            s.last_ts.clone().unwrap_or_default(),
        ]);
        total.read += s.counts.read;
        total.imported += s.counts.imported;
        total.rejected += s.counts.rejected;
        total.duplicates += s.counts.duplicates;
    }
    table.add_row([
        format!("total ({} sources)", m.sources.len()),
        String::new(),
        total.read.to_string(),
        total.imported.to_string(),
        total.rejected.to_string(),
        total.duplicates.to_string(),
        String::new(),
        String::new(),
    ]);
    super::output::emit(format!("workspace: {}", ws.root().display()));
    super::output::emit(format!("{table}"));
    Ok(0)
}
