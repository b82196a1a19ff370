//! `grader batch --slurm`: a class graded as one Slurm job array.
//!
//! The grader that submits prepares what the tasks share, which they only
//! read: the kit with its built grader and the runner's build tree (on a
//! file system every node sees). It lists the students to grade, one per
//! line, in `OUT/.slurm/tasks.txt`, writes the job script
//! `OUT/.slurm/grade.sh`, and submits one array with a task per line. Task
//! N runs this grader again (`--slurm-task N`): it grades the student on
//! line N into `OUT/<student>/` exactly as `grader batch` grades one, in a
//! build folder on the node, and exits. The reference's training, where the
//! training checks run, is done once by the first task that needs it while
//! the others wait (a lock in the shared cache).
//!
//! The gather reads each student's record (`grading.json`, written last by
//! a grading that completed) and checks it is of the files in SUBMISSIONS
//! now. A student without one is in the gradebook as not graded, with what
//! happened to their task (it failed, ran past the time limit, was
//! cancelled or never ran), read from the task's output file. Students
//! whose record is up to date are not submitted again, so the same command
//! run again grades only those left.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::command::class::{self, BatchArgs, BatchDevice, Row};
use crate::compile::RunnerKit;
use crate::files::write;
use crate::grading::Options;

/// The folder in OUT with the job's files; no student's folder can have
/// its name (`class::usable_name`).
const FOLDER: &str = ".slurm";
/// The students of the last array submitted, task N on line N (from 0).
const TASKS: &str = "tasks.txt";
/// The id of the last array submitted.
const JOB: &str = "job";
/// The job script.
const SCRIPT: &str = "grade.sh";
/// The build array's job script (`--build-sbatch`).
const BUILD_SCRIPT: &str = "build.sh";
/// Where the build array puts each student's runner.
const RUNNERS: &str = "runners";

