//! Deterministic, seeded log generators for tests and benchmarks: nginx "combined" access
//! logs, OpenSSH syslog lines, ~25-field JSON records and a multi-line application log (Java
//! stack traces). The same kind, count and seed always give the same bytes (splitmix64, no
//! dependency), so benchmark inputs can be rebuilt anywhere:
//! `cargo run --release --example gen_logs -- nginx 1000000 --seed 1 > nginx.log`.

use std::io::{self, Write};

/// The kinds of log the generator writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// nginx "combined" access log (matches `examples/nginx.spl`).
    Nginx,
    /// OpenSSH `sshd` syslog lines (matches `rules/sshd/rule.spl`).
    Sshd,
    /// JSON records with ~25 fields (matches `examples/json.spl`).
    Json,
    /// Application log whose ERROR records carry a multi-line stack trace; records start
    /// with a `YYYY-MM-DD` date (`--first-line '^\d{4}-\d{2}-\d{2} '`).
    Multiline,
}

impl std::str::FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Kind, String> {
        match s {
            "nginx" => Ok(Kind::Nginx),
            "sshd" | "ssh" => Ok(Kind::Sshd),
            "json" => Ok(Kind::Json),
            "multiline" => Ok(Kind::Multiline),
            _ => Err(format!("unknown kind {s} (nginx, sshd, json, multiline)")),
        }
    }
}

/// splitmix64: tiny, fast, good enough for test data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const METHODS: [&str; 6] = ["GET", "GET", "GET", "POST", "PUT", "DELETE"];
const PATHS: [&str; 8] = [
    "/",
    "/index.html",
    "/api/v1/items",
    "/api/v1/users/{}",
    "/static/app.{}.js",
    "/login",
    "/search?q={}&page=2",
    "/images/{}.png",
];
const STATUS: [u16; 10] = [200, 200, 200, 200, 200, 304, 301, 404, 403, 500];
const AGENTS: [&str; 5] = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "curl/8.4.0",
    "Go-http-client/1.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
];
const USERS: [&str; 6] = ["alice", "bob", "carol", "deploy", "root", "admin"];

/// Wall time of event `i`: 2024-10-10 00:00:00 UTC plus about 10 events per second.
fn clock(i: usize) -> (u32, u32, u32, u32) {
    let secs = i as u64 / 10;
    let day = 10 + (secs / 86_400) as u32 % 18;
    let s = secs % 86_400;
    (
        day,
        (s / 3600) as u32,
        (s / 60 % 60) as u32,
        (s % 60) as u32,
    )
}

fn ip(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!("203.0.113.{}", rng.below(255) + 1),
        1 => format!("198.51.100.{}", rng.below(255) + 1),
        2 => format!(
            "10.{}.{}.{}",
            rng.below(256),
            rng.below(256),
            rng.below(255) + 1
        ),
        _ => format!("192.0.2.{}", rng.below(255) + 1),
    }
}

