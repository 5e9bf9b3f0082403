//! Writing a [`Key`] tree as a hive file (docs/regf.md#writing).
//!
//! One pass over the tree: each key's `nk` cell is allocated first (its children need its
//! offset as their parent), then its values and subkeys, and the `nk` is filled in last.
//! Cells never straddle a bin; the unused tail of a bin becomes one free cell.

use super::layout::*;
use super::{Key, RegfError, Result, Value};

/// How to write a hive.
#[derive(Clone, Debug, Default)]
pub struct HiveOptions {
    /// Last-written time of the hive and of every key, as a Windows FILETIME (100 ns since
    /// 1601). Default 0, which keeps the output reproducible.
    pub last_written: u64,
    /// The name stored in the base block (informational; Windows keeps the tail of the path).
    /// Default empty.
    pub file_name: String,
}

/// The hive file for `root` (the root key's name is stored as is).
pub fn write_hive(root: &Key, options: &HiveOptions) -> Result<Vec<u8>> {
    let mut bins = Bins::new(options.last_written);
    let sd = default_security_descriptor();
    let sk = bins.alloc(20 + sd.len());
    let mut writer = Writer {
        bins,
        sk,
        keys: 0,
        last_written: options.last_written,
    };
    let root_at = writer.key(root, NONE, 0)?;
    let Writer { mut bins, keys, .. } = writer;
    {
        let cell = bins.cell_mut(sk);
        cell[..2].copy_from_slice(b"sk");
        put32(cell, 4, sk); // The list of security cells is circular: one cell, itself.
        put32(cell, 8, sk);
        put32(cell, 12, keys);
        put32(cell, 16, sd.len() as u32);
        cell[20..20 + sd.len()].copy_from_slice(&sd);
    }
    let hbins = bins.finish();

    let mut out = vec![0u8; BASE_BLOCK_LEN];
    out[..4].copy_from_slice(b"regf");
    put32(&mut out, 4, 1); // primary and secondary sequence numbers equal: a clean hive
    put32(&mut out, 8, 1);
    out[12..20].copy_from_slice(&options.last_written.to_le_bytes());
    put32(&mut out, 20, 1); // major version
    put32(&mut out, 24, 5); // minor version: lh lists and big data allowed
    put32(&mut out, 28, 0); // primary file
    put32(&mut out, 32, 1); // direct memory load
    put32(&mut out, 36, root_at);
    put32(&mut out, 40, hbins.len() as u32);
    put32(&mut out, 44, 1); // clustering factor
    let name: Vec<u8> = super::utf16le(&options.file_name)
        .into_iter()
        .take(62)
        .collect();
    out[48..48 + name.len()].copy_from_slice(&name);
    let sum = base_block_checksum(&out);
    put32(&mut out, CHECKSUM_AT, sum);
    out.extend(hbins);
    Ok(out)
}

struct Writer {
    bins: Bins,
    sk: u32,
    keys: u32,
    last_written: u64,
}

