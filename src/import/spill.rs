//! Values kept in a temporary file rather than in memory, for what an import gathers per
//! file: the chats' scans between its two passes (200 000 chats' took 220 MB) and every
//! file's outcome for the report (another 150 MB).

use anyhow::{Context, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::cell::{Cell, RefCell, RefMut};
use std::fs::File;
use std::io::{BufReader, BufWriter, Seek, SeekFrom, Write};
use std::marker::PhantomData;
use std::path::PathBuf;

/// Values written in order to an unnamed file in `dir`, read back in the same order as
/// often as needed. The file has no name: the system removes it when the spill is dropped,
/// or when the process dies.
pub struct Spill<T> {
    dir: PathBuf,
    /// Created with the first value. Reading flushes it, hence the cell: a reader needs
    /// only `&self` (a report is printed, then serialized, from a shared reference).
    out: RefCell<Option<BufWriter<File>>>,
    /// A reading moved the file's position, which its handle shares, from the end.
    rewound: Cell<bool>,
    count: usize,
    values: PhantomData<fn(T) -> T>,
}

impl<T: Serialize + DeserializeOwned> Spill<T> {
    /// An empty spill whose file, once needed, is made in `dir`.
    pub fn new_in(dir: impl Into<PathBuf>) -> Spill<T> {
        Spill {
            dir: dir.into(),
            out: RefCell::new(None),
            rewound: Cell::new(false),
            count: 0,
            values: PhantomData,
        }
    }

    pub fn push(&mut self, value: &T) -> Result<()> {
        let out = match self.out.get_mut() {
            Some(out) => out,
            slot => {
                let file = tempfile::tempfile_in(&self.dir)
                    .with_context(|| format!("cannot make a temporary file in {}", self.dir.display()))?;
                slot.insert(BufWriter::with_capacity(1 << 16, file))
            }
        };
        if std::mem::take(self.rewound.get_mut()) {
            out.seek(SeekFrom::End(0)).context("cannot write a temporary file")?;
        }
        bincode::serde::encode_into_std_write(value, out, bincode::config::standard())
            .context("cannot write a temporary file")?;
        self.count += 1;
        Ok(())
    }

    /// Values pushed so far.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The values, in the order they were pushed. One reading at a time: a second one
    /// started before the first is dropped is an error.
    pub fn read(&self) -> Result<SpillReader<'_, T>> {
        let mut out = self
            .out
            .try_borrow_mut()
            .map_err(|_| anyhow::anyhow!("a temporary file is already being read"))?;
        let input = match out.as_mut() {
            Some(out) => {
                out.flush().context("cannot write a temporary file")?;
                let mut file = out.get_ref().try_clone().context("cannot read a temporary file")?;
                file.seek(SeekFrom::Start(0)).context("cannot read a temporary file")?;
                self.rewound.set(true);
                Some(BufReader::with_capacity(1 << 16, file))
            }
            None => None,
        };
        Ok(SpillReader {
            _writer: out,
            input,
            left: self.count,
            values: PhantomData,
        })
    }
}

/// The values of a [`Spill`], read back one at a time.
pub struct SpillReader<'a, T> {
    /// Held so that nothing writes to, or reads, the file meanwhile.
    _writer: RefMut<'a, Option<BufWriter<File>>>,
    input: Option<BufReader<File>>,
    left: usize,
    values: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Iterator for SpillReader<'_, T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let input = self.input.as_mut()?;
        Some(
            bincode::serde::decode_from_std_read(input, bincode::config::standard())
                .context("cannot read back a temporary file"),
        )
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

/// A path as its bytes: serde's own form refuses a file name that is not UTF-8.
pub mod path_bytes {
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
