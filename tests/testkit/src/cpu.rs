//! CPU time of a process, for benches that report where a run's CPU went (Linux only).

use std::time::Duration;

/// User + system CPU time so far of process `pid` (`"self"` for this one), from
/// `/proc/<pid>/stat`, in USER_HZ ticks of 10 ms: measure at least a second of work. Zero
/// where `/proc` is not there or the process is gone.
pub fn of(pid: &str) -> Duration {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Duration::ZERO;
    };
    // Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

/// CPU time of this process so far ([`of`] `"self"`).
pub fn this_process() -> Duration {
    of("self")
}
