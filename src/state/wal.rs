//! The write-ahead log: checksummed frames of numbered events, in segment files.
//!
//! A segment starts with a magic header (`DWAL0001`) that carries the format version: a build that cannot
//! read a segment refuses to start instead of dropping its events. A frame is
//! `[payload length: u32 LE][CRC-32 of payload: u32 LE][payload]`, the payload a CBOR
//! `(seq, event)`. A segment `wal-<first seq>.log` is only ever appended to; a snapshot
//! starts a new one and makes the older ones deletable. Reading stops at the first frame
//! that is short, fails its checksum or does not decode (a write torn by a crash): that tail
//! is cut off, never fatal.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// First bytes of every segment; the digits are the format version.
const MAGIC: &[u8; 8] = b"DWAL0001";

/// Bytes of a frame header.
const HEADER: usize = 8;

/// Largest frame accepted when reading: a corrupt length must not allocate gigabytes.
const MAX_FRAME: usize = 1 << 30;

/// The segment being appended to.
#[derive(Debug)]
pub struct Wal {
    dir: PathBuf,
    file: File,
    /// Reused encode buffer.
    buffer: Vec<u8>,
    /// Bytes of whole frames in the file: a failed write is cut back to this.
    len: u64,
    /// A failed write could not be cut back: nothing more is appended to this segment.
    broken: bool,
    /// Syncs this segment; shared with requests waiting for their event to be on disk.
    syncer: Arc<Syncer>,
}

/// Group commit: requests append under the monitor's lock, then wait for the disk outside
/// it, so one `fsync` covers every event written before it started.
#[derive(Debug)]
pub struct Syncer {
    /// A handle on the segment, for `sync_data`.
    file: Mutex<File>,
    /// Highest sequence number written to the segment.
    written: AtomicU64,
    /// Highest sequence number known to be on disk.
    synced: AtomicU64,
}

impl Syncer {
    /// Returns once event `seq` (and every event before it) is on disk.
    pub fn sync_through(&self, seq: u64) -> io::Result<()> {
        if self.synced.load(Ordering::Acquire) >= seq {
            return Ok(());
        }
        let file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        // Another request's fsync may have covered this event while we waited.
        if self.synced.load(Ordering::Acquire) >= seq {
            return Ok(());
        }
        let target = self.written.load(Ordering::Acquire);
        file.sync_data()?;
        self.synced.fetch_max(target, Ordering::AcqRel);
        Ok(())
    }

    /// Syncs everything written so far (`fsync: interval` calls this on a timer).
    pub fn sync_all_written(&self) -> io::Result<()> {
        self.sync_through(self.written.load(Ordering::Acquire))
    }
}

/// What reading a monitor's segments found.
#[derive(Debug)]
pub struct Replay<E> {
    /// Events with a sequence number above the one asked for, in order.
    pub events: Vec<(u64, E)>,
    /// Bytes cut from torn or corrupt tails.
    pub truncated_bytes: u64,
}

