//! Runners built on one machine and graded on another.
//!
//! Building a runner needs Rust, the runner's build tree and bubblewrap;
//! running one needs libtorch, bubblewrap and, for the training checks, a
//! GPU. A machine may have one set and not the other (a cluster's CPU and
//! GPU nodes; a GPU machine with PyTorch and no Rust). `grader --build-only
//! DIR` builds a submission's runner into DIR: the binary (`runner`,
//! stripped of its debug information where `strip` is at hand) and a record
//! (`build.json`) of the submission's files it was built from and what the
//! build did to them. `grader --runner DIR` then grades that submission
//! with it, wherever DIR is carried, and refuses a runner built from other
//! files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::compile::RunnerKit;
use crate::files::write;
use crate::sandbox::Sandbox;
use crate::submission::Submitted;
use anyhow::Context;

/// The runner's file in the folder.
pub const BINARY: &str = "runner";
/// The record's file in the folder.
pub const RECORD: &str = "build.json";

/// What `build.json` says.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    /// The digest of the submission's files (`Submitted::digest`).
    digest: String,
    /// What the screen and the build did to the files.
    notes: Vec<String>,
    /// Whether it was built in the sandbox, which it then runs in: it finds
    /// libtorch where the sandbox mounts it.
    sandboxed: bool,
}

/// A runner built before, for the submission being graded.
pub struct Prebuilt {
    pub binary: PathBuf,
    pub notes: Vec<String>,
}

/// Builds `submitted`'s runner with `runner_kit` into `folder` (made if
/// needed).
pub fn build(runner_kit: &RunnerKit, submitted: &Submitted, timeout: Duration, folder: &Path) -> anyhow::Result<()> {
    let (built, notes) = runner_kit.build_screened(submitted, timeout)?;
    crate::files::create_folder(folder)?;
    let binary = folder.join(BINARY);
    let _ = std::fs::remove_file(&binary);
    std::fs::copy(&built.binary, &binary)
        .with_context(|| format!("cannot copy the runner to {}", binary.display()))?;
    // The debug information is most of a runner's size; what is carried to
    // another machine is smaller without it. Without `strip`, it stays.
    let _ = std::process::Command::new("strip")
        .arg("--strip-debug")
        .arg(&binary)
        .stderr(std::process::Stdio::null())
        .status();
    let record = Record { digest: submitted.digest(), notes, sandboxed: runner_kit.sandbox.is_sandboxed() };
    write(&folder.join(RECORD), serde_json::to_string_pretty(&record).expect("a record serialises"))
}

/// The runner built in `folder` for `submitted`, to run in `sandbox`.
pub fn open(folder: &Path, submitted: &Submitted, sandbox: &Sandbox) -> anyhow::Result<Prebuilt> {
    let record_file = folder.join(RECORD);
    let text = std::fs::read_to_string(&record_file).map_err(|e| {
        anyhow::anyhow!("no runner built in {} ({}: {e}); build one with `grader --build-only`", folder.display(), RECORD)
    })?;
    let record: Record =
        serde_json::from_str(&text).with_context(|| format!("{} is not a runner's build record", record_file.display()))?;
    if record.digest != submitted.digest() {
        anyhow::bail!(
            "the runner in {} was built from other files than the submission's: build it again with `grader --build-only`",
            folder.display()
        );
    }
    if record.sandboxed != sandbox.is_sandboxed() {
        let built = if record.sandboxed { "in the sandbox" } else { "without the sandbox" };
        anyhow::bail!("the runner in {} was built {built}, and runs only so: grade it the same way", folder.display());
    }
    let binary = folder.join(BINARY);
    if !binary.is_file() {
        anyhow::bail!("{} has a build record but no runner ({})", folder.display(), binary.display());
    }
    Ok(Prebuilt { binary, notes: record.notes })
}
