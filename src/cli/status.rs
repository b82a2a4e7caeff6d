//! `omnitrail status`

use super::output::{sources_table, SourceRow};
use super::Globals;
use clap::Args;
use comfy_table::{ColumnConstraint, Width};
use omnitrail::workspace::{Counts, SourceEntry, Workspace};

/// Sources per table: a larger workspace is listed in tables of this many rows, all with the
/// same column widths (comfy-table holds every cell of a table: 200 000 sources took 380 MB).
const TABLE_PAGE: usize = 1000;

#[derive(Debug, Args)]
pub struct StatusArgs {}

pub fn run(g: &Globals, _args: StatusArgs) -> anyhow::Result<u8> {
    let ws = Workspace::open_existing_whole(&g.workspace)?;
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
    let total_row = || SourceRow {
        path: &total_label,
        label: "",
        counts: total,
        first: None,
        last: None,
    };
    let pages: Vec<&[SourceEntry]> = m.sources.chunks(TABLE_PAGE).collect();
    let page = |i: usize| {
        let rows = pages.get(i).copied().unwrap_or_default().iter().map(|s| SourceRow {
            path: &s.path,
            label: &s.format,
            counts: s.counts,
            first: s.first_ts.as_deref(),
            last: s.last_ts.as_deref(),
        });
        let last = i + 1 >= pages.len();
        sources_table("format", rows.chain(last.then(total_row)))
    };
    super::output::emit(format!("workspace: {}", ws.root().display()));
    if pages.len() <= 1 {
        super::output::emit(format!("{}", page(0)));
        return Ok(0);
    }
    // Every page with the widest column widths of all.
    let mut widths = Vec::new();
    for i in 0..pages.len() {
        let page_widths = page(i).column_max_content_widths();
        widths.resize(page_widths.len(), 0);
        for (w, p) in widths.iter_mut().zip(page_widths) {
            *w = p.max(*w);
        }
    }
    for i in 0..pages.len() {
        let mut table = page(i);
        for (column, &w) in table.column_iter_mut().zip(&widths) {
            let padding = column.padding_width();
            column.set_constraint(ColumnConstraint::Absolute(Width::Fixed(w.saturating_add(padding))));
        }
        super::output::emit(format!("{table}"));
    }
    Ok(0)
}
