//! What a grading run grades: the crate (target), its checks, and the rows of
//! the report.

use checks::{Check, Exercise, Status, Visibility};

/// Whether a check trains networks (minutes, not seconds).
pub fn is_training(check: &Check) -> bool {
    check.trains
}

/// The crate of answers to grade: whose exercise files the runner is built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// The student crate, `exercises/`.
    Exercises,
    /// The reference crate, `solutions/`; must score full marks.
    Solutions,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Exercises => "exercises",
            Target::Solutions => "solutions",
        }
    }
}

/// Every check, in course order, against the student's code in the runner.
/// A check is known to the child process by its index in this list.
pub fn checks() -> Vec<Check> {
    checks::full_suite::<crate::remote::Remote>()
}

/// One row of the report: a check and how it ended.
#[derive(Debug, Clone)]
pub struct Graded {
    pub exercise: Exercise,
    pub name: &'static str,
    pub points: u32,
    pub visibility: Visibility,
    pub status: Status,
    pub seconds: f64,
    /// The end of what the check printed.
    pub output: String,
}

impl Graded {
    /// A row for a check that did not run.
    pub fn skipped(check: &Check, why: &str) -> Self {
        Graded {
            exercise: check.exercise,
            name: check.name,
            points: check.points,
            visibility: check.visibility,
            status: Status::Skipped(why.to_owned()),
            seconds: 0.0,
            output: String::new(),
        }
    }

    pub fn score(&self) -> u32 {
        if self.status.passed() { self.points } else { 0 }
    }

    /// Points at stake: a skipped check counts for nothing either way.
    pub fn max_score(&self) -> u32 {
        if matches!(self.status, Status::Skipped(_)) { 0 } else { self.points }
    }
}

/// Finds an exercise by its id (`vgg`) or number (`2`): the registry's
/// lookup (`registry::named`), as the grader's exercise of that id (a test
/// holds the two lists equal).
pub fn exercise_named(name: &str) -> Option<Exercise> {
    let named = registry::named(name)?;
    checks::EXERCISES.into_iter().find(|e| e.id == named.id)
}

/// The ids and numbers `exercise_named` accepts, for an error message.
pub fn exercise_names() -> String {
    checks::EXERCISES
        .into_iter()
        .map(|e| format!("{} ({})", e.id, e.number))
        .collect::<Vec<_>>()
        .join(", ")
}
