//! SPL functions: hashing and binary encodings, with Presto semantics: digests take and
//! return VARBINARY (a VARCHAR argument is hashed as its UTF-8 bytes, so `md5('abc')` works
//! too), `to_hex` writes upper-case, multi-byte integers are big-endian.
//!
//! Owns `md5`, `sha1`, `sha256`, `sha512`, the `hmac_*` family, `crc32`, `xxhash64`,
//! `spooky_hash_v2_32/64` (Bob Jenkins' SpookyHash V2, seed 0, as Presto), hex and base64
//! (standard and URL alphabets), and `empty_approx_set` (the empty HyperLogLog sketch,
//! see DESIGN.md). Depends only on the registry and the hashing crates.

use super::{Env, FnError, FnResult, Function, Kind, Param, Prepared, bytes_arg, ex};
use crate::event::Value;
use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, KeyInit, Mac};
use md5::{Digest, Md5};
use sha1::Sha1;
use sha2::{Sha256, Sha512};

const DATA: &[Param] = &[Param::req("binary", Kind::Bytes)];
const DATA_KEY: &[Param] = &[
    Param::req("binary", Kind::Bytes),
    Param::req("key", Kind::Bytes),
];

pub(super) const FUNCTIONS: &[Function] = &[
    Function::new(
        "md5",
        DATA,
        Kind::Bytes,
        "MD5 digest (16 bytes) of a varbinary.",
        &[ex(
            "to_hex(md5(to_utf8('abc')))",
            r#""900150983CD24FB0D6963F7D28E17F72""#,
        )],
        md5,
    ),
    Function::new(
        "sha1",
        DATA,
        Kind::Bytes,
        "SHA-1 digest (20 bytes) of a varbinary.",
        &[ex(
            "to_hex(sha1(to_utf8('abc')))",
            r#""A9993E364706816ABA3E25717850C26C9CD0D89D""#,
        )],
        sha1,
    ),
    Function::new(
        "sha256",
        DATA,
        Kind::Bytes,
        "SHA-256 digest (32 bytes) of a varbinary.",
        &[ex(
            "lower(to_hex(sha256(to_utf8('abc'))))",
            r#""ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad""#,
        )],
        sha256,
    ),
    Function::new(
        "sha512",
        DATA,
        Kind::Bytes,
        "SHA-512 digest (64 bytes) of a varbinary.",
        &[ex(
            "to_hex(sha512(to_utf8('abc')))",
            r#""DDAF35A193617ABACC417349AE20413112E6FA4E89A97EA20A9EEEE64B55D39A2192992A274FC1A836BA3C23A3FEEBBD454D4423643CE80E2A9AC94FA54CA49F""#,
        )],
        sha512,
    ),
    Function::new(
        "hmac_md5",
        DATA_KEY,
        Kind::Bytes,
        "HMAC-MD5 of a varbinary with the given key.",
        &[ex(
            "to_hex(hmac_md5(to_utf8('what do ya want for nothing?'), to_utf8('Jefe')))",
            r#""750C783E6AB0B503EAA86E310A5DB738""#,
        )],
        hmac_md5,
    ),
    Function::new(
        "hmac_sha1",
        DATA_KEY,
        Kind::Bytes,
        "HMAC-SHA1 of a varbinary with the given key.",
        &[ex(
            "to_hex(hmac_sha1(to_utf8('what do ya want for nothing?'), to_utf8('Jefe')))",
            r#""EFFCDF6AE5EB2FA2D27416D5F184DF9C259A7C79""#,
        )],
        hmac_sha1,
    ),
    Function::new(
        "hmac_sha256",
        DATA_KEY,
        Kind::Bytes,
        "HMAC-SHA256 of a varbinary with the given key.",
        &[ex(
            "to_hex(hmac_sha256(to_utf8('what do ya want for nothing?'), to_utf8('Jefe')))",
            r#""5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843""#,
        )],
        hmac_sha256,
    ),
    Function::new(
        "hmac_sha512",
        DATA_KEY,
        Kind::Bytes,
        "HMAC-SHA512 of a varbinary with the given key.",
        &[ex(
            "to_hex(hmac_sha512(to_utf8('what do ya want for nothing?'), to_utf8('Jefe')))",
            r#""164B7A7BFCF819E2E395FBE73B56E0A387BD64222E831FD610270CD7EA2505549758BF75C05A994A6D034F65F8F0E6FDCAEAB1A34D4A6B4B636E070A38BCE737""#,
        )],
        hmac_sha512,
    ),
    Function::new(
        "crc32",
        DATA,
        Kind::Int,
        "CRC-32 (IEEE) checksum of a varbinary, as a BIGINT.",
        &[ex("crc32(to_utf8('abc'))", "891568578")],
        crc32,
    ),
    Function::new(
        "xxhash64",
        DATA,
        Kind::Bytes,
        "XXH64 hash (seed 0) of a varbinary, as 8 big-endian bytes.",
        &[ex(
            "to_hex(xxhash64(to_utf8('abc')))",
            r#""44BC2CF5AD770999""#,
        )],
        xxhash64,
    ),
    Function::new(
        "spooky_hash_v2_32",
        DATA,
        Kind::Bytes,
        "SpookyHash V2 32-bit hash (seed 0) of a varbinary, as 4 big-endian bytes.",
        &[ex(
            "to_hex(spooky_hash_v2_32(to_utf8('hello')))",
            r#""D382E6CA""#,
        )],
        spooky_hash_v2_32,
    ),
    Function::new(
        "spooky_hash_v2_64",
        DATA,
        Kind::Bytes,
        "SpookyHash V2 64-bit hash (seed 0) of a varbinary, as 8 big-endian bytes.",
        &[ex(
            "to_hex(spooky_hash_v2_64(to_utf8('hello')))",
            r#""3768826AD382E6CA""#,
        )],
        spooky_hash_v2_64,
    ),
    Function::new(
        "empty_approx_set",
        &[],
        Kind::Bytes,
        "An empty HyperLogLog sketch: VARBINARY in Presto's sparse HLL serialization (format 2, 12 index bits, no entries), to_hex gives 020C0000.",
        &[
            ex("to_hex(empty_approx_set())", r#""020C0000""#),
            ex("to_base64(empty_approx_set())", r#""AgwAAA==""#),
        ],
        empty_approx_set,
    ),
    Function::new(
        "to_hex",
        DATA,
        Kind::Str,
        "Encodes a varbinary as upper-case hexadecimal text.",
        &[ex("to_hex(to_utf8('abc'))", r#""616263""#)],
        to_hex,
    ),
    Function::new(
        "from_hex",
        &[Param::req("string", Kind::Str)],
        Kind::Bytes,
        "Decodes hexadecimal text (either case, even length) to a varbinary.",
        &[ex("from_utf8(from_hex('616263'))", r#""abc""#)],
        from_hex,
    ),
    Function::new(
        "to_base64",
        DATA,
        Kind::Str,
        "Encodes a varbinary as padded standard base64 text.",
        &[ex("to_base64(to_utf8('hello'))", r#""aGVsbG8=""#)],
        to_base64,
    ),
    Function::new(
        "from_base64",
        &[Param::req("string", Kind::Str)],
        Kind::Bytes,
        "Decodes standard base64 text (padding optional) to a varbinary.",
        &[
            ex("from_utf8(from_base64('aGVsbG8='))", r#""hello""#),
            ex("from_utf8(from_base64('aGVsbG8'))", r#""hello""#),
        ],
        from_base64,
    ),
    Function::new(
        "to_base64url",
        DATA,
        Kind::Str,
        "Encodes a varbinary as padded base64 text with the URL-safe alphabet (- and _).",
        &[ex("to_base64url(from_hex('FBFF'))", r#""-_8=""#)],
        to_base64url,
    ),
    Function::new(
        "from_base64url",
        &[Param::req("string", Kind::Str)],
        Kind::Bytes,
        "Decodes base64 text in the URL-safe alphabet (padding optional) to a varbinary.",
        &[ex("to_hex(from_base64url('-_8='))", r#""FBFF""#)],
        from_base64url,
    ),
];

fn binary(v: impl AsRef<[u8]>) -> FnResult {
    Ok(Value::Bytes(v.as_ref().into()))
}

fn md5(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    binary(Md5::digest(bytes_arg(args, 0)?))
}

fn sha1(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    binary(Sha1::digest(bytes_arg(args, 0)?))
}

fn sha256(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    binary(Sha256::digest(bytes_arg(args, 0)?))
}

fn sha512(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    binary(Sha512::digest(bytes_arg(args, 0)?))
}

fn hmac<M: Mac + KeyInit>(args: &[Value]) -> FnResult {
    let data = bytes_arg(args, 0)?;
    let key = bytes_arg(args, 1)?;
    let mut mac =
        <M as KeyInit>::new_from_slice(&key).map_err(|_| FnError::arg(1, "invalid HMAC key"))?;
    mac.update(&data);
    binary(mac.finalize().into_bytes())
}

fn hmac_md5(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    hmac::<Hmac<Md5>>(args)
}

fn hmac_sha1(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    hmac::<Hmac<Sha1>>(args)
}

fn hmac_sha256(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    hmac::<Hmac<Sha256>>(args)
}

fn hmac_sha512(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    hmac::<Hmac<Sha512>>(args)
}

fn crc32(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::Int(crc32fast::hash(&bytes_arg(args, 0)?) as i64))
}

fn xxhash64(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    binary(xxhash_rust::xxh64::xxh64(&bytes_arg(args, 0)?, 0).to_be_bytes())
}

fn spooky_hash_v2_32(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    binary((spooky::hash128(&bytes_arg(args, 0)?, 0, 0).0 as u32).to_be_bytes())
}

fn spooky_hash_v2_64(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    binary(spooky::hash128(&bytes_arg(args, 0)?, 0, 0).0.to_be_bytes())
}

/// Presto's serialization of an empty sparse HyperLogLog (airlift `SparseHll`, format tag 2)
/// with 12 index bits (4096 buckets, `approx_set`'s default standard error of 0.01625) and a
/// little-endian entry count of 0. Keeping Presto's bytes means a sketch written by this
/// engine reads back in SLS/Presto (`cast(x as HyperLogLog)`), and the reverse.
const EMPTY_SPARSE_HLL: [u8; 4] = [2, 12, 0, 0];

fn empty_approx_set(_: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::Bytes(EMPTY_SPARSE_HLL.to_vec().into()))
}

fn to_hex(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::string(hex::encode_upper(bytes_arg(args, 0)?)))
}

fn from_hex(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    let input = bytes_arg(args, 0)?;
    let decoded = hex::decode(&*input).map_err(|e| {
        let reason = match e {
            hex::FromHexError::OddLength => "it has an odd number of digits".to_string(),
            hex::FromHexError::InvalidHexCharacter { c, index } => {
                format!("'{c}' at offset {index} is not a hex digit")
            }
            other => other.to_string(),
        };
        FnError::arg(0, format!("invalid hex input: {reason}"))
    })?;
    binary(decoded)
}

/// Java's `Base64` decoders, which Presto uses: padding optional, trailing bits ignored.
const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
    .with_decode_padding_mode(DecodePaddingMode::Indifferent)
    .with_decode_allow_trailing_bits(true);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::STANDARD, LENIENT);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::URL_SAFE, LENIENT);

fn to_base64(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::string(STANDARD.encode(bytes_arg(args, 0)?)))
}

fn to_base64url(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    Ok(Value::string(URL_SAFE.encode(bytes_arg(args, 0)?)))
}

fn decode_base64(args: &[Value], engine: &GeneralPurpose) -> FnResult {
    let input = bytes_arg(args, 0)?;
    let decoded = engine
        .decode(&*input)
        .map_err(|e| FnError::arg(0, format!("invalid base64 input: {e}")))?;
    binary(decoded)
}

fn from_base64(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    decode_base64(args, &STANDARD)
}

fn from_base64url(args: &[Value], _: &Prepared, _: &mut dyn Env) -> FnResult {
    decode_base64(args, &URL_SAFE)
}

/// Bob Jenkins' SpookyHash V2 (public domain, <http://burtleburtle.net/bob/hash/spooky.html>),
/// 128-bit form; Presto's `spooky_hash_v2_64` is the first half with seed 0 and
/// `spooky_hash_v2_32` its low 32 bits.
mod spooky {
    const CONST: u64 = 0xdead_beef_dead_beef;
    const NUM_VARS: usize = 12;
    const BLOCK: usize = NUM_VARS * 8;
    /// Messages shorter than this use the short hash.
    const BUF: usize = 2 * BLOCK;

    fn word(b: &[u8], i: usize) -> u64 {
        u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().expect("8 bytes"))
    }

    pub fn hash128(msg: &[u8], seed1: u64, seed2: u64) -> (u64, u64) {
        if msg.len() < BUF {
            return short(msg, seed1, seed2);
        }
        let mut h = [0u64; NUM_VARS];
        for i in (0..NUM_VARS).step_by(3) {
            h[i] = seed1;
            h[i + 1] = seed2;
            h[i + 2] = CONST;
        }
        let whole = msg.len() / BLOCK * BLOCK;
        let mut data = [0u64; NUM_VARS];
        for block in msg[..whole].chunks_exact(BLOCK) {
            for (k, d) in data.iter_mut().enumerate() {
                *d = word(block, k);
            }
            mix(&data, &mut h);
        }
        let rest = &msg[whole..];
        let mut last = [0u8; BLOCK];
        last[..rest.len()].copy_from_slice(rest);
        last[BLOCK - 1] = rest.len() as u8;
        for (k, d) in data.iter_mut().enumerate() {
            *d = word(&last, k);
        }
        end(&data, &mut h);
        (h[0], h[1])
    }

    fn mix(data: &[u64; NUM_VARS], s: &mut [u64; NUM_VARS]) {
        const ROT: [u32; NUM_VARS] = [11, 32, 43, 31, 17, 28, 39, 57, 55, 54, 22, 46];
        for i in 0..NUM_VARS {
            s[i] = s[i].wrapping_add(data[i]);
            s[(i + 2) % NUM_VARS] ^= s[(i + 10) % NUM_VARS];
            s[(i + 11) % NUM_VARS] ^= s[i];
            s[i] = s[i].rotate_left(ROT[i]);
            s[(i + 11) % NUM_VARS] = s[(i + 11) % NUM_VARS].wrapping_add(s[(i + 1) % NUM_VARS]);
        }
    }

    fn end_partial(h: &mut [u64; NUM_VARS]) {
        const ROT: [u32; NUM_VARS] = [44, 15, 34, 21, 38, 33, 10, 13, 38, 53, 42, 54];
        for i in 0..NUM_VARS {
            let a = (i + 11) % NUM_VARS;
            h[a] = h[a].wrapping_add(h[(i + 1) % NUM_VARS]);
            h[(i + 2) % NUM_VARS] ^= h[a];
            h[(i + 1) % NUM_VARS] = h[(i + 1) % NUM_VARS].rotate_left(ROT[i]);
        }
    }

    fn end(data: &[u64; NUM_VARS], h: &mut [u64; NUM_VARS]) {
        for i in 0..NUM_VARS {
            h[i] = h[i].wrapping_add(data[i]);
        }
        end_partial(h);
        end_partial(h);
        end_partial(h);
    }

    fn short_mix(h: &mut [u64; 4]) {
        const ROT: [u32; 12] = [50, 52, 30, 41, 54, 48, 38, 37, 62, 34, 5, 36];
        for (k, r) in ROT.iter().enumerate() {
            let (x, y, z) = ((k + 2) % 4, (k + 3) % 4, k % 4);
            h[x] = h[x].rotate_left(*r);
            h[x] = h[x].wrapping_add(h[y]);
            h[z] ^= h[x];
        }
    }

    fn short_end(h: &mut [u64; 4]) {
        const ROT: [u32; 11] = [15, 52, 26, 51, 28, 9, 47, 54, 32, 25, 63];
        for (k, r) in ROT.iter().enumerate() {
            let (x, y) = ((k + 3) % 4, (k + 2) % 4);
            h[x] ^= h[y];
            h[y] = h[y].rotate_left(*r);
            h[x] = h[x].wrapping_add(h[y]);
        }
    }

    fn short(msg: &[u8], seed1: u64, seed2: u64) -> (u64, u64) {
        let len = msg.len();
        let mut h = [seed1, seed2, CONST, CONST];
        let mut p = msg;
        if len > 15 {
            while p.len() >= 32 {
                h[2] = h[2].wrapping_add(word(p, 0));
                h[3] = h[3].wrapping_add(word(p, 1));
                short_mix(&mut h);
                h[0] = h[0].wrapping_add(word(p, 2));
                h[1] = h[1].wrapping_add(word(p, 3));
                p = &p[32..];
            }
            if p.len() >= 16 {
                h[2] = h[2].wrapping_add(word(p, 0));
                h[3] = h[3].wrapping_add(word(p, 1));
                short_mix(&mut h);
                p = &p[16..];
            }
        }
        // The last 0..15 bytes and the length.
        h[3] = h[3].wrapping_add((len as u64) << 56);
        if p.is_empty() {
            h[2] = h[2].wrapping_add(CONST);
            h[3] = h[3].wrapping_add(CONST);
        } else {
            let mut tail = [0u8; 16];
            tail[..p.len()].copy_from_slice(p);
            h[2] = h[2].wrapping_add(word(&tail, 0));
            h[3] = h[3].wrapping_add(word(&tail, 1));
        }
        short_end(&mut h);
        (h[0], h[1])
    }
}

#[cfg(test)]
mod tests {
    use super::super::string::test_support::{self, bytes, s};
    use super::*;

    test_support::family_helpers!();

    fn hex_of(name: &str, args: &[Value]) -> String {
        match call(name, args) {
            Ok(Value::Bytes(b)) => hex::encode_upper(&*b),
            other => panic!("{name}: expected bytes, got {other:?}"),
        }
    }

    #[test]
    fn digests_of_known_vectors() {
        assert_eq!(
            hex_of("md5", &[bytes(b"")]),
            "D41D8CD98F00B204E9800998ECF8427E"
        );
        assert_eq!(
            hex_of("md5", &[bytes(b"abc")]),
            "900150983CD24FB0D6963F7D28E17F72"
        );
        assert_eq!(
            hex_of("sha1", &[bytes(b"abc")]),
            "A9993E364706816ABA3E25717850C26C9CD0D89D"
        );
        assert_eq!(
            hex_of("sha256", &[bytes(b"")]),
            "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
        );
        assert_eq!(hex_of("sha512", &[bytes(b"abc")]).len(), 128);
        // VARCHAR is hashed as its UTF-8 bytes.
        assert_eq!(
            hex_of("md5", &[s("abc")]),
            "900150983CD24FB0D6963F7D28E17F72"
        );
        assert_eq!(call("md5", &[Value::Null]).unwrap(), Value::Null);
    }

    #[test]
    fn hmacs_of_rfc_vectors() {
        let (data, key) = (bytes(b"what do ya want for nothing?"), bytes(b"Jefe"));
        assert_eq!(
            hex_of("hmac_md5", &[data.clone(), key.clone()]),
            "750C783E6AB0B503EAA86E310A5DB738"
        );
        assert_eq!(
            hex_of("hmac_sha1", &[data.clone(), key.clone()]),
            "EFFCDF6AE5EB2FA2D27416D5F184DF9C259A7C79"
        );
        assert_eq!(
            hex_of("hmac_sha256", &[data.clone(), key.clone()]),
            "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"
        );
        assert!(hex_of("hmac_sha512", &[data, key]).starts_with("164B7A7BFCF819E2"));
        // Empty and very long keys are fine.
        assert_eq!(hex_of("hmac_sha256", &[bytes(b""), bytes(b"")]).len(), 64);
        assert_eq!(
            hex_of("hmac_sha1", &[bytes(b"x"), bytes(&[7; 1000])]).len(),
            40
        );
    }

    #[test]
    fn checksums() {
        assert_eq!(
            call("crc32", &[bytes(b"abc")]).unwrap(),
            Value::Int(891568578)
        );
        assert_eq!(call("crc32", &[bytes(b"")]).unwrap(), Value::Int(0));
        assert_eq!(
            call(
                "crc32",
                &[bytes(b"The quick brown fox jumps over the lazy dog")]
            )
            .unwrap(),
            Value::Int(0x414FA339)
        );
        assert_eq!(hex_of("xxhash64", &[bytes(b"")]), "EF46DB3751D8E999");
        assert_eq!(hex_of("xxhash64", &[bytes(b"abc")]), "44BC2CF5AD770999");
    }

    #[test]
    fn spooky_matches_presto() {
        assert_eq!(
            hex_of("spooky_hash_v2_64", &[bytes(b"")]),
            "232706FC6BF50919"
        );
        assert_eq!(
            hex_of("spooky_hash_v2_64", &[bytes(b"hello")]),
            "3768826AD382E6CA"
        );
        assert_eq!(
            hex_of("spooky_hash_v2_64", &[bytes(b"test")]),
            "7B01E8BCEC0D8B75"
        );
        assert_eq!(
            hex_of("spooky_hash_v2_64", &[bytes(b"A")]),
            "317E0D51BEC890BA"
        );
        assert_eq!(hex_of("spooky_hash_v2_32", &[bytes(b"")]), "6BF50919");
        assert_eq!(hex_of("spooky_hash_v2_32", &[bytes(b"hello")]), "D382E6CA");
        assert_eq!(hex_of("spooky_hash_v2_32", &[s("你好")]), "38C1DE3E");
        assert_eq!(
            hex_of("spooky_hash_v2_32", &[s("Hello, World!")]),
            "4A0DB65A"
        );
    }

    /// The reference test of spooky.cpp: the 32-bit hash of the first i bytes of
    /// `buf[k] = k + 128`, at lengths that cover the short and the long paths.
    #[test]
    fn spooky_reference_results() {
        let expected: &[(usize, u32)] = &[
            (0, 0x6bf50919),
            (1, 0x70de1d26),
            (2, 0xa2b37298),
            (15, 0x83ec01f9),
            (16, 0xf274736c),
            (31, 0x027bca7c),
            (32, 0xe5cfc8b6),
            (63, 0x09c1afb4),
            (64, 0x069c8bb7),
            (95, 0x3abae1cb),
            (96, 0x1499b81a),
            (127, 0x82356bf2),
            (191, 0xe13d9e19),
            (192, 0x77e012bd),
            (193, 0x2d05114c),
            (255, 0x2f40ee0b),
            (256, 0x38cebf03),
            (300, 0x37e2b1da),
            (383, 0x4827f45c),
            (384, 0x44eb5634),
            (450, 0x9bbdab78),
            (511, 0xcc1c8250),
        ];
        let buf: Vec<u8> = (0..512).map(|k| (k + 128) as u8).collect();
        for &(len, want) in expected {
            assert_eq!(
                spooky::hash128(&buf[..len], 0, 0).0 as u32,
                want,
                "length {len}"
            );
        }
    }

    #[test]
    fn hex_round_trip_and_errors() {
        assert_eq!(
            call("to_hex", &[bytes(&[0, 0xab, 0xff])]).unwrap(),
            s("00ABFF")
        );
        assert_eq!(call("to_hex", &[bytes(b"")]).unwrap(), s(""));
        assert_eq!(call("to_hex", &[s("é")]).unwrap(), s("C3A9"));
        assert_eq!(
            call("from_hex", &[s("00abFF")]).unwrap(),
            bytes(&[0, 0xab, 0xff])
        );
        assert_eq!(call("from_hex", &[s("")]).unwrap(), bytes(b""));
        for bad in ["abc", "zz", "0x12", "é"] {
            let e = call("from_hex", &[s(bad)]).unwrap_err();
            assert_eq!(e.arg, Some(0), "{bad}");
            assert!(e.message.starts_with("invalid hex input"), "{}", e.message);
        }
    }

    #[test]
    fn base64_round_trip_and_errors() {
        assert_eq!(
            call("to_base64", &[bytes(b"hello")]).unwrap(),
            s("aGVsbG8=")
        );
        assert_eq!(call("to_base64", &[bytes(b"")]).unwrap(), s(""));
        assert_eq!(
            call("to_base64", &[bytes(&[0xfb, 0xff])]).unwrap(),
            s("+/8=")
        );
        assert_eq!(
            call("to_base64url", &[bytes(&[0xfb, 0xff])]).unwrap(),
            s("-_8=")
        );
        assert_eq!(
            call("from_base64", &[s("aGVsbG8=")]).unwrap(),
            bytes(b"hello")
        );
        assert_eq!(
            call("from_base64", &[s("aGVsbG8")]).unwrap(),
            bytes(b"hello")
        );
        assert_eq!(
            call("from_base64", &[bytes(b"aGk=")]).unwrap(),
            bytes(b"hi")
        );
        assert_eq!(call("from_base64", &[s("")]).unwrap(), bytes(b""));
        assert_eq!(
            call("from_base64url", &[s("-_8")]).unwrap(),
            bytes(&[0xfb, 0xff])
        );
        for bad in ["-_8=", "a", "aGVs bG8=", "aGVsbG8=="] {
            assert_eq!(
                call("from_base64", &[s(bad)]).unwrap_err().arg,
                Some(0),
                "{bad}"
            );
        }
        assert!(call("from_base64url", &[s("+/8=")]).is_err());
    }
}
