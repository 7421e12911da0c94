//! Value typing: what a sample value looks like (IP, port, timestamp with the SPL format that
//! parses it, URL, hash, ...). Pure functions over text; no knowledge of key names (that is
//! `map`'s job) and no SPL execution.

use regex::Regex;
use std::sync::LazyLock;

/// The type rule a value matched, most specific first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ValueType {
    Empty,
    Ipv4,
    Ipv6,
    /// `ip:port` or `[ipv6]:port` or `ip/port` (Cisco).
    IpPort,
    Mac,
    Boolean,
    Integer,
    Float,
    /// A timestamp, with the index of its entry in [`TIME_FORMATS`].
    Timestamp(usize),
    Url,
    Path,
    Email,
    Domain,
    Uuid,
    Md5,
    Sha1,
    Sha256,
    HttpMethod,
    HttpVersion,
    Severity,
    Protocol,
    UserAgent,
    /// A number with a time unit (`15ms`, `0.000150566s`, `2m`).
    Duration,
    Word,
    Text,
}

impl ValueType {
    /// The short name shown in the mapping table.
    pub fn name(&self) -> &'static str {
        match self {
            ValueType::Empty => "empty",
            ValueType::Ipv4 => "ipv4",
            ValueType::Ipv6 => "ipv6",
            ValueType::IpPort => "ip:port",
            ValueType::Mac => "mac",
            ValueType::Boolean => "boolean",
            ValueType::Integer => "integer",
            ValueType::Float => "float",
            ValueType::Timestamp(_) => "timestamp",
            ValueType::Url => "url",
            ValueType::Path => "path",
            ValueType::Email => "email",
            ValueType::Domain => "domain",
            ValueType::Uuid => "uuid",
            ValueType::Md5 => "md5",
            ValueType::Sha1 => "sha1",
            ValueType::Sha256 => "sha256",
            ValueType::HttpMethod => "http_method",
            ValueType::HttpVersion => "http_version",
            ValueType::Severity => "severity",
            ValueType::Protocol => "protocol",
            ValueType::UserAgent => "user_agent",
            ValueType::Duration => "duration",
            ValueType::Word => "keyword",
            ValueType::Text => "text",
        }
    }

    /// True for IPv4/IPv6.
    pub fn is_ip(&self) -> bool {
        matches!(self, ValueType::Ipv4 | ValueType::Ipv6)
    }
}

/// How a timestamp of one shape becomes a TIMESTAMP in SPL. `{}` stands for the field
/// expression; `{year}` for the reference year (year-less formats).
pub struct TimeFormat {
    pub name: &'static str,
    pub pattern: &'static str,
    pub spl: &'static str,
}

