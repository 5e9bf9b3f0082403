//! Tiny boot payloads that prove media boot without any Windows binary.
//!
//! Real `etfsboot.com` and `efisys.bin` cannot be shipped, so tests boot these instead under
//! QEMU (SeaBIOS and OVMF). Both print a marker and then power the virtual machine off, so a
//! test sees the marker on the serial console and QEMU's exit status:
//!
//! - [`bios_boot_image`]: a 2048-byte El Torito no-emulation boot image (x86 real mode). It
//!   writes the marker to COM1 and then a value to QEMU's `isa-debug-exit` port 0xF4, so QEMU
//!   (started with `-device isa-debug-exit,iobase=0xf4,iosize=0x04`) exits with
//!   `(value << 1) | 1`.
//! - [`uefi_boot_app`]: a 1 KiB PE32+ EFI application that calls
//!   `ConOut->OutputString(marker)` and `RuntimeServices->ResetSystem(EfiResetShutdown)`.
//!
//! The machine code is hand-assembled here, one instruction per line with its mnemonic, so no
//! assembler is needed at build time.

/// Size of the BIOS boot image: one CD sector.
pub const BIOS_IMAGE_SIZE: usize = 2048;

/// Offset of the ISOLINUX hybrid signature in the BIOS image.
pub const HYBRID_SIGNATURE_OFFSET: usize = 0x40;

/// The ISOLINUX hybrid signature. An isohybrid-style MBR checks for it at offset 0x40 of the
/// boot file it loaded and then jumps to offset 0x44, the hybrid entry point.
pub const HYBRID_SIGNATURE: u32 = 0x7078_c0fb;

/// Offset of the common entry code in the BIOS image (the hybrid entry point).
const BIOS_ENTRY: usize = HYBRID_SIGNATURE_OFFSET + 4;

/// Longest marker (in bytes) that [`bios_boot_image`] keeps; longer markers are cut.
pub const BIOS_MARKER_MAX: usize = 1024;

/// Longest marker (in UTF-16 code units) that [`uefi_boot_app`] keeps; longer markers are cut.
pub const UEFI_MARKER_MAX: usize = 200;

/// Builds a 2048-byte El Torito no-emulation boot image (load it with 4 sectors at 0x7C00).
///
/// It prints `marker` followed by CR LF to COM1 (port 0x3F8) and writes `exit_value` to port
/// 0xF4, then halts. The code is position independent (it finds its own address with
/// `call`/`pop`), so it runs whether the BIOS enters it at 0000:7C00 or 07C0:0000, and the ISOLINUX
/// hybrid signature at 0x40 lets a hybrid MBR chain to the same code at offset 0x44.
/// Markers longer than [`BIOS_MARKER_MAX`] bytes are cut to that length.
pub fn bios_boot_image(marker: &str, exit_value: u8) -> Vec<u8> {
    let mut img = vec![0u8; BIOS_IMAGE_SIZE];
    // Offset 0: jump over the (unused) boot information table area and the signature.
    // jmp short BIOS_ENTRY  (EB rel8; rel8 counts from the end of this 2-byte instruction)
    img[0] = 0xEB;
    img[1] = (BIOS_ENTRY - 2) as u8;
    img[HYBRID_SIGNATURE_OFFSET..BIOS_ENTRY].copy_from_slice(&HYBRID_SIGNATURE.to_le_bytes());

    // `here` is the offset of the `pop si` instruction; the message starts at `msg`.
    let mut code: Vec<u8> = Vec::new();
    code.extend([0xFA]); //                 cli
    code.extend([0xFC]); //                 cld                  ; lodsb counts up
    code.extend([0xE8, 0x00, 0x00]); //     call here            ; pushes the address of `here`
    let here = BIOS_ENTRY + code.len();
    code.extend([0x5E]); //                 here: pop si         ; si = offset of `here` in cs
    code.extend([0x0E]); //                 push cs
    code.extend([0x1F]); //                 pop ds               ; ds = cs
    code.extend([0x81, 0xC6, 0x00, 0x00]); // add si, msg - here  (imm16 patched below)
    let add_imm = BIOS_ENTRY + code.len() - 2;
    code.extend([0xBA, 0xF8, 0x03]); //     mov dx, 0x3F8        ; COM1 data register
    let lp = code.len();
    code.extend([0xAC]); //                 lp: lodsb            ; al = [ds:si++]
    code.extend([0x84, 0xC0]); //           test al, al
    code.extend([0x74, 0x03]); //           jz done              ; NUL ends the message
    code.extend([0xEE]); //                 out dx, al           ; QEMU's UART takes raw writes
    let back = lp as isize - (code.len() as isize + 2);
    code.extend([0xEB, back as i8 as u8]); // jmp lp
    code.extend([0xB0, exit_value]); //     done: mov al, exit_value
    code.extend([0xE6, 0xF4]); //           out 0xF4, al         ; isa-debug-exit: QEMU quits
    code.extend([0xF4]); //                 hang: hlt            ; only without isa-debug-exit
    code.extend([0xEB, 0xFD]); //           jmp hang
    let msg = BIOS_ENTRY + code.len();
    img[BIOS_ENTRY..msg].copy_from_slice(&code);
    let delta = (msg - here) as u16;
    img[add_imm..add_imm + 2].copy_from_slice(&delta.to_le_bytes());

    let text = truncate_utf8(marker, BIOS_MARKER_MAX);
    for (at, &b) in (msg..).zip(text.as_bytes().iter().chain(b"\r\n")) {
        // A NUL inside the marker would end the message early; print it as a space.
        img[at] = if b == 0 { b' ' } else { b };
    }
    // img[at] is already 0: the terminator.
    img
}

fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

// PE32+ layout of the EFI application: headers in the first 0x200 bytes of the file, the
// single `.text` section (code then UCS-2 message) in the next 0x200, mapped at RVA 0x1000.
const PE_OFFSET: usize = 0x40;
const FILE_ALIGNMENT: u32 = 0x200;
const SECTION_ALIGNMENT: u32 = 0x1000;
const TEXT_RVA: u32 = 0x1000;
const TEXT_FILE_OFFSET: usize = 0x200;
const TEXT_SIZE: usize = 0x200;
const OPTIONAL_HEADER_SIZE: u16 = 240;

/// `IMAGE_FILE_MACHINE_AMD64`.
pub const PE_MACHINE_X86_64: u16 = 0x8664;
/// `IMAGE_SUBSYSTEM_EFI_APPLICATION`.
pub const PE_SUBSYSTEM_EFI_APPLICATION: u16 = 10;

/// Builds a 1 KiB PE32+ EFI application for x86-64 that prints `marker` (then CR LF) with
/// `SystemTable->ConOut->OutputString` and powers off with
/// `SystemTable->RuntimeServices->ResetSystem(EfiResetShutdown, EFI_SUCCESS, 0, NULL)`.
///
/// One `.text` section, RIP-relative code, no relocations (the image runs at any address).
/// Place it as `EFI/BOOT/BOOTX64.EFI` on a FAT file system. Characters outside the Basic
/// Multilingual Plane are printed as `?` (UEFI strings are UCS-2); markers longer than
/// [`UEFI_MARKER_MAX`] code units are cut.
pub fn uefi_boot_app(marker: &str) -> Vec<u8> {
    let text = uefi_text(marker);
    let mut f = vec![0u8; TEXT_FILE_OFFSET + TEXT_SIZE];

    // DOS header: "MZ" and e_lfanew (offset of the PE signature) at 0x3C.
    f[0..2].copy_from_slice(b"MZ");
    put32(&mut f, 0x3C, PE_OFFSET as u32);

    // PE signature and COFF file header.
    let coff = PE_OFFSET + 4;
    f[PE_OFFSET..coff].copy_from_slice(b"PE\0\0");
    put16(&mut f, coff, PE_MACHINE_X86_64); // Machine
    put16(&mut f, coff + 2, 1); // NumberOfSections
    // TimeDateStamp, PointerToSymbolTable, NumberOfSymbols: 0 (reproducible).
    put16(&mut f, coff + 16, OPTIONAL_HEADER_SIZE); // SizeOfOptionalHeader
    // Characteristics: EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE. RELOCS_STRIPPED stays clear:
    // EDK2 refuses a stripped image that it cannot load at its preferred base.
    put16(&mut f, coff + 18, 0x0022);

    // Optional header (PE32+).
    let opt = coff + 20;
    put16(&mut f, opt, 0x020B); // Magic: PE32+
    put32(&mut f, opt + 4, TEXT_SIZE as u32); // SizeOfCode
    put32(&mut f, opt + 16, TEXT_RVA); // AddressOfEntryPoint: start of .text
    put32(&mut f, opt + 20, TEXT_RVA); // BaseOfCode
    put64(&mut f, opt + 24, 0x1_0000_0000); // ImageBase (any: the code is position independent)
    put32(&mut f, opt + 32, SECTION_ALIGNMENT);
    put32(&mut f, opt + 36, FILE_ALIGNMENT);
    put16(&mut f, opt + 48, 1); // MajorSubsystemVersion
    put32(&mut f, opt + 56, TEXT_RVA + SECTION_ALIGNMENT); // SizeOfImage
    put32(&mut f, opt + 60, TEXT_FILE_OFFSET as u32); // SizeOfHeaders
    put16(&mut f, opt + 68, PE_SUBSYSTEM_EFI_APPLICATION); // Subsystem
    put64(&mut f, opt + 72, 0x10000); // SizeOfStackReserve
    put64(&mut f, opt + 80, 0x10000); // SizeOfStackCommit
    put64(&mut f, opt + 88, 0x10000); // SizeOfHeapReserve
    put64(&mut f, opt + 96, 0x10000); // SizeOfHeapCommit
    put32(&mut f, opt + 108, 16); // NumberOfRvaAndSizes; all 16 data directories empty

    // Section table: one `.text` section.
    let sec = opt + OPTIONAL_HEADER_SIZE as usize;
    f[sec..sec + 8].copy_from_slice(b".text\0\0\0");
    put32(&mut f, sec + 8, TEXT_SIZE as u32); // VirtualSize
    put32(&mut f, sec + 12, TEXT_RVA); // VirtualAddress
    put32(&mut f, sec + 16, TEXT_SIZE as u32); // SizeOfRawData
    put32(&mut f, sec + 20, TEXT_FILE_OFFSET as u32); // PointerToRawData
    put32(&mut f, sec + 36, 0x6000_0020); // CNT_CODE | MEM_EXECUTE | MEM_READ

    // Code. Microsoft x64 ABI: efi_main(ImageHandle = rcx, SystemTable = rdx).
    // EFI_SYSTEM_TABLE: ConOut at +0x40, RuntimeServices at +0x58.
    // EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL: OutputString at +0x08.
    // EFI_RUNTIME_SERVICES: ResetSystem at +0x68.
    let mut code: Vec<u8> = Vec::new();
    code.extend([0x53]); //                   push rbx             ; rsp is now 16-byte aligned
    code.extend([0x48, 0x83, 0xEC, 0x20]); // sub rsp, 0x20        ; shadow space for callees
    code.extend([0x48, 0x89, 0xD3]); //       mov rbx, rdx         ; rbx = SystemTable
    code.extend([0x48, 0x8B, 0x4B, 0x40]); // mov rcx, [rbx+0x40]  ; rcx = ConOut (This)
    code.extend([0x48, 0x8D, 0x15, 0, 0, 0, 0]); // lea rdx, [rip+msg] (disp32 patched below)
    let lea_end = code.len();
    code.extend([0xFF, 0x51, 0x08]); //       call [rcx+0x08]      ; ConOut->OutputString
    code.extend([0x48, 0x8B, 0x43, 0x58]); // mov rax, [rbx+0x58]  ; rax = RuntimeServices
    code.extend([0xB9, 0x02, 0, 0, 0]); //    mov ecx, 2           ; EfiResetShutdown
    code.extend([0x31, 0xD2]); //             xor edx, edx         ; ResetStatus = EFI_SUCCESS
    code.extend([0x45, 0x31, 0xC0]); //       xor r8d, r8d         ; DataSize = 0
    code.extend([0x45, 0x31, 0xC9]); //       xor r9d, r9d         ; ResetData = NULL
    code.extend([0xFF, 0x50, 0x68]); //       call [rax+0x68]      ; ResetSystem (no return)
    code.extend([0xEB, 0xFE]); //             hang: jmp hang
    while !code.len().is_multiple_of(2) {
        code.push(0xCC); //                   int3 padding before the UCS-2 message
    }
    let msg = code.len();
    let disp = (msg - lea_end) as u32;
    code[lea_end - 4..lea_end].copy_from_slice(&disp.to_le_bytes());
    for unit in text {
        code.extend(unit.to_le_bytes());
    }
    code.extend([0, 0]); // NUL terminator
    f[TEXT_FILE_OFFSET..TEXT_FILE_OFFSET + code.len()].copy_from_slice(&code);
    f
}

