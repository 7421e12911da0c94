//! Scored format detection and framing. A sample is peeled layer by layer: headers (syslog
//! RFC 5424/3164, Cisco `%FAC-SEV-MNEMONIC:`, Apache/nginx error prefixes, access logs) are
//! matched from a table of patterns, and the remainder is detected again as a payload (JSON,
//! CEF, LEEF, key=value, CSV/TSV, XML or free text). Every decision carries a confidence and
//! the evidence. The structured parsers (syslog PRI, CEF header, key=value) are `nom`
//! combinators; the SPL rule uses the equivalent `parse-*` instructions.

use nom::IResult;
use nom::Parser;
use nom::bytes::complete::{escaped, is_not, tag, take_while1};
use nom::character::complete::{char, digit1, none_of, one_of};
use nom::combinator::{map_res, opt, recognize};
use nom::sequence::delimited;
use regex::Regex;
use std::sync::LazyLock;

/// A header layer: a regex over the whole text whose last group is the remainder (`message`)
/// unless `rest` is false.
pub struct HeaderDef {
    pub name: &'static str,
    pub regex: &'static str,
    pub outputs: &'static [&'static str],
    /// The last output is the remainder that is detected again.
    pub rest: bool,
}

/// Headers, most specific first. Output names are the raw field names the mapping tables
/// know (`knowledge::SYNONYMS`).
pub const HEADERS: &[HeaderDef] = &[
    HeaderDef {
        name: "RFC 5424 syslog",
        regex: r"^<(\d{1,3})>(1) (\S+) (\S+) (\S+) (\S+) (\S+) (?:- )?(.*)$",
        outputs: &[
            "syslog_pri",
            "syslog_version",
            "syslog_timestamp",
            "syslog_hostname",
            "syslog_appname",
            "syslog_procid",
            "syslog_msgid",
            "message",
        ],
        rest: true,
    },
    HeaderDef {
        name: "syslog (version 1, short header)",
        regex: r"^<(\d{1,3})>1 (\S+) (\S+) (\S+) (.*)$",
        outputs: &[
            "syslog_pri",
            "syslog_timestamp",
            "syslog_host",
            "event_type",
            "message",
        ],
        rest: true,
    },
    HeaderDef {
        name: "Cisco syslog header",
        regex: r"^<(\d{1,3})>(?:(\d+): )?(?:([A-Z][a-z]{2} +\d{1,2}(?: \d{4})? \d{2}:\d{2}:\d{2}(?:\.\d+)?):? )?(?:(\S+) : )?(%.*)$",
        outputs: &[
            "syslog_pri",
            "sequence",
            "syslog_timestamp",
            "syslog_host",
            "message",
        ],
        rest: true,
    },
    // Cisco wireless controllers (AireOS): `<PRI>HOST: *TASK: TIME: %FAC-SEV-MNEMONIC: ...`.
    HeaderDef {
        name: "Cisco controller syslog header",
        regex: r"^<(\d{1,3})>([^\s:]+): \*([^:]+): ([A-Z][a-z]{2} +\d{1,2}(?: \d{4})? \d{2}:\d{2}:\d{2}(?:\.\d+)?): (%.*)$",
        outputs: &[
            "syslog_pri",
            "syslog_host",
            "syslog_program",
            "syslog_timestamp",
            "message",
        ],
        rest: true,
    },
    // CEF or LEEF right after a classic syslog header: no program name in between.
    HeaderDef {
        name: "RFC 3164 syslog + CEF/LEEF",
        regex: r"^(?:<(\d{1,3})>)?([A-Z][a-z]{2} +\d{1,2}(?: \d{4})? \d{2}:\d{2}:\d{2}(?:\.\d+)?) (\S+) ((?:CEF|LEEF):\d.*)$",
        outputs: &["syslog_pri", "syslog_timestamp", "syslog_host", "message"],
        rest: true,
    },
    // A CSV record right after a classic syslog header (PAN-OS `1,2024/04/10 12:00:01,...`): a
    // program name never holds a comma, so the record starts at the host's next token.
    HeaderDef {
        name: "RFC 3164 syslog + CSV record",
        regex: r"^(?:<(\d{1,3})>)?([A-Z][a-z]{2} +\d{1,2}(?: \d{4})? \d{2}:\d{2}:\d{2}(?:\.\d+)?) (\S+) ([^\s\[\]:,=]*,[^\s\[\]=]*(?:[\s,].*)?)$",
        outputs: &["syslog_pri", "syslog_timestamp", "syslog_host", "message"],
        rest: true,
    },
    // A classic header without the host (many appliances leave it out): the program and its
    // colon follow the time.
    HeaderDef {
        name: "RFC 3164 syslog without a host",
        regex: r"^(?:<(\d{1,3})>)?([A-Z][a-z]{2} +\d{1,2}(?: \d{4})? \d{2}:\d{2}:\d{2}(?:\.\d+)?) +([^\s\[:]+)(?:\[(\d+)\])?: +(.*)$",
        outputs: &[
            "syslog_pri",
            "syslog_timestamp",
            "syslog_program",
            "syslog_pid",
            "message",
        ],
        rest: true,
    },
    HeaderDef {
        name: "RFC 3164 syslog",
        regex: r"^(?:<(\d{1,3})>)?([A-Z][a-z]{2} +\d{1,2}(?: \d{4})? \d{2}:\d{2}:\d{2}(?:\.\d+)?) (\S+) +(?:[a-z0-9]+\.[a-z]+ )?([^\s\[:]+)(?:\[(\d+)\])?:? *(.*)$",
        outputs: &[
            "syslog_pri",
            "syslog_timestamp",
            "syslog_host",
            "syslog_program",
            "syslog_pid",
            "message",
        ],
        rest: true,
    },
    HeaderDef {
        name: "Cisco %FAC-SEV-MNEMONIC",
        regex: r"^%([A-Z0-9_]+)-(\d)-([A-Z0-9_]+): ?(.*)$",
        outputs: &[
            "cisco_facility",
            "cisco_severity",
            "cisco_mnemonic",
            "message",
        ],
        rest: true,
    },
    HeaderDef {
        name: "Apache/nginx access log",
        regex: r#"^(\S+) (\S+) (\S+) \[([^\]]+)\] "(?:(\S+) (\S+?)(?: (HTTP/[\d.]+))?|-)" (\d{3}) (\d+|-)(?: "([^"]*)" "([^"]*)")?(.*)$"#,
        outputs: &[
            "client",
            "ident",
            "auth_user",
            "access_time",
            "method",
            "url",
            "http_version",
            "status",
            "body_bytes",
            "referrer",
            "user_agent",
            "extra",
        ],
        rest: true,
    },
    HeaderDef {
        name: "Apache error log",
        regex: r"^\[([A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} [\d:.]+ \d{4})\] \[(?:([\w-]+):)?(\w+)\] (?:\[pid (\d+)(?::tid (\d+))?\] )?(?:\[client ([^\]]+)\] )?(.*)$",
        outputs: &[
            "timestamp",
            "module",
            "level",
            "pid",
            "tid",
            "client",
            "message",
        ],
        rest: true,
    },
    HeaderDef {
        name: "nginx error log",
        regex: r"^(\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) \[(\w+)\] (\d+)#(\d+): (?:\*(\d+) )?(.*)$",
        outputs: &[
            "timestamp",
            "level",
            "pid",
            "tid",
            "connection_id",
            "message",
        ],
        rest: true,
    },
    HeaderDef {
        name: "HAProxy HTTP log",
        regex: r#"^(\S+):(\d+) \[(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2}(?:\.\d+)?)\] (\S+) ([^\s/]+)/(\S+) (?:\S+ )?(-?\d+)/(-?\d+)/(-?\d+)/(-?\d+)/\+?(-?\d+) (\d{3}) \+?(\d+) \S+ \S+ \S+ (\d+)/(\d+)/(\d+)/(\d+)/\+?(\d+) (\d+)/(\d+)(?: \{[^}]*\})*(?: "(?:(\S+) (\S+?)(?: (HTTP/[\d.]+))?|[^"]*)")?(.*)$"#,
        outputs: &[
            "client_ip",
            "client_port",
            "accept_date",
            "frontend_name",
            "backend_name",
            "server_name",
            "time_request_ms",
            "time_queue_ms",
            "time_connect_ms",
            "time_response_ms",
            "duration_ms",
            "status",
            "response_bytes",
            "actconn",
            "feconn",
            "beconn",
            "srvconn",
            "retries",
            "srv_queue",
            "backend_queue",
            "method",
            "url",
            "http_version",
            "extra",
        ],
        rest: true,
    },
    HeaderDef {
        name: "IIS W3C access log",
        // The W3C extended fields IIS writes, in their fixed order; each optional one may be
        // absent (the site's logging configuration).
        regex: r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (?:(W3SVC\d+) )?(?:([A-Za-z][\w-]*) )??(?:([0-9a-fA-F.:]+) )?([A-Z]+) (/\S*) (\S+) (\d+) (\S+) ([0-9a-fA-F.:]+)(?: (HTTP/[\d.]+))? (\S+)(?: (\S+))??(?: (\S+))??(?: (\S+))?? (\d{3}) (\d+) (\d+)(?: (\d+) (\d+))? (\d+)()$",
        outputs: &[
            "date_time",
            "s_sitename",
            "s_computername",
            "server_ip",
            "cs_method",
            "cs_uri_stem",
            "cs_uri_query",
            "server_port",
            "cs_username",
            "client_ip",
            "cs_version",
            "cs_user_agent",
            "cs_cookie",
            "cs_referer",
            "cs_host",
            "sc_status",
            "sc_substatus",
            "sc_win32_status",
            "sc_bytes",
            "cs_bytes",
            "time_taken",
            "extra",
        ],
        rest: true,
    },
    HeaderDef {
        name: "Barracuda WAF log",
        regex: r#"^(?:<(\d{1,3})>)?(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? [+-]\d{4}) +(\S+) WF (\S+) (\S+) (\S+) (\d+) (\S+) (\d+) (\S+) (\S+) (\S+) (.+?) (\[.*?\]) ([A-Z]+) (\S+) (\S+) "?([^"]*?)"? "([^"]*)" (\S+) (\d+) "?([^"]*?)"? "?([^"]*?)"? (\S+)(.*)$"#,
        outputs: &[
            "syslog_pri",
            "timestamp",
            "unit_name",
            "severity_level",
            "attack_name",
            "client_ip",
            "client_port",
            "service_ip",
            "service_port",
            "rule_name",
            "rule_type",
            "action",
            "follow_up_action",
            "attack_details",
            "method",
            "url_path",
            "tls_protocol",
            "session_id",
            "user_agent",
            "proxy_ip",
            "proxy_port",
            "authenticated_user",
            "referer",
            "unique_id",
            "extra",
        ],
        rest: true,
    },
    HeaderDef {
        name: "Snort/Suricata alert",
        regex: r"^\[(\d+):(\d+):(\d+)\] (.*?) (?:\[Classification: ([^\]]*)\] )?\[Priority: (\d+)\] \{(\w+)\} ([0-9a-fA-F.:]+?)(?::(\d+))? -> ([0-9a-fA-F.:]+?)(?::(\d+))?(\s.*)?$",
        outputs: &[
            "rule_gid",
            "rule_id",
            "rule_version",
            "rule_description",
            "rule_category",
            "priority",
            "proto",
            "source_ip",
            "source_port",
            "destination_ip",
            "destination_port",
            "extra",
        ],
        rest: true,
    },
    HeaderDef {
        name: "AWS VPC flow log",
        // The default fields (version 2), then the fields of versions 3 to 8 in AWS's order.
        regex: r"^(\d+) (\d{12}|unknown) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\d{10}|-) (\d{10}|-) (ACCEPT|REJECT|-) (OK|NODATA|SKIPDATA)(?: (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+))?(.*)$",
        outputs: &[
            "flow_log_version",
            "account_id",
            "interface_id",
            "srcaddr",
            "dstaddr",
            "srcport",
            "dstport",
            "protocol",
            "packets",
            "bytes",
            "start",
            "end",
            "action",
            "log_status",
            "vpc_id",
            "subnet_id",
            "instance_id",
            "tcp_flags",
            "flow_type",
            "pkt_srcaddr",
            "pkt_dstaddr",
            "region",
            "az_id",
            "sublocation_type",
            "sublocation_id",
            "pkt_src_aws_service",
            "pkt_dst_aws_service",
            "flow_direction",
            "traffic_path",
            "ecs_cluster_arn",
            "ecs_cluster_name",
            "ecs_container_instance_arn",
            "ecs_container_instance_id",
            "ecs_container_id",
            "ecs_second_container_id",
            "ecs_service_name",
            "ecs_task_definition_arn",
            "ecs_task_arn",
            "ecs_task_id",
            "reject_reason",
            "extra",
        ],
        rest: true,
    },
    HeaderDef {
        name: "Cisco ISE syslog",
        // category, message id, segments, segment, time, sequence, code, severity, class: text
        regex: r"^(?:(CISE_\S+|CSCOacs_\S+) )?(\d{10}) (\d+) (\d+) (\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)? [+-]\d{2}:?\d{2}) (\d+) (\d+) ([A-Z]+) ([^:,]+): ?(.*)$",
        outputs: &[
            "ise_category",
            "ise_message_id",
            "ise_total_segments",
            "ise_segment_number",
            "timestamp",
            "sequence",
            "message_code",
            "severity_name",
            "message_class",
            "message",
        ],
        rest: true,
    },
    HeaderDef {
        name: "Linux audit record",
        // [node=N ]type=T msg=audit(epoch.millis:serial): name=value ... (auditd audit.log;
        // `ausearch -i` writes the time as a local date and puts a space before the colon)
        regex: r"^(?:node=(\S+) )?type=([A-Z][A-Z0-9_]*) msg=audit\((\d+\.\d+|\d\d/\d\d/\d{4} \d\d:\d\d:\d\d\.\d+):(\d+)\) ?: ?(.*)$",
        outputs: &["node", "record_type", "timestamp", "sequence", "message"],
        rest: true,
    },
    // Application logs (Java, Go, C servers): a time and a level before the message, in the
    // orders and brackets they are commonly written in.
    HeaderDef {
        name: "timestamp + level",
        regex: r"^\[?(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?|\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?)\]? *(?:\[(\d+)\])? *[|,]? *\[?((?i:trace|debug|info|notice|warn|warning|error|err|crit|critical|fatal|severe|alert|emerg|inf|dbg|trc|wrn|ftl))\b *\]? *[|:]? *(.*)$",
        outputs: &["timestamp", "pid", "level", "message"],
        rest: true,
    },
    HeaderDef {
        name: "pid + timestamp + level",
        regex: r"^\[(\d+)\] +(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?|\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?) +\[((?i:trace|debug|info|notice|warn|warning|error|err|crit|critical|fatal|severe|alert|emerg|inf|dbg|trc|wrn|ftl))\] +(.*)$",
        outputs: &["pid", "timestamp", "level", "message"],
        rest: true,
    },
    HeaderDef {
        name: "level + timestamp",
        regex: r"^\[?((?i:trace|debug|info|notice|warn|warning|error|err|crit|critical|fatal|severe|alert|emerg|inf|dbg|trc|wrn|ftl))\b\]? +(?:\[([^\]]+)\] +)?(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?|\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?) +(.*)$",
        outputs: &["level", "thread", "timestamp", "message"],
        rest: true,
    },
    HeaderDef {
        name: "bracketed level",
        regex: r"^\[((?i:trace|debug|info|notice|warn|warning|error|err|crit|critical|fatal|severe|alert|emerg|inf|dbg|trc|wrn|ftl))\] +(.*)$",
        outputs: &["level", "message"],
        rest: true,
    },
    HeaderDef {
        name: "syslog PRI",
        regex: r"^<(\d{1,3})> *(.*)$",
        outputs: &["syslog_pri", "message"],
        rest: true,
    },
    // A collector's tag or any text before a JSON record (`vectra_json_v2 -: {"a": 1}`):
    // taken only where the rest of every line it matches is a JSON object.
    HeaderDef {
        name: "text before a JSON record",
        regex: r"^([^{]*?\S)[\s:]*(\{.*\})\s*$",
        outputs: &["log_prefix", "message"],
        rest: true,
    },
];

