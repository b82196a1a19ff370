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

use crate::sandbox::{self, Mount, Sandbox};

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
    #[arg(long)]
    cache: Option<PathBuf>,
    /// The runner built from the student's files.
    #[arg(long)]
    runner: PathBuf,
    /// The libtorch folder the runner was built against.
    #[arg(long)]
    libtorch: PathBuf,
    /// CPU seconds the runner may use.
    #[arg(long)]
    cpu_seconds: Option<u64>,
    /// bubblewrap, to start the runner in the sandbox (without: unsandboxed).
    #[arg(long)]
    bwrap: Option<PathBuf>,
}

const MIB: u64 = 1 << 20;

/// The child: limits itself, starts the runner, runs check `index`
/// against it, writes its status. Exit status 0 when the result was written.
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
    Settings { device, seed: args.seed, artifacts: args.artifacts, cache: args.cache }.install();

    let runner = RunnerSpec {
        binary: args.runner.clone(),
        libtorch: args.libtorch.clone(),
        sandbox: Sandbox::with(args.bwrap.clone()),
        threads: args.threads,
        memory_mib: if args.cuda { None } else { Some(args.memory_mib) },
        output_mib: args.output_mib,
        cpu_seconds: args.cpu_seconds,
    };
    match runner.start() {
        Ok(connection) => crate::remote::connect(connection),
        Err(error) => {
            eprintln!("grader: cannot start the runner: {error}");
            return ExitCode::from(3);
        }
    }
    let Some(check) = crate::suite::checks().into_iter().nth(args.index) else {
        eprintln!("grader: there is no check number {}", args.index);
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

/// How to start a runner: its binary, the libtorch it was built against,
/// and its limits.
#[derive(Debug, Clone)]
pub struct RunnerSpec {
    pub binary: PathBuf,
    pub libtorch: PathBuf,
    pub sandbox: Sandbox,
    pub threads: i32,
    pub memory_mib: Option<u64>,
    pub output_mib: u64,
    /// CPU seconds the runner may use, all its threads together.
    pub cpu_seconds: Option<u64>,
}

impl RunnerSpec {
    /// Starts the runner, sandboxed, with its replies on a pipe and what it
    /// prints on this process's stderr (the check's output file, whose size
    /// the runner's file-size limit caps).
    pub fn start(&self) -> std::io::Result<crate::remote::Connection> {
        let mut mounts = vec![Mount::read_only(&self.binary, "/runner/runner")];
        mounts.extend(crate::compile::libtorch_mounts(&self.libtorch));
        let program = self.sandbox.path_of(&mounts[0]).to_owned();
        let env = [("FCN_RUNNER_THREADS", self.threads.to_string()), ("OMP_NUM_THREADS", self.threads.to_string())];
        let limits = sandbox::Limits {
            cpu_seconds: self.cpu_seconds,
            memory_mib: self.memory_mib,
            file_mib: Some(self.output_mib),
            processes: Some(512),
            open_files: Some(256),
        };
        let mut child = self
            .sandbox
            .command(&program, &[], &mounts, &env, Path::new("/"), limits)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let requests = std::io::BufWriter::new(child.stdin.take().expect("piped"));
        let replies = std::io::BufReader::new(child.stdout.take().expect("piped"));
        let (sandboxed, limits) = (self.sandbox.is_sandboxed(), (self.memory_mib, self.output_mib));
        let autopsy = Box::new(move |exit: ExitStatus| {
            // bubblewrap reports a signal that ended the runner as 128 + signal.
            let signal = exit.signal().or_else(|| exit.code().filter(|&c| sandboxed && c > 128).map(|c| c - 128));
            let stderr = tail_of_stderr();
            how_it_died(signal, exit.code(), &stderr, limits.0, limits.1)
        });
        Ok(crate::remote::Connection { child, requests, replies, autopsy })
    }
}

/// What this process's stderr (a file) holds at its end.
fn tail_of_stderr() -> String {
    tail(Path::new("/proc/self/fd/2"), 64 * 1024)
}

/// Kills `child`'s process group (the child made it its own), so that
/// nothing it started outlives it.
pub fn kill_group(child: &std::process::Child) {
    // SAFETY: kill(2) with a negative pid signals that process group; the
    // group is the child's own (process_group(0)), or it is gone.
    unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
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

/// The parent: runs check `index` in a child process under `limits`, with
/// its files in `folder`, against the runner `runner`.
pub fn run_isolated(
    index: usize,
    limits: Limits,
    settings: &Settings,
    folder: &Path,
    runner: &RunnerSpec,
) -> Outcome {
    let started = Instant::now();
    let result = folder.join(format!("check-{index}.json"));
    let output_path = folder.join(format!("check-{index}.out"));
    let status = match spawn_and_wait(index, limits, settings, &result, &output_path, runner) {
        Err(error) => Status::Crashed(format!("the grader could not run this check: {error}")),
        Ok(None) => Status::TimedOut(limits.timeout.as_secs()),
        Ok(Some(exit)) => match std::fs::read(&result) {
            Ok(json) => match serde_json::from_slice::<Status>(&json) {
                Ok(status) => out_of_memory_as_crash(status, limits),
                Err(error) => Status::Crashed(format!("the check's result could not be read: {error}")),
            },
            Err(_) => Status::Crashed(how_it_died(
                exit.signal(),
                exit.code(),
                &tail(&output_path, limits.output_mib * MIB),
                Some(limits.memory_mib),
                limits.output_mib,
            )),
        },
    };
    Outcome { status, seconds: started.elapsed().as_secs_f64(), output: tail(&output_path, 2048) }
}

/// Starts the child and waits for it: `None` if it ran out of time (it is
/// then killed, with anything it started).
fn spawn_and_wait(
    index: usize,
    limits: Limits,
    settings: &Settings,
    result: &Path,
    output_path: &Path,
    runner: &RunnerSpec,
) -> std::io::Result<Option<ExitStatus>> {
    let output = File::create(output_path)?;
    let exe = std::env::current_exe()?;
    let mut command = Command::new(exe);
    command
        .arg("__check")
        .args(["--index", &index.to_string()])
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
    if let Some(cache) = &settings.cache {
        command.arg("--cache").arg(cache);
    }
    command.arg("--runner").arg(&runner.binary).arg("--libtorch").arg(&runner.libtorch);
    // The wall-clock limit, on every thread the runner may use, and a margin.
    let cpu_seconds = limits.timeout.as_secs() * limits.threads.max(1) as u64 * 2 + 30;
    command.args(["--cpu-seconds", &cpu_seconds.to_string()]);
    if let Some(bwrap) = runner.sandbox.bwrap() {
        command.arg("--bwrap").arg(bwrap);
    }
    let mut child = command.spawn()?;
    let exit = child.wait_timeout(limits.timeout)?;
    kill_group(&child);
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
            Status::Crashed(out_of_memory(Some(limits.memory_mib)))
        }
        status => status,
    }
}

