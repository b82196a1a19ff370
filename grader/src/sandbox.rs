//! Where student code runs: a bubblewrap sandbox.
//!
//! Everything that compiles or runs a student's code (the runner's build and
//! the runner itself) starts through [`Sandbox::command`]: in its own user,
//! mount, pid, network, IPC and UTS namespaces, in a new session, with the
//! file system reduced to the system's programs and libraries (read-only)
//! and the mounts the caller names; nothing else of the machine (the kit, the
//! reference, the grader's files, the home folder) exists in there. Resource
//! limits (CPU time, memory, file size, open files, processes) are set on the
//! sandbox's first process and hold for all it starts, and the whole pid
//! namespace dies with it.
//!
//! The process limit needs care, because the kernel counts processes per
//! user and exempts root. A limited command (the runner) therefore gets its
//! limit from `prlimit` inside the sandbox, so that it counts the sandbox's
//! processes alone; and when the grader runs as root, the sandbox's user is
//! a real user id of its own (dropped to with `setpriv`, every capability
//! gone), not a user namespace's id that stands for root outside, which the
//! limit would not apply to.
//!
//! Without bubblewrap, [`Sandbox::unsandboxed`] runs the same commands as
//! plain processes with the same limits (but the process limit, which would
//! count every process of the user) and a cleared environment: for a
//! student grading their own crate, or an instructor who asked for it.

use std::path::{Path, PathBuf};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

pub use crate::process::ResourceLimits;
use crate::process::set_limits;
use anyhow::Context;

/// One folder the sandboxed program sees.
#[derive(Debug, Clone)]
pub struct Mount {
    /// Where it is on this machine.
    pub host: PathBuf,
    /// Where the program sees it.
    pub inside: PathBuf,
    pub writable: bool,
    /// A device node, usable as a device (bubblewrap's `--dev-bind`).
    pub device: bool,
}

impl Mount {
    pub fn read_only(host: impl Into<PathBuf>, inside: impl Into<PathBuf>) -> Self {
        Mount { host: host.into(), inside: inside.into(), writable: false, device: false }
    }

    pub fn writable(host: impl Into<PathBuf>, inside: impl Into<PathBuf>) -> Self {
        Mount { host: host.into(), inside: inside.into(), writable: true, device: false }
    }

    /// The device node `node`, at the same path inside.
    pub fn device(node: impl Into<PathBuf>) -> Self {
        let node = node.into();
        Mount { host: node.clone(), inside: node, writable: true, device: true }
    }
}

/// How student code is isolated on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sandbox {
    /// bubblewrap, or `None` to run unsandboxed.
    bwrap: Option<PathBuf>,
}

/// What to say when the sandbox cannot start.
pub const NEEDS: &str = "bubblewrap (`bwrap`; Debian and Ubuntu: apt-get install bubblewrap) with user \
                         namespaces enabled, and util-linux's /usr/bin/prlimit and /usr/bin/setpriv";

/// util-linux's tools that set the process limit and drop to the
/// sandbox's own user, run inside the sandbox from its read-only /usr.
const PRLIMIT: &str = "/usr/bin/prlimit";
const SETPRIV: &str = "/usr/bin/setpriv";

/// The user ids a root grader gives its sandboxes, one per runner, so that
/// one student's processes never count against another's limit. No account
/// needs to exist for them; the sandbox sees only world-readable files.
const SANDBOX_UIDS: std::ops::Range<u32> = 3_000_000..3_060_000;

fn next_sandbox_uid() -> u32 {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    // Spread over the range by the grader's pid as well, for graders that
    // share a machine (Slurm tasks on one node).
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed).wrapping_add(std::process::id().wrapping_mul(7919));
    SANDBOX_UIDS.start + n % (SANDBOX_UIDS.end - SANDBOX_UIDS.start)
}

