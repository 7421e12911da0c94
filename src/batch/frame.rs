//! Framing: turns a byte stream into chunks of records (one line each, or multi-line records
//! that start at lines matching `--first-line`).
//!
//! A chunk is one shared text buffer (`Text`) plus the byte ranges of its records, so the
//! workers slice records out of it without a copy per line. Records are cut exactly as
//! `soc spl run` cuts lines: split on `\n`, trailing `\r`s stripped, a last line without `\n`
//! still counts, invalid UTF-8 decoded lossily (U+FFFD) and flagged. Records longer than the
//! limit are kept whole and flagged for the dead-letter file. Depends on `event::Text` only.

use crate::event::Text;
use regex::Regex;
use std::io::{self, Read};
use std::ops::Range;

/// The record had invalid UTF-8 (it was decoded lossily).
pub const INVALID_UTF8: u8 = 1;
/// The record is longer than the limit: it goes to the dead letters whole.
pub const OVER_LONG: u8 = 2;

/// How lines are grouped into records.
#[derive(Debug, Clone, Default)]
pub enum Framing {
    /// One record per line.
    #[default]
    Lines,
    /// A record starts at each line matching the regex (unanchored search) and takes the
    /// following non-matching lines; lines before the first match form a record of their own.
    FirstLine(Regex),
}

/// Framing settings.
#[derive(Debug, Clone)]
pub struct FrameOptions {
    pub framing: Framing,
    /// Target size of a chunk's text in bytes (a chunk ends at the first record boundary
    /// after it).
    pub chunk_bytes: usize,
    /// Records longer than this (bytes, without the line end) are flagged [`OVER_LONG`].
    pub max_record_bytes: usize,
    /// Blank records are not records at all (NDJSON input, as `spl run` skips them).
    pub skip_blank: bool,
}

impl Default for FrameOptions {
    fn default() -> Self {
        FrameOptions {
            framing: Framing::Lines,
            chunk_bytes: 1 << 20,
            max_record_bytes: 1 << 20,
            skip_blank: false,
        }
    }
}

/// One record: its range in the chunk text, the 1-based number of its first line, flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    pub start: u32,
    pub end: u32,
    pub line: u64,
    pub flags: u8,
}

impl Record {
    pub fn range(&self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// A run of records sharing one text buffer.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub text: Text,
    pub records: Vec<Record>,
    /// The original bytes of records that had invalid UTF-8, by index in `records`, so a
    /// failed one can be replayed exactly.
    pub raw_invalid: Vec<(u32, Box<[u8]>)>,
    /// Bytes of input consumed for this chunk (decompressed, line ends included).
    pub bytes: u64,
}

impl Chunk {
    pub fn empty() -> Self {
        Chunk {
            text: Text::new(""),
            records: Vec::new(),
            raw_invalid: Vec::new(),
            bytes: 0,
        }
    }

    /// The text of record `i`.
    pub fn record_text(&self, i: usize) -> Text {
        self.text.slice(self.records[i].range())
    }

    /// The original bytes of record `i` when it had invalid UTF-8.
    pub fn raw_bytes(&self, i: usize) -> Option<&[u8]> {
        self.raw_invalid
            .binary_search_by_key(&(i as u32), |(k, _)| *k)
            .ok()
            .map(|j| &*self.raw_invalid[j].1)
    }

    /// Drops the first `n` records (already committed by an earlier run).
    pub fn skip_records(&mut self, n: usize) {
        let n = n.min(self.records.len());
        self.records.drain(..n);
        self.raw_invalid.retain(|(k, _)| *k as usize >= n);
        for (k, _) in &mut self.raw_invalid {
            *k -= n as u32;
        }
    }

