//! The house rules of the kit's code (docs/ARCHITECTURE.md, "Rules the
//! tests hold"): no import circles among the modules of any crate, and no
//! source file of the grader longer than a reader can hold.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The most lines a grader source file may have: files of one job each.
const MOST_LINES: usize = 320;

fn kit() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `scripts/module-cycles` on `src`: whether it found no circle, and what it printed.
fn cycles(src: &Path) -> (bool, String) {
    let output = Command::new("python3")
        .arg(kit().join("scripts/module-cycles"))
        .arg(src)
        .output()
        .expect("python3 runs scripts/module-cycles");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

/// Every crate of the workspace: each folder of the kit with a Cargo.toml and a src/.
fn crates() -> Vec<PathBuf> {
    let mut crates: Vec<PathBuf> = std::fs::read_dir(kit())
        .unwrap()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.join("Cargo.toml").is_file() && path.join("src").is_dir())
        .collect();
    crates.sort();
    crates
}

#[test]
fn no_crate_has_an_import_circle() {
    let crates = crates();
    assert!(crates.len() >= 10, "the workspace's crates: {crates:?}");
    for krate in crates {
        let (none, printed) = cycles(&krate.join("src"));
        assert!(none, "{}: modules that use each other; break the circle:\n{printed}", krate.display());
    }
}

#[test]
fn the_circle_finder_finds_circles() {
    let write = |root: &Path, files: &[(&str, &str)]| {
        for (path, text) in files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    };
    // Two siblings that use each other, one of them through a use tree.
    let siblings = tempfile::tempdir().unwrap();
    write(siblings.path(), &[
        ("main.rs", "mod a;\nmod b;\nmod c;\nfn main() {}\n"),
        ("a.rs", "use crate::{b::B, c::C};\npub struct A;\n"),
        ("b.rs", "pub struct B;\npub fn f() { let _ = crate::a::A; }\n"),
        ("c.rs", "pub struct C;\n"),
    ]);
    let (none, printed) = cycles(siblings.path());
    assert!(!none && printed.contains("circle: a, b") && !printed.contains(", c"), "{printed}");
    // A parent that re-exports its child's item while the child uses the parent's.
    let parent = tempfile::tempdir().unwrap();
    write(parent.path(), &[
        ("lib.rs", "mod p;\n"),
        ("p/mod.rs", "mod child;\npub use child::Thing;\nconst SHARED: u8 = 1;\n"),
        ("p/child.rs", "use super::SHARED;\npub struct Thing;\n"),
    ]);
    let (none, printed) = cycles(parent.path());
    assert!(!none && printed.contains("circle: p, p::child"), "{printed}");
    // An import under another name is an import.
    let renamed = tempfile::tempdir().unwrap();
    write(renamed.path(), &[
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "use crate::b::B;\npub struct A;\n"),
        ("b.rs", "use crate::a::A as Other;\npub struct B;\n"),
    ]);
    let (none, printed) = cycles(renamed.path());
    assert!(!none && printed.contains("circle: a, b"), "{printed}");
    // What a unit test module of a file uses is not an import of the file.
    let tests_only = tempfile::tempdir().unwrap();
    write(tests_only.path(), &[
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "use crate::b::B;\npub struct A;\n"),
        ("b.rs", "pub struct B;\n#[cfg(test)]\nmod tests {\n    use crate::a::A;\n}\n"),
    ]);
    let (none, printed) = cycles(tests_only.path());
    assert!(none, "{printed}");
}

#[test]
fn no_grader_source_file_is_longer_than_a_reader_can_hold() {
    let mut files = Vec::new();
    let mut folders = vec![kit().join("grader/src")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 20, "{files:?}");
    let long: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let lines = std::fs::read_to_string(path).unwrap().lines().count();
            (lines > MOST_LINES).then(|| format!("{} ({lines} lines)", path.display()))
        })
        .collect();
    assert!(long.is_empty(), "files over {MOST_LINES} lines; split each by its jobs: {long:?}");
}
