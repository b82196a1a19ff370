//! `grader export-student DIR`: the hand-out, a workspace with what students
//! receive and nothing else: the exercises crate with its public tests, the
//! given crates, the set-up, and `handout/README.md` and `handout/Makefile`.
//! No reference, no hidden checks, no grader.

use std::path::PathBuf;

use clap::Args;

use crate::files::{copy_file, copy_folder, read, write};
use anyhow::Context;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Where to write the hand-out (a new or empty folder).
    dir: PathBuf,

    /// The kit's folder.
    #[arg(long, value_name = "DIR", default_value = ".")]
    kit: PathBuf,
}

/// The hand-out's crates: the folders copied whole, and its workspace's
/// members. The kit's other crates stay with the instructor: the
/// reference, the checks, the grader and its runner, and `fcn-metrics`,
/// the answer to bonus exercise 8.
const CRATES: [&str; 6] = ["exercises", "fcn-common", "libtorch-link", "course", "fcn-train", "registry"];
/// Single files, relative to the kit, and where they go in the hand-out.
const FILES: [(&str, &str); 8] = [
    ("Cargo.lock", "Cargo.lock"),
    (".cargo/config.toml", ".cargo/config.toml"),
    (".gitignore", ".gitignore"),
    ("scripts/setup-libtorch", "scripts/setup-libtorch"),
    ("scripts/fetch-voc-samples", "scripts/fetch-voc-samples"),
    ("data/README.md", "data/README.md"),
    ("handout/README.md", "README.md"),
    ("handout/Makefile", "Makefile"),
];


pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    let (kit, out) = (&args.kit, &args.dir);
    if !kit.join("solutions/src").is_dir() {
        return Err(anyhow::anyhow!("{} is not the kit's folder (no solutions/src); pass --kit", kit.display()));
    }
    if out.exists() && std::fs::read_dir(out).with_context(|| format!("cannot read {}", out.display()))?.next().is_some() {
        return Err(anyhow::anyhow!("{} exists and is not empty; export into a new folder", out.display()));
    }
    for folder in CRATES {
        copy_folder(&kit.join(folder), &out.join(folder))?;
    }
    for (from, to) in FILES {
        copy_file(&kit.join(from), &out.join(to))?;
    }
    write(&out.join("Cargo.toml"), crate::manifest::workspace_of(&read(&kit.join("Cargo.toml"))?, &CRATES)?)?;
    println!("wrote the student hand-out to {}", out.display());
    Ok(())
}
