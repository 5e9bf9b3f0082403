//! [`WindowsSettings`] from the task sequence variables Configuration Manager's Apply Windows
//! Settings and Apply Network Settings steps read (docs/unattend.md#task-sequence-variables).

use super::{AdapterSettings, Join, UnattendError, WindowsSettings};
use crate::secret::Secret;

/// Builds the settings from a variable lookup (`|name| env.get(name)`); empty values count
/// as unset. Lists (`OSDAdapter0IPAddressList`…) are comma-separated.
pub fn settings_from_variables(
    get: impl Fn(&str) -> Option<String>,
) -> Result<WindowsSettings, UnattendError> {
    let var = |name: &str| {
        get(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let list = |name: &str| var(name).map(|v| split_list(&v)).unwrap_or_default();
    let bad = |name: &str, reason: String| UnattendError::Variable {
        name: name.to_string(),
        reason,
    };

    let mut s = WindowsSettings {
        computer_name: var("OSDComputerName"),
        registered_owner: var("OSDRegisteredUserName"),
        registered_organization: var("OSDRegisteredOrgName"),
        time_zone: var("OSDTimeZone"),
        product_key: var("OSDProductKey").map(Secret::new),
        admin_password: var("OSDLocalAdminPassword").map(Secret::new),
        dns_domain: var("OSDDNSDomain"),
        dns_suffix_search_order: list("OSDDNSSuffixSearchOrder"),
        ..WindowsSettings::default()
    };
    if let Some(arch) = var("_SMSTSOSArchitecture").or_else(|| var("PROCESSOR_ARCHITECTURE")) {
        s.architecture = match arch.to_ascii_lowercase().as_str() {
            "x86" | "i386" => "x86".into(),
            "arm64" | "aarch64" => "arm64".into(),
            _ => "amd64".into(),
        };
    }

    // OSDJoinType: 0 joins a domain, 1 a workgroup. Without it, whichever name is set decides.
    let join_type = var("OSDJoinType");
    let domain = var("OSDDomainName");
    let workgroup = var("OSDWorkgroupName");
    s.join = match (join_type.as_deref(), domain, workgroup) {
        (Some("1"), _, Some(wg)) | (None, None, Some(wg)) => Some(Join::Workgroup(wg)),
        (Some("1"), _, None) => {
            return Err(bad(
                "OSDWorkgroupName",
                "OSDJoinType is 1 (workgroup) but no workgroup is named".into(),
            ));
        }
        (Some("0") | None, Some(domain), _) => {
            let account = var("OSDJoinAccount").ok_or_else(|| {
                bad(
                    "OSDJoinAccount",
                    format!("joining {domain} needs an account"),
                )
            })?;
            let password = var("OSDJoinPassword").ok_or_else(|| {
                bad(
                    "OSDJoinPassword",
                    format!("joining {domain} needs the account's password"),
                )
            })?;
            Some(Join::Domain {
                domain,
                account,
                password: Secret::new(password),
                ou: var("OSDDomainOUName"),
            })
        }
        (Some("0"), None, _) => {
            return Err(bad(
                "OSDDomainName",
                "OSDJoinType is 0 (domain) but no domain is named".into(),
            ));
        }
        (Some(other), _, _) if other != "0" && other != "1" => {
            return Err(bad(
                "OSDJoinType",
                format!("{other:?} is neither 0 (domain) nor 1 (workgroup)"),
            ));
        }
        _ => None,
    };

    let count = match var("OSDAdapterCount") {
        Some(n) => n
            .parse::<usize>()
            .map_err(|_| bad("OSDAdapterCount", format!("{n:?} is not a number")))?,
        None => 0,
    };
    for i in 0..count.min(64) {
        let name = |field: &str| format!("OSDAdapter{i}{field}");
        let dhcp = match var(&name("EnableDHCP")).map(|v| v.to_ascii_lowercase()) {
            None => true,
            Some(v) if v == "true" || v == "1" => true,
            Some(v) if v == "false" || v == "0" => false,
            Some(v) => {
                return Err(bad(
                    &name("EnableDHCP"),
                    format!("{v:?} is not true or false"),
                ));
            }
        };
        let identifier = var(&name("MacAddress"))
            .map(|mac| mac.replace(':', "-").to_ascii_uppercase())
            .or_else(|| var(&name("Name")))
            .ok_or_else(|| {
                bad(
                    &name("MacAddress"),
                    "an adapter needs its MAC address or name".into(),
                )
            })?;
        let ips = list(&name("IPAddressList"));
        let masks = list(&name("SubnetMask"));
        if !dhcp && ips.is_empty() {
            return Err(bad(
                &name("IPAddressList"),
                "a static adapter needs an IP address".into(),
            ));
        }
        let mut addresses = Vec::new();
        for (k, ip) in ips.iter().enumerate() {
            let mask = masks
                .get(k)
                .or(masks.last())
                .ok_or_else(|| bad(&name("SubnetMask"), format!("no subnet mask for {ip}")))?;
            let prefix = prefix_length(mask).ok_or_else(|| {
                bad(
                    &name("SubnetMask"),
                    format!("{mask:?} is not a subnet mask"),
                )
            })?;
            addresses.push(format!("{ip}/{prefix}"));
        }
        s.adapters.push(AdapterSettings {
            identifier,
            dhcp,
            addresses,
            gateways: list(&name("Gateways")),
            dns_servers: list(&name("DNSServerList")),
            dns_domain: var(&name("DNSDomain")),
        });
    }
    Ok(s)
}

fn split_list(value: &str) -> Vec<String> {
    value
        .split([',', ';'])
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
        .collect()
}

/// `255.255.255.0` → 24; a prefix length given as is (`24`) is accepted too.
fn prefix_length(mask: &str) -> Option<u32> {
    if let Ok(n) = mask.parse::<u32>() {
        return (n <= 32).then_some(n);
    }
    let addr: std::net::Ipv4Addr = mask.parse().ok()?;
    let bits = u32::from(addr);
    let ones = bits.leading_ones();
    (bits.checked_shl(ones).unwrap_or(0) == 0).then_some(ones)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<WindowsSettings, UnattendError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        settings_from_variables(|n| map.get(n).cloned())
    }

    #[test]
    fn masks_to_prefixes() {
        for (mask, prefix) in [
            ("255.255.255.0", Some(24)),
            ("255.255.0.0", Some(16)),
            ("255.255.255.255", Some(32)),
            ("0.0.0.0", Some(0)),
            ("255.0.255.0", None),
            ("22", Some(22)),
            ("x", None),
        ] {
            assert_eq!(prefix_length(mask), prefix, "{mask}");
        }
    }

    #[test]
    fn join_rules() {
        assert_eq!(
            from(&[("OSDJoinType", "1"), ("OSDWorkgroupName", "LAB")])
                .expect("wg")
                .join,
            Some(Join::Workgroup("LAB".into()))
        );
        let err = from(&[
            ("OSDJoinType", "0"),
            ("OSDDomainName", "contoso.com"),
            ("OSDJoinAccount", "CONTOSO\\j"),
        ])
        .expect_err("no password");
        assert!(err.to_string().contains("OSDJoinPassword"), "{err}");
        assert!(from(&[("OSDJoinType", "2")]).is_err());
        assert!(from(&[("OSDJoinType", "0")]).is_err());
        assert_eq!(from(&[]).expect("nothing").join, None);
    }

    #[test]
    fn bad_adapter_values_name_the_variable() {
        let err = from(&[
            ("OSDAdapterCount", "1"),
            ("OSDAdapter0EnableDHCP", "false"),
            ("OSDAdapter0MacAddress", "00:11:22:33:44:55"),
            ("OSDAdapter0IPAddressList", "10.0.0.5"),
            ("OSDAdapter0SubnetMask", "255.0.255.0"),
        ])
        .expect_err("bad mask");
        assert!(err.to_string().contains("OSDAdapter0SubnetMask"), "{err}");
        let err = from(&[("OSDAdapterCount", "one")]).expect_err("bad count");
        assert!(err.to_string().contains("OSDAdapterCount"), "{err}");
    }
}
