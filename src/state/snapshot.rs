//! Snapshots: a monitor's whole state at one event number, written atomically.
//!
//! File `snapshot-<seq>.cbor`: a magic line, `[payload length: u64 LE][CRC-32: u32 LE]`, the
//! CBOR payload. Written to a temporary file, synced, renamed and the directory synced, so a
//! crash leaves the old snapshot or the new one, never half of one. Reading falls back to an
//! older file when the newest fails its checksum.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// First bytes of every snapshot; the digit is the file format version.
const MAGIC: &[u8; 8] = b"DSNAP01\n";

/// Writes `value` as the snapshot at event `seq` and deletes older snapshots.
pub fn write<T: Serialize>(dir: &Path, seq: u64, value: &T) -> io::Result<()> {
    let mut payload = Vec::new();
    ciborium::into_writer(value, &mut payload).map_err(io::Error::other)?;
    let temporary = dir.join(format!("snapshot-{seq:020}.tmp"));
    {
        let mut file = File::create(&temporary)?;
        file.write_all(MAGIC)?;
        file.write_all(&(payload.len() as u64).to_le_bytes())?;
        file.write_all(&crc32fast::hash(&payload).to_le_bytes())?;
        file.write_all(&payload)?;
        file.sync_all()?;
    }
    fs::rename(&temporary, dir.join(name(seq)))?;
    super::sync_dir(dir)?;
    for (older, path) in snapshots(dir)? {
        if older < seq {
            fs::remove_file(path)?;
        }
    }
    Ok(())
}

/// The newest snapshot that reads back intact, with its event number. Damaged files are
/// logged and skipped; leftover temporary files removed.
pub fn read_newest<T: DeserializeOwned>(dir: &Path) -> io::Result<Option<(u64, T)>> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "tmp") {
            fs::remove_file(&path)?;
        }
    }
    for (seq, path) in snapshots(dir)?.into_iter().rev() {
        let mut head = fs::read(&path)?;
        head.truncate(MAGIC.len());
        if head.starts_with(b"DSNAP") && head != MAGIC {
            // Falling back to an older file would silently drop this one's state.
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} was written in another snapshot format ({}, this build reads {}); \
                     start the version that wrote it, or move the state directory aside",
                    path.display(),
                    String::from_utf8_lossy(&head).trim_end(),
                    String::from_utf8_lossy(MAGIC).trim_end()
                ),
            ));
        }
        match read(&path) {
            Ok(value) => return Ok(Some((seq, value))),
            Err(e) => {
                tracing::error!(file = %path.display(), error = %e, "Snapshot unreadable; trying an older one.");
            }
        }
    }
    Ok(None)
}

fn read<T: DeserializeOwned>(path: &Path) -> io::Result<T> {
    let bytes = fs::read(path)?;
    let invalid = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    let rest = bytes
        .strip_prefix(MAGIC.as_slice())
        .ok_or_else(|| invalid("not a driftscope snapshot (or another format version)"))?;
    if rest.len() < 12 {
        return Err(invalid("truncated header"));
    }
    let length = u64::from_le_bytes(rest[..8].try_into().expect("8 bytes"));
    let crc = u32::from_le_bytes(rest[8..12].try_into().expect("4 bytes"));
    let payload = &rest[12..];
    if payload.len() as u64 != length {
        return Err(invalid("truncated payload"));
    }
    if crc32fast::hash(payload) != crc {
        return Err(invalid("checksum mismatch"));
    }
    ciborium::from_reader(payload).map_err(|e| invalid(&e.to_string()))
}

fn name(seq: u64) -> String {
    format!("snapshot-{seq:020}.cbor")
}

fn snapshots(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let seq = path.file_name().and_then(|n| n.to_str()).and_then(|n| {
            n.strip_prefix("snapshot-")?
                .strip_suffix(".cbor")?
                .parse()
                .ok()
        });
        if let Some(seq) = seq {
            found.push((seq, path));
        }
    }
    found.sort_unstable();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_intact_snapshot_wins_and_damage_falls_back() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), 5, &vec![1.0, f64::NAN, f64::NEG_INFINITY]).unwrap();
        let (seq, v): (u64, Vec<f64>) = read_newest(dir.path()).unwrap().unwrap();
        assert_eq!(seq, 5);
        assert!(v[0] == 1.0 && v[1].is_nan() && v[2] == f64::NEG_INFINITY);
        // A later snapshot replaces it; a damaged newer one falls back to it.
        fs::copy(dir.path().join(name(5)), dir.path().join("keep")).unwrap();
        write(dir.path(), 9, &vec![2.0]).unwrap();
        assert!(!dir.path().join(name(5)).exists());
        fs::rename(dir.path().join("keep"), dir.path().join(name(5))).unwrap();
        let mut damaged = fs::read(dir.path().join(name(9))).unwrap();
        let last = damaged.len() - 1;
        damaged[last] ^= 1;
        fs::write(dir.path().join(name(9)), damaged).unwrap();
        let (seq, _): (u64, Vec<f64>) = read_newest(dir.path()).unwrap().unwrap();
        assert_eq!(seq, 5);
        fs::write(
            dir.path().join("snapshot-00000000000000000011.tmp"),
            b"half",
        )
        .unwrap();
        read_newest::<Vec<f64>>(dir.path()).unwrap();
        assert!(
            !dir.path()
                .join("snapshot-00000000000000000011.tmp")
                .exists()
        );
        // Another format version is an error, not a reason to fall back to older state.
        fs::write(dir.path().join(name(12)), b"DSNAP99\nlater").unwrap();
        let error = read_newest::<Vec<f64>>(dir.path()).unwrap_err();
        assert!(error.to_string().contains("DSNAP99"), "{error}");
    }
}
