//! `grader`: grades the exercises crate against the hidden checks.

mod batch;
mod compile;
mod export;
mod grade;
mod gradescope;
mod worker;
mod remote;
mod report;
mod sandbox;
mod scratch;
mod slurm;
mod submission;
mod suite;
mod sync;
mod train_command;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use checks::Settings;
use clap::{Parser, Subcommand, ValueEnum};

use worker::Limits;
use sandbox::Sandbox;
use suite::Target;

const AFTER_HELP: &str = "\
Statuses: passed; wrong (the code ran, the result is not right); not attempted (the code \
reached a todo!()); panicked (with its message); crashed (the process died: abort, signal, \
stack overflow, out of memory, exit); timed out; skipped (with why).

Trust: the student's code is built into a runner of its own, from the hand-out's crates alone, \
and runs in a sandbox (bubblewrap) that sees no file of the kit, the reference or the grader; \
it reports what it computed, and the grader, which never links it, decides every verdict.

Files: results.json in Gradescope's autograder format at --json, and a Markdown report beside \
it (same name, .md).

Exit status: 0 when grading completed, whatever the score; 2 when the grader itself could not \
run (bad arguments, no CUDA device for --device cuda, a report that cannot be written).";

/// Grades the FCN exercises: builds a crate of answers into a sandboxed
/// runner, runs every check against it, and reports each check's status and
/// points.
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
    /// a runner of their own; a report per student and gradebook.csv. With
    /// --slurm, as a Slurm job array, a task per student.
    Batch(batch::BatchArgs),
    /// Writes the grader as a Gradescope autograder: autograder.zip with
    /// setup.sh, run_autograder and the kit's source.
    PackageGradescope(gradescope::PackageArgs),
}

#[derive(Debug, clap::Args)]
struct GradeArgs {
    /// The crate to grade: the student's `exercises`, or the reference
    /// `solutions` (which must score full marks).
    #[arg(long, value_enum, default_value_t = Target::Exercises)]
    target: Target,

    /// Grade the exercise files in DIR (someone's crate, its src/, or the
    /// files themselves) instead of the kit's crate.
    #[arg(long, value_name = "DIR", conflicts_with = "target")]
    submission: Option<PathBuf>,

    /// Run the student's code without the sandbox, even when grading
    /// someone else's files (every report then says so).
    #[arg(long)]
    unsandboxed: bool,

    /// Seconds the build of the student's runner may take.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    build_timeout: u64,

    /// The kit's folder (default: the one this grader was built in).
    #[arg(long, value_name = "DIR")]
    kit: Option<PathBuf>,

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

    /// Seed of the checks' random cases (default: a fresh one each run; the
    /// reports say which, and this repeats them).
    #[arg(long, value_name = "N")]
    cases: Option<u64>,

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
        Some(Command::Hint { exercise }) => hint(&exercise),
        Some(Command::SyncExercises(args)) => match sync::run(args) {
            Ok(false) => ExitCode::from(1),
            result => exit("grader sync-exercises", result.map(drop)),
        },
        Some(Command::Batch(args)) => exit("grader batch", batch::run(args)),
        Some(Command::PackageGradescope(args)) => exit("grader package-gradescope", gradescope::run(args)),
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
    for (n, hint) in exercise.hints().iter().enumerate() {
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
    if args.list {
        let checks = suite::checks();
        let selected: Vec<usize> = (0..checks.len()).filter(|&i| only.is_none_or(|e| checks[i].exercise == e)).collect();
        list(&checks, &selected);
        return Ok(());
    }
    if args.timeout == 0 {
        return Err("--timeout must be at least 1 second".to_owned());
    }
    let kit = args.kit.clone().unwrap_or_else(grade::default_kit);
    let (submitted, label, others) = match &args.submission {
        Some(folder) => (submission::read(folder), submission::folder_name(folder), true),
        None => {
            let crate_folder = if args.target == Target::Solutions { "solutions/src" } else { "exercises/src" };
            (submission::from_crate(&kit.join(crate_folder)), args.target.name().to_owned(), false)
        }
    };
    let sandbox = Sandbox::choose(args.unsandboxed, others)?;
    let device = resolve_device(args.device)?;
    let artifacts = args.json.parent().filter(|f| !f.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_owned();
    let _ = std::fs::remove_file(artifacts.join(checks::training::TABLE_FILE));
    let cache = Some(kit.join("target/grader/cache"));
    let cases = args.cases.unwrap_or(0);
    let options = options(args, only, Settings { device, seed: args.seed, artifacts: Some(artifacts), cache, cases });
    let runner_kit = compile::RunnerKit::prepare(&kit, &kit.join("target/grader/runner"), sandbox)?;
    let run = grade::grade(&runner_kit, &submitted, &label, &options)?;

    show(&report::terminal(&run, args.verbose));
    let markdown_path = args.json.with_extension("md");
    let json = serde_json::to_string_pretty(&report::gradescope(&run)).expect("a JSON value serialises");
    write(&args.json, &json)?;
    write(&markdown_path, &report::markdown(&run))?;
    show(&format!("Reports: {} and {}\n", args.json.display(), markdown_path.display()));
    Ok(())
}

/// The grading options the command line gives.
fn options(args: &GradeArgs, only: Option<checks::Exercise>, settings: Settings) -> grade::Options {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let jobs = args.jobs.unwrap_or(cores.min(2)).max(1);
    grade::Options {
        only,
        skip_training: args.skip_training,
        settings,
        limits: Limits {
            timeout: Duration::from_secs(args.timeout),
            memory_mib: args.memory_limit,
            output_mib: 16,
            threads: (cores / jobs).max(1) as i32,
            training_timeout: Duration::from_secs(args.training_timeout.max(args.timeout)),
            training_threads: cores as i32,
        },
        jobs,
        build_timeout: Duration::from_secs(args.build_timeout),
        progress: true,
    }
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
