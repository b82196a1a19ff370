//! The student hand-out: no solution text anywhere in it, and its own
//! set-up and test command work as its README says.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::kit;

/// `grader export-student INTO --kit KIT`.
fn export_student(into: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_grader")).arg("export-student").arg(into).arg("--kit").arg(kit()).output().unwrap()
}

fn export(into: &Path) {
    let output = export_student(into);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

fn files(folder: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "target" && n != "data") {
                found.extend(files(&path));
            }
        } else {
            found.push(path);
        }
    }
    found
}

/// Lines of the reference that only its solution blocks have (not the
/// stubs, not the public tests).
fn solution_lines() -> Vec<String> {
    let mut public = files(&kit().join("exercises/src"));
    public.extend(files(&kit().join("exercises/tests")));
    let exercises: String = public.iter().map(|p| std::fs::read_to_string(p).unwrap_or_default()).collect();
    let mut lines = Vec::new();
    for path in files(&kit().join("solutions/src")) {
        let mut inside = false;
        for line in std::fs::read_to_string(&path).unwrap().lines().map(str::trim) {
            // Markers also open and close the solution part of a doc test.
            let line = line.strip_prefix("//! ").or_else(|| line.strip_prefix("/// ")).unwrap_or(line);
            match line {
                "// BEGIN SOLUTION" => inside = true,
                "// END SOLUTION" => inside = false,
                _ if inside && line.len() >= 20 && !exercises.contains(line) => lines.push(line.to_owned()),
                _ => {}
            }
        }
    }
    assert!(lines.len() > 40, "the reference's solution blocks were not found");
    lines
}

#[test]
fn the_hand_out_has_no_solution_text_and_no_hidden_checks() {
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("fcn-exercises");
    export(&out);
    for kept_back in ["solutions", "checks", "grader", "handout", "fcn-metrics"] {
        assert!(!out.join(kept_back).exists(), "{kept_back}/ is in the hand-out");
    }
    let manifest = std::fs::read_to_string(out.join("Cargo.toml")).unwrap();
    assert!(!manifest.contains("fcn-metrics") && !manifest.contains("solutions"), "{manifest}");
    assert!(out.join("exercises/examples/figure4.rs").exists() && out.join("fcn-train/src/train.rs").exists());
    let solution = solution_lines();
    for path in files(&out) {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        assert!(!text.contains("BEGIN SOLUTION"), "{} has a solution marker", path.display());
        if let Some(line) = solution.iter().find(|line| text.contains(line.as_str())) {
            panic!("{} has the solution line {line:?}", path.display());
        }
    }
    let readme = std::fs::read_to_string(out.join("README.md")).unwrap();
    assert!(readme.contains("make test") && readme.contains("exercises/src"), "{readme}");
    // Exporting over it again is refused rather than mixed.
    assert_eq!(export_student(&out).status.code(), Some(2));
}

/// The tests that failed in `cargo test` output, each with whether its
/// output says "not yet implemented" (a `todo!()` reached).
fn failures(stdout: &str) -> Vec<(String, bool)> {
    let mut failed: Vec<(String, bool)> = Vec::new();
    let mut current: Option<(String, bool)> = None;
    for line in stdout.lines() {
        if let Some(name) = line.strip_prefix("---- ").and_then(|l| l.strip_suffix(" stdout ----")) {
            failed.extend(current.take());
            current = Some((name.to_owned(), false));
        } else if line == "failures:" {
            failed.extend(current.take());
        } else if let Some((_, todo)) = current.as_mut() {
            *todo |= line.contains("not yet implemented");
        }
    }
    failed.extend(current);
    failed
}

