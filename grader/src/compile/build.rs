//! One sandboxed `cargo build` of the runner in a build tree, under a time
//! limit, with both of its pipes read while it runs.

use std::io::Read;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use wait_timeout::ChildExt;

use super::{BUILD, BUILD_MEMORY_MIB, RunnerKit, VENDOR};
use crate::sandbox::{Mount, ResourceLimits};
use anyhow::Context;

impl RunnerKit {
    /// Builds the runner in `tree`; whether it built, and cargo's JSON
    /// messages. Stopped at `timeout`.
    pub(super) fn build(&self, tree: &Path, timeout: Duration) -> anyhow::Result<(bool, String)> {
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
            .context("cannot start the runner's build")?;
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
        let status = child.wait_timeout(timeout).context("cannot wait for the runner's build")?;
        // The build itself (bubblewrap, whose sandbox dies with it: its pid
        // namespace goes, and every process in it) and its process group
        // (unsandboxed): a build blocked on its own pipe ends here too.
        let _ = child.kill();
        crate::process::kill_group(&child);
        let status = match status {
            Some(status) => status,
            None => {
                let _ = child.wait();
                return Err(anyhow::anyhow!("the build did not finish in {} s", timeout.as_secs()));
            }
        };
        let (stdout, stderr) = (stdout.join().unwrap_or_default(), stderr.join().unwrap_or_default());
        Ok((status.success(), if status.success() { stdout } else { format!("{stdout}\n{stderr}") }))
    }
}
