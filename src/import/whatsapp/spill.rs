//! Chats between the two passes of an import, kept in a file rather than in memory: the
//! second pass cannot start before every chat of the import is scanned (the business side
//! and undecided date orders are decided across chats), and a folder of 200 000 chats'
//! scans took 220 MB.

use super::ChatScan;
use crate::import::ImportError;
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;

/// Scans written in order to a file, read back once in the same order. The file is removed
/// when the spill (or its reader) is dropped; one left by a crash sits in the workspace's
/// `.tmp/`, which the next open empties.
pub struct ScanSpill {
    path: PathBuf,
    out: Option<BufWriter<File>>,
    count: usize,
}

impl ScanSpill {
    /// A spill at `path`, created with its first scan.
    pub fn new(path: PathBuf) -> ScanSpill {
        ScanSpill {
            path,
            out: None,
            count: 0,
        }
    }

    pub fn push(&mut self, scan: &ChatScan) -> Result<(), ImportError> {
        let out = match &mut self.out {
            Some(out) => out,
            None => {
                let file = File::create(&self.path).map_err(|e| self.error("create", e))?;
                self.out.insert(BufWriter::with_capacity(1 << 16, file))
            }
        };
        bincode::serde::encode_into_std_write(scan, out, bincode::config::standard())
            .map_err(|e| ImportError::Other(anyhow::anyhow!("cannot write {}: {e}", self.path.display())))?;
        self.count += 1;
        Ok(())
    }

    /// Scans pushed so far.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The scans, in the order they were pushed.
    pub fn read(mut self) -> Result<SpilledScans, ImportError> {
        let input = match self.out.take() {
            Some(mut out) => {
                out.flush().map_err(|e| self.error("write", e))?;
                drop(out);
                Some(BufReader::with_capacity(
                    1 << 16,
                    File::open(&self.path).map_err(|e| self.error("read", e))?,
                ))
            }
            None => None,
        };
        let left = std::mem::take(&mut self.count);
        Ok(SpilledScans {
            spill: self,
            input,
            left,
        })
    }

    fn error(&self, what: &str, e: std::io::Error) -> ImportError {
        ImportError::Other(anyhow::anyhow!("cannot {what} {}: {e}", self.path.display()))
    }
}

impl Drop for ScanSpill {
    fn drop(&mut self) {
        drop(self.out.take());
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The scans of a [`ScanSpill`], read back one at a time.
pub struct SpilledScans {
    spill: ScanSpill,
    input: Option<BufReader<File>>,
    left: usize,
}

impl Iterator for SpilledScans {
    type Item = Result<ChatScan, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let input = self.input.as_mut()?;
        Some(
            bincode::serde::decode_from_std_read(input, bincode::config::standard()).map_err(|e| {
                ImportError::Other(anyhow::anyhow!("cannot read back {}: {e}", self.spill.path.display()))
            }),
        )
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// A path as its bytes: serde's own form refuses a file name that is not UTF-8.
pub(super) mod path_bytes {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::path::{Path, PathBuf};

    pub fn serialize<S: Serializer>(path: &Path, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(path.as_os_str().as_encoded_bytes())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
        let bytes = Vec::<u8>::deserialize(d)?;
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStringExt;
            Ok(PathBuf::from(std::ffi::OsString::from_vec(bytes)))
        }
        #[cfg(not(unix))]
        {
            String::from_utf8(bytes)
                .map(PathBuf::from)
                .map_err(serde::de::Error::custom)
        }
    }
}