/// The header that is only a text before a JSON record: plausible where its rest parses.
const JSON_PREFIX: &str = "text before a JSON record";

static HEADER_RES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    HEADERS
        .iter()
        .map(|h| Regex::new(&header_regex(h)).expect("header regex"))
        .collect()
});

/// The regex of a header as it is compiled: `.` also matches line breaks, so that the text of
/// a multi-line event stays in the remainder.
pub fn header_regex(h: &HeaderDef) -> String {
    format!("(?s){}", h.regex)
}

/// A message of a well-known shape that may share a stream with others (so it cannot be a
/// header): applied where it matches; the other messages are mined into templates.
pub struct KnownMessage {
    pub name: &'static str,
    pub regex: &'static str,
    pub outputs: &'static [&'static str],
}

pub const KNOWN_MESSAGES: &[KnownMessage] = &[KnownMessage {
    name: "sudo command",
    regex: r"^\s*(\S+) : (?:([^;]*?) ; )?TTY=(\S+) ; PWD=(.+?) ; USER=(\S+) ; (?:GROUP=(\S+) ; )?COMMAND=(.*)$",
    outputs: &[
        "user",
        "sudo_error",
        "sudo_tty",
        "sudo_pwd",
        "effective_user",
        "sudo_group",
        "sudo_command",
    ],
}];

