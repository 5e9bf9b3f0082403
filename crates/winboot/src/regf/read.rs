//! Reading a hive file into a [`Key`] tree (docs/regf.md#reading).
//!
//! Every offset is bounds-checked against the bins area; the walk is limited in depth and in
//! the number of cells it visits, so a hostile hive (cycles, huge counts) ends in an error,
//! never a panic or a hang.

use super::layout::*;
use super::{Key, RegfError, Result, Value};

/// Parses a hive file.
pub fn read_hive(bytes: &[u8]) -> Result<Key> {
    if bytes.len() < BASE_BLOCK_LEN || &bytes[..4] != b"regf" {
        return Err(RegfError::NotAHive("no regf base block".into()));
    }
    let stored = le32(bytes, CHECKSUM_AT);
    let computed = base_block_checksum(bytes);
    if stored != computed {
        return Err(RegfError::Checksum { stored, computed });
    }
    if le32(bytes, 20) != 1 {
        return Err(RegfError::NotAHive(format!(
            "major version {}",
            le32(bytes, 20)
        )));
    }
    let declared = le32(bytes, 40) as usize;
    let available = bytes.len() - BASE_BLOCK_LEN;
    let bins = &bytes[BASE_BLOCK_LEN..BASE_BLOCK_LEN + declared.min(available)];
    if bins.len() < BIN_HEADER_LEN || &bins[..4] != b"hbin" {
        return Err(RegfError::NotAHive(
            "no hive bin after the base block".into(),
        ));
    }
    let mut reader = Reader {
        bins,
        budget: bins.len() / 8 + 16,
    };
    reader.key(le32(bytes, 36), 0)
}

struct Reader<'a> {
    bins: &'a [u8],
    /// Cells still allowed to be visited (each cell is at least 8 bytes, so a hive without
    /// cycles never exhausts it).
    budget: usize,
}

impl<'a> Reader<'a> {
    fn bad(offset: u32, reason: impl Into<String>) -> RegfError {
        RegfError::BadCell {
            offset,
            reason: reason.into(),
        }
    }

