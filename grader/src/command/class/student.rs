//! One student of a class, graded into their folder of the class's output.

use std::path::Path;

use checks::Settings;

use super::rows::{RECORD, Row, record, row_of, usable_name};
use crate::compile::RunnerKit;
use crate::files::write;
use crate::report;
use anyhow::Context;

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
) -> anyhow::Result<Row> {
    usable_name(name)?;
    let folder = out.join(name);
    if std::fs::symlink_metadata(submission).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(anyhow::anyhow!("the submission folder is a symbolic link, which is not followed"));
    }
    let submitted = crate::submission::read(submission);
    let digest = submitted.digest();
    if !force {
        if let Some(row) = record(out, name, &digest) {
            return Ok(Row { status: format!("{} (earlier run)", row.status), ..row });
        }
    }
    std::fs::create_dir_all(&folder).with_context(|| format!("cannot create {}", folder.display()))?;
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