impl Writer {
    /// Writes `key` and everything below it; returns its `nk` offset.
    fn key(&mut self, key: &Key, parent: u32, depth: usize) -> Result<u32> {
        if depth > 512 {
            return Err(RegfError::TooDeep(512));
        }
        let (name, compressed) = encode_name(&key.name);
        if name.len() > 255 * 2 || key.name.is_empty() && parent != NONE {
            return Err(RegfError::TooLarge {
                what: "key name",
                name: key.name.clone(),
                len: name.len(),
            });
        }
        let nk = self.bins.alloc(NK_FIXED + name.len());
        self.keys += 1;

        let mut value_cells = Vec::with_capacity(key.values.len());
        for value in &key.values {
            value_cells.push(self.value(value)?);
        }
        let value_list = self.offset_list(&value_cells);

        let mut children: Vec<&Key> = key.subkeys.iter().collect();
        children.sort_by(|a, b| subkey_order(&a.name, &b.name));
        if children
            .windows(2)
            .any(|w| subkey_order(&w[0].name, &w[1].name).is_eq())
        {
            return Err(RegfError::BadCell {
                offset: nk,
                reason: format!("two subkeys of {:?} share a name", key.name),
            });
        }
        let mut child_cells = Vec::with_capacity(children.len());
        for child in &children {
            child_cells.push((self.key(child, nk, depth + 1)?, lh_hash(&child.name)));
        }
        let subkey_list = if child_cells.is_empty() {
            NONE
        } else {
            let at = self.bins.alloc(4 + 8 * child_cells.len());
            let cell = self.bins.cell_mut(at);
            cell[..2].copy_from_slice(b"lh");
            cell[2..4].copy_from_slice(&(child_cells.len() as u16).to_le_bytes());
            for (i, (offset, hash)) in child_cells.iter().enumerate() {
                put32(cell, 4 + 8 * i, *offset);
                put32(cell, 8 + 8 * i, *hash);
            }
            at
        };

        let max_subkey_name = children
            .iter()
            .map(|k| k.name.encode_utf16().count() * 2)
            .max()
            .unwrap_or(0);
        let max_value_name = key
            .values
            .iter()
            .map(|v| v.name.encode_utf16().count() * 2)
            .max()
            .unwrap_or(0);
        let max_value_data = key.values.iter().map(|v| v.data.len()).max().unwrap_or(0);
        let is_root = parent == NONE;
        let mut flags = if compressed { KEY_COMP_NAME } else { 0 };
        if is_root {
            flags |= KEY_HIVE_ENTRY | KEY_NO_DELETE;
        }
        let (sk, last_written) = (self.sk, self.last_written);
        let cell = self.bins.cell_mut(nk);
        cell[..2].copy_from_slice(b"nk");
        cell[2..4].copy_from_slice(&flags.to_le_bytes());
        cell[4..12].copy_from_slice(&last_written.to_le_bytes());
        put32(cell, 16, parent);
        put32(cell, 20, child_cells.len() as u32);
        put32(cell, 24, 0); // volatile subkeys
        put32(cell, 28, subkey_list);
        put32(cell, 32, NONE);
        put32(cell, 36, value_cells.len() as u32);
        put32(cell, 40, value_list);
        put32(cell, 44, sk);
        put32(cell, 48, NONE); // no class name
        put32(cell, 52, max_subkey_name as u32);
        put32(cell, 56, 0);
        put32(cell, 60, max_value_name as u32);
        put32(cell, 64, max_value_data as u32);
        cell[72..74].copy_from_slice(&(name.len() as u16).to_le_bytes());
        cell[76..76 + name.len()].copy_from_slice(&name);
        Ok(nk)
    }

    /// Writes a value's data and `vk` record; returns the `vk` offset.
    fn value(&mut self, value: &Value) -> Result<u32> {
        let (name, compressed) = encode_name(&value.name);
        let too_large = |what, len| RegfError::TooLarge {
            what,
            name: value.name.clone(),
            len,
        };
        if name.len() > 16383 * 2 {
            return Err(too_large("value name", name.len()));
        }
        if value.data.len() >= DATA_INLINE as usize {
            return Err(too_large("value data", value.data.len()));
        }
        let (length, data_field) = if value.data.len() <= INLINE_DATA_MAX {
            let mut inline = [0u8; 4];
            inline[..value.data.len()].copy_from_slice(&value.data);
            (
                value.data.len() as u32 | DATA_INLINE,
                u32::from_le_bytes(inline),
            )
        } else if value.data.len() <= BIG_DATA_SEGMENT {
            let at = self.bins.alloc(value.data.len());
            self.bins.cell_mut(at)[..value.data.len()].copy_from_slice(&value.data);
            (value.data.len() as u32, at)
        } else {
            (value.data.len() as u32, self.big_data(&value.data))
        };
        let vk = self.bins.alloc(VK_FIXED + name.len());
        let cell = self.bins.cell_mut(vk);
        cell[..2].copy_from_slice(b"vk");
        cell[2..4].copy_from_slice(&(name.len() as u16).to_le_bytes());
        put32(cell, 4, length);
        put32(cell, 8, data_field);
        put32(cell, 12, value.kind);
        let flags = if compressed && !name.is_empty() {
            VALUE_COMP_NAME
        } else {
            0
        };
        cell[16..18].copy_from_slice(&flags.to_le_bytes());
        cell[20..20 + name.len()].copy_from_slice(&name);
        Ok(vk)
    }

