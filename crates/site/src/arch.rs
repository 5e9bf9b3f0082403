//! Processor architectures of boot images, OS images, packages and Unknown Computer records.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A processor architecture, as named in Configuration Manager (`x86`, `x64`, `arm64`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// 32-bit x86.
    X86,
    /// x86-64 (AMD64).
    X64,
    /// 64-bit ARM.
    Arm64,
}

impl Arch {
    /// All architectures, in the order Unknown Computer records are created.
    pub const ALL: [Arch; 3] = [Arch::X86, Arch::X64, Arch::Arm64];

    /// The name used in the database, the CLI and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Arch::X86 => "x86",
            Arch::X64 => "x64",
            Arch::Arm64 => "arm64",
        }
    }

    /// From the `WINDOWS/ARCH` value of a WIM's XML (PROCESSOR_ARCHITECTURE_*): 0 x86, 9 x64,
    /// 12 arm64. Other values (5 ARM, 6 IA-64) are not architectures tsmedia deploys.
    pub fn from_wim_code(code: u32) -> Option<Arch> {
        match code {
            0 => Some(Arch::X86),
            9 => Some(Arch::X64),
            12 => Some(Arch::Arm64),
            _ => None,
        }
    }

    /// The `WINDOWS/ARCH` value for this architecture.
    pub fn wim_code(self) -> u32 {
        match self {
            Arch::X86 => 0,
            Arch::X64 => 9,
            Arch::Arm64 => 12,
        }
    }

    /// Whether a computer of this architecture can start a boot image of `boot` architecture:
    /// an x64 computer boots x86 or x64 boot images, an x86 computer only x86 ones, an arm64
    /// computer only arm64 ones.
    pub fn boots(self, boot: Arch) -> bool {
        matches!(
            (self, boot),
            (Arch::X86, Arch::X86)
                | (Arch::X64, Arch::X86 | Arch::X64)
                | (Arch::Arm64, Arch::Arm64)
        )
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Arch {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "x86" | "i386" => Ok(Arch::X86),
            "x64" | "amd64" | "x86_64" => Ok(Arch::X64),
            "arm64" | "aarch64" => Ok(Arch::Arm64),
            _ => Err(Error::invalid(
                "architecture",
                format!("{s:?} (expected x86, x64 or arm64)"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wim_codes_round_trip() {
        for (code, arch) in [(0, Arch::X86), (9, Arch::X64), (12, Arch::Arm64)] {
            assert_eq!(Arch::from_wim_code(code), Some(arch));
            assert_eq!(arch.wim_code(), code);
            assert_eq!(arch.as_str().parse::<Arch>().unwrap(), arch);
        }
        assert_eq!(Arch::from_wim_code(5), None);
        assert_eq!(Arch::from_wim_code(6), None);
        assert!("mips".parse::<Arch>().is_err());
    }

    #[test]
    fn boot_compatibility_follows_the_wizard_rule() {
        let table = [
            (Arch::X86, Arch::X86, true),
            (Arch::X86, Arch::X64, false),
            (Arch::X64, Arch::X86, true),
            (Arch::X64, Arch::X64, true),
            (Arch::X64, Arch::Arm64, false),
            (Arch::Arm64, Arch::Arm64, true),
            (Arch::Arm64, Arch::X64, false),
        ];
        for (computer, boot, ok) in table {
            assert_eq!(computer.boots(boot), ok, "{computer} booting {boot}");
        }
    }
}
