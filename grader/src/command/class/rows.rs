//! A class's results: each student's row and the record that lets a later
//! run skip them, and the gradebook made from the rows.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::report::Run;
use anyhow::Context;

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
pub const RECORD: &str = "grading.json";

impl Row {
    /// The row of a student who has no grade, and why.
    pub fn not_graded(student: &str, why: String) -> Row {
        Row { student: student.to_owned(), status: "not graded".into(), notes: vec![why], ..Row::default() }
    }
}

/// Writes the gradebook of `rows` and prints them.
pub fn finish(out: &Path, mut rows: Vec<Row>) -> anyhow::Result<()> {
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
pub fn students(submissions: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(submissions).with_context(|| format!("cannot read {}", submissions.display()))?;
    let mut students: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir() || m.file_type().is_symlink()))
        .collect();
    students.sort();
    if students.is_empty() {
        return Err(anyhow::anyhow!("{} has no submission folders", submissions.display()));
    }
    // A name is a student's row, folder in OUT and Slurm task: one that is
    // not UTF-8 would be shown converted, and two such could share all three.
    let unreadable: Vec<String> =
        students.iter().filter(|s| s.file_name().and_then(|n| n.to_str()).is_none()).map(|s| format!("{s:?}")).collect();
    if !unreadable.is_empty() {
        return Err(anyhow::anyhow!(
            "{} submission folder name(s) in {} are not UTF-8, so the gradebook cannot name them apart: rename {}",
            unreadable.len(),
            submissions.display(),
            unreadable.join(", ")
        ));
    }
    Ok(students)
}

/// The record of `name`'s grading in `out`, if it is of the files with
/// `digest`. A record is read strictly: one that does not parse, or is of
/// someone else, is none.
pub fn record(out: &Path, name: &str, digest: &str) -> Option<Row> {
    let json = std::fs::read_to_string(out.join(name).join(RECORD)).ok()?;
    serde_json::from_str::<Row>(&json).ok().filter(|row| row.digest == digest && row.student == name)
}

/// Whether `name` is a folder name a student's grading can be kept under.
pub fn usable_name(name: &str) -> anyhow::Result<()> {
    if name.starts_with('.') || name == "gradebook.csv" || name.ends_with(".partial") || name.contains(['\n', '\r']) {
        return Err(anyhow::anyhow!("{name:?} is not a student's folder name the gradebook can use: rename it"));
    }
    Ok(())
}

pub fn row_of(student: &str, digest: &str, run: &Run) -> Row {
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

fn write_gradebook(path: &Path, rows: &[Row]) -> anyhow::Result<()> {
    let partial = path.with_extension("csv.partial");
    let mut writer = csv::Writer::from_path(&partial).with_context(|| format!("cannot write {}", partial.display()))?;
    let mut header = vec!["student".to_owned()];
    header.extend(checks::EXERCISES.iter().map(|e| e.id.to_owned()));
    header.extend(["total", "max", "bonus", "bonus max", "status", "notes"].map(str::to_owned));
    writer.write_record(&header).with_context(|| format!("cannot write {}", partial.display()))?;
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
        writer.write_record(&record).with_context(|| format!("cannot write {}", partial.display()))?;
    }
    writer.flush().with_context(|| format!("cannot write {}", partial.display()))?;
    drop(writer);
    std::fs::rename(&partial, path).with_context(|| format!("cannot write {}", path.display()))
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
        let why = format!("{:#}", students(class.path()).unwrap_err());
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
