//! The student hand-out: no solution text anywhere in it, and its own
//! set-up and test command work as its README says.

use std::path::{Path, PathBuf};
use std::process::Command;

fn kit() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn export(into: &Path) {
    let output = Command::new(env!("CARGO_BIN_EXE_grader"))
        .arg("export-student")
        .arg(into)
        .arg("--kit")
        .arg(kit())
        .output()
        .unwrap();
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
    let again = Command::new(env!("CARGO_BIN_EXE_grader")).arg("export-student").arg(&out).arg("--kit").arg(kit()).output().unwrap();
    assert_eq!(again.status.code(), Some(2));
}

/// What a student does first, in the hand-out: the set-up, then the tests,
/// which build and fail with "not yet implemented" (a fresh build of tch:
/// minutes).
#[test]
fn the_hand_out_sets_up_and_its_tests_wait_for_the_student() {
    let folder = tempfile::tempdir().unwrap();
    let out = folder.path().join("fcn-exercises");
    export(&out);
    // A student's shell has no LIBTORCH (cargo sets one for this test: the
    // kit's own), so the hand-out's set-up makes its own `.libtorch` link.
    let setup = Command::new("make").arg("setup").current_dir(&out).env_remove("LIBTORCH").output().unwrap();
    assert!(setup.status.success(), "make setup failed:\n{}", String::from_utf8_lossy(&setup.stderr));
    let test = Command::new("cargo")
        .args(["test", "-p", "exercises", "--no-fail-fast"])
        .current_dir(&out)
        .env_remove("LIBTORCH")
        .env("CARGO_TARGET_DIR", out.join("target"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&test.stdout);
    let stderr = String::from_utf8_lossy(&test.stderr);
    assert!(!stderr.contains("error[E") && !stderr.contains("warning:"), "the hand-out does not build cleanly:\n{stderr}");
    assert!(stdout.contains("not yet implemented"), "{stdout}\n{stderr}");
    let results: Vec<&str> = stdout.lines().filter(|l| l.starts_with("test result:")).collect();
    assert!(results.len() >= 3, "the public test files did not all run:\n{stdout}");
    assert!(results.iter().all(|l| l.contains(" 0 passed;")), "a public test passes on the stubs:\n{stdout}");
    assert!(out.join("data/voc-samples/ImageSets/Segmentation/all.txt").exists(), "the set-up did not fetch the photos");

    // The student's command works in the hand-out: every exercise not
    // started, and the first one next.
    let course = Command::new("cargo")
        .args(["course"])
        .current_dir(&out)
        .env_remove("LIBTORCH")
        .env_remove("CARGO")
        .env("CARGO_TARGET_DIR", out.join("target"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&course.stdout);
    assert!(course.status.success(), "cargo course failed:\n{said}\n{}", String::from_utf8_lossy(&course.stderr));
    assert!(said.contains("1. the bilinear upsampling filter") && said.contains("not started"), "{said}");
    assert!(said.contains("Next: exercise 1, the bilinear upsampling filter."), "{said}");
    let passing = said.lines().any(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()) && l.ends_with("passing"));
    assert!(!passing && said.contains("0/3 passing"), "{said}");
}
