//! `omnitrail status`

use super::output::{emit, emit_streamed, sources_table, SourceRow};
use super::Globals;
use clap::Args;
use comfy_table::{ColumnConstraint, Width};
use omnitrail::workspace::{Counts, SourceEntry, Workspace};

/// Sources per table: a larger workspace is listed in tables of this many rows, all with the
/// same column widths (comfy-table holds every cell of a table: 200 000 sources took 380 MB).
const TABLE_PAGE: usize = 1000;

#[derive(Debug, Args)]
pub struct StatusArgs {}

/// Lists the workspace's sources. The manifest is read entry by entry, twice for a table
/// (totals and column widths, then the rows) and once for `--json`: memory does not grow
/// with the number of sources (200 000 of them read whole took 250 MB).
pub fn run(g: &Globals, _args: StatusArgs) -> anyhow::Result<u8> {
    let ws = Workspace::open_existing(&g.workspace)?;
    if g.json {
        emit_streamed(|out| ws.write_manifest_json(out))?;
        return Ok(0);
    }
    // First pass: the totals, and every column's widest cell over all pages.
    let (mut total, mut sources, mut widths) = (Counts::default(), 0usize, Vec::new());
    let mut widen = |table: comfy_table::Table| {
        let page_widths = table.column_max_content_widths();
        widths.resize(page_widths.len().max(widths.len()), 0);
        for (w, p) in widths.iter_mut().zip(page_widths) {
            *w = p.max(*w);
        }
    };
    for_each_page(&ws, |page| {
        sources += page.len();
        page.iter().for_each(|s| total += s.counts);
        widen(sources_table("format", page.iter().map(row)));
        Ok(())
    })?;
    let total_label = format!("total ({sources} sources)");
    let total_row = || SourceRow {
        path: &total_label,
        label: "",
        counts: total,
        first: None,
        last: None,
    };
    widen(sources_table("format", [total_row()]));
    emit(format!("workspace: {}", ws.root().display()));
    if sources == 0 {
        emit(sources_table("format", [total_row()]));
        return Ok(0);
    }
    // Second pass: the rows. Several pages all get the widest column widths of all.
    let pages = sources.div_ceil(TABLE_PAGE);
    let mut printed = 0;
    for_each_page(&ws, |page| {
        printed += 1;
        let last = (printed == pages).then(total_row);
        let mut table = sources_table("format", page.iter().map(row).chain(last));
        if pages > 1 {
            for (column, &w) in table.column_iter_mut().zip(&widths) {
                let padding = column.padding_width();
                column.set_constraint(ColumnConstraint::Absolute(Width::Fixed(w.saturating_add(padding))));
            }
        }
        emit(table);
        Ok(())
    })?;
    Ok(0)
}

fn row(s: &SourceEntry) -> SourceRow<'_> {
    SourceRow {
        path: &s.path,
        label: &s.format,
        counts: s.counts,
        first: s.first_ts.as_deref(),
        last: s.last_ts.as_deref(),
    }
}

/// Calls `each` with the workspace's sources, [`TABLE_PAGE`] at a time, in manifest order.
fn for_each_page(ws: &Workspace, mut each: impl FnMut(&[SourceEntry]) -> anyhow::Result<()>) -> anyhow::Result<()> {
    let mut page = Vec::with_capacity(TABLE_PAGE);
    ws.for_each_source(|s| {
        page.push(s);
        if page.len() == TABLE_PAGE {
            each(&page)?;
            page.clear();
        }
        Ok(())
    })?;
    if !page.is_empty() {
        each(&page)?;
    }
    Ok(())
}