/// The marker as UCS-2 code units followed by CR LF, cut to [`UEFI_MARKER_MAX`].
fn uefi_text(marker: &str) -> Vec<u16> {
    let mut units: Vec<u16> = marker
        .chars()
        .map(|c| match u16::try_from(u32::from(c)) {
            Ok(0) => u16::from(b' '),
            Ok(u) => u,
            Err(_) => u16::from(b'?'),
        })
        .take(UEFI_MARKER_MAX)
        .collect();
    units.extend([u16::from(b'\r'), u16::from(b'\n')]);
    units
}

fn put16(buf: &mut [u8], at: usize, v: u16) {
    buf[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(buf: &mut [u8], at: usize, v: u32) {
    buf[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put64(buf: &mut [u8], at: usize, v: u64) {
    buf[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use object::LittleEndian as LE;
    use object::pe;
    use object::read::pe::{ImageNtHeaders, ImageOptionalHeader, PeFile64};

    #[test]
    fn bios_image_layout() {
        let img = bios_boot_image("HELLO", 16);
        assert_eq!(img.len(), 2048);
        assert_eq!(img[0], 0xEB);
        assert_eq!(2 + img[1] as usize, BIOS_ENTRY);
        assert_eq!(
            u32::from_le_bytes(img[0x40..0x44].try_into().unwrap()),
            0x7078_c0fb
        );
        // The exit value follows `mov al,` and precedes `out 0xF4, al`.
        let pos = img.windows(4).position(|w| w == [0xB0, 16, 0xE6, 0xF4]);
        assert!(pos.is_some());
        let msg = img.windows(7).position(|w| w == b"HELLO\r\n").unwrap();
        assert_eq!(img[msg + 7], 0);
        // The `add si, imm16` must point at the message relative to `pop si`.
        let add = img.windows(2).position(|w| w == [0x81, 0xC6]).unwrap();
        let imm = u16::from_le_bytes([img[add + 2], img[add + 3]]) as usize;
        let pop = img.iter().position(|&b| b == 0x5E).unwrap();
        assert_eq!(pop + imm, msg);
    }

    #[test]
    fn bios_image_cuts_long_marker_on_char_boundary() {
        let long = "é".repeat(BIOS_MARKER_MAX); // 2 bytes each
        let img = bios_boot_image(&long, 1);
        assert_eq!(img.len(), 2048);
        let text_start = img.windows(2).position(|w| w == "é".as_bytes()).unwrap();
        let end = img[text_start..].iter().position(|&b| b == 0).unwrap();
        let printed = std::str::from_utf8(&img[text_start..text_start + end]).unwrap();
        assert_eq!(printed.len(), BIOS_MARKER_MAX + 2);
        assert!(printed.ends_with("\r\n"));
    }

    #[test]
    fn uefi_app_pe_headers() {
        let app = uefi_boot_app("tsmedia-uefi-ok");
        assert_eq!(app.len(), 1024);
        let pe = PeFile64::parse(&*app).expect("valid PE32+");
        let nt = pe.nt_headers();
        let fh = nt.file_header();
        assert_eq!(fh.machine.get(LE), pe::IMAGE_FILE_MACHINE_AMD64);
        assert_eq!(fh.number_of_sections.get(LE), 1);
        assert_eq!(u16::from_le_bytes([app[0x56], app[0x57]]), 0x0022); // no RELOCS_STRIPPED
        assert_eq!(
            fh.characteristics.get(LE),
            pe::IMAGE_FILE_EXECUTABLE_IMAGE | pe::IMAGE_FILE_LARGE_ADDRESS_AWARE
        );
        let oh = nt.optional_header();
        assert_eq!(oh.magic(), pe::IMAGE_NT_OPTIONAL_HDR64_MAGIC);
        assert_eq!(oh.subsystem(), pe::IMAGE_SUBSYSTEM_EFI_APPLICATION);
        assert_eq!(oh.address_of_entry_point(), 0x1000);
        assert_eq!(oh.size_of_image(), 0x2000);
        assert_eq!(oh.size_of_headers(), 0x200);
        assert_eq!(oh.number_of_rva_and_sizes(), 16);
        let dirs = pe.data_directories();
        assert!(
            dirs.iter()
                .all(|d| d.virtual_address.get(LE) == 0 && d.size.get(LE) == 0)
        );
        let secs: Vec<_> = pe.section_table().iter().collect();
        assert_eq!(secs.len(), 1);
        assert_eq!(&secs[0].name, b".text\0\0\0");
        assert_eq!(secs[0].virtual_address.get(LE), 0x1000);
        assert_eq!(secs[0].pointer_to_raw_data.get(LE), 0x200);
        assert_eq!(
            secs[0].characteristics.get(LE),
            pe::IMAGE_SCN_CNT_CODE | pe::IMAGE_SCN_MEM_EXECUTE | pe::IMAGE_SCN_MEM_READ
        );
    }

    #[test]
    fn uefi_app_message_is_where_lea_points() {
        let app = uefi_boot_app("Ab");
        let text = &app[0x200..];
        let lea = text
            .windows(3)
            .position(|w| w == [0x48, 0x8D, 0x15])
            .unwrap();
        let disp = i32::from_le_bytes(text[lea + 3..lea + 7].try_into().unwrap()) as usize;
        let msg = lea + 7 + disp;
        let expect: Vec<u8> = "Ab\r\n\0"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert_eq!(&text[msg..msg + expect.len()], &expect[..]);
    }

    #[test]
    fn uefi_text_replaces_astral_and_nul() {
        let t = uefi_text("a\0😀");
        assert_eq!(t, vec![0x61, 0x20, 0x3F, 0x0D, 0x0A]);
        assert_eq!(uefi_text(&"x".repeat(500)).len(), UEFI_MARKER_MAX + 2);
    }
}
