//! Files and folders, with errors that name the path they concern.

use std::path::{Path, PathBuf};

pub fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Writes `contents` to `path`, making its folder first.
pub fn write(path: &Path, contents: impl AsRef<[u8]>) -> Result<(), String> {
    if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty()) {
        create_folder(folder)?;
    }
    std::fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Makes `path` and the folders above it.
pub fn create_folder(path: &Path) -> Result<(), String> {
    std::fs::create_dir_all(path).map_err(|e| format!("cannot create {}: {e}", path.display()))
}

/// Every file below `folder`, in name order.
pub fn walk(folder: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(folder).map_err(|e| format!("cannot read {}: {e}", folder.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| format!("cannot read {}: {e}", folder.display()))?.path();
        if path.is_dir() { files.extend(walk(&path)?) } else { files.push(path) }
    }
    files.sort();
    Ok(files)
}

/// Copies the folder `from` to `to`, whole.
pub fn copy_folder(from: &Path, to: &Path) -> Result<(), String> {
    for file in walk(from)? {
        let target = to.join(file.strip_prefix(from).expect("walk stays below its folder"));
        if let Some(parent) = target.parent() {
            create_folder(parent)?;
        }
        std::fs::copy(&file, &target)
            .map_err(|e| format!("cannot copy {} to {}: {e}", file.display(), target.display()))?;
    }
    Ok(())
}

/// Copies the file `from` to `to`, making `to`'s folder first.
pub fn copy_file(from: &Path, to: &Path) -> Result<(), String> {
    if let Some(parent) = to.parent() {
        create_folder(parent)?;
    }
    std::fs::copy(from, to).map(drop).map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), to.display()))
}
