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
use std::time::Duration;

use checks::Settings;
use clap::Args;
use serde::{Deserialize, Serialize};

use crate::compile::RunnerKit;
use crate::files::write;
use crate::worker::Limits;
use crate::report::{self, Run};

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// A folder with one folder per student.
    pub submissions: PathBuf,

    /// Where the reports and gradebook.csv go.
    #[arg(long, value_name = "DIR", default_value = "target/grader/batch")]
    pub out: PathBuf,

    /// Students graded at the same time.
    #[arg(long, short, default_value_t = 1)]
    pub jobs: usize,

    /// Grade again students whose files have not changed.
    #[arg(long)]
    pub force: bool,

    /// Leave out the training checks.
    #[arg(long)]
    pub skip_training: bool,

    /// Grade one exercise only: its name or number.
    #[arg(long, value_name = "EXERCISE")]
    pub only: Option<String>,

    /// Seconds each check may run.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub timeout: u64,

    /// MiB of memory each check may allocate (on CPU).
    #[arg(long, value_name = "MIB", default_value_t = 6144)]
    pub memory_limit: u64,

    /// Seconds each student's build may take.
    #[arg(long, value_name = "SECS", default_value_t = 300)]
    pub build_timeout: u64,

    /// Run the students' code without the sandbox (every report says so).
    #[arg(long)]
    pub unsandboxed: bool,

    /// The kit's folder (default: the one this grader was built in).
    #[arg(long, value_name = "DIR")]
    pub kit: Option<PathBuf>,

    /// Where the training checks run: the CPU, or a GPU (with --slurm, each
    /// task then asks for one: --gres=gpu:1).
    #[arg(long, value_enum, default_value_t = BatchDevice::Cpu)]
    pub device: BatchDevice,

    /// Grade on a Slurm cluster: one job array, one task per student to
    /// grade, then the gradebook (README: "Grading a large class").
    #[arg(long)]
    pub slurm: bool,

    /// With --slurm: cores each task asks for (its checks run on them).
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub task_cores: usize,

    /// With --slurm: an option for sbatch, as sbatch spells it; give it once
    /// per option (--sbatch=--partition=gpu --sbatch=--account=cs101).
    #[arg(long = "sbatch", value_name = "OPTION", allow_hyphen_values = true, requires = "slurm")]
    pub sbatch: Vec<String>,

    /// With --slurm: build the runners in a job array of their own, before
    /// the grading array, with this option for its sbatch (given once per
    /// option, as --sbatch is): for example CPU nodes that have Rust for
    /// the builds, GPU nodes for the grading (--build-sbatch=--partition=cpu
    /// --sbatch=--partition=gpu).
    #[arg(long = "build-sbatch", value_name = "OPTION", allow_hyphen_values = true, requires = "slurm")]
    pub build_sbatch: Vec<String>,

    /// With --slurm: submit the job array and return; gather later with
    /// --gather.
    #[arg(long, requires = "slurm")]
    pub no_wait: bool,

    /// Grade nothing: build gradebook.csv from the students' records in OUT,
    /// and name every student who has none (a task that failed, timed out
    /// or never ran).
    #[arg(long, conflicts_with = "slurm")]
    pub gather: bool,

    /// The task of a Slurm job array to run: grades the student on that line
    /// of OUT/.slurm/tasks.txt (`grader batch --slurm` writes both).
    #[arg(long, value_name = "N", hide = true, conflicts_with_all = ["slurm", "gather"])]
    pub slurm_task: Option<usize>,

    /// The task of a Slurm build array to run: builds the runner of the
    /// student on that line of OUT/.slurm/tasks.txt.
    #[arg(long, value_name = "N", hide = true, conflicts_with_all = ["slurm", "gather", "slurm_task"])]
    pub slurm_build_task: Option<usize>,
}

