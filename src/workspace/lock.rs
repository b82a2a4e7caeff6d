//! One command at a time changes a workspace: a command holds `<root>/.lock`, alone when
//! it changes the workspace (import, match), shared when it only reads it (status, report,
//! export). Without it, a `status` run during an import's commit took the batches just
//! moved into place for leftovers of a crash and deleted them.

use anyhow::{Context, Result};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use std::sync::OnceLock;
use std::time::Duration;

/// How a command holds the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// It changes the workspace: no other command may use it meanwhile.
    Alone,
    /// It only reads: other readers may too, no command that changes it.
    Shared,
}

static WAIT_NOTICE: OnceLock<fn(&Path)> = OnceLock::new();

/// What to do (the CLI says so on stderr) before waiting for another command to let go.
pub fn on_wait(notice: fn(&Path)) {
    let _ = WAIT_NOTICE.set(notice);
}

/// The workspace at `root` held as `hold`, waiting while another command holds it the other
/// way, until Ctrl-C. `None` where the file system has no locks (or a read-only workspace
/// has no lock file): the command then runs unprotected rather than not at all.
pub fn acquire(root: &Path, hold: Hold) -> Result<Option<File>> {
    let Some(file) = lock_file(root, hold)? else {
        return Ok(None);
    };
    let mut told = false;
    loop {
        match try_hold(&file, hold) {
            Ok(()) => return Ok(Some(file)),
            Err(TryLockError::WouldBlock) => {}
            // No locks here (some network file systems): run as before locks existed.
            Err(TryLockError::Error(_)) => return Ok(None),
        }
        if !std::mem::replace(&mut told, true) {
            if let Some(notice) = WAIT_NOTICE.get() {
                notice(root);
            }
        }
        // Polled rather than blocked on, so that Ctrl-C still ends the wait (exit 130).
        if crate::import::INTERRUPTED.load(std::sync::atomic::Ordering::Relaxed) {
            anyhow::bail!(
                "interrupted while waiting for another omnitrail command to finish with {}",
                root.display()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The workspace held alone if no other command uses it right now, else `None` at once.
/// A reader takes this chance to clear what an interrupted command left.
pub fn try_alone(root: &Path) -> Option<File> {
    // A workspace that cannot be written (no lock file) has nothing to clear either.
    let file = lock_file(root, Hold::Alone).ok().flatten();
    file.filter(|file| try_hold(file, Hold::Alone).is_ok())
}

fn try_hold(file: &File, hold: Hold) -> Result<(), TryLockError> {
    match hold {
        Hold::Alone => file.try_lock(),
        Hold::Shared => file.try_lock_shared(),
    }
}

fn lock_file(root: &Path, hold: Hold) -> Result<Option<File>> {
    let path = root.join(".lock");
    let opened = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path);
    match (opened, hold) {
        (Ok(file), _) => Ok(Some(file)),
        (Err(_), Hold::Shared) => Ok(File::open(&path).ok()),
        (Err(e), Hold::Alone) => Err(e).with_context(|| format!("cannot open {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    #[test]
    fn readers_share_and_a_writer_waits_for_them_as_they_wait_for_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let writer = acquire(&root, Hold::Alone)
            .unwrap()
            .expect("this file system has locks");
        let (got, root2) = (Arc::new(AtomicBool::new(false)), root.clone());
        let got2 = Arc::clone(&got);
        let reader = std::thread::spawn(move || {
            let held = acquire(&root2, Hold::Shared).unwrap();
            got2.store(true, Ordering::SeqCst);
            held
        });
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            !got.load(Ordering::SeqCst),
            "a reader got in while a writer held the workspace"
        );
        drop(writer);
        let first_reader = reader.join().unwrap();
        assert!(got.load(Ordering::SeqCst));
        // A second reader does not wait for the first; a writer does.
        let second_reader = acquire(&root, Hold::Shared).unwrap();
        let file = File::open(root.join(".lock")).unwrap();
        assert!(matches!(file.try_lock(), Err(TryLockError::WouldBlock)));
        drop((first_reader, second_reader));
        assert!(file.try_lock().is_ok());
    }
}
