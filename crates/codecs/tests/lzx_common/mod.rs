//! Test data and a minimal WIM reader shared by the LZX tests.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// xorshift64*: deterministic test data without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub fn random_bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut r = Rng::new(seed);
    (0..n).map(|_| r.next() as u8).collect()
}

/// Words drawn with a skewed distribution, punctuation and line breaks: compresses like prose
/// or configuration files.
pub fn text_like(seed: u64, n: usize) -> Vec<u8> {
    let mut r = Rng::new(seed);
    let vocab: Vec<Vec<u8>> = (0..2000)
        .map(|_| {
            let len = 2 + r.below(9) as usize;
            (0..len).map(|_| b'a' + r.below(26) as u8).collect()
        })
        .collect();
    let mut out = Vec::with_capacity(n + 16);
    while out.len() < n {
        // Skewed pick: the minimum of two uniforms squared-ish.
        let a = r.below(2000);
        let b = r.below(2000);
        let w = &vocab[(a * b / 2000) as usize];
        out.extend_from_slice(w);
        match r.below(20) {
            0 => out.extend_from_slice(b".\n"),
            1 => out.extend_from_slice(b", "),
            _ => out.push(b' '),
        }
    }
    out.truncate(n);
    out
}

/// Something like x86 machine code: a few opcode patterns, CALL (0xE8) instructions whose
/// relative targets point at a small set of functions, immediates and padding.
pub fn x86_like(seed: u64, n: usize) -> Vec<u8> {
    let mut r = Rng::new(seed);
    let funcs: Vec<i64> = (0..300)
        .map(|_| r.below(n.max(1) as u64 * 2) as i64 - n as i64 / 2)
        .collect();
    let snippets: [&[u8]; 8] = [
        &[0x55, 0x8B, 0xEC],
        &[0x8B, 0x45, 0x08],
        &[0x89, 0x45, 0xFC],
        &[0x5D, 0xC3],
        &[0x83, 0xEC, 0x10],
        &[0x33, 0xC0],
        &[0x85, 0xC0, 0x74, 0x05],
        &[0xCC, 0xCC, 0xCC, 0xCC],
    ];
    let mut out = Vec::with_capacity(n + 16);
    while out.len() < n {
        match r.below(10) {
            0..=2 => {
                let target = funcs[r.below(funcs.len() as u64) as usize];
                let rel = (target - out.len() as i64 - 5) as i32;
                out.push(0xE8);
                out.extend_from_slice(&rel.to_le_bytes());
            }
            3 => {
                out.push(0xB8);
                out.extend_from_slice(&(r.below(1 << 16) as u32).to_le_bytes());
            }
            4 => out.push(r.next() as u8),
            _ => out.extend_from_slice(snippets[r.below(8) as usize]),
        }
    }
    out.truncate(n);
    out
}

