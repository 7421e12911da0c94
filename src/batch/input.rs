//! Inputs: expands the command line's files and directories (recursively, in name order)
//! and opens each one, decompressing gzip (multi-member too) and zstd by their magic bytes.

use anyhow::{Result, bail};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// One input in processing order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The name shown in messages, stats and dead letters.
    pub name: String,
    /// `None` for stdin.
    pub path: Option<PathBuf>,
    /// Stored size when known (for progress and ETA).
    pub size: Option<u64>,
}

/// How an input is compressed (detected from its first bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Expands `args` (files, directories, `-`) into inputs. Directories are walked recursively
/// in name order; files among `exclude` (the run's own outputs) are skipped there, and are an
/// error when named directly. A path that does not exist is kept: opening it reports it.
pub fn expand(args: &[PathBuf], exclude: &[PathBuf]) -> Result<Vec<Input>> {
    let exclude: Vec<PathBuf> = exclude
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    let mut out = Vec::new();
    for a in args {
        if a.as_os_str() == "-" {
            out.push(Input {
                name: "<stdin>".into(),
                path: None,
                size: None,
            });
            continue;
        }
        if a.is_dir() {
            walk(a, &exclude, &mut out, 0)?;
            continue;
        }
        if std::fs::canonicalize(a).is_ok_and(|c| exclude.contains(&c)) {
            bail!(
                "input {} is also an output of this run (output, dead letters, checkpoint or stats)",
                a.display()
            );
        }
        out.push(file_input(a));
    }
    Ok(out)
}

fn file_input(p: &Path) -> Input {
    Input {
        name: p.display().to_string(),
        path: Some(p.to_path_buf()),
        size: std::fs::metadata(p).ok().map(|m| m.len()),
    }
}

fn walk(dir: &Path, exclude: &[PathBuf], out: &mut Vec<Input>, depth: usize) -> Result<()> {
    if depth > 64 {
        bail!(
            "{}: directories nested too deep (a link loop?)",
            dir.display()
        );
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| anyhow::anyhow!("cannot read directory {}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, exclude, out, depth + 1)?;
        } else if p.is_file() {
            if std::fs::canonicalize(&p).is_ok_and(|c| exclude.contains(&c)) {
                continue;
            }
            out.push(file_input(&p));
        }
    }
    Ok(())
}

/// Counts bytes read through it into a shared counter (progress) and its own total.
pub struct Counting<R> {
    inner: R,
    shared: Arc<AtomicU64>,
    pub total: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.shared.fetch_add(n as u64, Ordering::Relaxed);
        self.total.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// An opened input: the decompressed stream, the compression found, and a counter of stored
/// bytes read so far.
pub struct Opened {
    pub reader: Box<dyn Read + Send>,
    pub compression: Compression,
    pub stored_bytes: Arc<AtomicU64>,
}

/// Opens an input; `progress` counts stored bytes read across all inputs.
pub fn open(input: &Input, progress: Arc<AtomicU64>) -> io::Result<Opened> {
    let raw: Box<dyn Read + Send> = match &input.path {
        None => Box::new(io::stdin()),
        Some(p) => Box::new(std::fs::File::open(p)?),
    };
    let stored_bytes = Arc::new(AtomicU64::new(0));
    let counting = Counting {
        inner: raw,
        shared: progress,
        total: stored_bytes.clone(),
    };
    let mut buffered = BufReader::with_capacity(256 << 10, counting);
    let head = buffered.fill_buf()?;
    let compression = sniff(head);
    let reader: Box<dyn Read + Send> = match compression {
        Compression::None => Box::new(buffered),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(buffered)),
        Compression::Zstd => Box::new(zstd::Decoder::with_buffer(buffered)?),
    };
    Ok(Opened {
        reader,
        compression,
        stored_bytes,
    })
}

/// Compression by magic bytes: gzip `1f 8b`, zstd `28 b5 2f fd`.
pub fn sniff(head: &[u8]) -> Compression {
    if head.starts_with(&[0x1f, 0x8b]) {
        Compression::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Compression::Zstd
    } else {
        Compression::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn read_all(input: &Input) -> String {
        let mut s = String::new();
        open(input, Arc::new(AtomicU64::new(0)))
            .unwrap()
            .reader
            .read_to_string(&mut s)
            .unwrap();
        s
    }

    #[test]
    fn opens_plain_multi_member_gzip_and_zstd() {
        let dir = std::env::temp_dir().join(format!("soc-input-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("a.log"), "one\ntwo\n").unwrap();
        let mut gz = Vec::new();
        for part in ["three\n", "four\n"] {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(part.as_bytes()).unwrap();
            gz.extend(e.finish().unwrap());
        }
        std::fs::write(dir.join("sub/b.log.gz"), gz).unwrap();
        let zst = zstd::encode_all(&b"five\n"[..], 3).unwrap();
        std::fs::write(dir.join("sub/c.zst"), zst).unwrap();
        let inputs = expand(std::slice::from_ref(&dir), &[dir.join("a.log")]).unwrap();
        let names: Vec<_> = inputs
            .iter()
            .map(|i| {
                i.path
                    .as_ref()
                    .unwrap()
                    .strip_prefix(&dir)
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(names, [Path::new("sub/b.log.gz"), Path::new("sub/c.zst")]);
        assert_eq!(read_all(&inputs[0]), "three\nfour\n");
        assert_eq!(read_all(&inputs[1]), "five\n");
        let direct = expand(&[dir.join("a.log")], &[]).unwrap();
        assert_eq!(read_all(&direct[0]), "one\ntwo\n");
        assert!(expand(&[dir.join("a.log")], &[dir.join("a.log")]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
