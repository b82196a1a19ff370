//! `grader`: grades the exercises crate against the hidden checks.

mod batch;
mod export;
mod isolate;
mod report;
mod suite;
mod sync;
mod train_command;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use checks::{Settings, Status};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use isolate::Limits;
use report::Run;
use suite::{Graded, Target};

const AFTER_HELP: &str = "\
Statuses: passed; wrong (the code ran, the result is not right); not attempted (the code \
reached a todo!()); panicked (with its message); crashed (the process died: abort, signal, \
stack overflow, out of memory, exit); timed out; skipped (with why). Each check runs in a \
process of its own, so no check can stop the others or the report.

Files: results.json in Gradescope's autograder format at --json, and a Markdown report beside \
it (same name, .md).

Exit status: 0 when grading completed, whatever the score; 2 when the grader itself could not \
run (bad arguments, no CUDA device for --device cuda, a report that cannot be written).";

/// Grades the FCN exercises: runs every check against a crate of answers, each
/// in a process of its own, and reports each check's status and points.
#[derive(Debug, Parser)]
#[command(version, after_help = AFTER_HELP, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    #[command(flatten)]
    grade: GradeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Hints for an exercise, from gentle to specific; none gives the answer.
    Hint {
        /// The exercise: its name (bilinear, vgg, fcn) or number.
        exercise: String,
    },
    /// Trains FCN-32s, then FCN-16s from it, then FCN-8s from that, and prints
    /// the paper's four scores for each on the validation split.
    Train(train_command::TrainArgs),
    /// Writes exercises/src from solutions/src: each block between
    /// `// BEGIN SOLUTION` and `// END SOLUTION` becomes the stub written above
    /// it in `// STUB: ` lines. With --check, only says whether they differ.
    SyncExercises(sync::SyncArgs),
    /// Writes the student hand-out into a new folder: the exercises crate
    /// and its public tests, the given crates, the set-up and a student
    /// README; no reference, no hidden checks, no grader.
    ExportStudent(export::ExportArgs),
    /// Grades a class: one folder per student in SUBMISSIONS, each graded in
    /// a scratch copy of the kit; a report per student and gradebook.csv.
    Batch(batch::BatchArgs),
    /// Runs one check in this process and writes its status (used by the
    /// grader itself, once per check).
    #[command(name = "__check", hide = true)]
    Check(isolate::ChildArgs),
}

#[derive(Debug, clap::Args)]
struct GradeArgs {
    /// The crate to grade: the student's `exercises`, or the reference
    /// `solutions` (which must score full marks).
    #[arg(long, value_enum, default_value_t = Target::Exercises)]
    target: Target,

    /// Grade one exercise only: its name (bilinear, vgg, fcn, training) or number.
    #[arg(long, value_name = "EXERCISE")]
    only: Option<String>,

    /// List the exercises, their checks and points, and exit.
    #[arg(long)]
    list: bool,

    /// Where the training checks run: a GPU when there is one (auto), or the
    /// one named.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    device: DeviceChoice,

    /// Do not run the training checks (they show as skipped).
    #[arg(long)]
    skip_training: bool,

    /// Seed of the training run.
    #[arg(long, default_value_t = 0)]
    seed: i64,

    /// Seconds each check may run before it is stopped.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    timeout: u64,

    /// Seconds each training check may run before it is stopped.
    #[arg(long, value_name = "SECS", default_value_t = 900)]
    training_timeout: u64,

    /// MiB of memory each check may allocate (on CPU).
    #[arg(long, value_name = "MIB", default_value_t = 6144)]
    memory_limit: u64,

    /// Checks run at the same time (default: 2, or 1 on a one-core machine).
    #[arg(long, short)]
    jobs: Option<usize>,

    /// Where to write results.json (Gradescope's format); the Markdown report
    /// goes beside it.
    #[arg(long, value_name = "PATH", default_value = "target/grader/results.json")]
    json: PathBuf,

