//! Where the kit is: its sources, which the grader builds runners from and
//! reads the reference's stubs in, and the libtorch it builds against.

use std::path::{Path, PathBuf};

/// The kit this grader was built in.
pub fn default_kit() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The libtorch the kit builds against: `LIBTORCH`, or the kit's `.libtorch` link.
pub fn libtorch(kit: &Path) -> anyhow::Result<PathBuf> {
    let path = std::env::var_os("LIBTORCH").map(PathBuf::from).unwrap_or_else(|| kit.join(".libtorch"));
    let path = if path.is_relative() { kit.join(path) } else { path };
    path.canonicalize().map_err(|e| anyhow::anyhow!("libtorch is not at {} ({e}): run `make setup`", path.display()))
}