fn out_of_memory(memory_mib: Option<u64>) -> String {
    match memory_mib {
        Some(mib) => format!("ran out of memory (each check may use {mib} MiB): look for data that grows without end"),
        None => "ran out of memory: look for data that grows without end".to_owned(),
    }
}

/// Why a child that wrote no result ended, from its exit status and its
/// output (where the Rust runtime and the C++ runtime say what killed them,
/// perhaps followed by a backtrace).
fn how_it_died(signal: Option<i32>, code: Option<i32>, output: &str, memory_mib: Option<u64>, output_mib: u64) -> String {
    if output.contains("has overflowed its stack") {
        return "stack overflow: look for a recursion that never ends, or a very large local array".to_owned();
    }
    if output.contains("memory allocation of") && output.contains("failed") {
        return out_of_memory(memory_mib);
    }
    if let Some(line) = output.lines().find(|l| l.contains("terminate called after throwing")) {
        return format!("an uncaught C++ exception ended the process: {}", line.trim());
    }
    match signal {
        Some(libc::SIGXFSZ) => {
            format!("printed more than {output_mib} MiB of output and was stopped: look for printing in a loop")
        }
        Some(libc::SIGXCPU) => "used up its CPU time and was stopped: look for work far larger than needed".to_owned(),
        Some(libc::SIGSEGV) => "segmentation fault (signal 11): the process read or wrote memory it does not own".to_owned(),
        Some(libc::SIGABRT) => "aborted (signal 6): std::process::abort, or a fatal runtime error".to_owned(),
        Some(libc::SIGKILL) => "killed (signal 9), most likely by the system for using too much memory".to_owned(),
        Some(signal) => format!("killed by signal {signal}"),
        None => format!(
            "the process exited with status {} before the check finished: does the code call std::process::exit?",
            code.unwrap_or(-1)
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
