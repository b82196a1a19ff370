//! `grader batch SUBMISSIONS`: grades a class.
//!
//! Each folder in SUBMISSIONS is one student's submission: their exercises
//! crate, or only its `src/`. Only the exercise modules are taken from it
//! (`bilinear.rs`, `vgg.rs`, `fcn16s.rs`, `fcn8s.rs`, and the bonus track's
//! `transposed.rs`, `unpooling.rs`, `dilated.rs`, `metrics.rs`); their Cargo.toml,
//! tests, `lib.rs` and any other file are ignored. Each submission is graded
//! in a scratch copy of the kit with those files in place of the stubs. A
//! file that does not compile is put back to its stub (so it costs only its
//! exercise) and the compiler's message is kept in the student's notes.
//!
//! Results: `OUT/<student>/results.json` and `results.md` for each student,
//! and `OUT/gradebook.csv`. A student already graded is skipped unless
//! `--force`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::Value;

/// The modules a student writes; the rest of exercises/src is the kit's.
pub const EXERCISE_FILES: [&str; 8] = [
    "bilinear.rs",
    "vgg.rs",
    "fcn16s.rs",
    "fcn8s.rs",
    "transposed.rs",
    "unpooling.rs",
    "dilated.rs",
    "metrics.rs",
];

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// A folder with one folder per student.
    submissions: PathBuf,

    /// Where the reports and gradebook.csv go.
    #[arg(long, value_name = "DIR", default_value = "target/grader/batch")]
    out: PathBuf,

    /// Students graded at the same time (each in its own scratch kit).
    #[arg(long, short, default_value_t = 1)]
    jobs: usize,

    /// Grade again students who already have results.
    #[arg(long)]
    force: bool,

    /// Leave out the training checks.
    #[arg(long)]
    skip_training: bool,

    /// Seconds each check may run.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    timeout: u64,

    /// The kit's folder.
    #[arg(long, value_name = "DIR", default_value = ".")]
    kit: PathBuf,
}

/// One gradebook row.
#[derive(Debug, Clone, Default)]
struct Row {
    student: String,
    /// Points by exercise id, in course order.
    points: Vec<(String, f64)>,
    /// The core score: the bonus track is apart.
    total: f64,
    max: f64,
    bonus: f64,
    bonus_max: f64,
    status: String,
    notes: Vec<String>,
}