    /// The payload of the allocated cell at `offset`.
    fn cell(&mut self, offset: u32) -> Result<&'a [u8]> {
        self.budget = self
            .budget
            .checked_sub(1)
            .ok_or_else(|| Self::bad(offset, "too many cells visited (a cycle?)"))?;
        let at = offset as usize;
        let size_field = self
            .bins
            .get(at..at + 4)
            .ok_or_else(|| Self::bad(offset, "outside the hive bins"))?;
        let size = i32::from_le_bytes(size_field.try_into().expect("4 bytes"));
        if size >= 0 {
            return Err(Self::bad(offset, "cell is not allocated"));
        }
        let len = size.unsigned_abs() as usize;
        if len < 8 {
            return Err(Self::bad(offset, format!("cell size {len}")));
        }
        self.bins
            .get(at + 4..at + len)
            .ok_or_else(|| Self::bad(offset, "cell runs past the hive bins"))
    }

    fn key(&mut self, offset: u32, depth: usize) -> Result<Key> {
        if depth > 512 {
            return Err(RegfError::TooDeep(512));
        }
        let cell = self.cell(offset)?;
        if cell.len() < NK_FIXED || &cell[..2] != b"nk" {
            return Err(Self::bad(offset, "expected a key (nk) record"));
        }
        let flags = u16::from_le_bytes([cell[2], cell[3]]);
        let name_len = usize::from(u16::from_le_bytes([cell[72], cell[73]]));
        let name = cell
            .get(NK_FIXED..NK_FIXED + name_len)
            .ok_or_else(|| Self::bad(offset, "key name runs past its cell"))?;
        let mut key = Key::new(&decode_name(name, flags & KEY_COMP_NAME != 0));

        let value_count = le32(cell, 36) as usize;
        if value_count > 0 {
            let list = self.cell(le32(cell, 40))?;
            if list.len() < 4 * value_count {
                return Err(Self::bad(
                    le32(cell, 40),
                    "value list shorter than the key's value count",
                ));
            }
            for i in 0..value_count {
                key.values.push(self.value(le32(list, 4 * i))?);
            }
        }
        let subkey_count = le32(cell, 20) as usize;
        let mut children = Vec::new();
        if subkey_count > 0 {
            self.subkey_list(le32(cell, 28), &mut children, 0)?;
        }
        if children.len() != subkey_count {
            return Err(Self::bad(
                offset,
                format!("{subkey_count} subkeys declared, {} listed", children.len()),
            ));
        }
        for child in children {
            key.subkeys.push(self.key(child, depth + 1)?);
        }
        Ok(key)
    }

    /// Collects the `nk` offsets of an `lf`, `lh`, `li` or `ri` list.
    fn subkey_list(&mut self, offset: u32, out: &mut Vec<u32>, depth: usize) -> Result<()> {
        let cell = self.cell(offset)?;
        if cell.len() < 4 {
            return Err(Self::bad(offset, "subkey list too short"));
        }
        let count = usize::from(u16::from_le_bytes([cell[2], cell[3]]));
        let (stride, nested) = match &cell[..2] {
            b"lf" | b"lh" => (8, false),
            b"li" => (4, false),
            b"ri" if depth == 0 => (4, true),
            _ => return Err(Self::bad(offset, "expected a subkey list (lf, lh, li, ri)")),
        };
        if cell.len() < 4 + stride * count {
            return Err(Self::bad(offset, "subkey list shorter than its count"));
        }
        for i in 0..count {
            let item = le32(cell, 4 + stride * i);
            if nested {
                self.subkey_list(item, out, depth + 1)?;
            } else {
                out.push(item);
            }
        }
        Ok(())
    }

    fn value(&mut self, offset: u32) -> Result<Value> {
        let cell = self.cell(offset)?;
        if cell.len() < VK_FIXED || &cell[..2] != b"vk" {
            return Err(Self::bad(offset, "expected a value (vk) record"));
        }
        let name_len = usize::from(u16::from_le_bytes([cell[2], cell[3]]));
        let flags = u16::from_le_bytes([cell[16], cell[17]]);
        let name = cell
            .get(VK_FIXED..VK_FIXED + name_len)
            .ok_or_else(|| Self::bad(offset, "value name runs past its cell"))?;
        let name = decode_name(name, flags & VALUE_COMP_NAME != 0);
        let length = le32(cell, 4);
        let kind = le32(cell, 12);
        let data = if length & DATA_INLINE != 0 {
            let len = (length & !DATA_INLINE) as usize;
            if len > INLINE_DATA_MAX {
                return Err(Self::bad(offset, format!("inline data of {len} bytes")));
            }
            cell[8..8 + len].to_vec()
        } else if length == 0 {
            Vec::new()
        } else {
            self.data(le32(cell, 8), length as usize)?
        };
        Ok(Value { name, kind, data })
    }

    /// Data in a plain cell, or split across big-data segments.
    fn data(&mut self, offset: u32, len: usize) -> Result<Vec<u8>> {
        let cell = self.cell(offset)?;
        if len > BIG_DATA_SEGMENT && cell.len() >= 8 && &cell[..2] == b"db" {
            let count = usize::from(u16::from_le_bytes([cell[2], cell[3]]));
            let list = self.cell(le32(cell, 4))?;
            if list.len() < 4 * count {
                return Err(Self::bad(
                    offset,
                    "big data segment list shorter than its count",
                ));
            }
            let mut out = Vec::with_capacity(len);
            for i in 0..count {
                let segment = self.cell(le32(list, 4 * i))?;
                let take = (len - out.len()).min(BIG_DATA_SEGMENT).min(segment.len());
                out.extend_from_slice(&segment[..take]);
            }
            if out.len() != len {
                return Err(Self::bad(
                    offset,
                    format!("big data holds {} of {len} bytes", out.len()),
                ));
            }
            return Ok(out);
        }
        cell.get(..len).map(<[u8]>::to_vec).ok_or_else(|| {
            Self::bad(
                offset,
                format!("{len} bytes of data in a {}-byte cell", cell.len()),
            )
        })
    }
}