    /// Also print each check's time, the device and the seed.
    #[arg(long, short)]
    verbose: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeviceChoice {
    Auto,
    Cpu,
    Cuda,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Check(args)) => isolate::serve(args),
        Some(Command::Hint { exercise }) => hint(&exercise),
        Some(Command::SyncExercises(args)) => match sync::run(args) {
            Ok(false) => ExitCode::from(1),
            result => exit("grader sync-exercises", result.map(drop)),
        },
        Some(Command::Batch(args)) => exit("grader batch", batch::run(args)),
        Some(Command::ExportStudent(args)) => exit("grader export-student", export::run(args)),
        Some(Command::Train(args)) => exit("grader train", train_command::run(args)),
        None => exit("grader", grade(&cli.grade)),
    }
}

/// Exit status 0, or 2 with the message on stderr: the command could not run.
fn exit(command: &str, result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{command}: {message}");
            ExitCode::from(2)
        }
    }
}

fn hint(name: &str) -> ExitCode {
    let Some(exercise) = suite::exercise_named(name) else {
        eprintln!("grader: no exercise {name:?}; the exercises are {}", suite::exercise_names());
        return ExitCode::from(2);
    };
    println!("Exercise {}: {}\n", exercise.number, exercise.title);
    for (n, hint) in exercise.hints.iter().enumerate() {
        println!("{}. {hint}\n", n + 1);
    }
    println!("Each hint goes a little further than the one before: read one, then try again.");
    ExitCode::SUCCESS
}

