//! One task of an array: building or grading the student on its line.

use std::path::{Path, PathBuf};

use super::files::{FOLDER, RUNNERS, TASKS};
use crate::command::class::{self, BatchArgs};
use crate::compile::RunnerKit;
use crate::grading::Options;
use anyhow::Context;

/// Where build task N puts the runner of the student it builds.
fn runners(out: &Path, name: &str) -> PathBuf {
    out.join(FOLDER).join(RUNNERS).join(name)
}

/// Build task `index`: builds the runner of the student on that line of
/// tasks.txt, for the grading task of the same line.
pub fn build_task(runner_kit: &RunnerKit, out: &Path, students: &[PathBuf], index: usize, args: &BatchArgs) -> anyhow::Result<()> {
    let (name, submission) = task_student(out, students, index, args)?;
    let submitted = crate::submission::read(submission);
    let timeout = args.limits.build_timeout();
    crate::prebuilt::build(runner_kit, &submitted, timeout, &runners(out, &name))?;
    println!("built the runner of {name}");
    Ok(())
}

/// Task `index` of the array: grades the student on that line of
/// tasks.txt. An error is the task's failure (a non-zero exit, and its
/// output says why); the gather then names the student.
pub fn task(
    runner_kit: &RunnerKit,
    out: &Path,
    students: &[PathBuf],
    index: usize,
    args: &BatchArgs,
    options: &Options,
) -> anyhow::Result<()> {
    let (name, submission) = task_student(out, students, index, args)?;
    let prebuilt = runners(out, &name);
    if crate::prebuilt::open(&prebuilt, &crate::submission::read(submission), &runner_kit.sandbox).is_ok() {
        // Not "{name}: ...": that line says what the task graded (see `fate`).
        println!("grading {name} with the runner built in {}", prebuilt.display());
    }
    let row = class::grade_one(runner_kit, Some(&prebuilt), out, submission, &name, true, options)?;
    println!("{name}: {}/{} {}", row.total, row.max, row.status);
    Ok(())
}

/// The student on line `index` of tasks.txt: their name and folder (only a
/// student folder of SUBMISSIONS, whatever the line says).
fn task_student<'a>(out: &Path, students: &'a [PathBuf], index: usize, args: &BatchArgs) -> anyhow::Result<(String, &'a PathBuf)> {
    let tasks_file = out.join(FOLDER).join(TASKS);
    let tasks = std::fs::read_to_string(&tasks_file).with_context(|| format!("cannot read {}", tasks_file.display()))?;
    let name = tasks.lines().nth(index).with_context(|| {
        format!("task {index}: {} has {} students; was the array submitted from another list?", tasks_file.display(), tasks.lines().count())
    })?;
    let submission = students
        .iter()
        .find(|s| crate::submission::folder_name(s) == name)
        .with_context(|| format!("task {index}: {name:?} is not a folder of {}", args.submissions.display()))?;
    Ok((name.to_owned(), submission))
}