/// Where a class's training checks run. There is no "auto": tasks on a
/// cluster must not depend on what the submitting machine has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BatchDevice {
    Cpu,
    Cuda,
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
    let kit = args.kit.clone().unwrap_or_else(crate::grading::default_kit);
    let students = students(&args.submissions)?;
    crate::files::create_folder(&args.out)?;
    let out = args.out.canonicalize().map_err(|e| format!("{}: {e}", args.out.display()))?;
    if args.gather {
        let rows = crate::command::slurm::gather(&out, &students);
        return finish(&out, rows);
    }
    // A wrong option is said before the runner's build tree is prepared (minutes).
    options(&args, &kit, 1, 1)?;
    let sandbox = crate::sandbox::Sandbox::choose(args.unsandboxed, true)?;
    let cache = kit.join("target/grader/runner");
    if let Some(task) = args.slurm_build_task {
        let runner_kit = RunnerKit::open(&kit, &cache, sandbox, &std::env::temp_dir())?;
        return crate::command::slurm::build_task(&runner_kit, &out, &students, task, &args);
    }
    if let Some(task) = args.slurm_task {
        // A task shares the template and builds in a folder of the node's own.
        let runner_kit = RunnerKit::open(&kit, &cache, sandbox, &std::env::temp_dir())?;
        return crate::command::slurm::task(&runner_kit, &out, &students, task, &args, &options(&args, &kit, 1, args.task_cores)?);
    }
    let runner_kit = RunnerKit::prepare(&kit, &cache, sandbox)?;
    if args.slurm {
        let options = options(&args, &kit, 1, args.task_cores)?;
        return crate::command::slurm::submit(&out, &students, &args, &options);
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
                .unwrap_or_else(|why| Row::not_graded(&name, why))
        },
    );
    finish(&out, rows)
}

/// Writes the gradebook of `rows` and prints them.
pub fn finish(out: &Path, mut rows: Vec<Row>) -> Result<(), String> {
    rows.sort_by(|a, b| a.student.cmp(&b.student));
    let gradebook = out.join("gradebook.csv");
    write_gradebook(&gradebook, &rows)?;
    for row in &rows {
        println!("{:<24} {:>5}/{:<5} {}", row.student, row.total, row.max, row.status);
    }
    let missing: Vec<String> = rows
        .iter()
        .filter(|row| row.status.starts_with("not graded"))
        .map(|row| format!("{} ({})", row.student, row.notes.join("; ")))
        .collect();
    if !missing.is_empty() {
        println!("Not graded ({}): {}", missing.len(), missing.join(", "));
    }
    println!("Gradebook: {}", gradebook.display());
    Ok(())
}

/// The students' folders in `submissions`, sorted by name.
pub fn students(submissions: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = std::fs::read_dir(submissions).map_err(|e| format!("cannot read {}: {e}", submissions.display()))?;
    let mut students: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir() || m.file_type().is_symlink()))
        .collect();
    students.sort();
    if students.is_empty() {
        return Err(format!("{} has no submission folders", submissions.display()));
    }
    // A name is a student's row, folder in OUT and Slurm task: one that is
    // not UTF-8 would be shown converted, and two such could share all three.
    let unreadable: Vec<String> =
        students.iter().filter(|s| s.file_name().and_then(|n| n.to_str()).is_none()).map(|s| format!("{s:?}")).collect();
    if !unreadable.is_empty() {
        return Err(format!(
            "{} submission folder name(s) in {} are not UTF-8, so the gradebook cannot name them apart: rename {}",
            unreadable.len(),
            submissions.display(),
            unreadable.join(", ")
        ));
    }
    Ok(students)
}

/// The grading options for a student, when `jobs` students share `cores`.
pub fn options(args: &BatchArgs, kit: &Path, jobs: usize, cores: usize) -> Result<crate::grading::Options, String> {
    let only = match &args.only {
        None => None,
        Some(name) => Some(crate::suite::exercise_named(name).ok_or_else(|| {
            format!("no exercise {name:?}; the exercises are {}", crate::suite::exercise_names())
        })?),
    };
    let device = match args.device {
        BatchDevice::Cpu => tch::Device::Cpu,
        // Resolved where the grading runs (a task's node), not where it is
        // submitted.
        BatchDevice::Cuda if args.slurm => tch::Device::Cuda(0),
        BatchDevice::Cuda => crate::device::resolve(crate::device::DeviceChoice::Cuda)?,
    };
    let check_jobs = (cores / jobs).max(1);
    Ok(crate::grading::Options {
        only,
        skip_training: args.skip_training,
        settings: Settings { cache: Some(kit.join("target/grader/cache")), device, ..Settings::default() },
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
    })
}

impl Row {
    /// The row of a student who has no grade, and why.
    pub fn not_graded(student: &str, why: String) -> Row {
        Row { student: student.to_owned(), status: "not graded".into(), notes: vec![why], ..Row::default() }
    }
}

