//! The grader's commands, one module each.

pub mod batch;
pub mod class;
pub mod export;
pub mod grade;
pub mod gradescope;
pub mod hint;
pub mod slurm;
pub mod sync;
pub mod train;