static KNOWN_RES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    KNOWN_MESSAGES
        .iter()
        .map(|k| Regex::new(k.regex).expect("known message"))
        .collect()
});

/// Indexes of the known messages some text matches, and which texts matched any.
pub fn known_messages(texts: &[String]) -> (Vec<usize>, Vec<bool>) {
    let mut used = Vec::new();
    let mut hit = vec![false; texts.len()];
    for (i, re) in KNOWN_RES.iter().enumerate() {
        for (j, t) in texts.iter().enumerate() {
            if re.is_match(t) {
                hit[j] = true;
                if !used.contains(&i) {
                    used.push(i);
                }
            }
        }
    }
    (used, hit)
}

/// Whether most texts are one bracketed list (`[action:"Drop"; origin:"10.0.0.1"]`, RFC 5424
/// structured data used as the payload).
pub fn bracketed(texts: &[String]) -> bool {
    let n = texts.iter().filter(|t| !t.trim().is_empty()).count().max(1);
    let b = texts
        .iter()
        .filter(|t| t.trim_start().starts_with('[') && t.trim_end().ends_with(']'))
        .count();
    b * 10 >= n * 8
}

/// A netfilter log prefix naming the rule (`[WAN_OUT-2000-A]IN=...`, UniFi/EdgeOS): ruleset,
/// rule and action letter, then the rest.
pub const RULE_TAG_REGEX: &str = r"^\s*(?:\[([^\]\s]+)-([^\]\s-]+)-([ADR])\])?(.*)$";
pub const RULE_TAG_OUTPUTS: &[&str] = &["rule_name", "rule_id", "rule_action_code"];

