//! A cheap test for chunks that no LZ77 + Huffman coder can shrink (data that is already
//! compressed or encrypted: WIMs inside a WIM, cabinets, JPEGs), so that the compressors store
//! them raw without parsing them first. Parsing such a chunk costs as much as parsing text and
//! always ends in "store raw"; the test costs about one histogram pass.
//!
//! A chunk is incompressible when both hold:
//! - its byte histogram is as flat as that of a random sample of its size: order-0 entropy within
//!   0.01 bit of the expected entropy of `n` uniformly random bytes, `8 - 255 / (2 n ln 2)`
//!   (the Miller–Madow bias), so Huffman-coding its literals saves less than the code's header;
//! - a scan with a one-entry hash table finds 4-byte repeats covering at most `n / 1024` bytes.
//!
//! Chunks under [`MIN_LEN`] bytes are always compressed (their sample entropy says too little).

/// Shortest chunk the test judges.
pub(crate) const MIN_LEN: usize = 4096;

/// 32 Ki entries: in a 32 KiB chunk a position's entry survives the following 20 KiB with
/// probability e^(-20/32) ≈ 0.54, so a repeat of a few 4-byte windows is found.
const HASH_BITS: u32 = 15;

/// Scratch space for [`is_incompressible`], kept by a compressor so that the test allocates
/// nothing.
#[derive(Clone, Debug)]
pub(crate) struct Scratch {
    table: Vec<u32>,
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch {
            table: vec![u32::MAX; 1 << HASH_BITS],
        }
    }
}

/// Whether `data` is all but certainly incompressible (see the module documentation).
pub(crate) fn is_incompressible(data: &[u8], scratch: &mut Scratch) -> bool {
    data.len() >= MIN_LEN && is_incompressible_with(data, entropy_bits(data), scratch)
}

/// [`is_incompressible`] for a caller that has the order-0 entropy of `data` already.
pub(crate) fn is_incompressible_with(data: &[u8], entropy: f64, scratch: &mut Scratch) -> bool {
    let n = data.len();
    if n < MIN_LEN || u32::try_from(n).is_err() {
        return false;
    }
    if entropy < 8.0 - 255.0 / (2.0 * n as f64 * std::f64::consts::LN_2) - 0.01 {
        return false;
    }
    !has_repeats(data, n / 1024, scratch)
}

/// Order-0 entropy of `data` in bits per byte (0 for no data).
pub(crate) fn entropy_bits(data: &[u8]) -> f64 {
    if data.is_empty() {
        return 0.0;
    }
    // Four histograms so that runs of one byte value do not wait on their own increments.
    let mut h = [[0u32; 256]; 4];
    let mut quads = data.chunks_exact(4);
    for q in &mut quads {
        h[0][usize::from(q[0])] += 1;
        h[1][usize::from(q[1])] += 1;
        h[2][usize::from(q[2])] += 1;
        h[3][usize::from(q[3])] += 1;
    }
    for &b in quads.remainder() {
        h[0][usize::from(b)] += 1;
    }
    let n = data.len() as f64;
    let sum: f64 = (0..256)
        .map(|i| f64::from(h[0][i] + h[1][i] + h[2][i] + h[3][i]))
        .filter(|&c| c > 0.0)
        .map(|c| c * c.log2())
        .sum();
    n.log2() - sum / n
}

/// Whether 4-byte repeats (found through a one-entry hash table, skipping over each match)
/// cover more than `limit` bytes of `data`.
fn has_repeats(data: &[u8], limit: usize, scratch: &mut Scratch) -> bool {
    let table = &mut scratch.table;
    table.fill(u32::MAX);
    let n = data.len();
    let mut covered = 0;
    let mut i = 0;
    while i + 4 <= n {
        let v = u32::from_le_bytes(data[i..i + 4].try_into().expect("4 bytes"));
        let h = (v.wrapping_mul(0x9E37_79B1) >> (32 - HASH_BITS)) as usize;
        let c = table[h];
        table[h] = i as u32;
        if c != u32::MAX {
            let c = c as usize;
            if data[c..c + 4] == data[i..i + 4] {
                let len = 4 + data[c + 4..]
                    .iter()
                    .zip(&data[i + 4..])
                    .take_while(|(a, b)| a == b)
                    .count();
                covered += len;
                if covered > limit {
                    return true;
                }
                i += len;
                continue;
            }
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn random(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn random_chunks_are_incompressible() {
        let mut s = Scratch::default();
        for (n, seed) in [(4096, 1), (32768, 2), (65536, 3), (1 << 21, 4)] {
            assert!(is_incompressible(&random(n, seed), &mut s), "{n} bytes");
        }
    }

    #[test]
    fn structure_makes_a_chunk_compressible() {
        let mut s = Scratch::default();
        // Too short to judge.
        assert!(!is_incompressible(&random(4095, 5), &mut s));
        // Text.
        let text: Vec<u8> = b"the quick brown fox jumps over the lazy dog. "
            .iter()
            .copied()
            .cycle()
            .take(32768)
            .collect();
        assert!(!is_incompressible(&text, &mut s));
        // Random bytes drawn from 240 values: flat, but literals code in < 8 bits.
        let skewed: Vec<u8> = random(32768, 6).iter().map(|b| b % 240).collect();
        assert!(!is_incompressible(&skewed, &mut s));
        // A random 16 KiB block twice: a flat histogram, but half the chunk is one match.
        let mut twice = random(16384, 7);
        twice.extend_from_within(..);
        assert!(!is_incompressible(&twice, &mut s));
        // Short repeats far apart in random data: above n / 1024 bytes in all.
        let mut sprinkled = random(32768, 8);
        for k in 0..8 {
            let (src, dst) = (k * 500, 12_000 + k * 2500);
            sprinkled.copy_within(src..src + 16, dst);
        }
        assert!(!is_incompressible(&sprinkled, &mut s));
    }
}
