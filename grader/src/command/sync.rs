//! `grader sync-exercises`: writes exercises/src from solutions/src (see
//! [`crate::stubs`]), or only says whether they differ.

use std::path::PathBuf;

use clap::Args;

use crate::stubs::{drift, generated};
use anyhow::Context;

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Only compare: exit with 1, naming the files, when exercises/src is not
    /// what solutions/src makes (the drift guard `make test` runs).
    #[arg(long)]
    check: bool,

    /// The kit's folder (the one holding solutions/ and exercises/).
    #[arg(long, value_name = "DIR", default_value = ".")]
    kit: PathBuf,
}

pub fn run(args: SyncArgs) -> anyhow::Result<bool> {
    if args.check {
        let differing = drift(&args.kit)?;
        for path in &differing {
            eprintln!(
                "grader sync-exercises: {} is not what its solutions/src file makes; edit the solution file and run \
                 `cargo run -p grader -- sync-exercises`",
                path.display()
            );
        }
        if differing.is_empty() {
            println!("exercises/src is in sync with solutions/src");
        }
        return Ok(differing.is_empty());
    }
    for (path, contents) in generated(&args.kit)? {
        std::fs::write(&path, contents).with_context(|| format!("cannot write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(true)
}