/// Whether some texts start with a netfilter rule tag.
pub fn has_rule_tag(texts: &[String]) -> bool {
    static RE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\s*\[[^\]\s]+-[^\]\s-]+-[ADR]\]\w+=").expect("rule tag"));
    texts.iter().any(|t| RE.is_match(t))
}

/// Headers whose columns may legitimately hold `=` (query strings, free text).
const COLUMNAR: &[&str] = &[
    "HAProxy HTTP log",
    "IIS W3C access log",
    "Barracuda WAF log",
    "Snort/Suricata alert",
    "AWS VPC flow log",
];

/// The structured payload under the headers.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Json,
    /// `key<sep>value` pairs separated by any of `delims`.
    Kv {
        delims: String,
        sep: char,
    },
    Csv {
        delim: char,
        header: Option<Vec<String>>,
    },
    Cef,
    Leef,
    Xml,
    Text,
    /// Nothing left after the headers.
    None,
}

impl Payload {
    pub fn name(&self) -> &'static str {
        match self {
            Payload::Json => "json",
            Payload::Kv { .. } => "kv",
            Payload::Csv { .. } => "csv",
            Payload::Cef => "cef",
            Payload::Leef => "leef",
            Payload::Xml => "xml",
            Payload::Text => "text",
            Payload::None => "none",
        }
    }
}

/// A header layer that matched.
#[derive(Debug, Clone)]
pub struct Layer {
    pub def: usize,
    /// Share of samples it matched (with its alternative).
    pub share: f64,
    /// Another header of the same family for the lines this one does not match (a device
    /// that sends both RFC 3164 and RFC 5424 syslog): the rule tries both, and both leave
    /// their remainder in the same field.
    pub alt: Option<usize>,
}

impl Layer {
    /// The header definitions of the layer: its own, then its alternative.
    pub fn defs(&self) -> impl Iterator<Item = &'static HeaderDef> {
        std::iter::once(&HEADERS[self.def]).chain(self.alt.map(|a| &HEADERS[a]))
    }
}

/// The detected format: header layers, then the payload.
#[derive(Debug, Clone)]
pub struct Detection {
    pub layers: Vec<Layer>,
    pub payload: Payload,
    pub confidence: f64,
    pub evidence: Vec<String>,
}

