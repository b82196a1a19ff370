//! What a grading run grades: the crate (target), its checks, and the rows of
//! the report.

use checks::{Check, Exercise, Status, Visibility};

/// The crate of answers to grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// The student crate, `exercises/`.
    Exercises,
    /// The reference crate, `solutions/`; must score full marks.
    Solutions,
    /// The grader's self-check: implementations that crash, hang, allocate
    /// without bound, flood their output or print a fake pass.
    #[value(hide = true)]
    Misbehaving,
}

impl Target {
    /// Every check, in course order. A check is known to the child process by
    /// its index in this list.
    pub fn suite(self) -> Vec<Check> {
        match self {
            Target::Exercises => checks::suite::<checks::Exercises>(),
            Target::Solutions => checks::suite::<checks::Solutions>(),
            Target::Misbehaving => checks::misbehaving::suite(),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Target::Exercises => "exercises",
            Target::Solutions => "solutions",
            Target::Misbehaving => "misbehaving",
        }
    }
}

/// The training checks: they train the student's networks and compare them
/// with the reference's. Listed so that the report shows them and why they
/// did not run.
pub const TRAINING: Exercise = Exercise {
    id: "training",
    number: 4,
    title: "the networks train",
    hints: &[
        "The training checks train your networks as they are: first make every check of exercises 1 to 3 \
         pass, since a network that gives the reference's output on the same weights trains like it.",
    ],
};

/// Names of the training checks, with the points each will carry.
pub const TRAINING_CHECKS: [&str; 2] = [
    "FCN-32s, FCN-16s, FCN-8s: mean IU within the margin of the reference's",
    "FCN-8s overfits the real VOC samples",
];

/// Why the training checks did not run in this version of the kit.
pub const TRAINING_NOT_BUILT: &str = "the training run is not part of this version of the kit yet";

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
    pub fn skipped(exercise: Exercise, name: &'static str, why: &str) -> Self {
        Graded {
            exercise,
            name,
            points: 0,
            visibility: Visibility::Hidden,
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

/// Finds an exercise by its id (`vgg`) or number (`2`).
pub fn exercise_named(name: &str) -> Option<Exercise> {
    checks::EXERCISES.into_iter().chain([TRAINING]).find(|e| e.id == name || e.number.to_string() == name)
}

/// The ids and numbers `exercise_named` accepts, for an error message.
pub fn exercise_names() -> String {
    checks::EXERCISES
        .into_iter()
        .chain([TRAINING])
        .map(|e| format!("{} ({})", e.id, e.number))
        .collect::<Vec<_>>()
        .join(", ")
}