/// Runs `wimlib-imagex`; fails the test with the Debian package name when it is missing.
pub fn wimlib(args: &[&str]) {
    let out = Command::new("wimlib-imagex")
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("wimlib-imagex is needed for this test (Debian package `wimtools`): {e}")
        });
    assert!(
        out.status.success(),
        "wimlib-imagex {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One resource of a WIM: its uncompressed bytes as stored chunks.
pub struct Resource {
    pub flags: u8,
    pub original_size: u64,
    /// (stored chunk bytes, uncompressed size); stored == uncompressed size means raw.
    pub chunks: Vec<(Vec<u8>, usize)>,
}

pub struct Wim {
    pub chunk_size: usize,
    pub flags: u32,
    pub resources: Vec<Resource>,
}

fn le64(b: &[u8]) -> u64 {
    u64::from_le_bytes(b[..8].try_into().unwrap())
}

fn reshdr(b: &[u8]) -> (u64, u8, u64, u64) {
    let mut s = [0u8; 8];
    s[..7].copy_from_slice(&b[..7]);
    (u64::from_le_bytes(s), b[7], le64(&b[8..]), le64(&b[16..]))
}

/// Reads a non-solid WIM just far enough to list its resources' chunks.
pub fn read_wim(path: &Path) -> Wim {
    let data = std::fs::read(path).unwrap();
    assert_eq!(&data[..8], b"MSWIM\0\0\0");
    let flags = u32::from_le_bytes(data[0x10..0x14].try_into().unwrap());
    let chunk_size = u32::from_le_bytes(data[0x14..0x18].try_into().unwrap()) as usize;
    let (bt_size, bt_flags, bt_off, _) = reshdr(&data[0x30..]);
    assert_eq!(
        bt_flags & 0x04,
        0,
        "blob table is expected to be stored uncompressed"
    );
    let table = &data[bt_off as usize..(bt_off + bt_size) as usize];
    let mut resources = Vec::new();
    for e in table.chunks_exact(50) {
        let (stored, rflags, off, orig) = reshdr(e);
        assert_eq!(rflags & 0x10, 0, "solid resources are not expected");
        let res = &data[off as usize..(off + stored) as usize];
        let mut chunks = Vec::new();
        if rflags & 0x04 == 0 {
            chunks.push((res.to_vec(), orig as usize));
        } else {
            let n = (orig as usize).div_ceil(chunk_size);
            let esz = if orig >= 1 << 32 { 8 } else { 4 };
            let tbl_len = (n - 1) * esz;
            let mut starts = vec![0u64];
            for k in 0..n - 1 {
                let b = &res[k * esz..];
                starts.push(if esz == 4 {
                    u64::from(u32::from_le_bytes(b[..4].try_into().unwrap()))
                } else {
                    le64(b)
                });
            }
            let body = &res[tbl_len..];
            for k in 0..n {
                let s = starts[k] as usize;
                let end = if k + 1 < n {
                    starts[k + 1] as usize
                } else {
                    body.len()
                };
                let usize_k = if k + 1 < n {
                    chunk_size
                } else {
                    orig as usize - k * chunk_size
                };
                chunks.push((body[s..end].to_vec(), usize_k));
            }
        }
        resources.push(Resource {
            flags: rflags,
            original_size: orig,
            chunks,
        });
    }
    Wim {
        chunk_size,
        flags,
        resources,
    }
}

fn put_reshdr(buf: &mut [u8], stored: u64, flags: u8, offset: u64, original: u64) {
    buf[..7].copy_from_slice(&stored.to_le_bytes()[..7]);
    buf[7] = flags;
    buf[8..16].copy_from_slice(&offset.to_le_bytes());
    buf[16..24].copy_from_slice(&original.to_le_bytes());
}

/// Rewrites a non-solid compressed WIM made by wimlib: every resource (file data and image
/// metadata) is decoded with `decode` and recompressed chunk by chunk with `compress` (`None` =
/// store the chunk raw). The integrity table is dropped.
pub fn rewrite_wim(
    src: &Path,
    dst: &Path,
    mut decode: impl FnMut(&[u8], usize) -> Vec<u8>,
    mut compress: impl FnMut(&[u8]) -> Option<Vec<u8>>,
) {
    let data = std::fs::read(src).unwrap();
    let w = read_wim(src);
    let (bt_size, _, bt_off, _) = reshdr(&data[0x30..]);
    let table = &data[bt_off as usize..(bt_off + bt_size) as usize];
    let mut out = data[..208].to_vec();
    let mut new_table = Vec::new();
    for (e, res) in table.chunks_exact(50).zip(&w.resources) {
        let (_, flags, _, orig) = reshdr(e);
        let mut plain = Vec::new();
        for (stored, size) in &res.chunks {
            if stored.len() == *size {
                plain.extend_from_slice(stored);
            } else {
                plain.extend(decode(stored, *size));
            }
        }
        assert_eq!(plain.len() as u64, orig);
        let offset = out.len() as u64;
        let mut body = Vec::new();
        let mut starts = Vec::new();
        if flags & 0x04 != 0 {
            for chunk in plain.chunks(w.chunk_size) {
                starts.push(body.len() as u32);
                match compress(chunk) {
                    Some(c) => body.extend(c),
                    None => body.extend_from_slice(chunk),
                }
            }
            for s in &starts[1..] {
                out.extend_from_slice(&s.to_le_bytes());
            }
        } else {
            body = plain;
        }
        out.extend(body);
        let mut ne = e.to_vec();
        put_reshdr(&mut ne, out.len() as u64 - offset, flags, offset, orig);
        new_table.extend(ne);
    }
    let bt_offset = out.len() as u64;
    out.extend_from_slice(&new_table);
    let (xml_size, xml_flags, xml_off, xml_orig) = reshdr(&data[0x48..]);
    let xml_offset = out.len() as u64;
    out.extend_from_slice(&data[xml_off as usize..(xml_off + xml_size) as usize]);
    put_reshdr(
        &mut out[0x30..],
        new_table.len() as u64,
        0x02,
        bt_offset,
        new_table.len() as u64,
    );
    put_reshdr(&mut out[0x48..], xml_size, xml_flags, xml_offset, xml_orig);
    assert!(
        data[0x60..0x78].iter().all(|&b| b == 0),
        "no boot metadata expected"
    );
    out[0x7C..0x94].fill(0);
    std::fs::write(dst, out).unwrap();
}
