//! Process control the grader needs whatever isolates the process: the
//! resource limits set on a process before it runs, and stopping a process
//! group. A leaf module: it uses nothing of the grader's.

/// What a sandboxed process may use. `None` leaves a limit as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResourceLimits {
    pub cpu_seconds: Option<u64>,
    pub memory_mib: Option<u64>,
    pub file_mib: Option<u64>,
    /// Processes and threads the command may have at once, all it starts
    /// included (sandboxed only).
    pub processes: Option<u64>,
    pub open_files: Option<u64>,
}

/// Sets `limits` on the process about to exec, but the process limit, which
/// `prlimit` sets inside the sandbox (see the module's docs).
pub fn set_limits(limits: ResourceLimits) -> std::io::Result<()> {
    use rlimit::Resource;
    const MIB: u64 = 1 << 20;
    rlimit::setrlimit(Resource::CORE, 0, 0)?;
    let pairs = [
        (Resource::CPU, limits.cpu_seconds),
        (Resource::DATA, limits.memory_mib.map(|m| m * MIB)),
        (Resource::FSIZE, limits.file_mib.map(|m| m * MIB)),
        (Resource::NOFILE, limits.open_files),
    ];
    for (resource, limit) in pairs {
        if let Some(limit) = limit {
            rlimit::setrlimit(resource, limit, limit)?;
        }
    }
    Ok(())
}

/// Kills `child`'s process group (the child made it its own), so that
/// nothing it started outlives it.
pub fn kill_group(child: &std::process::Child) {
    // SAFETY: kill(2) with a negative pid signals that process group; the
    // group is the child's own (process_group(0)), or it is gone.
    unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
}
