//! `grader` with no command: grades one crate (the kit's `exercises` or
//! `solutions`, or a submission's files) and writes its reports.

use anyhow::Context;
use std::path::{Path, PathBuf};

use checks::Settings;

use crate::device::DeviceChoice;
use crate::files::write;
use crate::sandbox::Sandbox;
use crate::suite::Target;
use crate::limits::LimitArgs;
use crate::{compile, grading, report, submission, suite};

#[derive(Debug, clap::Args)]
pub struct GradeArgs {
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

    /// Only build the runner, into DIR, for `--runner DIR` to grade with,
    /// here or on another machine (one without Rust: a GPU node).
    #[arg(long, value_name = "DIR", conflicts_with = "runner")]
    build_only: Option<PathBuf>,

    /// Grade with the runner built in DIR by `--build-only` from the same
    /// files (no build here: this machine needs libtorch and bubblewrap,
    /// not Rust).
    #[arg(long, value_name = "DIR")]
    runner: Option<PathBuf>,

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

    /// The training checks' budget: the device's own (auto), or the one
    /// named, on whichever device they run (`--training-budget gpu
    /// --device cpu` runs the paper's width on the CPU).
    #[arg(long, value_enum, default_value_t = BudgetKind::Auto)]
    training_budget: BudgetKind,

    /// Steps per training stage, instead of the budget's. With
    /// --training-batch and --training-images, a dry run of the training
    /// path: the verdicts then test the path more than the networks.
    #[arg(long, value_name = "N")]
    training_steps: Option<usize>,

    /// Images per training step, instead of the budget's.
    #[arg(long, value_name = "N")]
    training_batch: Option<usize>,

    /// Training images, instead of the budget's (and a quarter as many
    /// validation images, at least one).
    #[arg(long, value_name = "N")]
    training_images: Option<usize>,

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

    #[command(flatten)]
    limits: LimitArgs,

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

pub fn run(args: &GradeArgs) -> anyhow::Result<()> {
    let only = match &args.only {
        None => None,
        Some(name) => Some(suite::exercise_named(name).with_context(|| {
            format!("no exercise {name:?}; the exercises are {}", suite::exercise_names())
        })?),
    };
    if args.list {
        let checks = suite::checks();
        let selected: Vec<usize> = (0..checks.len()).filter(|&i| only.is_none_or(|e| checks[i].exercise == e)).collect();
        list(&checks, &selected);
        return Ok(());
    }
    if args.limits.timeout == 0 {
        return Err(anyhow::anyhow!("--timeout must be at least 1 second"));
    }
    let kit = args.kit.clone().unwrap_or_else(crate::kit::default_kit);
    let (submitted, label, others) = match &args.submission {
        Some(folder) => (submission::read(folder), submission::folder_name(folder), true),
        None => {
            let crate_folder = if args.target == Target::Solutions { "solutions/src" } else { "exercises/src" };
            (submission::from_crate(&kit.join(crate_folder)), args.target.name().to_owned(), false)
        }
    };
    let sandbox = Sandbox::choose(args.unsandboxed, others)?;
    if let Some(folder) = &args.build_only {
        let runner_kit = compile::RunnerKit::prepare(&kit, &kit.join("target/grader/runner"), sandbox)?;
        crate::prebuilt::build(&runner_kit, &submitted, args.limits.build_timeout(), folder)?;
        show(&format!("Built the runner of {label} in {}\n", folder.display()));
        return Ok(());
    }
    let device = crate::device::resolve(args.device)?;
    let artifacts = args.json.parent().filter(|f| !f.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_owned();
    let _ = std::fs::remove_file(artifacts.join(checks::training::TABLE_FILE));
    let cache = Some(kit.join("target/grader/cache"));
    let cases = args.cases.unwrap_or(0);
    let budget = checks::BudgetChoice {
        gpu: args.training_budget.gpu(),
        steps: args.training_steps,
        batch: args.training_batch,
        images: args.training_images,
    };
    for (option, value) in [("steps", args.training_steps), ("batch", args.training_batch), ("images", args.training_images)] {
        if value == Some(0) {
            return Err(anyhow::anyhow!("--training-{option} must be at least 1"));
        }
    }
    let settings = Settings { device, seed: args.seed, artifacts: Some(artifacts), cache, cases, budget, reference_process: None };
    let options = options(args, only, settings);
    let run = match &args.runner {
        Some(folder) => {
            let source = grading::RunnerSource::Prebuilt { folder, libtorch: crate::kit::libtorch(&kit)?, sandbox };
            grading::grade_from(source, &submitted, &label, &options)?
        }
        None => {
            let runner_kit = compile::RunnerKit::prepare(&kit, &kit.join("target/grader/runner"), sandbox)?;
            grading::grade(&runner_kit, &submitted, &label, &options)?
        }
    };

    show(&report::terminal(&run, args.verbose));
    let markdown_path = args.json.with_extension("md");
    let json = serde_json::to_string_pretty(&report::gradescope(&run)).expect("results serialise");
    write(&args.json, &json)?;
    write(&markdown_path, report::markdown(&run))?;
    show(&format!("Reports: {} and {}\n", args.json.display(), markdown_path.display()));
    Ok(())
}

/// The training budgets `--training-budget` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BudgetKind {
    Auto,
    Cpu,
    Gpu,
}

impl BudgetKind {
    pub fn gpu(self) -> Option<bool> {
        match self {
            BudgetKind::Auto => None,
            BudgetKind::Cpu => Some(false),
            BudgetKind::Gpu => Some(true),
        }
    }
}

/// The grading options the command line gives.
fn options(args: &GradeArgs, only: Option<checks::Exercise>, settings: Settings) -> grading::Options {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let jobs = args.jobs.unwrap_or(cores.min(2)).max(1);
    grading::Options {
        only,
        skip_training: args.skip_training,
        settings,
        limits: args.limits.limits(cores, jobs),
        jobs,
        build_timeout: args.limits.build_timeout(),
        progress: true,
    }
}

/// Prints to stdout; a closed stdout (`grader | head`) does not stop the
/// grader from writing its files.
fn show(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
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

