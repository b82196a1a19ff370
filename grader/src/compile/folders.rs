//! The build folders of submissions: a lock held while one is in use, and
//! the sweep that removes what a killed grader left.

use std::path::{Path, PathBuf};
use std::time::Duration;
use anyhow::Context;

/// A build folder's name starts so, in the builds folder.
pub(super) const BUILD_PREFIX: &str = "build-";
/// The file in a build folder whose lock its grader holds while it builds and
/// grades.
pub(super) const IN_USE: &str = ".in-use";
/// How old a build folder's lock file must be before a sweep may take it.
const SETTLED: Duration = Duration::from_secs(if cfg!(test) { 0 } else { 60 });

/// Removes the build folders in `builds` that no grader holds: what a grader
/// that was killed left behind (its folder's lock went with it). Only
/// folders of the grader's own (a name it gives, with its lock file in) are
/// touched, so a builds folder shared with others (a node's /tmp) is safe.
pub(super) fn sweep(builds: &Path) {
    let Ok(entries) = std::fs::read_dir(builds) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let ours = entry.file_name().to_str().is_some_and(|n| n.starts_with(BUILD_PREFIX))
            && std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
        // A folder made a moment ago may not have its lock yet.
        let settled = std::fs::metadata(path.join(IN_USE))
            .and_then(|m| m.modified())
            .is_ok_and(|made| made.elapsed().is_ok_and(|age| age >= SETTLED));
        if !ours || !settled {
            continue;
        }
        if let Some(_stale) = Lock::try_take(&path.join(IN_USE)) {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// An exclusive lock on a file, held until dropped.
pub(super) struct Lock {
    _file: std::fs::File,
}

impl Lock {
    /// The lock on `path` if no one holds it, without waiting; `None` if
    /// someone does, or the file is not there.
    fn try_take(path: &Path) -> Option<Lock> {
        use std::os::fd::AsRawFd;
        let file = std::fs::OpenOptions::new().write(true).open(path).ok()?;
        // SAFETY: flock on a descriptor this function owns.
        (unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0).then_some(Lock { _file: file })
    }

    pub(super) fn take(path: &Path) -> anyhow::Result<Lock> {
        use std::os::fd::AsRawFd;
        let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        // SAFETY: flock on a descriptor this function owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(anyhow::anyhow!("cannot lock {}: {}", path.display(), std::io::Error::last_os_error()));
        }
        Ok(Lock { _file: file })
    }
}

pub(super) fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(path).with_context(|| format!("cannot create {}", path.display()))?;
    path.canonicalize().with_context(|| format!("{}", path.display()))
}

#[cfg(test)]
mod sweep_tests {
    use super::*;

    #[test]
    fn a_build_folder_no_grader_holds_is_swept_and_one_in_use_is_not() {
        let builds = tempfile::tempdir().unwrap();
        let (left, held, other) = (builds.path().join("build-left"), builds.path().join("build-held"), builds.path().join("build-other"));
        for folder in [&left, &held, &other] {
            std::fs::create_dir(folder).unwrap();
        }
        std::fs::write(left.join(IN_USE), "").unwrap();
        let _holding = Lock::take(&held.join(IN_USE)).unwrap();
        sweep(builds.path());
        assert!(!left.exists(), "a folder its killed grader left is removed");
        assert!(held.exists(), "a folder in use stays");
        assert!(other.exists(), "a folder without the grader's lock file is not the grader's");
    }
}
