//! Durable state on disk: a write-ahead log of events and periodic snapshots, one directory
//! per monitor under `server.state_dir`.
//!
//! Generic over what is stored (the engine decides the event and snapshot types), so this
//! module knows files, frames and checksums and nothing about monitors.

pub mod snapshot;
pub mod wal;

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// Syncs a directory, so a file created or renamed in it survives a crash.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The state directory, locked against a second process using it at the same time.
#[derive(Debug)]
pub struct StateDir {
    root: PathBuf,
    /// Holds an exclusive lock on `root/LOCK` for the life of the process.
    _lock: File,
}

impl StateDir {
    /// Opens (creating) `root` and takes its lock; fails if another process holds it.
    pub fn open(root: &Path) -> io::Result<Self> {
        fs::create_dir_all(root)?;
        let lock = File::create(root.join("LOCK"))?;
        lock.try_lock().map_err(|_| {
            io::Error::new(
                io::ErrorKind::WouldBlock,
                format!("{} is in use by another driftscope process", root.display()),
            )
        })?;
        Ok(Self {
            root: root.to_owned(),
            _lock: lock,
        })
    }

    /// The directory of monitor `name` (created). Names are validated as `[A-Za-z0-9_-]`.
    pub fn monitor(&self, name: &str) -> io::Result<PathBuf> {
        let dir = self.root.join("monitors").join(name);
        fs::create_dir_all(&dir)?;
        Ok(dir)
    }
}
