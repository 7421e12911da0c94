//! Accounting: counts per chunk, per input file and per run, the `--stats` JSON and the
//! summary printed at the end. The invariant `read == written + failed + dropped` holds for
//! every chunk, so it holds for every file and every run.

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Event counts. `read` counts records after framing; every record is exactly one of
/// written (gave ≥ 1 output row), failed (runtime error, over-long, not JSON) or dropped
/// (gave no row without failing, e.g. removed by `where`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub read: u64,
    pub written: u64,
    pub failed: u64,
    pub dropped: u64,
    /// Output rows (≥ written: `expand-values` and `.let` outputs may give several per event).
    pub rows_out: u64,
    /// Records decoded lossily (kept and processed; also counted in the buckets above).
    pub invalid_utf8: u64,
    /// Records over the length limit (part of `failed`).
    pub over_long: u64,
    /// Decompressed input bytes, line ends included.
    pub bytes: u64,
    /// Written records that no parse stage matched (`spl::ParseOutcome::unparsed`): they
    /// went out with only their raw fields. Part of `written`, not a fourth bucket.
    #[serde(default)]
    pub unparsed: u64,
}

impl Counts {
    pub fn add(&mut self, o: &Counts) {
        self.read += o.read;
        self.written += o.written;
        self.failed += o.failed;
        self.dropped += o.dropped;
        self.rows_out += o.rows_out;
        self.invalid_utf8 += o.invalid_utf8;
        self.over_long += o.over_long;
        self.bytes += o.bytes;
        self.unparsed += o.unparsed;
    }

    /// Unparsed records as a percentage of written ones (0 when nothing was written).
    pub fn unparsed_percent(&self) -> f64 {
        if self.written == 0 {
            0.0
        } else {
            self.unparsed as f64 * 100.0 / self.written as f64
        }
    }

    /// `read == written + failed + dropped`.
    pub fn reconciles(&self) -> bool {
        self.read == self.written + self.failed + self.dropped
    }
}

/// How an input file fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Not reached yet (interrupted run).
    Pending,
    /// Partly read when the run was interrupted.
    Partial,
    Done,
    /// Could not be opened.
    Missing,
    /// Failed while reading (e.g. a corrupt archive); the records before the error count.
    Error,
}

impl FileStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Pending => "pending",
            FileStatus::Partial => "partial",
            FileStatus::Done => "done",
            FileStatus::Missing => "missing",
            FileStatus::Error => "error",
        }
    }
}

/// Accounting for one input file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileStats {
    pub path: String,
    pub status: FileStatus,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// Bytes read from the file as stored (compressed size for archives).
    pub stored_bytes: u64,
    #[serde(flatten)]
    pub counts: Counts,
}

/// Accounting for a whole run (the `--stats` JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Totals over all files (including work done before a `--resume`).
    pub totals: Counts,
    pub files: Vec<FileStats>,
    /// Seconds this process ran the batch (not counting earlier interrupted runs).
    pub elapsed_secs: f64,
    /// Records read by this process.
    pub session_read: u64,
    /// Decompressed bytes read by this process.
    pub session_bytes: u64,
    pub events_per_sec: f64,
    pub mb_per_sec: f64,
    pub threads: usize,
    /// The most chunks that were read and not yet written at once, and the bound.
    pub peak_chunks_in_flight: u64,
    pub max_chunks_in_flight: u64,
    pub interrupted: bool,
    pub resumed: bool,
    /// Lenient coercions that gave NULL.
    pub coercion_warnings: u64,
}

impl Report {
    pub fn missing_files(&self) -> usize {
        self.files
            .iter()
            .filter(|f| matches!(f.status, FileStatus::Missing | FileStatus::Error))
            .count()
    }

    /// The human summary (several lines, for stderr).
    pub fn summary(&self) -> String {
        let t = &self.totals;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{}: {} read = {} written + {} failed + {} dropped; {} rows out{}{}{}",
            if self.interrupted {
                "interrupted"
            } else {
                "normalized"
            },
            t.read,
            t.written,
            t.failed,
            t.dropped,
            t.rows_out,
            if t.unparsed > 0 {
                format!(
                    "; {} written unparsed ({:.1}%: no parse stage matched)",
                    t.unparsed,
                    t.unparsed_percent()
                )
            } else {
                String::new()
            },
            if t.invalid_utf8 > 0 {
                format!("; {} with invalid UTF-8 (kept)", t.invalid_utf8)
            } else {
                String::new()
            },
            if t.over_long > 0 {
                format!("; {} over-long", t.over_long)
            } else {
                String::new()
            },
        );
        let _ = writeln!(
            s,
            "{} in {} file(s), {:.1} MB in {:.2} s: {:.0} events/s, {:.1} MB/s ({} threads){}",
            if self.resumed { "resumed run" } else { "run" },
            self.files.len(),
            self.session_bytes as f64 / 1e6,
            self.elapsed_secs,
            self.events_per_sec,
            self.mb_per_sec,
            self.threads,
            if self.coercion_warnings > 0 {
                format!(
                    "; {} value(s) were not numbers where a number was expected and became NULL",
                    self.coercion_warnings
                )
            } else {
                String::new()
            }
        );
        if self.files.len() > 1 && self.files.len() <= 20 {
            for f in &self.files {
                let c = &f.counts;
                let _ = writeln!(
                    s,
                    "  {}: {}, {} read, {} written ({} unparsed), {} failed, {} dropped{}",
                    f.path,
                    f.status.as_str(),
                    c.read,
                    c.written,
                    c.unparsed,
                    c.failed,
                    c.dropped,
                    f.error
                        .as_ref()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                );
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_and_reconcile() {
        let mut a = Counts {
            read: 3,
            written: 1,
            failed: 1,
            dropped: 1,
            ..Counts::default()
        };
        assert!(a.reconciles());
        a.add(&Counts {
            read: 1,
            written: 1,
            rows_out: 2,
            ..Counts::default()
        });
        assert_eq!((a.read, a.written, a.rows_out), (4, 2, 2));
        assert!(a.reconciles());
        a.read += 1;
        assert!(!a.reconciles());
    }
}
