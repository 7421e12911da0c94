//! SPL functions: the date/time family (`date_parse`, `date_format`, `from_unixtime`,
//! `date_trunc`, extractors...), plus the timestamp text parser `cast` uses.
//!
//! Owns: `DateFormat` (a MySQL or Joda pattern compiled once into items, parsed with a
//! hand-written scanner: no regex, no allocation per call beyond the result),
//! `parse_timestamp_text`, `parse_date_text`, `parse_zone` and the function entries.
//!
//! Semantics (SPL.md 4.6, Presto where SLS is silent):
//! - A timestamp is UTC nanoseconds plus a display zone (`event::Zone`); the representable
//!   range is that of i64 nanoseconds (1677-09-21 to 2262-04-11): anything outside is an
//!   error, never a panic.
//! - Fields, formatting, `date_trunc` and calendar units of `date_add`/`date_diff` work on
//!   the wall time of the timestamp's own zone.
//! - Timestamp parameters also accept DATE (midnight UTC) and VARCHAR text in ISO 8601 or
//!   `YYYY-MM-DD[ HH:MM[:SS[.fffffffff]]][zone]` form (SLS fields are text).
//! - Zones are IANA names (`Asia/Shanghai`, any case), `UTC`/`Z`/`GMT`, or offsets
//!   (`+01:00`, `-0800`, `+8`, `UTC+8`).
//!
//! Depends on chrono/chrono-tz, `event` and the registry only.

use super::{Env, FnError, FnResult, Function, Kind, Param, Prepared, ex, ex_in};
use crate::event::{Timestamp, Value, Zone};
use chrono::{
    Datelike, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Timelike,
};
use std::fmt::Write as _;

const NANOS_PER_SEC: i64 = 1_000_000_000;
const NANOS_PER_DAY: i64 = 86_400 * NANOS_PER_SEC;
const RANGE: &str = "timestamp out of range (1677-09-21 to 2262-04-11)";

const TS: Kind = Kind::Timestamp;