impl Detection {
    /// `syslog-rfc3164+kv` style name.
    pub fn format_name(&self) -> String {
        let mut parts: Vec<String> = self
            .layers
            .iter()
            .map(|l| slug(HEADERS[l.def].name))
            .collect();
        if self.payload != Payload::None {
            parts.push(self.payload.name().to_string());
        }
        if parts.is_empty() {
            return "text".into();
        }
        parts.join("+")
    }
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Peels headers off the texts (at most three layers) and detects the payload.
pub fn detect(samples: &[String]) -> Detection {
    let mut texts: Vec<String> = samples.to_vec();
    let mut layers = Vec::new();
    let mut evidence = Vec::new();
    let mut confidence: f64 = 1.0;
    let mut used = Vec::new();
    for _ in 0..3 {
        let Some((i, share, rest)) = best_header(&texts, &used) else {
            break;
        };
        let found = if share < 1.0 {
            alternative_header(&texts, i, &used)
        } else {
            None
        };
        let (alt, share, rest) = match found {
            Some((j, rest)) => {
                evidence.push(format!(
                    "{} header on {:.0}% of samples, {} on the others",
                    HEADERS[i].name,
                    share * 100.0,
                    HEADERS[j].name
                ));
                used.push(j);
                (Some(j), 1.0, rest)
            }
            None => {
                evidence.push(format!(
                    "{} header on {:.0}% of samples",
                    HEADERS[i].name,
                    share * 100.0
                ));
                (None, share, rest)
            }
        };
        confidence = confidence.min(share);
        used.push(i);
        layers.push(Layer { def: i, share, alt });
        texts = rest;
        if !HEADERS[i].rest {
            break;
        }
    }
    let (payload, c, why) = detect_payload(&texts);
    evidence.push(why);
    Detection {
        layers,
        payload,
        confidence: (confidence * c).clamp(0.0, 1.0),
        evidence,
    }
}

/// The first header (in table order) matching at least 80% of the texts, with the remainders
/// (non-matching texts stay whole).
fn best_header(texts: &[String], used: &[usize]) -> Option<(usize, f64, Vec<String>)> {
    let n = texts.len().max(1);
    for (i, re) in HEADER_RES.iter().enumerate() {
        if used.contains(&i) {
            continue;
        }
        let mut rest = Vec::with_capacity(texts.len());
        let mut hits = 0;
        for t in texts {
            match re.captures(t) {
                Some(c)
                    if HEADERS[i].name == JSON_PREFIX
                        && !c.get(c.len() - 1).is_some_and(|m| {
                            serde_json::from_str::<serde_json::Value>(m.as_str())
                                .is_ok_and(|v| v.is_object())
                        }) =>
                {
                    rest.push(t.clone())
                }
                Some(c) if COLUMNAR.contains(&HEADERS[i].name) || header_plausible(&c) => {
                    hits += 1;
                    rest.push(c.get(c.len() - 1).map_or("", |m| m.as_str()).to_string());
                }
                _ => rest.push(t.clone()),
            }
        }
        // Most samples, or (a few pasted lines of a mixed source) at least two and 60%, or
        // at least two with another syslog header matching all the others.
        let share = hits as f64 / n as f64;
        if hits > 0
            && (share >= 0.8
                || (hits >= 2 && share >= 0.6)
                || (hits >= 2 && alternative_header(texts, i, used).is_some()))
        {
            return Some((i, share, rest));
        }
    }
    None
}

/// For a syslog header that matched only some texts: another syslog header, leaving its
/// remainder in the same field, that matches every other text (leading blanks allowed) and
/// none of the first one's. With the remainders of all texts.
fn alternative_header(texts: &[String], i: usize, used: &[usize]) -> Option<(usize, Vec<String>)> {
    let first = &HEADER_RES[i];
    let (matched, others): (Vec<&String>, Vec<&String>) =
        texts.iter().partition(|t| first.is_match(t));
    let syslog = |k: usize| HEADERS[k].name.contains("syslog");
    if others.is_empty() || matched.is_empty() || !syslog(i) || !HEADERS[i].rest {
        return None;
    }
    let last = HEADERS[i].outputs.last();
    (0..HEADERS.len())
        .filter(|&j| {
            j != i
                && !used.contains(&j)
                && syslog(j)
                && HEADERS[j].rest
                && HEADERS[j].outputs.last() == last
        })
        .find(|&j| {
            let re = &HEADER_RES[j];
            others.iter().all(|t| {
                re.captures(t.trim_start())
                    .is_some_and(|c| header_plausible(&c))
            }) && !matched.iter().any(|t| re.is_match(t.trim_start()))
        })
        .map(|j| {
            let rest = texts
                .iter()
                .map(|t| {
                    let c = first
                        .captures(t)
                        .or_else(|| HEADER_RES[j].captures(t.trim_start()));
                    c.and_then(|c| c.get(c.len() - 1))
                        .map_or(t.clone(), |m| m.as_str().to_string())
                })
                .collect();
            (j, rest)
        })
}

/// Header fields never start as a `key=value` pair (that would be a key=value payload read
/// as a header); a URL with a query string (`/search?q=x`) is not one.
fn header_plausible(c: &regex::Captures) -> bool {
    let pair = |s: &str| {
        s.split_once('=').is_some_and(|(k, _)| {
            !k.is_empty()
                && k.chars()
                    .all(|ch| ch.is_alphanumeric() || "_-.".contains(ch))
        })
    };
    (1..c.len() - 1).all(|g| c.get(g).is_none_or(|m| !pair(m.as_str())))
}

/// Detects the payload of the (header-less) texts.
pub fn detect_payload(texts: &[String]) -> (Payload, f64, String) {
    let non_empty: Vec<&str> = texts
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .collect();
    let n = non_empty.len();
    if n == 0 {
        return (Payload::None, 1.0, "nothing after the headers".into());
    }
    let share = |k: usize| k as f64 / n as f64;
    let json = non_empty
        .iter()
        .filter(|t| {
            t.starts_with('{')
                && serde_json::from_str::<serde_json::Value>(t).is_ok_and(|v| v.is_object())
        })
        .count();
    if share(json) >= 0.8 {
        return (
            Payload::Json,
            share(json),
            format!("{json}/{n} samples are JSON objects"),
        );
    }
    let cef = non_empty
        .iter()
        .filter(|t| find_cef(t).is_some_and(|i| cef_header(&t[i..]).is_ok()))
        .count();
    if share(cef) >= 0.5 {
        return (
            Payload::Cef,
            share(cef),
            format!("{cef}/{n} samples carry a CEF:0 header"),
        );
    }
    let leef = non_empty.iter().filter(|t| t.contains("LEEF:")).count();
    if share(leef) >= 0.5 {
        return (
            Payload::Leef,
            share(leef),
            format!("{leef}/{n} samples carry a LEEF header"),
        );
    }
    let xml = non_empty
        .iter()
        .filter(|t| t.starts_with('<') && t.ends_with('>') && t.contains("</"))
        .count();
    if share(xml) >= 0.8 {
        return (
            Payload::Xml,
            share(xml),
            format!("{xml}/{n} samples are XML elements"),
        );
    }
    // key=value: most of the text is pairs.
    for (sep, delims) in [('=', None), (':', Some("; "))] {
        let mut pairs = 0usize;
        let mut covered = 0usize;
        let mut total = 0usize;
        let mut comma = 0usize;
        for t in &non_empty {
            let mut ps = kv_pairs(t, sep);
            // `key: value` keys are names: `10:00:00` and `10.0.0.1:443` are a time and an
            // address, not pairs.
            if sep == ':' {
                ps.retain(|(k, _)| k.starts_with(|c: char| c.is_alphabetic()));
            }
            pairs += ps.len();
            covered += ps.iter().map(|(k, v)| k.len() + v.len() + 1).sum::<usize>();
            total += t.len();
            comma += ps.iter().filter(|(_, v)| v.ends_with(',')).count();
        }
        let avg = pairs as f64 / n as f64;
        let cover = covered as f64 / total.max(1) as f64;
        if avg >= 3.0 && cover >= 0.5 {
            let delims = match delims {
                Some(d) => d.to_string(),
                None => {
                    let commas = non_empty
                        .iter()
                        .map(|t| t.matches(",").count())
                        .sum::<usize>();
                    let spaces = non_empty
                        .iter()
                        .map(|t| t.matches(' ').count())
                        .sum::<usize>();
                    let _ = comma;
                    // Pieces between commas that are each a pair: commas delimit; unless
                    // pieces between spaces (outside quotes) are pairs more often (values
                    // that are comma lists: `cpu=1,1,1 mem=0,0`).
                    let (mut pieces, mut paired) = (0usize, 0usize);
                    let (mut s_pieces, mut s_paired) = (0usize, 0usize);
                    for t in &non_empty {
                        for p in t.split(',') {
                            pieces += 1;
                            paired += usize::from(p.contains(sep));
                        }
                        for p in split_outside_quotes(t, ' ') {
                            if !p.is_empty() {
                                s_pieces += 1;
                                s_paired += usize::from(p.contains(sep));
                            }
                        }
                    }
                    let share = |a: usize, b: usize| a as f64 / b.max(1) as f64;
                    let spaces_pair_better = share(s_paired, s_pieces) > share(paired, pieces);
                    let comma_pairs = pieces >= 3 * n && paired * 10 >= pieces * 8;
                    if !spaces_pair_better
                        && (comma_pairs
                            || (commas as f64 >= pairs as f64 * 0.7 && commas * 2 > spaces))
                    {
                        ",".into()
                    } else {
                        " ".into()
                    }
                }
            };
            return (
                Payload::Kv { delims, sep },
                cover.min(1.0),
                format!(
                    "{avg:.1} `key{sep}value` pairs per sample covering {:.0}% of the text",
                    cover * 100.0
                ),
            );
        }
    }
    if let Some((delim, header)) = detect_csv(&non_empty) {
        return (
            Payload::Csv {
                delim,
                header: header.clone(),
            },
            0.9,
            format!(
                "every sample has the same number of `{}`-separated columns{}",
                delim.escape_default(),
                if header.is_some() {
                    " (with a header)"
                } else {
                    ""
                }
            ),
        );
    }
    (
        Payload::Text,
        0.6,
        "no structure found: free text, mined into templates".into(),
    )
}

/// Consistent delimiter count across samples (quotes respected); a header when the first row
/// is all names and the rest are not.
fn detect_csv(texts: &[&str]) -> Option<(char, Option<Vec<String>>)> {
    for delim in [',', '\t', '|', ';'] {
        let rows: Vec<Vec<String>> = texts.iter().map(|t| split_csv(t, delim)).collect();
        let cols = rows[0].len();
        if cols < 3 || rows.iter().any(|r| r.len() != cols) {
            continue;
        }
        // Free text with a stray delimiter (`flags qr,aa,rd`) is not a table: its cells
        // read as phrases, not values.
        let cells: usize = rows.iter().map(Vec::len).sum();
        let words: usize = rows
            .iter()
            .flatten()
            .map(|c| c.split_whitespace().count())
            .sum();
        if delim != '\t' && words > 3 * cells {
            continue;
        }
        let quoted = texts.iter().any(|t| t.starts_with('"'));
        if delim == ',' && !quoted && texts.iter().any(|t| t.contains(", ")) && texts.len() < 2 {
            continue;
        }
        let is_name = |s: &String| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_-. ()".contains(c))
                && !s.chars().next().unwrap().is_ascii_digit()
        };
        let header = (rows.len() > 1
            && rows[0].iter().all(is_name)
            && rows[1..].iter().any(|r| r.iter().any(|v| !is_name(v))))
        .then(|| rows[0].clone());
        return Some((delim, header));
    }
    None
}

