//! The grader's commands, run as an instructor runs them. One test binary,
//! so that its tests, minutes each (they build runners, grade a class and
//! build the hand-out), run side by side, as many at once as there are
//! cores, rather than one file after another.

mod common;
#[path = "../../src/results.rs"]
mod results;

mod batch;
mod cli;
mod export;
mod gradescope;
mod sync;
