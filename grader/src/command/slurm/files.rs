//! The job's files in OUT/.slurm, by name.

/// The folder in OUT with the job's files; no student's folder can have
/// its name (`class::usable_name`).
pub(super) const FOLDER: &str = ".slurm";
/// The students of the last array submitted, task N on line N (from 0).
pub(super) const TASKS: &str = "tasks.txt";
/// The id of the last array submitted.
pub(super) const JOB: &str = "job";
/// The job script.
pub(super) const SCRIPT: &str = "grade.sh";
/// The build array's job script (`--build-sbatch`).
pub(super) const BUILD_SCRIPT: &str = "build.sh";
/// Where the build array puts each student's runner.
pub(super) const RUNNERS: &str = "runners";
