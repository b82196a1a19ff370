//! Running a check against the student's runner, under limits.
//!
//! The checks run in the grader's own threads: they hold the reference and
//! the verdicts, and no student code runs in this process. The student's
//! code runs in the runner, a sandboxed process that each worker thread
//! starts, keeps for the checks that follow, and starts afresh after any
//! check that ended it. A watchdog stops the runner when a check runs past
//! its time; the memory, output, CPU and process limits are the sandbox's.
//! What the runner prints goes to a log file of the grader's, quoted (its
//! end) in the instructor's report, never read as a result.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use checks::{Check, Status};

pub use crate::limits::Limits;
use crate::remote::Connection;
use crate::sandbox::{self, Mount, Sandbox};

/// How to start a runner: its binary, the libtorch it was built against,
/// and its limits.
#[derive(Debug, Clone, PartialEq)]
pub struct RunnerSpec {
    pub binary: PathBuf,
    pub libtorch: PathBuf,
    pub sandbox: Sandbox,
    pub threads: i32,
    pub memory_mib: Option<u64>,
    pub output_mib: u64,
    /// CPU seconds the runner may use over its life, all threads together.
    pub cpu_seconds: Option<u64>,
    /// The runner computes on the GPU: its sandbox gets NVIDIA's device
    /// nodes (`crate::device::gpu_mounts`) and `CUDA_VISIBLE_DEVICES`.
    pub gpu: bool,
}

impl RunnerSpec {
    /// Starts the runner, sandboxed, with its replies on a pipe and what it
    /// prints in `log` (whose size the runner's file-size limit caps).
    pub fn start(&self, log: &Path) -> std::io::Result<Connection> {
        let mut mounts = vec![Mount::read_only(&self.binary, "/runner/runner")];
        mounts.extend(sandbox::libtorch_mounts(&self.libtorch));
        let program = self.sandbox.path_of(&mounts[0]).to_owned();
        let mut env = vec![("FCN_RUNNER_THREADS", self.threads.to_string()), ("OMP_NUM_THREADS", self.threads.to_string())];
        if self.gpu {
            let visible = std::env::var("CUDA_VISIBLE_DEVICES").ok();
            mounts.extend(crate::device::gpu_mounts(Path::new("/dev"), visible.as_deref()));
            env.extend(visible.map(|v| ("CUDA_VISIBLE_DEVICES", v)));
        }
        let limits = sandbox::ResourceLimits {
            cpu_seconds: self.cpu_seconds,
            memory_mib: self.memory_mib,
            file_mib: Some(self.output_mib),
            processes: Some(512),
            open_files: Some(256),
        };
        let output = File::create(log)?;
        let mut child = self
            .sandbox
            .command(&program, &[], &mounts, &env, Path::new("/"), limits)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(output)
            .spawn()?;
        let requests = std::io::BufWriter::new(child.stdin.take().expect("piped"));
        let replies = std::io::BufReader::new(child.stdout.take().expect("piped"));
        let (sandboxed, memory_mib, output_mib) = (self.sandbox.is_sandboxed(), self.memory_mib, self.output_mib);
        let log = log.to_owned();
        let autopsy = Box::new(move |exit: ExitStatus| {
            // bubblewrap reports a signal that ended the runner as 128 + signal.
            let signal = exit.signal().or_else(|| exit.code().filter(|&c| sandboxed && c > 128).map(|c| c - 128));
            how_it_died(signal, exit.code(), &tail(&log, 64 * 1024), memory_mib, output_mib)
        });
        Ok(Connection { child, requests, replies, autopsy, timed_out: Arc::new(AtomicBool::new(false)) })
    }
}

/// How one check ended.
#[derive(Debug)]
pub struct Outcome {
    pub status: Status,
    pub seconds: f64,
    /// The end of what the runner printed during the check, for the
    /// instructor's report.
    pub output: String,
}

