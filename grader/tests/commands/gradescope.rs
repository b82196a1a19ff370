//! The Gradescope autograder that `grader package-gradescope` writes: its
//! zip has Gradescope's layout, and its `run_autograder`, run against a
//! simulated `/autograder` root, grades a correct, a wrong and a
//! non-compiling submission into `results/results.json`.
//!
//! `setup.sh` needs the network (apt, rustup, PyTorch from PyPI), so it is
//! not run here: what it leaves behind (the kit's libtorch link, the built
//! grader, the runner's prepared build tree) is linked in from this kit.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::common::{Need, exercise_files, kit, machine_has, solution};
use crate::results::Results;

/// Unpacks the zip at `zip` into `into`, as Gradescope unpacks it.
fn unpack(zip: &Path, into: &Path) {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip).unwrap()).unwrap();
    archive.extract(into).unwrap();
}

fn executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Runs `run_autograder` of the autograder in `root` on the files
/// `submission` (name, contents): results.json, parsed.
fn grade(root: &Path, submission: &[(&str, String)]) -> Results {
    let folder = root.join("submission");
    let _ = std::fs::remove_dir_all(&folder);
    let _ = std::fs::remove_dir_all(root.join("results"));
    std::fs::create_dir_all(&folder).unwrap();
    for (name, contents) in submission {
        std::fs::write(folder.join(name), contents).unwrap();
    }
    let output = Command::new(root.join("source/run_autograder"))
        .env("AUTOGRADER_ROOT", root)
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let results = std::fs::read_to_string(root.join("results/results.json")).unwrap();
    serde_json::from_str(&results).unwrap()
}

fn output_of<'a>(results: &'a Results, check: &str) -> &'a str {
    let test = results.tests.iter().find(|t| t.extra_data.check.contains(check));
    &test.unwrap_or_else(|| panic!("no check {check:?}")).output
}

#[test]
fn the_autograder_zip_grades_a_correct_a_wrong_and_a_broken_submission() {
    if !machine_has(Need::Sandbox, "the Gradescope package grades submissions") {
        return;
    }
    let folder = tempfile::tempdir().unwrap();
    let zip = folder.path().join("autograder.zip");
    let packaged = Command::new(env!("CARGO_BIN_EXE_grader"))
        .args(["package-gradescope", "--skip-training", "--timeout", "30", "--memory-limit", "2048", "--out"])
        .arg(&zip)
        .output()
        .unwrap();
    assert!(packaged.status.success(), "{}", String::from_utf8_lossy(&packaged.stderr));

    // Gradescope's layout: the two scripts at the root of the zip, the kit's
    // source beside them, no build output.
    let root = folder.path().join("autograder");
    let source = root.join("source");
    unpack(&zip, &source);
    for script in ["setup.sh", "run_autograder"] {
        assert!(executable(&source.join(script)), "{script} is not an executable file at the zip's root");
        let parses = Command::new("bash").arg("-n").arg(source.join(script)).status().unwrap();
        assert!(parses.success(), "{script} is not valid bash");
    }
    for file in ["kit/Cargo.toml", "kit/Makefile", "kit/solutions/src/fcn8s.rs", "kit/grader/src/main.rs", "kit/scripts/setup-libtorch"] {
        assert!(source.join(file).is_file(), "the zip has no {file}");
    }
    assert!(executable(&source.join("kit/scripts/setup-libtorch")), "the kit's scripts stay executable");
    for absent in ["kit/target", "kit/.git", "kit/.libtorch"] {
        assert!(!source.join(absent).exists(), "the zip holds {absent}");
    }
    let setup = std::fs::read_to_string(source.join("setup.sh")).unwrap();
    for needs in ["bubblewrap", "python3-venv", "rustup", "make setup", "cargo build --release -p grader"] {
        assert!(setup.contains(needs), "setup.sh does not install or run {needs}");
    }

    // What setup.sh leaves, from this kit: libtorch, the grader, the
    // runner's build tree.
    let unpacked = source.join("kit");
    std::os::unix::fs::symlink(kit().join(".libtorch").canonicalize().unwrap(), unpacked.join(".libtorch")).unwrap();
    std::fs::create_dir_all(unpacked.join("target/release")).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_grader"), unpacked.join("target/release/grader")).unwrap();
    std::fs::create_dir_all(kit().join("target/grader")).unwrap();
    std::os::unix::fs::symlink(kit().join("target/grader"), unpacked.join("target/grader")).unwrap();

    let correct: Vec<(&str, String)> = exercise_files().into_iter().map(|f| (f, solution(f))).collect();
    let with = |file: &str, contents: String| -> Vec<(&str, String)> {
        correct.iter().map(|(f, c)| (*f, if *f == file { contents.clone() } else { c.clone() })).collect()
    };

    let results = grade(&root, &correct);
    assert_eq!(results.score, results.max_score, "the reference: {results:?}");
    assert!(results.extra_data.sandboxed, "{results:?}");

    let off_by_one = solution("fcn16s.rs").replace("crop(&fine, &coarse, pool4_offset)", "crop(&fine, &coarse, pool4_offset + 1)");
    assert_ne!(off_by_one, solution("fcn16s.rs"), "FCN-16s's crop is where the test expects it");
    let results = grade(&root, &with("fcn16s.rs", off_by_one));
    let (score, max) = (results.score, results.max_score);
    assert!(score < max && score > 0, "a crop off by one: {score}/{max}");
    assert!(output_of(&results, "FCN-16s: same output").contains("score_pool4c"), "{results:?}");

    let broken = solution("fcn8s.rs").replacen("// BEGIN SOLUTION", "// BEGIN SOLUTION\n    let oops: i64 = \"not a number\";", 1);
    let results = grade(&root, &with("fcn8s.rs", broken));
    let score = results.score;
    assert!(score < max, "a file that does not compile: {score}/{max}");
    assert!(results.output.contains("fcn8s.rs does not compile"), "{results:?}");
}
