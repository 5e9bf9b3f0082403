//! What runs when tsmedia PE starts: `/init` (a busybox shell script) mounts the kernel's file
//! systems, loads the drivers for the devices present (by modalias) and the file-system and
//! network modules every PE needs, then starts the runtime as the session and powers off or
//! reboots by its exit code. The boot loader configurations for BIOS (ISOLINUX) and UEFI (GRUB)
//! start the same kernel and initramfs with the consoles on screen and on the first serial port.

use std::collections::BTreeMap;

use crate::modules::ModInfo;

/// Where the runtime is in the initramfs.
pub const RUNTIME_PATH: &str = "sbin/tsmedia-runtime";

/// The kernel command line both boot loaders pass.
pub const KERNEL_ARGS: &str = "console=tty0 console=ttyS0,115200n8 quiet";

/// Device-bus prefixes of modalias patterns: a module with such an alias is loaded when a
/// device matches; the others (file systems, packet sockets) are loaded at every boot.
const BUS_PREFIXES: &[&str] = &[
    "pci:",
    "usb:",
    "virtio:",
    "scsi:",
    "acpi:",
    "hid:",
    "serio:",
    "mmc:",
    "sdio:",
    "pnp:",
    "platform:",
    "of:",
    "cpu:",
    "dmi:",
    "input:",
    "nvme:",
];

/// The modules loaded at every boot, one name a line.
pub fn always_load(order: &[String], infos: &BTreeMap<String, ModInfo>) -> String {
    order
        .iter()
        .filter(|m| {
            !infos.get(*m).is_some_and(|i| {
                i.aliases
                    .iter()
                    .any(|a| BUS_PREFIXES.iter().any(|p| a.starts_with(p)))
            })
        })
        .map(|m| format!("{m}\n"))
        .collect()
}

/// `/init`. The kernel starts it as process 1; it must never exit.
///
/// With `tsmedia.selftest` on the kernel command line it prints what it brought up and powers
/// off (the boot tests use it); otherwise it runs `tsmedia-runtime pe` and acts on its exit
/// code: 0 → power off, 6 (suspended for a restart) → reboot, anything else → the runtime has
/// shown its failure screen, so power off.
pub fn init_script() -> String {
    format!(
        r#"#!/bin/sh
# tsmedia PE /init: bring the machine up, then hand the console to the tsmedia runtime.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /run /tmp
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
kver=$(uname -r)
echo "tsmedia PE: kernel $kver"
# File systems and other modules no device asks for, then the drivers for the devices present,
# in rounds until a round loads nothing new (at most 6): a driver loaded in one round makes the
# devices behind it appear for the next (USB controller -> USB stick -> SCSI disk).
while read -r m; do modprobe -q "$m" 2>/dev/null; done < "/lib/modules/$kver/tsmedia.load"
before=0
for round in 1 2 3 4 5 6; do
  for alias in $(cat /sys/bus/*/devices/*/modalias 2>/dev/null | sort -u); do
    modprobe -q -b "$alias" 2>/dev/null
  done
  sleep 1
  now=$(wc -l < /proc/modules)
  [ "$now" = "$before" ] && break
  before=$now
done
loaded=$(wc -l < /proc/modules)
echo "tsmedia PE: $loaded modules loaded"
if grep -qw tsmedia.selftest /proc/cmdline; then
  firmware=BIOS
  [ -d /sys/firmware/efi ] && firmware=UEFI
  dmesg | grep -q 'Secure boot enabled' && firmware="$firmware, Secure Boot enforcing"
  echo "tsmedia PE: firmware $firmware"
  echo "tsmedia PE: modules: $(cut -d' ' -f1 /proc/modules | sort | tr '\n' ' ')"
  echo "tsmedia PE: runtime $(/{runtime} --version 2>&1)"
  echo "TSMEDIA-PE-SELFTEST-OK"
  sync
  poweroff -f
fi
/{runtime} pe
status=$?
sync
if [ "$status" = 6 ]; then reboot -f; fi
poweroff -f
"#,
        runtime = RUNTIME_PATH
    )
}