impl Sandbox {
    /// The sandbox, if bubblewrap is here and can make its namespaces; else
    /// why not. `FCN_GRADER_BWRAP` names the bubblewrap to use, if not the
    /// one on `PATH`.
    pub fn find() -> anyhow::Result<Sandbox> {
        let bwrap = match std::env::var_os("FCN_GRADER_BWRAP") {
            Some(path) => PathBuf::from(path),
            None => std::env::var_os("PATH")
                .and_then(|path| std::env::split_paths(&path).map(|dir| dir.join("bwrap")).find(|p| p.is_file()))
                .with_context(|| format!("no sandbox: `bwrap` is not on PATH; the grader needs {NEEDS}"))?,
        };
        let probe = Command::new(&bwrap)
            .args(["--ro-bind", "/", "/", "--unshare-all", "--die-with-parent", "--new-session", "--", "true"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| anyhow::anyhow!("no sandbox: cannot run {}: {e}; the grader needs {NEEDS}", bwrap.display()))?;
        if !probe.status.success() {
            anyhow::bail!(
                "no sandbox: {} cannot make its namespaces here ({}); the grader needs {NEEDS}",
                bwrap.display(),
                String::from_utf8_lossy(&probe.stderr).trim()
            );
        }
        for tool in [PRLIMIT, SETPRIV] {
            if !Path::new(tool).is_file() {
                anyhow::bail!("no sandbox: {tool} is missing; the grader needs {NEEDS}");
            }
        }
        Ok(Sandbox { bwrap: Some(bwrap) })
    }

    /// The sandbox, or why grading cannot go on. Someone else's code (`others`)
    /// is never run unsandboxed unless the instructor says so; a student's own
    /// crate is, with a note, when the machine has no sandbox.
    pub fn choose(unsandboxed: bool, others: bool) -> anyhow::Result<Sandbox> {
        if unsandboxed {
            return Ok(Sandbox::unsandboxed());
        }
        match Sandbox::find() {
            Ok(sandbox) => Ok(sandbox),
            Err(why) if others => Err(anyhow::anyhow!(
                "{why:#}.\nGrading other people's code needs the sandbox; pass --unsandboxed to grade without it \
                 (every report then says so)"
            )),
            Err(why) => {
                eprintln!("grader: {why:#}; your crate is graded without it");
                Ok(Sandbox::unsandboxed())
            }
        }
    }

    /// Student code runs as a plain process: limits, but no isolation.
    pub fn unsandboxed() -> Sandbox {
        Sandbox { bwrap: None }
    }

    pub fn is_sandboxed(&self) -> bool {
        self.bwrap.is_some()
    }

    /// Where the program sees `mount`.
    pub fn path_of<'a>(&self, mount: &'a Mount) -> &'a Path {
        if self.is_sandboxed() { &mount.inside } else { &mount.host }
    }

    /// A command that runs `program` (a path as the program sees it) with
    /// `args`, only the environment `env`, in `cwd` (likewise), seeing
    /// `mounts` and the system's read-only folders, under `limits`.
    pub fn command(
        &self,
        program: &Path,
        args: &[&str],
        mounts: &[Mount],
        env: &[(&str, String)],
        cwd: &Path,
        limits: ResourceLimits,
    ) -> Command {
        let mut command = match &self.bwrap {
            None => {
                let mut command = Command::new(program);
                command.args(args).env_clear().current_dir(cwd).process_group(0);
                for (key, value) in env {
                    command.env(key, value);
                }
                command
            }
            Some(bwrap) => {
                let mut command = Command::new(bwrap);
                // SAFETY: geteuid cannot fail.
                let own_uid = limits.processes.is_some() && unsafe { libc::geteuid() } == 0;
                if own_uid {
                    // No user namespace: its ids would stand for root
                    // outside. setpriv below leaves root for an id of the
                    // sandbox's own.
                    command.args(["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]);
                } else {
                    command.args(["--unshare-all", "--uid", "65534", "--gid", "65534"]);
                }
                command.args([
                    "--die-with-parent",
                    "--new-session",
                    "--hostname",
                    "runner",
                    "--clearenv",
                    "--proc",
                    "/proc",
                    "--dev",
                    "/dev",
                    // A private /tmp in memory, of bounded size, that the
                    // sandbox's user may write whichever id it has.
                    "--perms",
                    "01777",
                    "--size",
                    "268435456",
                    "--tmpfs",
                    "/tmp",
                ]);
                // The processor's topology and caches, read-only: libtorch
                // sizes its kernels and threads from them (without them, the
                // same training ran 15 to 30% slower in the sandbox).
                for system in ["/usr", "/etc/alternatives", "/etc/ld.so.cache", "/sys/devices/system/cpu"] {
                    if Path::new(system).exists() {
                        command.args(["--ro-bind", system, system]);
                    }
                }
                // Merged-/usr systems link these into /usr; others have them.
                for top in ["/bin", "/sbin", "/lib", "/lib64", "/lib32"] {
                    match std::fs::read_link(top) {
                        Ok(target) => {
                            command.arg("--symlink").arg(target).arg(top);
                        }
                        Err(_) if Path::new(top).is_dir() => {
                            command.args(["--ro-bind", top, top]);
                        }
                        Err(_) => {}
                    }
                }
                // The folders above each mount, readable by the sandbox's
                // user (bubblewrap would make them for root alone).
                let mut folders: Vec<&Path> = mounts.iter().flat_map(|m| m.inside.ancestors().skip(1)).collect();
                folders.retain(|folder| folder.parent().is_some());
                folders.sort();
                folders.dedup();
                for folder in folders {
                    command.args(["--perms", "0755", "--dir"]).arg(folder);
                }
                for mount in mounts {
                    let how = match (mount.device, mount.writable) {
                        (true, _) => "--dev-bind",
                        (false, true) => "--bind",
                        (false, false) => "--ro-bind",
                    };
                    command.arg(how).arg(&mount.host).arg(&mount.inside);
                }
                for (key, value) in env {
                    command.args(["--setenv", key, value]);
                }
                command.arg("--chdir").arg(cwd).arg("--");
                if let Some(processes) = limits.processes {
                    command.arg(PRLIMIT).arg(format!("--nproc={processes}:{processes}")).arg("--");
                }
                if own_uid {
                    let uid = next_sandbox_uid();
                    command
                        .arg(SETPRIV)
                        .args([format!("--reuid={uid}"), format!("--regid={uid}")])
                        .args(["--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]);
                }
                command.arg(program).args(args);
                command
            }
        };
        // SAFETY: only setrlimit, which is async-signal-safe, between fork
        // and exec.
        unsafe {
            command.pre_exec(move || set_limits(limits));
        }
        command
    }
}

/// Where the sandbox sees libtorch.
pub const LIBTORCH: &str = "/opt/libtorch/torch";

/// libtorch read-only, where the sandbox sees it; with the CUDA libraries a
/// PyPI install keeps beside it (`site-packages/nvidia`), which its own
/// rpath finds there.
pub fn libtorch_mounts(libtorch: &Path) -> Vec<Mount> {
    let mut mounts = vec![Mount::read_only(libtorch, LIBTORCH)];
    if let Some(nvidia) = libtorch.parent().map(|site| site.join("nvidia")).filter(|n| n.is_dir()) {
        mounts.push(Mount::read_only(nvidia, "/opt/libtorch/nvidia"));
    }
    mounts
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_node_is_bound_as_a_device_and_nothing_else_is() {
        let sandbox = Sandbox { bwrap: Some(PathBuf::from("bwrap")) };
        let mounts = [Mount::read_only("/a", "/in/a"), Mount::writable("/b", "/in/b"), Mount::device("/dev/nvidia0")];
        let command = sandbox.command(Path::new("/in/a/program"), &[], &mounts, &[], Path::new("/"), ResourceLimits::default());
        let args = command.get_args().map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>().join(" ");
        assert!(args.contains("--ro-bind /a /in/a") && args.contains("--bind /b /in/b"), "{args}");
        assert!(args.contains("--dev-bind /dev/nvidia0 /dev/nvidia0"), "{args}");
        assert_eq!(args.matches("--dev-bind").count(), 1, "{args}");
        assert!(args.contains("--dev /dev"), "the sandbox's own /dev, with the node bound into it: {args}");
    }
}
