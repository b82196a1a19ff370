//! What the tests of the grader's commands share.

use std::path::{Path, PathBuf};

/// The kit's folder.
pub fn kit() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

/// The reference's version of an exercise file.
pub fn solution(file: &str) -> String {
    std::fs::read_to_string(kit().join("solutions/src").join(file)).unwrap()
}

/// The files a student writes, in course order, from the registry
/// (exercises/info.toml).
pub fn exercise_files() -> Vec<&'static str> {
    course::exercises().iter().flat_map(|e| e.files.iter().map(String::as_str)).collect()
}
