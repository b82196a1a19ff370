//! `grader batch SUBMISSIONS`: grades a class.
//!
//! Each folder in SUBMISSIONS is one student's submission: their exercises
//! crate, its `src/`, or the exercise files alone. Only the exercise modules
//! are taken (see `submission`); everything else in the folder is ignored.
//! Each student is graded as `grader --submission` grades one: a runner
//! built from their files alone, in a fresh copy of the runner's build
//! tree, run in the sandbox; the verdicts are this process's.
//!
//! Results: `OUT/<student>/results.json`, `results.md`, `report.txt` and
//! `grading.json` (the gradebook row with the digest of the files graded,
//! the resume record) for each student, and `OUT/gradebook.csv`. A student
//! whose files have not changed since their last grading is not graded
//! again, unless `--force`.

use crate::command::slurm;
use crate::compile::RunnerKit;
pub use crate::command::class::BatchArgs;
use crate::command::class::{Row, finish, grade_one, options, students};
use anyhow::Context;

pub fn run(args: BatchArgs) -> anyhow::Result<()> {
    let kit = args.kit.clone().unwrap_or_else(crate::kit::default_kit);
    let students = students(&args.submissions)?;
    crate::files::create_folder(&args.out)?;
    let out = args.out.canonicalize().with_context(|| format!("{}", args.out.display()))?;
    if args.gather {
        let rows = slurm::gather(&out, &students);
        return finish(&out, rows);
    }
    // A wrong option is said before the runner's build tree is prepared (minutes).
    options(&args, &kit, 1, 1)?;
    let sandbox = crate::sandbox::Sandbox::choose(args.unsandboxed, true)?;
    let cache = kit.join("target/grader/runner");
    if let Some(task) = args.slurm_build_task {
        let runner_kit = RunnerKit::open(&kit, &cache, sandbox, &std::env::temp_dir())?;
        return slurm::build_task(&runner_kit, &out, &students, task, &args);
    }
    if let Some(task) = args.slurm_task {
        // A task shares the template and builds in a folder of the node's own.
        let runner_kit = RunnerKit::open(&kit, &cache, sandbox, &std::env::temp_dir())?;
        return slurm::task(&runner_kit, &out, &students, task, &args, &options(&args, &kit, 1, args.task_cores)?);
    }
    let runner_kit = RunnerKit::prepare(&kit, &cache, sandbox)?;
    if args.slurm {
        let options = options(&args, &kit, 1, args.task_cores)?;
        return slurm::submit(&out, &students, &args, &options);
    }

    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let jobs = args.jobs.clamp(1, students.len());
    let options = options(&args, &kit, jobs, cores)?;
    let progress = crate::parallel::bar(students.len(), "students", true);
    let rows = crate::parallel::map(
        &students,
        jobs,
        &progress,
        |submission| crate::submission::folder_name(submission),
        |_| (),
        |(), submission| {
            let name = crate::submission::folder_name(submission);
            grade_one(&runner_kit, None, &out, submission, &name, args.force, &options)
                .unwrap_or_else(|why| Row::not_graded(&name, format!("{why:#}")))
        },
    );
    finish(&out, rows)
}

