//! Output of reports: comfy-table tables for people, JSON and CSV for scripts, Markdown for
//! documents, and one self-contained HTML page. Reports are first shaped into [`Section`]s
//! (titled tables) so every text format prints the same figures.

mod csv_out;
mod html;
mod markdown;
mod sections;
mod table;

use super::rows::Rows;
use super::summary::Summary;
use anyhow::Result;

pub use sections::{summary_sections, Section};

/// Output format of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
    Markdown,
    Html,
}

/// The summary in `format`.
pub fn summary(s: &Summary, format: Format) -> Result<String> {
    Ok(match format {
        Format::Json => serde_json::to_string_pretty(s)?,
        Format::Csv => csv_out::flat_json(&serde_json::to_value(s)?)?,
        Format::Table => table::sections(&summary_sections(s)),
        Format::Markdown => markdown::sections("omnitrail report", &summary_sections(s)),
        Format::Html => html::page("omnitrail report", &summary_sections(s), Some(s)),
    })
}

/// A detail report or a timeline in `format`.
pub fn rows(r: &Rows, format: Format) -> Result<String> {
    let sections = sections::rows_sections(r);
    Ok(match format {
        Format::Json => serde_json::to_string_pretty(&r.to_json())?,
        Format::Csv => csv_out::rows(r)?,
        Format::Table => table::sections(&sections),
        Format::Markdown => markdown::sections(&r.title, &sections),
        Format::Html => html::page(&r.title, &sections, None),
    })
}
