//! The Debian packages tsmedia PE is made of, found by name in a folder of `.deb` files, and
//! what each contributes (see `docs/tsmedia-pe.md`, "Packages").

use std::collections::BTreeMap;
use std::path::Path;

use crate::deb::Deb;
use crate::error::{Error, Result};

/// How to fetch the packages, printed when one is missing.
pub const FETCH_HINT: &str = "download them with `scripts/fetch-pe-debs.sh DIR` \
     (apt-get download of linux-image-amd64's kernel, busybox-static, shim-signed, \
     shim-helpers-amd64-signed, grub-efi-amd64-signed, isolinux, syslinux-common, libc6, libgcc-s1, \
     ntfs-3g, libntfs-3g89)";

/// One role a package plays in the PE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// The signed kernel and its modules (`linux-image-<version>-amd64`).
    Kernel,
    /// The shell and tools for scripts and Run Command Line steps.
    Busybox,
    /// Microsoft-signed shim, first stage under UEFI Secure Boot.
    Shim,
    /// MokManager, which shim starts when a key must be enrolled.
    ShimHelpers,
    /// Debian-signed GRUB for removable media.
    Grub,
    /// ISOLINUX, the BIOS boot loader of CDs and hybrid USB images.
    Isolinux,
    /// ISOLINUX's core module `ldlinux.c32`.
    Syslinux,
    /// The C library the runtime is linked against.
    Libc,
    /// The GCC runtime library (unwinding) the runtime is linked against.
    Libgcc,
    /// NTFS-3G's FUSE driver `ntfs-3g` and `mkntfs`, which write the Windows volume.
    Ntfs3g,
    /// The NTFS library both NTFS-3G programs are linked against (they need only it and libc).
    LibNtfs3g,
}

impl Role {
    /// Every role, in build order.
    pub const ALL: [Role; 11] = [
        Role::Kernel,
        Role::Busybox,
        Role::Shim,
        Role::ShimHelpers,
        Role::Grub,
        Role::Isolinux,
        Role::Syslinux,
        Role::Libc,
        Role::Libgcc,
        Role::Ntfs3g,
        Role::LibNtfs3g,
    ];

    /// Whether a package name plays this role.
    fn matches(self, name: &str) -> bool {
        match self {
            // `linux-image-6.1.0-57-amd64`: a versioned kernel build, of any architecture so
            // that one for another architecture is refused by name rather than missed. The
            // `-unsigned` and `-dbg` builds and the `linux-image-amd64` meta package do not match.
            Role::Kernel => name.strip_prefix("linux-image-").is_some_and(|rest| {
                rest.starts_with(|c: char| c.is_ascii_digit())
                    && !rest.ends_with("-unsigned")
                    && !rest.ends_with("-dbg")
            }),
            Role::Busybox => name == "busybox-static",
            Role::Shim => name == "shim-signed",
            Role::ShimHelpers => name == "shim-helpers-amd64-signed",
            Role::Grub => name == "grub-efi-amd64-signed",
            Role::Isolinux => name == "isolinux",
            Role::Syslinux => name == "syslinux-common",
            Role::Libc => name == "libc6",
            Role::Libgcc => name == "libgcc-s1",
            Role::Ntfs3g => name == "ntfs-3g",
            Role::LibNtfs3g => name == "libntfs-3g89",
        }
    }

    /// The package name as a user would ask apt for it.
    pub fn package_hint(self) -> &'static str {
        match self {
            Role::Kernel => "linux-image-<version>-amd64 (signed kernel)",
            Role::Busybox => "busybox-static",
            Role::Shim => "shim-signed",
            Role::ShimHelpers => "shim-helpers-amd64-signed",
            Role::Grub => "grub-efi-amd64-signed",
            Role::Isolinux => "isolinux",
            Role::Syslinux => "syslinux-common",
            Role::Libc => "libc6",
            Role::Libgcc => "libgcc-s1",
            Role::Ntfs3g => "ntfs-3g",
            Role::LibNtfs3g => "libntfs-3g89",
        }
    }

    /// Architectures whose packages fit an amd64 PE (`all` for data-only packages).
    fn fits(self, arch: &str) -> bool {
        arch == "amd64" || arch == "all"
    }
}

/// The packages found for every role.
#[derive(Debug, Clone)]
pub struct PackageSet {
    /// One package per role.
    pub by_role: BTreeMap<Role, Deb>,
}

impl PackageSet {
    /// Opens every `.deb` in `folder` and picks one per role. Refuses a folder missing a role,
    /// two packages for one role, or a package for another architecture.
    pub fn find(folder: &Path) -> Result<PackageSet> {
        let entries = std::fs::read_dir(folder).map_err(|e| Error::io(folder, e))?;
        let mut files: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "deb"))
            .collect();
        files.sort();
        let mut by_role: BTreeMap<Role, Deb> = BTreeMap::new();
        for path in files {
            let deb = Deb::open(&path)?;
            let Some(role) = Role::ALL.into_iter().find(|r| r.matches(&deb.package)) else {
                continue; // other packages may share the folder
            };
            if !role.fits(&deb.architecture) {
                return Err(Error::WrongArchitecture {
                    path: deb.path.clone(),
                    package: deb.package.clone(),
                    found: deb.architecture.clone(),
                    wanted: "amd64".into(),
                });
            }
            if let Some(other) = by_role.get(&role) {
                return Err(Error::Deb {
                    path: path.clone(),
                    reason: format!(
                        "a second {} package ({} {}; {} {} is in {}): keep one",
                        role.package_hint(),
                        deb.package,
                        deb.version,
                        other.package,
                        other.version,
                        other.path.display()
                    ),
                });
            }
            by_role.insert(role, deb);
        }
        for role in Role::ALL {
            if !by_role.contains_key(&role) {
                return Err(Error::MissingPackage {
                    folder: folder.to_path_buf(),
                    what: role.package_hint().to_string(),
                    hint: FETCH_HINT.to_string(),
                });
            }
        }
        Ok(PackageSet { by_role })
    }

    /// The package of a role (every role is present once `find` succeeded).
    pub fn get(&self, role: Role) -> &Deb {
        &self.by_role[&role]
    }
}

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn only_the_signed_versioned_kernel_package_is_the_kernel() {
        assert!(Role::Kernel.matches("linux-image-6.1.0-57-amd64"));
        assert!(!Role::Kernel.matches("linux-image-6.1.0-57-amd64-unsigned"));
        assert!(!Role::Kernel.matches("linux-image-amd64"));
        assert!(!Role::Kernel.matches("linux-image-6.1.0-57-cloud-amd64-dbg"));
        assert!(!Role::Kernel.matches("linux-image-rt-amd64"));
        // Another architecture's kernel is recognised, then refused for its architecture.
        assert!(Role::Kernel.matches("linux-image-6.1.0-57-arm64"));
    }
}
