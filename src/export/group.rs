//! Conversations for the profiles that import whole threads (Zendesk tickets, Chatwoot
//! conversations) without holding every interaction in memory: rows are spilled to bucket
//! files by a hash of their thread, then each bucket is grouped and sorted on its own.
//! The bucket count grows with the export ([`bucket_count`]) so a bucket holds about
//! [`ROWS_PER_BUCKET`] rows whatever the size: memory stays flat.

use super::input::ExportRow;
use crate::model::Interaction;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

/// Rows a bucket is sized for.
pub const ROWS_PER_BUCKET: u64 = 20_000;
/// Most buckets (open files) at once, well under the usual limit of 1024 descriptors.
pub const MAX_BUCKETS: u64 = 512;

/// Buckets for an export of about `rows` interactions.
pub fn bucket_count(rows: u64) -> usize {
    (rows / ROWS_PER_BUCKET).clamp(16, MAX_BUCKETS) as usize
}

#[derive(Serialize, Deserialize)]
struct Spilled {
    key: String,
    customer_id: String,
    interaction: Interaction,
}

/// One conversation: a customer's interactions in one thread, in time order.
pub struct Thread {
    pub customer_id: String,
    pub thread_key: String,
    pub rows: Vec<Interaction>,
}

/// Interactions spilled by thread, to be read back one thread at a time.
pub struct ThreadSpill {
    dir: PathBuf,
    writers: Vec<Option<BufWriter<File>>>,
}

impl ThreadSpill {
    /// Spills about `rows` interactions into `dir`, which is created and removed again by
    /// [`ThreadSpill::for_each_thread`].
    pub fn new(dir: &Path, rows: u64) -> Result<ThreadSpill> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(ThreadSpill {
            dir: dir.to_path_buf(),
            writers: (0..bucket_count(rows)).map(|_| None).collect(),
        })
    }

    fn bucket_path(&self, i: usize) -> PathBuf {
        self.dir.join(format!("bucket-{i:03}.jsonl"))
    }

    /// Adds a row that has a customer; the thread is (customer, thread key).
    pub fn push(&mut self, customer_id: &str, row: ExportRow) -> Result<()> {
        let key = format!("{customer_id}\u{1f}{}", row.interaction.thread_key);
        let h = blake3::hash(key.as_bytes());
        let n = self.writers.len() as u64;
        let i = (u64::from_le_bytes(h.as_bytes()[..8].try_into().expect("8 bytes")) % n) as usize;
        if self.writers[i].is_none() {
            let path = self.bucket_path(i);
            let f = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
            self.writers[i] = Some(BufWriter::new(f));
        }
        let w = self.writers[i].as_mut().expect("opened above");
        serde_json::to_writer(
            &mut *w,
            &Spilled {
                key,
                customer_id: customer_id.to_string(),
                interaction: row.interaction,
            },
        )?;
        w.write_all(b"\n")?;
        Ok(())
    }

    /// Calls `f` once per thread (buckets in order, threads by key, rows by time then
    /// position), then removes the spill folder.
    pub fn for_each_thread(mut self, mut f: impl FnMut(Thread) -> Result<()>) -> Result<()> {
        for w in self.writers.iter_mut().flatten() {
            w.flush()?;
        }
        let opened: Vec<bool> = self.writers.iter().map(Option::is_some).collect();
        self.writers.clear();
        for (i, was_opened) in opened.into_iter().enumerate() {
            if !was_opened {
                continue;
            }
            crate::import::check_interrupt().map_err(|_| anyhow::anyhow!("interrupted"))?;
            let path = self.bucket_path(i);
            let mut threads: BTreeMap<String, Thread> = BTreeMap::new();
            for line in BufReader::new(File::open(&path)?).lines() {
                let s: Spilled = serde_json::from_str(&line?)?;
                threads
                    .entry(s.key)
                    .or_insert_with(|| Thread {
                        customer_id: s.customer_id,
                        thread_key: s.interaction.thread_key.clone(),
                        rows: Vec::new(),
                    })
                    .rows
                    .push(s.interaction);
            }
            std::fs::remove_file(&path)?;
            for (_, mut t) in threads {
                t.rows
                    .sort_by(|a, b| (a.ts, a.seq, &a.interaction_id).cmp(&(b.ts, b.seq, &b.interaction_id)));
                f(t)?;
            }
        }
        std::fs::remove_dir_all(&self.dir).ok();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Channel, Direction, Kind};

    #[test]
    fn rows_come_back_grouped_by_customer_and_thread_in_time_order() {
        let dir = tempfile::tempdir().unwrap();
        let spill_dir = dir.path().join(".work");
        let mut spill = ThreadSpill::new(&spill_dir, 4).unwrap();
        for (i, (thread, ts)) in [("a", 30), ("b", 10), ("a", 10), ("a", 20)].into_iter().enumerate() {
            let mut r = Interaction::new("s", Channel::Whatsapp, Direction::Inbound, Kind::Message, ts);
            r.thread_key = thread.into();
            r.seq = i as u64;
            spill
                .push(
                    "C-1",
                    ExportRow {
                        interaction: r,
                        customer_id: Some("C-1".into()),
                    },
                )
                .unwrap();
        }
        let mut seen = Vec::new();
        spill
            .for_each_thread(|t| {
                seen.push((t.thread_key.clone(), t.rows.iter().map(|r| r.ts).collect::<Vec<_>>()));
                Ok(())
            })
            .unwrap();
        seen.sort();
        assert_eq!(
            seen,
            vec![("a".to_string(), vec![10, 20, 30]), ("b".to_string(), vec![10])]
        );
        assert!(!spill_dir.exists());
        assert_eq!(bucket_count(10_000_000), 500);
        assert_eq!(bucket_count(100), 16);
    }
}