/// One worker's runner: started on the first check, kept while it works.
pub struct Worker {
    spec: RunnerSpec,
    log: PathBuf,
    /// Whether the current runner has served a hidden check. Such a runner
    /// never serves a public one: it may have kept what the hidden check
    /// sent, and a public check's message is shown to the student at once.
    served_hidden: bool,
    /// How the runner this thread talks to was started, if this worker
    /// started it.
    running: Option<RunnerSpec>,
}

impl Worker {
    /// A worker whose runners log to `log`.
    pub fn new(spec: RunnerSpec, log: PathBuf) -> Worker {
        Worker { spec, log, served_hidden: false, running: None }
    }

    /// Runs `check` under `limits` against this worker's runner (started
    /// now if there is none, or none of these limits).
    pub fn run(&mut self, check: &Check, limits: Limits) -> Outcome {
        let started = Instant::now();
        let spec = RunnerSpec { threads: limits.threads, ..self.spec.clone() };
        let logged_before = std::fs::metadata(&self.log).map_or(0, |m| m.len());
        let public = check.visibility == checks::Visibility::Public;
        let fresh = !crate::remote::connected()
            || self.running.as_ref() != Some(&spec)
            || logged_before > (self.spec.output_mib << 20) / 2
            || (public && self.served_hidden);
        let logged_before = if fresh {
            crate::remote::disconnect();
            self.served_hidden = false;
            match spec.start(&self.log) {
                Ok(connection) => {
                    crate::remote::connect(connection);
                    self.running = Some(spec.clone());
                }
                Err(error) => {
                    return Outcome {
                        status: Status::Crashed(format!("the grader could not start the runner: {error}")),
                        seconds: started.elapsed().as_secs_f64(),
                        output: String::new(),
                    };
                }
            }
            0
        } else {
            logged_before
        };
        self.served_hidden |= !public;
        let watchdog = crate::remote::watchdog(limits.timeout);
        let status = out_of_memory_as_crash(checks::run(check), spec.memory_mib);
        drop(watchdog);
        if !matches!(status, Status::Passed | Status::Wrong(_) | Status::NotAttempted | Status::Panicked(_))
            || crate::remote::stopped_by_watchdog()
        {
            // A runner that died, hung or broke the protocol is not used
            // again; nor one the watchdog stopped after the check's last
            // call to it (the check's own work ran on past its time).
            crate::remote::disconnect();
        }
        let status = match status {
            Status::TimedOut(_) => Status::TimedOut(limits.timeout.as_secs()),
            status => status,
        };
        Outcome { status, seconds: started.elapsed().as_secs_f64(), output: tail_from(&self.log, logged_before, 2048) }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        crate::remote::disconnect();
    }
}

/// libtorch reports a failed allocation as an error (a panic in tch); it is
/// the same event as Rust's allocator giving up, so it is graded the same.
fn out_of_memory_as_crash(status: Status, memory_mib: Option<u64>) -> Status {
    match status {
        Status::Panicked(message)
            if message.contains("can't allocate memory") || message.contains("CUDA out of memory") =>
        {
            Status::Crashed(out_of_memory(memory_mib))
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

/// Why a runner ended, from the signal or exit status and from its output
/// (where the Rust runtime and the C++ runtime say what killed them, perhaps
/// followed by a backtrace).
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
    tail_from(path, 0, bytes)
}

/// The last `bytes` bytes of a file after `start`, as text.
fn tail_from(path: &Path, start: u64, bytes: u64) -> String {
    let read = || -> std::io::Result<String> {
        let mut file = File::open(path)?;
        let length = file.metadata()?.len();
        let from = length.saturating_sub(bytes).max(start);
        file.seek(SeekFrom::Start(from))?;
        let mut buffer = Vec::new();
        file.read_to_end(&mut buffer)?;
        let text = String::from_utf8_lossy(&buffer).into_owned();
        Ok(match (from > start, text.find('\n')) {
            (true, Some(newline)) => text[newline + 1..].to_owned(),
            _ => text,
        })
    };
    read().unwrap_or_default()
}