/// Event `i` of `kind` (one line, or several for a multi-line record), without the final
/// newline.
pub fn event(kind: Kind, rng: &mut Rng, i: usize) -> String {
    let (day, h, m, s) = clock(i);
    match kind {
        Kind::Nginx => {
            let path = rng
                .pick(&PATHS)
                .replace("{}", &rng.below(10_000).to_string());
            let status = *rng.pick(&STATUS);
            let bytes = if status == 304 || rng.below(20) == 0 {
                "-".to_string()
            } else {
                (rng.below(50_000) + 100).to_string()
            };
            let user = if rng.below(5) == 0 {
                *rng.pick(&USERS)
            } else {
                "-"
            };
            let referrer = if rng.below(3) == 0 {
                "-".to_string()
            } else {
                format!("https://example.com/page/{}", rng.below(100))
            };
            format!(
                "{} - {user} [{day:02}/Oct/2024:{h:02}:{m:02}:{s:02} +0000] \"{} {path} HTTP/1.1\" {status} {bytes} \"{referrer}\" \"{}\"",
                ip(rng),
                rng.pick(&METHODS),
                rng.pick(&AGENTS),
            )
        }
        Kind::Sshd => {
            let host = format!("web-{:02}", rng.below(8) + 1);
            let pid = 1000 + rng.below(60_000);
            let user = *rng.pick(&USERS);
            let port = 1024 + rng.below(64_000);
            let src = ip(rng);
            let msg = match rng.below(8) {
                0 | 1 => format!("Failed password for {user} from {src} port {port} ssh2"),
                2 => format!(
                    "Failed password for invalid user {user}{} from {src} port {port} ssh2",
                    rng.below(100)
                ),
                3 => format!(
                    "Accepted publickey for {user} from {src} port {port} ssh2: RSA SHA256:{:016x}",
                    rng.next_u64()
                ),
                4 => format!("Accepted password for {user} from {src} port {port} ssh2"),
                5 => format!(
                    "Invalid user {user}{} from {src} port {port}",
                    rng.below(100)
                ),
                6 => format!(
                    "Connection closed by authenticating user {user} {src} port {port} [preauth]"
                ),
                _ => format!(
                    "pam_unix(sshd:session): session opened for user {user}(uid={}) by (uid=0)",
                    1000 + rng.below(50)
                ),
            };
            format!(
                "{} {day:>2} {h:02}:{m:02}:{s:02} {host} sshd[{pid}]: {msg}",
                MONTHS[9]
            )
        }
        Kind::Json => {
            let status = *rng.pick(&STATUS);
            format!(
                concat!(
                    "{{\"ts\":\"2024-10-{:02}T{:02}:{:02}:{:02}.{:03}Z\",\"src_ip\":\"{}\",\"src_port\":\"{}\",",
                    "\"dst_ip\":\"{}\",\"dst_port\":{},\"action\":\"{}\",\"proto\":\"{}\",\"bytes_in\":{},",
                    "\"bytes_out\":{},\"user\":\"{}\",\"app\":\"{}\",\"rule\":\"r{}\",\"severity\":\"{}\",",
                    "\"tags\":[\"{}\",\"edge\"],\"geo\":{{\"country\":\"{}\",\"city\":\"c{}\"}},",
                    "\"session\":\"{:016x}\",\"direction\":\"{}\",\"iface\":\"eth{}\",\"vlan\":{},",
                    "\"zone\":\"{}\",\"policy\":\"p{}\",\"host\":\"fw-{}\",\"seq\":{},\"status\":{},",
                    "\"msg\":\"{}\",\"duration_ms\":{:.3}}}"
                ),
                day,
                h,
                m,
                s,
                rng.below(1000),
                ip(rng),
                1024 + rng.below(64_000),
                ip(rng),
                *rng.pick(&[443, 80, 22, 53, 8080]),
                rng.pick(&["ALLOW", "allow", "DENY", "drop"]),
                rng.pick(&["tcp", "udp", "icmp"]),
                rng.below(1 << 20),
                rng.below(1 << 16),
                rng.pick(&USERS),
                rng.pick(&["web", "dns", "ssh", "smtp"]),
                rng.below(100),
                rng.pick(&["low", "medium", "high"]),
                rng.pick(&["prod", "dev", "corp"]),
                rng.pick(&["NL", "DE", "US", "CN", "SG"]),
                rng.below(50),
                rng.next_u64(),
                rng.pick(&["inbound", "outbound"]),
                rng.below(4),
                rng.below(4096),
                rng.pick(&["dmz", "lan", "wan"]),
                rng.below(20),
                rng.below(4),
                i,
                status,
                rng.pick(&[
                    "connection allowed",
                    "connection denied by policy",
                    "session \\\"closed\\\""
                ]),
                rng.below(100_000) as f64 / 7.0,
            )
        }
        Kind::Multiline => {
            let level = *rng.pick(&["INFO", "INFO", "INFO", "WARN", "ERROR"]);
            let mut out = format!(
                "2024-10-{day:02} {h:02}:{m:02}:{s:02}.{:03} {level} [worker-{}] com.example.Service - request {} took {} ms",
                rng.below(1000),
                rng.below(16),
                i,
                rng.below(2000)
            );
            if level == "ERROR" {
                out.push_str("\njava.lang.IllegalStateException: boom");
                for d in 0..(2 + rng.below(6)) {
                    out.push_str(&format!(
                        "\n\tat com.example.Layer{d}.call(Layer{d}.java:{})",
                        rng.below(500) + 1
                    ));
                }
                out.push_str("\n\t... 12 more");
            }
            out
        }
    }
}

/// Writes `events` events of `kind` from `seed`, one per line (records of several lines for
/// `Multiline`), each ending in `\n`.
pub fn generate(kind: Kind, events: usize, seed: u64, w: &mut impl Write) -> io::Result<()> {
    let mut rng = Rng::new(seed);
    let mut buf = String::with_capacity(1 << 16);
    for i in 0..events {
        buf.push_str(&event(kind, &mut rng, i));
        buf.push('\n');
        if buf.len() >= 1 << 16 {
            w.write_all(buf.as_bytes())?;
            buf.clear();
        }
    }
    w.write_all(buf.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        for kind in [Kind::Nginx, Kind::Sshd, Kind::Json, Kind::Multiline] {
            let mut a = Vec::new();
            let mut b = Vec::new();
            let mut c = Vec::new();
            generate(kind, 200, 7, &mut a).unwrap();
            generate(kind, 200, 7, &mut b).unwrap();
            generate(kind, 200, 8, &mut c).unwrap();
            assert_eq!(a, b);
            assert_ne!(a, c);
        }
    }

    #[test]
    fn json_records_are_json_objects_with_26_fields() {
        let mut rng = Rng::new(1);
        for i in 0..50 {
            let line = event(Kind::Json, &mut rng, i);
            let v: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert_eq!(v.as_object().unwrap().len(), 26, "{line}");
        }
    }
}