/// Timestamp shapes, tried in order.
pub const TIME_FORMATS: &[TimeFormat] = &[
    TimeFormat {
        name: "RFC 3339 / ISO 8601 with zone",
        pattern: r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}([.,]\d{1,9})? ?(Z|[+-]\d{2}:?\d{2})$",
        spl: "iso",
    },
    TimeFormat {
        name: "yyyy-MM-dd HH:mm:ss[.SSS] Z",
        pattern: r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})? [+-]\d{2}:?\d{2}$",
        spl: "iso",
    },
    TimeFormat {
        name: "ISO 8601 without zone",
        pattern: r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?$",
        spl: "iso",
    },
    TimeFormat {
        name: "yyyy-MM-dd HH:mm:ss[.SSS]",
        pattern: r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}([.,]\d{1,9})?$",
        spl: "iso",
    },
    TimeFormat {
        name: "Apache [dd/MMM/yyyy:HH:mm:ss Z]",
        pattern: r"^\[?\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2}(\.\d+)? [+-]\d{4}\]?$",
        spl: "apache",
    },
    TimeFormat {
        name: "HAProxy dd/MMM/yyyy:HH:mm:ss.SSS",
        pattern: r"^\[?\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2}(\.\d+)?\]?$",
        spl: "haproxy",
    },
    TimeFormat {
        name: "syslog MMM d HH:mm:ss (no year)",
        pattern: r"^[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}(\.\d+)?$",
        spl: "syslog",
    },
    TimeFormat {
        name: "d MMM HH:mm:ss[.SSS] (no year)",
        pattern: r"^\d{1,2} [A-Z][a-z]{2} \d{2}:\d{2}:\d{2}(\.\d+)?$",
        spl: "daymonth",
    },
    TimeFormat {
        name: "d MMM yyyy HH:mm:ss[.SSS]",
        pattern: r"^\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}(\.\d+)?$",
        spl: "daymonthyear",
    },
    TimeFormat {
        name: "MMM d yyyy HH:mm:ss",
        pattern: r"^[A-Z][a-z]{2} +\d{1,2} \d{4} \d{2}:\d{2}:\d{2}$",
        spl: "parse_datetime(regexp_replace({}, ' +', ' '), 'MMM d yyyy HH:mm:ss')",
    },
    TimeFormat {
        name: "yyyy/MM/dd HH:mm:ss.SSS",
        pattern: r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}\.\d{1,9}$",
        spl: "try_cast(replace({}, '/', '-') as TIMESTAMP)",
    },
    TimeFormat {
        name: "yyyy/MM/dd HH:mm:ss",
        pattern: r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}$",
        spl: "parse_datetime({}, 'yyyy/MM/dd HH:mm:ss')",
    },
    TimeFormat {
        name: "ctime EEE MMM dd HH:mm:ss[.SSSSSS] yyyy",
        pattern: r"^[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}(\.\d+)? \d{4}$",
        spl: "ctime",
    },
    TimeFormat {
        name: "epoch seconds (with fraction)",
        pattern: r"^1[0-9]{9}\.\d+$",
        spl: "from_unixtime(cast({} as DOUBLE))",
    },
    TimeFormat {
        name: "epoch seconds",
        pattern: r"^1[0-9]{9}$",
        spl: "from_unixtime(cast({} as BIGINT))",
    },
    TimeFormat {
        name: "epoch milliseconds",
        pattern: r"^1[0-9]{12}$",
        spl: "from_unixtime(cast({} as BIGINT) / 1000.0)",
    },
    TimeFormat {
        name: "epoch microseconds",
        pattern: r"^1[0-9]{15}$",
        spl: "from_unixtime(cast({} as BIGINT) / 1000000.0)",
    },
    TimeFormat {
        name: "epoch nanoseconds",
        pattern: r"^1[0-9]{18}$",
        spl: "from_unixtime(cast({} as BIGINT) / 1000000000.0)",
    },
    TimeFormat {
        name: "M/d/yyyy h:mm:ss AM/PM (US)",
        pattern: r"^\d{1,2}/\d{1,2}/\d{4},? \d{1,2}:\d{2}:\d{2} ?[AaPp][Mm]$",
        spl: "parse_datetime(regexp_replace(replace({}, ',', ''), '(\\d)([AaPp][Mm])$', '$1 $2'), 'M/d/yyyy h:mm:ss a')",
    },
    TimeFormat {
        name: "yyyy-MM-dd HH:mm:ss[.SSS] zone abbreviation",
        pattern: r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}([.,]\d{1,9})? [A-Z]{2,5}$",
        spl: "zone:iso",
    },
    TimeFormat {
        name: "EEE MMM dd HH:mm:ss zone yyyy (Java Date)",
        pattern: r"^[A-Z][a-z]{2} [A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2} [A-Z]{2,5} \d{4}$",
        spl: "zone:java",
    },
    TimeFormat {
        name: "MM/dd/yyyy HH:mm:ss",
        pattern: r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}$",
        spl: "parse_datetime({}, 'MM/dd/yyyy HH:mm:ss')",
    },
];

/// Zone abbreviations and their UTC offsets in minutes (`knowledge/zones.toml`).
pub fn zones() -> &'static [(String, i64)] {
    static ZONES: LazyLock<Vec<(String, i64)>> = LazyLock::new(|| {
        #[derive(serde::Deserialize)]
        struct Table {
            offsets: std::collections::BTreeMap<String, i64>,
        }
        toml::from_str::<Table>(include_str!("../../knowledge/zones.toml"))
            .map(|t| t.offsets.into_iter().collect())
            .unwrap_or_default()
    });
    &ZONES
}