impl Wal {
    /// Starts segment `wal-<first>.log` in `dir` (empty, created now).
    pub fn create(dir: &Path, first: u64) -> io::Result<Self> {
        let path = dir.join(segment_name(first));
        let file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)?;
        (&file).write_all(MAGIC)?;
        super::sync_dir(dir)?;
        let syncer = Arc::new(Syncer {
            file: Mutex::new(file.try_clone()?),
            written: AtomicU64::new(0),
            synced: AtomicU64::new(0),
        });
        Ok(Self {
            dir: dir.to_owned(),
            file,
            buffer: Vec::new(),
            len: MAGIC.len() as u64,
            broken: false,
            syncer,
        })
    }

    /// Appends event `seq` (in the kernel's cache: it survives the process, not a power
    /// loss). [`Syncer::sync_through`] on the returned syncer puts it on disk.
    pub fn append<E: Serialize>(&mut self, seq: u64, event: &E) -> io::Result<Arc<Syncer>> {
        self.buffer.clear();
        self.buffer.extend_from_slice(&[0; HEADER]);
        ciborium::into_writer(&(seq, event), &mut self.buffer).map_err(io::Error::other)?;
        let payload = self.buffer.len() - HEADER;
        let length = u32::try_from(payload).map_err(|_| io::Error::other("event too large"))?;
        let crc = crc32fast::hash(&self.buffer[HEADER..]);
        self.buffer[..4].copy_from_slice(&length.to_le_bytes());
        self.buffer[4..HEADER].copy_from_slice(&crc.to_le_bytes());
        if self.broken {
            return Err(io::Error::other(
                "an earlier write to the log failed and could not be undone; the next snapshot starts a new segment",
            ));
        }
        if let Err(e) = self.file.write_all(&self.buffer) {
            // A partial frame would end the log at replay and hide every later event: cut it.
            let undone = self
                .file
                .set_len(self.len)
                .and_then(|()| self.file.seek(SeekFrom::Start(self.len)).map(|_| ()));
            self.broken = undone.is_err();
            return Err(e);
        }
        self.len += self.buffer.len() as u64;
        self.syncer.written.fetch_max(seq, Ordering::AcqRel);
        Ok(Arc::clone(&self.syncer))
    }

    /// The segment's syncer, to sync outside the monitor's lock.
    pub fn syncer(&self) -> Arc<Syncer> {
        Arc::clone(&self.syncer)
    }

    /// Ends this segment and starts `wal-<first>.log`; earlier segments stay until
    /// [`remove_segments_through`] after the covering snapshot is durable.
    pub fn rotate(&mut self, first: u64) -> io::Result<()> {
        self.syncer.sync_all_written()?;
        *self = Self::create(&self.dir, first)?;
        Ok(())
    }
}

/// Reads every segment in `dir` and returns the events numbered above `after`. Stops at the
/// first bad frame and cuts the file there, and at any gap in the numbering.
pub fn replay<E: DeserializeOwned>(dir: &Path, after: u64) -> io::Result<Replay<E>> {
    let mut replay = Replay {
        events: Vec::new(),
        truncated_bytes: 0,
    };
    let mut last = None;
    for (_, path) in segments(dir)? {
        let mut bytes = Vec::new();
        File::open(&path)?.read_to_end(&mut bytes)?;
        if !bytes.starts_with(MAGIC) && !MAGIC.starts_with(&bytes) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} was not written by this driftscope version (expected format {}); \
                     start the version that wrote it, or move the state directory aside",
                    path.display(),
                    String::from_utf8_lossy(MAGIC)
                ),
            ));
        }
        // A segment cut inside its header (a crash right after it was created) is empty.
        let start = MAGIC.len().min(bytes.len());
        let (events, frames) = read_frames::<E>(&bytes[start..]);
        let valid = start + frames;
        let mut gap = false;
        for (seq, event) in events {
            if last.is_some_and(|l: u64| seq != l + 1) {
                tracing::error!(segment = %path.display(), seq, "Gap in the write-ahead log; later events are ignored.");
                gap = true;
                break;
            }
            last = Some(seq);
            if seq > after {
                replay.events.push((seq, event));
            }
        }
        if valid < bytes.len() {
            let cut = (bytes.len() - valid) as u64;
            tracing::warn!(
                segment = %path.display(),
                bytes = cut,
                "Cut a torn or corrupt tail off the write-ahead log."
            );
            OpenOptions::new()
                .write(true)
                .open(&path)?
                .set_len(valid as u64)?;
            replay.truncated_bytes += cut;
        }
        if gap || valid < bytes.len() {
            break;
        }
    }
    Ok(replay)
}

