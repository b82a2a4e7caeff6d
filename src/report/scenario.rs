//! Building workspaces in code for report tests and the report benchmark: interactions
//! through the workspace's own batch writer, plus an `identities.parquet` with the matcher's
//! column contract, so report figures can be checked without running importers or the matcher.

use crate::identity::IDENTITY_COLUMNS;
use crate::model::Interaction;
use crate::workspace::{write_atomic, Counts, SourceEntry, Workspace};
use anyhow::Result;
use polars::prelude::*;
use std::path::Path;

/// Commits `rows` as one import source named `name` (channel taken from the first row).
pub fn commit_source(ws: &mut Workspace, name: &str, rows: Vec<Interaction>) -> Result<()> {
    let channel = rows
        .first()
        .map(|r| r.channel.as_str())
        .unwrap_or("whatsapp")
        .to_string();
    let n = rows.len() as u64;
    let mut txn = ws.begin();
    let (mut batch, rel) = txn.batch_writer(name)?;
    for mut r in rows {
        // As importers do: a row names its source (batches can hold several).
        r.source_id = name.to_string();
        batch.push(r)?;
    }
    batch.finish()?;
    txn.add_source(SourceEntry {
        source_id: name.to_string(),
        path: format!("{name}.test"),
        size: 0,
        content_hash: blake3::hash(name.as_bytes()).to_hex().to_string(),
        format: "test".into(),
        channel,
        options: serde_json::value::RawValue::NULL.to_owned(),
        counts: Counts {
            read: n,
            imported: n,
            rejected: 0,
            duplicates: 0,
        },
        first_ts: None,
        last_ts: None,
        imported_at: String::new(),
        batch: Some(rel),
        rejects: None,
        notes: Default::default(),
    })?;
    txn.commit()
}

/// One identity for `identities.parquet`: (identity_id, customer_id).
pub type IdentityAssignment = (String, String);

/// Writes `identities.parquet` with every contract column (`IDENTITY_COLUMNS`).
pub fn write_identities(root: &Path, rows: &[IdentityAssignment]) -> Result<()> {
    let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let kinds: Vec<&str> = ids.iter().map(|i| i.split(':').next().unwrap_or("")).collect();
    let values: Vec<&str> = ids
        .iter()
        .map(|i| {
            if let Some(rest) = i.strip_prefix("name:") {
                rest.split_once(':').map(|(_, v)| v).unwrap_or(rest)
            } else {
                i.split_once(':').map(|(_, v)| v).unwrap_or(i)
            }
        })
        .collect();
    let mut channels = ListStringChunkedBuilder::new("channels".into(), rows.len(), rows.len().max(1));
    for _ in rows {
        channels.append_values_iter(std::iter::empty::<&str>());
    }
    let none: Vec<Option<&str>> = vec![None; rows.len()];
    let zero: Vec<u64> = vec![0; rows.len()];
    let customers: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    let columns = vec![
        Column::new("identity_id".into(), ids),
        Column::new("kind".into(), kinds),
        Column::new("value".into(), values),
        channels.finish().into_column(),
        Column::new("display_name".into(), none.clone()),
        Column::new("interactions".into(), zero),
        Column::new("guard".into(), none),
        Column::new("customer_id".into(), customers),
    ];
    let mut df = DataFrame::new(rows.len(), columns)?;
    debug_assert_eq!(
        df.get_column_names().iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        IDENTITY_COLUMNS
    );
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf).finish(&mut df)?;
    write_atomic(&root.join("identities.parquet"), &buf)
}