static TIME_RES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    TIME_FORMATS
        .iter()
        .map(|f| Regex::new(f.pattern).expect("time pattern"))
        .collect()
});

/// The SPL expression converting `expr` (a field holding a timestamp of format `index`) into a
/// TIMESTAMP; year-less formats take the year of the clock (`now()`) at run time.
pub fn time_expr(index: usize, expr: &str) -> String {
    let f = &TIME_FORMATS[index];
    // Milliseconds are kept when the text has them (`HH:mm:ss.SSS`), else whole seconds.
    let ms = |text: String, fmt: &str| {
        let whole = text.replace("{frac}", "regexp_replace({x}, '\\.\\d+', '')");
        let frac = text.replace("{frac}", "regexp_replace({x}, '(\\.\\d{3})\\d+', '$1')");
        let fmt_ms = fmt.replace("HH:mm:ss", "HH:mm:ss.SSS");
        format!(
            "coalesce(try(parse_datetime({}, '{fmt_ms}')), parse_datetime({}, '{fmt}'))",
            frac.replace("{x}", expr),
            whole.replace("{x}", expr)
        )
    };
    match f.spl {
        // Year-less: the year of the clock at run time, and a date more than a day ahead
        // of it belongs to the previous year (`Dec 31` read on January 1st).
        "syslog" => {
            let t = ms(
                "concat(cast(year(now()) as varchar), ' ', regexp_replace({frac}, ' +', ' '))"
                    .to_string(),
                "yyyy MMM d HH:mm:ss",
            );
            format!("date_add('year', if({t} > date_add('day', 1, now()), -1, 0), {t})")
        }
        // Day before month, no year (`30 May 12:50:13.457`): as for syslog.
        "daymonth" => {
            let t = ms(
                "concat(cast(year(now()) as varchar), ' ', regexp_replace({frac}, ' +', ' '))"
                    .to_string(),
                "yyyy d MMM HH:mm:ss",
            );
            format!("date_add('year', if({t} > date_add('day', 1, now()), -1, 0), {t})")
        }
        "daymonthyear" => ms(
            "regexp_replace({frac}, ' +', ' ')".to_string(),
            "d MMM yyyy HH:mm:ss",
        ),
        "apache" => format!(
            "parse_datetime(regexp_replace({expr}, '[\\[\\]]|\\.\\d+', ''), 'dd/MMM/yyyy:HH:mm:ss Z')"
        ),
        "haproxy" => ms(
            "regexp_replace({frac}, '[\\[\\]]', '')".to_string(),
            "dd/MMM/yyyy:HH:mm:ss",
        ),
        "ctime" => ms(
            "regexp_replace({frac}, ' +', ' ')".to_string(),
            "EEE MMM d HH:mm:ss yyyy",
        ),
        "iso" => format!("try_cast(replace({expr}, ',', '.') as TIMESTAMP)"),
        // A zone abbreviation: the wall-clock time read as UTC, less the zone's offset
        // (`knowledge/zones.toml`); an abbreviation not in the table gives NULL.
        "zone:iso" | "zone:java" => {
            let zone = format!("regexp_extract({expr}, '([A-Z]{{2,5}})(?: \\d{{4}})?$', 1)");
            let mut case = format!("CASE {zone}");
            for (abbr, minutes) in zones() {
                case.push_str(&format!(" WHEN '{abbr}' THEN {minutes}"));
            }
            case.push_str(" ELSE NULL END");
            let wall = if f.spl == "zone:iso" {
                format!(
                    "try_cast(replace(regexp_replace({expr}, ' [A-Z]{{2,5}}$', ''), ',', '.') as TIMESTAMP)"
                )
            } else {
                format!(
                    "try(parse_datetime(regexp_replace(regexp_replace({expr}, ' [A-Z]{{2,5}} ', ' '), ' +', ' '), 'EEE MMM d HH:mm:ss yyyy'))"
                )
            };
            format!("date_add('minute', -({case}), {wall})")
        }
        spl => spl.replace("{}", expr),
    }
}