fn le32(buf: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(
        buf[at..at + 4]
            .try_into()
            .expect("caller checked the length"),
    )
}

#[cfg(test)]
mod tests {
    use super::super::{HiveOptions, REG_BINARY, write_hive};
    use super::*;

    fn sample() -> Key {
        let mut root = Key::new("NewStoreRoot");
        root.subkey_mut("Description")
            .set(Value::string("KeyName", "BCD00000000"));
        let objects = root.subkey_mut("Objects");
        for i in 0..300 {
            let key = objects.subkey_mut(&format!("{{{i:08x}-0000-0000-0000-000000000000}}"));
            key.set(Value::dword("Type", i));
            key.set(Value::binary("Blob", vec![i as u8; (i as usize) * 3]));
        }
        root.subkey_mut("Big").set(Value::binary(
            "Data",
            (0..40_000u32).map(|i| i as u8).collect(),
        ));
        root.subkey_mut("Ωmega").set(Value {
            name: "Ünï".into(),
            kind: REG_BINARY,
            data: vec![],
        });
        root
    }

    fn sorted(mut key: Key) -> Key {
        key.subkeys = key.subkeys.into_iter().map(sorted).collect();
        key.subkeys.sort_by(|a, b| subkey_order(&a.name, &b.name));
        key
    }

    #[test]
    fn write_then_read_is_identity() {
        let hive = write_hive(&sample(), &HiveOptions::default()).expect("write");
        assert_eq!((hive.len() - BASE_BLOCK_LEN) % BIN_ALIGN, 0);
        assert_eq!(read_hive(&hive).expect("read"), sorted(sample()));
    }

    #[test]
    fn every_bin_is_tiled_by_cells() {
        let hive = write_hive(&sample(), &HiveOptions::default()).expect("write");
        let bins = &hive[BASE_BLOCK_LEN..];
        let mut at = 0;
        while at < bins.len() {
            assert_eq!(&bins[at..at + 4], b"hbin");
            assert_eq!(le32(bins, at + 4) as usize, at);
            let len = le32(bins, at + 8) as usize;
            let mut cell = at + BIN_HEADER_LEN;
            while cell < at + len {
                let size = i32::from_le_bytes(bins[cell..cell + 4].try_into().expect("4"))
                    .unsigned_abs() as usize;
                assert!(
                    size >= 8 && size.is_multiple_of(8),
                    "cell size {size} at {cell:#x}"
                );
                cell += size;
            }
            assert_eq!(cell, at + len, "cells overrun the bin at {at:#x}");
            at += len;
        }
    }

    #[test]
    fn corruption_is_an_error_not_a_panic() {
        let hive = write_hive(&sample(), &HiveOptions::default()).expect("write");
        let mut bad_sum = hive.clone();
        bad_sum[100] ^= 1;
        assert!(matches!(
            read_hive(&bad_sum),
            Err(RegfError::Checksum { .. })
        ));
        for cut in [0, 100, 4096, 4200, hive.len() / 2] {
            let mut short = hive[..cut].to_vec();
            if short.len() >= BASE_BLOCK_LEN {
                // Keep the base block valid; only the bins are cut.
                let _ = read_hive(&short);
            } else {
                assert!(read_hive(&short).is_err());
            }
            short.clear();
        }
        // Flip bytes all over the bins: never a panic.
        for step in (BASE_BLOCK_LEN..hive.len()).step_by(97) {
            let mut broken = hive.clone();
            broken[step] = broken[step].wrapping_add(0x55);
            let _ = read_hive(&broken);
        }
    }
}