    /// Keeps only the first `n` records.
    pub fn truncate_records(&mut self, n: usize) {
        self.records.truncate(n);
        self.raw_invalid.retain(|(k, _)| (*k as usize) < n);
    }
}

/// Reads a stream and cuts it into chunks.
pub struct Framer<R> {
    reader: R,
    options: FrameOptions,
    /// Storage; `buf[..filled]` are bytes read but not framed yet (the start of a line or
    /// record that continues).
    buf: Vec<u8>,
    filled: usize,
    eof: bool,
    /// Lines fully consumed so far.
    lines: u64,
}

impl<R: Read> Framer<R> {
    pub fn new(reader: R, options: FrameOptions) -> Self {
        Framer {
            reader,
            buf: Vec::new(),
            filled: 0,
            options,
            eof: false,
            lines: 0,
        }
    }

    /// Reads at least `want` more bytes unless the stream ends first.
    fn fill(&mut self, want: usize) -> io::Result<()> {
        let target = self.filled + want.max(1);
        while self.filled < target && !self.eof {
            let room = (target - self.filled).max(8 << 10);
            if self.buf.len() < self.filled + room {
                // Grown (and zeroed) only when needed: the storage is reused across chunks.
                self.buf.resize(self.filled + room, 0);
            }
            let n = loop {
                match self
                    .reader
                    .read(&mut self.buf[self.filled..self.filled + room])
                {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
            self.filled += n;
            if n == 0 {
                self.eof = true;
            }
        }
        Ok(())
    }

    /// Where the framed part of `buf` ends: after the last complete record that cannot grow
    /// any more. `None` when more input is needed to close even one record.
    fn framed_end(&self) -> Option<usize> {
        if self.eof {
            return (self.filled > 0).then_some(self.filled);
        }
        let last_nl = memchr::memrchr(b'\n', &self.buf[..self.filled])?;
        match &self.options.framing {
            Framing::Lines => Some(last_nl + 1),
            Framing::FirstLine(re) => {
                // The last record may go on in the next read: cut before its first line.
                let complete = &self.buf[..last_nl + 1];
                let mut end = None;
                let mut pos = last_nl + 1;
                while pos > 0 {
                    let start = memchr::memrchr(b'\n', &complete[..pos - 1]).map_or(0, |i| i + 1);
                    let line = strip_cr(&complete[start..pos - 1]);
                    if start > 0 && re.is_match(&String::from_utf8_lossy(line)) {
                        end = Some(start);
                        break;
                    }
                    pos = start;
                }
                end
            }
        }
    }

    /// The next chunk, or `None` at the end of the stream.
    pub fn next_chunk(&mut self) -> io::Result<Option<Chunk>> {
        let want = self.options.chunk_bytes.saturating_sub(self.filled);
        self.fill(want)?;
        let end = loop {
            if let Some(end) = self.framed_end() {
                break end;
            }
            if self.eof {
                return Ok(None);
            }
            // One record longer than a chunk: read on until it closes.
            let more = self.filled.max(64 << 10);
            self.fill(more)?;
        };
        let chunk = self.frame(end);
        self.buf.copy_within(end..self.filled, 0);
        self.filled -= end;
        Ok(Some(chunk))
    }

    fn frame(&mut self, end: usize) -> Chunk {
        let data = &self.buf[..end];
        let mut records = Vec::with_capacity(data.len() / 128 + 1);
        let mut raw_invalid = Vec::new();
        let first_chunk = self.lines == 0;
        let (text, lossy) = match std::str::from_utf8(data) {
            Ok(s) => (Text::from_arc(s.into()), false),
            Err(_) => (Text::new(""), true),
        };
        let text = if lossy {
            // Slow path: decode line by line so each record knows whether it was lossy and
            // its original bytes stay available. `\n` never belongs to a UTF-8 sequence, so
            // this equals decoding the whole buffer at once (and `spl run` per line).
            let mut s = String::with_capacity(data.len() + 64);
            // Per line: (new start, new end, old start, old end, lossy); ends without `\r`.
            let mut lines: Vec<(usize, usize, usize, usize, bool)> = Vec::new();
            let mut pos = 0;
            while pos < data.len() {
                let nl = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i);
                let line = &data[pos..nl];
                let start = s.len();
                let decoded = String::from_utf8_lossy(line);
                let bad = matches!(decoded, std::borrow::Cow::Owned(_));
                s.push_str(&decoded);
                let new_end = start + strip_cr(&s.as_bytes()[start..]).len();
                lines.push((start, new_end, pos, pos + strip_cr(line).len(), bad));
                if nl < data.len() {
                    s.push('\n');
                }
                pos = nl + 1;
            }
            let text = Text::from(s);
            cut_records(&self.options, &mut self.lines, &text, &mut records);
            for (i, r) in records.iter_mut().enumerate() {
                let first = lines.partition_point(|l| l.0 < r.start as usize);
                let last = lines.partition_point(|l| l.1 < r.end as usize);
                let (first, last) = (
                    first.min(lines.len() - 1),
                    last.min(lines.len() - 1).max(first),
                );
                if lines[first..=last].iter().any(|l| l.4) {
                    r.flags |= INVALID_UTF8;
                    raw_invalid.push((i as u32, data[lines[first].2..lines[last].3].into()));
                }
            }
            text
        } else {
            cut_records(&self.options, &mut self.lines, &text, &mut records);
            text
        };
        // A UTF-8 byte-order mark at the start of the stream is not part of the first record
        // (the byte accounting still counts it: `bytes` is what was read).
        if first_chunk
            && text.as_bytes().starts_with("\u{feff}".as_bytes())
            && let Some(r) = records.first_mut()
            && r.start == 0
        {
            r.start = 3.min(r.end);
        }
        Chunk {
            text,
            records,
            raw_invalid,
            bytes: end as u64,
        }
    }
}

/// Cuts `text` (whole lines, the last one maybe without `\n` at the end of the stream) into
/// records; `lines` counts the lines consumed so far.
fn cut_records(options: &FrameOptions, lines: &mut u64, text: &Text, records: &mut Vec<Record>) {
    let s = text.as_bytes();
    let max = options.max_record_bytes;
    let skip_blank = options.skip_blank;
    let mut push = |start: usize, end: usize, line: u64| {
        if skip_blank && s[start..end].iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let flags = if end - start > max { OVER_LONG } else { 0 };
        records.push(Record {
            start: start as u32,
            end: end as u32,
            line,
            flags,
        });
    };
    let mut pos = 0;
    // The open multi-line record: (start, end, first line number).
    let mut open: Option<(usize, usize, u64)> = None;
    while pos < s.len() {
        let nl = memchr::memchr(b'\n', &s[pos..]).map_or(s.len(), |i| pos + i);
        let end = pos + strip_cr(&s[pos..nl]).len();
        *lines += 1;
        match &options.framing {
            Framing::Lines => push(pos, end, *lines),
            Framing::FirstLine(re) => {
                let starts = re.is_match(&text.as_str()[pos..end]);
                match &mut open {
                    Some((_, e, _)) if !starts => *e = end,
                    _ => {
                        if let Some((s0, e0, l0)) = open.take() {
                            push(s0, e0, l0);
                        }
                        open = Some((pos, end, *lines));
                    }
                }
            }
        }
        pos = nl + 1;
    }
    if let Some((s0, e0, l0)) = open {
        push(s0, e0, l0);
    }
}

/// Strips trailing `\r`s (the `\n` is already cut off), as `spl run` does.
fn strip_cr(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && (line[end - 1] == b'\r' || line[end - 1] == b'\n') {
        end -= 1;
    }
    &line[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame_all(input: &[u8], options: FrameOptions) -> Vec<(String, u64, u8)> {
        let mut f = Framer::new(input, options);
        let mut out = Vec::new();
        while let Some(c) = f.next_chunk().unwrap() {
            for (i, r) in c.records.iter().enumerate() {
                out.push((c.record_text(i).to_string(), r.line, r.flags));
            }
        }
        out
    }

    fn small(chunk: usize) -> FrameOptions {
        FrameOptions {
            chunk_bytes: chunk,
            ..FrameOptions::default()
        }
    }

    #[test]
    fn lines_are_cut_like_spl_run() {
        let got = frame_all(b"a\r\nb\n\nc", small(1 << 20));
        let texts: Vec<_> = got.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(texts, ["a", "b", "", "c"]);
        assert_eq!(got[3].1, 4);
        assert!(frame_all(b"", small(16)).is_empty());
        assert_eq!(frame_all(b"x\n", small(16)).len(), 1);
    }

    #[test]
    fn a_byte_order_mark_opens_the_stream_not_the_first_record() {
        let got = frame_all("\u{feff}{\"a\":1}\n\u{feff}x\n".as_bytes(), small(1 << 20));
        let texts: Vec<_> = got.iter().map(|r| r.0.as_str()).collect();
        // Only the stream's mark goes; one inside the data is data.
        assert_eq!(texts, ["{\"a\":1}", "\u{feff}x"]);
        let got = frame_all("\u{feff}".as_bytes(), small(16));
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn tiny_chunks_give_the_same_records() {
        let input: String = (0..500).map(|i| format!("line {i}\n")).collect();
        let big = frame_all(input.as_bytes(), small(1 << 20));
        for chunk in [1, 7, 64, 1000] {
            assert_eq!(
                frame_all(input.as_bytes(), small(chunk)),
                big,
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn invalid_utf8_is_lossy_and_flagged_with_original_bytes() {
        let input = b"ok\nbad \xff\xfe here\r\nfine\n";
        let mut f = Framer::new(&input[..], small(1 << 20));
        let c = f.next_chunk().unwrap().unwrap();
        assert_eq!(c.records.len(), 3);
        assert_eq!(&*c.record_text(1), "bad \u{fffd}\u{fffd} here");
        assert_eq!(c.records[1].flags, INVALID_UTF8);
        assert_eq!(c.records[0].flags | c.records[2].flags, 0);
        assert_eq!(c.raw_bytes(1), Some(&b"bad \xff\xfe here"[..]));
        assert_eq!(c.raw_bytes(0), None);
        assert_eq!(&*c.record_text(2), "fine");
    }

    #[test]
    fn over_long_records_are_flagged_whole() {
        let long = "x".repeat(300);
        let input = format!("short\n{long}\nshort\n");
        let options = FrameOptions {
            chunk_bytes: 64,
            max_record_bytes: 100,
            ..FrameOptions::default()
        };
        let got = frame_all(input.as_bytes(), options);
        assert_eq!(got.len(), 3);
        assert_eq!(got[1], (long, 2, OVER_LONG));
    }

    #[test]
    fn multi_line_records_start_at_matching_lines() {
        let input = "preamble\n2024-01-01 a\n  at x\n  at y\n2024-01-02 b\n2024-01-03 c\n  tail";
        let re = Regex::new(r"^\d{4}-").unwrap();
        let expect = vec![
            ("preamble".to_string(), 1, 0),
            ("2024-01-01 a\n  at x\n  at y".to_string(), 2, 0),
            ("2024-01-02 b".to_string(), 5, 0),
            ("2024-01-03 c\n  tail".to_string(), 6, 0),
        ];
        for chunk in [1, 5, 20, 1 << 20] {
            let options = FrameOptions {
                framing: Framing::FirstLine(re.clone()),
                chunk_bytes: chunk,
                ..FrameOptions::default()
            };
            assert_eq!(
                frame_all(input.as_bytes(), options),
                expect,
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn blank_records_are_skipped_for_ndjson() {
        let options = FrameOptions {
            skip_blank: true,
            ..FrameOptions::default()
        };
        let got = frame_all(b"{}\n\n  \n{}\n", options);
        assert_eq!(got.iter().map(|r| r.1).collect::<Vec<_>>(), [1, 4]);
    }

    #[test]
    fn skip_and_truncate_keep_raw_bytes_aligned() {
        let mut f = Framer::new(&b"a\nb\xff\nc\nd\xfe\n"[..], small(1 << 20));
        let mut c = f.next_chunk().unwrap().unwrap();
        c.skip_records(1);
        assert_eq!(c.raw_bytes(0), Some(&b"b\xff"[..]));
        assert_eq!(c.raw_bytes(2), Some(&b"d\xfe"[..]));
        c.truncate_records(2);
        assert_eq!(c.raw_bytes(2), None);
        assert_eq!(c.records.len(), 2);
    }
}