/// Splits one CSV row (RFC 4180 quotes).
pub fn split_csv(t: &str, delim: char) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut q = false;
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        if q {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    cur.push('"');
                    chars.next();
                } else {
                    q = false;
                }
            } else {
                cur.push(c);
            }
        } else if c == '"' && cur.is_empty() {
            q = true;
        } else if c == delim {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

// ---- nom parsers -------------------------------------------------------------------------

/// `<PRI>` of a syslog message: the number and the rest.
pub fn syslog_pri(input: &str) -> IResult<&str, u8> {
    delimited(
        char('<'),
        map_res(digit1, |d: &str| d.parse::<u8>()),
        char('>'),
    )
    .parse(input)
}

/// Where `CEF:` starts in a text.
pub fn find_cef(t: &str) -> Option<usize> {
    t.find("CEF:")
}

/// The seven `|`-separated CEF header fields (with `\|` and `\\` escapes) and the extension.
pub fn cef_header(input: &str) -> IResult<&str, Vec<String>> {
    let (mut rest, _) = (tag("CEF:"), digit1, char('|')).parse(input)?;
    let mut fields = Vec::new();
    for _ in 0..6 {
        let (r, f) = opt(escaped(none_of("\\|"), '\\', one_of("\\|="))).parse(rest)?;
        let (r, _) = char('|').parse(r)?;
        fields.push(f.unwrap_or("").replace("\\|", "|").replace("\\\\", "\\"));
        rest = r;
    }
    Ok((rest, fields))
}

/// One `key<sep>value` pair: value quoted (`"..."` with `\"`) or bare up to a space/comma/`;`.
fn kv_pair(sep: char) -> impl FnMut(&str) -> IResult<&str, (&str, &str)> {
    move |input: &str| {
        let (r, k) = take_while1(|c: char| c.is_alphanumeric() || "_-.".contains(c))(input)?;
        let (r, _) = char(sep)(r)?;
        let mut quoted = recognize(delimited(
            char::<&str, nom::error::Error<&str>>('"'),
            opt(escaped(
                none_of("\\\""),
                '\\',
                nom::character::complete::anychar,
            )),
            char('"'),
        ));
        let (r, v) = match quoted.parse(r) {
            Ok(x) => x,
            Err(_) => opt(is_not(" ,;\t"))
                .parse(r)
                .map(|(r, v)| (r, v.unwrap_or("")))?,
        };
        Ok((r, (k, v)))
    }
}

/// All key/value pairs found while scanning a text (tokens that are not pairs are skipped).
pub fn kv_pairs(t: &str, sep: char) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    let mut rest = t;
    let mut parser = kv_pair(sep);
    while !rest.is_empty() {
        match parser(rest) {
            Ok((r, p)) => {
                out.push(p);
                rest = r;
            }
            Err(_) => {
                let skip = rest
                    .char_indices()
                    .find(|(_, c)| " ,;\t[]".contains(*c))
                    .map_or(rest.len(), |(i, c)| i + c.len_utf8());
                rest = &rest[skip..];
            }
        }
        rest = rest.trim_start_matches([' ', ',', ';', '\t', '[', ']']);
    }
    out
}

