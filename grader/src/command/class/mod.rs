//! A class: what grading one takes, each student's grading, and the rows
//! and gradebook of results. `grader batch` grades a class here or, with
//! `--slurm`, through `command::slurm`; both use this module, which uses
//! neither.

mod args;
mod rows;
mod student;

pub use args::{BatchArgs, BatchDevice, options};
pub use rows::{Row, finish, record, students, usable_name};
pub use student::grade_one;
