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

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use checks::Settings;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::compile::RunnerKit;
use crate::worker::Limits;
use crate::report::{self, Run};

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// A folder with one folder per student.
    submissions: PathBuf,

    /// Where the reports and gradebook.csv go.
    #[arg(long, value_name = "DIR", default_value = "target/grader/batch")]
    out: PathBuf,

    /// Students graded at the same time.
    #[arg(long, short, default_value_t = 1)]
    jobs: usize,

    /// Grade again students whose files have not changed.
    #[arg(long)]
    force: bool,

    /// Leave out the training checks.
    #[arg(long)]
    skip_training: bool,

    /// Grade one exercise only: its name or number.
    #[arg(long, value_name = "EXERCISE")]
    only: Option<String>,

    /// Seconds each check may run.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    timeout: u64,

    /// MiB of memory each check may allocate (on CPU).
    #[arg(long, value_name = "MIB", default_value_t = 6144)]
    memory_limit: u64,

    /// Seconds each student's build may take.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    build_timeout: u64,

    /// Run the students' code without the sandbox (every report says so).
    #[arg(long)]
    unsandboxed: bool,

    /// The kit's folder (default: the one this grader was built in).
    #[arg(long, value_name = "DIR")]
    kit: Option<PathBuf>,
}

/// One gradebook row, and the record that lets a later run skip the student.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    pub student: String,
    /// SHA-256 of the exercise files graded.
    pub digest: String,
    /// Points by exercise id, in course order.
    pub points: Vec<(String, u32)>,
    /// The core score: the bonus track is apart.
    pub total: u32,
    pub max: u32,
    pub bonus: u32,
    pub bonus_max: u32,
    pub status: String,
    pub notes: Vec<String>,
}

/// The resume record's file name, in each student's folder.
const RECORD: &str = "grading.json";

pub fn run(args: BatchArgs) -> Result<(), String> {
    let kit = args.kit.clone().unwrap_or_else(crate::grade::default_kit);
    let only = match &args.only {
        None => None,
        Some(name) => Some(crate::suite::exercise_named(name).ok_or_else(|| {
            format!("no exercise {name:?}; the exercises are {}", crate::suite::exercise_names())
        })?),
    };
    let entries = std::fs::read_dir(&args.submissions).map_err(|e| format!("cannot read {}: {e}", args.submissions.display()))?;
    let mut students: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir() || m.file_type().is_symlink()))
        .collect();
    students.sort();
    if students.is_empty() {
        return Err(format!("{} has no submission folders", args.submissions.display()));
    }
    let sandbox = crate::sandbox::Sandbox::choose(args.unsandboxed, true)?;
    std::fs::create_dir_all(&args.out).map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let out = args.out.canonicalize().map_err(|e| format!("{}: {e}", args.out.display()))?;
    let runner_kit = RunnerKit::prepare(&kit, &kit.join("target/grader/runner"), sandbox)?;

    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let jobs = args.jobs.clamp(1, students.len());
    let check_jobs = (cores / jobs).max(1);
    let options = crate::grade::Options {
        only,
        skip_training: args.skip_training,
        settings: Settings { cache: Some(kit.join("target/grader/cache")), ..Settings::default() },
        limits: Limits {
            timeout: Duration::from_secs(args.timeout.max(1)),
            memory_mib: args.memory_limit,
            output_mib: 16,
            threads: (cores / (jobs * check_jobs)).max(1) as i32,
            training_timeout: Duration::from_secs(900.max(args.timeout)),
            training_threads: (cores / jobs).max(1) as i32,
        },
        jobs: check_jobs,
        build_timeout: Duration::from_secs(args.build_timeout.max(1)),
        progress: false,
    };
    let progress = ProgressBar::new(students.len() as u64).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} students {elapsed} {wide_msg}").expect("a valid template"),
    );
    let next = AtomicUsize::new(0);
    let rows = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    let Some(submission) = students.get(n) else { break };
                    let name = crate::submission::folder_name(submission);
                    progress.set_message(name.clone());
                    let row = grade_one(&runner_kit, &out, submission, &name, &args, &options).unwrap_or_else(|why| Row {
                        student: name.clone(),
                        status: "not graded".into(),
                        notes: vec![why],
                        ..Row::default()
                    });
                    rows.lock().expect("no panic holding the lock").push(row);
                    progress.inc(1);
                }
            });
        }
    });
    progress.finish_and_clear();
    let mut rows = rows.into_inner().expect("no panic holding the lock");
    rows.sort_by(|a, b| a.student.cmp(&b.student));
    let gradebook = out.join("gradebook.csv");
    write_gradebook(&gradebook, &rows)?;
    for row in &rows {
        println!("{:<24} {:>5}/{:<5} {}", row.student, row.total, row.max, row.status);
    }
    println!("Gradebook: {}", gradebook.display());
    Ok(())
}

