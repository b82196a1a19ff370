//! What a check may use, and the command-line options that set it, for
//! `grader` and `grader batch` alike.

use std::time::Duration;

use clap::Args;

/// Bytes a runner may print over its life, stdout and stderr together, in
/// MiB: room for a student's debugging output, not for a flood.
pub const OUTPUT_MIB: u64 = 16;

/// What one check may use.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall-clock time.
    pub timeout: Duration,
    /// Memory the runner may allocate (its data segment and anonymous
    /// mappings), in MiB; applied on CPU only.
    pub memory_mib: u64,
    /// Bytes the runner may print (stdout and stderr together), in MiB.
    pub output_mib: u64,
    /// libtorch's threads in the runner.
    pub threads: i32,
    /// The time limit and threads of a training check.
    pub training_timeout: Duration,
    pub training_threads: i32,
}

impl Limits {
    /// The limits for a check that trains networks.
    pub fn for_training(self) -> Limits {
        Limits { timeout: self.training_timeout, threads: self.training_threads, ..self }
    }
}

/// The options that set [`Limits`].
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Seconds each check may run before it is stopped.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub timeout: u64,

    /// Seconds each training check may run before it is stopped (at least
    /// --timeout).
    #[arg(long, value_name = "SECS", default_value_t = 900)]
    pub training_timeout: u64,

    /// MiB of memory each check may allocate (on CPU).
    #[arg(long, value_name = "MIB", default_value_t = 6144)]
    pub memory_limit: u64,

    /// Seconds the build of a student's runner may take.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub build_timeout: u64,
}

impl LimitArgs {
    /// The limits of one grading that runs `jobs` checks at a time on
    /// `cores` cores of its own: its checks share the cores, a training
    /// check (run alone) takes them all.
    pub fn limits(&self, cores: usize, jobs: usize) -> Limits {
        Limits {
            timeout: Duration::from_secs(self.timeout.max(1)),
            memory_mib: self.memory_limit,
            output_mib: OUTPUT_MIB,
            threads: (cores / jobs.max(1)).max(1) as i32,
            training_timeout: Duration::from_secs(self.training_timeout.max(self.timeout).max(1)),
            training_threads: cores.max(1) as i32,
        }
    }

    pub fn build_timeout(&self) -> Duration {
        Duration::from_secs(self.build_timeout.max(1))
    }

    /// The options as a command line gives them: `--timeout=120` and so on.
    pub fn words(&self) -> Vec<String> {
        vec![
            format!("--timeout={}", self.timeout),
            format!("--training-timeout={}", self.training_timeout),
            format!("--memory-limit={}", self.memory_limit),
            format!("--build-timeout={}", self.build_timeout),
        ]
    }
}
