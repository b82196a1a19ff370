//! Grading one crate of answers: build its runner, run every check against
//! it, and gather the rows.
//!
//! `grader` (the student's own crate, or the reference), `grader
//! --submission DIR` and each student of `grader batch` all come through
//! here: the same build, the same sandbox, the same checks.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use checks::Settings;

use crate::compile::RunnerKit;
use crate::parallel;
use crate::worker::{Limits, RunnerSpec, Worker};
use crate::report::Run;
use crate::submission::Submitted;
use crate::suite::{self, Graded};
use anyhow::Context;

/// How to grade, beyond what is graded.
#[derive(Debug, Clone)]
pub struct Options {
    pub only: Option<checks::Exercise>,
    pub skip_training: bool,
    pub settings: Settings,
    pub limits: Limits,
    pub jobs: usize,
    pub build_timeout: Duration,
    /// Show progress bars on stderr.
    pub progress: bool,
}

/// Where a grading's runner comes from.
pub enum RunnerSource<'a> {
    /// Built now, from the submission, in this runner kit.
    Build(&'a RunnerKit),
    /// Built before, perhaps on another machine (`grader --build-only`),
    /// and run here with this libtorch in this sandbox.
    Prebuilt { folder: &'a Path, libtorch: PathBuf, sandbox: crate::sandbox::Sandbox },
}

/// Grades `submitted` with the runner kit `runner_kit`: the run, for the
/// reports. `label` names what was graded in them.
pub fn grade(runner_kit: &RunnerKit, submitted: &Submitted, label: &str, options: &Options) -> anyhow::Result<Run> {
    grade_from(RunnerSource::Build(runner_kit), submitted, label, options)
}

/// [`grade`], with the runner from `source`.
pub fn grade_from(source: RunnerSource, submitted: &Submitted, label: &str, options: &Options) -> anyhow::Result<Run> {
    let started = Instant::now();
    let mut notes = submitted.notes.clone();
    let (binary, libtorch, sandbox, _built) = match source {
        RunnerSource::Build(runner_kit) => {
            let (built, built_notes) = runner_kit.build_screened(submitted, options.build_timeout)?;
            notes.extend(built_notes);
            (built.binary.clone(), runner_kit.libtorch.clone(), runner_kit.sandbox.clone(), Some(built))
        }
        RunnerSource::Prebuilt { folder, libtorch, sandbox } => {
            let prebuilt = crate::prebuilt::open(folder, submitted, &sandbox)?;
            notes.extend(prebuilt.notes);
            (prebuilt.binary, libtorch, sandbox, None)
        }
    };
    if !sandbox.is_sandboxed() {
        notes.insert(submitted.notes.len(), "graded without a sandbox: the student's code ran as a plain process".to_owned());
    }

    // Fresh random cases for every grading, unless the caller fixed them.
    let cases = match options.settings.cases {
        0 => checks::fresh_cases(),
        cases => cases,
    };
    // The reference's seeded passes run in a process of their own: this
    // program's `reference-pass` (see checks::networks::seeded).
    let reference_process = options.settings.reference_process.clone().or_else(|| std::env::current_exe().ok());
    let settings = checks::Settings { cases, reference_process, ..options.settings.clone() };
    let options = &Options { settings, ..options.clone() };
    let checks = suite::checks();
    let selected: Vec<usize> =
        (0..checks.len()).filter(|&i| options.only.is_none_or(|e| checks[i].exercise == e)).collect();
    let runner = RunnerSpec {
        binary,
        libtorch,
        sandbox: sandbox.clone(),
        threads: options.limits.threads,
        // CUDA maps large ranges of address space: no memory limit there.
        memory_mib: if options.settings.device.is_cuda() { None } else { Some(options.limits.memory_mib) },
        gpu: options.settings.device.is_cuda(),
        output_mib: options.limits.output_mib,
        // A runner starts no process (its seccomp filter), so its own CPU
        // time is its sandbox's: at most every selected check's time limit,
        // on every thread it may use, and a minute to start.
        cpu_seconds: Some({
            let limits = &options.limits;
            let longest = limits.timeout.max(limits.training_timeout).as_secs();
            let threads = limits.threads.max(limits.training_threads).max(1) as u64;
            longest * threads * selected.len().max(1) as u64 + 60
        }),
    };
    let why_not = |check: &checks::Check| {
        if options.skip_training && suite::is_training(check) {
            Some("--skip-training was given".to_owned())
        } else {
            (check.precondition)()
        }
    };
    let folder = tempfile::Builder::new()
        .prefix("fcn-grader-")
        .tempdir()
        .context("cannot make a temporary folder for the checks' files")?;
    let (to_run, to_skip): (Vec<usize>, Vec<usize>) = selected.iter().partition(|&&i| why_not(&checks[i]).is_none());
    // The training checks use every core; they run one at a time, after the
    // rest (libtorch's threads slow down badly when they outnumber the cores).
    let (training, quick): (Vec<usize>, Vec<usize>) = to_run.iter().partition(|&&i| suite::is_training(&checks[i]));
    let run_all = |selected: &[usize], jobs| run_checks(&checks, selected, jobs, options, folder.path(), &runner);
    let mut graded = run_all(&quick, options.jobs);
    {
        // One training run at a time in this process: they use every core,
        // and libtorch's random numbers are the process's.
        let _one_at_a_time = TRAINING.lock().unwrap_or_else(|e| e.into_inner());
        graded.extend(run_all(&training, 1));
    }
    for &i in &to_skip {
        graded.push(Graded::skipped(&checks[i], &why_not(&checks[i]).unwrap_or_default()));
    }
    let order = |g: &Graded| checks.iter().position(|c| c.exercise == g.exercise && c.name == g.name);
    graded.sort_by_key(order);
    let training = options.settings.artifacts.as_ref().and_then(|folder| {
        let json = std::fs::read_to_string(folder.join(checks::training::TABLE_FILE)).ok()?;
        serde_json::from_str(&json).ok()
    });
    Ok(Run {
        target: label.to_owned(),
        device: if options.settings.device.is_cuda() { "cuda".to_owned() } else { "cpu".to_owned() },
        seed: options.settings.seed,
        seconds: started.elapsed().as_secs_f64(),
        graded,
        training,
        notes,
        sandboxed: sandbox.is_sandboxed(),
        cases,
    })
}

static TRAINING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs the `selected` checks, `jobs` at a time, each worker thread with a
/// runner of its own, with a progress bar on stderr (hidden when stderr is
/// not a terminal).
fn run_checks(
    checks: &[checks::Check],
    selected: &[usize],
    jobs: usize,
    options: &Options,
    folder: &Path,
    runner: &RunnerSpec,
) -> Vec<Graded> {
    let progress = parallel::bar(selected.len(), "", options.progress);
    parallel::map(
        selected,
        jobs,
        &progress,
        |&index| format!("{}: {}", checks[index].exercise.id, checks[index].name),
        |job| {
            options.settings.clone().install();
            Worker::new(runner.clone(), folder.join(format!("runner-{job}.log")))
        },
        |worker, &index| {
            let check = &checks[index];
            let limits = if suite::is_training(check) { options.limits.for_training() } else { options.limits };
            let outcome = worker.run(check, limits);
            Graded {
                exercise: check.exercise,
                name: check.name,
                points: check.points,
                visibility: check.visibility,
                status: outcome.status,
                seconds: outcome.seconds,
                output: outcome.output,
            }
        },
    )
}
