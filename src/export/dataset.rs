//! The consolidated dataset: `customers`, `identities`, `interactions` (each row with its
//! `customer_id`) and `links`, as CSV, JSON lines or Parquet, with the workspace's column
//! names and types (docs/schema.md, src/identity.rs).

use super::input::Filter;
use super::redact::Redactor;
use super::table::{TableFormat, TableWriter};
use super::ExportContext;
use crate::workspace::{interactions_schema, to_frame};
use anyhow::Result;
use polars::prelude::*;
use std::collections::HashSet;

/// Column added to the interaction columns in `interactions.*`.
pub const CUSTOMER_ID: &str = "customer_id";

/// The schema of `interactions.*`: the workspace's 26 columns, then `customer_id`.
pub fn interactions_export_schema() -> Schema {
    let mut schema = interactions_schema();
    schema.with_column(CUSTOMER_ID.into(), DataType::String);
    schema
}

/// Writes the four tables into the staging folder.
pub fn write(ctx: &mut ExportContext<'_>, format: TableFormat) -> Result<()> {
    let ext = format.extension();
    let (customers, identities, links) = matcher_tables(ctx.matched, ctx.filter, ctx.redact)?;
    for (name, df) in [("customers", customers), ("identities", identities), ("links", links)] {
        let rel = format!("{name}.{ext}");
        let mut w = TableWriter::create(&ctx.dir.join(&rel), format, df.schema().as_ref().clone())?;
        w.write(&df)?;
        let rows = w.finish()?;
        ctx.count(name, rows);
        ctx.add_file(rel, Some(rows));
    }
    let rel = format!("interactions.{ext}");
    let mut w = TableWriter::create(&ctx.dir.join(&rel), format, interactions_export_schema())?;
    if ctx.redact.is_some() {
        ctx.stream(|rows| {
            let customer_ids: StringChunked = rows.iter().map(|r| r.customer_id.as_deref()).collect();
            let interactions: Vec<_> = rows.into_iter().map(|r| r.interaction).collect();
            let mut df = to_frame(&interactions)?;
            df.with_column(customer_ids.with_name(CUSTOMER_ID.into()).into_column())?;
            w.write(&df)
        })?;
    } else {
        // Without redaction no value changes: frames go from the workspace to the file as
        // they are, with only `customer_id` added.
        ctx.stream_frames(|df| w.write(&df))?;
    }
    let rows = w.finish()?;
    ctx.count("interactions", rows);
    ctx.add_file(rel, Some(rows));
    Ok(())
}

/// The matcher's tables restricted to the `--customers` subset and redacted when asked.
/// A link is kept when both of its identities belong to exported customers, so a subset
/// never reveals identities of people outside it.
pub fn matcher_tables(
    matched: &super::input::Matched,
    filter: &Filter,
    redact: Option<&Redactor>,
) -> Result<(DataFrame, DataFrame, DataFrame)> {
    let mut customers = matched.customers_frame.clone();
    let mut identities = matched.identities_frame.clone();
    let mut links = matched.links_frame.clone();
    if let Some(wanted) = &filter.customers {
        let keep = |df: &DataFrame, col: &str| -> Result<BooleanChunked> {
            Ok(df
                .column(col)?
                .str()?
                .iter()
                .map(|v| v.is_some_and(|v| wanted.contains(v)))
                .collect())
        };
        customers = customers.filter(&keep(&customers, "customer_id")?)?;
        identities = identities.filter(&keep(&identities, "customer_id")?)?;
        let kept_ids: HashSet<&str> = identities.column("identity_id")?.str()?.iter().flatten().collect();
        let a = links.column("identity_a")?.str()?;
        let b = links.column("identity_b")?.str()?;
        let mask: BooleanChunked = a
            .iter()
            .zip(b.iter())
            .map(|(a, b)| a.is_some_and(|a| kept_ids.contains(a)) && b.is_some_and(|b| kept_ids.contains(b)))
            .collect();
        links = links.filter(&mask)?;
    }
    if let Some(r) = redact {
        map_str(&mut customers, "display_name", |v| r.name(v))?;
        map_str(&mut customers, "primary_phone", |v| r.phone(v))?;
        map_str(&mut customers, "primary_email", |v| r.email(v))?;
        let value: StringChunked = {
            let kinds = identities.column("kind")?.str()?;
            let values = identities.column("value")?.str()?;
            kinds
                .iter()
                .zip(values.iter())
                .map(|(k, v)| v.map(|v| r.handle(k.unwrap_or("name"), v)))
                .collect()
        };
        identities.with_column(value.with_name("value".into()).into_column())?;
        map_str(&mut identities, "identity_id", |v| r.identity_id(v))?;
        map_str(&mut identities, "display_name", |v| r.name(v))?;
        map_str(&mut links, "identity_a", |v| r.identity_id(v))?;
        map_str(&mut links, "identity_b", |v| r.identity_id(v))?;
        map_str(&mut links, "evidence", |v| r.text(v))?;
    }
    Ok((customers, identities, links))
}

/// Replaces every non-null value of a string column.
fn map_str(df: &mut DataFrame, col: &str, f: impl Fn(&str) -> String) -> Result<()> {
    let mapped: StringChunked = df.column(col)?.str()?.iter().map(|v| v.map(&f)).collect();
    df.with_column(mapped.with_name(col.into()).into_column())?;
    Ok(())
}
