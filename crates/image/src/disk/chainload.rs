//! MBR boot code for BIOS boot of a USB image: it loads a contiguous run of sectors (a boot
//! program stored as a file in the FAT partition) to 0000:7C00 with INT 13h extensions and
//! jumps there, the boot drive still in DL. Hand-assembled, one instruction per line.

/// Most sectors the loader reads in one INT 13h AH=42h call (some BIOSes refuse more than 127).
pub const MAX_SECTORS: u16 = 127;

/// Offset of the disk address packet inside the code (it is patched per image).
const DAP: usize = 52;

/// The MBR boot code (at most 440 bytes) that loads `sectors` sectors from `lba` to
/// 0000:7C00 and jumps to them. On a read error it returns to the BIOS (INT 18h).
pub fn chainload_code(lba: u64, sectors: u16) -> Vec<u8> {
    let mut code: Vec<u8> = Vec::with_capacity(DAP + 16);
    code.extend([0xFA]); //                         cli
    code.extend([0x31, 0xC0]); //                   xor ax, ax
    code.extend([0x8E, 0xD0]); //                   mov ss, ax
    code.extend([0xBC, 0x00, 0x7C]); //             mov sp, 0x7C00
    code.extend([0x8E, 0xD8]); //                   mov ds, ax
    code.extend([0x8E, 0xC0]); //                   mov es, ax
    code.extend([0xFB]); //                         sti
    code.extend([0xFC]); //                         cld
    code.extend([0xBE, 0x00, 0x7C]); //             mov si, 0x7C00
    code.extend([0xBF, 0x00, 0x06]); //             mov di, 0x0600
    code.extend([0xB9, 0x00, 0x01]); //             mov cx, 256
    code.extend([0xF3, 0xA5]); //                   rep movsw        ; move out of the way
    let reloc = (0x0600 + code.len() + 5) as u16;
    code.extend([0xEA]); //                         jmp 0000:reloc
    code.extend(reloc.to_le_bytes());
    code.extend([0x00, 0x00]);
    let dap = (0x0600 + DAP) as u16;
    code.extend([0xBE]); //                         reloc: mov si, dap (DL = boot drive)
    code.extend(dap.to_le_bytes());
    code.extend([0xB4, 0x42]); //                   mov ah, 0x42     ; extended read
    code.extend([0xCD, 0x13]); //                   int 0x13
    code.extend([0x72, 0x05]); //                   jc fail
    code.extend([0xEA, 0x00, 0x7C, 0x00, 0x00]); // jmp 0000:7C00
    code.extend([0xCD, 0x18]); //                   fail: int 0x18   ; next boot device
    code.extend([0xF4]); //                         hlt
    code.extend([0xEB, 0xFD]); //                   jmp hlt
    code.resize(DAP, 0x90);
    code.extend([0x10, 0x00]); //                   DAP: size 16, reserved
    code.extend(sectors.to_le_bytes()); //          sectors to read
    code.extend([0x00, 0x7C, 0x00, 0x00]); //       buffer 0000:7C00
    code.extend(lba.to_le_bytes()); //              first sector
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let code = chainload_code(0x1234, 4);
        assert_eq!(code.len(), DAP + 16);
        // The far jump after the copy lands on `mov si, dap`.
        let jmp = code.iter().position(|&b| b == 0xEA).unwrap();
        let target = u16::from_le_bytes([code[jmp + 1], code[jmp + 2]]) as usize - 0x0600;
        assert_eq!(code[target], 0xBE);
        assert_eq!(
            u16::from_le_bytes([code[target + 1], code[target + 2]]) as usize,
            0x0600 + DAP
        );
        // jc skips exactly the 5-byte far jump to INT 18h.
        let jc = code.iter().position(|&b| b == 0x72).unwrap();
        assert_eq!(&code[jc + 2 + code[jc + 1] as usize..][..2], &[0xCD, 0x18]);
        assert_eq!(&code[DAP..DAP + 4], &[0x10, 0, 4, 0]);
        assert_eq!(&code[DAP + 8..], &0x1234u64.to_le_bytes());
    }
}
