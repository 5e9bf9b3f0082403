//! The network of tsmedia PE: every wired interface up, an address from DHCP (busybox
//! `udhcpc`, whose script sets the address, the route and `/etc/resolv.conf`) on each, retried
//! with backoff until one has an address.

use std::path::Path;
use std::time::Duration;

use super::console::Console;
use super::devices;

/// Where tsmedia PE keeps the DHCP client's script (written by `tsmedia pe build`).
pub const UDHCPC_SCRIPT: &str = "/etc/udhcpc.script";

/// The interfaces to bring up: all but loopback and virtual ones.
pub fn interfaces(sys_net: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(sys_net)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n != "lo" && !n.starts_with("sit") && !n.starts_with("tunl"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Brings the network up; an error when no interface got an address after the retries.
pub fn bring_up(console: &Console, _run_dir: &Path) -> Result<(), String> {
    let _ = devices::run("ip", &["link", "set", "lo", "up"]);
    let ifaces = interfaces(Path::new("/sys/class/net"));
    if ifaces.is_empty() {
        return Err("no network adapter was found (is its driver in tsmedia PE?)".into());
    }
    let mut wait = Duration::from_secs(2);
    for round in 1..=4 {
        let mut up = Vec::new();
        for i in &ifaces {
            let _ = devices::run("ip", &["link", "set", i, "up"]);
            if devices::run(
                "udhcpc",
                &[
                    "-i",
                    i,
                    "-n",
                    "-q",
                    "-f",
                    "-t",
                    "4",
                    "-T",
                    "2",
                    "-s",
                    UDHCPC_SCRIPT,
                ],
            )
            .is_ok()
            {
                up.push(i.clone());
            }
        }
        if !up.is_empty() {
            console.say(&format!("tsmedia PE: network up on {}\n", up.join(", ")));
            return Ok(());
        }
        console.say(&format!(
            "tsmedia PE: no DHCP answer on {} (round {round} of 4); retrying in {} s\n",
            ifaces.join(", "),
            wait.as_secs()
        ));
        std::thread::sleep(wait);
        wait *= 2;
    }
    Err(format!(
        "no DHCP server answered on {} after 4 rounds",
        ifaces.join(", ")
    ))
}
