//! `grader package-gradescope`: the kit as a Gradescope autograder.
//!
//! Gradescope unpacks `autograder.zip` into `/autograder/source`, runs its
//! `setup.sh` once (as root, on its Ubuntu image) to build the image, and
//! then, for each submission, runs `run_autograder` in a fresh container
//! with the student's upload in `/autograder/submission`; the score is what
//! `/autograder/results/results.json` says. Here `setup.sh` installs what
//! the grader needs (bubblewrap, a C++ compiler, Python, Rust; PyTorch by
//! the kit's own set-up), builds the grader, prepares the runner's build
//! tree and grades the reference, which must score full marks.
//! `run_autograder` grades the upload with `grader --submission`: the
//! student's code is built into a runner of its own and runs in the
//! sandbox, as every grading does; the grader writes results.json.
//!
//! The zip holds the kit's source (no build output, no libtorch, no VCS
//! folder) under `kit/`, and the two scripts at its root.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use anyhow::Context;

#[derive(Debug, Args)]
pub struct PackageArgs {
    /// Where to write the zip.
    #[arg(long, value_name = "PATH", default_value = "target/grader/autograder.zip")]
    out: PathBuf,

    /// The kit's folder (default: the one this grader was built in).
    #[arg(long, value_name = "DIR")]
    kit: Option<PathBuf>,

    /// Leave out the training checks (they take minutes on a CPU; Gradescope
    /// gives each submission no GPU).
    #[arg(long)]
    skip_training: bool,

    /// Seconds each check may run.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    timeout: u64,

    /// MiB of memory each check may allocate.
    #[arg(long, value_name = "MIB", default_value_t = 3072)]
    memory_limit: u64,
}

/// Top-level entries of the kit that are not its source: build output,
/// libtorch's link, the version control folder, fetched data.
const NOT_SOURCE: [&str; 5] = ["target", ".libtorch", ".git", ".carry", "data/voc-samples"];

/// The kit's folder inside the zip (and inside /autograder/source).
const KIT: &str = "kit";

pub fn run(args: PackageArgs) -> anyhow::Result<()> {
    let kit = args.kit.clone().unwrap_or_else(crate::kit::default_kit);
    if !kit.join("solutions/src").is_dir() || !kit.join("grader").is_dir() {
        return Err(anyhow::anyhow!("{} is not the kit's folder (no solutions/src or grader); pass --kit", kit.display()));
    }
    let mut files = Vec::new();
    collect(&kit, Path::new(""), &mut files)?;
    files.sort();

    if let Some(folder) = args.out.parent().filter(|f| !f.as_os_str().is_empty()) {
        std::fs::create_dir_all(folder).with_context(|| format!("cannot create {}", folder.display()))?;
    }
    let partial = args.out.with_extension("zip.partial");
    let file = std::fs::File::create(&partial).with_context(|| format!("cannot write {}", partial.display()))?;
    let mut zip = zip::ZipWriter::new(file);
    let options = |mode: u32| {
        zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Deflated).unix_permissions(mode)
    };
    let failed = |e: &dyn std::fmt::Display| anyhow::anyhow!("cannot write {}: {e}", partial.display());
    for (name, contents) in [("setup.sh", setup_script()), ("run_autograder", run_script(&args))] {
        zip.start_file(name, options(0o755)).map_err(|e| failed(&e))?;
        zip.write_all(contents.as_bytes()).map_err(|e| failed(&e))?;
    }
    for relative in &files {
        let path = kit.join(relative);
        let contents = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path).with_context(|| format!("cannot read {}", path.display()))?.permissions(),
        );
        let name = Path::new(KIT).join(relative);
        zip.start_file(name.to_string_lossy(), options(if mode & 0o111 != 0 { 0o755 } else { 0o644 }))
            .map_err(|e| failed(&e))?;
        zip.write_all(&contents).map_err(|e| failed(&e))?;
    }
    zip.finish().map_err(|e| failed(&e))?;
    std::fs::rename(&partial, &args.out).with_context(|| format!("cannot write {}", args.out.display()))?;
    println!(
        "Wrote {} ({} files of the kit, setup.sh, run_autograder). Upload it as the assignment's autograder \
         (Gradescope: Configure Autograder, Zip file upload, Ubuntu 22.04 or newer).",
        args.out.display(),
        files.len()
    );
    Ok(())
}

/// The kit's source files below `folder` (relative to `kit`): regular
/// files, no symbolic link, nothing of [`NOT_SOURCE`].
fn collect(kit: &Path, folder: &Path, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let here = kit.join(folder);
    for entry in std::fs::read_dir(&here).with_context(|| format!("cannot read {}", here.display()))? {
        let entry = entry.with_context(|| format!("cannot read {}", here.display()))?;
        let relative = folder.join(entry.file_name());
        if NOT_SOURCE.iter().any(|n| relative == Path::new(n)) {
            continue;
        }
        let kind = entry.file_type().with_context(|| format!("cannot read {}", relative.display()))?;
        if kind.is_dir() {
            collect(kit, &relative, files)?;
        } else if kind.is_file() {
            files.push(relative);
        }
    }
    Ok(())
}

/// Gradescope's set-up: runs once, as root, on its Ubuntu image, with the
/// network.
fn setup_script() -> String {
    format!(
        r#"#!/usr/bin/env bash
# Gradescope runs this once, as root, to build the autograder's image.
# What the FCN kit's grader needs: bubblewrap (its sandbox), util-linux
# (prlimit, setpriv), a C++ compiler, make, Python 3 with venv (PyTorch
# 2.11.0 from PyPI, for libtorch), and Rust (stable, by rustup).
set -euo pipefail
source_dir=$(cd "$(dirname "$0")" && pwd)
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq bubblewrap util-linux build-essential curl ca-certificates python3 python3-venv pkg-config
if ! command -v cargo >/dev/null && [[ ! -x "$HOME/.cargo/bin/cargo" ]]; then
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --default-toolchain stable
fi
export PATH=$HOME/.cargo/bin:$PATH
cd "$source_dir/{KIT}"
# PyTorch 2.11.0 into a shared virtual environment, and the VOC photos.
make setup
cargo build --release -p grader
# Prepares the runner's build tree (a few minutes) and grades the reference
# as a submission, through the sandbox: it must score full marks.
target/release/grader --kit . --submission solutions/src --json /tmp/fcn-reference/results.json
python3 - <<'EOF'
import json
results = json.load(open("/tmp/fcn-reference/results.json"))
assert results["score"] == results["max_score"], f"the reference scores {{results['score']}}/{{results['max_score']}}"
print(f"the reference scores {{results['score']}}/{{results['max_score']}}: the autograder is ready")
EOF
"#
    )
}

/// Gradescope's per-submission script. `AUTOGRADER_ROOT` moves the root
/// (`/autograder`) for a test of the package.
fn run_script(args: &PackageArgs) -> String {
    let mut options = format!("--timeout {} --memory-limit {}", args.timeout, args.memory_limit);
    if args.skip_training {
        options.push_str(" --skip-training");
    }
    format!(
        r#"#!/usr/bin/env bash
# Gradescope runs this for each submission: it grades the student's upload
# in $root/submission (their exercises crate, its src/, or the exercise files)
# and the grader writes $root/results/results.json. The student's code runs
# in the grader's sandbox, never in this script's process.
set -euo pipefail
root=${{AUTOGRADER_ROOT:-/autograder}}
kit=$root/source/{KIT}
mkdir -p "$root/results"
exec "$kit/target/release/grader" --kit "$kit" --submission "$root/submission" \
    --json "$root/results/results.json" {options}
"#
    )
}
