//! Where a student stands: each exercise's state, read from what its public
//! tests print (libtest's plain output: a line per test, then each
//! failure's output).

use crate::Exercise;

/// An exercise's state, or one part's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Every test stops at a `todo!()`.
    NotStarted,
    /// Some test fails for another reason, or some pass and some do not.
    Failing,
    /// Every test passes.
    Passing,
    /// The exercises crate does not compile, so no test ran.
    DoesNotCompile,
    /// No test of it ran (it has none of its own: the training run, graded
    /// by the instructor's grader).
    NoTests,
}

impl State {
    pub fn label(self) -> &'static str {
        match self {
            State::NotStarted => "not started",
            State::Failing => "failing",
            State::Passing => "passing",
            State::DoesNotCompile => "does not compile",
            State::NoTests => "graded by the grader",
        }
    }
}

/// One test's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The test target it is in (`fcn` for tests/fcn.rs).
    pub target: String,
    /// Its path in the target: `fcn16s::upscore_layers_are_not_trainable`.
    pub name: String,
    pub passed: bool,
    /// It failed at a `todo!()`.
    pub todo: bool,
}

/// The outcomes in the output of `cargo test` (stdout and stderr
/// together), for every test target it ran.
pub fn outcomes(output: &str) -> Vec<Outcome> {
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut target = String::new();
    let mut failure: Option<usize> = None;
    for line in output.lines() {
        let line = line.trim_end();
        if let Some(rest) = line.trim_start().strip_prefix("Running ") {
            // "Running tests/fcn.rs (target/debug/deps/fcn-0123)"
            target = rest.split_whitespace().next().unwrap_or_default().trim_start_matches("tests/").trim_end_matches(".rs").to_owned();
            failure = None;
        } else if let Some(rest) = line.strip_prefix("test ") {
            let verdict = if rest.ends_with(" ... ok") {
                Some(true)
            } else if rest.ends_with(" ... FAILED") {
                Some(false)
            } else {
                None
            };
            if let (Some(passed), Some(name)) = (verdict, rest.split(" ... ").next()) {
                outcomes.push(Outcome { target: target.clone(), name: name.to_owned(), passed, todo: false });
            }
        } else if let Some(name) = line.strip_prefix("---- ").and_then(|l| l.strip_suffix(" stdout ----")) {
            failure = outcomes.iter().position(|o| o.target == target && o.name == name);
        } else if line == "failures:" || line.starts_with("test result:") {
            failure = None;
        } else if line.contains("not yet implemented") {
            if let Some(at) = failure {
                outcomes[at].todo = true;
            }
        }
    }
    outcomes
}

/// The state of the tests in `outcomes`.
pub fn state_of<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> State {
    let (mut passed, mut todo, mut failed) = (0, 0, 0);
    for outcome in outcomes {
        match (outcome.passed, outcome.todo) {
            (true, _) => passed += 1,
            (false, true) => todo += 1,
            (false, false) => failed += 1,
        }
    }
    match (passed, todo, failed) {
        (0, 0, 0) => State::NoTests,
        (_, 0, 0) => State::Passing,
        (0, _, 0) => State::NotStarted,
        _ => State::Failing,
    }
}

/// The state of `exercise`'s tests, and of each of its parts.
pub fn exercise_state(exercise: &Exercise, outcomes: &[Outcome], compiled: bool) -> (State, Vec<(String, State)>) {
    let Some(test) = &exercise.test else { return (State::NoTests, Vec::new()) };
    if !compiled {
        return (State::DoesNotCompile, Vec::new());
    }
    let own: Vec<&Outcome> = outcomes.iter().filter(|o| &o.target == test).collect();
    let parts: Vec<(String, State)> = exercise
        .parts
        .iter()
        .map(|part| {
            let prefix = format!("{part}::");
            (part.clone(), state_of(own.iter().copied().filter(|o| o.name.starts_with(&prefix))))
        })
        .collect();
    (state_of(own), parts)
}

/// Whether `cargo test`'s output says the crate did not compile.
pub fn compiled(output: &str) -> bool {
    !output.contains("error: could not compile") && !output.lines().any(|l| l.starts_with("error[E"))
}

