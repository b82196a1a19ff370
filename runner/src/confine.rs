//! The runner may start threads but no process: the sandbox's memory limit
//! is per process, and a runner that started copies of itself (through
//! `/proc/self/exe`) would hold that limit many times over. A seccomp filter,
//! installed before any student code runs (the grader's screen refuses code
//! that would run before `main`), makes `fork`, `vfork`, `execve`,
//! `execveat` and a `clone` that is not a thread's fail with EPERM; `clone3`
//! fails with ENOSYS, so that the C library falls back to `clone` for its
//! threads, where the filter can read the flags.

/// Installs the filter on every thread of the process, for good. (Only on
/// Linux, where the grader and its sandbox run; elsewhere there is nothing
/// to install, and the runner is never graded there.)
#[cfg(not(target_os = "linux"))]
pub fn forbid_processes() -> Result<(), String> {
    Ok(())
}

/// Installs the filter on every thread of the process, for good.
#[cfg(target_os = "linux")]
pub fn forbid_processes() -> Result<(), String> {
    use std::collections::BTreeMap;

    use seccompiler::{
        BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
    };

    let arch = std::env::consts::ARCH.try_into().map_err(|e| format!("no seccomp filter for this processor: {e}"))?;
    let not_a_thread = SeccompCondition::new(0, SeccompCmpArgLen::Qword, SeccompCmpOp::MaskedEq(libc::CLONE_THREAD as u64), 0)
        .and_then(|condition| SeccompRule::new(vec![condition]))
        .map_err(|e| e.to_string())?;
    let mut processes: BTreeMap<i64, Vec<SeccompRule>> = [
        (libc::SYS_execve, vec![]),
        (libc::SYS_execveat, vec![]),
        (libc::SYS_clone, vec![not_a_thread]),
    ]
    .into_iter()
    .collect();
    // x86-64 also has fork and vfork of their own (elsewhere they are clone).
    #[cfg(target_arch = "x86_64")]
    processes.extend([(libc::SYS_fork, vec![]), (libc::SYS_vfork, vec![])]);
    let clone3: BTreeMap<i64, Vec<SeccompRule>> = [(libc::SYS_clone3, vec![])].into_iter().collect();
    for (rules, errno) in [(processes, libc::EPERM), (clone3, libc::ENOSYS)] {
        let filter = SeccompFilter::new(rules, SeccompAction::Allow, SeccompAction::Errno(errno as u32), arch)
            .map_err(|e| e.to_string())?;
        let program: BpfProgram = filter.try_into().map_err(|e: seccompiler::BackendError| e.to_string())?;
        seccompiler::apply_filter_all_threads(&program).map_err(|e| format!("cannot install the seccomp filter: {e}"))?;
    }
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::process::Command;

    /// Run in a child process of this test binary, which installs the
    /// filter: threads start, processes do not.
    const PROBE: &str = "FCN_RUNNER_CONFINE_PROBE";

    #[test]
    fn once_confined_no_process_starts_but_threads_do() {
        if std::env::var_os(PROBE).is_some() {
            let before = Command::new("/bin/true").status().is_ok_and(|s| s.success());
            super::forbid_processes().unwrap();
            let thread = std::thread::spawn(|| 7).join().unwrap();
            let after = Command::new("/bin/true").status();
            let exe = Command::new("/proc/self/exe").arg("--list").status();
            // SAFETY: fork(2) in a process about to exit; the child, if
            // there is one, exits at once.
            let forked = unsafe { libc::fork() };
            if forked == 0 {
                unsafe { libc::_exit(0) };
            }
            println!("probe: before {before}, thread {thread}, after {after:?}, exe {exe:?}, fork {forked}");
            std::process::exit(if before && thread == 7 && after.is_err() && exe.is_err() && forked < 0 { 0 } else { 1 });
        }
        let output = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "confine::tests::once_confined_no_process_starts_but_threads_do", "--nocapture"])
            .env(PROBE, "1")
            .output()
            .unwrap();
        let printed = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{printed}{}", String::from_utf8_lossy(&output.stderr));
    }
}
