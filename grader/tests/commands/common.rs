//! What the tests of the grader's commands share.

use std::path::{Path, PathBuf};

/// The kit's folder.
pub fn kit() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap()
}

/// The reference's version of an exercise file.
pub fn solution(file: &str) -> String {
    std::fs::read_to_string(kit().join("solutions/src").join(file)).unwrap()
}

/// The files a student writes, in course order, from the registry
/// (exercises/info.toml).
pub fn exercise_files() -> Vec<&'static str> {
    registry::exercises().iter().flat_map(|e| e.files.iter().map(String::as_str)).collect()
}

/// What some tests need of the machine beyond the kit's own set-up.
#[derive(Debug, Clone, Copy)]
pub enum Need {
    /// bubblewrap, able to make its namespaces: grading someone else's code.
    Sandbox,
    /// A one-node Slurm cluster (`scripts/slurm-cluster`): root and Debian's
    /// slurm-wlm and munge.
    Slurm,
}

/// The variable that makes every [`Need`] required: set by CI (`.ci/run`),
/// which installs what they need, so that nothing is skipped there.
pub const REQUIRE_ALL: &str = "FCN_KIT_REQUIRE_ALL";

/// Whether the machine has what `need` names. When it has not, a test run
/// by a contributor is skipped with a line that says what to install (on
/// the terminal: libtest keeps a passing test's own output to itself); with
/// [`REQUIRE_ALL`] set the test fails instead.
pub fn machine_has(need: Need, test: &str) -> bool {
    let missing = match need {
        Need::Sandbox => {
            let probe = std::process::Command::new(std::env::var_os("FCN_GRADER_BWRAP").unwrap_or_else(|| "bwrap".into()))
                .args(["--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "--new-session", "--", "true"])
                .output();
            match probe {
                Ok(output) if output.status.success() => None,
                Ok(output) => Some(format!(
                    "bubblewrap cannot make its namespaces here ({})",
                    String::from_utf8_lossy(&output.stderr).trim()
                )),
                Err(_) => Some("bubblewrap (`bwrap`) is not installed: apt-get install bubblewrap".to_owned()),
            }
        }
        Need::Slurm => {
            let on_path = |tool: &str| {
                std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
            };
            if !["sbatch", "slurmctld", "slurmd"].iter().all(|tool| on_path(tool)) || !Path::new("/usr/sbin/munged").is_file() {
                Some("Slurm and munge are not installed: apt-get install slurm-wlm munge".to_owned())
            } else if unsafe { libc::geteuid() } != 0 {
                Some("the one-node Slurm cluster needs root".to_owned())
            } else {
                None
            }
        }
    };
    let Some(missing) = missing else { return true };
    if std::env::var_os(REQUIRE_ALL).is_some() {
        panic!("{test} needs what this machine lacks, and {REQUIRE_ALL} makes it required: {missing}");
    }
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "\nSKIPPED {test}: {missing} (set {REQUIRE_ALL}=1 to make it fail instead)");
    false
}