fn grade(args: &GradeArgs) -> Result<(), String> {
    let only = match &args.only {
        None => None,
        Some(name) => Some(suite::exercise_named(name).ok_or_else(|| {
            format!("no exercise {name:?}; the exercises are {}", suite::exercise_names())
        })?),
    };
    let checks = args.target.suite();
    let selected: Vec<usize> =
        (0..checks.len()).filter(|&i| only.is_none_or(|e| checks[i].exercise == e)).collect();
    if args.list {
        list(&checks, &selected);
        return Ok(());
    }
    if args.timeout == 0 {
        return Err("--timeout must be at least 1 second".to_owned());
    }

    let device = resolve_device(args.device)?;
    let settings = Settings { device, seed: args.seed, artifacts: None };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let jobs = args.jobs.unwrap_or(cores.min(2)).max(1);
    let limits = Limits {
        timeout: Duration::from_secs(args.timeout),
        memory_mib: args.memory_limit,
        output_mib: 16,
        threads: (cores / jobs).max(1) as i32,
        training_timeout: Duration::from_secs(args.training_timeout.max(args.timeout)),
        training_threads: cores as i32,
    };

    let started = Instant::now();
    let folder = tempfile::Builder::new()
        .prefix("fcn-grader-")
        .tempdir()
        .map_err(|e| format!("cannot make a temporary folder for the checks' files: {e}"))?;
    let artifacts = args.json.parent().filter(|f| !f.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_owned();
    let table_path = artifacts.join(checks::training::TABLE_FILE);
    let _ = std::fs::remove_file(&table_path);
    let settings = Settings { artifacts: Some(artifacts.clone()), ..settings };
    let why_not = |check: &checks::Check| {
        if args.skip_training && suite::is_training(check) {
            Some("--skip-training was given".to_owned())
        } else {
            (check.precondition)()
        }
    };
    let (to_run, to_skip): (Vec<usize>, Vec<usize>) = selected.iter().partition(|&&i| why_not(&checks[i]).is_none());
    // The training checks use every core; they run one at a time, after the
    // rest (libtorch's threads slow down badly when they outnumber the cores).
    let (training, quick): (Vec<usize>, Vec<usize>) = to_run.iter().partition(|&&i| suite::is_training(&checks[i]));
    let mut graded = run_checks(args.target, &checks, &quick, jobs, limits, &settings, folder.path());
    graded.extend(run_checks(args.target, &checks, &training, 1, limits, &settings, folder.path()));
    for &i in &to_skip {
        graded.push(Graded::skipped(&checks[i], &why_not(&checks[i]).unwrap_or_default()));
    }
    let order = |g: &Graded| checks.iter().position(|c| c.exercise == g.exercise && c.name == g.name);
    graded.sort_by_key(order);
    let training = std::fs::read_to_string(&table_path).ok().and_then(|json| serde_json::from_str(&json).ok());
    let run = Run {
        target: args.target.name(),
        device: if device.is_cuda() { "cuda".to_owned() } else { "cpu".to_owned() },
        seed: args.seed,
        seconds: started.elapsed().as_secs_f64(),
        graded,
        training,
    };

    show(&report::terminal(&run, args.verbose));
    let markdown_path = args.json.with_extension("md");
    let json = serde_json::to_string_pretty(&report::gradescope(&run)).expect("a JSON value serialises");
    write(&args.json, &json)?;
    write(&markdown_path, &report::markdown(&run))?;
    show(&format!("Reports: {} and {}\n", args.json.display(), markdown_path.display()));
    Ok(())
}

/// Prints to stdout; a closed stdout (`grader | head`) does not stop the
/// grader from writing its files.
fn show(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// The device `choice` names here, or why there is none.
pub fn resolve_device(choice: DeviceChoice) -> Result<tch::Device, String> {
    match (choice, tch::Cuda::is_available()) {
        (DeviceChoice::Cuda, false) => {
            Err("--device cuda: libtorch sees no CUDA device here; use --device cpu or auto".to_owned())
        }
        (DeviceChoice::Cpu, _) | (DeviceChoice::Auto, false) => Ok(tch::Device::Cpu),
        (DeviceChoice::Cuda | DeviceChoice::Auto, true) => Ok(tch::Device::Cuda(0)),
    }
}

/// Runs the `selected` checks, `jobs` at a time, each in its own process,
/// with a progress bar on stderr (hidden when stderr is not a terminal).
fn run_checks(
    target: Target,
    checks: &[checks::Check],
    selected: &[usize],
    jobs: usize,
    limits: Limits,
    settings: &Settings,
    folder: &Path,
) -> Vec<Graded> {
    let progress = ProgressBar::new(selected.len() as u64).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {wide_msg}").expect("a valid template"),
    );
    let next = AtomicUsize::new(0);
    let outcomes = Mutex::new(vec![None; selected.len()]);
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(selected.len()) {
            scope.spawn(|| {
                loop {
                    let slot = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&index) = selected.get(slot) else { break };
                    let check = &checks[index];
                    progress.set_message(format!("{}: {}", check.exercise.id, check.name));
                    let limits = if suite::is_training(check) { limits.for_training() } else { limits };
                    let outcome = isolate::run_isolated(target, index, limits, settings, folder);
                    progress.inc(1);
                    outcomes.lock().expect("no worker panics while holding the lock")[slot] = Some(Graded {
                        exercise: check.exercise,
                        name: check.name,
                        points: check.points,
                        visibility: check.visibility,
                        status: outcome.status,
                        seconds: outcome.seconds,
                        output: outcome.output,
                    });
                }
            });
        }
    });
    progress.finish_and_clear();
    let outcomes = outcomes.into_inner().expect("no worker panics while holding the lock");
    outcomes
        .into_iter()
        .zip(selected)
        .map(|(graded, &index)| {
            graded.unwrap_or_else(|| {
                Graded {
                    status: Status::Crashed("the grader lost this check's result".to_owned()),
                    ..Graded::skipped(&checks[index], "")
                }
            })
        })
        .collect()
}

fn list(checks: &[checks::Check], selected: &[usize]) {
    let mut current = None;
    for &index in selected {
        let check = &checks[index];
        if current != Some(check.exercise) {
            current = Some(check.exercise);
            let bonus = if check.exercise.track == checks::Track::Bonus { ", bonus" } else { "" };
            println!("{}. {} ({}{bonus})", check.exercise.number, check.exercise.title, check.exercise.id);
        }
        let kind = match check.visibility {
            checks::Visibility::Public => "public",
            checks::Visibility::Hidden => "hidden",
        };
        println!("   {:>2} pt  {kind}  {}", check.points, check.name);
    }
    let points = |track| selected.iter().filter(|&&i| checks[i].exercise.track == track).map(|&i| checks[i].points).sum::<u32>();
    println!("Total: {} points", points(checks::Track::Core));
    let bonus = points(checks::Track::Bonus);
    if bonus > 0 {
        println!("Bonus: {bonus} points, not part of the total");
    }
}

/// Writes `contents` to `path`, making its folder.
fn write(path: &Path, contents: &str) -> Result<(), String> {
    if let Some(folder) = path.parent().filter(|f| !f.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    }
    std::fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
