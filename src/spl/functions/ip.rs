//! SPL functions: IP address helpers. These are project extensions (SPL.md decision 15):
//! SLS SQL has functions of these names, but there is no evidence that SPL does, so each
//! one is marked `.extension()` and `soc spl check --sls-compat` warns about it.
//!
//! Owns `is_subnet_of`, `is_prefix_subnet_of`, `ip_to_domain`, `ip_prefix`,
//! `ip_subnet_min/max/range`, `is_ip`, `is_ipv4`, `is_ipv6`. IPv4 and IPv6 both work, and an
//! IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) counts as the IPv4 address. Policy: an
//! address from the data that is not an IP gives NULL (or false for the `is_*` tests); a
//! malformed CIDR block or prefix length is an argument error, at plan time when constant.
//! Depends only on the registry and `std::net`.

use super::string::arg_text;
use super::{Env, FnError, FnResult, Function, Kind, Param, Prepared, ex, int_arg, text};
use crate::diagnostic::codes;
use crate::event::Value;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub(super) const FUNCTIONS: &[Function] = &[
    Function::new(
        "is_subnet_of",
        &[Param::req("cidr", Kind::Str), Param::req("ip", Kind::Str)],
        Kind::Bool,
        "Whether an IP address (v4 or v6) lies in a CIDR block; NULL when the address is not an IP.",
        &[
            ex("is_subnet_of('10.0.0.0/8', '10.1.2.3')", "true"),
            ex("is_subnet_of('10.0.0.0/8', '192.168.1.1')", "false"),
            ex("is_subnet_of('2001:db8::/32', '2001:db8::1')", "true"),
        ],
        is_subnet_of,
    )
    .prepare(prepare_cidr)
    .extension(),
    Function::new(
        "is_prefix_subnet_of",
        &[Param::req("cidr", Kind::Str), Param::req("subnet", Kind::Str)],
        Kind::Bool,
        "Whether the second CIDR block lies entirely inside the first.",
        &[
            ex("is_prefix_subnet_of('192.168.0.0/16', '192.168.1.0/24')", "true"),
            ex("is_prefix_subnet_of('192.168.1.0/24', '192.168.0.0/16')", "false"),
        ],
        is_prefix_subnet_of,
    )
    .prepare(prepare_cidr)
    .extension(),
    Function::new(
        "ip_to_domain",
        &[Param::req("ip", Kind::Str)],
        Kind::Str,
        "'intranet' for private, loopback, link-local, carrier-grade NAT and unspecified addresses (v4 and v6), else 'internet'; NULL when not an IP.",
        &[
            ex("ip_to_domain('192.168.1.10')", r#""intranet""#),
            ex("ip_to_domain('8.8.8.8')", r#""internet""#),
            ex("ip_to_domain('not an ip')", "null"),
        ],
        ip_to_domain,
    )
    .extension(),
    Function::new(
        "ip_prefix",
        &[Param::req("ip", Kind::Str), Param::req("prefix_length", Kind::Int)],
        Kind::Str,
        "The CIDR block of the given prefix length that contains an IP address; NULL when not an IP.",
        &[ex("ip_prefix('192.168.1.77', 24)", r#""192.168.1.0/24""#), ex("ip_prefix('2001:db8::1', 32)", r#""2001:db8::/32""#)],
        ip_prefix,
    )
    .extension(),
    Function::new(
        "ip_subnet_min",
        &[Param::req("cidr", Kind::Str)],
        Kind::Str,
        "The first (network) address of a CIDR block.",
        &[ex("ip_subnet_min('192.168.1.0/24')", r#""192.168.1.0""#)],
        ip_subnet_min,
    )
    .prepare(prepare_cidr)
    .extension(),
    Function::new(
        "ip_subnet_max",
        &[Param::req("cidr", Kind::Str)],
        Kind::Str,
        "The last (broadcast) address of a CIDR block.",
        &[ex("ip_subnet_max('192.168.1.0/24')", r#""192.168.1.255""#)],
        ip_subnet_max,
    )
    .prepare(prepare_cidr)
    .extension(),
    Function::new(
        "ip_subnet_range",
        &[Param::req("cidr", Kind::Str)],
        Kind::Array,
        "The first and last addresses of a CIDR block, as a two-element array.",
        &[ex("ip_subnet_range('10.0.0.0/30')", r#"["10.0.0.0","10.0.0.3"]"#)],
        ip_subnet_range,
    )
    .prepare(prepare_cidr)
    .extension(),
    Function::new(
        "is_ip",
        &[Param::req("value", Kind::Str)],
        Kind::Bool,
        "Whether a string is an IPv4 or IPv6 address.",
        &[ex("is_ip('::1')", "true"), ex("is_ip('10.0.0.256')", "false")],
        is_ip,
    )
    .extension(),
    Function::new(
        "is_ipv4",
        &[Param::req("value", Kind::Str)],
        Kind::Bool,
        "Whether a string is a dotted-quad IPv4 address.",
        &[ex("is_ipv4('10.0.0.1')", "true"), ex("is_ipv4('::1')", "false")],
        is_ipv4,
    )
    .extension(),
    Function::new(
        "is_ipv6",
        &[Param::req("value", Kind::Str)],
        Kind::Bool,
        "Whether a string is an IPv6 address.",
        &[ex("is_ipv6('fe80::1')", "true"), ex("is_ipv6('10.0.0.1')", "false")],
        is_ipv6,
    )
    .extension(),
];

// ---- addresses and blocks ---------------------------------------------------------------

/// An address as a number with its width in bits (32 or 128). IPv4-mapped IPv6 addresses
/// become IPv4.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Addr {
    bits: u128,
    width: u8,
}

impl Addr {
    fn from_ip(ip: IpAddr) -> Addr {
        match ip {
            IpAddr::V4(v4) => Addr {
                bits: u32::from(v4) as u128,
                width: 32,
            },
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Addr {
                    bits: u32::from(v4) as u128,
                    width: 32,
                },
                None => Addr {
                    bits: u128::from(v6),
                    width: 128,
                },
            },
        }
    }

    fn parse(s: &str) -> Option<Addr> {
        s.parse::<IpAddr>().ok().map(Addr::from_ip)
    }

    fn to_text(self) -> String {
        if self.width == 32 {
            Ipv4Addr::from(self.bits as u32).to_string()
        } else {
            Ipv6Addr::from(self.bits).to_string()
        }
    }
}

/// A CIDR block: the network address (host bits cleared) and the prefix length.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Net {
    addr: Addr,
    prefix: u8,
}

/// The mask of the top `prefix` bits of a `width`-bit address.
fn mask(width: u8, prefix: u8) -> u128 {
    let all = if width == 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    };
    if prefix == 0 {
        0
    } else {
        all & (all << (width - prefix))
    }
}

impl Net {
    fn new(addr: Addr, prefix: u8) -> Net {
        Net {
            addr: Addr {
                bits: addr.bits & mask(addr.width, prefix),
                width: addr.width,
            },
            prefix,
        }
    }

    /// `a.b.c.d/n`, `x::/n`, or a bare address (a block of one). Host bits may be set.
    fn parse(s: &str) -> Option<Net> {
        let s = s.trim();
        let (ip, prefix) = match s.split_once('/') {
            Some((ip, p)) => (ip, Some(p)),
            None => (s, None),
        };
        // The prefix is read against the written family (`::ffff:0:0/96` is IPv6 text).
        let written: IpAddr = ip.parse().ok()?;
        let written_width = if written.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()) => {
                p.parse::<u8>().ok().filter(|&p| p <= written_width)?
            }
            Some(_) => return None,
            None => written_width,
        };
        let addr = Addr::from_ip(written);
        // A mapped IPv6 block narrows to its IPv4 part.
        let prefix = if addr.width == 32 && written_width == 128 {
            prefix.checked_sub(96)?
        } else {
            prefix
        };
        Some(Net::new(addr, prefix))
    }

    fn contains(&self, a: Addr) -> bool {
        a.width == self.addr.width && a.bits & mask(a.width, self.prefix) == self.addr.bits
    }

    fn last(&self) -> Addr {
        let host = !mask(self.addr.width, self.prefix) & mask(self.addr.width, self.addr.width);
        Addr {
            bits: self.addr.bits | host,
            width: self.addr.width,
        }
    }
}

fn bad_cidr(i: usize, s: &str) -> FnError {
    FnError::arg(
        i,
        format!("'{s}' is not a valid CIDR block (like 10.0.0.0/8 or 2001:db8::/32)"),
    )
}

/// Parses a constant CIDR first argument once, at plan time.
fn prepare_cidr(args: &[Option<Value>]) -> Result<Prepared, FnError> {
    match args
        .first()
        .and_then(Option::as_ref)
        .filter(|v| !v.is_null())
    {
        Some(v) => {
            let s = text(v).unwrap_or_default();
            Net::parse(&s)
                .map(Prepared::new)
                .ok_or_else(|| bad_cidr(0, &s).with_code(codes::BAD_ARGUMENT))
        }
        None => Ok(Prepared::none()),
    }
}

/// The CIDR block argument `i`: prepared, or parsed now.
fn net_arg(args: &[Value], i: usize, prepared: Option<&Prepared>) -> Result<Net, FnError> {
    if let Some(n) = prepared.and_then(|p| p.get::<Net>()) {
        return Ok(*n);
    }
    let s = arg_text(args, i)?;
    Net::parse(&s).ok_or_else(|| bad_cidr(i, &s))
}

fn addr_arg(args: &[Value], i: usize) -> Option<Addr> {
    text(&args[i]).and_then(|s| Addr::parse(s.trim()))
}

// ---- functions --------------------------------------------------------------------------

fn is_subnet_of(args: &[Value], prepared: &Prepared, _: &mut dyn Env) -> FnResult {
    let net = net_arg(args, 0, Some(prepared))?;
    Ok(addr_arg(args, 1).map_or(Value::Null, |a| Value::Bool(net.contains(a))))
}

fn is_prefix_subnet_of(args: &[Value], prepared: &Prepared, _: &mut dyn Env) -> FnResult {
    let outer = net_arg(args, 0, Some(prepared))?;
    let inner = net_arg(args, 1, None)?;
    Ok(Value::Bool(
        inner.prefix >= outer.prefix && outer.contains(inner.addr),
    ))
}

/// Blocks that are not routed on the internet, by `ip_to_domain`.
const INTRANET_V4: &[(u32, u8)] = &[
    (0x0000_0000, 8),  // 0.0.0.0/8 "this network"
    (0x0A00_0000, 8),  // 10.0.0.0/8 private
    (0x6440_0000, 10), // 100.64.0.0/10 carrier-grade NAT
    (0x7F00_0000, 8),  // 127.0.0.0/8 loopback
    (0xA9FE_0000, 16), // 169.254.0.0/16 link-local
    (0xAC10_0000, 12), // 172.16.0.0/12 private
    (0xC0A8_0000, 16), // 192.168.0.0/16 private
    (0xFFFF_FFFF, 32), // 255.255.255.255 broadcast
];

const INTRANET_V6: &[(u128, u8)] = &[
    (0, 128),                 // :: unspecified
    (1, 128),                 // ::1 loopback
    (0xfc00_u128 << 112, 7),  // fc00::/7 unique local
    (0xfe80_u128 << 112, 10), // fe80::/10 link-local
    (0xfec0_u128 << 112, 10), // fec0::/10 site-local (deprecated)
];

fn is_intranet(a: Addr) -> bool {
    if a.width == 32 {
        INTRANET_V4.iter().any(|&(net, p)| {
            Net::new(
                Addr {
                    bits: net as u128,
                    width: 32,
                },
                p,
            )
            .contains(a)
        })
    } else {
        INTRANET_V6.iter().any(|&(net, p)| {
            Net::new(
                Addr {
                    bits: net,
                    width: 128,
                },
                p,
            )
            .contains(a)
        })
    }
}

fn ip_to_domain(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(match addr_arg(args, 0) {
        Some(a) if is_intranet(a) => Value::str("intranet"),
        Some(_) => Value::str("internet"),
        None => Value::Null,
    })
}

fn ip_prefix(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let prefix = int_arg(args, 1)?;
    let Some(a) = addr_arg(args, 0) else {
        return Ok(Value::Null);
    };
    if !(0..=a.width as i64).contains(&prefix) {
        return Err(FnError::arg(
            1,
            format!(
                "the prefix length must be between 0 and {}, got {prefix}",
                a.width
            ),
        ));
    }
    let net = Net::new(a, prefix as u8);
    Ok(Value::string(format!(
        "{}/{}",
        net.addr.to_text(),
        net.prefix
    )))
}

fn ip_subnet_min(args: &[Value], prepared: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::string(
        net_arg(args, 0, Some(prepared))?.addr.to_text(),
    ))
}

fn ip_subnet_max(args: &[Value], prepared: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::string(
        net_arg(args, 0, Some(prepared))?.last().to_text(),
    ))
}

fn ip_subnet_range(args: &[Value], prepared: &Prepared, _: &mut dyn Env) -> FnResult {
    let net = net_arg(args, 0, Some(prepared))?;
    Ok(Value::array(vec![
        Value::string(net.addr.to_text()),
        Value::string(net.last().to_text()),
    ]))
}

fn parsed(args: &[Value]) -> Option<IpAddr> {
    text(&args[0]).and_then(|s| s.parse::<IpAddr>().ok())
}

fn is_ip(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::Bool(parsed(args).is_some()))
}

fn is_ipv4(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::Bool(parsed(args).is_some_and(|ip| ip.is_ipv4())))
}

