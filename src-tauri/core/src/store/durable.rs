//! Files replaced so that a crash leaves the old one or the whole new one.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Renames the finished file `from` over `to`: `from` is flushed first and
/// the directory after, so the rename itself survives a power cut.
pub(crate) fn rename_durably(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::File::open(from)?.sync_all()?;
    std::fs::rename(from, to)?;
    match to.parent() {
        Some(dir) => std::fs::File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}

/// Writes `bytes` as `path` through a partial file beside it; `private`
/// files are readable by their owner only.
pub(crate) fn replace_file(path: &Path, bytes: &[u8], private: bool) -> std::io::Result<()> {
    let partial = beside(path, ".partial");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    options.open(&partial)?.write_all(bytes)?;
    rename_durably(&partial, path)
}

/// `path` with `suffix` added to its name (`outpost.db` → `outpost.db-wal`).
pub(crate) fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}