fn grade_one(
    runner_kit: &RunnerKit,
    out: &Path,
    submission: &Path,
    name: &str,
    args: &BatchArgs,
    options: &crate::grade::Options,
) -> Result<Row, String> {
    if name.starts_with('.') || name == "gradebook.csv" || name.ends_with(".partial") {
        return Err(format!("{name:?} is not a student's folder name the gradebook can use: rename it"));
    }
    let folder = out.join(name);
    if std::fs::symlink_metadata(submission).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err("the submission folder is a symbolic link, which is not followed".to_owned());
    }
    let submitted = crate::submission::read(submission);
    let digest = submitted.digest();
    if !args.force {
        let earlier = std::fs::read_to_string(folder.join(RECORD)).ok().and_then(|json| serde_json::from_str::<Row>(&json).ok());
        if let Some(row) = earlier.filter(|row| row.digest == digest && row.student == name) {
            return Ok(Row { status: format!("{} (earlier run)", row.status), ..row });
        }
    }
    std::fs::create_dir_all(&folder).map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    let options = crate::grade::Options {
        settings: Settings { artifacts: Some(folder.clone()), ..options.settings.clone() },
        ..options.clone()
    };
    let run = crate::grade::grade(runner_kit, &submitted, name, &options)?;
    let json = serde_json::to_string_pretty(&report::gradescope(&run)).expect("a JSON value serialises");
    write(&folder.join("results.json"), &json)?;
    write(&folder.join("results.md"), &report::markdown(&run))?;
    write(&folder.join("report.txt"), &report::terminal(&run, false))?;
    let row = row_of(name, &digest, &run);
    // The record last: a run cut short leaves no record, and is graded again.
    write(&folder.join(RECORD), &serde_json::to_string_pretty(&row).expect("a row serialises"))?;
    Ok(row)
}

fn row_of(student: &str, digest: &str, run: &Run) -> Row {
    let mut points: Vec<(String, u32)> = checks::EXERCISES.iter().map(|e| (e.id.to_owned(), 0)).collect();
    for graded in &run.graded {
        if let Some((_, sum)) = points.iter_mut().find(|(id, _)| id == graded.exercise.id) {
            *sum += graded.score();
        }
    }
    let (bonus, bonus_max) = run.bonus().unwrap_or((0, 0));
    let compile_errors = run.notes.iter().any(|n| n.contains("graded as not attempted"));
    Row {
        student: student.to_owned(),
        digest: digest.to_owned(),
        points,
        total: run.score(),
        max: run.max_score(),
        bonus,
        bonus_max,
        status: if compile_errors { "graded, with files not taken".to_owned() } else { "graded".to_owned() },
        notes: run.notes.clone(),
    }
}

fn write_gradebook(path: &Path, rows: &[Row]) -> Result<(), String> {
    let partial = path.with_extension("csv.partial");
    let mut writer = csv::Writer::from_path(&partial).map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
    let mut header = vec!["student".to_owned()];
    header.extend(checks::EXERCISES.iter().map(|e| e.id.to_owned()));
    header.extend(["total", "max", "bonus", "bonus max", "status", "notes"].map(str::to_owned));
    writer.write_record(&header).map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
    for row in rows {
        let mut record = vec![row.student.clone()];
        for exercise in checks::EXERCISES {
            let points = row.points.iter().find(|(id, _)| id == exercise.id).map_or(0, |(_, p)| *p);
            record.push(points.to_string());
        }
        record.extend([
            row.total.to_string(),
            row.max.to_string(),
            row.bonus.to_string(),
            row.bonus_max.to_string(),
            row.status.clone(),
            row.notes.join("; "),
        ]);
        writer.write_record(&record).map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
    }
    writer.flush().map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
    drop(writer);
    std::fs::rename(&partial, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn write(path: &Path, contents: &str) -> Result<(), String> {
    std::fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
