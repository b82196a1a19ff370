//! The drift guard: exercises/src is what solutions/src makes.

use std::path::Path;
use std::process::Command;

use crate::common::kit;

fn sync(kit: &Path, check: bool) -> (Option<i32>, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_grader"));
    command.arg("sync-exercises").arg("--kit").arg(kit);
    if check {
        command.arg("--check");
    }
    let output = command.output().expect("the grader starts");
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn exercises_are_what_the_solutions_make() {
    let (code, stderr) = sync(&kit(), true);
    assert_eq!(code, Some(0), "{stderr}");
}

/// A copy of the kit's two src folders, to break and repair.
fn copy_of_kit() -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    for crate_name in ["solutions", "exercises"] {
        let (from, to) = (kit().join(crate_name).join("src"), folder.path().join(crate_name).join("src"));
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(&from).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
    folder
}

#[test]
fn a_solution_changed_without_regenerating_is_caught_and_sync_repairs_it() {
    let copy = copy_of_kit();
    let vgg = copy.path().join("solutions/src/vgg.rs");
    let source = std::fs::read_to_string(&vgg).unwrap();
    std::fs::write(&vgg, source.replace("pub fn vgg16(path: &nn::Path", "pub fn vgg16(path: &nn::Path /* changed */")).unwrap();
    let (code, stderr) = sync(copy.path(), true);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("exercises/src/vgg.rs") && stderr.contains("sync-exercises"), "{stderr}");

    assert_eq!(sync(copy.path(), false).0, Some(0));
    assert_eq!(sync(copy.path(), true).0, Some(0));
    let exercise = std::fs::read_to_string(copy.path().join("exercises/src/vgg.rs")).unwrap();
    assert!(exercise.contains("/* changed */") && exercise.contains("todo!(\"exercise 2"), "{exercise}");
    assert!(!exercise.contains("BEGIN SOLUTION") && !exercise.contains("conv1_1\", 64)"), "solution text leaked");
}

#[test]
fn an_unclosed_marker_is_an_error_naming_the_line() {
    let copy = copy_of_kit();
    let path = copy.path().join("solutions/src/fcn16s.rs");
    let source = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, source.replace("    // END SOLUTION\n", "")).unwrap();
    let (code, stderr) = sync(copy.path(), true);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("fcn16s.rs:") && stderr.contains("never closed"), "{stderr}");
}
