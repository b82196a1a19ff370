//! What grading a class takes: the command line of `grader batch`, and the
//! options of each student's grading it gives.

use anyhow::Context;
use std::path::{Path, PathBuf};

use checks::Settings;
use clap::Args;

use crate::limits::LimitArgs;

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// A folder with one folder per student.
    pub submissions: PathBuf,

    /// Where the reports and gradebook.csv go.
    #[arg(long, value_name = "DIR", default_value = "target/grader/batch")]
    pub out: PathBuf,

    /// Students graded at the same time.
    #[arg(long, short, default_value_t = 1)]
    pub jobs: usize,

    /// Grade again students whose files have not changed.
    #[arg(long)]
    pub force: bool,

    /// Leave out the training checks.
    #[arg(long)]
    pub skip_training: bool,

    /// Grade one exercise only: its name or number.
    #[arg(long, value_name = "EXERCISE")]
    pub only: Option<String>,

    #[command(flatten)]
    pub limits: LimitArgs,

    /// Run the students' code without the sandbox (every report says so).
    #[arg(long)]
    pub unsandboxed: bool,

    /// The kit's folder (default: the one this grader was built in).
    #[arg(long, value_name = "DIR")]
    pub kit: Option<PathBuf>,

    /// Where the training checks run: the CPU, or a GPU (with --slurm, each
    /// task then asks for one: --gres=gpu:1).
    #[arg(long, value_enum, default_value_t = BatchDevice::Cpu)]
    pub device: BatchDevice,

    /// Grade on a Slurm cluster: one job array, one task per student to
    /// grade, then the gradebook (INSTRUCTORS.md: "Grading a large class").
    #[arg(long)]
    pub slurm: bool,

    /// With --slurm: cores each task asks for (its checks run on them).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub task_cores: usize,

    /// With --slurm: an option for sbatch, as sbatch spells it; give it once
    /// per option (--sbatch=--partition=gpu --sbatch=--account=cs101).
    #[arg(long = "sbatch", value_name = "OPTION", allow_hyphen_values = true, requires = "slurm")]
    pub sbatch: Vec<String>,

    /// With --slurm: build the runners in a job array of their own, before
    /// the grading array, with this option for its sbatch (given once per
    /// option, as --sbatch is): for example CPU nodes that have Rust for
    /// the builds, GPU nodes for the grading (--build-sbatch=--partition=cpu
    /// --sbatch=--partition=gpu).
    #[arg(long = "build-sbatch", value_name = "OPTION", allow_hyphen_values = true, requires = "slurm")]
    pub build_sbatch: Vec<String>,

    /// With --slurm: submit the job array and return; gather later with
    /// --gather.
    #[arg(long, requires = "slurm")]
    pub no_wait: bool,

    /// Grade nothing: build gradebook.csv from the students' records in OUT,
    /// and name every student who has none (a task that failed, timed out
    /// or never ran).
    #[arg(long, conflicts_with = "slurm")]
    pub gather: bool,

    /// The task of a Slurm job array to run: grades the student on that line
    /// of OUT/.slurm/tasks.txt (`grader batch --slurm` writes both).
    #[arg(long, value_name = "N", hide = true, conflicts_with_all = ["slurm", "gather"])]
    pub slurm_task: Option<usize>,

    /// The task of a Slurm build array to run: builds the runner of the
    /// student on that line of OUT/.slurm/tasks.txt.
    #[arg(long, value_name = "N", hide = true, conflicts_with_all = ["slurm", "gather", "slurm_task"])]
    pub slurm_build_task: Option<usize>,
}

/// Where a class's training checks run. There is no "auto": tasks on a
/// cluster must not depend on what the submitting machine has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BatchDevice {
    Cpu,
    Cuda,
}

/// The grading options for a student, when `jobs` students share `cores`.
pub fn options(args: &BatchArgs, kit: &Path, jobs: usize, cores: usize) -> anyhow::Result<crate::grading::Options> {
    let only = match &args.only {
        None => None,
        Some(name) => Some(crate::suite::exercise_named(name).with_context(|| {
            format!("no exercise {name:?}; the exercises are {}", crate::suite::exercise_names())
        })?),
    };
    let device = match args.device {
        BatchDevice::Cpu => tch::Device::Cpu,
        // Resolved where the grading runs (a task's node), not where it is
        // submitted.
        BatchDevice::Cuda if args.slurm => tch::Device::Cuda(0),
        BatchDevice::Cuda => crate::device::resolve(crate::device::DeviceChoice::Cuda)?,
    };
    // Each student's grading gets its share of the cores, and runs as many
    // checks at a time as it has cores.
    let cores = (cores / jobs.max(1)).max(1);
    Ok(crate::grading::Options {
        only,
        skip_training: args.skip_training,
        settings: Settings { cache: Some(kit.join("target/grader/cache")), device, ..Settings::default() },
        limits: args.limits.limits(cores, cores),
        jobs: cores,
        build_timeout: args.limits.build_timeout(),
        progress: false,
    })
}

