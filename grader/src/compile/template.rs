//! The runner's build tree (the template): its files, the vendored
//! dependencies, the cargo configuration, and the stamp that says for what
//! it was prepared.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use super::folders::absolute;
use super::{CRATES, RunnerKit, VENDOR};
use crate::files::walk;
use crate::sandbox::Sandbox;
use anyhow::Context;

fn sysroot() -> anyhow::Result<PathBuf> {
    let output = Command::new("rustc").args(["--print", "sysroot"]).output().context("cannot run rustc")?;
    let root = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    if !output.status.success() || !root.join("bin/cargo").is_file() {
        return Err(anyhow::anyhow!("rustc's sysroot {} has no bin/cargo", root.display()));
    }
    root.canonicalize().with_context(|| format!("{}", root.display()))
}

impl RunnerKit {
    /// The runner kit for `kit` in `cache`, its template's files, and the
    /// stamp a template prepared for them carries.
    #[allow(clippy::type_complexity)]
    pub(super) fn describe(kit: &Path, cache: &Path, sandbox: Sandbox) -> anyhow::Result<(RunnerKit, Vec<(PathBuf, Vec<u8>)>, String)> {
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
    fn sources(&self, kit: &Path) -> anyhow::Result<Vec<(PathBuf, Vec<u8>)>> {
        let mut files = Vec::new();
        for name in CRATES {
            let from = kit.join(name);
            let mut add = |relative: &Path| -> anyhow::Result<()> {
                let path = from.join(relative);
                let contents = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
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
        let manifest = std::fs::read_to_string(kit.join("Cargo.toml")).context("cannot read the kit's Cargo.toml")?;
        files.push((PathBuf::from("Cargo.toml"), crate::manifest::workspace_of(&manifest, &CRATES)?.into_bytes()));
        let lock = std::fs::read(kit.join("Cargo.lock")).context("cannot read the kit's Cargo.lock")?;
        files.push((PathBuf::from("Cargo.lock"), lock));
        Ok(files)
    }

    /// Copies the dependencies' sources out of cargo's cache (fetching from
    /// crates.io those cargo has never needed here, such as other
    /// platforms' crates): the sandboxed builds read them from there and
    /// from nowhere else.
    pub(super) fn vendor(&self, kit: &Path) -> anyhow::Result<()> {
        let vendor = |offline: bool| {
            Command::new("cargo")
                .current_dir(&self.template)
                .args(["vendor", "--quiet"])
                .args(offline.then_some("--offline"))
                .arg(&self.vendor)
                .env_remove("CARGO_TARGET_DIR")
                .stdout(Stdio::null())
                .output()
                .context("cannot run cargo vendor")
        };
        let mut output = vendor(true)?;
        if !output.status.success() {
            output = vendor(false)?;
        }
        if !output.status.success() {
            return Err(anyhow::anyhow!(
                "cargo vendor failed in {} (the kit's dependencies must be in cargo's cache: build the kit once, e.g. `make setup` then `cargo build -p grader`, in {}): {}",
                self.template.display(),
                kit.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }
        Ok(())
    }

    pub(super) fn cargo_config(&self) -> String {
        let vendor = if self.sandbox.is_sandboxed() { PathBuf::from(VENDOR) } else { self.vendor.clone() };
        format!(
            "# The runner's build: the vendored sources only, never the network.\n\
             [source.crates-io]\nreplace-with = \"vendored\"\n\n[source.vendored]\ndirectory = \"{}\"\n\n[net]\noffline = true\n",
            vendor.display()
        )
    }
}
