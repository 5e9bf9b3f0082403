//! Deterministic test data shared by the integration tests.
#![allow(dead_code)]

/// xorshift64: deterministic and dependency free.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Log-like text: timestamps, a vocabulary with skewed frequencies, hex numbers, paths.
pub fn text_like(len: usize, seed: u64) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "the",
        "a",
        "of",
        "to",
        "and",
        "in",
        "is",
        "for",
        "on",
        "with",
        "image",
        "deployment",
        "task",
        "sequence",
        "boot",
        "media",
        "driver",
        "package",
        "install",
        "Windows",
        "failed",
        "succeeded",
        "content",
        "location",
        "distribution",
        "point",
        "policy",
        "variable",
        "_SMSTSMDataPath",
        "C:\\Windows\\System32",
        "X:\\sms\\bin\\x64",
        "TSManager",
        "OSDSetupHook",
        "executing",
        "command",
        "line",
        "returned",
        "reboot",
        "required",
        "format",
        "partition",
    ];
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(len + 256);
    let mut line = 0u64;
    while out.len() < len {
        line += 1;
        let t = 1_000_000 + line * 37 + rng.below(30);
        out.extend_from_slice(
            format!(
                "<![LOG[{:02}:{:02}:{:02}.{:03} ",
                (t / 3600) % 24,
                (t / 60) % 60,
                t % 60,
                t % 997
            )
            .as_bytes(),
        );
        let words = 4 + rng.below(12);
        for _ in 0..words {
            // Skewed: low indices much more likely.
            let r = rng.below(WORDS.len() as u64);
            let i = (r * rng.below(WORDS.len() as u64)) / WORDS.len() as u64;
            out.extend_from_slice(WORDS[i as usize].as_bytes());
            out.push(b' ');
            if rng.below(9) == 0 {
                out.extend_from_slice(format!("0x{:08X} ", rng.below(1 << 20) << 4).as_bytes());
            }
        }
        out.extend_from_slice(b"]LOG]!><time=\"08:00:00\" component=\"TSManager\" thread=\"");
        out.extend_from_slice(format!("{}\">\r\n", 1000 + rng.below(8)).as_bytes());
    }
    out.truncate(len);
    out
}

/// Binary-like data: little-endian records with counters, small enums and pointers, some
/// code-like byte sequences, and stretches of padding.
pub fn binary_like(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(len + 64);
    let mut counter = 0u32;
    let opcodes: [&[u8]; 8] = [
        &[0x48, 0x89, 0x5C, 0x24],
        &[0x48, 0x8B, 0x05],
        &[0xE8],
        &[0x0F, 0x1F, 0x44, 0x00, 0x00],
        &[0x48, 0x83, 0xEC, 0x28],
        &[0xC3],
        &[0x33, 0xC0],
        &[0xFF, 0x15],
    ];
    while out.len() < len {
        match rng.below(4) {
            0 => {
                counter = counter.wrapping_add(1 + rng.below(3) as u32);
                out.extend_from_slice(&counter.to_le_bytes());
                out.extend_from_slice(&(rng.below(6) as u16).to_le_bytes());
                out.extend_from_slice(&(0x1400_0000u64 + rng.below(1 << 16) * 8).to_le_bytes());
            }
            1 => {
                for _ in 0..1 + rng.below(6) {
                    out.extend_from_slice(opcodes[rng.below(8) as usize]);
                    out.extend_from_slice(&(rng.below(1 << 12) as u32).to_le_bytes());
                }
            }
            2 => out.extend(std::iter::repeat_n(0u8, rng.below(40) as usize)),
            _ => out.extend((0..rng.below(12)).map(|_| rng.next() as u8)),
        }
    }
    out.truncate(len);
    out
}

/// Incompressible bytes.
pub fn random(len: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    (0..len).map(|_| rng.next() as u8).collect()
}

/// CPU time of the calling thread in seconds, to the nanosecond (the machine is shared: wall
/// time is noisy; /proc/thread-self/stat counts in 10 ms ticks, too coarse for a round of a few
/// tenths of a second).
pub fn thread_cpu_seconds() -> f64 {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").expect("schedstat");
    let ns: u64 = s
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .expect("run time");
    ns as f64 / 1e9
}