fn is_ipv6(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::Bool(parsed(args).is_some_and(|ip| ip.is_ipv6())))
}

#[cfg(test)]
mod tests {
    use super::super::string::test_support::{self, s, strs};
    use super::*;

    test_support::family_helpers!();

    fn yes(b: bool) -> Value {
        Value::Bool(b)
    }

    #[test]
    fn every_function_is_an_extension() {
        assert!(FUNCTIONS.iter().all(|f| f.extension));
    }

    #[test]
    fn masks() {
        assert_eq!(mask(32, 0), 0);
        assert_eq!(mask(32, 8), 0xFF00_0000);
        assert_eq!(mask(32, 32), 0xFFFF_FFFF);
        assert_eq!(mask(128, 128), u128::MAX);
        assert_eq!(mask(128, 1), 1 << 127);
    }

    #[test]
    fn subnet_membership() {
        let sub = |c: &str, ip: &str| ok("is_subnet_of", &[s(c), s(ip)]);
        assert_eq!(sub("10.0.0.0/8", "10.255.255.255"), yes(true));
        assert_eq!(sub("10.0.0.0/8", "11.0.0.0"), yes(false));
        assert_eq!(sub("192.168.1.77/24", "192.168.1.1"), yes(true));
        assert_eq!(sub("0.0.0.0/0", "8.8.8.8"), yes(true));
        assert_eq!(sub("8.8.8.8", "8.8.8.8"), yes(true));
        assert_eq!(sub("8.8.8.8/32", "8.8.8.9"), yes(false));
        assert_eq!(sub("2001:db8::/32", "2001:db8:ffff::1"), yes(true));
        assert_eq!(sub("2001:db8::/32", "2001:db9::1"), yes(false));
        assert_eq!(sub("::/0", "::1"), yes(true));
        // Families never mix, except IPv4-mapped IPv6 addresses.
        assert_eq!(sub("::/0", "1.2.3.4"), yes(false));
        assert_eq!(sub("10.0.0.0/8", "::ffff:10.1.2.3"), yes(true));
        assert_eq!(sub("::ffff:10.0.0.0/104", "10.1.2.3"), yes(true));
        assert_eq!(sub(" 10.0.0.0/8 ", " 10.1.2.3 "), yes(true));
        // A non-IP address is NULL; a bad block is an error (at plan time when constant).
        assert_eq!(sub("10.0.0.0/8", "10.0.0"), Value::Null);
        assert_eq!(sub("10.0.0.0/8", ""), Value::Null);
        for bad in [
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0/8",
            "x",
            "::/129",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "::ffff:0:0/95",
        ] {
            let e = call("is_subnet_of", &[s(bad), s("10.0.0.1")]).unwrap_err();
            assert_eq!(e.arg, Some(0), "{bad}");
        }
        let e = test_support::run(FUNCTIONS, "is_subnet_of", &[s("nope"), s("1.1.1.1")], true)
            .unwrap_err();
        assert_eq!(e.code, codes::BAD_ARGUMENT);
        assert_eq!(
            ok("is_subnet_of", &[Value::Null, s("1.1.1.1")]),
            Value::Null
        );
    }

