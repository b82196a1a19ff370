//! Running one check in a process of its own.
//!
//! The grader re-runs its own binary as `grader __check ...` for each check.
//! That child sets its limits, runs the check, and writes the [`Status`] as
//! JSON to a result file the parent named. The parent decides the verdict from
//! that file and from how the child ended, never from what it printed: text
//! printed by student code (into a file the parent only quotes from) cannot
//! pass a check. A child that hangs is killed at the time limit; one that
//! dies leaves no result file, and the parent says how it died.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use checks::{Settings, Status};
use wait_timeout::ChildExt;

use crate::suite::Target;

/// What one check may use.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall-clock time.
    pub timeout: Duration,
    /// Memory the process may allocate (its data segment and anonymous
    /// mappings), in MiB; applied on CPU only.
    pub memory_mib: u64,
    /// Bytes the check may print (stdout and stderr together), in MiB.
    pub output_mib: u64,
    /// libtorch's threads in the child.
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

/// The hidden `__check` command: what the parent tells the child.
#[derive(Debug, clap::Args)]
pub struct ChildArgs {
    #[arg(long, value_enum)]
    target: Target,
    #[arg(long)]
    index: usize,
    #[arg(long)]
    result: PathBuf,
    #[arg(long)]
    memory_mib: u64,
    #[arg(long)]
    output_mib: u64,
    #[arg(long)]
    threads: i32,
    #[arg(long)]
    seed: i64,
    #[arg(long)]
    cuda: bool,
    #[arg(long)]
    artifacts: Option<PathBuf>,
}

const MIB: u64 = 1 << 20;

/// The child: limits itself, runs check `index` of `target`, writes its
/// status. Exit status 0 when the result was written.
pub fn serve(args: ChildArgs) -> ExitCode {
    use rlimit::Resource;
    let limits = [
        (Resource::CORE, 0),
        (Resource::FSIZE, args.output_mib * MIB),
        // CUDA maps device memory into the address space; a data limit
        // would break it, so the GPU runs without one.
        (Resource::DATA, if args.cuda { rlimit::INFINITY } else { args.memory_mib * MIB }),
    ];
    for (resource, limit) in limits {
        if let Err(error) = resource.set(limit, limit) {
            eprintln!("grader: cannot set the limit {resource:?}: {error}");
            return ExitCode::from(3);
        }
    }
    tch::set_num_threads(args.threads);
    let device = if args.cuda { tch::Device::Cuda(0) } else { tch::Device::Cpu };
    Settings { device, seed: args.seed, artifacts: args.artifacts }.install();

    let Some(check) = args.target.suite().into_iter().nth(args.index) else {
        eprintln!("grader: {:?} has no check number {}", args.target, args.index);
        return ExitCode::from(3);
    };
    let status = checks::run(&check);
    let written = serde_json::to_vec(&status)
        .map_err(std::io::Error::other)
        .and_then(|json| {
            let partial = args.result.with_extension("partial");
            std::fs::write(&partial, json)?;
            std::fs::rename(&partial, &args.result)
        });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("grader: cannot write {}: {error}", args.result.display());
            ExitCode::from(3)
        }
    }
}

/// How one isolated check ended.
#[derive(Debug)]
pub struct Outcome {
    pub status: Status,
    pub seconds: f64,
    /// The end of what the check printed (stdout and stderr), for the
    /// instructor's report.
    pub output: String,
}

/// The parent: runs check `index` of `target` in a child process under
/// `limits`, with its files in `folder`.
pub fn run_isolated(
    target: Target,
    index: usize,
    limits: Limits,
    settings: &Settings,
    folder: &Path,
) -> Outcome {
    let started = Instant::now();
    let result = folder.join(format!("check-{index}.json"));
    let output_path = folder.join(format!("check-{index}.out"));
    let status = match spawn_and_wait(target, index, limits, settings, &result, &output_path) {
        Err(error) => Status::Crashed(format!("the grader could not run this check: {error}")),
        Ok(None) => Status::TimedOut(limits.timeout.as_secs()),
        Ok(Some(exit)) => match std::fs::read(&result) {
            Ok(json) => match serde_json::from_slice::<Status>(&json) {
                Ok(status) => out_of_memory_as_crash(status, limits),
                Err(error) => Status::Crashed(format!("the check's result could not be read: {error}")),
            },
            Err(_) => Status::Crashed(how_it_died(exit, &tail(&output_path, limits.output_mib * MIB), limits)),
        },
    };
    Outcome { status, seconds: started.elapsed().as_secs_f64(), output: tail(&output_path, 2048) }
}