/// Pieces of `t` between `delim` characters that are not inside double quotes.
fn split_outside_quotes(t: &str, delim: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in t.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == delim && !quoted {
            out.push(&t[start..i]);
            start = i + c.len_utf8();
        }
    }
    out.push(&t[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(lines: &[&str]) -> Detection {
        detect(&lines.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn json_lines() {
        let d = det(&[r#"{"a":1,"b":{"c":"x"}}"#, r#"{"a":2}"#]);
        assert_eq!(d.format_name(), "json");
    }

    #[test]
    fn syslog_3164_with_text() {
        let d = det(&[
            "Feb 21 21:54:44 localhost sshd[3402]: Accepted publickey for vagrant from 10.0.2.2 port 63673 ssh2",
            "Feb  2 21:54:44 2001:db8::1 sshd[3402]: Failed password for root from 10.0.2.2 port 63673 ssh2",
        ]);
        assert_eq!(d.format_name(), "rfc-3164-syslog+text");
    }

    #[test]
    fn syslog_3164_with_a_csv_record_keeps_its_first_column() {
        // No program name: the record's first cell must not be taken for one.
        let d = det(&[
            "<14>Apr 10 12:00:01 fw-01 1,2024/04/10 12:00:01,0132,TRAFFIC,end,1,10.0.0.1,10.0.0.2",
            "<14>Apr 10 12:00:02 fw-01 1,2024/04/10 12:00:02,0132,TRAFFIC,drop,1,10.0.0.3,10.0.0.4",
        ]);
        assert_eq!(d.format_name(), "rfc-3164-syslog-csv-record+csv");
        // A program name with a pid, then CSV, is still the plain RFC 3164 header.
        let d = det(&[
            "<134>Apr 10 12:00:01 fw filterlog[40]: 5,,,1000,igb1,match,block,in,4",
            "<134>Apr 10 12:00:04 fw filterlog[40]: 7,,,1001,igb0,match,pass,out,4",
        ]);
        assert_eq!(d.format_name(), "rfc-3164-syslog+csv");
    }

    #[test]
    fn syslog_pri_with_kv() {
        let d = det(&[
            r#"<185>date=2026-03-31 time=07:48:26 devname="MY DEV" srcip=10.0.0.1 action="deny""#,
        ]);
        assert_eq!(d.format_name(), "syslog-pri+kv");
        assert_eq!(syslog_pri("<185>x").unwrap(), ("x", 185));
    }

    #[test]
    fn space_separated_kv_with_comma_list_values() {
        let d = det(&[
            r#"id=fw time="2024-03-08 17:31:09" fw="gw-1" cpu=1,1,1 mem=0,0,0,0,0,0 ifc=in,8,40,8,40,0,0 msg="reloaded, modules: a, b""#,
            r#"id=fw time="2024-03-08 17:31:10" fw="gw-1" pri=5 service=routerd msg="daemon reloaded, modules: pbr, ip: all""#,
        ]);
        assert!(matches!(d.payload, Payload::Kv { ref delims, .. } if delims == " "));
    }

    #[test]
    fn comma_separated_kv() {
        let d = det(&[r#"date=2023-01-30,time=16:09:15.246,device_id=FE,log_id=04,type=virus"#]);
        assert!(matches!(d.payload, Payload::Kv { ref delims, .. } if delims == ","));
        // Comma-separated pairs keep spaces inside keys and values (Cisco ISE).
        let d = det(&[
            "ConfigVersionId=312, Device IP Address=192.0.2.1, Status=RADIUS Accounting stop request, NAS-Port=50442",
        ]);
        assert!(matches!(d.payload, Payload::Kv { ref delims, .. } if delims == ","));
    }

    #[test]
    fn a_device_sending_both_syslog_formats_gets_both_headers() {
        let d = det(&[
            "<14>1 2024-05-04T15:19:33.984+10:00 fw01 kmd 9159 - - IKE negotiation failed",
            " <158>1 2024-05-04T15:21:01.102+10:00 fw01 kernel - - - FW: ge-0/0/1 A udp",
            "<158>May 4 05:16:01 fw01 kernel: FW: ge-0/0/2 A udp 192.0.2.1",
            "<13>May 4 05:16:02 fw01 rmopd[10286]: PING_TEST_COMPLETED: owner = probe1",
            "<13>May 4 05:16:03 fw01 rmopd[10286]: PING_TEST_COMPLETED: owner = probe2",
        ]);
        assert_eq!(d.layers.len(), 1, "{:?}", d.evidence);
        let l = &d.layers[0];
        let names: Vec<&str> = l.defs().map(|h| h.name).collect();
        assert_eq!(
            names,
            ["RFC 3164 syslog", "RFC 5424 syslog"],
            "{:?}",
            d.evidence
        );
        assert_eq!(l.share, 1.0);
    }

    #[test]
    fn a_tag_before_a_json_record_is_a_header() {
        let d = det(&[
            r#"sensor_json_v2 -: {"id": 1, "addr": "192.0.2.1"}"#,
            r#"sensor_json_v2 -: {"id": 2, "addr": "192.0.2.2", "tags": []}"#,
        ]);
        let names: Vec<&str> = d.layers.iter().map(|l| HEADERS[l.def].name).collect();
        assert_eq!(names, [JSON_PREFIX], "{:?}", d.evidence);
        assert_eq!(d.payload, Payload::Json);
        // Braces in free text are not a JSON record.
        let d = det(&[
            "worker 3 finished {batch 7} in 20 ms",
            "worker 4 finished {batch 8} in 31 ms",
        ]);
        assert!(d.layers.iter().all(|l| HEADERS[l.def].name != JSON_PREFIX));
    }

    #[test]
    fn a_wireless_controller_header_then_the_cisco_message() {
        let d = det(&[
            "<132>WLC01: *Dot1x_Task_4: Sep 06 23:08:09.371: %LOG-4-Q_IND: [PA]net.c:3393 queue full",
            "<134>WLC01: *apfTask: Sep 06 23:09:10.100: %APF-6-USER_NAME_DELETED: entry deleted",
        ]);
        let names: Vec<&str> = d.layers.iter().map(|l| HEADERS[l.def].name).collect();
        assert_eq!(
            names,
            ["Cisco controller syslog header", "Cisco %FAC-SEV-MNEMONIC"],
            "{:?}",
            d.evidence
        );
    }

    #[test]
    fn a_classic_header_without_a_host() {
        let d = det(&[
            "<166>Mar 17 18:24:37 mail_logs: Info: MID 111 delivered",
            "<166>Mar 17 18:24:38 mail_logs: Info: MID 112 delivered",
        ]);
        let names: Vec<&str> = d.layers.iter().map(|l| HEADERS[l.def].name).collect();
        assert_eq!(
            names[0], "RFC 3164 syslog without a host",
            "{:?}",
            d.evidence
        );
        // With a host, the usual header.
        let d = det(&[
            "<30>Oct 30 20:24:24 nas01 logd[14629]: conn log: a",
            "<30>Oct 30 20:24:25 nas01 logd[14629]: conn log: b",
        ]);
        assert_eq!(HEADERS[d.layers[0].def].name, "RFC 3164 syslog");
    }

    #[test]
    fn rfc5424_with_cef() {
        let d = det(&[
            r"<134>1 2026-06-22T14:34:06Z ns01 APPFW 0-PPE-3 - - CEF:0|Citrix|NetScaler|NS14.1|APPFW|APPFW\|STARTURL|6|src=203.0.113.20 request=https://x/?a\=b",
        ]);
        assert_eq!(d.format_name(), "rfc-5424-syslog+cef");
        let (rest, h) =
            cef_header(r"CEF:0|Citrix|NetScaler|NS14.1|APPFW|APPFW\|STARTURL|6|src=1").unwrap();
        assert_eq!(h[4], "APPFW|STARTURL");
        assert_eq!(rest, "src=1");
    }

    #[test]
    fn cisco_mnemonic_under_syslog() {
        let d = det(&[
            "<166>Aug 18 2026 18:24:29 asa-fw-01 : %ASA-6-302020: Built inbound ICMP connection",
            "<190>9004: Dec 8 20:07:53.081: %TCP-6-BADAUTH: No MD5 digest from 192.168.0.1(64999)",
        ]);
        assert_eq!(
            d.format_name(),
            "cisco-syslog-header+cisco-fac-sev-mnemonic+text"
        );
    }

    #[test]
    fn access_log() {
        let d = det(&[
            r#"192.168.33.1 - - [26/Dec/2016:16:22:13 +0000] "GET /hello HTTP/1.1" 404 499 "-" "Mozilla/5.0""#,
        ]);
        assert_eq!(d.format_name(), "apache-nginx-access-log");
    }

    #[test]
    fn csv_with_quotes() {
        let d = det(&[
            r#""2020-08-26 20:32:46","elasticuser","192.168.1.1","0","81.2.69.144","0","Test Category""#,
            r#""2020-08-26 20:32:45","elasticuser","192.168.1.1","61095","81.2.69.144","445","Test""#,
        ]);
        assert!(matches!(
            d.payload,
            Payload::Csv {
                delim: ',',
                header: None
            }
        ));
    }

    #[test]
    fn csv_with_header() {
        let d = det(&[
            "time,user,ip",
            "2020-01-01,bob,10.0.0.1",
            "2020-01-02,eve,10.0.0.2",
        ]);
        assert!(matches!(
            d.payload,
            Payload::Csv {
                header: Some(_),
                ..
            }
        ));
    }

    #[test]
    fn kv_quoted_values_with_spaces() {
        let p = kv_pairs(r#"a=1 msg="hello world" b="x\"y""#, '=');
        assert_eq!(
            p,
            vec![("a", "1"), ("msg", "\"hello world\""), ("b", "\"x\\\"y\"")]
        );
    }

    #[test]
    fn free_text() {
        let d = det(&["hello there", "general kenobi"]);
        assert_eq!(d.format_name(), "text");
    }
}
