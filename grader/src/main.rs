//! `grader`: grades the exercises crate against the hidden checks.

mod report;

use checks::{Check, Exercises, Solutions};
use clap::{Parser, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use report::Graded;
use std::process::ExitCode;
use std::time::Instant;

/// Grades the FCN exercises: runs every hidden check against a crate of
/// answers and prints each check's status and points.
#[derive(Debug, Parser)]
#[command(
    version,
    after_help = "Statuses: passed; wrong (the code ran, the result is not right); \
                  not attempted (the code reached a todo!()); panicked (with its message).\n\n\
                  Exit status: 0 when grading completed, whatever the score."
)]
struct Cli {
    /// The crate to grade: the student's `exercises`, or the reference
    /// `solutions` (which must score full marks).
    #[arg(long, value_enum, default_value_t = Target::Exercises)]
    target: Target,

    /// Also print how long each check took.
    #[arg(long, short)]
    verbose: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Target {
    Exercises,
    Solutions,
}

impl Target {
    fn suite(self) -> Vec<Check> {
        match self {
            Target::Exercises => checks::suite::<Exercises>(),
            Target::Solutions => checks::suite::<Solutions>(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Target::Exercises => "exercises",
            Target::Solutions => "solutions",
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let graded = grade(&cli.target.suite());
    print!("{}", report::render(cli.target.name(), &graded, cli.verbose));
    ExitCode::SUCCESS
}

/// Runs each check in turn, with a progress bar on stderr (hidden when stderr
/// is not a terminal).
fn grade(checks: &[Check]) -> Vec<Graded> {
    let progress = ProgressBar::new(checks.len() as u64).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}").expect("a valid template"),
    );
    let graded = checks
        .iter()
        .map(|check| {
            progress.set_message(format!("{}: {}", check.exercise.id, check.name));
            let started = Instant::now();
            let status = checks::run(check);
            progress.inc(1);
            Graded { check: check.clone(), status, seconds: started.elapsed().as_secs_f64() }
        })
        .collect();
    progress.finish_and_clear();
    graded
}
