//! What the grader takes from a submission: the exercise files, as regular
//! files of bounded size, and nothing else.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The modules a student writes; the rest of exercises/src is the kit's.
pub const EXERCISE_FILES: [&str; 10] = [
    "bilinear.rs",
    "vgg.rs",
    "align.rs",
    "fcn16s.rs",
    "fcn8s.rs",
    "loss.rs",
    "transposed.rs",
    "unpooling.rs",
    "dilated.rs",
    "metrics.rs",
];

/// Largest exercise file taken, in bytes.
pub const MAX_FILE_BYTES: u64 = 256 << 10;

/// The exercise files taken from a submission, and what was refused.
#[derive(Debug, Clone, Default)]
pub struct Submitted {
    /// (file name, contents), in [`EXERCISE_FILES`] order.
    pub files: Vec<(String, String)>,
    /// Why files were not taken, for the student's notes.
    pub notes: Vec<String>,
}

impl Submitted {
    /// SHA-256 of the files taken, names included: the resume record.
    pub fn digest(&self) -> String {
        let mut digest = Sha256::new();
        for (name, contents) in &self.files {
            digest.update(name.as_bytes());
            digest.update((contents.len() as u64).to_le_bytes());
            digest.update(contents.as_bytes());
        }
        format!("{:x}", digest.finalize())
    }
}

/// The exercise files of the submission in `folder`: in `exercises/src/`,
/// `src/` or the folder itself, whichever holds one. A file is taken only if
/// it is a regular file (no link is followed, in the file's path below
/// `folder` either), at most [`MAX_FILE_BYTES`], and UTF-8.
pub fn read(folder: &Path) -> Submitted {
    let mut submitted = Submitted::default();
    let candidates = [PathBuf::from("exercises/src"), PathBuf::from("src"), PathBuf::new()];
    let Some(relative) = candidates.iter().find(|c| EXERCISE_FILES.iter().any(|n| no_links(folder, &c.join(n)))) else {
        let linked = candidates.iter().any(|c| EXERCISE_FILES.iter().any(|n| folder.join(c).join(n).exists()));
        submitted.notes.push(if linked {
            "the exercise files are behind symbolic links, which are not followed: graded as not attempted".to_owned()
        } else {
            "no exercise files found in the submission".to_owned()
        });
        return submitted;
    };
    for name in EXERCISE_FILES {
        let path = folder.join(relative).join(name);
        match take(&path) {
            Ok(Some(contents)) => submitted.files.push((name.to_owned(), contents)),
            Ok(None) => {}
            Err(why) => submitted.notes.push(format!("{name} {why}: graded as not attempted")),
        }
    }
    submitted
}

/// Whether `relative` exists below `folder` with no symbolic link on the way.
fn no_links(folder: &Path, relative: &Path) -> bool {
    let mut path = folder.to_owned();
    for part in relative.components() {
        path.push(part);
        match std::fs::symlink_metadata(&path) {
            Ok(meta) if !meta.file_type().is_symlink() => {}
            _ => return false,
        }
    }
    true
}

/// The file's text; `None` if there is no file; `Err` if it is refused.
fn take(path: &Path) -> Result<Option<String>, String> {
    match std::fs::symlink_metadata(path) {
        Err(_) => return Ok(None),
        Ok(meta) if meta.file_type().is_symlink() => return Err("is a symbolic link, which is not followed".to_owned()),
        Ok(meta) if !meta.is_file() => return Err("is not a regular file".to_owned()),
        Ok(_) => {}
    }
    // O_NOFOLLOW: a file swapped for a link after the check is not followed either.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| format!("cannot be read ({e})"))?;
    let meta = file.metadata().map_err(|e| format!("cannot be read ({e})"))?;
    if !meta.is_file() {
        return Err("is not a regular file".to_owned());
    }
    // A hard link is a regular file that is also another: the reference's
    // own file, linked into a submission on the grading machine, would read
    // as the student's.
    if std::os::unix::fs::MetadataExt::nlink(&meta) > 1 {
        return Err("has other hard links (a file linked from elsewhere is not taken)".to_owned());
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot be read ({e})"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("is larger than {} KiB", MAX_FILE_BYTES >> 10));
    }
    String::from_utf8(bytes).map(Some).map_err(|_| "is not UTF-8 text".to_owned())
}

/// The exercise files of the kit's own `exercises/src` (a student grading
/// their own crate) or of the reference's `solutions/src`.
pub fn from_crate(src: &Path) -> Submitted {
    let mut submitted = Submitted::default();
    for name in EXERCISE_FILES {
        match take(&src.join(name)) {
            Ok(Some(contents)) => submitted.files.push((name.to_owned(), contents)),
            Ok(None) => submitted.notes.push(format!("{name} is missing from {}", src.display())),
            Err(why) => submitted.notes.push(format!("{name} {why}: graded as not attempted")),
        }
    }
    submitted
}

/// The last part of a folder's path, for reports.
pub fn folder_name(folder: &Path) -> String {
    folder.file_name().map_or_else(|| folder.display().to_string(), |n| n.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exercise_files_are_the_course_registry_s() {
        let listed: Vec<&str> = registry::exercises().iter().flat_map(|e| e.files.iter().map(String::as_str)).collect();
        assert_eq!(EXERCISE_FILES.to_vec(), listed, "grader/src/submission.rs and exercises/info.toml list different files");
    }

    #[test]
    fn links_large_files_and_binary_files_are_refused() {
        let folder = tempfile::tempdir().unwrap();
        let src = folder.path().join("src");
        std::fs::create_dir(&src).unwrap();
        std::fs::write(src.join("bilinear.rs"), "pub fn f() {}").unwrap();
        std::os::unix::fs::symlink("/etc/hostname", src.join("vgg.rs")).unwrap();
        std::fs::write(src.join("fcn8s.rs"), vec![b'a'; MAX_FILE_BYTES as usize + 1]).unwrap();
        std::fs::write(src.join("metrics.rs"), [0xff, 0xfe]).unwrap();
        std::fs::create_dir(src.join("dilated.rs")).unwrap();
        std::fs::write(folder.path().join("elsewhere.rs"), "pub fn g() {}").unwrap();
        std::fs::hard_link(folder.path().join("elsewhere.rs"), src.join("unpooling.rs")).unwrap();
        let submitted = read(folder.path());
        assert_eq!(submitted.files, [("bilinear.rs".to_owned(), "pub fn f() {}".to_owned())]);
        let notes = submitted.notes.join("\n");
        for expected in [
            "vgg.rs is a symbolic link",
            "fcn8s.rs is larger than",
            "metrics.rs is not UTF-8",
            "dilated.rs is not a regular file",
            "unpooling.rs has other hard links",
        ] {
            assert!(notes.contains(expected), "{expected:?} not in {notes}");
        }
    }

    #[test]
    fn a_linked_folder_is_not_followed() {
        let folder = tempfile::tempdir().unwrap();
        let real = folder.path().join("elsewhere");
        std::fs::create_dir(&real).unwrap();
        std::fs::write(real.join("vgg.rs"), "pub fn f() {}").unwrap();
        let submission = folder.path().join("student");
        std::fs::create_dir(&submission).unwrap();
        std::os::unix::fs::symlink(&real, submission.join("src")).unwrap();
        let submitted = read(&submission);
        assert!(submitted.files.is_empty());
        assert!(submitted.notes[0].contains("symbolic links"), "{:?}", submitted.notes);
    }
}
