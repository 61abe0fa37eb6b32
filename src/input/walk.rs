//! Folder walking: every file under a folder, in name order so that runs are repeatable,
//! following symbolic links but entering each real folder once so that link loops end.
//! A link that leads back into a folder being walked (a loop), or to a folder walked
//! before, is reported as an error entry, so nothing is skipped silently.

use super::maildir::is_maildir_tmp;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// One result of a walk.
#[derive(Debug)]
pub enum WalkEntry {
    /// A regular file to read.
    File(PathBuf),
    /// A folder or file that could not be read, with the reason.
    Error(PathBuf, String),
}

/// Depth-first walk of a folder tree; entries of each folder are visited in name order.
pub struct Walker {
    stack: Vec<std::vec::IntoIter<PathBuf>>,
    /// Canonical paths of the folders in `stack`, root first.
    ancestors: Vec<PathBuf>,
    visited: HashSet<PathBuf>,
    pending_error: Option<WalkEntry>,
}

impl Walker {
    /// Creates a walk of the folder `root`.
    pub fn new(root: &Path) -> Walker {
        let mut walker = Walker {
            stack: Vec::new(),
            ancestors: Vec::new(),
            visited: HashSet::new(),
            pending_error: None,
        };
        walker.enter(root);
        walker
    }

    /// Pushes the sorted entries of `dir`, unless that folder was entered before.
    fn enter(&mut self, dir: &Path) {
        let canonical = match dir.canonicalize() {
            Ok(canonical) => canonical,
            Err(error) => {
                self.pending_error = Some(error_entry(dir, &error));
                return;
            }
        };
        if self.ancestors.contains(&canonical) {
            let reason = format!(
                "symbolic link loop: it leads back to {}, which is being walked, so it was not followed; its messages are read there once, and nothing needs doing unless the link was meant to point elsewhere",
                canonical.display()
            );
            self.pending_error = Some(WalkEntry::Error(dir.to_path_buf(), reason));
            return;
        }
        if self.visited.contains(&canonical) {
            let reason = format!(
                "folder {} was already walked through another path, so it was not walked again",
                canonical.display()
            );
            self.pending_error = Some(WalkEntry::Error(dir.to_path_buf(), reason));
            return;
        }
        match sorted_entries(dir) {
            Ok(entries) => {
                self.stack.push(entries.into_iter());
                self.ancestors.push(canonical.clone());
                self.visited.insert(canonical);
            }
            Err(error) => self.pending_error = Some(error_entry(dir, &error)),
        }
    }

    fn visit(&mut self, path: PathBuf) -> Option<WalkEntry> {
        let metadata = match std::fs::metadata(&path) {
            Ok(metadata) => metadata,
            Err(error) => return Some(error_entry(&path, &error)),
        };
        if metadata.is_dir() {
            if is_maildir_tmp(&path) {
                tracing::debug!(path = %path.display(), "Maildir tmp folder skipped: its files are still being delivered");
            } else {
                self.enter(&path);
            }
            return None;
        }
        if !metadata.is_file() {
            let reason = "not a regular file (a device, socket or pipe); not read".to_string();
            return Some(WalkEntry::Error(path, reason));
        }
        Some(WalkEntry::File(path))
    }
}

impl Iterator for Walker {
    type Item = WalkEntry;

    fn next(&mut self) -> Option<WalkEntry> {
        loop {
            if let Some(error) = self.pending_error.take() {
                return Some(error);
            }
            let top = self.stack.last_mut()?;
            let Some(path) = top.next() else {
                self.stack.pop();
                self.ancestors.pop();
                continue;
            };
            if let Some(entry) = self.visit(path) {
                return Some(entry);
            }
        }
    }
}

fn sorted_entries(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        entries.push(entry?.path());
    }
    entries.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(entries)
}

fn error_entry(path: &Path, error: &std::io::Error) -> WalkEntry {
    WalkEntry::Error(
        path.to_path_buf(),
        format!("cannot read ({error}); check that it exists and is readable"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn files(walker: Walker) -> Vec<String> {
        walker
            .map(|entry| match entry {
                WalkEntry::File(path) => path.file_name().unwrap().to_string_lossy().into_owned(),
                WalkEntry::Error(path, reason) => format!("error {}: {reason}", path.display()),
            })
            .collect()
    }

    #[test]
    fn walk_is_sorted_and_includes_hidden_files() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("b")).unwrap();
        fs::write(dir.path().join("b/2"), "x").unwrap();
        fs::write(dir.path().join("c"), "x").unwrap();
        fs::write(dir.path().join("a"), "x").unwrap();
        fs::write(dir.path().join(".hidden"), "x").unwrap();
        assert_eq!(files(Walker::new(dir.path())), [".hidden", "a", "2", "c"]);
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loop_is_reported_once() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        fs::write(dir.path().join("sub/m"), "x").unwrap();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("sub/loop")).unwrap();
        let entries = files(Walker::new(dir.path()));
        assert_eq!(entries.len(), 2, "{entries:?}");
        let error = &entries[0];
        assert!(error.starts_with("error "), "{error}");
        assert!(error.contains("sub/loop: symbolic link loop"), "{error}");
        assert!(error.contains("not followed"), "{error}");
        assert_eq!(entries[1], "m");
    }

    #[cfg(unix)]
    #[test]
    fn link_to_self_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("d/loop")).unwrap();
        std::os::unix::fs::symlink("../loop", dir.path().join("d/loop/self")).unwrap();
        let entries = files(Walker::new(&dir.path().join("d")));
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert!(
            entries[0].contains("loop/self: symbolic link loop"),
            "{}",
            entries[0]
        );
    }

    #[cfg(unix)]
    #[test]
    fn second_link_to_folder_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("a")).unwrap();
        fs::write(dir.path().join("a/m"), "x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("a"), dir.path().join("b")).unwrap();
        let entries = files(Walker::new(dir.path()));
        assert_eq!(entries.len(), 2, "{entries:?}");
        assert_eq!(entries[0], "m");
        assert!(
            entries[1].contains("already walked through another path"),
            "{}",
            entries[1]
        );
    }

    #[test]
    fn maildir_tmp_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["cur", "new", "tmp"] {
            fs::create_dir(dir.path().join(sub)).unwrap();
            fs::write(dir.path().join(sub).join(format!("{sub}-1")), "x").unwrap();
        }
        assert_eq!(files(Walker::new(dir.path())), ["cur-1", "new-1"]);
    }
}