/// Submits a task for each student in `students` without an up-to-date
/// record (all of them with --force); unless --no-wait, waits for the
/// array and gathers the gradebook.
pub fn submit(out: &Path, students: &[PathBuf], args: &BatchArgs, options: &Options) -> Result<(), String> {
    let mut to_grade = Vec::new();
    for submission in students {
        let name = crate::submission::folder_name(submission);
        // A name the gradebook cannot use gets no task: the gather says why.
        if class::usable_name(&name).is_ok() {
            let digest = crate::submission::read(submission).digest();
            if args.force || class::record(out, &name, &digest).is_none() {
                to_grade.push(name);
            }
        }
    }
    if to_grade.is_empty() {
        println!("Every student's record is of their files now: nothing to submit.");
        return class::finish(out, gather(out, students));
    }
    let folder = out.join(FOLDER);
    std::fs::create_dir_all(&folder).map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    write(&folder.join(TASKS), &(to_grade.join("\n") + "\n"))?;
    let _ = std::fs::remove_file(folder.join(JOB));
    let script = folder.join(SCRIPT);
    write(&script, &job_script(out, args)?)?;

    let build_job = if args.build_sbatch.is_empty() { None } else { Some(submit_builds(out, to_grade.len(), args, options)?) };
    let (minutes, memory_mib) = task_limits(options);
    let mut sbatch = Command::new("sbatch");
    sbatch
        .arg("--parsable")
        .arg("--job-name=fcn-grade")
        .arg(format!("--array=0-{}", to_grade.len() - 1))
        .arg(format!("--cpus-per-task={}", args.task_cores.max(1)))
        .arg(format!("--mem={memory_mib}M"))
        .arg(format!("--time={minutes}"))
        .arg(format!("--output={}/%A_%a.out", folder.display()))
        .arg(format!("--chdir={}", out.display()));
    if args.device == BatchDevice::Cuda && !options.skip_training {
        sbatch.arg("--gres=gpu:1");
    }
    if let Some(job) = build_job {
        // After every build, whatever became of it: a task whose runner is
        // missing builds it itself, or fails and is named.
        sbatch.arg(format!("--dependency=afterany:{job}"));
    }
    // The instructor's options last: where sbatch takes the last of an
    // option given twice, theirs win.
    sbatch.args(&args.sbatch);
    if !args.no_wait {
        sbatch.arg("--wait");
    }
    sbatch.arg(&script);
    println!(
        "Submitting {} task(s), each with {} core(s), {memory_mib} MiB and {minutes} minutes{}",
        to_grade.len(),
        args.task_cores.max(1),
        if args.device == BatchDevice::Cuda && !options.skip_training { " and a GPU" } else { "" }
    );
    let output = sbatch.output().map_err(|e| {
        format!("cannot run sbatch: {e}; --slurm needs Slurm's client commands (sbatch) on PATH, and SLURM_CONF where the cluster needs it")
    })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    // --parsable: "JOBID" or "JOBID;CLUSTER".
    let job = stdout.lines().next().and_then(|line| line.split(';').next()).and_then(|id| id.trim().parse::<u64>().ok());
    let Some(job) = job else {
        return Err(format!(
            "sbatch did not submit the job array ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    };
    write(&folder.join(JOB), format!("{job}\n"))?;
    if args.no_wait {
        println!(
            "Submitted job array {job} ({} task(s)). When it has finished: grader batch {} --out {} --gather",
            to_grade.len(),
            args.submissions.display(),
            out.display()
        );
        return Ok(());
    }
    println!("Job array {job} finished.");
    class::finish(out, gather(out, students))
}

/// Where build task N puts the runner of the student it builds.
fn runners(out: &Path, name: &str) -> PathBuf {
    out.join(FOLDER).join(RUNNERS).join(name)
}

/// Submits the build array (`--build-sbatch`): task N builds the runner of
/// the student on line N of tasks.txt. Returns its job id; the grading
/// array runs after it.
fn submit_builds(out: &Path, tasks: usize, args: &BatchArgs, options: &Options) -> Result<u64, String> {
    let folder = out.join(FOLDER);
    let script = folder.join(BUILD_SCRIPT);
    let grading = job_script(out, args)?;
    let building = grading.replace("--slurm-task", "--slurm-build-task").replace("task N of the job array grades", "task N of the build array builds the runner of");
    write(&script, &building)?;
    // A build per exercise file at most (see task_limits), and the build's
    // processes' memory with the grader's.
    let minutes = ((crate::submission::EXERCISE_FILES.len() as u64 + 1) * options.build_timeout.as_secs() + 600).div_ceil(60);
    let memory_mib = crate::compile::BUILD_MEMORY_MIB + 2048;
    let output = Command::new("sbatch")
        .arg("--parsable")
        .arg("--job-name=fcn-build")
        .arg(format!("--array=0-{}", tasks - 1))
        .arg(format!("--cpus-per-task={}", args.task_cores.max(1)))
        .arg(format!("--mem={memory_mib}M"))
        .arg(format!("--time={minutes}"))
        .arg(format!("--output={}/build_%A_%a.out", folder.display()))
        .arg(format!("--chdir={}", out.display()))
        .args(&args.build_sbatch)
        .arg(&script)
        .output()
        .map_err(|e| format!("cannot run sbatch: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let job = stdout.lines().next().and_then(|line| line.split(';').next()).and_then(|id| id.trim().parse::<u64>().ok());
    let job = job.ok_or_else(|| {
        format!("sbatch did not submit the build array ({}): {}", output.status, String::from_utf8_lossy(&output.stderr).trim())
    })?;
    println!("Building {tasks} runner(s) in job array {job}, then grading");
    Ok(job)
}

/// Build task `index`: builds the runner of the student on that line of
/// tasks.txt, for the grading task of the same line.
pub fn build_task(runner_kit: &RunnerKit, out: &Path, students: &[PathBuf], index: usize, args: &BatchArgs) -> Result<(), String> {
    let (name, submission) = task_student(out, students, index, args)?;
    let submitted = crate::submission::read(submission);
    let timeout = args.limits.build_timeout();
    crate::prebuilt::build(runner_kit, &submitted, timeout, &runners(out, &name))?;
    println!("built the runner of {name}");
    Ok(())
}

/// The job script: task N runs this grader on the student on line N of
/// tasks.txt, with the grading options of the command that submitted it.
fn job_script(out: &Path, args: &BatchArgs) -> Result<String, String> {
    let grader = std::env::current_exe().map_err(|e| format!("cannot find the grader's own executable: {e}"))?;
    let kit = args.kit.clone().unwrap_or_else(crate::kit::default_kit);
    let absolute = |path: &Path| path.canonicalize().map_err(|e| format!("{}: {e}", path.display()));
    let mut words: Vec<String> = vec![
        absolute(&grader)?.display().to_string(),
        "batch".into(),
        absolute(&args.submissions)?.display().to_string(),
        "--out".into(),
        out.display().to_string(),
        "--kit".into(),
        absolute(&kit)?.display().to_string(),
        format!("--task-cores={}", args.task_cores.max(1)),
        format!("--device={}", if args.device == BatchDevice::Cuda { "cuda" } else { "cpu" }),
    ];
    words.extend(args.limits.words());
    if args.skip_training {
        words.push("--skip-training".into());
    }
    if args.unsandboxed {
        words.push("--unsandboxed".into());
    }
    if let Some(only) = &args.only {
        words.push(format!("--only={only}"));
    }
    let command: Vec<String> = words.iter().map(|w| quote(w)).collect();
    Ok(format!(
        "#!/bin/sh\n\
         # Written by `grader batch --slurm`: task N of the job array grades the\n\
         # student on line N (from 0) of {TASKS}, beside this script.\n\
         exec {} --slurm-task \"$SLURM_ARRAY_TASK_ID\"\n",
        command.join(" ")
    ))
}

/// `word` quoted for the shell.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// The time (minutes) and memory (MiB) a task asks for: the most the
/// grader's own limits let one grading take, so that Slurm's limits are a
/// backstop that a grading never meets. The build may run once per
/// exercise file plus once (a build past its time limit puts the files
/// back one at a time); the checks run `options.jobs` at a time, each
/// within its timeout; the training checks one at a time; and ten minutes
/// for the rest (starting, copying the build tree, the reports).
pub fn task_limits(options: &Options) -> (u64, u64) {
    let checks = crate::suite::checks();
    let selected = checks.iter().filter(|c| options.only.is_none_or(|e| c.exercise == e));
    let (training, other): (Vec<_>, Vec<_>) = selected.partition(|c| crate::suite::is_training(c));
    let training = if options.skip_training { 0 } else { training.len() as u64 };
    let jobs = options.jobs.max(1) as u64;
    let seconds = (crate::submission::EXERCISE_FILES.len() as u64 + 1) * options.build_timeout.as_secs()
        + (other.len() as u64).div_ceil(jobs) * options.limits.timeout.as_secs()
        + training * options.limits.training_timeout.as_secs()
        + 600;
    // Each check's runner may use its memory limit, `jobs` at a time, and
    // the grader and the build need about 2 GiB more.
    let memory = options.limits.memory_mib * jobs + 2048;
    (seconds.div_ceil(60), memory)
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
) -> Result<(), String> {
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
fn task_student<'a>(out: &Path, students: &'a [PathBuf], index: usize, args: &BatchArgs) -> Result<(String, &'a PathBuf), String> {
    let tasks_file = out.join(FOLDER).join(TASKS);
    let tasks = std::fs::read_to_string(&tasks_file).map_err(|e| format!("cannot read {}: {e}", tasks_file.display()))?;
    let name = tasks.lines().nth(index).ok_or_else(|| {
        format!("task {index}: {} has {} students; was the array submitted from another list?", tasks_file.display(), tasks.lines().count())
    })?;
    let submission = students
        .iter()
        .find(|s| crate::submission::folder_name(s) == name)
        .ok_or_else(|| format!("task {index}: {name:?} is not a folder of {}", args.submissions.display()))?;
    Ok((name.to_owned(), submission))
}

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
                return Row::not_graded(&name, why);
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
    use std::time::Duration;

    #[test]
    fn a_quoted_word_reaches_the_command_as_it_was() {
        for word in ["plain", "two words", "it's", "'; rm -rf / #", "$HOME `id` \"x\" \\n"] {
            let echoed = Command::new("sh").arg("-c").arg(format!("printf %s {}", quote(word))).output().unwrap();
            assert_eq!(String::from_utf8_lossy(&echoed.stdout), word);
        }
    }

    fn options(skip_training: bool, jobs: usize) -> Options {
        Options {
            only: None,
            skip_training,
            settings: checks::Settings::default(),
            limits: crate::limits::Limits {
                timeout: Duration::from_secs(120),
                memory_mib: 6144,
                output_mib: 16,
                threads: 1,
                training_timeout: Duration::from_secs(900),
                training_threads: 2,
            },
            jobs,
            build_timeout: Duration::from_secs(300),
            progress: false,
        }
    }

    #[test]
    fn a_task_may_take_what_the_grader_s_limits_allow_and_no_less() {
        let (minutes, memory) = task_limits(&options(true, 2));
        let training = crate::suite::checks().iter().filter(|c| crate::suite::is_training(c)).count() as u64;
        let others = crate::suite::checks().len() as u64 - training;
        // Every build retry, every check timing out two at a time.
        assert!(minutes * 60 >= 9 * 300 + others.div_ceil(2) * 120, "{minutes} minutes");
        let (with_training, _) = task_limits(&options(false, 2));
        assert!(with_training * 60 >= minutes * 60 + training * 900, "{with_training} minutes");
        let (one_at_a_time, _) = task_limits(&options(true, 1));
        assert!(one_at_a_time > minutes, "checks one at a time take longer");
        assert!(memory >= 2 * 6144, "two runners at their memory limit: {memory} MiB");
    }

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
