//! Checkpoints for `--resume`: what has been committed to the output, so an interrupted run
//! can go on without duplicating or losing events.
//!
//! The output and dead-letter files are flushed before a checkpoint names their lengths; on
//! resume both are truncated to those lengths (anything after was not committed) and
//! appended to. Compressed output is written as one gzip member / zstd frame per chunk, so
//! a committed length is always a member boundary and the result stays one valid stream.
//! The file is replaced atomically (write to a temporary file, then rename).

use crate::batch::stats::FileStats;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The committed state of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Checkpoint {
    pub version: u32,
    /// Hash of the rule, the settings that change the output, and the input list: a resume
    /// with anything different would mix two outputs.
    pub fingerprint: String,
    /// Index of the first input not fully committed (`files.len()` when all are).
    pub file: usize,
    /// Records of that input already committed (they are skipped on resume).
    pub records: u64,
    pub output_bytes: u64,
    pub dead_letter_bytes: u64,
    /// Bytes of the unparsed dead-letter file (absent in checkpoints of older versions).
    #[serde(default)]
    pub unparsed_bytes: u64,
    /// Accounting so far, per input (cumulative over resumed runs).
    pub files: Vec<FileStats>,
    pub coercion_warnings: u64,
}

pub const VERSION: u32 = 1;

/// The default checkpoint path for an output file: `OUT.checkpoint`.
pub fn default_path(output: &Path) -> PathBuf {
    let mut s = output.as_os_str().to_owned();
    s.push(".checkpoint");
    PathBuf::from(s)
}

impl Checkpoint {
    /// Loads a checkpoint; `None` when there is none.
    pub fn load(path: &Path) -> Result<Option<Checkpoint>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let c: Checkpoint = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a checkpoint", path.display()))?;
        if c.version != VERSION {
            bail!(
                "{} is a checkpoint of version {}, this soc writes version {VERSION}",
                path.display(),
                c.version
            );
        }
        Ok(Some(c))
    }

    /// Writes the checkpoint atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let tmp = temporary_path(path);
        let text = serde_json::to_string_pretty(self).expect("checkpoint serializes");
        std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }
}

/// Where a checkpoint is written before it is renamed into place.
pub fn temporary_path(path: &Path) -> PathBuf {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    PathBuf::from(tmp)
}

/// A stable hash of the given parts (xxh64, hex).
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h = xxhash_rust::xxh64::Xxh64::new(0x50c);
    for p in parts {
        h.update(&(p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    format!("{:016x}", h.digest())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_loads_and_fingerprints() {
        let dir = std::env::temp_dir().join(format!("soc-ckpt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = default_path(&dir.join("out.ndjson"));
        assert!(path.ends_with("out.ndjson.checkpoint"));
        assert!(Checkpoint::load(&path).unwrap().is_none());
        let c = Checkpoint {
            version: VERSION,
            fingerprint: fingerprint(&["a", "b"]),
            file: 1,
            records: 42,
            output_bytes: 1000,
            dead_letter_bytes: 10,
            unparsed_bytes: 7,
            files: Vec::new(),
            coercion_warnings: 0,
        };
        c.save(&path).unwrap();
        let back = Checkpoint::load(&path).unwrap().unwrap();
        assert_eq!((back.file, back.records, back.output_bytes), (1, 42, 1000));
        assert_eq!(back.unparsed_bytes, 7);
        assert_ne!(fingerprint(&["ab", ""]), fingerprint(&["a", "b"]));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