/// A bar of `width` cells, `done` of `total` filled.
pub fn bar(done: usize, total: usize, width: usize) -> String {
    let filled = (done * width).checked_div(total).unwrap_or(0);
    format!("[{}{}]", "#".repeat(filled), "-".repeat(width - filled))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `cargo test -p exercises --tests` printed for a student with
    /// FCN-16s done and FCN-8s not begun (trimmed to two targets).
    const OUTPUT: &str = "\
   Compiling exercises v0.1.0 (/kit/exercises)
    Finished `test` profile [unoptimized] target(s) in 3.1s
     Running tests/bilinear.rs (target/debug/deps/bilinear-1a)

running 2 tests
test filter_of_size_4_matches_the_docs ... ok
test upsampling_weight_is_diagonal ... ok

test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s

     Running tests/fcn.rs (target/debug/deps/fcn-2b)

running 4 tests
test fcn16s::output_has_one_score_map_per_class_at_the_input_size ... ok
test fcn16s::upscore_layers_are_not_trainable ... FAILED
test fcn8s::output_has_one_score_map_per_class_at_the_input_size ... FAILED
test fcn8s::upscore_layers_are_not_trainable ... FAILED

failures:

---- fcn16s::upscore_layers_are_not_trainable stdout ----

thread 'fcn16s::upscore_layers_are_not_trainable' panicked at exercises/tests/fcn.rs:80:13:
fcn16s: upscore2.weight must not be trainable

---- fcn8s::output_has_one_score_map_per_class_at_the_input_size stdout ----

thread 'fcn8s::output_has_one_score_map_per_class_at_the_input_size' panicked at exercises/src/fcn8s.rs:90:5:
not yet implemented: exercise 3: FCN-8s

---- fcn8s::upscore_layers_are_not_trainable stdout ----

thread 'fcn8s::upscore_layers_are_not_trainable' panicked at exercises/src/fcn8s.rs:90:5:
not yet implemented: exercise 3: FCN-8s

failures:
    fcn16s::upscore_layers_are_not_trainable
    fcn8s::output_has_one_score_map_per_class_at_the_input_size
    fcn8s::upscore_layers_are_not_trainable

test result: FAILED. 1 passed; 3 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.20s
";

    fn exercise(test: &str, parts: &[&str]) -> Exercise {
        Exercise {
            number: 1,
            id: test.into(),
            title: String::new(),
            track: crate::Track::Core,
            files: Vec::new(),
            test: Some(test.into()),
            parts: parts.iter().map(|p| p.to_string()).collect(),
            hints: Vec::new(),
        }
    }

    #[test]
    fn each_test_s_outcome_is_read_with_its_target_and_whether_it_reached_a_todo() {
        let outcomes = outcomes(OUTPUT);
        assert_eq!(outcomes.len(), 6);
        assert!(outcomes[..2].iter().all(|o| o.target == "bilinear" && o.passed));
        let todo: Vec<&str> = outcomes.iter().filter(|o| o.todo).map(|o| o.name.as_str()).collect();
        assert_eq!(todo, ["fcn8s::output_has_one_score_map_per_class_at_the_input_size", "fcn8s::upscore_layers_are_not_trainable"]);
    }

    #[test]
    fn each_part_has_its_own_state() {
        let outcomes = outcomes(OUTPUT);
        let (state, parts) = exercise_state(&exercise("fcn", &["fcn16s", "fcn8s"]), &outcomes, true);
        assert_eq!(state, State::Failing);
        assert_eq!(parts, [("fcn16s".to_owned(), State::Failing), ("fcn8s".to_owned(), State::NotStarted)]);
        assert_eq!(exercise_state(&exercise("bilinear", &[]), &outcomes, true).0, State::Passing);
        assert_eq!(exercise_state(&exercise("vgg", &[]), &outcomes, true).0, State::NoTests);
        assert_eq!(exercise_state(&exercise("fcn", &[]), &outcomes, false).0, State::DoesNotCompile);
    }

    #[test]
    fn the_bar_fills_in_proportion() {
        assert_eq!(bar(0, 4, 8), "[--------]");
        assert_eq!(bar(1, 4, 8), "[##------]");
        assert_eq!(bar(4, 4, 8), "[########]");
        assert_eq!(bar(0, 0, 4), "[----]");
    }
}