/// What a student does first, in the hand-out: the set-up, then the tests,
/// which build without a warning and fail, every one of them, with "not yet
/// implemented", not with another error: a stub solved by mistake, or one
/// that fails for another reason, is caught here.
///
/// The hand-out builds in the kit's own target folder, with the kit's
/// LIBTORCH, so that the dependencies the kit's build compiled already
/// (libtorch's C++ glue above all) are not compiled again: only the
/// hand-out's crates are, and the dependencies whose features differ in a
/// build of `exercises` alone. What is built is what a student builds; the
/// hand-out's own `.libtorch` link is checked apart.
#[test]
fn the_hand_out_sets_up_and_its_tests_wait_for_the_student() {
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("fcn-exercises");
    export(&out);
    // A student's shell has no LIBTORCH, so the hand-out's set-up makes its
    // own `.libtorch` link, to the same libtorch as the kit's.
    let setup = Command::new("make").arg("setup").current_dir(&out).env_remove("LIBTORCH").output().unwrap();
    assert!(setup.status.success(), "make setup failed:\n{}", String::from_utf8_lossy(&setup.stderr));
    let libtorch = std::env::var_os("LIBTORCH").map(PathBuf::from).expect("cargo sets the kit's LIBTORCH for its tests");
    let linked = out.join(".libtorch").canonicalize().expect("the set-up links .libtorch");
    assert_eq!(linked, libtorch.canonicalize().unwrap(), "the hand-out's .libtorch is not the kit's libtorch");
    assert!(linked.join("lib/libtorch_cpu.so").is_file(), "{} holds no libtorch", linked.display());
    // The kit's target folder, where cargo put the grader: `<target>/debug/grader`.
    let target = Path::new(env!("CARGO_BIN_EXE_grader")).parent().and_then(Path::parent).expect("the grader is in <target>/debug");
    let test = Command::new("cargo")
        .args(["test", "-p", "exercises", "--no-fail-fast"])
        .current_dir(&out)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&test.stdout);
    let stderr = String::from_utf8_lossy(&test.stderr);
    assert!(!stderr.contains("error[E") && !stderr.contains("warning:"), "the hand-out does not build cleanly:\n{stderr}");
    assert!(stdout.contains("not yet implemented"), "{stdout}\n{stderr}");
    let results: Vec<&str> = stdout.lines().filter(|l| l.starts_with("test result:")).collect();
    assert!(results.len() >= 3, "the public test files did not all run:\n{stdout}");
    let passing: Vec<&str> = stdout.lines().filter(|l| l.starts_with("test ") && l.ends_with(" ... ok")).collect();
    assert!(passing.is_empty(), "public tests pass on the stubs:\n{}", passing.join("\n"));
    // Every test ran and failed, each at a todo!().
    let failed = failures(&stdout);
    let counted: usize = results.iter().filter_map(|l| l.split("; ").nth(1)?.strip_suffix(" failed")?.parse::<usize>().ok()).sum();
    assert_eq!(failed.len(), counted, "the failures reported are not the failures counted:\n{stdout}");
    assert!(counted >= 50, "only {counted} public tests ran:\n{stdout}");
    let other: Vec<&str> = failed.iter().filter(|(_, todo)| !todo).map(|(name, _)| name.as_str()).collect();
    assert!(other.is_empty(), "these tests fail for another reason than a todo!():\n{}\n{stdout}", other.join("\n"));
    eprintln!("the hand-out's {counted} public tests all wait for the student (\"not yet implemented\")");
    assert!(out.join("data/voc-samples/ImageSets/Segmentation/all.txt").exists(), "the set-up did not fetch the photos");

    // The student's command works in the hand-out: every exercise not
    // started, and the first one next.
    let course = Command::new("cargo")
        .args(["course"])
        .current_dir(&out)
        .env_remove("CARGO")
        .env("CARGO_TARGET_DIR", target)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&course.stdout);
    assert!(course.status.success(), "cargo course failed:\n{said}\n{}", String::from_utf8_lossy(&course.stderr));
    assert!(said.contains("1. the bilinear upsampling filter") && said.contains("not started"), "{said}");
    assert!(said.contains("Next: exercise 1, the bilinear upsampling filter."), "{said}");
    let passing = said.lines().any(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()) && l.ends_with("passing"));
    assert!(!passing && said.contains("0/4 passing"), "{said}");
}
