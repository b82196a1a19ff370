//! The course's one list of exercises, `exercises/info.toml`, held against
//! everything else that lists them: the grader's exercises, the exercise
//! files and their tests, and both READMEs' tables (rustlings' `dev check`).

use std::path::{Path, PathBuf};

fn kit() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(kit().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_grader_grades_the_registry_s_exercises() {
    let registry = registry::exercises();
    assert_eq!(registry.len(), checks::EXERCISES.len(), "the registry and the grader list different exercises");
    for (listed, graded) in registry.iter().zip(checks::EXERCISES) {
        assert_eq!(
            (listed.id.as_str(), listed.number, listed.title.as_str()),
            (graded.id, graded.number, graded.title),
            "exercise {}: the registry and the grader disagree",
            listed.number
        );
        let bonus = graded.track == checks::Track::Bonus;
        assert_eq!(listed.track == registry::Track::Bonus, bonus, "{}: track", listed.id);
        assert!(!graded.hints().is_empty(), "{}: no hints", listed.id);
    }
}

#[test]
fn every_exercise_file_and_test_is_the_registry_s() {
    let mut files: Vec<String> = registry::exercises().iter().flat_map(|e| e.files.clone()).collect();
    for file in &files {
        assert!(kit().join("exercises/src").join(file).is_file(), "exercises/src/{file} is in the registry, not on disk");
        assert!(kit().join("solutions/src").join(file).is_file(), "solutions/src/{file}: the reference has no such file");
    }
    // Every file a student writes (it has a stub: `todo!("...")`) is an exercise's.
    let mut written: Vec<String> = std::fs::read_dir(kit().join("exercises/src"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| read(&format!("exercises/src/{name}")).contains("todo!(\""))
        .collect();
    files.sort();
    written.sort();
    assert_eq!(written, files, "the files with todo!() and the registry's files differ");
    for exercise in registry::exercises() {
        let Some(test) = &exercise.test else { continue };
        let source = read(&format!("exercises/tests/{test}.rs"));
        for part in &exercise.parts {
            let module = source.contains(&format!("network_tests!({part}")) || source.contains(&format!("mod {part} {{"));
            assert!(module, "{test}.rs has no module of tests for part {part}");
        }
    }
}

#[test]
fn both_readmes_number_the_exercises_as_the_registry_does() {
    for readme in ["README.md", "handout/README.md"] {
        let text = read(readme);
        for exercise in registry::exercises() {
            let row = format!("| {} | {}", exercise.number, exercise.title);
            assert!(text.contains(&row), "{readme} has no row {row:?}");
        }
        // And no row of a number the registry does not have.
        let numbers: Vec<u32> = text
            .lines()
            .filter_map(|l| l.strip_prefix("| ")?.split(" |").next()?.parse().ok())
            .collect();
        for number in numbers {
            assert!(registry::named(&number.to_string()).is_some(), "{readme} has a row for exercise {number}, which the registry does not list");
        }
    }
}
