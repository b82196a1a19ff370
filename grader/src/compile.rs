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

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};
use wait_timeout::ChildExt;

use crate::files::{walk, write};
use crate::sandbox::{Mount, ResourceLimits, Sandbox};
use crate::submission::{EXERCISE_FILES, Submitted};

/// The crates a runner is built from, as the kit has them.
const CRATES: [&str; 7] = ["exercises", "fcn-common", "fcn-train", "libtorch-link", "runner", "runner-protocol", "student-api"];
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


fn sysroot() -> Result<PathBuf, String> {
    let output = Command::new("rustc").args(["--print", "sysroot"]).output().map_err(|e| format!("cannot run rustc: {e}"))?;
    let root = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    if !output.status.success() || !root.join("bin/cargo").is_file() {
        return Err(format!("rustc's sysroot {} has no bin/cargo", root.display()));
    }
    root.canonicalize().map_err(|e| format!("{}: {e}", root.display()))
}

impl RunnerKit {
    /// The template in `cache`, prepared and built now unless it already is
    /// for these sources, this libtorch, this toolchain and this sandbox.
    pub fn prepare(kit: &Path, cache: &Path, sandbox: Sandbox) -> Result<RunnerKit, String> {
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
                std::fs::remove_dir_all(folder).map_err(|e| format!("cannot remove {}: {e}", folder.display()))?;
            }
        }
        for (path, contents) in &sources {
            write(&runner_kit.template.join(path), contents)?;
        }
        runner_kit.vendor(kit)?;
        write(&runner_kit.template.join(".cargo-home/config.toml"), runner_kit.cargo_config().as_bytes())?;
        runner_kit.build(&runner_kit.template, Duration::from_secs(3600)).and_then(|(ok, diagnostics)| {
            if ok { Ok(()) } else { Err(format!("the runner does not build with the stubs:\n{}", first_errors(&diagnostics))) }
        })?;
        write(&stamp_file, stamp.as_bytes())?;
        Ok(runner_kit)
    }

    /// The template in `cache`, which must be prepared already (by
    /// [`RunnerKit::prepare`]) for these sources: it is only read, never
    /// written, so that graders on many machines can share it. Each
    /// submission is built in a folder of its own in `builds`.
    pub fn open(kit: &Path, cache: &Path, sandbox: Sandbox, builds: &Path) -> Result<RunnerKit, String> {
        let (runner_kit, _, stamp) = RunnerKit::describe(kit, cache, sandbox)?;
        let stamp_file = runner_kit.template.join(".prepared");
        if std::fs::read_to_string(&stamp_file).ok().as_deref() != Some(stamp.as_str()) {
            return Err(format!(
                "the runner's build tree in {} is not prepared for this kit (or this sandbox): `grader batch --slurm` \
                 prepares it before it submits the tasks",
                runner_kit.template.display()
            ));
        }
        Ok(RunnerKit { builds: absolute(builds)?, ..runner_kit })
    }

    /// The runner kit for `kit` in `cache`, its template's files, and the
    /// stamp a template prepared for them carries.
    #[allow(clippy::type_complexity)]
    fn describe(kit: &Path, cache: &Path, sandbox: Sandbox) -> Result<(RunnerKit, Vec<(PathBuf, Vec<u8>)>, String), String> {
        let libtorch = crate::kit::libtorch(kit)?;
        let sysroot = sysroot()?;
        let stubs: Vec<(String, String)> = crate::stubs::generated(kit)?
            .into_iter()
            .map(|(path, contents)| (path.file_name().expect("a file").to_string_lossy().into_owned(), contents))
            .collect();
        // A template per kind of isolation: their paths differ, and so do
        // their builds.
        let cache = absolute(&cache.join(if sandbox.is_sandboxed() { "sandboxed" } else { "unsandboxed" }))?;
        let runner_kit = RunnerKit {
            template: cache.join("template"),
            vendor: cache.join("vendor"),
            builds: cache.join("builds"),
            libtorch,
            sysroot,
            sandbox,
            stubs,
        };
        let sources = runner_kit.sources(kit)?;
        let mut digest = Sha256::new();
        for (path, contents) in &sources {
            digest.update(path.to_string_lossy().as_bytes());
            digest.update((contents.len() as u64).to_le_bytes());
            digest.update(contents);
        }
        digest.update(runner_kit.libtorch.to_string_lossy().as_bytes());
        digest.update(runner_kit.sysroot.to_string_lossy().as_bytes());
        digest.update([runner_kit.sandbox.is_sandboxed() as u8]);
        let stamp = format!("{:x}", digest.finalize());
        Ok((runner_kit, sources, stamp))
    }

    /// The template's files: (path in the template, contents).
    fn sources(&self, kit: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
        let mut files = Vec::new();
        for name in CRATES {
            let from = kit.join(name);
            let mut add = |relative: &Path| -> Result<(), String> {
                let path = from.join(relative);
                let contents = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                files.push((Path::new(name).join(relative), contents));
                Ok(())
            };
            add(Path::new("Cargo.toml"))?;
            if from.join("build.rs").is_file() {
                add(Path::new("build.rs"))?;
            }
            if name == "exercises" {
                add(Path::new("src/lib.rs"))?;
                continue;
            }
            for file in walk(&from.join("src"))? {
                add(file.strip_prefix(&from).expect("under the crate"))?;
            }
        }
        for (file, stub) in &self.stubs {
            files.push((Path::new("exercises/src").join(file), stub.clone().into_bytes()));
        }
        for (path, contents) in &mut files {
            if path.as_path() == Path::new("exercises/Cargo.toml") {
                *contents = crate::manifest::without_section(&String::from_utf8_lossy(contents), "[dev-dependencies]").into_bytes();
            }
        }
        let manifest = std::fs::read_to_string(kit.join("Cargo.toml")).map_err(|e| format!("cannot read the kit's Cargo.toml: {e}"))?;
        files.push((PathBuf::from("Cargo.toml"), crate::manifest::workspace_of(&manifest, &CRATES)?.into_bytes()));
        let lock = std::fs::read(kit.join("Cargo.lock")).map_err(|e| format!("cannot read the kit's Cargo.lock: {e}"))?;
        files.push((PathBuf::from("Cargo.lock"), lock));
        Ok(files)
    }

    /// Copies the dependencies' sources out of cargo's cache (fetching from
    /// crates.io those cargo has never needed here, such as other
    /// platforms' crates): the sandboxed builds read them from there and
    /// from nowhere else.
    fn vendor(&self, kit: &Path) -> Result<(), String> {
        let vendor = |offline: bool| {
            Command::new("cargo")
                .current_dir(&self.template)
                .args(["vendor", "--quiet"])
                .args(offline.then_some("--offline"))
                .arg(&self.vendor)
                .env_remove("CARGO_TARGET_DIR")
                .stdout(Stdio::null())
                .output()
                .map_err(|e| format!("cannot run cargo vendor: {e}"))
        };
        let mut output = vendor(true)?;
        if !output.status.success() {
            output = vendor(false)?;
        }
        if !output.status.success() {
            return Err(format!(
                "cargo vendor failed in {} (the kit's dependencies must be in cargo's cache: build the kit once, e.g. `make setup` then `cargo build -p grader`, in {}): {}",
                self.template.display(),
                kit.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        Ok(())
    }

    fn cargo_config(&self) -> String {
        let vendor = if self.sandbox.is_sandboxed() { PathBuf::from(VENDOR) } else { self.vendor.clone() };
        format!(
            "# The runner's build: the vendored sources only, never the network.\n\
             [source.crates-io]\nreplace-with = \"vendored\"\n\n[source.vendored]\ndirectory = \"{}\"\n\n[net]\noffline = true\n",
            vendor.display()
        )
    }

    /// Builds the runner in `tree`; whether it built, and cargo's JSON
    /// messages. Stopped at `timeout`.
    fn build(&self, tree: &Path, timeout: Duration) -> Result<(bool, String), String> {
        let mut mounts = vec![
            Mount::writable(tree, BUILD),
            Mount::read_only(&self.vendor, VENDOR),
            Mount::read_only(&self.sysroot, &self.sysroot),
        ];
        mounts.extend(crate::sandbox::libtorch_mounts(&self.libtorch));
        let root = self.sandbox.path_of(&mounts[0]).to_owned();
        let bin = self.sysroot.join("bin");
        let env = [
            ("PATH", format!("{}:/usr/bin:/bin", bin.display())),
            ("HOME", "/tmp".to_owned()),
            ("CARGO_HOME", root.join(".cargo-home").display().to_string()),
            ("CARGO_TARGET_DIR", root.join("target").display().to_string()),
            ("RUSTC", bin.join("rustc").display().to_string()),
            ("LIBTORCH", self.sandbox.path_of(&mounts[3]).display().to_string()),
            ("CARGO_TERM_COLOR", "never".to_owned()),
        ];
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
        let limits = ResourceLimits {
            // Each process of the build (rustc on a student's file, a
            // constant-evaluation or macro bomb, a huge include_bytes!) may
            // allocate this much; the runner's crates need under a gigabyte.
            memory_mib: Some(BUILD_MEMORY_MIB),
            file_mib: Some(4096),
            // No student code runs in a build: the compiler's processes
            // need no limit of their own.
            processes: None,
            open_files: Some(4096),
            cpu_seconds: Some(timeout.as_secs() * cores + 60),
        };
        let mut command = self.sandbox.command(
            &bin.join("cargo"),
            &["build", "--locked", "--offline", "-p", "runner", "--message-format=json"],
            &mounts,
            &env,
            &root,
            limits,
        );
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the runner's build: {e}"))?;
        // Read both pipes while waiting, so that a chatty build cannot block.
        let (mut out, mut err) = (child.stdout.take().expect("piped"), child.stderr.take().expect("piped"));
        let stdout = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = out.by_ref().take(64 << 20).read_to_string(&mut text);
            text
        });
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = err.by_ref().take(16 << 20).read_to_string(&mut text);
            text
        });
        let status = child.wait_timeout(timeout).map_err(|e| format!("cannot wait for the runner's build: {e}"))?;
        // The build itself (bubblewrap, whose sandbox dies with it: its pid
        // namespace goes, and every process in it) and its process group
        // (unsandboxed): a build blocked on its own pipe ends here too.
        let _ = child.kill();
        crate::sandbox::kill_group(&child);
        let status = match status {
            Some(status) => status,
            None => {
                let _ = child.wait();
                return Err(format!("the build did not finish in {} s", timeout.as_secs()));
            }
        };
        let (stdout, stderr) = (stdout.join().unwrap_or_default(), stderr.join().unwrap_or_default());
        Ok((status.success(), if status.success() { stdout } else { format!("{stdout}\n{stderr}") }))
    }

    /// Builds a runner from `submitted` (the other exercise files stay
    /// stubs). A file the compiler rejects goes back to its stub and is
    /// named in the notes; a build that runs past `timeout` puts the
    /// submitted files back one at a time.
    /// Screens `submitted` (a bonus file that calls the operation it must
    /// build from scratch is graded as not attempted, before anything of it
    /// is built) and builds its runner: the runner, and what happened to
    /// the files.
    pub fn build_screened(&self, submitted: &Submitted, timeout: Duration) -> Result<(Built, Vec<String>), String> {
        let (screened, mut notes) = crate::scratch::screen(submitted);
        let built = self.build_runner(&screened, timeout)?;
        notes.extend(built.notes.iter().cloned());
        Ok((built, notes))
    }

    pub fn build_runner(&self, submitted: &Submitted, timeout: Duration) -> Result<Built, String> {
        std::fs::create_dir_all(&self.builds).map_err(|e| format!("cannot create {}: {e}", self.builds.display()))?;
        sweep(&self.builds);
        let folder = tempfile::Builder::new()
            .prefix(BUILD_PREFIX)
            .tempdir_in(&self.builds)
            .map_err(|e| format!("cannot make a build folder in {}: {e}", self.builds.display()))?;
        let in_use = Lock::take(&folder.path().join(IN_USE))?;
        let tree = folder.path().join("tree");
        let copied = Command::new("cp")
            .args(["-a", "--reflink=auto"])
            .arg(&self.template)
            .arg(&tree)
            .status()
            .map_err(|e| format!("cannot copy the runner's template: {e}"))?;
        if !copied.success() {
            return Err(format!("cannot copy {} to {}", self.template.display(), tree.display()));
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
                Err(why) => (Vec::new(), why),
            };
            let blamed = if blamed.is_empty() {
                // Nothing names a student file: put them back one at a time.
                if suspects.is_empty() {
                    return Err(format!("the runner does not build with the stubs: {why}"));
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

/// A build folder's name starts so, in the builds folder.
const BUILD_PREFIX: &str = "build-";
/// The file in a build folder whose lock its grader holds while it builds and
/// grades.
const IN_USE: &str = ".in-use";
/// How old a build folder's lock file must be before a sweep may take it.
const SETTLED: Duration = Duration::from_secs(if cfg!(test) { 0 } else { 60 });

/// Removes the build folders in `builds` that no grader holds: what a grader
/// that was killed left behind (its folder's lock went with it). Only
/// folders of the grader's own (a name it gives, with its lock file in) are
/// touched, so a builds folder shared with others (a node's /tmp) is safe.
fn sweep(builds: &Path) {
    let Ok(entries) = std::fs::read_dir(builds) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let ours = entry.file_name().to_str().is_some_and(|n| n.starts_with(BUILD_PREFIX))
            && std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
        // A folder made a moment ago may not have its lock yet.
        let settled = std::fs::metadata(path.join(IN_USE))
            .and_then(|m| m.modified())
            .is_ok_and(|made| made.elapsed().is_ok_and(|age| age >= SETTLED));
        if !ours || !settled {
            continue;
        }
        if let Some(_stale) = Lock::try_take(&path.join(IN_USE)) {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// An exclusive lock on a file, held until dropped.
struct Lock {
    _file: std::fs::File,
}

impl Lock {
    /// The lock on `path` if no one holds it, without waiting; `None` if
    /// someone does, or the file is not there.
    fn try_take(path: &Path) -> Option<Lock> {
        use std::os::fd::AsRawFd;
        let file = std::fs::OpenOptions::new().write(true).open(path).ok()?;
        // SAFETY: flock on a descriptor this function owns.
        (unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0).then_some(Lock { _file: file })
    }

    fn take(path: &Path) -> Result<Lock, String> {
        use std::os::fd::AsRawFd;
        let file = std::fs::File::create(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        // SAFETY: flock on a descriptor this function owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(format!("cannot lock {}: {}", path.display(), std::io::Error::last_os_error()));
        }
        Ok(Lock { _file: file })
    }
}

/// Which student files the compiler's errors are about, each with its
/// first error line. An error that involves two files (a call in one, the
/// definition in another) is the definition's: the caller uses the API as
/// the exercises define it. An error in the kit's own code (the runner, the
/// worked example) is the file of the student function it calls; `api`
/// maps each public function of the exercises to its file.
fn blame(diagnostics: &str, api: &[(String, String)]) -> Vec<(String, String)> {
    let mut blamed: Vec<(String, String)> = Vec::new();
    for line in diagnostics.lines() {
        let Ok(message) = serde_json::from_str::<Value>(line) else { continue };
        let diagnostic = &message["message"];
        if message["reason"] != "compiler-message" || diagnostic["level"] != "error" {
            continue;
        }
        let first_line = diagnostic["rendered"].as_str().unwrap_or_default().lines().next().unwrap_or_default().to_owned();
        let mut spans = Vec::new();
        collect_spans(diagnostic, &mut spans);
        let file_of = |span: &Value| {
            let path = span["file_name"].as_str().unwrap_or_default();
            EXERCISE_FILES.iter().find(|name| path.ends_with(&format!("exercises/src/{name}"))).map(|n| n.to_string())
        };
        let primary = spans.iter().find(|s| s["is_primary"] == true).cloned();
        let mut files: Vec<String> = Vec::new();
        for span in &spans {
            if let Some(file) = file_of(span).filter(|f| !files.contains(f)) {
                files.push(file);
            }
        }
        let culprits: Vec<String> = match primary.as_ref().and_then(file_of) {
            Some(own) if files.len() > 1 => files.into_iter().filter(|f| *f != own).collect(),
            Some(own) => vec![own],
            None if !files.is_empty() => files,
            None => {
                let text: String = primary
                    .iter()
                    .flat_map(|span| span["text"].as_array().into_iter().flatten())
                    .filter_map(|t| t["text"].as_str())
                    .collect();
                api.iter().filter(|(function, _)| calls(&text, function)).map(|(_, file)| file.clone()).collect()
            }
        };
        for file in culprits {
            if !blamed.iter().any(|(f, _)| *f == file) {
                blamed.push((file, first_line.clone()));
            }
        }
    }
    blamed
}

/// The spans of a diagnostic and of its notes, primary ones first.
fn collect_spans(diagnostic: &Value, out: &mut Vec<Value>) {
    out.extend(diagnostic["spans"].as_array().into_iter().flatten().cloned());
    for child in diagnostic["children"].as_array().into_iter().flatten() {
        collect_spans(child, out);
    }
}

/// Whether `text` calls `function` (its name, then an opening parenthesis).
fn calls(text: &str, function: &str) -> bool {
    text.match_indices(function).any(|(at, _)| {
        let before = text[..at].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let after = text[at + function.len()..].trim_start().starts_with('(');
        before && after
    })
}

/// The public functions of the exercise files, each with its file.
fn api_of(stubs: &[(String, String)]) -> Vec<(String, String)> {
    let mut api = Vec::new();
    for (file, source) in stubs.iter().filter(|(f, _)| EXERCISE_FILES.contains(&f.as_str())) {
        for line in source.lines() {
            if let Some(rest) = line.strip_prefix("pub fn ") {
                let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
                api.push((name, file.clone()));
            }
        }
    }
    api
}

/// The first error lines of a failed build, for a message.
fn first_errors(diagnostics: &str) -> String {
    let mut lines: Vec<String> = diagnostics
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-message" && m["message"]["level"] == "error")
        .filter_map(|m| m["message"]["rendered"].as_str().map(|r| r.lines().take(3).collect::<Vec<_>>().join("\n")))
        .take(3)
        .collect();
    if lines.is_empty() {
        lines = diagnostics.lines().filter(|l| !l.starts_with('{')).rev().take(5).map(str::to_owned).collect();
        lines.reverse();
    }
    lines.join("\n")
}

fn absolute(path: &Path) -> Result<PathBuf, String> {
    std::fs::create_dir_all(path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    path.canonicalize().map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod sweep_tests {
    use super::*;

    #[test]
    fn a_build_folder_no_grader_holds_is_swept_and_one_in_use_is_not() {
        let builds = tempfile::tempdir().unwrap();
        let (left, held, other) = (builds.path().join("build-left"), builds.path().join("build-held"), builds.path().join("build-other"));
        for folder in [&left, &held, &other] {
            std::fs::create_dir(folder).unwrap();
        }
        std::fs::write(left.join(IN_USE), "").unwrap();
        let _holding = Lock::take(&held.join(IN_USE)).unwrap();
        sweep(builds.path());
        assert!(!left.exists(), "a folder its killed grader left is removed");
        assert!(held.exists(), "a folder in use stays");
        assert!(other.exists(), "a folder without the grader's lock file is not the grader's");
    }
}
