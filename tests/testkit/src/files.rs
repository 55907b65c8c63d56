//! Reading back what a test's processes wrote (evidence directories, audit trails).

use std::path::Path;

/// Appends every file under `dir` (recursively) to `out` as text (lossy UTF-8) and returns
/// how many files there were: for asserting that stored evidence holds, or never holds, a
/// string.
pub fn read_tree(dir: &Path, out: &mut String) -> anyhow::Result<usize> {
    let mut n = 0;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            n += read_tree(&path, out)?;
        } else {
            out.push_str(&String::from_utf8_lossy(&std::fs::read(&path)?));
            n += 1;
        }
    }
    Ok(n)
}
