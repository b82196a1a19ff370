//! Building a runner from a student's exercise files.
//!
//! The runner's build tree is the grader's own: a workspace of the hand-out's
//! crates alone (`exercises` with the stubs, `fcn-common`, `fcn-train`,
//! `libtorch-link`, `runner`, `runner-protocol`, `student-api`), their dependencies vendored, and a cargo
//! home whose only configuration is the grader's. No reference, hidden check,
//! grader source or hidden data is in it. It is prepared and built once (the
//! template, cached under the grader's folder); each submission is then built
//! in a fresh copy of it, with the student's files in place of the stubs,
//! `--locked --offline`, in the sandbox, under a time limit. A student file
//! the compiler rejects is put back to its stub, so it costs its own
//! exercise only.

mod blame;
mod build;
mod folders;
mod template;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::files::write;
use crate::sandbox::Sandbox;
use crate::submission::Submitted;

use blame::{api_of, blame, first_errors};
use folders::{BUILD_PREFIX, IN_USE, Lock, absolute, sweep};
use anyhow::Context;

/// The crates a runner is built from, as the kit has them.
pub(crate) const CRATES: [&str; 7] = ["exercises", "fcn-common", "fcn-train", "libtorch-link", "runner", "runner-protocol", "student-api"];
/// Memory one process of a runner's build may allocate, in MiB.
pub const BUILD_MEMORY_MIB: u64 = 4096;

/// Where the sandboxed build sees its tree, the vendored sources and libtorch.
const BUILD: &str = "/build";
const VENDOR: &str = "/vendor";
/// The template and what building in it needs.
pub struct RunnerKit {
    template: PathBuf,
    vendor: PathBuf,
    builds: PathBuf,
    pub libtorch: PathBuf,
    sysroot: PathBuf,
    pub sandbox: Sandbox,
    /// The stub of each exercise file, by file name.
    stubs: Vec<(String, String)>,
}

/// A runner built for one submission; the build folder goes with it.
pub struct Built {
    pub binary: PathBuf,
    /// What happened to the student's files: each file put back to its stub, and why.
    pub notes: Vec<String>,
    _folder: tempfile::TempDir,
    /// Held while the folder is in use (see [`sweep`]); released after it
    /// is removed.
    _in_use: Lock,
}


impl RunnerKit {
    /// The template in `cache`, prepared and built now unless it already is
    /// for these sources, this libtorch, this toolchain and this sandbox.
    pub fn prepare(kit: &Path, cache: &Path, sandbox: Sandbox) -> anyhow::Result<RunnerKit> {
        let (runner_kit, sources, stamp) = RunnerKit::describe(kit, cache, sandbox)?;
        // One grader prepares the template at a time; the others wait, then
        // find it ready.
        let _lock = Lock::take(&runner_kit.template.with_file_name(".lock"))?;
        let stamp_file = runner_kit.template.join(".prepared");
        if std::fs::read_to_string(&stamp_file).ok().as_deref() == Some(stamp.as_str()) {
            return Ok(runner_kit);
        }
        let cache = runner_kit.template.parent().expect("the template is in a folder").to_owned();
        eprintln!("grader: preparing the runner's build tree in {} (once; a few minutes)", cache.display());
        for folder in [&runner_kit.template, &runner_kit.vendor] {
            if folder.exists() {
                std::fs::remove_dir_all(folder).with_context(|| format!("cannot remove {}", folder.display()))?;
            }
        }
        for (path, contents) in &sources {
            write(&runner_kit.template.join(path), contents)?;
        }
        runner_kit.vendor(kit)?;
        write(&runner_kit.template.join(".cargo-home/config.toml"), runner_kit.cargo_config().as_bytes())?;
        runner_kit.build(&runner_kit.template, Duration::from_secs(3600)).and_then(|(ok, diagnostics)| {
            if ok { Ok(()) } else { Err(anyhow::anyhow!("the runner does not build with the stubs:\n{}", first_errors(&diagnostics))) }
        })?;
        write(&stamp_file, stamp.as_bytes())?;
        Ok(runner_kit)
    }