    #[test]
    fn prefix_subnets() {
        let p = |a: &str, b: &str| call("is_prefix_subnet_of", &[s(a), s(b)]);
        assert_eq!(p("192.168.0.0/16", "192.168.1.0/24").unwrap(), yes(true));
        assert_eq!(p("192.168.0.0/16", "192.168.0.0/16").unwrap(), yes(true));
        assert_eq!(p("192.168.1.0/24", "192.168.0.0/16").unwrap(), yes(false));
        assert_eq!(p("10.0.0.0/8", "2001:db8::/32").unwrap(), yes(false));
        assert_eq!(p("10.0.0.0/8", "bad").unwrap_err().arg, Some(1));
    }

    #[test]
    fn domains() {
        let d = |ip: &str| ok("ip_to_domain", &[s(ip)]);
        for ip in [
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.0.1",
            "127.0.0.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:192.168.1.1",
        ] {
            assert_eq!(d(ip), s("intranet"), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "11.0.0.1",
            "2001:4860::8888",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(d(ip), s("internet"), "{ip}");
        }
        assert_eq!(d("example.com"), Value::Null);
        assert_eq!(d(""), Value::Null);
    }

    #[test]
    fn prefixes() {
        let p = |ip: &str, n: i64| call("ip_prefix", &[s(ip), Value::Int(n)]);
        assert_eq!(p("192.168.1.77", 24).unwrap(), s("192.168.1.0/24"));
        assert_eq!(p("192.168.1.77", 32).unwrap(), s("192.168.1.77/32"));
        assert_eq!(p("192.168.1.77", 0).unwrap(), s("0.0.0.0/0"));
        assert_eq!(p("192.168.1.77", 20).unwrap(), s("192.168.0.0/20"));
        assert_eq!(p("2001:db8:1:2::1", 48).unwrap(), s("2001:db8:1::/48"));
        assert_eq!(p("::ffff:1.2.3.4", 16).unwrap(), s("1.2.0.0/16"));
        assert_eq!(p("nope", 24).unwrap(), Value::Null);
        assert_eq!(p("1.2.3.4", 33).unwrap_err().arg, Some(1));
        assert_eq!(p("1.2.3.4", -1).unwrap_err().arg, Some(1));
        assert_eq!(p("::1", 129).unwrap_err().arg, Some(1));
        assert!(p("::1", 128).is_ok());
    }

    #[test]
    fn subnet_bounds() {
        assert_eq!(
            ok("ip_subnet_min", &[s("192.168.1.77/24")]),
            s("192.168.1.0")
        );
        assert_eq!(
            ok("ip_subnet_max", &[s("192.168.1.0/24")]),
            s("192.168.1.255")
        );
        assert_eq!(ok("ip_subnet_max", &[s("0.0.0.0/0")]), s("255.255.255.255"));
        assert_eq!(ok("ip_subnet_max", &[s("1.2.3.4/32")]), s("1.2.3.4"));
        assert_eq!(
            ok("ip_subnet_range", &[s("10.0.0.0/30")]),
            strs(&["10.0.0.0", "10.0.0.3"])
        );
        assert_eq!(
            ok("ip_subnet_range", &[s("2001:db8::/126")]),
            strs(&["2001:db8::", "2001:db8::3"])
        );
        assert_eq!(
            ok("ip_subnet_max", &[s("::/0")]),
            s("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
        );
        assert_eq!(
            call("ip_subnet_min", &[s("10.0.0.0/40")]).unwrap_err().arg,
            Some(0)
        );
        assert_eq!(call("ip_subnet_range", &[s("")]).unwrap_err().arg, Some(0));
    }

    #[test]
    fn address_tests() {
        assert_eq!(ok("is_ip", &[s("1.2.3.4")]), yes(true));
        assert_eq!(ok("is_ip", &[s("::ffff:1.2.3.4")]), yes(true));
        assert_eq!(ok("is_ip", &[s("1.2.3")]), yes(false));
        assert_eq!(ok("is_ip", &[s("01.2.3.4")]), yes(false));
        assert_eq!(ok("is_ip", &[s("")]), yes(false));
        assert_eq!(ok("is_ip", &[Value::Int(5)]), yes(false));
        assert_eq!(ok("is_ipv4", &[s("255.255.255.255")]), yes(true));
        assert_eq!(ok("is_ipv4", &[s("::1")]), yes(false));
        assert_eq!(ok("is_ipv6", &[s("2001:db8::1")]), yes(true));
        assert_eq!(ok("is_ipv6", &[s("::ffff:1.2.3.4")]), yes(true));
        assert_eq!(ok("is_ipv6", &[s("1.2.3.4")]), yes(false));
        assert_eq!(ok("is_ipv6", &[Value::Null]), Value::Null);
    }
}
