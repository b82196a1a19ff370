//! The gradebook of an array: each student's record, or what happened to their task.

use std::path::{Path, PathBuf};

use super::files::{FOLDER, JOB, TASKS};
use crate::command::class::{self, Row};

/// The gradebook's rows for `students`: each student's record when it is
/// of their files now, else a row that says what happened to their task.
pub fn gather(out: &Path, students: &[PathBuf]) -> Vec<Row> {
    let folder = out.join(FOLDER);
    let tasks: Vec<String> =
        std::fs::read_to_string(folder.join(TASKS)).map(|t| t.lines().map(str::to_owned).collect()).unwrap_or_default();
    let job = std::fs::read_to_string(folder.join(JOB)).ok().and_then(|j| j.trim().parse::<u64>().ok());
    students
        .iter()
        .map(|submission| {
            let name = crate::submission::folder_name(submission);
            if let Err(why) = class::usable_name(&name) {
                return Row::not_graded(&name, format!("{why:#}"));
            }
            let digest = crate::submission::read(submission).digest();
            match class::record(out, &name, &digest) {
                Some(row) => row,
                None => Row::not_graded(&name, fate(&folder, &tasks, job, &name)),
            }
        })
        .collect()
}

/// What happened to `name`'s task, from the files the job left.
fn fate(folder: &Path, tasks: &[String], job: Option<u64>, name: &str) -> String {
    let Some(index) = tasks.iter().position(|t| t == name) else {
        return "no task graded these files (new or changed since the last array): run `grader batch --slurm` again"
            .to_owned();
    };
    let Some(job) = job else {
        return "its task was not submitted (sbatch failed?): run `grader batch --slurm` again".to_owned();
    };
    let output = folder.join(format!("{job}_{index}.out"));
    let Ok(text) = std::fs::read(&output) else {
        return format!("its task never ran (job {job}, task {index}, no {}); is the job still queued?", output.display());
    };
    let text = String::from_utf8_lossy(&text);
    if text.contains("DUE TO TIME LIMIT") {
        format!("its task ran past Slurm's time limit (see {})", output.display())
    } else if text.contains("CANCELLED") {
        format!("its task was cancelled (see {})", output.display())
    } else if text.lines().any(|l| l.starts_with(&format!("{name}: "))) {
        format!("its task graded files that are not these (were they changed while it ran?) (see {})", output.display())
    } else {
        let last = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no output");
        let last: String = last.chars().take(300).collect();
        format!("its task failed: {} (see {})", last.trim(), output.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_student_without_a_record_is_told_what_happened_to_their_task() {
        let folder = tempfile::tempdir().unwrap();
        let tasks: Vec<String> = ["ann", "bob", "cy", "dee"].map(str::to_owned).to_vec();
        std::fs::write(folder.path().join("7_0.out"), "slurmstepd: error: *** JOB 8 ON node CANCELLED AT 2026-11-30T10:00:00 DUE TO TIME LIMIT ***\n").unwrap();
        std::fs::write(folder.path().join("7_1.out"), "building\ngrader batch: cannot create /out/bob: File exists\n\n").unwrap();
        std::fs::write(folder.path().join("7_2.out"), "slurmstepd: error: *** JOB 9 ON node CANCELLED AT 2026-11-30T10:00:00 ***\n").unwrap();
        let fate = |name| fate(folder.path(), &tasks, Some(7), name);
        assert!(fate("ann").starts_with("its task ran past Slurm's time limit"), "{}", fate("ann"));
        assert!(fate("bob").starts_with("its task failed: grader batch: cannot create /out/bob: File exists"), "{}", fate("bob"));
        assert!(fate("cy").starts_with("its task was cancelled"), "{}", fate("cy"));
        assert!(fate("dee").starts_with("its task never ran"), "{}", fate("dee"));
        assert!(fate("eve").starts_with("no task graded these files"), "{}", fate("eve"));
        assert!(super::fate(folder.path(), &tasks, None, "ann").starts_with("its task was not submitted"));
    }
}
