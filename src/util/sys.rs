//! Process facts INFO reports (CPU time, resident memory), behind safe
//! functions so that the one `unsafe` call they need stays in one place.

/// Whose CPU time to measure, as `getrusage(2)` distinguishes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    /// The whole process, every thread.
    Process,
    /// Terminated and waited-for children.
    Children,
    /// The calling thread only (Linux).
    Thread,
}

/// CPU seconds spent in the kernel and in user space.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CpuTimes {
    pub sys: f64,
    pub user: f64,
}

/// `getrusage(2)` for `who`; `None` if the kernel refuses.
pub fn cpu_times(who: Usage) -> Option<CpuTimes> {
    let who = match who {
        Usage::Process => libc::RUSAGE_SELF,
        Usage::Children => libc::RUSAGE_CHILDREN,
        #[cfg(target_os = "linux")]
        Usage::Thread => libc::RUSAGE_THREAD,
        #[cfg(not(target_os = "linux"))]
        Usage::Thread => libc::RUSAGE_SELF,
    };
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `ru` points to writable memory the size of a `rusage`, which
    // getrusage fills on success; it is all-zero (a valid rusage) otherwise.
    let rc = unsafe { libc::getrusage(who, ru.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: zero-initialised and, on success, written by the kernel.
    let ru = unsafe { ru.assume_init() };
    let secs = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1_000_000.0;
    Some(CpuTimes {
        sys: secs(ru.ru_stime),
        user: secs(ru.ru_utime),
    })
}

/// The process's resident set size in bytes, from `/proc/self/statm`.
pub fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages.saturating_mul(page_size()))
}

fn page_size() -> u64 {
    // SAFETY: sysconf only reads a constant of the running system.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 {
        n as u64
    } else {
        4096
    }
}

/// Physical memory of the machine in bytes (`total_system_memory`).
pub fn total_memory_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb.saturating_mul(1024))
}

/// `uname -s -r -m`, as Redis's INFO `os` field shows it.
pub fn os_description() -> String {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let name = read("/proc/sys/kernel/ostype");
    let release = read("/proc/sys/kernel/osrelease");
    if name.is_empty() {
        return format!("{} {}", std::env::consts::OS, std::env::consts::ARCH);
    }
    format!("{name} {release} {}", std::env::consts::ARCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_this_process() {
        let cpu = cpu_times(Usage::Process).unwrap_or_default();
        assert!(cpu.user >= 0.0 && cpu.sys >= 0.0);
        assert!(cpu_times(Usage::Thread).is_some());
        assert!(rss_bytes().unwrap_or(0) > 0);
        assert!(total_memory_bytes().unwrap_or(0) > 0);
        assert!(!os_description().is_empty());
    }
}