    /// Big data: a `db` record pointing at a list of segment cells.
    fn big_data(&mut self, data: &[u8]) -> u32 {
        let segments: Vec<u32> = data
            .chunks(BIG_DATA_SEGMENT)
            .map(|chunk| {
                let at = self.bins.alloc(chunk.len());
                self.bins.cell_mut(at)[..chunk.len()].copy_from_slice(chunk);
                at
            })
            .collect();
        let list = self.offset_list(&segments);
        let db = self.bins.alloc(8);
        let cell = self.bins.cell_mut(db);
        cell[..2].copy_from_slice(b"db");
        cell[2..4].copy_from_slice(&(segments.len() as u16).to_le_bytes());
        put32(cell, 4, list);
        db
    }

    /// A cell holding a plain array of offsets (value lists, big-data segment lists).
    fn offset_list(&mut self, offsets: &[u32]) -> u32 {
        if offsets.is_empty() {
            return NONE;
        }
        let at = self.bins.alloc(4 * offsets.len());
        let cell = self.bins.cell_mut(at);
        for (i, offset) in offsets.iter().enumerate() {
            put32(cell, 4 * i, *offset);
        }
        at
    }
}

/// The hive bins area under construction. Offsets are relative to its start.
struct Bins {
    data: Vec<u8>,
    bin_start: usize,
    bin_len: usize,
    timestamp: u64,
}

impl Bins {
    fn new(timestamp: u64) -> Bins {
        let mut bins = Bins {
            data: Vec::new(),
            bin_start: 0,
            bin_len: 0,
            timestamp,
        };
        bins.open_bin(0);
        bins
    }

    /// Allocates a cell for `payload` bytes; returns its offset (at the size field).
    fn alloc(&mut self, payload: usize) -> u32 {
        let size = (payload + 4).next_multiple_of(8);
        if self.data.len() + size > self.bin_start + self.bin_len {
            self.close_bin();
            self.open_bin(size);
        }
        let at = self.data.len();
        self.data.extend_from_slice(&(-(size as i32)).to_le_bytes());
        self.data.resize(at + size, 0);
        at as u32
    }

    /// The payload of the cell at `at` (after its size field).
    fn cell_mut(&mut self, at: u32) -> &mut [u8] {
        let at = at as usize;
        let size = i32::from_le_bytes(
            self.data[at..at + 4]
                .try_into()
                .expect("size field is 4 bytes"),
        )
        .unsigned_abs() as usize;
        &mut self.data[at + 4..at + size]
    }

    fn open_bin(&mut self, cell: usize) {
        self.bin_start = self.data.len();
        self.bin_len = (cell + BIN_HEADER_LEN)
            .max(BIN_ALIGN)
            .next_multiple_of(BIN_ALIGN);
        let mut header = [0u8; BIN_HEADER_LEN];
        header[..4].copy_from_slice(b"hbin");
        put32(&mut header, 4, self.bin_start as u32);
        put32(&mut header, 8, self.bin_len as u32);
        if self.bin_start == 0 {
            header[20..28].copy_from_slice(&self.timestamp.to_le_bytes());
        }
        self.data.extend_from_slice(&header);
    }

    /// Turns the rest of the current bin into one free cell (positive size).
    fn close_bin(&mut self) {
        let end = self.bin_start + self.bin_len;
        let rest = end - self.data.len();
        if rest > 0 {
            let at = self.data.len();
            self.data.extend_from_slice(&(rest as i32).to_le_bytes());
            self.data.resize(at + rest, 0);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        self.close_bin();
        self.data
    }
}

fn put32(buf: &mut [u8], at: usize, value: u32) {
    buf[at..at + 4].copy_from_slice(&value.to_le_bytes());
}