/// Grades the student in `submission` into `out/<name>`: their reports,
/// and last their record. Unless `force`, a record for the same files is
/// the grade.
pub fn grade_one(
    runner_kit: &RunnerKit,
    prebuilt: Option<&Path>,
    out: &Path,
    submission: &Path,
    name: &str,
    force: bool,
    options: &crate::grading::Options,
) -> Result<Row, String> {
    usable_name(name)?;
    let folder = out.join(name);
    if std::fs::symlink_metadata(submission).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err("the submission folder is a symbolic link, which is not followed".to_owned());
    }
    let submitted = crate::submission::read(submission);
    let digest = submitted.digest();
    if !force {
        if let Some(row) = record(out, name, &digest) {
            return Ok(Row { status: format!("{} (earlier run)", row.status), ..row });
        }
    }
    std::fs::create_dir_all(&folder).map_err(|e| format!("cannot create {}: {e}", folder.display()))?;
    let options = crate::grading::Options {
        settings: Settings { artifacts: Some(folder.clone()), ..options.settings.clone() },
        ..options.clone()
    };
    // A runner built for these files (by a build array) is graded as it is;
    // any other is built now.
    let run = match prebuilt.filter(|folder| crate::prebuilt::open(folder, &submitted, &runner_kit.sandbox).is_ok()) {
        Some(folder) => {
            let source = crate::grading::RunnerSource::Prebuilt {
                folder,
                libtorch: runner_kit.libtorch.clone(),
                sandbox: runner_kit.sandbox.clone(),
            };
            crate::grading::grade_from(source, &submitted, name, &options)?
        }
        None => crate::grading::grade(runner_kit, &submitted, name, &options)?,
    };
    let json = serde_json::to_string_pretty(&report::gradescope(&run)).expect("results serialise");
    write(&folder.join("results.json"), &json)?;
    write(&folder.join("results.md"), report::markdown(&run))?;
    write(&folder.join("report.txt"), report::terminal(&run, false))?;
    let row = row_of(name, &digest, &run);
    // The record last: a run cut short leaves no record, and is graded again.
    write(&folder.join(RECORD), serde_json::to_string_pretty(&row).expect("a row serialises"))?;
    Ok(row)
}

/// The record of `name`'s grading in `out`, if it is of the files with
/// `digest`. A record is read strictly: one that does not parse, or is of
/// someone else, is none.
pub fn record(out: &Path, name: &str, digest: &str) -> Option<Row> {
    let json = std::fs::read_to_string(out.join(name).join(RECORD)).ok()?;
    serde_json::from_str::<Row>(&json).ok().filter(|row| row.digest == digest && row.student == name)
}

/// Whether `name` is a folder name a student's grading can be kept under.
pub fn usable_name(name: &str) -> Result<(), String> {
    if name.starts_with('.') || name == "gradebook.csv" || name.ends_with(".partial") || name.contains(['\n', '\r']) {
        return Err(format!("{name:?} is not a student's folder name the gradebook can use: rename it"));
    }
    Ok(())
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
        // Names, statuses and notes come from the students' folders and
        // files: each is written as text a spreadsheet will not run.
        let mut record = vec![crate::escape::cell(&row.student)];
        for exercise in checks::EXERCISES {
            let points = row.points.iter().find(|(id, _)| id == exercise.id).map_or(0, |(_, p)| *p);
            record.push(points.to_string());
        }
        record.extend([
            row.total.to_string(),
            row.max.to_string(),
            row.bonus.to_string(),
            row.bonus_max.to_string(),
            crate::escape::cell(&row.status),
            crate::escape::cell(&row.notes.join("; ")),
        ]);
        writer.write_record(&record).map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
    }
    writer.flush().map_err(|e| format!("cannot write {}: {e}", partial.display()))?;
    drop(writer);
    std::fs::rename(&partial, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_that_are_not_utf8_are_refused_by_name() {
        use std::os::unix::ffi::OsStrExt;
        let class = tempfile::tempdir().unwrap();
        std::fs::create_dir(class.path().join("alice")).unwrap();
        assert_eq!(students(class.path()).unwrap().len(), 1);
        // Two names that a lossy conversion would both show as "b\u{FFFD}b".
        std::fs::create_dir(class.path().join(std::ffi::OsStr::from_bytes(b"b\xffb"))).unwrap();
        std::fs::create_dir(class.path().join(std::ffi::OsStr::from_bytes(b"b\xfeb"))).unwrap();
        let why = students(class.path()).unwrap_err();
        assert!(why.contains("2 submission folder name(s)") && why.contains("not UTF-8") && why.contains("\\xFF"), "{why}");
    }

    #[test]
    fn gradebook_cells_from_students_cannot_be_formulas() {
        let out = tempfile::tempdir().unwrap();
        let row = Row {
            student: "=HYPERLINK(\"http://x\")".to_owned(),
            status: "graded".to_owned(),
            notes: vec!["+1".to_owned(), "b".to_owned()],
            ..Row::default()
        };
        let path = out.path().join("gradebook.csv");
        write_gradebook(&path, &[row]).unwrap();
        let mut reader = csv::Reader::from_path(&path).unwrap();
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(&record[0], "'=HYPERLINK(\"http://x\")");
        assert_eq!(record.iter().next_back().unwrap(), "'+1; b");
    }
}