/// Starts the child and waits for it: `None` if it ran out of time (it is
/// then killed, with anything it started).
fn spawn_and_wait(
    target: Target,
    index: usize,
    limits: Limits,
    settings: &Settings,
    result: &Path,
    output_path: &Path,
) -> std::io::Result<Option<ExitStatus>> {
    let output = File::create(output_path)?;
    let exe = std::env::current_exe()?;
    let mut command = Command::new(exe);
    command
        .arg("__check")
        .args(["--target", target.name(), "--index", &index.to_string()])
        .arg("--result")
        .arg(result)
        .args(["--memory-mib", &limits.memory_mib.to_string()])
        .args(["--output-mib", &limits.output_mib.to_string()])
        .args(["--threads", &limits.threads.to_string()])
        .args(["--seed", &settings.seed.to_string()])
        .stdin(Stdio::null())
        .stdout(output.try_clone()?)
        .stderr(output)
        // Its own process group, so that a timeout kills whatever it started.
        .process_group(0);
    if settings.device.is_cuda() {
        command.arg("--cuda");
    }
    if let Some(artifacts) = &settings.artifacts {
        command.arg("--artifacts").arg(artifacts);
    }
    let mut child = command.spawn()?;
    let exit = child.wait_timeout(limits.timeout)?;
    let group = child.id() as libc::pid_t;
    // SAFETY: kill(2) with a negative pid signals that process group; the
    // group is the child's own (process_group(0) above).
    unsafe { libc::kill(-group, libc::SIGKILL) };
    if exit.is_none() {
        child.wait()?;
    }
    Ok(exit)
}

/// libtorch reports a failed allocation as an error (a panic in tch); it is
/// the same event as Rust's allocator giving up, so it is graded the same.
fn out_of_memory_as_crash(status: Status, limits: Limits) -> Status {
    match status {
        Status::Panicked(message)
            if message.contains("can't allocate memory") || message.contains("CUDA out of memory") =>
        {
            Status::Crashed(out_of_memory(limits))
        }
        status => status,
    }
}

fn out_of_memory(limits: Limits) -> String {
    format!("ran out of memory (each check may use {} MiB): look for data that grows without end", limits.memory_mib)
}

/// Why a child that wrote no result ended, from its exit status and its
/// output (where the Rust runtime and the C++ runtime say what killed them,
/// perhaps followed by a backtrace).
fn how_it_died(exit: ExitStatus, output: &str, limits: Limits) -> String {
    if output.contains("has overflowed its stack") {
        return "stack overflow: look for a recursion that never ends, or a very large local array".to_owned();
    }
    if output.contains("memory allocation of") && output.contains("failed") {
        return out_of_memory(limits);
    }
    if let Some(line) = output.lines().find(|l| l.contains("terminate called after throwing")) {
        return format!("an uncaught C++ exception ended the process: {}", line.trim());
    }
    match exit.signal() {
        Some(libc::SIGXFSZ) => {
            format!("printed more than {} MiB of output and was stopped: look for printing in a loop", limits.output_mib)
        }
        Some(libc::SIGSEGV) => "segmentation fault (signal 11): the process read or wrote memory it does not own".to_owned(),
        Some(libc::SIGABRT) => "aborted (signal 6): std::process::abort, or a fatal runtime error".to_owned(),
        Some(libc::SIGKILL) => "killed (signal 9), most likely by the system for using too much memory".to_owned(),
        Some(signal) => format!("killed by signal {signal}"),
        None => format!(
            "the process exited with status {} before the check finished: does the code call std::process::exit?",
            exit.code().unwrap_or(-1)
        ),
    }
}

/// The last `bytes` bytes of a file, as text, from a line start where there
/// is one.
fn tail(path: &Path, bytes: u64) -> String {
    let read = || -> std::io::Result<String> {
        let mut file = File::open(path)?;
        let length = file.metadata()?.len();
        file.seek(SeekFrom::Start(length.saturating_sub(bytes)))?;
        let mut buffer = Vec::new();
        file.read_to_end(&mut buffer)?;
        let text = String::from_utf8_lossy(&buffer).into_owned();
        Ok(match (length > bytes, text.find('\n')) {
            (true, Some(newline)) => text[newline + 1..].to_owned(),
            _ => text,
        })
    };
    read().unwrap_or_default()
}
