//! Submitting the arrays: the task list, the job scripts, what each task asks Slurm for.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::gather::gather;
use super::files::{BUILD_SCRIPT, FOLDER, JOB, SCRIPT, TASKS};
use crate::command::class::{self, BatchArgs, BatchDevice};
use crate::files::write;
use crate::grading::Options;
use anyhow::Context;

/// Submits a task for each student in `students` without an up-to-date
/// record (all of them with --force); unless --no-wait, waits for the
/// array and gathers the gradebook.
pub fn submit(out: &Path, students: &[PathBuf], args: &BatchArgs, options: &Options) -> anyhow::Result<()> {
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
    std::fs::create_dir_all(&folder).with_context(|| format!("cannot create {}", folder.display()))?;
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
        anyhow::anyhow!("cannot run sbatch: {e}; --slurm needs Slurm's client commands (sbatch) on PATH, and SLURM_CONF where the cluster needs it")
    })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    // --parsable: "JOBID" or "JOBID;CLUSTER".
    let job = stdout.lines().next().and_then(|line| line.split(';').next()).and_then(|id| id.trim().parse::<u64>().ok());
    let Some(job) = job else {
        return Err(anyhow::anyhow!(
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

/// Submits the build array (`--build-sbatch`): task N builds the runner of
/// the student on line N of tasks.txt. Returns its job id; the grading
/// array runs after it.
fn submit_builds(out: &Path, tasks: usize, args: &BatchArgs, options: &Options) -> anyhow::Result<u64> {
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
        .context("cannot run sbatch")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let job = stdout.lines().next().and_then(|line| line.split(';').next()).and_then(|id| id.trim().parse::<u64>().ok());
    let job = job.with_context(|| {
        format!("sbatch did not submit the build array ({}): {}", output.status, String::from_utf8_lossy(&output.stderr).trim())
    })?;
    println!("Building {tasks} runner(s) in job array {job}, then grading");
    Ok(job)
}

/// The job script: task N runs this grader on the student on line N of
/// tasks.txt, with the grading options of the command that submitted it.
fn job_script(out: &Path, args: &BatchArgs) -> anyhow::Result<String> {
    let grader = std::env::current_exe().context("cannot find the grader's own executable")?;
    let kit = args.kit.clone().unwrap_or_else(crate::kit::default_kit);
    let absolute = |path: &Path| path.canonicalize().with_context(|| format!("{}", path.display()));
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
}