pub fn run(args: BatchArgs) -> Result<(), String> {
    let kit = args.kit.canonicalize().map_err(|e| format!("{}: {e}", args.kit.display()))?;
    if !kit.join("solutions/src").is_dir() {
        return Err(format!("{} is not the kit's folder (no solutions/src); pass --kit", kit.display()));
    }
    let mut students: Vec<PathBuf> = std::fs::read_dir(&args.submissions)
        .map_err(|e| format!("cannot read {}: {e}", args.submissions.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_dir())
        .collect();
    students.sort();
    if students.is_empty() {
        return Err(format!("{} has no submission folders", args.submissions.display()));
    }
    std::fs::create_dir_all(&args.out).map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
    let out = args.out.canonicalize().map_err(|e| e.to_string())?;

    let progress = ProgressBar::new(students.len() as u64).with_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} students {elapsed} {wide_msg}").expect("a valid template"),
    );
    let next = AtomicUsize::new(0);
    let rows = Mutex::new(Vec::new());
    let jobs = args.jobs.clamp(1, students.len());
    std::thread::scope(|scope| {
        for job in 0..jobs {
            let (kit, out, students, args, progress, next, rows) = (&kit, &out, &students, &args, &progress, &next, &rows);
            scope.spawn(move || {
                let scratch = out.join(format!("scratch-{job}"));
                loop {
                    let n = next.fetch_add(1, Ordering::SeqCst);
                    let Some(submission) = students.get(n) else { break };
                    let name = submission.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    progress.set_message(name.clone());
                    let row = grade_one(kit, &scratch, out, submission, &name, args)
                        .unwrap_or_else(|why| Row { student: name.clone(), status: "not graded".into(), notes: vec![why], ..Row::default() });
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

/// The student's exercise sources: in `exercises/src/`, `src/`, or the
/// folder itself.
fn sources(submission: &Path) -> Vec<(String, PathBuf)> {
    let folder = [submission.join("exercises/src"), submission.join("src"), submission.to_owned()]
        .into_iter()
        .find(|f| EXERCISE_FILES.iter().any(|name| f.join(name).is_file()))
        .unwrap_or_else(|| submission.to_owned());
    EXERCISE_FILES
        .iter()
        .map(|name| (name.to_string(), folder.join(name)))
        .filter(|(_, path)| path.is_file())
        .collect()
}

fn grade_one(kit: &Path, scratch: &Path, out: &Path, submission: &Path, name: &str, args: &BatchArgs) -> Result<Row, String> {
    let report_folder = out.join(name);
    let results = report_folder.join("results.json");
    let notes_path = report_folder.join("notes.txt");
    if !args.force && results.exists() {
        let notes = std::fs::read_to_string(&notes_path).unwrap_or_default();
        return row_from(name, &results, notes.lines().map(str::to_owned).collect(), true);
    }
    prepare_scratch(kit, scratch)?;
    let stubs = kit.join("exercises/src");
    let src = scratch.join("exercises/src");
    let mut notes = Vec::new();
    let submitted = sources(submission);
    if submitted.is_empty() {
        notes.push("no exercise files found in the submission".to_owned());
    }
    for name in EXERCISE_FILES {
        let from = submitted.iter().find(|(n, _)| n == name).map_or(stubs.join(name), |(_, p)| p.clone());
        std::fs::copy(&from, src.join(name)).map_err(|e| format!("cannot copy {}: {e}", from.display()))?;
    }
    // Build; put back to its stub each file the compiler rejects, then again.
    // An error outside the exercise files (a changed signature breaks the
    // checks' use of it) names no file: the submitted files are then put
    // back one at a time, in order, until the kit builds.
    let target = scratch.join("target");
    let mut suspects: Vec<String> = submitted.iter().map(|(n, _)| n.clone()).collect();
    loop {
        let failing = build(scratch, &target)?;
        if failing.is_empty() {
            break;
        }
        for (file, message) in failing {
            let file = if file.is_empty() {
                if suspects.is_empty() {
                    return Err(format!("the kit does not build with the stubs: {message}"));
                }
                let file = suspects.remove(0);
                notes.push(format!("{file} does not fit the exercises' API, graded as not attempted: {message}"));
                file
            } else {
                suspects.retain(|s| *s != file);
                notes.push(format!("{file} does not compile, graded as not attempted: {message}"));
                file
            };
            std::fs::copy(stubs.join(&file), src.join(&file)).map_err(|e| e.to_string())?;
        }
    }
    std::fs::create_dir_all(&report_folder).map_err(|e| e.to_string())?;
    let mut grader = Command::new(target.join("debug/grader"));
    grader.current_dir(scratch).arg("--json").arg(&results).args(["--timeout", &args.timeout.to_string()]);
    if args.skip_training {
        grader.arg("--skip-training");
    }
    let output = grader.output().map_err(|e| format!("cannot run the grader: {e}"))?;
    std::fs::write(report_folder.join("report.txt"), &output.stdout).map_err(|e| e.to_string())?;
    if !output.status.success() {
        notes.push(format!("the grader failed: {}", String::from_utf8_lossy(&output.stderr).trim()));
    }
    std::fs::write(&notes_path, notes.join("\n")).map_err(|e| e.to_string())?;
    row_from(name, &results, notes, false)
}

/// A scratch copy of the kit's sources (not its build folder), made once per
/// job and reused.
fn prepare_scratch(kit: &Path, scratch: &Path) -> Result<(), String> {
    for entry in ["Cargo.toml", "Cargo.lock", ".cargo", ".libtorch", "exercises", "solutions", "tests", "grader", "fcn-kit", "libtorch-link", "training", "data"] {
        let (from, to) = (kit.join(entry), scratch.join(entry));
        if entry == ".libtorch" || entry == "data" {
            if !to.exists() && from.exists() {
                std::fs::create_dir_all(scratch).map_err(|e| e.to_string())?;
                std::os::unix::fs::symlink(from.canonicalize().map_err(|e| e.to_string())?, &to).map_err(|e| e.to_string())?;
            }
        } else if from.is_dir() {
            copy_tree(&from, &to)?;
        } else if from.exists() {
            std::fs::create_dir_all(scratch).map_err(|e| e.to_string())?;
            std::fs::copy(&from, &to).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    for entry in std::fs::read_dir(from).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.file_name().is_some_and(|n| n == "target") {
            continue;
        }
        let dest = to.join(path.file_name().expect("an entry has a name"));
        if path.is_dir() {
            copy_tree(&path, &dest)?;
        } else {
            // Keep the modification time of unchanged files, so that cargo
            // does not rebuild what did not change.
            let same = std::fs::read(&dest).ok() == std::fs::read(&path).ok();
            if !same {
                std::fs::copy(&path, &dest).map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(())
}

/// Builds the scratch kit's grader; the exercise files that fail to compile,
/// each with the compiler's first error.
fn build(scratch: &Path, target: &Path) -> Result<Vec<(String, String)>, String> {
    let output = Command::new("cargo")
        .current_dir(scratch)
        .args(["build", "-p", "grader", "--message-format=json"])
        .env("CARGO_TARGET_DIR", target)
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if output.status.success() {
        return Ok(Vec::new());
    }
    let mut failing: Vec<(String, String)> = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else { continue };
        let diagnostic = &message["message"];
        if message["reason"] != "compiler-message" || diagnostic["level"] != "error" {
            continue;
        }
        for span in diagnostic["spans"].as_array().into_iter().flatten() {
            let file = span["file_name"].as_str().unwrap_or_default();
            if let Some(name) = EXERCISE_FILES.iter().find(|name| file.ends_with(&format!("exercises/src/{name}"))) {
                if !failing.iter().any(|(f, _)| f == name) {
                    let text = diagnostic["rendered"].as_str().unwrap_or_default();
                    failing.push((name.to_string(), text.lines().next().unwrap_or_default().to_owned()));
                }
            }
        }
    }
    if failing.is_empty() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr.lines().find(|l| l.starts_with("error")).unwrap_or("an error").to_owned();
        return Ok(vec![(String::new(), first)]);
    }
    Ok(failing)
}

fn row_from(student: &str, results: &Path, notes: Vec<String>, resumed: bool) -> Result<Row, String> {
    let json: Value = serde_json::from_str(&std::fs::read_to_string(results).map_err(|e| format!("{}: {e}", results.display()))?)
        .map_err(|e| format!("{}: {e}", results.display()))?;
    let mut points: Vec<(String, f64)> = checks::EXERCISES.iter().map(|e| (e.id.to_owned(), 0.0)).collect();
    for test in json["tests"].as_array().into_iter().flatten() {
        let exercise = test["tags"][0].as_str().unwrap_or_default();
        if let Some((_, sum)) = points.iter_mut().find(|(id, _)| id == exercise) {
            *sum += test["score"].as_f64().unwrap_or(0.0);
        }
    }
    let status = if notes.iter().any(|n| n.contains("graded as not attempted")) { "graded, with compile errors" } else { "graded" };
    Ok(Row {
        student: student.to_owned(),
        points,
        total: json["score"].as_f64().unwrap_or(0.0),
        max: json["max_score"].as_f64().unwrap_or(0.0),
        bonus: json["extra_data"]["bonus_score"].as_f64().unwrap_or(0.0),
        bonus_max: json["extra_data"]["bonus_max_score"].as_f64().unwrap_or(0.0),
        status: if resumed { format!("{status} (earlier run)") } else { status.to_owned() },
        notes,
    })
}

fn write_gradebook(path: &Path, rows: &[Row]) -> Result<(), String> {
    let mut writer = csv::Writer::from_path(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let mut header = vec!["student".to_owned()];
    header.extend(checks::EXERCISES.iter().map(|e| e.id.to_owned()));
    header.extend(["total", "max", "bonus", "bonus max", "status", "notes"].map(str::to_owned));
    writer.write_record(&header).map_err(|e| e.to_string())?;
    for row in rows {
        let mut record = vec![row.student.clone()];
        for exercise in checks::EXERCISES {
            let points = row.points.iter().find(|(id, _)| id == exercise.id).map_or(0.0, |(_, p)| *p);
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
        writer.write_record(&record).map_err(|e| e.to_string())?;
    }
    writer.flush().map_err(|e| e.to_string())
}