/// Deletes the segments that start at or below `seq`: after a snapshot at `seq` (taken when
/// the segment starting at `seq + 1` began) they hold nothing the snapshot lacks.
pub fn remove_segments_through(dir: &Path, seq: u64) -> io::Result<()> {
    for (first, path) in segments(dir)? {
        if first <= seq {
            fs::remove_file(path)?;
        }
    }
    Ok(())
}

/// Decodes frames from the start of `bytes`; returns them and the length of the valid prefix.
fn read_frames<E: DeserializeOwned>(bytes: &[u8]) -> (Vec<(u64, E)>, usize) {
    let mut events = Vec::new();
    let mut at = 0;
    while bytes.len() - at >= HEADER {
        let length = u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes")) as usize;
        let crc = u32::from_le_bytes(bytes[at + 4..at + HEADER].try_into().expect("4 bytes"));
        let start = at + HEADER;
        if length > MAX_FRAME || bytes.len() - start < length {
            break;
        }
        let payload = &bytes[start..start + length];
        if crc32fast::hash(payload) != crc {
            break;
        }
        match ciborium::from_reader::<(u64, E), _>(payload) {
            Ok(event) => events.push(event),
            Err(_) => break,
        }
        at = start + length;
    }
    (events, at)
}

fn segment_name(first: u64) -> String {
    format!("wal-{first:020}.log")
}

/// Segment files in `dir` by first sequence number.
fn segments(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let first = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("wal-")?.strip_suffix(".log")?.parse().ok());
        if let Some(first) = first {
            found.push((first, path));
        }
    }
    found.sort_unstable();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, first: u64, events: &[(u64, String)]) {
        let mut wal = Wal::create(dir, first).unwrap();
        for (seq, e) in events {
            wal.append(*seq, e).unwrap();
        }
        wal.syncer().sync_all_written().unwrap();
    }

    #[test]
    fn replays_in_order_after_a_sequence_number() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), 1, &[(1, "a".into()), (2, "b".into())]);
        write(dir.path(), 3, &[(3, "c".into())]);
        let r: Replay<String> = replay(dir.path(), 1).unwrap();
        assert_eq!(r.events, vec![(2, "b".into()), (3, "c".into())]);
        assert_eq!(r.truncated_bytes, 0);
        remove_segments_through(dir.path(), 2).unwrap();
        assert_eq!(segments(dir.path()).unwrap()[0].0, 3);
    }

    #[test]
    fn a_torn_or_corrupt_tail_is_cut_at_the_last_good_frame() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            1,
            &[(1, "a".into()), (2, "b".into()), (3, "c".into())],
        );
        let path = dir.path().join(segment_name(1));
        let full = fs::read(&path).unwrap();
        for cut in 1..full.len() {
            fs::write(&path, &full[..cut]).unwrap();
            let r: Replay<String> = replay(dir.path(), 0).unwrap();
            let kept = fs::metadata(&path).unwrap().len() as usize;
            let start = MAGIC.len().min(cut);
            let (events, valid) = read_frames::<String>(&full[start..cut]);
            assert_eq!(r.events, events, "cut at {cut}");
            assert_eq!(kept, start + valid);
        }
        // A flipped bit in the middle frame: frames before it survive, the rest are cut.
        let mut flipped = full.clone();
        let second = HEADER + (full.len() / 3);
        flipped[second] ^= 0x40;
        fs::write(&path, &flipped).unwrap();
        let r: Replay<String> = replay(dir.path(), 0).unwrap();
        assert!(r.events.len() < 3 && r.truncated_bytes > 0);
        assert_eq!(r.events[0], (1, "a".into()));
    }

    #[test]
    fn a_segment_of_another_format_version_stops_recovery() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(segment_name(1)), b"DWAL9999 later format").unwrap();
        let error = replay::<String>(dir.path(), 0).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert!(error.to_string().contains("DWAL0001"), "{error}");
        // Nothing was cut.
        assert_eq!(
            fs::read(dir.path().join(segment_name(1))).unwrap().len(),
            21
        );
    }
}