pub(super) const FUNCTIONS: &[Function] = &[
    Function::new(
        "current_date",
        &[],
        Kind::Date,
        "Today's date (UTC) at evaluation time.",
        &[ex("current_date IS NOT NULL", "true")],
        current_date,
    ),
    Function::new(
        "current_timestamp",
        &[],
        TS,
        "The evaluation time as a timestamp (UTC).",
        &[ex("current_timestamp IS NOT NULL", "true")],
        now,
    ),
    Function::new(
        "now",
        &[],
        TS,
        "The evaluation time as a timestamp (UTC); same as current_timestamp.",
        &[ex("now() IS NOT NULL", "true")],
        now,
    ),
    Function::new(
        "from_unixtime",
        &[Param::req("unixtime", Kind::Number), Param::opt("zone", Kind::Any), Param::opt("minutes", Kind::Int)],
        TS,
        "Timestamp from Unix seconds (fractions allowed), shown in a zone given by name, by offset text, or by hours [and minutes].",
        &[
            ex("from_unixtime(1534521600)", r#""2018-08-17T16:00:00Z""#),
            ex("from_unixtime(1534521600, '+01:00')", r#""2018-08-17T17:00:00+01:00""#),
            ex("from_unixtime(1534521600, 'Asia/Shanghai')", r#""2018-08-18T00:00:00+08:00""#),
            ex("from_unixtime(1534521600.25, -5, -30)", r#""2018-08-17T10:30:00.250-05:30""#),
            ex_in("from_unixtime(a, '+01:00')", r#"{"a": "1534521600"}"#, r#""2018-08-17T17:00:00+01:00""#),
        ],
        from_unixtime,
    )
    .prepare(prepare_zone_arg1),
    Function::new(
        "to_unixtime",
        &[Param::req("timestamp", TS)],
        Kind::Double,
        "Unix seconds (with fraction) of a timestamp.",
        &[
            ex("to_unixtime(date_parse('2022-10-19 15:46:05', '%Y-%m-%d %H:%i:%s'))", "1666194365.0"),
            ex("cast(to_unixtime(from_unixtime(1534521600.5)) as bigint)", "1534521601"),
        ],
        to_unixtime,
    ),
    Function::new(
        "date_parse",
        &[Param::req("text", Kind::Str), Param::req("format", Kind::Str)],
        TS,
        "Parses text with a MySQL-style format (%Y %m %d %H %i %s %f %b %p ...) into a timestamp; fails when the text does not match.",
        &[
            ex("date_parse('2022-10-19 15:46:05', '%Y-%m-%d %H:%i:%s')", r#""2022-10-19T15:46:05Z""#),
            ex("date_parse('19/Oct/2022:03:46:05 PM', '%d/%b/%Y:%h:%i:%s %p')", r#""2022-10-19T15:46:05Z""#),
            ex("date_parse('20221019', '%Y%m%d')", r#""2022-10-19T00:00:00Z""#),
            ex("try(date_parse('yesterday', '%Y-%m-%d'))", "null"),
        ],
        date_parse,
    )
    .prepare(prepare_mysql_parse),
    Function::new(
        "date_format",
        &[Param::req("timestamp", TS), Param::req("format", Kind::Str)],
        Kind::Str,
        "Formats a timestamp in its own zone with a MySQL-style format (%Y-%m-%d %H:%i:%s ...).",
        &[
            ex("date_format(date_parse('2022-10-19 15:46:05', '%Y-%m-%d %H:%i:%s'), '%Y/%m/%d %T')", r#""2022/10/19 15:46:05""#),
            ex("date_format(from_unixtime(1534521600, 'Asia/Shanghai'), '%a %b %e %Y %r')", r#""Sat Aug 18 2018 12:00:00 AM""#),
            ex_in("date_format(t, '%H:%i')", r#"{"t": "2022-10-19T15:46:05Z"}"#, r#""15:46""#),
        ],
        date_format,
    )
    .prepare(prepare_mysql_format),
    Function::new(
        "parse_datetime",
        &[Param::req("text", Kind::Str), Param::req("format", Kind::Str)],
        TS,
        "Parses text with a Joda-style pattern (yyyy-MM-dd HH:mm:ss.SSS Z ...) into a timestamp, keeping a parsed zone; a MySQL-style format (%Y-%m-%d %H:%i:%s) is accepted too, as SLS does.",
        &[
            ex("parse_datetime('2022-10-19 15:46:05', 'yyyy-MM-dd HH:mm:ss')", r#""2022-10-19T15:46:05Z""#),
            ex("parse_datetime('20221019', 'yyyyMMdd')", r#""2022-10-19T00:00:00Z""#),
            ex("parse_datetime('19/Oct/2022:15:46:05 +0800', 'dd/MMM/yyyy:HH:mm:ss Z')", r#""2022-10-19T15:46:05+08:00""#),
            ex("parse_datetime('2022-10-19 15:46:05', '%Y-%m-%d %H:%i:%s')", r#""2022-10-19T15:46:05Z""#),
        ],
        parse_datetime,
    )
    .prepare(prepare_joda_parse),
    Function::new(
        "format_datetime",
        &[Param::req("timestamp", TS), Param::req("format", Kind::Str)],
        Kind::Str,
        "Formats a timestamp in its own zone with a Joda-style pattern (yyyyMMdd, HH:mm:ss.SSS, EEE, Z ...).",
        &[
            ex("format_datetime(from_unixtime(1534521600), 'yyyyMMdd')", r#""20180817""#),
            ex(
                "format_datetime(from_unixtime(1534521600.123, 'Asia/Shanghai'), 'yyyy-MM-dd''T''HH:mm:ss.SSSZZ')",
                r#""2018-08-18T00:00:00.123+08:00""#,
            ),
        ],
        format_datetime,
    )
    .prepare(prepare_joda_format),
    Function::new(
        "date_trunc",
        &[Param::req("unit", Kind::Str), Param::req("timestamp", TS)],
        TS,
        "Truncates a timestamp (or date) to a unit: millisecond, second, minute, hour, day, week (Monday), month, quarter, year.",
        &[
            ex("date_trunc('hour', from_unixtime(1534523456))", r#""2018-08-17T16:00:00Z""#),
            ex("date_trunc('month', from_unixtime(1534523456, 'Asia/Shanghai'))", r#""2018-08-01T00:00:00+08:00""#),
            ex("date_trunc('week', DATE '2022-10-19')", r#""2022-10-17""#),
        ],
        date_trunc,
    )
    .prepare(prepare_unit_arg0),
    Function::new(
        "date_add",
        &[Param::req("unit", Kind::Str), Param::req("value", Kind::Int), Param::req("timestamp", TS)],
        TS,
        "Adds an amount of a unit to a timestamp (or date); months clamp to the month's end.",
        &[
            ex("date_add('day', 1, from_unixtime(1534521600))", r#""2018-08-18T16:00:00Z""#),
            ex("date_add('month', 1, date_parse('2022-01-31', '%Y-%m-%d'))", r#""2022-02-28T00:00:00Z""#),
            ex("date_add('hour', -2, DATE '2022-10-19')", r#""2022-10-18T22:00:00Z""#),
        ],
        date_add,
    )
    .prepare(prepare_unit_arg0),
    Function::new(
        "date_diff",
        &[Param::req("unit", Kind::Str), Param::req("start", TS), Param::req("end", TS)],
        Kind::Int,
        "The number of whole units from start to end (negative when end is earlier).",
        &[
            ex("date_diff('second', from_unixtime(1534521600), from_unixtime(1534521700))", "100"),
            ex("date_diff('month', DATE '2022-01-31', DATE '2022-02-28')", "1"),
            ex("date_diff('day', DATE '2022-10-19', DATE '2022-10-12')", "-7"),
        ],
        date_diff,
    )
    .prepare(prepare_unit_arg0),
    Function::new(
        "date",
        &[Param::req("value", Kind::Any)],
        Kind::Date,
        "The date of a timestamp (in its zone) or of 'YYYY-MM-DD...' text.",
        &[ex("date(from_unixtime(1534521600, 'Asia/Shanghai'))", r#""2018-08-18""#), ex("date('2022-10-19 15:46:05')", r#""2022-10-19""#)],
        date,
    ),
    Function::new(
        "year",
        &[Param::req("timestamp", TS)],
        Kind::Int,
        "The year of a timestamp or date.",
        &[ex("year(from_unixtime(1534521600))", "2018"), ex_in("year(t)", r#"{"t": "2022-10-19 15:46:05"}"#, "2022")],
        year,
    ),
    Function::new(
        "quarter",
        &[Param::req("timestamp", TS)],
        Kind::Int,
        "The quarter (1-4) of a timestamp or date.",
        &[ex("quarter(from_unixtime(1534521600))", "3")],
        quarter,
    ),
    Function::new(
        "month",
        &[Param::req("timestamp", TS)],
        Kind::Int,
        "The month (1-12) of a timestamp or date.",
        &[ex("month(from_unixtime(1534521600))", "8")],
        month,
    ),
    Function::new(
        "week",
        &[Param::req("timestamp", TS)],
        Kind::Int,
        "The ISO week of the year (1-53) of a timestamp or date.",
        &[ex("week(DATE '2022-01-01')", "52")],
        week,
    ),
    Function::new(
        "week_of_year",
        &[Param::req("timestamp", TS)],
        Kind::Int,
        "The ISO week of the year (1-53); same as week.",
        &[ex("week_of_year(DATE '2022-10-19')", "42")],
        week,
    ),
    Function::new(
        "day",
        &[Param::req("timestamp", TS)],
        Kind::Int,
        "The day of the month (1-31) of a timestamp or date.",
        &[ex("day(from_unixtime(1534521600))", "17")],
        day,
    ),
    Function::new(
        "day_of_month",
        &[Param::req("timestamp", TS)],
        Kind::Int,
        "The day of the month (1-31); same as day.",
        &[ex("day_of_month(DATE '2022-10-19')", "19")],
        day,
    ),
    Function::new(
        "day_of_week",
        &[Param::req("timestamp", TS)],
        Kind::Int,
        "The ISO day of the week, 1 (Monday) to 7 (Sunday).",
        &[ex("day_of_week(DATE '2022-10-19')", "3")],
        day_of_week,
    ),
    Function::new(
        "dow",
        &[Param::req("timestamp", TS)],
        Kind::Int,
        "The ISO day of the week (1 = Monday); same as day_of_week.",
        &[ex("dow(DATE '2022-10-23')", "7")],
        day_of_week,
    ),
    Function::new(
        "day_of_year",
        &[Param::req("timestamp", TS)],
        Kind::Int,
        "The day of the year (1-366).",
        &[ex("day_of_year(DATE '2022-10-19')", "292")],
        day_of_year,
    ),
    Function::new(
        "doy",
        &[Param::req("timestamp", TS)],
        Kind::Int,
        "The day of the year (1-366); same as day_of_year.",
        &[ex("doy(DATE '2022-02-01')", "32")],
        day_of_year,
    ),
    Function::new(
        "hour",
        &[Param::req("timestamp", TS)],
        Kind::Int,
        "The hour (0-23) in the timestamp's zone.",
        &[ex("hour(from_unixtime(1534521600, 'Asia/Shanghai'))", "0")],
        hour,
    ),
    Function::new(
        "minute",
        &[Param::req("timestamp", TS)],
        Kind::Int,
        "The minute (0-59).",
        &[ex("minute(from_unixtime(1534523456))", "30")],
        minute,
    ),
    Function::new(
        "second",
        &[Param::req("timestamp", TS)],
        Kind::Int,
        "The second (0-59).",
        &[ex("second(from_unixtime(1534523456))", "56")],
        second,
    ),
    Function::new(
        "millisecond",
        &[Param::req("timestamp", TS)],
        Kind::Int,
        "The millisecond of the second (0-999).",
        &[ex("millisecond(from_unixtime(1534523456.789))", "789")],
        millisecond,
    ),
    Function::new(
        "year_of_week",
        &[Param::req("timestamp", TS)],
        Kind::Int,
        "The ISO week-numbering year.",
        &[ex("year_of_week(DATE '2022-01-01')", "2021")],
        year_of_week,
    ),
    Function::new(
        "yow",
        &[Param::req("timestamp", TS)],
        Kind::Int,
        "The ISO week-numbering year; same as year_of_week.",
        &[ex("yow(DATE '2021-01-03')", "2020")],
        year_of_week,
    ),
    Function::new(
        "to_iso8601",
        &[Param::req("value", Kind::Any)],
        Kind::Str,
        "ISO 8601 text of a timestamp (milliseconds and offset, Z for UTC) or of a date.",
        &[
            ex("to_iso8601(from_unixtime(1534521600, '+01:00'))", r#""2018-08-17T17:00:00.000+01:00""#),
            ex("to_iso8601(DATE '2022-10-19')", r#""2022-10-19""#),
        ],
        to_iso8601,
    ),
    Function::new(
        "from_iso8601_timestamp",
        &[Param::req("text", Kind::Str)],
        TS,
        "Parses ISO 8601 timestamp text, keeping its offset (UTC when none).",
        &[
            ex("from_iso8601_timestamp('2022-10-19T15:46:05.123+08:00')", r#""2022-10-19T15:46:05.123+08:00""#),
            ex("from_iso8601_timestamp('2022-10-19')", r#""2022-10-19T00:00:00Z""#),
        ],
        from_iso8601_timestamp,
    ),
    Function::new(
        "from_iso8601_date",
        &[Param::req("text", Kind::Str)],
        Kind::Date,
        "Parses ISO 8601 date text (YYYY-MM-DD).",
        &[ex("from_iso8601_date('2022-10-19')", r#""2022-10-19""#)],
        from_iso8601_date,
    ),
    Function::new(
        "at_timezone",
        &[Param::req("timestamp", TS), Param::req("zone", Kind::Str)],
        TS,
        "The same instant shown in another zone (name or offset).",
        &[ex("at_timezone(from_unixtime(1534521600), 'Asia/Shanghai')", r#""2018-08-18T00:00:00+08:00""#)],
        at_timezone,
    )
    .prepare(prepare_zone_arg1),
];

// ---- zones, conversions -----------------------------------------------------------------

/// Parses a zone: `UTC`/`Z`/`GMT`, an offset (`+01:00`, `-0800`, `+8`, `UTC+8`,
/// `GMT-03:30`) or an IANA name (case-insensitive, `Asia/Shanghai`).
pub fn parse_zone(s: &str) -> Option<Zone> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if ["Z", "UTC", "GMT", "UT", "Zulu"]
        .iter()
        .any(|z| z.eq_ignore_ascii_case(s))
    {
        return Some(Zone::Utc);
    }
    if let Some(first) = s.bytes().next()
        && (first == b'+' || first == b'-')
    {
        return parse_offset(s).map(Zone::Offset);
    }
    for prefix in ["UTC", "GMT"] {
        if s.len() > 3
            && s[..3].eq_ignore_ascii_case(prefix)
            && matches!(s.as_bytes()[3], b'+' | b'-')
        {
            return parse_offset(&s[3..]).map(Zone::Offset);
        }
    }
    if let Ok(tz) = s.parse::<chrono_tz::Tz>() {
        return Some(Zone::Named(tz));
    }
    chrono_tz::TZ_VARIANTS
        .iter()
        .find(|tz| tz.name().eq_ignore_ascii_case(s))
        .map(|tz| Zone::Named(*tz))
}

/// `+H`, `+HH`, `+HHMM`, `+HH:MM`, `+H:MM` → seconds east of UTC (at most 18 hours).
fn parse_offset(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let rest = &s[1..];
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => (&rest[..2], &rest[2..]),
        None => (rest, "0"),
    };
    if h.is_empty()
        || h.len() > 2
        || m.is_empty()
        || m.len() > 2
        || !h.bytes().chain(m.bytes()).all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if h > 18 || m > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
}

/// The instant of a wall-clock time in a zone (`None` outside the range). In a DST gap the
/// time is moved forward by the gap; in an overlap the earlier instant wins.
pub fn from_local(ndt: NaiveDateTime, zone: Zone) -> Option<Timestamp> {
    let utc_nanos = match zone {
        Zone::Utc => ndt.and_utc().timestamp_nanos_opt()?,
        Zone::Offset(secs) => ndt
            .and_utc()
            .timestamp_nanos_opt()?
            .checked_sub(secs as i64 * NANOS_PER_SEC)?,
        Zone::Named(tz) => {
            let dt = tz.from_local_datetime(&ndt).earliest().or_else(|| {
                let later = ndt.checked_add_signed(TimeDelta::hours(1))?;
                tz.from_local_datetime(&later).earliest()
            })?;
            dt.timestamp_nanos_opt()?
        }
    };
    Some(Timestamp {
        nanos: utc_nanos,
        zone,
    })
}

/// DATE (days since epoch) as a chrono date.
fn date_of_days(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(days.checked_add(719_163)?)
}

/// DATE as `YYYY-MM-DD`; `None` outside chrono's range.
pub fn date_text(days: i32) -> Option<String> {
    date_of_days(days).map(|d| d.format("%Y-%m-%d").to_string())
}

/// A chrono date as DATE (days since epoch).
fn days_of_date(d: NaiveDate) -> i32 {
    d.num_days_from_ce() - 719_163
}

/// DATE as the timestamp of its midnight, UTC.
fn date_to_timestamp(days: i32) -> Option<Timestamp> {
    (days as i64).checked_mul(NANOS_PER_DAY).map(Timestamp::utc)
}

/// Parses timestamp text: `YYYY-MM-DD`, optionally followed by `T` or spaces and
/// `HH:MM[:SS[.fffffffff]]`, optionally followed by a zone (`Z`, `+08:00`, `+0800`,
/// ` UTC`, ` Asia/Shanghai`). `/` may separate the date parts. Without a zone the wall time
/// is read as UTC. `None` when the text is not such a timestamp or is out of range.
///
/// ```
/// use agentic_soc::spl::functions::time::parse_timestamp_text;
/// let t = parse_timestamp_text("2022-10-19 15:46:05.5").unwrap();
/// assert_eq!(t.to_rfc3339(), "2022-10-19T15:46:05.500Z");
/// ```
pub fn parse_timestamp_text(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    let b = s.as_bytes();
    let mut c = Cursor { b, i: 0 };
    let year = c.digits(4, 4)? as i32;
    let sep = *b.get(c.i)?;
    if sep != b'-' && sep != b'/' {
        return None;
    }
    c.i += 1;
    let month = c.digits(1, 2)?;
    if !c.eat(sep) {
        return None;
    }
    let day = c.digits(1, 2)?;
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let mut time = NaiveTime::MIN;
    // A time part: 'T' or spaces, then a digit.
    let save = c.i;
    if c.eat(b'T') || c.eat(b't') || c.skip_spaces() {
        if c.peek().is_some_and(|d| d.is_ascii_digit()) {
            let h = c.digits(1, 2)?;
            if !c.eat(b':') {
                return None;
            }
            let m = c.digits(2, 2)?;
            let (mut sec, mut nanos) = (0, 0);
            if c.eat(b':') {
                sec = c.digits(2, 2)?;
                if c.eat(b'.') || c.eat(b',') {
                    nanos = c.fraction()?;
                }
            }
            time = NaiveTime::from_hms_nano_opt(h, m, sec, nanos)?;
        } else {
            c.i = save;
        }
    }
    c.skip_spaces();
    let rest = &s[c.i..];
    let zone = if rest.is_empty() {
        Zone::Utc
    } else {
        parse_zone(rest)?
    };
    from_local(date.and_time(time), zone)
}

/// Parses date text `YYYY-MM-DD` (or timestamp text, keeping its date) to DATE days.
pub fn parse_date_text(s: &str) -> Option<i32> {
    let t = parse_timestamp_text(s)?;
    Some(days_of_date(t.local().date()))
}

/// A byte cursor for the hand-written parsers.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn skip_spaces(&mut self) -> bool {
        let start = self.i;
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
        self.i > start
    }

    /// Between `min` and `max` (≤ 9) ASCII digits.
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let mut n: u32 = 0;
        let start = self.i;
        while self.i - start < max {
            match self.peek() {
                Some(d @ b'0'..=b'9') => {
                    n = n * 10 + (d - b'0') as u32;
                    self.i += 1;
                }
                _ => break,
            }
        }
        if self.i - start < min {
            self.i = start;
            return None;
        }
        Some(n)
    }

    /// A fraction of a second: 1 or more digits (beyond 9 ignored) as nanoseconds.
    fn fraction(&mut self) -> Option<u32> {
        let start = self.i;
        let mut n: u32 = 0;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            if self.i - start < 9 {
                n = n * 10 + (d - b'0') as u32;
            }
            self.i += 1;
        }
        let len = self.i - start;
        if len == 0 {
            return None;
        }
        Some(n * 10u32.pow(9 - len.min(9) as u32))
    }

    /// Case-insensitive match of one of `words`; returns its index.
    fn word(&mut self, words: &[&str]) -> Option<usize> {
        let rest = &self.b[self.i..];
        for (k, w) in words.iter().enumerate() {
            if rest.len() >= w.len() && rest[..w.len()].eq_ignore_ascii_case(w.as_bytes()) {
                self.i += w.len();
                return Some(k);
            }
        }
        None
    }
}

// ---- compiled date formats --------------------------------------------------------------

/// A numeric field of a date format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Num {
    Year,
    /// Two-digit year: 70-99 → 19xx, 00-69 → 20xx.
    YearOfCentury,
    Month,
    Day,
    DayOfYear,
    Hour24,
    /// Joda `k`: 1-24.
    Hour1To24,
    /// 1-12.
    Hour12,
    /// Joda `K`: 0-11.
    Hour0To11,
    Minute,
    Second,
    /// MySQL `%v`, Joda `w`: ISO week.
    IsoWeek,
    /// MySQL `%x`, Joda `x`: ISO week year.
    IsoWeekYear,
    /// MySQL `%w`: 0 = Sunday.
    WeekdaySun0,
    /// Joda `e`: 1 = Monday.
    WeekdayMon1,
}

/// How a zone is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ZoneStyle {
    /// `+0800`
    Basic,
    /// `+08:00`
    Colon,
    /// `Asia/Shanghai` (`UTC`, or the offset for fixed zones)
    Id,
    /// `CST` (`UTC`, or the offset for fixed zones)
    Abbr,
}

/// One item of a compiled format.
#[derive(Debug, Clone, PartialEq)]
enum Item {
    Lit(Box<str>),
    /// `pad`: digits when formatting (zero-padded); `max`: digits accepted when parsing;
    /// `fixed`: followed by another number, so parse exactly `pad` digits.
    Num {
        field: Num,
        pad: u8,
        max: u8,
        fixed: bool,
    },
    /// Fraction of a second: `digits` printed; 1-9 parsed (exactly `digits` when fixed).
    Fraction {
        digits: u8,
        fixed: bool,
    },
    MonthName {
        full: bool,
    },
    WeekdayName {
        full: bool,
    },
    AmPm,
    /// MySQL `%D`: `1st`, `22nd`.
    DaySuffix,
    Zone(ZoneStyle),
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const MONTHS_SHORT: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
/// Monday first, as chrono's `num_days_from_monday`.
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const WEEKDAYS_SHORT: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// A date format (MySQL `%Y-%m-%d` or Joda `yyyy-MM-dd`) compiled once into items, used to
/// parse and to print timestamps.
///
/// ```
/// use agentic_soc::spl::functions::time::DateFormat;
/// let f = DateFormat::mysql("%d/%b/%Y:%H:%i:%s").unwrap();
/// let t = f.parse("19/Oct/2022:15:46:05").unwrap();
/// assert_eq!(f.format(t), "19/Oct/2022:15:46:05");
/// assert!(DateFormat::mysql("%Q").is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DateFormat {
    items: Vec<Item>,
    text: String,
}

fn num(field: Num, pad: u8, max: u8) -> Item {
    Item::Num {
        field,
        pad,
        max,
        fixed: false,
    }
}

impl DateFormat {
    /// Compiles a MySQL-style format (`date_parse`/`date_format`). Unknown specifiers are
    /// errors; `%U %u %V %X` (unsupported by Presto too) are rejected with a hint.
    pub fn mysql(fmt: &str) -> Result<DateFormat, String> {
        let mut items = Vec::new();
        let mut chars = fmt.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                push_lit(&mut items, c);
                continue;
            }
            let Some(spec) = chars.next() else {
                return Err(format!(
                    "date format '{fmt}' ends with a lone '%' (write '%%' for a percent sign)"
                ));
            };
            match spec {
                'Y' => items.push(num(Num::Year, 4, 4)),
                'y' => items.push(num(Num::YearOfCentury, 2, 2)),
                'm' => items.push(num(Num::Month, 2, 2)),
                'c' => items.push(num(Num::Month, 1, 2)),
                'd' => items.push(num(Num::Day, 2, 2)),
                'e' => items.push(num(Num::Day, 1, 2)),
                'j' => items.push(num(Num::DayOfYear, 3, 3)),
                'H' => items.push(num(Num::Hour24, 2, 2)),
                'k' => items.push(num(Num::Hour24, 1, 2)),
                'h' | 'I' => items.push(num(Num::Hour12, 2, 2)),
                'l' => items.push(num(Num::Hour12, 1, 2)),
                'i' => items.push(num(Num::Minute, 2, 2)),
                's' | 'S' => items.push(num(Num::Second, 2, 2)),
                'f' => items.push(Item::Fraction {
                    digits: 6,
                    fixed: false,
                }),
                'p' => items.push(Item::AmPm),
                'b' => items.push(Item::MonthName { full: false }),
                'M' => items.push(Item::MonthName { full: true }),
                'a' => items.push(Item::WeekdayName { full: false }),
                'W' => items.push(Item::WeekdayName { full: true }),
                'D' => items.push(Item::DaySuffix),
                'w' => items.push(num(Num::WeekdaySun0, 1, 1)),
                'v' => items.push(num(Num::IsoWeek, 2, 2)),
                'x' => items.push(num(Num::IsoWeekYear, 4, 4)),
                'T' => {
                    items.push(num(Num::Hour24, 2, 2));
                    push_lit(&mut items, ':');
                    items.push(num(Num::Minute, 2, 2));
                    push_lit(&mut items, ':');
                    items.push(num(Num::Second, 2, 2));
                }
                'r' => {
                    items.push(num(Num::Hour12, 2, 2));
                    push_lit(&mut items, ':');
                    items.push(num(Num::Minute, 2, 2));
                    push_lit(&mut items, ':');
                    items.push(num(Num::Second, 2, 2));
                    push_lit(&mut items, ' ');
                    items.push(Item::AmPm);
                }
                '%' => push_lit(&mut items, '%'),
                'U' | 'u' | 'V' | 'X' => {
                    return Err(format!(
                        "date format specifier '%{spec}' is not supported (nor by Presto); use %v/%x or week()"
                    ));
                }
                other => {
                    return Err(format!(
                        "unknown date format specifier '%{other}' in '{fmt}'; known: %a %b %c %D %d %e %f %H %h %I %i %j %k %l %M %m %p %r %S %s %T %v %W %w %x %Y %y %%"
                    ));
                }
            }
        }
        Ok(DateFormat::finish(items, fmt))
    }

    /// Compiles a Joda-style pattern (`parse_datetime`/`format_datetime`): `y yy yyyy M MM MMM
    /// MMMM d dd D H HH k h hh K m mm s ss S..SSSSSSSSS a E EEE EEEE e w x Z ZZ ZZZ z zzzz` and
    /// `'quoted text'` (`''` is a quote); other letters are errors.
    pub fn joda(fmt: &str) -> Result<DateFormat, String> {
        if looks_mysql(fmt) {
            return Err(format!(
                "'{fmt}' looks like a MySQL-style format; this function takes a Joda pattern such as 'yyyy-MM-dd HH:mm:ss' (or use date_parse/date_format)"
            ));
        }
        let mut items = Vec::new();
        let chars: Vec<char> = fmt.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                if chars.get(i + 1) == Some(&'\'') {
                    push_lit(&mut items, '\'');
                    i += 2;
                    continue;
                }
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err(format!("unterminated quoted text in pattern '{fmt}'")),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            push_lit(&mut items, '\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            push_lit(&mut items, ch);
                            i += 1;
                        }
                    }
                }
                continue;
            }
            if !c.is_ascii_alphabetic() {
                push_lit(&mut items, c);
                i += 1;
                continue;
            }
            let mut n = 1;
            while chars.get(i + n) == Some(&c) {
                n += 1;
            }
            i += n;
            let w = n.min(9) as u8;
            items.push(match c {
                'y' | 'Y' | 'u' if n == 2 => num(Num::YearOfCentury, 2, 2),
                'y' | 'Y' | 'u' => num(Num::Year, w, w.max(4)),
                'x' => num(Num::IsoWeekYear, w, w.max(4)),
                'M' if n <= 2 => num(Num::Month, w, 2),
                'M' => Item::MonthName { full: n >= 4 },
                'd' => num(Num::Day, w, 2.max(w)),
                'D' => num(Num::DayOfYear, w, 3.max(w)),
                'H' => num(Num::Hour24, w, 2.max(w)),
                'k' => num(Num::Hour1To24, w, 2.max(w)),
                'h' => num(Num::Hour12, w, 2.max(w)),
                'K' => num(Num::Hour0To11, w, 2.max(w)),
                'm' => num(Num::Minute, w, 2.max(w)),
                's' => num(Num::Second, w, 2.max(w)),
                'S' if n > 9 => return Err(format!("pattern '{fmt}': at most 9 'S' (nanoseconds)")),
                'S' => Item::Fraction { digits: w, fixed: false },
                'a' => Item::AmPm,
                'E' => Item::WeekdayName { full: n >= 4 },
                'e' => num(Num::WeekdayMon1, w, 1.max(w)),
                'w' => num(Num::IsoWeek, w, 2.max(w)),
                'Z' if n == 1 => Item::Zone(ZoneStyle::Basic),
                'Z' if n == 2 => Item::Zone(ZoneStyle::Colon),
                'Z' => Item::Zone(ZoneStyle::Id),
                'z' if n >= 4 => Item::Zone(ZoneStyle::Id),
                'z' => Item::Zone(ZoneStyle::Abbr),
                other => {
                    return Err(format!(
                        "unsupported pattern letter '{other}' in '{fmt}' (quote literal text: 'T'); known: y M d D H k h K m s S a E e w x Z z"
                    ));
                }
            });
        }
        Ok(DateFormat::finish(items, fmt))
    }

    /// Marks numbers followed by numbers as fixed-width (`yyyyMMdd`, `%Y%m%d`).
    fn finish(mut items: Vec<Item>, text: &str) -> DateFormat {
        let numeric = |it: &Item| matches!(it, Item::Num { .. } | Item::Fraction { .. });
        for k in 0..items.len().saturating_sub(1) {
            if numeric(&items[k + 1]) {
                match &mut items[k] {
                    Item::Num { fixed, .. } | Item::Fraction { fixed, .. } => *fixed = true,
                    _ => {}
                }
            }
        }
        DateFormat {
            items,
            text: text.to_string(),
        }
    }

    /// The format as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// An error when the format cannot be used for parsing (week-based fields).
    pub fn check_parsable(&self) -> Result<(), String> {
        for it in &self.items {
            if let Item::Num {
                field: Num::IsoWeek | Num::IsoWeekYear,
                ..
            } = it
            {
                return Err(format!(
                    "week-based fields in '{}' can only be used for formatting",
                    self.text
                ));
            }
        }
        Ok(())
    }

    /// Prints a timestamp in its own zone.
    pub fn format(&self, ts: Timestamp) -> String {
        let mut out = String::with_capacity(self.text.len() + 8);
        self.format_into(ts, &mut out);
        out
    }

    fn format_into(&self, ts: Timestamp, out: &mut String) {
        let l = ts.local();
        let (date, time) = (l.date(), l.time());
        for it in &self.items {
            match it {
                Item::Lit(s) => out.push_str(s),
                Item::Num { field, pad, .. } => {
                    let v: i64 = match field {
                        Num::Year => date.year() as i64,
                        Num::YearOfCentury => date.year().rem_euclid(100) as i64,
                        Num::Month => date.month() as i64,
                        Num::Day => date.day() as i64,
                        Num::DayOfYear => date.ordinal() as i64,
                        Num::Hour24 => time.hour() as i64,
                        Num::Hour1To24 => {
                            if time.hour() == 0 {
                                24
                            } else {
                                time.hour() as i64
                            }
                        }
                        Num::Hour12 => (time.hour() + 11) as i64 % 12 + 1,
                        Num::Hour0To11 => time.hour() as i64 % 12,
                        Num::Minute => time.minute() as i64,
                        Num::Second => time.second() as i64,
                        Num::IsoWeek => date.iso_week().week() as i64,
                        Num::IsoWeekYear => date.iso_week().year() as i64,
                        Num::WeekdaySun0 => date.weekday().num_days_from_sunday() as i64,
                        Num::WeekdayMon1 => date.weekday().number_from_monday() as i64,
                    };
                    let _ = write!(out, "{v:0width$}", width = *pad as usize);
                }
                Item::Fraction { digits, .. } => {
                    let nanos = time.nanosecond().min(999_999_999);
                    let v = nanos / 10u32.pow(9 - *digits as u32);
                    let _ = write!(out, "{v:0width$}", width = *digits as usize);
                }
                Item::MonthName { full } => {
                    let m = date.month0() as usize;
                    out.push_str(if *full { MONTHS[m] } else { MONTHS_SHORT[m] });
                }
                Item::WeekdayName { full } => {
                    let d = date.weekday().num_days_from_monday() as usize;
                    out.push_str(if *full {
                        WEEKDAYS[d]
                    } else {
                        WEEKDAYS_SHORT[d]
                    });
                }
                Item::AmPm => out.push_str(if time.hour() < 12 { "AM" } else { "PM" }),
                Item::DaySuffix => {
                    let d = date.day();
                    let suffix = match (d % 10, d % 100) {
                        (_, 11..=13) => "th",
                        (1, _) => "st",
                        (2, _) => "nd",
                        (3, _) => "rd",
                        _ => "th",
                    };
                    let _ = write!(out, "{d}{suffix}");
                }
                Item::Zone(style) => write_zone(out, ts, *style),
            }
        }
    }

    /// Parses text that must match the whole format. Missing fields default to 1970-01-01
    /// 00:00:00; without a zone field the wall time is read as UTC.
    pub fn parse(&self, s: &str) -> Result<Timestamp, String> {
        let mut c = Cursor {
            b: s.as_bytes(),
            i: 0,
        };
        let mut p = Parsed::default();
        for it in &self.items {
            let ok = match it {
                Item::Lit(lit) => {
                    let lb = lit.as_bytes();
                    if c.b[c.i..].starts_with(lb) {
                        c.i += lb.len();
                        true
                    } else {
                        false
                    }
                }
                Item::Num {
                    field,
                    pad,
                    max,
                    fixed,
                } => {
                    let (min, max) = if *fixed && *pad >= 2 {
                        (*pad as usize, *pad as usize)
                    } else {
                        (1, *max as usize)
                    };
                    match c.digits(min, max.min(9)) {
                        Some(v) => p.set(*field, v),
                        None => false,
                    }
                }
                Item::Fraction { digits, fixed } => {
                    if *fixed {
                        let end = c.i + *digits as usize;
                        if end <= c.b.len() && c.b[c.i..end].iter().all(u8::is_ascii_digit) {
                            let mut sub = Cursor {
                                b: &c.b[..end],
                                i: c.i,
                            };
                            p.nanos = sub.fraction().unwrap_or(0);
                            c.i = end;
                            true
                        } else {
                            false
                        }
                    } else {
                        c.fraction().map(|f| p.nanos = f).is_some()
                    }
                }
                Item::MonthName { .. } => match c.word(&MONTHS).or_else(|| c.word(&MONTHS_SHORT)) {
                    Some(m) => {
                        p.month = Some(m as u32 + 1);
                        true
                    }
                    None => false,
                },
                Item::WeekdayName { .. } => c
                    .word(&WEEKDAYS)
                    .or_else(|| c.word(&WEEKDAYS_SHORT))
                    .is_some(),
                Item::AmPm => match c.word(&["AM", "PM"]) {
                    Some(k) => {
                        p.pm = Some(k == 1);
                        true
                    }
                    None => false,
                },
                Item::DaySuffix => match c.digits(1, 2) {
                    Some(d) => {
                        p.day = Some(d);
                        c.word(&["st", "nd", "rd", "th"]).is_some() && (1..=31).contains(&d)
                    }
                    None => false,
                },
                Item::Zone(_) => match parse_zone_at(&mut c) {
                    Some(z) => {
                        p.zone = Some(z);
                        true
                    }
                    None => false,
                },
            };
            if !ok {
                return Err(self.mismatch(s, c.i));
            }
        }
        if c.i < s.len() {
            return Err(format!(
                "'{s}' does not match format '{}': unexpected text at position {}",
                self.text,
                c.i + 1
            ));
        }
        p.build().map_err(|why| {
            format!(
                "'{s}' parsed with format '{}' is not a valid time: {why}",
                self.text
            )
        })
    }

    fn mismatch(&self, s: &str, at: usize) -> String {
        format!(
            "'{s}' does not match format '{}' at position {}",
            self.text,
            at + 1
        )
    }
}

fn push_lit(items: &mut Vec<Item>, c: char) {
    if let Some(Item::Lit(s)) = items.last_mut() {
        let mut t = String::from(std::mem::take(s));
        t.push(c);
        *s = t.into_boxed_str();
    } else {
        items.push(Item::Lit(c.to_string().into_boxed_str()));
    }
}

fn write_zone(out: &mut String, ts: Timestamp, style: ZoneStyle) {
    use chrono_tz::OffsetName;
    let write_offset = |out: &mut String, colon: bool| {
        let secs = ts.offset_secs();
        let sign = if secs < 0 { '-' } else { '+' };
        let a = secs.unsigned_abs();
        let sep = if colon { ":" } else { "" };
        let _ = write!(out, "{sign}{:02}{sep}{:02}", a / 3600, a % 3600 / 60);
    };
    match (style, ts.zone) {
        (ZoneStyle::Basic, _) => write_offset(out, false),
        (ZoneStyle::Colon, _) => write_offset(out, true),
        (ZoneStyle::Id | ZoneStyle::Abbr, Zone::Utc) => out.push_str("UTC"),
        (ZoneStyle::Id | ZoneStyle::Abbr, Zone::Offset(_)) => write_offset(out, true),
        (ZoneStyle::Id, Zone::Named(tz)) => out.push_str(tz.name()),
        (ZoneStyle::Abbr, Zone::Named(tz)) => {
            let off = tz.offset_from_utc_datetime(&ts.to_utc().naive_utc());
            out.push_str(off.abbreviation().unwrap_or(tz.name()));
        }
    }
}

/// A zone inside text being parsed: `Z`, an offset, or a zone name.
fn parse_zone_at(c: &mut Cursor<'_>) -> Option<Zone> {
    match c.peek()? {
        b'Z' | b'z' if !c.b.get(c.i + 1).is_some_and(|b| b.is_ascii_alphabetic()) => {
            c.i += 1;
            Some(Zone::Utc)
        }
        b'+' | b'-' => {
            let start = c.i;
            c.i += 1;
            c.digits(2, 2)?;
            if c.eat(b':') {
                c.digits(2, 2)?;
            } else {
                let _ = c.digits(2, 2);
            }
            let text = std::str::from_utf8(&c.b[start..c.i]).ok()?;
            parse_offset(text).map(Zone::Offset)
        }
        _ => {
            let start = c.i;
            while c.peek().is_some_and(|b| {
                b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+' | b':')
            }) {
                c.i += 1;
            }
            let text = std::str::from_utf8(&c.b[start..c.i]).ok()?;
            parse_zone(text)
        }
    }
}

/// Fields read by `DateFormat::parse`.
#[derive(Default)]
struct Parsed {
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    doy: Option<u32>,
    hour: Option<u32>,
    /// 0-11 from a 12-hour field.
    hour12: Option<u32>,
    pm: Option<bool>,
    minute: u32,
    second: u32,
    nanos: u32,
    zone: Option<Zone>,
}

impl Parsed {
    /// Stores a numeric field; false when out of its range.
    fn set(&mut self, field: Num, v: u32) -> bool {
        let ok = |lo: u32, hi: u32| (lo..=hi).contains(&v);
        match field {
            Num::Year => self.year = Some(v as i32),
            Num::YearOfCentury => {
                self.year = Some(if v < 70 {
                    2000 + v as i32
                } else {
                    1900 + v as i32
                })
            }
            Num::Month if ok(1, 12) => self.month = Some(v),
            Num::Day if ok(1, 31) => self.day = Some(v),
            Num::DayOfYear if ok(1, 366) => self.doy = Some(v),
            Num::Hour24 if ok(0, 23) => self.hour = Some(v),
            Num::Hour1To24 if ok(1, 24) => self.hour = Some(v % 24),
            Num::Hour12 if ok(1, 12) => self.hour12 = Some(v % 12),
            Num::Hour0To11 if ok(0, 11) => self.hour12 = Some(v),
            Num::Minute if ok(0, 59) => self.minute = v,
            Num::Second if ok(0, 59) => self.second = v,
            Num::WeekdaySun0 if ok(0, 6) => {}
            Num::WeekdayMon1 if ok(1, 7) => {}
            Num::IsoWeek | Num::IsoWeekYear => {}
            _ => return false,
        }
        true
    }

    fn build(&self) -> Result<Timestamp, &'static str> {
        let year = self.year.unwrap_or(1970);
        let date = match (self.doy, self.month, self.day) {
            (Some(doy), None, None) => NaiveDate::from_yo_opt(year, doy),
            (_, m, d) => NaiveDate::from_ymd_opt(year, m.unwrap_or(1), d.unwrap_or(1)),
        }
        .ok_or("no such date")?;
        let hour = match (self.hour12, self.hour, self.pm) {
            (Some(h), _, pm) => h + if pm == Some(true) { 12 } else { 0 },
            (None, Some(h), Some(true)) if h < 12 => h + 12,
            (None, Some(h), _) => h,
            (None, None, pm) => {
                if pm == Some(true) {
                    12
                } else {
                    0
                }
            }
        };
        let time = NaiveTime::from_hms_nano_opt(hour, self.minute, self.second, self.nanos)
            .ok_or("no such time")?;
        from_local(date.and_time(time), self.zone.unwrap_or(Zone::Utc)).ok_or(RANGE)
    }
}

// ---- argument helpers -------------------------------------------------------------------

/// A timestamp argument: TIMESTAMP, DATE (midnight UTC) or timestamp text.
fn ts_arg(args: &[Value], i: usize) -> Result<Timestamp, FnError> {
    match args.get(i) {
        Some(Value::Timestamp(t)) => Ok(*t),
        Some(Value::Date(d)) => date_to_timestamp(*d).ok_or_else(|| FnError::arg(i, RANGE)),
        Some(v @ (Value::Str(_) | Value::Json(_))) => {
            let text = v.to_text().unwrap_or_default();
            parse_timestamp_text(&text).ok_or_else(|| {
                FnError::arg(
                    i,
                    format!(
                        "'{text}' is not a timestamp (expected ISO 8601 or 'YYYY-MM-DD HH:MM:SS')"
                    ),
                )
            })
        }
        Some(other) => Err(FnError::arg(
            i,
            format!("expected a timestamp, got {}", other.type_name()),
        )),
        None => Err(FnError::arg(i, "missing argument")),
    }
}

fn zone_error(i: usize, text: &str) -> FnError {
    FnError::arg(
        i,
        format!(
            "unknown time zone '{text}' (use a name such as 'Asia/Shanghai' or an offset such as '+08:00')"
        ),
    )
}

/// Compiles a constant zone argument (index 1) when it is text.
fn prepare_zone_arg1(args: &[Option<Value>]) -> Result<Prepared, FnError> {
    match args.get(1) {
        Some(Some(v @ Value::Str(_))) => {
            let text = v.to_text().unwrap_or_default();
            parse_zone(&text)
                .map(Prepared::new)
                .ok_or_else(|| zone_error(1, &text))
        }
        _ => Ok(Prepared::none()),
    }
}

fn zone_of(args: &[Value], i: usize, prepared: &Prepared) -> Result<Zone, FnError> {
    if let Some(z) = prepared.get::<Zone>() {
        return Ok(*z);
    }
    let text = super::text_arg(args, i)?;
    parse_zone(&text).ok_or_else(|| zone_error(i, &text))
}

/// True when a format has a `%` followed by a letter: a MySQL-style format, never valid Joda.
fn looks_mysql(fmt: &str) -> bool {
    fmt.match_indices('%')
        .any(|(p, _)| fmt[p + 1..].starts_with(|c: char| c.is_ascii_alphabetic()))
}

/// Which dialect a format argument is in, and what it is used for.
#[derive(Clone, Copy)]
enum FormatUse {
    MysqlParse,
    MysqlFormat,
    JodaParse,
    JodaFormat,
}

fn compile(text: &str, use_: FormatUse) -> Result<DateFormat, FnError> {
    let f = match use_ {
        FormatUse::MysqlParse | FormatUse::MysqlFormat => DateFormat::mysql(text),
        // NOTE(sls-compat): SLS accepts `parse_datetime(a, '%Y-%m-%d %H:%i:%s')` (ilogtail's
        // spl.txt), so a MySQL-style format is read as one here; `format_datetime` stays Joda.
        FormatUse::JodaParse if looks_mysql(text) => DateFormat::mysql(text),
        FormatUse::JodaParse | FormatUse::JodaFormat => DateFormat::joda(text),
    }
    .map_err(|m| FnError::arg(1, m))?;
    if matches!(use_, FormatUse::MysqlParse | FormatUse::JodaParse) {
        f.check_parsable().map_err(|m| FnError::arg(1, m))?;
    }
    Ok(f)
}

fn prepare_format(args: &[Option<Value>], use_: FormatUse) -> Result<Prepared, FnError> {
    match args.get(1) {
        Some(Some(v)) if !v.is_null() => {
            compile(&v.to_text().unwrap_or_default(), use_).map(Prepared::new)
        }
        _ => Ok(Prepared::none()),
    }
}

fn prepare_mysql_parse(args: &[Option<Value>]) -> Result<Prepared, FnError> {
    prepare_format(args, FormatUse::MysqlParse)
}
fn prepare_mysql_format(args: &[Option<Value>]) -> Result<Prepared, FnError> {
    prepare_format(args, FormatUse::MysqlFormat)
}
fn prepare_joda_parse(args: &[Option<Value>]) -> Result<Prepared, FnError> {
    prepare_format(args, FormatUse::JodaParse)
}
fn prepare_joda_format(args: &[Option<Value>]) -> Result<Prepared, FnError> {
    prepare_format(args, FormatUse::JodaFormat)
}

fn with_format<R>(
    args: &[Value],
    prepared: &Prepared,
    use_: FormatUse,
    f: impl FnOnce(&DateFormat) -> R,
) -> Result<R, FnError> {
    match prepared.get::<DateFormat>() {
        Some(fmt) => Ok(f(fmt)),
        None => Ok(f(&compile(&super::text_arg(args, 1)?, use_)?)),
    }
}

/// A date/time unit of `date_trunc`, `date_add`, `date_diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl Unit {
    fn parse(s: &str) -> Option<Unit> {
        let s = s.trim().to_ascii_lowercase();
        let s = s.strip_suffix('s').filter(|t| !t.is_empty()).unwrap_or(&s);
        Some(match s {
            "millisecond" | "ms" => Unit::Millisecond,
            "second" => Unit::Second,
            "minute" => Unit::Minute,
            "hour" => Unit::Hour,
            "day" => Unit::Day,
            "week" => Unit::Week,
            "month" => Unit::Month,
            "quarter" => Unit::Quarter,
            "year" => Unit::Year,
            _ => return None,
        })
    }

    /// Nanoseconds of a fixed-length unit.
    fn fixed_nanos(self) -> Option<i64> {
        Some(match self {
            Unit::Millisecond => 1_000_000,
            Unit::Second => NANOS_PER_SEC,
            Unit::Minute => 60 * NANOS_PER_SEC,
            Unit::Hour => 3600 * NANOS_PER_SEC,
            _ => return None,
        })
    }
}

fn unit_error(text: &str) -> FnError {
    FnError::arg(
        0,
        format!(
            "unknown unit '{text}'; expected millisecond, second, minute, hour, day, week, month, quarter or year"
        ),
    )
}

fn prepare_unit_arg0(args: &[Option<Value>]) -> Result<Prepared, FnError> {
    match args.first() {
        Some(Some(v)) if !v.is_null() => {
            let text = v.to_text().unwrap_or_default();
            Unit::parse(&text)
                .map(Prepared::new)
                .ok_or_else(|| unit_error(&text))
        }
        _ => Ok(Prepared::none()),
    }
}

fn unit_of(args: &[Value], prepared: &Prepared) -> Result<Unit, FnError> {
    if let Some(u) = prepared.get::<Unit>() {
        return Ok(*u);
    }
    let text = super::text_arg(args, 0)?;
    Unit::parse(&text).ok_or_else(|| unit_error(&text))
}

// ---- functions --------------------------------------------------------------------------

fn current_date(_: &[Value], _: &Prepared, env: &mut dyn Env) -> FnResult {
    Ok(Value::Date(days_of_date(env.now().local().date())))
}

fn now(_: &[Value], _: &Prepared, env: &mut dyn Env) -> FnResult {
    Ok(Value::Timestamp(env.now()))
}

fn from_unixtime(args: &[Value], prepared: &Prepared, _: &mut dyn Env) -> FnResult {
    let nanos = match super::number_arg(args, 0)? {
        Value::Int(n) => n.checked_mul(NANOS_PER_SEC),
        // Microsecond precision: a double cannot hold more at today's epoch seconds.
        Value::Double(d) => {
            let micros = (d * 1e6).round();
            (micros.is_finite() && micros.abs() < 9.2e15).then(|| micros as i64 * 1000)
        }
        _ => None,
    }
    .ok_or_else(|| FnError::arg(0, RANGE))?;
    let zone = match args.get(1) {
        None | Some(Value::Null) => Zone::Utc,
        Some(Value::Int(_)) | Some(Value::Double(_)) => {
            let h = super::int_arg(args, 1)?;
            let m = if args.len() > 2 {
                super::int_arg(args, 2)?
            } else {
                0
            };
            if h.abs() > 18 || m.abs() > 59 {
                return Err(FnError::arg(
                    1,
                    format!("offset {h} hours {m} minutes is out of range"),
                ));
            }
            Zone::Offset((h * 3600 + m * 60) as i32)
        }
        Some(_) => zone_of(args, 1, prepared)?,
    };
    Ok(Value::Timestamp(Timestamp { nanos, zone }))
}

fn to_unixtime(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let t = ts_arg(args, 0)?;
    let secs =
        t.nanos.div_euclid(NANOS_PER_SEC) as f64 + t.nanos.rem_euclid(NANOS_PER_SEC) as f64 / 1e9;
    Ok(Value::Double(secs))
}

fn date_parse(args: &[Value], prepared: &Prepared, _: &mut dyn Env) -> FnResult {
    let text = super::text_arg(args, 0)?;
    parse_cached(args, prepared, FormatUse::MysqlParse, &text)
}

thread_local! {
    /// The last (format, text) parsed on this thread and its result: consecutive log lines
    /// very often carry the same timestamp text.
    static LAST_PARSE: std::cell::RefCell<(u8, String, String, Option<Timestamp>)> =
        const { std::cell::RefCell::new((0, String::new(), String::new(), None)) };
}

/// Parses `text` with the call's format, reusing the previous result when both the
/// (plan-time compiled) format and the text are the same as last time on this thread.
fn parse_cached(args: &[Value], prepared: &Prepared, use_: FormatUse, text: &str) -> FnResult {
    let Some(fmt) = prepared.get::<DateFormat>() else {
        return with_format(args, prepared, use_, |f| f.parse(text))?
            .map(Value::Timestamp)
            .map_err(|m| FnError::arg(0, m));
    };
    // Keyed by the format's kind and text (not its address, which a later plan may reuse).
    let kind = use_ as u8;
    LAST_PARSE.with(|cell| {
        let mut last = cell.borrow_mut();
        if last.0 == kind
            && last.1 == fmt.text
            && last.2 == text
            && let Some(t) = last.3
        {
            return Ok(Value::Timestamp(t));
        }
        let t = fmt.parse(text).map_err(|m| FnError::arg(0, m))?;
        last.0 = kind;
        last.1.clear();
        last.1.push_str(&fmt.text);
        last.2.clear();
        last.2.push_str(text);
        last.3 = Some(t);
        Ok(Value::Timestamp(t))
    })
}

fn date_format(args: &[Value], prepared: &Prepared, _: &mut dyn Env) -> FnResult {
    let t = ts_arg(args, 0)?;
    with_format(args, prepared, FormatUse::MysqlFormat, |f| {
        Value::string(f.format(t))
    })
}

fn parse_datetime(args: &[Value], prepared: &Prepared, _: &mut dyn Env) -> FnResult {
    let text = super::text_arg(args, 0)?;
    parse_cached(args, prepared, FormatUse::JodaParse, &text)
}

fn format_datetime(args: &[Value], prepared: &Prepared, _: &mut dyn Env) -> FnResult {
    let t = ts_arg(args, 0)?;
    with_format(args, prepared, FormatUse::JodaFormat, |f| {
        Value::string(f.format(t))
    })
}

/// The wall date-time truncated to a calendar unit (day and larger).
fn trunc_calendar(l: NaiveDateTime, unit: Unit) -> Option<NaiveDateTime> {
    let d = l.date();
    let date = match unit {
        Unit::Day => d,
        Unit::Week => {
            d.checked_sub_signed(TimeDelta::days(d.weekday().num_days_from_monday() as i64))?
        }
        Unit::Month => d.with_day(1)?,
        Unit::Quarter => NaiveDate::from_ymd_opt(d.year(), (d.month0() / 3) * 3 + 1, 1)?,
        Unit::Year => NaiveDate::from_ymd_opt(d.year(), 1, 1)?,
        _ => return Some(l),
    };
    Some(date.and_time(NaiveTime::MIN))
}

fn date_trunc(args: &[Value], prepared: &Prepared, _: &mut dyn Env) -> FnResult {
    let unit = unit_of(args, prepared)?;
    if let Value::Date(days) = &args[1] {
        if unit.fixed_nanos().is_some() {
            return Ok(Value::Date(*days));
        }
        let d = date_of_days(*days).ok_or_else(|| FnError::arg(1, RANGE))?;
        let t = trunc_calendar(d.and_time(NaiveTime::MIN), unit)
            .ok_or_else(|| FnError::arg(1, RANGE))?;
        return Ok(Value::Date(days_of_date(t.date())));
    }
    let t = ts_arg(args, 1)?;
    let out = match unit.fixed_nanos() {
        Some(step) => {
            let off = t.offset_secs() as i64 * NANOS_PER_SEC;
            let local = t.nanos as i128 + off as i128;
            let truncated = local - local.rem_euclid(step as i128) - off as i128;
            i64::try_from(truncated).ok().map(|nanos| Timestamp {
                nanos,
                zone: t.zone,
            })
        }
        None => trunc_calendar(t.local(), unit).and_then(|l| from_local(l, t.zone)),
    };
    out.map(Value::Timestamp)
        .ok_or_else(|| FnError::arg(1, RANGE))
}

/// Adds months to a wall time (clamping the day), `None` on overflow.
fn add_months(l: NaiveDateTime, months: i64) -> Option<NaiveDateTime> {
    let m = Months::new(u32::try_from(months.unsigned_abs()).ok()?);
    if months >= 0 {
        l.checked_add_months(m)
    } else {
        l.checked_sub_months(m)
    }
}

/// Adds a calendar amount (day and larger) to a wall time.
fn add_calendar(l: NaiveDateTime, unit: Unit, n: i64) -> Option<NaiveDateTime> {
    match unit {
        Unit::Day => l.checked_add_signed(TimeDelta::try_days(n)?),
        Unit::Week => l.checked_add_signed(TimeDelta::try_weeks(n)?),
        Unit::Month => add_months(l, n),
        Unit::Quarter => add_months(l, n.checked_mul(3)?),
        Unit::Year => add_months(l, n.checked_mul(12)?),
        _ => None,
    }
}

fn date_add(args: &[Value], prepared: &Prepared, _: &mut dyn Env) -> FnResult {
    let unit = unit_of(args, prepared)?;
    let n = super::int_arg(args, 1)?;
    if let (Value::Date(days), None) = (&args[2], unit.fixed_nanos()) {
        let d = date_of_days(*days).ok_or_else(|| FnError::arg(2, RANGE))?;
        let out =
            add_calendar(d.and_time(NaiveTime::MIN), unit, n).ok_or_else(|| FnError::new(RANGE))?;
        return Ok(Value::Date(days_of_date(out.date())));
    }
    let t = ts_arg(args, 2)?;
    let out = match unit.fixed_nanos() {
        Some(step) => n
            .checked_mul(step)
            .and_then(|d| t.nanos.checked_add(d))
            .map(|nanos| Timestamp {
                nanos,
                zone: t.zone,
            }),
        None => add_calendar(t.local(), unit, n).and_then(|l| from_local(l, t.zone)),
    };
    out.map(Value::Timestamp).ok_or_else(|| FnError::new(RANGE))
}

fn date_diff(args: &[Value], prepared: &Prepared, _: &mut dyn Env) -> FnResult {
    let unit = unit_of(args, prepared)?;
    let (t1, t2) = (ts_arg(args, 1)?, ts_arg(args, 2)?);
    if let Some(step) = unit.fixed_nanos() {
        let d = (t2.nanos as i128 - t1.nanos as i128) / step as i128;
        return Ok(Value::Int(d as i64));
    }
    // Calendar units on wall time, both seen in the first timestamp's zone.
    let l1 = t1.local();
    let l2 = Timestamp {
        nanos: t2.nanos,
        zone: t1.zone,
    }
    .local();
    let n = match unit {
        Unit::Day => (l2 - l1).num_days(),
        Unit::Week => (l2 - l1).num_days() / 7,
        _ => {
            let mut m = (l2.year() as i64 * 12 + l2.month0() as i64)
                - (l1.year() as i64 * 12 + l1.month0() as i64);
            if m > 0 && add_months(l1, m).is_some_and(|x| x > l2) {
                m -= 1;
            } else if m < 0 && add_months(l1, m).is_some_and(|x| x < l2) {
                m += 1;
            }
            match unit {
                Unit::Quarter => m / 3,
                Unit::Year => m / 12,
                _ => m,
            }
        }
    };
    Ok(Value::Int(n))
}

fn date(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    match &args[0] {
        Value::Date(d) => Ok(Value::Date(*d)),
        Value::Timestamp(t) => Ok(Value::Date(days_of_date(t.local().date()))),
        v => {
            let text = v.to_text().unwrap_or_default();
            parse_date_text(&text).map(Value::Date).ok_or_else(|| {
                FnError::arg(0, format!("'{text}' is not a date (expected 'YYYY-MM-DD')"))
            })
        }
    }
}

/// Applies a field extractor to the wall time of a timestamp argument.
fn extract(args: &[Value], f: fn(NaiveDateTime) -> i64) -> FnResult {
    let l = match &args[0] {
        Value::Date(d) => date_of_days(*d)
            .ok_or_else(|| FnError::arg(0, RANGE))?
            .and_time(NaiveTime::MIN),
        _ => ts_arg(args, 0)?.local(),
    };
    Ok(Value::Int(f(l)))
}

macro_rules! extractors {
    ($($name:ident => $f:expr;)*) => {$(
        fn $name(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
            extract(args, $f)
        }
    )*};
}

extractors! {
    year => |l| l.year() as i64;
    quarter => |l| (l.month0() / 3 + 1) as i64;
    month => |l| l.month() as i64;
    week => |l| l.iso_week().week() as i64;
    day => |l| l.day() as i64;
    day_of_week => |l| l.weekday().number_from_monday() as i64;
    day_of_year => |l| l.ordinal() as i64;
    hour => |l| l.hour() as i64;
    minute => |l| l.minute() as i64;
    second => |l| l.second() as i64;
    millisecond => |l| (l.nanosecond() / 1_000_000) as i64;
    year_of_week => |l| l.iso_week().year() as i64;
}

fn to_iso8601(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    if let Value::Date(d) = &args[0] {
        return date_text(*d)
            .map(Value::string)
            .ok_or_else(|| FnError::arg(0, RANGE));
    }
    let t = ts_arg(args, 0)?;
    let l = t.local();
    let mut out = l.format("%Y-%m-%dT%H:%M:%S%.3f").to_string();
    if t.zone == Zone::Utc {
        out.push('Z');
    } else {
        write_zone(&mut out, t, ZoneStyle::Colon);
    }
    Ok(Value::string(out))
}

fn from_iso8601_timestamp(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let text = super::text_arg(args, 0)?;
    parse_timestamp_text(&text)
        .map(Value::Timestamp)
        .ok_or_else(|| FnError::arg(0, format!("'{text}' is not an ISO 8601 timestamp")))
}

fn from_iso8601_date(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let text = super::text_arg(args, 0)?;
    let t = text.trim();
    let ok = t.len() == 10 && t.as_bytes()[4] == b'-' && t.as_bytes()[7] == b'-';
    ok.then(|| parse_date_text(t))
        .flatten()
        .map(Value::Date)
        .ok_or_else(|| FnError::arg(0, format!("'{text}' is not an ISO 8601 date (YYYY-MM-DD)")))
}

fn at_timezone(args: &[Value], prepared: &Prepared, _: &mut dyn Env) -> FnResult {
    let t = ts_arg(args, 0)?;
    let zone = zone_of(args, 1, prepared)?;
    Ok(Value::Timestamp(Timestamp {
        nanos: t.nanos,
        zone,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Clock(Timestamp);
    impl Env for Clock {
        fn apply(&mut self, _: &Value, _: &[Value]) -> FnResult {
            Err(FnError::new("no lambdas here"))
        }
        fn now(&self) -> Timestamp {
            self.0
        }
    }

    fn func(name: &str) -> &'static Function {
        FUNCTIONS
            .iter()
            .find(|f| f.name == name)
            .unwrap_or_else(|| panic!("no {name}"))
    }

    /// Calls like the planner: every argument constant, prepared, NULLs propagated.
    fn call(name: &str, args: &[Value]) -> FnResult {
        let f = func(name);
        let prepared = match f.prepare {
            Some(p) => p(&args.iter().cloned().map(Some).collect::<Vec<_>>())?,
            None => Prepared::none(),
        };
        if f.null_propagating && args.iter().any(Value::is_null) {
            return Ok(Value::Null);
        }
        (f.eval)(
            args,
            &prepared,
            &mut Clock(Timestamp::utc(1_666_194_365_000_000_000)),
        )
    }

    /// Calls with nothing prepared (arguments not constant).
    fn call_dynamic(name: &str, args: &[Value]) -> FnResult {
        (func(name).eval)(args, &Prepared::none(), &mut Clock(Timestamp::utc(0)))
    }

    fn s(x: &str) -> Value {
        Value::str(x)
    }

    fn rfc(v: FnResult) -> String {
        match v.unwrap() {
            Value::Timestamp(t) => t.to_rfc3339(),
            other => panic!("not a timestamp: {other:?}"),
        }
    }

    fn text(v: FnResult) -> String {
        v.unwrap().to_text().unwrap().into_owned()
    }

    fn ts(text: &str) -> Value {
        Value::Timestamp(parse_timestamp_text(text).unwrap())
    }

    #[test]
    fn zones_parse() {
        assert_eq!(parse_zone("UTC"), Some(Zone::Utc));
        assert_eq!(parse_zone("z"), Some(Zone::Utc));
        assert_eq!(parse_zone("+01:00"), Some(Zone::Offset(3600)));
        assert_eq!(parse_zone("-0800"), Some(Zone::Offset(-8 * 3600)));
        assert_eq!(parse_zone("+8"), Some(Zone::Offset(8 * 3600)));
        assert_eq!(parse_zone("+05:30"), Some(Zone::Offset(5 * 3600 + 1800)));
        assert_eq!(parse_zone("UTC+8"), Some(Zone::Offset(8 * 3600)));
        assert_eq!(
            parse_zone("GMT-03:30"),
            Some(Zone::Offset(-(3 * 3600 + 1800)))
        );
        assert_eq!(
            parse_zone("Asia/Shanghai"),
            Some(Zone::Named(chrono_tz::Asia::Shanghai))
        );
        assert_eq!(
            parse_zone("asia/shanghai"),
            Some(Zone::Named(chrono_tz::Asia::Shanghai))
        );
        for bad in [
            "",
            "Mars/Olympus",
            "+25:00",
            "+1:99",
            "+123",
            "++1",
            "+",
            "UTC+",
        ] {
            assert_eq!(parse_zone(bad), None, "{bad}");
        }
    }

    #[test]
    fn timestamp_text_forms() {
        let ok = |s: &str| parse_timestamp_text(s).map(|t| t.to_rfc3339());
        assert_eq!(
            ok("2022-10-19 15:46:05").as_deref(),
            Some("2022-10-19T15:46:05Z")
        );
        assert_eq!(
            ok("2022-10-19T15:46:05Z").as_deref(),
            Some("2022-10-19T15:46:05Z")
        );
        assert_eq!(
            ok("2022-10-19T15:46:05.123456789+08:00").as_deref(),
            Some("2022-10-19T15:46:05.123456789+08:00")
        );
        assert_eq!(
            ok("2022-10-19 15:46:05,5 +0100").as_deref(),
            Some("2022-10-19T15:46:05.500+01:00")
        );
        assert_eq!(
            ok("2022-10-19 15:46:05 Asia/Shanghai").as_deref(),
            Some("2022-10-19T15:46:05+08:00")
        );
        assert_eq!(
            ok("2022-10-19 15:46:05 UTC").as_deref(),
            Some("2022-10-19T15:46:05Z")
        );
        assert_eq!(ok("2022-10-19").as_deref(), Some("2022-10-19T00:00:00Z"));
        assert_eq!(ok("2022/1/9 1:02").as_deref(), Some("2022-01-09T01:02:00Z"));
        assert_eq!(
            ok("  2022-10-19T15:46  ").as_deref(),
            Some("2022-10-19T15:46:00Z")
        );
        for bad in [
            "",
            "2022",
            "2022-13-01",
            "2022-02-30",
            "2022-10-19 25:00",
            "2022-10-19T",
            "2022-10-19 15",
            "2022-10-19 xx",
            "abc",
            "2022-10/19",
            "9999-01-01",
            "1000-01-01",
        ] {
            assert_eq!(ok(bad), None, "{bad}");
        }
        assert_eq!(parse_date_text("2022-10-19 23:00:00 -05:00"), Some(19284));
    }

    #[test]
    fn mysql_formats_round_trip() {
        let t = parse_timestamp_text("2022-03-07 15:04:05.123456").unwrap();
        for fmt in [
            "%Y-%m-%d %H:%i:%s",
            "%Y-%m-%d %T.%f",
            "%d/%b/%Y:%H:%i:%S",
            "%Y%m%d%H%i%s",
            "%M %e, %Y %r",
            "%W %D %M %Y %k:%i:%s",
            "%y-%c-%e %l:%i:%s %p",
            "%j %Y %H-%i-%s",
            "%a %b %d %H:%i:%s %Y",
            "100%% %Y-%m-%d %H:%i:%s",
        ] {
            let f = DateFormat::mysql(fmt).unwrap();
            let printed = f.format(t);
            let back = f.parse(&printed).unwrap_or_else(|e| panic!("{fmt}: {e}"));
            let expect = if fmt.contains("%f") {
                t.nanos
            } else {
                t.nanos - 123_456_000
            };
            assert_eq!(back.nanos, expect, "{fmt} → {printed}");
        }
        let f = DateFormat::mysql("%a %W %D %c %e %j %l %k %p %v %x %w %y").unwrap();
        assert_eq!(f.format(t), "Mon Monday 7th 3 7 066 3 15 PM 10 2022 1 22");
        let suffixes: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 31]
            .iter()
            .map(|d| {
                DateFormat::mysql("%D")
                    .unwrap()
                    .format(parse_timestamp_text(&format!("2022-01-{d:02}")).unwrap())
            })
            .collect();
        assert_eq!(
            suffixes.join(" "),
            "1st 2nd 3rd 4th 11th 12th 13th 21st 22nd 23rd 31st"
        );
    }

    #[test]
    fn mysql_parse_details() {
        let p = |s: &str, f: &str| {
            DateFormat::mysql(f)
                .unwrap()
                .parse(s)
                .map(|t| t.to_rfc3339())
        };
        assert_eq!(
            p("2022-10-19 15:46:05", "%Y-%m-%d %H:%i:%s").unwrap(),
            "2022-10-19T15:46:05Z"
        );
        assert_eq!(p("12:30:00 AM", "%r").unwrap(), "1970-01-01T00:30:00Z");
        assert_eq!(
            p("12:30:00 pm", "%h:%i:%s %p").unwrap(),
            "1970-01-01T12:30:00Z"
        );
        assert_eq!(p("2022 292", "%Y %j").unwrap(), "2022-10-19T00:00:00Z");
        assert_eq!(p("69-1-2", "%y-%c-%e").unwrap(), "2069-01-02T00:00:00Z");
        assert_eq!(p("70-1-2", "%y-%c-%e").unwrap(), "1970-01-02T00:00:00Z");
        assert_eq!(
            p("2022-10-19 1:2:3.5", "%Y-%m-%d %H:%i:%s.%f").unwrap(),
            "2022-10-19T01:02:03.500Z"
        );
        assert_eq!(
            p("Wed, 19 October 2022", "%a, %d %M %Y").unwrap(),
            "2022-10-19T00:00:00Z"
        );
        assert_eq!(
            p("19th Oct 2022", "%D %b %Y").unwrap(),
            "2022-10-19T00:00:00Z"
        );
        for (s, f) in [
            ("2022-10-19", "%Y-%m-%d %H"),
            ("2022-10-19 x", "%Y-%m-%d"),
            ("2022-13-19", "%Y-%m-%d"),
            ("2022-02-30", "%Y-%m-%d"),
            ("2022-10-19 24:00:00", "%Y-%m-%d %H:%i:%s"),
            ("13:00:00 PM", "%r"),
            ("Foo 2022", "%b %Y"),
            ("", "%Y"),
            ("9999-01-01", "%Y-%m-%d"),
            ("1600-01-01", "%Y-%m-%d"),
        ] {
            assert!(p(s, f).is_err(), "{s} / {f}");
        }
        let err = p("2022/10/19", "%Y-%m-%d").unwrap_err();
        assert_eq!(
            err,
            "'2022/10/19' does not match format '%Y-%m-%d' at position 5"
        );
    }

    #[test]
    fn bad_formats_are_plan_errors() {
        let err = DateFormat::mysql("%Y-%Q").unwrap_err();
        assert!(err.contains("unknown date format specifier '%Q'"), "{err}");
        assert!(DateFormat::mysql("%Y%").unwrap_err().contains("lone '%'"));
        assert!(
            DateFormat::mysql("%U")
                .unwrap_err()
                .contains("not supported")
        );
        let prep = func("date_parse").prepare.unwrap();
        let e = prep(&[None, Some(s("%Y-%q"))]).unwrap_err();
        assert_eq!(e.arg, Some(1));
        assert!(
            prep(&[None, Some(s("%v %x"))])
                .unwrap_err()
                .message
                .contains("only be used for formatting")
        );
        assert!(func("date_format").prepare.unwrap()(&[None, Some(s("%v %x"))]).is_ok());
        // parse_datetime reads a MySQL-style format as SLS does; format_datetime does not.
        assert!(
            func("parse_datetime").prepare.unwrap()(&[None, Some(s("%Y-%m-%d %H:%i:%s"))]).is_ok()
        );
        let e = func("format_datetime").prepare.unwrap()(&[None, Some(s("%Y-%m-%d %H:%i:%s"))])
            .unwrap_err();
        assert!(e.message.contains("MySQL-style"), "{}", e.message);
        assert!(
            DateFormat::joda("yyyy-MM-dd G")
                .unwrap_err()
                .contains("unsupported pattern letter 'G'")
        );
        assert!(
            DateFormat::joda("yyyy 'open")
                .unwrap_err()
                .contains("unterminated")
        );
        assert!(
            func("date_trunc").prepare.unwrap()(&[Some(s("fortnight")), None])
                .unwrap_err()
                .message
                .contains("unknown unit")
        );
        assert!(
            func("at_timezone").prepare.unwrap()(&[None, Some(s("Mars/Base"))])
                .unwrap_err()
                .message
                .contains("unknown time zone")
        );
        // at run time, when the format is not constant
        let e = call_dynamic("date_format", &[ts("2022-10-19"), s("%Q")]).unwrap_err();
        assert_eq!(e.arg, Some(1));
    }

    #[test]
    fn joda_formats() {
        let t = Timestamp {
            nanos: parse_timestamp_text("2022-03-07 15:04:05.123456789")
                .unwrap()
                .nanos,
            zone: Zone::Named(chrono_tz::Asia::Shanghai),
        };
        let f = |p: &str| DateFormat::joda(p).unwrap().format(t);
        assert_eq!(f("yyyy-MM-dd HH:mm:ss.SSS"), "2022-03-07 23:04:05.123");
        assert_eq!(f("yy M d H m s S"), "22 3 7 23 4 5 1");
        assert_eq!(
            f("MMM MMMM EEE EEEE a hh h K k"),
            "Mar March Mon Monday PM 11 11 11 23"
        );
        assert_eq!(f("Z ZZ ZZZ z"), "+0800 +08:00 Asia/Shanghai CST");
        assert_eq!(f("'T''s' yyyy''"), "T's 2022'");
        assert_eq!(f("SSSSSSSSS D e w x"), "123456789 66 1 10 2022");
        let utc = Timestamp::utc(0);
        assert_eq!(
            DateFormat::joda("Z ZZ ZZZ z").unwrap().format(utc),
            "+0000 +00:00 UTC UTC"
        );
        let off = Timestamp {
            nanos: 0,
            zone: Zone::Offset(-5 * 3600 - 1800),
        };
        assert_eq!(
            DateFormat::joda("HH:mm Z ZZZ").unwrap().format(off),
            "18:30 -0530 -05:30"
        );
    }

    #[test]
    fn joda_parse() {
        let p = |s: &str, f: &str| {
            DateFormat::joda(f)
                .unwrap()
                .parse(s)
                .map(|t| t.to_rfc3339())
        };
        assert_eq!(
            p("2022-10-19 15:46:05", "yyyy-MM-dd HH:mm:ss").unwrap(),
            "2022-10-19T15:46:05Z"
        );
        assert_eq!(
            p("20221019154605", "yyyyMMddHHmmss").unwrap(),
            "2022-10-19T15:46:05Z"
        );
        assert_eq!(
            p("20221019154605123", "yyyyMMddHHmmssSSS").unwrap(),
            "2022-10-19T15:46:05.123Z"
        );
        assert_eq!(
            p("2022-10-19T15:46:05.12Z", "yyyy-MM-dd'T'HH:mm:ss.SSSZ").unwrap(),
            "2022-10-19T15:46:05.120Z"
        );
        assert_eq!(
            p("2022-10-19T15:46:05+05:30", "yyyy-MM-dd'T'HH:mm:ssZZ").unwrap(),
            "2022-10-19T15:46:05+05:30"
        );
        assert_eq!(
            p(
                "2022-10-19 15:46:05 Asia/Shanghai",
                "yyyy-MM-dd HH:mm:ss ZZZ"
            )
            .unwrap(),
            "2022-10-19T15:46:05+08:00"
        );
        assert_eq!(
            p("Wed Oct 19 03:46:05 PM 2022", "EEE MMM dd hh:mm:ss a yyyy").unwrap(),
            "2022-10-19T15:46:05Z"
        );
        assert_eq!(
            p("19 October 22", "d MMMM yy").unwrap(),
            "2022-10-19T00:00:00Z"
        );
        assert_eq!(p("24:00", "kk:mm").unwrap(), "1970-01-01T00:00:00Z");
        assert!(p("2022-10-19", "yyyy-MM-dd HH").is_err());
        assert!(
            p(
                "2022-10-19 15:46:05 Nowhere/City",
                "yyyy-MM-dd HH:mm:ss ZZZ"
            )
            .is_err()
        );
    }

    #[test]
    fn dst_named_zone_round_trip() {
        let ny = Zone::Named(chrono_tz::America::New_York);
        // 02:30 does not exist on 2022-03-13 in New York: moved forward.
        let gap = from_local(
            NaiveDate::from_ymd_opt(2022, 3, 13)
                .unwrap()
                .and_hms_opt(2, 30, 0)
                .unwrap(),
            ny,
        )
        .unwrap();
        assert_eq!(gap.to_rfc3339(), "2022-03-13T03:30:00-04:00");
        // 01:30 happens twice on 2022-11-06: the earlier wins.
        let overlap = from_local(
            NaiveDate::from_ymd_opt(2022, 11, 6)
                .unwrap()
                .and_hms_opt(1, 30, 0)
                .unwrap(),
            ny,
        )
        .unwrap();
        assert_eq!(overlap.to_rfc3339(), "2022-11-06T01:30:00-04:00");
    }

    #[test]
    fn function_examples_from_spl_md() {
        assert_eq!(
            rfc(call(
                "date_parse",
                &[s("2022-10-19 15:46:05"), s("%Y-%m-%d %H:%i:%s")]
            )),
            "2022-10-19T15:46:05Z"
        );
        assert_eq!(
            rfc(call(
                "from_unixtime",
                &[Value::Int(1534521600), s("+01:00")]
            )),
            "2018-08-17T17:00:00+01:00"
        );
        assert_eq!(
            rfc(call("from_unixtime", &[s("1534521600"), s("+01:00")])),
            "2018-08-17T17:00:00+01:00"
        );
        assert_eq!(
            rfc(call("from_unixtime", &[Value::Int(1534521600)])),
            "2018-08-17T16:00:00Z"
        );
        assert_eq!(
            rfc(call(
                "from_unixtime",
                &[Value::Int(1534521600), s("Asia/Shanghai")]
            )),
            "2018-08-18T00:00:00+08:00"
        );
        assert_eq!(
            rfc(call_dynamic(
                "from_unixtime",
                &[Value::Int(1534521600), s("Asia/Shanghai")]
            )),
            "2018-08-18T00:00:00+08:00"
        );
        assert_eq!(
            rfc(call(
                "from_unixtime",
                &[
                    Value::Double(1534521600.25),
                    Value::Int(-5),
                    Value::Int(-30)
                ]
            )),
            "2018-08-17T10:30:00.250-05:30"
        );
        assert_eq!(
            rfc(call("from_unixtime", &[Value::Int(-1)])),
            "1969-12-31T23:59:59Z"
        );
        assert!(call("from_unixtime", &[Value::Int(i64::MAX)]).is_err());
        assert!(call("from_unixtime", &[Value::Double(f64::NAN)]).is_err());
        assert!(call("from_unixtime", &[Value::Double(1e300)]).is_err());
        assert!(call("from_unixtime", &[Value::Int(0), Value::Int(99)]).is_err());
        assert!(call_dynamic("from_unixtime", &[Value::Int(0), s("Nowhere")]).is_err());
        assert!(call("from_unixtime", &[Value::Int(0), s("Nowhere")]).is_err());
        assert_eq!(call("from_unixtime", &[Value::Null]).unwrap(), Value::Null);
        // __time__ = cast(to_unixtime(ts) as INTEGER)
        let t = call(
            "date_parse",
            &[s("2022-10-19 15:46:05"), s("%Y-%m-%d %H:%i:%S")],
        )
        .unwrap();
        assert_eq!(
            call("to_unixtime", &[t]).unwrap(),
            Value::Double(1666194365.0)
        );
        assert_eq!(
            call("to_unixtime", &[ts("1969-12-31 23:59:59.5")]).unwrap(),
            Value::Double(-0.5)
        );
        assert_eq!(
            call("to_unixtime", &[s("2022-10-19T15:46:05Z")]).unwrap(),
            Value::Double(1666194365.0)
        );
        assert!(call("to_unixtime", &[s("yesterday")]).is_err());
        assert!(call("to_unixtime", &[Value::Int(3)]).is_err());
    }

    #[test]
    fn parse_and_format_functions() {
        assert_eq!(
            rfc(call("date_parse", &[s("20221019"), s("%Y%m%d")])),
            "2022-10-19T00:00:00Z"
        );
        let err = call("date_parse", &[s("yesterday"), s("%Y-%m-%d")]).unwrap_err();
        assert_eq!(err.arg, Some(0));
        assert_eq!(
            rfc(call_dynamic(
                "date_parse",
                &[s("2022-10-19"), s("%Y-%m-%d")]
            )),
            "2022-10-19T00:00:00Z"
        );
        assert_eq!(
            text(call(
                "date_format",
                &[ts("2022-10-19 15:46:05"), s("%Y/%m/%d %T")]
            )),
            "2022/10/19 15:46:05"
        );
        assert_eq!(
            text(call(
                "date_format",
                &[s("2022-10-19T15:46:05Z"), s("%H:%i")]
            )),
            "15:46"
        );
        assert_eq!(
            text(call("date_format", &[Value::Date(19284), s("%Y-%m-%d %H")])),
            "2022-10-19 00"
        );
        let sh = call(
            "from_unixtime",
            &[Value::Int(1534521600), s("Asia/Shanghai")],
        )
        .unwrap();
        assert_eq!(
            text(call("date_format", &[sh.clone(), s("%a %b %e %Y %r")])),
            "Sat Aug 18 2018 12:00:00 AM"
        );
        assert_eq!(
            rfc(call(
                "parse_datetime",
                &[s("19/Oct/2022:15:46:05 +0800"), s("dd/MMM/yyyy:HH:mm:ss Z")]
            )),
            "2022-10-19T15:46:05+08:00"
        );
        assert_eq!(
            text(call("format_datetime", &[sh, s("yyyy-MM-dd'T'HH:mm:ssZZ")])),
            "2018-08-18T00:00:00+08:00"
        );
        let frac = call(
            "from_unixtime",
            &[Value::Double(1534521600.123), s("Asia/Shanghai")],
        )
        .unwrap();
        assert_eq!(
            text(call(
                "format_datetime",
                &[frac, s("yyyy-MM-dd'T'HH:mm:ss.SSSZZ")]
            )),
            "2018-08-18T00:00:00.123+08:00"
        );
    }

    #[test]
    fn trunc_add_diff() {
        let t = call("from_unixtime", &[Value::Int(1534523456)]).unwrap();
        let trunc = |u: &str, v: &Value| call("date_trunc", &[s(u), v.clone()]);
        assert_eq!(rfc(trunc("millisecond", &t)), "2018-08-17T16:30:56Z");
        assert_eq!(rfc(trunc("second", &t)), "2018-08-17T16:30:56Z");
        assert_eq!(rfc(trunc("minute", &t)), "2018-08-17T16:30:00Z");
        assert_eq!(rfc(trunc("hour", &t)), "2018-08-17T16:00:00Z");
        assert_eq!(rfc(trunc("day", &t)), "2018-08-17T00:00:00Z");
        assert_eq!(rfc(trunc("week", &t)), "2018-08-13T00:00:00Z");
        assert_eq!(rfc(trunc("month", &t)), "2018-08-01T00:00:00Z");
        assert_eq!(rfc(trunc("quarter", &t)), "2018-07-01T00:00:00Z");
        assert_eq!(rfc(trunc("YEAR", &t)), "2018-01-01T00:00:00Z");
        let sh = call(
            "from_unixtime",
            &[Value::Int(1534523456), s("Asia/Shanghai")],
        )
        .unwrap();
        assert_eq!(rfc(trunc("month", &sh)), "2018-08-01T00:00:00+08:00");
        assert_eq!(rfc(trunc("day", &sh)), "2018-08-18T00:00:00+08:00");
        let india = call("from_unixtime", &[Value::Int(1534523456), s("+05:30")]).unwrap();
        assert_eq!(rfc(trunc("hour", &india)), "2018-08-17T22:00:00+05:30");
        assert_eq!(
            trunc("week", &Value::Date(19284)).unwrap(),
            Value::Date(19282)
        );
        assert_eq!(
            trunc("hour", &Value::Date(19284)).unwrap(),
            Value::Date(19284)
        );
        assert_eq!(
            rfc(trunc("minute", &ts("1969-12-31 23:59:59.5"))),
            "1969-12-31T23:59:00Z"
        );
        assert!(call_dynamic("date_trunc", &[s("eon"), t.clone()]).is_err());

        let add = |u: &str, n: i64, v: &Value| call("date_add", &[s(u), Value::Int(n), v.clone()]);
        assert_eq!(rfc(add("day", 1, &t)), "2018-08-18T16:30:56Z");
        assert_eq!(rfc(add("hours", -17, &t)), "2018-08-16T23:30:56Z");
        assert_eq!(
            rfc(add("millisecond", 1500, &t)),
            "2018-08-17T16:30:57.500Z"
        );
        assert_eq!(
            rfc(add("month", 1, &ts("2022-01-31"))),
            "2022-02-28T00:00:00Z"
        );
        assert_eq!(
            rfc(add("quarter", -1, &ts("2022-05-31"))),
            "2022-02-28T00:00:00Z"
        );
        assert_eq!(
            rfc(add("year", 1, &ts("2020-02-29"))),
            "2021-02-28T00:00:00Z"
        );
        assert_eq!(
            rfc(add("week", 2, &ts("2022-10-19"))),
            "2022-11-02T00:00:00Z"
        );
        assert_eq!(
            add("day", 3, &Value::Date(19284)).unwrap(),
            Value::Date(19287)
        );
        assert_eq!(
            rfc(add("hour", -2, &Value::Date(19284))),
            "2022-10-18T22:00:00Z"
        );
        let ny = call(
            "at_timezone",
            &[ts("2022-03-12 12:00:00-05:00"), s("America/New_York")],
        )
        .unwrap();
        assert_eq!(rfc(add("day", 1, &ny)), "2022-03-13T12:00:00-04:00");
        assert_eq!(rfc(add("hour", 24, &ny)), "2022-03-13T13:00:00-04:00");
        for n in [i64::MAX, i64::MIN, 1 << 54] {
            for u in ["millisecond", "day", "week", "month", "quarter", "year"] {
                assert!(add(u, n, &t).is_err(), "{u} {n}");
            }
        }
        assert!(add("day", i64::MAX, &Value::Date(0)).is_err());

        let diff = |u: &str, a: &str, b: &str| call("date_diff", &[s(u), ts(a), ts(b)]).unwrap();
        assert_eq!(
            diff("second", "2018-08-17 16:00:00", "2018-08-17 16:01:40"),
            Value::Int(100)
        );
        assert_eq!(
            diff(
                "millisecond",
                "2018-08-17 16:00:00",
                "2018-08-17 15:59:59.9995"
            ),
            Value::Int(0)
        );
        assert_eq!(
            diff("minute", "2018-08-17 16:00:00", "2018-08-17 15:58:59"),
            Value::Int(-1)
        );
        assert_eq!(diff("day", "2022-10-19", "2022-10-12"), Value::Int(-7));
        assert_eq!(
            diff("day", "2022-10-19 12:00", "2022-10-20 11:59"),
            Value::Int(0)
        );
        assert_eq!(diff("week", "2022-10-01", "2022-10-19"), Value::Int(2));
        assert_eq!(diff("month", "2022-01-31", "2022-02-28"), Value::Int(1));
        assert_eq!(diff("month", "2022-01-15", "2022-02-14"), Value::Int(0));
        assert_eq!(diff("month", "2022-03-15", "2022-01-16"), Value::Int(-1));
        assert_eq!(diff("month", "2022-03-15", "2022-01-15"), Value::Int(-2));
        assert_eq!(diff("quarter", "2022-01-01", "2022-12-31"), Value::Int(3));
        assert_eq!(diff("year", "2020-02-29", "2021-02-28"), Value::Int(1));
        assert_eq!(diff("year", "1677-09-22", "2262-04-10"), Value::Int(584));
        assert_eq!(
            call(
                "date_diff",
                &[s("day"), Value::Date(19284), Value::Date(19277)]
            )
            .unwrap(),
            Value::Int(-7)
        );
    }

    #[test]
    fn extractors_and_conversions() {
        let t = ts("2022-10-19 15:46:05.789");
        let get = |name: &str, v: &Value| call(name, std::slice::from_ref(v)).unwrap();
        for (name, want) in [
            ("year", 2022),
            ("quarter", 4),
            ("month", 10),
            ("week", 42),
            ("week_of_year", 42),
            ("day", 19),
            ("day_of_month", 19),
            ("day_of_week", 3),
            ("dow", 3),
            ("day_of_year", 292),
            ("doy", 292),
            ("hour", 15),
            ("minute", 46),
            ("second", 5),
            ("millisecond", 789),
            ("year_of_week", 2022),
            ("yow", 2022),
        ] {
            assert_eq!(get(name, &t), Value::Int(want), "{name}");
        }
        assert_eq!(get("year_of_week", &Value::Date(18993)), Value::Int(2021)); // 2022-01-01
        assert_eq!(get("week", &Value::Date(18993)), Value::Int(52));
        assert_eq!(get("year", &s("2022-10-19 15:46:05")), Value::Int(2022));
        assert_eq!(
            get(
                "hour",
                &call(
                    "from_unixtime",
                    &[Value::Int(1534521600), s("Asia/Shanghai")]
                )
                .unwrap()
            ),
            Value::Int(0)
        );
        assert!(call("year", &[s("not a time")]).is_err());
        assert_eq!(call("year", &[Value::Null]).unwrap(), Value::Null);

        assert_eq!(get("date", &s("2022-10-19 15:46:05")), Value::Date(19284));
        assert_eq!(get("date", &t), Value::Date(19284));
        assert_eq!(get("date", &Value::Date(3)), Value::Date(3));
        assert!(call("date", &[s("x")]).is_err());
        assert_eq!(
            text(call("to_iso8601", std::slice::from_ref(&t))),
            "2022-10-19T15:46:05.789Z"
        );
        assert_eq!(
            text(call(
                "to_iso8601",
                &[call("from_unixtime", &[Value::Int(1534521600), s("+01:00")]).unwrap()]
            )),
            "2018-08-17T17:00:00.000+01:00"
        );
        assert_eq!(
            text(call("to_iso8601", &[Value::Date(19284)])),
            "2022-10-19"
        );
        assert_eq!(
            rfc(call(
                "from_iso8601_timestamp",
                &[s("2022-10-19T15:46:05.123+08:00")]
            )),
            "2022-10-19T15:46:05.123+08:00"
        );
        assert!(call("from_iso8601_timestamp", &[s("19 Oct")]).is_err());
        assert_eq!(
            call("from_iso8601_date", &[s("2022-10-19")]).unwrap(),
            Value::Date(19284)
        );
        assert!(call("from_iso8601_date", &[s("2022-10-19T00:00")]).is_err());
        assert_eq!(
            rfc(call("at_timezone", &[t.clone(), s("Asia/Shanghai")])),
            "2022-10-19T23:46:05.789+08:00"
        );
        assert_eq!(
            rfc(call("at_timezone", &[t, s("-08:00")])),
            "2022-10-19T07:46:05.789-08:00"
        );
    }

    #[test]
    fn clock_functions_use_the_env() {
        assert_eq!(rfc(call("now", &[])), "2022-10-19T15:46:05Z");
        assert_eq!(rfc(call("current_timestamp", &[])), "2022-10-19T15:46:05Z");
        assert_eq!(call("current_date", &[]).unwrap(), Value::Date(19284));
    }

    #[test]
    fn extreme_dates_error_not_panic() {
        assert!(call("year", &[Value::Date(i32::MAX)]).is_err());
        assert!(call("year", &[Value::Date(i32::MIN)]).is_err());
        assert!(call("date_trunc", &[s("month"), Value::Date(i32::MAX)]).is_err());
        assert!(
            call(
                "date_add",
                &[s("day"), Value::Int(1), Value::Date(i32::MAX)]
            )
            .is_err()
        );
        assert!(call("date_format", &[Value::Date(i32::MAX), s("%Y")]).is_err());
        assert!(call("to_iso8601", &[Value::Date(i32::MAX)]).is_err());
        assert_eq!(
            text(call(
                "date_format",
                &[Value::Timestamp(Timestamp::utc(i64::MAX)), s("%Y-%m-%d")]
            )),
            "2262-04-11"
        );
        assert_eq!(
            text(call(
                "date_format",
                &[Value::Timestamp(Timestamp::utc(i64::MIN)), s("%Y-%m-%d")]
            )),
            "1677-09-21"
        );
        let edge = Value::Timestamp(Timestamp {
            nanos: i64::MAX,
            zone: Zone::Offset(-18 * 3600),
        });
        assert!(call("date_trunc", &[s("year"), edge.clone()]).is_ok());
        assert!(
            call(
                "date_trunc",
                &[
                    s("hour"),
                    Value::Timestamp(Timestamp {
                        nanos: i64::MAX,
                        zone: Zone::Offset(18 * 3600)
                    })
                ]
            )
            .is_ok()
        );
        assert!(call("date_add", &[s("month"), Value::Int(1), edge]).is_err());
        assert!(
            call(
                "date_diff",
                &[
                    s("year"),
                    Value::Timestamp(Timestamp::utc(i64::MIN)),
                    Value::Timestamp(Timestamp::utc(i64::MAX))
                ]
            )
            .is_ok()
        );
    }
}
