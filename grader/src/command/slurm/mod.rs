//! `grader batch --slurm`: a class graded as one Slurm job array.
//!
//! The grader that submits prepares what the tasks share, which they only
//! read: the kit with its built grader and the runner's build tree (on a
//! file system every node sees). It lists the students to grade, one per
//! line, in `OUT/.slurm/tasks.txt`, writes the job script
//! `OUT/.slurm/grade.sh`, and submits one array with a task per line. Task
//! N runs this grader again (`--slurm-task N`): it grades the student on
//! line N into `OUT/<student>/` exactly as `grader batch` grades one, in a
//! build folder on the node, and exits. The reference's training, where the
//! training checks run, is done once by the first task that needs it while
//! the others wait (a lock in the shared cache).
//!
//! The gather reads each student's record (`grading.json`, written last by
//! a grading that completed) and checks it is of the files in SUBMISSIONS
//! now. A student without one is in the gradebook as not graded, with what
//! happened to their task (it failed, ran past the time limit, was
//! cancelled or never ran), read from the task's output file. Students
//! whose record is up to date are not submitted again, so the same command
//! run again grades only those left.

mod files;
mod gather;
mod submit;
mod task;

pub use gather::gather;
pub use submit::submit;
pub use task::{build_task, task};