    /// The template in `cache`, which must be prepared already (by
    /// [`RunnerKit::prepare`]) for these sources: it is only read, never
    /// written, so that graders on many machines can share it. Each
    /// submission is built in a folder of its own in `builds`.
    pub fn open(kit: &Path, cache: &Path, sandbox: Sandbox, builds: &Path) -> anyhow::Result<RunnerKit> {
        let (runner_kit, _, stamp) = RunnerKit::describe(kit, cache, sandbox)?;
        let stamp_file = runner_kit.template.join(".prepared");
        if std::fs::read_to_string(&stamp_file).ok().as_deref() != Some(stamp.as_str()) {
            return Err(anyhow::anyhow!(
                "the runner's build tree in {} is not prepared for this kit (or this sandbox): `grader batch --slurm` \
                 prepares it before it submits the tasks",
                runner_kit.template.display()
            ));
        }
        Ok(RunnerKit { builds: absolute(builds)?, ..runner_kit })
    }

    /// Screens `submitted` (a bonus file that calls the operation it must
    /// build from scratch is graded as not attempted, before anything of it
    /// is built) and builds its runner: the runner, and what happened to
    /// the files.
    pub fn build_screened(&self, submitted: &Submitted, timeout: Duration) -> anyhow::Result<(Built, Vec<String>)> {
        let (screened, mut notes) = crate::scratch::screen(submitted);
        let built = self.build_runner(&screened, timeout)?;
        notes.extend(built.notes.iter().cloned());
        Ok((built, notes))
    }

    /// Builds a runner from `submitted` (the other exercise files stay
    /// stubs). A file the compiler rejects goes back to its stub and is
    /// named in the notes; a build that runs past `timeout` puts the
    /// submitted files back one at a time.
    pub fn build_runner(&self, submitted: &Submitted, timeout: Duration) -> anyhow::Result<Built> {
        std::fs::create_dir_all(&self.builds).with_context(|| format!("cannot create {}", self.builds.display()))?;
        sweep(&self.builds);
        let folder = tempfile::Builder::new()
            .prefix(BUILD_PREFIX)
            .tempdir_in(&self.builds)
            .with_context(|| format!("cannot make a build folder in {}", self.builds.display()))?;
        let in_use = Lock::take(&folder.path().join(IN_USE))?;
        let tree = folder.path().join("tree");
        let copied = Command::new("cp")
            .args(["-a", "--reflink=auto"])
            .arg(&self.template)
            .arg(&tree)
            .status()
            .context("cannot copy the runner's template")?;
        if !copied.success() {
            return Err(anyhow::anyhow!("cannot copy {} to {}", self.template.display(), tree.display()));
        }
        let src = tree.join("exercises/src");
        for (name, contents) in &submitted.files {
            write(&src.join(name), contents.as_bytes())?;
        }
        let mut notes = Vec::new();
        let mut suspects: Vec<String> = submitted.files.iter().map(|(n, _)| n.clone()).collect();
        loop {
            let (blamed, why) = match self.build(&tree, timeout) {
                Ok((true, _)) => break,
                Ok((false, diagnostics)) => {
                    let blamed = blame(&diagnostics, &api_of(&self.stubs));
                    let blamed: Vec<(String, String)> = blamed.into_iter().filter(|(file, _)| suspects.contains(file)).collect();
                    if blamed.is_empty() {
                        (Vec::new(), first_errors(&diagnostics))
                    } else {
                        (blamed, String::new())
                    }
                }
                Err(why) => (Vec::new(), format!("{why:#}")),
            };
            let blamed = if blamed.is_empty() {
                // Nothing names a student file: put them back one at a time.
                if suspects.is_empty() {
                    return Err(anyhow::anyhow!("the runner does not build with the stubs: {why}"));
                }
                vec![(suspects[0].clone(), format!("the build failed and no message names a file: {why}"))]
            } else {
                blamed
            };
            for (file, message) in blamed {
                suspects.retain(|s| *s != file);
                let stub = &self.stubs.iter().find(|(n, _)| *n == file).expect("an exercise file has a stub").1;
                write(&src.join(&file), stub.as_bytes())?;
                notes.push(format!("{file} does not compile, graded as not attempted: {}", runner_protocol::clean_message(&message)));
            }
        }
        Ok(Built { binary: tree.join("target/debug/runner"), notes, _folder: folder, _in_use: in_use })
    }
}
