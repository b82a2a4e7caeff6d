//! The output folder is built in a hidden sibling (`.NAME.omnitrail-tmp-PID`) and swapped
//! into place only when every file is written and synced: a re-run replaces the previous
//! export, and a failed or interrupted export leaves nothing that looks complete.

use anyhow::{bail, Context, Result};
use std::fs::{self, File};
use std::path::{Path, PathBuf};

/// Key that marks a folder's `manifest.json` as an omnitrail export, so a re-run may replace it.
pub const MARKER_KEY: &str = "export_schema_version";

/// An export being written; dropped without [`StagedDir::commit`], it removes itself.
#[derive(Debug)]
pub struct StagedDir {
    target: PathBuf,
    tmp: PathBuf,
    committed: bool,
}

impl StagedDir {
    /// Checks that `target` may be replaced and creates the staging folder beside it.
    pub fn begin(target: &Path) -> Result<StagedDir> {
        let name = target
            .file_name()
            .filter(|n| *n != "." && *n != "..")
            .with_context(|| format!("--out {}: give a folder name, not a root or `.`", target.display()))?
            .to_string_lossy()
            .to_string();
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !parent.is_dir() {
            bail!("--out {}: folder {} does not exist", target.display(), parent.display());
        }
        if target.exists() {
            ensure_replaceable(target)?;
        }
        let tmp = parent.join(format!(".{name}.omnitrail-tmp-{}", std::process::id()));
        if tmp.exists() {
            fs::remove_dir_all(&tmp).with_context(|| format!("cannot remove stale {}", tmp.display()))?;
        }
        fs::create_dir(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        Ok(StagedDir {
            target: target.to_path_buf(),
            tmp,
            committed: false,
        })
    }

    /// Where to write the files.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Syncs every file, then swaps the staging folder into place and removes the old export.
    pub fn commit(mut self) -> Result<()> {
        sync_tree(&self.tmp)?;
        let old = self.tmp.with_file_name(format!(
            "{}.omnitrail-old",
            self.tmp.file_name().unwrap_or_default().to_string_lossy()
        ));
        let had_old = self.target.exists();
        if had_old {
            fs::rename(&self.target, &old)
                .with_context(|| format!("cannot move the previous export {} aside", self.target.display()))?;
        }
        if let Err(e) = fs::rename(&self.tmp, &self.target) {
            if had_old {
                let _ = fs::rename(&old, &self.target);
            }
            return Err(e).with_context(|| format!("cannot move the export into {}", self.target.display()));
        }
        self.committed = true;
        if let Some(parent) = self.target.parent() {
            if let Ok(d) = File::open(if parent.as_os_str().is_empty() {
                Path::new(".")
            } else {
                parent
            }) {
                let _ = d.sync_all();
            }
        }
        if had_old {
            fs::remove_dir_all(&old).with_context(|| format!("cannot remove the previous export {}", old.display()))?;
        }
        Ok(())
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.tmp);
        }
    }
}

/// Only an empty folder or an earlier omnitrail export may be replaced: `--out ~/Documents`
/// by mistake must not delete anything.
fn ensure_replaceable(target: &Path) -> Result<()> {
    if !target.is_dir() {
        bail!("--out {}: exists and is not a folder", target.display());
    }
    let empty = fs::read_dir(target)?.next().is_none();
    if empty {
        return Ok(());
    }
    let manifest = target.join("manifest.json");
    let is_export = fs::read_to_string(&manifest)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|v| v.get(MARKER_KEY).is_some());
    if !is_export {
        bail!(
            "--out {}: the folder is not empty and is not an omnitrail export; refusing to replace it (choose a new folder)",
            target.display()
        );
    }
    Ok(())
}

fn sync_tree(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            sync_tree(&path)?;
        } else {
            File::open(&path)?.sync_all()?;
        }
    }
    File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn export_manifest(dir: &Path) {
        fs::write(dir.join("manifest.json"), format!("{{\"{MARKER_KEY}\":1}}")).unwrap();
    }

    #[test]
    fn a_rerun_replaces_the_previous_export_whole() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        let s = StagedDir::begin(&out).unwrap();
        fs::write(s.path().join("a.csv"), "1").unwrap();
        export_manifest(s.path());
        s.commit().unwrap();
        let s = StagedDir::begin(&out).unwrap();
        fs::write(s.path().join("b.csv"), "2").unwrap();
        export_manifest(s.path());
        s.commit().unwrap();
        assert!(!out.join("a.csv").exists());
        assert!(out.join("b.csv").exists());
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 1, "no staging folder left");
    }

    #[test]
    fn a_dropped_export_leaves_nothing_and_keeps_the_old_one() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        fs::create_dir(&out).unwrap();
        export_manifest(&out);
        {
            let s = StagedDir::begin(&out).unwrap();
            fs::write(s.path().join("half.csv"), "x").unwrap();
        }
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 1);
        assert!(out.join("manifest.json").exists());
    }

    #[test]
    fn a_folder_that_is_not_an_export_is_never_replaced() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("docs");
        fs::create_dir(&out).unwrap();
        fs::write(out.join("thesis.txt"), "precious").unwrap();
        let err = StagedDir::begin(&out).unwrap_err().to_string();
        assert!(err.contains("not an omnitrail export"), "{err}");
        assert!(StagedDir::begin(Path::new("/")).is_err());
    }
}
