//! `grader`: grades the exercises crate against the hidden checks.
//!
//! Each command is a module of [`command`]; what they share is beside it:
//! building a runner ([`compile`]), the sandbox, the worker that runs checks
//! against a runner ([`worker`], [`remote`]), grading one submission
//! ([`grading`]), the pool that runs many at once ([`parallel`]), the
//! reports ([`report`], [`results`]), files ([`files`]) and the device
//! ([`device`]).

mod command;
mod compile;
mod device;
mod escape;
mod files;
mod grading;
mod kit;
mod limits;
mod manifest;
mod parallel;
mod prebuilt;
mod process;
mod remote;
mod report;
mod results;
mod sandbox;
mod scratch;
mod stubs;
mod submission;
mod suite;
mod worker;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use command::{batch, export, grade, gradescope, hint, sync, train};

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
    grade: grade::GradeArgs,
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
    Train(train::TrainArgs),
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
    /// Runs the reference's passes that must draw alone from libtorch's
    /// generator, JOBS (JSON), in this process, and writes their tensors to
    /// stdout: the checks that need them call it.
    #[command(hide = true)]
    ReferencePass { jobs: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Hint { exercise }) => hint::run(&exercise),
        Some(Command::SyncExercises(args)) => match sync::run(args) {
            Ok(false) => ExitCode::from(1),
            result => exit("grader sync-exercises", result.map(drop)),
        },
        Some(Command::Batch(args)) => exit("grader batch", batch::run(args)),
        Some(Command::PackageGradescope(args)) => exit("grader package-gradescope", gradescope::run(args)),
        Some(Command::ExportStudent(args)) => exit("grader export-student", export::run(args)),
        Some(Command::Train(args)) => exit("grader train", train::run(args)),
        Some(Command::ReferencePass { jobs }) => {
            exit("grader reference-pass", checks::networks::serve_reference_jobs(&jobs, std::io::stdout().lock()).map_err(anyhow::Error::msg))
        }
        None => exit("grader", grade::run(&cli.grade)),
    }
}

/// Exit status 0, or 2 with the message on stderr: the command could not run.
fn exit(command: &str, result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{command}: {message:#}");
            ExitCode::from(2)
        }
    }
}

