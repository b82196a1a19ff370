//! Gradescope's `results.json`, typed: the grader writes it through these
//! types, and everything that reads it (the kit's own tests) reads it
//! through them too, compiled from this file. Each test carries what it is
//! in `extra_data` (its exercise, track and status) as fields; the tags
//! repeat them for Gradescope's interface only.
//!
//! Gradescope's format: <https://gradescope-autograders.readthedocs.io/en/latest/specs/>.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Results {
    /// The core score: Gradescope takes it instead of the tests' sum, so
    /// that bonus points never add to it.
    pub score: u32,
    pub max_score: u32,
    pub extra_data: RunData,
    /// Seconds, to a tenth.
    pub execution_time: f64,
    pub output: String,
    pub visibility: String,
    pub stdout_visibility: String,
    pub tests: Vec<TestResult>,
}

/// What Gradescope does not show but an instructor's tools read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunData {
    pub bonus_score: u32,
    pub bonus_max_score: u32,
    /// Whether the student's code ran in the sandbox.
    pub sandboxed: bool,
    /// What the grader did with the submission's files.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestResult {
    /// `N. exercise title: check name`.
    pub name: String,
    /// `N.M`: the exercise's number, then the check's place in the run.
    pub number: String,
    pub score: u32,
    pub max_score: u32,
    /// Gradescope's `passed` or `failed`.
    pub status: String,
    pub output: String,
    pub tags: Vec<String>,
    /// `visible` (a public check) or `after_due_date` (a hidden one).
    pub visibility: String,
    pub extra_data: TestData,
}

/// A test's check, as fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestData {
    /// The exercise's id: `vgg`, `fcn`, ...
    pub exercise: String,
    /// `core` or `bonus`.
    pub track: String,
    /// How the check ended: `passed`, `failed`, `not attempted`, ...
    pub check_status: String,
    /// The check's name, without the exercise.
    pub check: String,
}

impl TestResult {
    #[allow(dead_code, reason = "the kit's tests read it; the grader writes the track")]
    pub fn is_bonus(&self) -> bool {
        self.extra_data.track == "bonus"
    }
}