macro_rules! re {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($pat).expect($pat));
    };
}

re!(INT, r"^-?\d{1,18}$");
re!(DURATION, r"^\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h)$");
re!(FLOAT, r"^-?\d+\.\d+$");
re!(MAC, r"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$");
re!(
    IP_PORT,
    r"^(\d{1,3}(\.\d{1,3}){3}([:/]\d{1,5}|\(\d{1,5}\))|\[[0-9A-Fa-f:.]+\]:\d{1,5})(:[\w/-]+)?$"
);
re!(URL, r"^[a-zA-Z][a-zA-Z0-9+.-]*://\S+$");
re!(PATH, r"^(/[^\s/]*)+/?(\?\S*)?$|^[A-Za-z]:\\\S*$");
re!(EMAIL, r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$");
re!(
    DOMAIN,
    r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}\.?$"
);
re!(
    UUID,
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
);
re!(HEX32, r"^[0-9a-fA-F]{32}$");
re!(HEX40, r"^[0-9a-fA-F]{40}$");
re!(HEX64, r"^[0-9a-fA-F]{64}$");
re!(HTTP_VERSION, r"^HTTP/\d(\.\d)?$");
re!(
    USER_AGENT,
    r"^(Mozilla|curl|Wget|python-requests|Go-http-client|Java|okhttp|Opera)[/ ]"
);
re!(WORD, r"^[\w.@:/\-]+$");

const HTTP_METHODS: &[&str] = &[
    "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT", "TRACE",
];
const SEVERITIES: &[&str] = &[
    "emerg",
    "emergency",
    "alert",
    "crit",
    "critical",
    "err",
    "error",
    "warn",
    "warning",
    "notice",
    "info",
    "informational",
    "information",
    "debug",
    "fatal",
    "trace",
];
const PROTOCOLS: &[&str] = &["tcp", "udp", "icmp", "icmpv6", "gre", "esp", "sctp", "igmp"];

/// Classifies one value.
pub fn classify(v: &str) -> ValueType {
    let v = v.trim();
    if v.is_empty() || v == "-" {
        return ValueType::Empty;
    }
    if let Some(i) = TIME_RES.iter().position(|r| r.is_match(v)) {
        // Bare epoch numbers are integers unless they look like plausible times; the key decides.
        if (!INT.is_match(v) && !FLOAT.is_match(v)) || TIME_FORMATS[i].name.contains("fraction") {
            return ValueType::Timestamp(i);
        }
    }
    if INT.is_match(v) {
        return ValueType::Integer;
    }
    if DURATION.is_match(v) {
        return ValueType::Duration;
    }
    if FLOAT.is_match(v) {
        return ValueType::Float;
    }
    if v.parse::<std::net::Ipv4Addr>().is_ok() {
        return ValueType::Ipv4;
    }
    if v.contains(':') && v.parse::<std::net::Ipv6Addr>().is_ok() {
        return ValueType::Ipv6;
    }
    if MAC.is_match(v) {
        return ValueType::Mac;
    }
    if IP_PORT.is_match(v) {
        return ValueType::IpPort;
    }
    let lower = v.to_ascii_lowercase();
    if lower == "true" || lower == "false" {
        return ValueType::Boolean;
    }
    if HTTP_METHODS.contains(&v) {
        return ValueType::HttpMethod;
    }
    if HTTP_VERSION.is_match(v) {
        return ValueType::HttpVersion;
    }
    if UUID.is_match(v) {
        return ValueType::Uuid;
    }
    if HEX64.is_match(v) {
        return ValueType::Sha256;
    }
    if HEX40.is_match(v) {
        return ValueType::Sha1;
    }
    if HEX32.is_match(v) {
        return ValueType::Md5;
    }
    if URL.is_match(v) {
        return ValueType::Url;
    }
    if USER_AGENT.is_match(v) {
        return ValueType::UserAgent;
    }
    if EMAIL.is_match(v) {
        return ValueType::Email;
    }
    if PATH.is_match(v) {
        return ValueType::Path;
    }
    if SEVERITIES.contains(&lower.as_str()) {
        return ValueType::Severity;
    }
    if PROTOCOLS.contains(&lower.as_str()) {
        return ValueType::Protocol;
    }
    if DOMAIN.is_match(v) && v.contains('.') && !v.ends_with(".log") {
        return ValueType::Domain;
    }
    if WORD.is_match(v) {
        return ValueType::Word;
    }
    ValueType::Text
}

