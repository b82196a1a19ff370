//! The grader binary, run as an instructor runs it.

use std::process::{Command, Output};

/// Runs the grader with `args`, with no `LD_LIBRARY_PATH`: the binary must
/// find libtorch through its rpath.
fn grader(args: &[&str]) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_grader"))
        .args(args)
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .expect("the grader binary starts");
    assert!(
        output.status.success(),
        "grader {args:?} exited with {}:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("the report is UTF-8")
}

#[test]
fn reference_scores_full_marks() {
    let report = stdout(&grader(&["--target", "solutions"]));
    insta::assert_snapshot!(report);
}

#[test]
fn stubs_score_zero_with_every_check_not_attempted() {
    let report = stdout(&grader(&[]));
    let checks = checks::suite::<checks::Exercises>().len();
    assert_eq!(report.matches("not attempted").count(), checks, "{report}");
    assert!(report.contains("Total: 0/"), "{report}");
}

#[test]
fn help_documents_the_exit_status() {
    let help = stdout(&grader(&["--help"]));
    assert!(help.contains("Exit status: 0 when grading completed"), "{help}");
}