/// Where the DHCP client's script is (the runtime passes it to busybox `udhcpc -s`).
pub const UDHCPC_SCRIPT: &str = "etc/udhcpc.script";

/// The script busybox `udhcpc` runs with `deconfig`, `bound`, `renew` or `leasefail` and the
/// lease in its environment (`ip`, `mask` as a prefix length, `router`, `dns`): it sets the
/// interface's address, the default route and `/etc/resolv.conf`.
pub fn udhcpc_script() -> String {
    r#"#!/bin/sh
# tsmedia PE: apply a DHCP lease (called by busybox udhcpc).
case "$1" in
  deconfig)
    ip addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    for r in $router; do
      ip route replace default via "$r" dev "$interface"
      break
    done
    : > /etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
    ;;
esac
exit 0
"#
    .to_string()
}

/// GRUB's configuration (UEFI).
pub const GRUB_CFG: &str = "boot/grub/grub.cfg";
/// ISOLINUX's configuration (BIOS, CD/DVD).
pub const ISOLINUX_CFG: &str = "isolinux/isolinux.cfg";

/// The kernel command line argument that names the media the PE was started from: the
/// runtime looks for the medium whose `TsmBootstrap.ini` carries this media GUID.
pub const MEDIA_ARG: &str = "tsmedia.media";

/// `config` (a loader configuration, [`GRUB_CFG`] or [`ISOLINUX_CFG`]) with `args` appended
/// to each kernel command line (GRUB's `linux` lines, ISOLINUX's `APPEND` lines).
pub fn append_kernel_args(config: &str, args: &str) -> String {
    let mut out = String::with_capacity(config.len() + 2 * args.len());
    for line in config.split_inclusive('\n') {
        let (text, end) = match line.strip_suffix('\n') {
            Some(t) => (t, "\n"),
            None => (line, ""),
        };
        let word = text.split_whitespace().next().unwrap_or("");
        out.push_str(text);
        if word == "linux" || word.eq_ignore_ascii_case("append") {
            out.push(' ');
            out.push_str(args);
        }
        out.push_str(end);
    }
    out
}

/// The boot loader files: GRUB (UEFI; the signed GRUB finds the medium by `.disk/info` and
/// reads `boot/grub/grub.cfg`) and ISOLINUX (BIOS).
/// `extra_args` are appended to [`KERNEL_ARGS`].
pub fn loader_configs(extra_args: &[String]) -> Vec<(&'static str, String)> {
    let mut args = KERNEL_ARGS.to_string();
    for a in extra_args {
        args.push(' ');
        args.push_str(a);
    }
    vec![
        (".disk/info", "tsmedia PE\n".to_string()),
        (
            GRUB_CFG,
            format!(
                "set timeout=0\nset default=0\nmenuentry \"tsmedia PE\" {{\n  linux /boot/vmlinuz {args}\n  initrd /boot/initrd.gz\n}}\n"
            ),
        ),
        (
            ISOLINUX_CFG,
            format!(
                "SERIAL 0 115200\nDEFAULT tspe\nPROMPT 0\nTIMEOUT 0\nLABEL tspe\n  KERNEL /boot/vmlinuz\n  APPEND initrd=/boot/initrd.gz {args}\n"
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_args_go_on_every_kernel_line_of_both_loaders() {
        for (path, config) in loader_configs(&["x=1".into()]) {
            let with = append_kernel_args(&config, "tsmedia.media=ABC");
            if path == ".disk/info" {
                assert_eq!(with, config);
                continue;
            }
            let lines: Vec<&str> = with
                .lines()
                .filter(|l| l.contains("vmlinuz") && !l.contains("KERNEL") || l.contains("APPEND"))
                .collect();
            assert_eq!(lines.len(), 1, "{path}: {with}");
            assert!(
                lines[0].ends_with("x=1 tsmedia.media=ABC"),
                "{path}: {with}"
            );
            assert_eq!(with.lines().count(), config.lines().count());
        }
    }
}