/// The dominant type of a column of values: the most common non-empty type, provided it
/// covers at least 80% of the non-empty values; integers mixed with floats are floats.
pub fn dominant<'a>(values: impl IntoIterator<Item = &'a str>) -> ValueType {
    let mut counts: Vec<(ValueType, usize)> = Vec::new();
    let mut total = 0;
    // Upper-case words beside HTTP methods (`UNKNOWN`, `PROPFIND`) are methods too.
    let mut shouted = 0;
    for v in values {
        let t = classify(v);
        if t == ValueType::Empty {
            continue;
        }
        if t != ValueType::HttpMethod
            && (3..=12).contains(&v.len())
            && v.chars().all(|c| c.is_ascii_uppercase() || c == '-')
        {
            shouted += 1;
        }
        total += 1;
        match counts.iter_mut().find(|(k, _)| *k == t) {
            Some((_, n)) => *n += 1,
            None => counts.push((t, 1)),
        }
    }
    if total == 0 {
        return ValueType::Empty;
    }
    let n_of = |t: &ValueType| counts.iter().find(|(k, _)| k == t).map_or(0, |x| x.1);
    let ints = n_of(&ValueType::Integer);
    let floats = n_of(&ValueType::Float);
    if ints + floats == total && floats > 0 {
        return ValueType::Float;
    }
    let ips = n_of(&ValueType::Ipv4) + n_of(&ValueType::Ipv6);
    if ips * 2 >= total && ips > 0 {
        return if n_of(&ValueType::Ipv4) >= n_of(&ValueType::Ipv6) {
            ValueType::Ipv4
        } else {
            ValueType::Ipv6
        };
    }
    let methods = n_of(&ValueType::HttpMethod);
    if methods > 0 && methods * 2 >= total && methods + shouted == total {
        return ValueType::HttpMethod;
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let (t, n) = counts[0].clone();
    if n * 10 >= total * 8 {
        t
    } else if counts.iter().all(|(t, _)| !matches!(t, ValueType::Text)) {
        ValueType::Word
    } else {
        ValueType::Text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_of_common_values() {
        let cases = [
            ("10.0.0.1", "ipv4"),
            ("2a02:cf40:add:4002:91f2:a9b2:e09a:6fc6", "ipv6"),
            ("::1", "ipv6"),
            ("10.0.0.1:443", "ip:port"),
            ("203.0.113.20/28416", "ip:port"),
            ("192.168.0.1(64999)", "ip:port"),
            ("[2a02:cf40::1]:1234", "ip:port"),
            ("00:06:b1:dd:4f:d4", "mac"),
            ("AB-A4-4F-C0-3D-21", "mac"),
            ("443", "integer"),
            ("0.5", "float"),
            ("true", "boolean"),
            ("2024-10-08T10:15:32Z", "timestamp"),
            ("2026-06-27T08:13:26.024477-0400", "timestamp"),
            ("2020-08-26 20:32:46", "timestamp"),
            ("2023-01-30 16:09:15,246", "timestamp"),
            ("26/Dec/2016:16:16:29 +0200", "timestamp"),
            ("Feb  5 21:54:44", "timestamp"),
            ("Mon Dec 26 16:22:08 2016", "timestamp"),
            ("1647479503.348215340", "timestamp"),
            ("https://example.com/a?b=1", "url"),
            ("/var/log/secure", "path"),
            ("user@example.com", "email"),
            ("www.example.com", "domain"),
            ("59928765-deec-4dca-fe00-008002040075", "uuid"),
            ("d41d8cd98f00b204e9800998ecf8427e", "md5"),
            ("GET", "http_method"),
            ("HTTP/1.1", "http_version"),
            ("warning", "severity"),
            ("TCP", "protocol"),
            ("Mozilla/5.0 (X11; Linux x86_64)", "user_agent"),
            ("12/12/2025 3:03:58 PM", "timestamp"),
            ("hello world", "text"),
            ("-", "empty"),
        ];
        for (v, want) in cases {
            assert_eq!(classify(v).name(), want, "{v}");
        }
    }

    #[test]
    fn dominant_type_tolerates_dashes() {
        assert_eq!(dominant(["1", "-", "2"]), ValueType::Integer);
        assert_eq!(dominant(["1", "2.5"]), ValueType::Float);
        assert_eq!(dominant(["::1", "10.0.0.1", "10.0.0.2"]), ValueType::Ipv4);
    }

    #[test]
    fn unknown_methods_beside_known_ones() {
        assert_eq!(dominant(["GET", "UNKNOWN"]), ValueType::HttpMethod);
        assert_eq!(dominant(["GET", "POST", "PROPFIND"]), ValueType::HttpMethod);
        assert_ne!(
            dominant(["GET", "DENIED", "BLOCKED"]),
            ValueType::HttpMethod
        );
        assert_ne!(dominant(["GET", "alice"]), ValueType::HttpMethod);
    }

    #[test]
    fn zone_abbreviations_are_offsets() {
        assert!(zones().iter().any(|(z, m)| z == "CEST" && *m == 120));
        let run = |v: &str| {
            let i = (0..TIME_FORMATS.len())
                .find(|i| TIME_RES[*i].is_match(v))
                .unwrap_or_else(|| panic!("{v} is not a known time"));
            let rule = format!("* | extend t = {}", time_expr(i, "content"));
            let plan = crate::spl::compile(&rule).unwrap();
            let mut r = crate::spl::Runner::new(&plan);
            let mut out = Vec::new();
            r.run_event(r.line_event(crate::event::Text::new(v)), &mut out)
                .unwrap();
            out[0]
                .1
                .to_json(false)
                .get("t")
                .cloned()
                .unwrap_or_default()
        };
        assert_eq!(run("2024-05-01 12:00:00 CEST"), "2024-05-01T10:00:00Z");
        assert_eq!(
            run("2024-05-01 06:00:00.250 EDT"),
            "2024-05-01T10:00:00.250Z"
        );
        assert_eq!(run("Wed May 01 19:00:00 JST 2024"), "2024-05-01T10:00:00Z");
        // An abbreviation the table does not know is no time rather than a wrong one.
        assert!(run("2024-05-01 12:00:00 XYZT").is_null());
    }

    #[test]
    fn year_less_times_roll_back_over_new_year() {
        use crate::event::{Text, Timestamp};
        let i = TIME_FORMATS.iter().position(|f| f.spl == "syslog").unwrap();
        let rule = format!("* | extend t = {}", time_expr(i, "content"));
        let plan = crate::spl::compile(&rule).unwrap();
        let at = |now: &str, line: &str| {
            let nanos = chrono::DateTime::parse_from_rfc3339(now)
                .unwrap()
                .timestamp_nanos_opt()
                .unwrap();
            let mut r = crate::spl::Runner::new(&plan).with_clock(Timestamp::utc(nanos));
            let mut out = Vec::new();
            r.run_event(r.line_event(Text::new(line)), &mut out)
                .unwrap();
            out[0].1.to_json(false)["t"].as_str().unwrap().to_string()
        };
        // Read just after New Year: last December.
        assert_eq!(
            at("2027-01-01T00:00:30Z", "Dec 31 23:59:00"),
            "2026-12-31T23:59:00Z"
        );
        // Read the same day: this year.
        assert_eq!(
            at("2026-06-01T12:00:00Z", "Jun  1 11:59:58"),
            "2026-06-01T11:59:58Z"
        );
    }

    #[test]
    fn time_expressions_compile() {
        for i in 0..TIME_FORMATS.len() {
            let rule = format!("* | extend t = {}", time_expr(i, "content"));
            crate::spl::compile(&rule).unwrap_or_else(|e| panic!("{rule}: {e:?}"));
        }
    }
}
