//! The answer-file components for [`WindowsSettings`], by pass (docs/unattend.md#components).

use base64::Engine;

use super::xml::XmlElement;
use super::{AdapterSettings, Join, WCM_NS, WindowsSettings};

/// A password as Windows Setup expects it with `<PlainText>false</PlainText>`: base64 of the
/// UTF-16LE bytes of the password followed by the name of the element that holds it
/// (`AdministratorPassword`, `Password`). This hides the password from a casual reader; it
/// is not encryption.
pub fn encode_password(password: &str, element: &str) -> String {
    let bytes: Vec<u8> = format!("{password}{element}")
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn component(name: &str, settings: &WindowsSettings) -> XmlElement {
    XmlElement::new("component")
        .attr("name", name)
        .attr("processorArchitecture", &settings.architecture)
        .attr("publicKeyToken", "31bf3856ad364e35")
        .attr("language", "neutral")
        .attr("versionScope", "nonSxS")
        .attr("xmlns:wcm", WCM_NS)
        .attr("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance")
}

fn has_children(e: &XmlElement) -> bool {
    e.elements().next().is_some()
}

/// `(pass, component)` pairs for everything `settings` sets; components with nothing to
/// say are left out.
pub(super) fn components(s: &WindowsSettings) -> Vec<(&'static str, XmlElement)> {
    let mut out = Vec::new();

    let mut shell = component("Microsoft-Windows-Shell-Setup", s);
    let texts = [
        ("ComputerName", s.computer_name.as_deref()),
        ("RegisteredOwner", s.registered_owner.as_deref()),
        (
            "RegisteredOrganization",
            s.registered_organization.as_deref(),
        ),
        ("TimeZone", s.time_zone.as_deref()),
        ("ProductKey", s.product_key.as_ref().map(|k| k.expose())),
    ];
    for (name, value) in texts {
        if let Some(value) = value {
            shell = shell.text_child(name, value);
        }
    }
    if has_children(&shell) {
        out.push(("specialize", shell));
    }

    if let Some(join) = &s.join {
        let identification = match join {
            Join::Workgroup(name) => {
                XmlElement::new("Identification").text_child("JoinWorkgroup", name)
            }
            Join::Domain {
                domain,
                account,
                password,
                ou,
            } => {
                // `DOMAIN\user` splits into the credential's domain and user name; a UPN or a
                // bare name authenticates against the domain being joined.
                let (cred_domain, user) = match account.split_once('\\') {
                    Some((d, u)) => (d.to_string(), u.to_string()),
                    None => (domain.clone(), account.clone()),
                };
                let credentials = XmlElement::new("Credentials")
                    .text_child("Domain", &cred_domain)
                    .text_child("Username", &user)
                    .text_child("Password", password.expose());
                let mut id = XmlElement::new("Identification")
                    .child(credentials)
                    .text_child("JoinDomain", domain);
                if let Some(ou) = ou {
                    id = id.text_child("MachineObjectOU", ou);
                }
                id
            }
        };
        out.push((
            "specialize",
            component("Microsoft-Windows-UnattendedJoin", s).child(identification),
        ));
    }

    if !s.adapters.is_empty() {
        let interfaces = s
            .adapters
            .iter()
            .fold(XmlElement::new("Interfaces"), |acc, a| {
                acc.child(tcpip_interface(a))
            });
        out.push((
            "specialize",
            component("Microsoft-Windows-TCPIP", s).child(interfaces),
        ));
    }

    let mut dns = component("Microsoft-Windows-DNS-Client", s);
    if let Some(domain) = &s.dns_domain {
        dns = dns.text_child("DNSDomain", domain);
    }
    if !s.dns_suffix_search_order.is_empty() {
        dns = dns.child(keyed_list(
            "DNSSuffixSearchOrder",
            "DomainName",
            &s.dns_suffix_search_order,
        ));
    }
    let dns_interfaces: Vec<XmlElement> = s.adapters.iter().filter_map(dns_interface).collect();
    if !dns_interfaces.is_empty() {
        dns = dns.child(
            dns_interfaces
                .into_iter()
                .fold(XmlElement::new("Interfaces"), XmlElement::child),
        );
    }
    if has_children(&dns) {
        out.push(("specialize", dns));
    }

    if !s.run_synchronous.is_empty() {
        let commands = s.run_synchronous.iter().enumerate().fold(
            XmlElement::new("RunSynchronous"),
            |acc, (i, c)| {
                acc.child(
                    XmlElement::new("RunSynchronousCommand")
                        .attr("wcm:action", "add")
                        .text_child("Order", &(i + 1).to_string())
                        .text_child("Path", &c.path)
                        .text_child("Description", &c.description),
                )
            },
        );
        out.push((
            "specialize",
            component("Microsoft-Windows-Deployment", s).child(commands),
        ));
    }

    if let Some(password) = &s.admin_password {
        let admin = XmlElement::new("AdministratorPassword")
            .text_child(
                "Value",
                &encode_password(password.expose(), "AdministratorPassword"),
            )
            .text_child("PlainText", "false");
        out.push((
            "oobeSystem",
            component("Microsoft-Windows-Shell-Setup", s)
                .child(XmlElement::new("UserAccounts").child(admin)),
        ));
    }
    out
}

/// A list whose items carry `wcm:action="add"` and a 1-based `wcm:keyValue`.
fn keyed_list(name: &str, item: &str, values: &[String]) -> XmlElement {
    values
        .iter()
        .enumerate()
        .fold(XmlElement::new(name), |acc, (i, v)| {
            acc.child(
                XmlElement::new(item)
                    .attr("wcm:action", "add")
                    .attr("wcm:keyValue", &(i + 1).to_string())
                    .text(v),
            )
        })
}

fn tcpip_interface(a: &AdapterSettings) -> XmlElement {
    let mut iface = XmlElement::new("Interface").attr("wcm:action", "add");
    let mut ipv4 = XmlElement::new("Ipv4Settings")
        .text_child("DhcpEnabled", if a.dhcp { "true" } else { "false" });
    if !a.dhcp && a.gateways.is_empty() {
        ipv4 = ipv4.text_child("RouterDiscoveryEnabled", "false");
    }
    iface = iface.text_child("Identifier", &a.identifier).child(ipv4);
    if !a.dhcp {
        iface = iface.child(keyed_list("UnicastIpAddresses", "IpAddress", &a.addresses));
        if !a.gateways.is_empty() {
            let routes =
                a.gateways
                    .iter()
                    .enumerate()
                    .fold(XmlElement::new("Routes"), |acc, (i, gw)| {
                        acc.child(
                            XmlElement::new("Route")
                                .attr("wcm:action", "add")
                                .text_child("Identifier", &i.to_string())
                                .text_child("Prefix", "0.0.0.0/0")
                                .text_child("NextHopAddress", gw),
                        )
                    });
            iface = iface.child(routes);
        }
    }
    iface
}

fn dns_interface(a: &AdapterSettings) -> Option<XmlElement> {
    if a.dns_servers.is_empty() && a.dns_domain.is_none() {
        return None;
    }
    let mut iface = XmlElement::new("Interface")
        .attr("wcm:action", "add")
        .text_child("Identifier", &a.identifier);
    if !a.dns_servers.is_empty() {
        iface = iface.child(keyed_list(
            "DNSServerSearchOrder",
            "IpAddress",
            &a.dns_servers,
        ));
    }
    if let Some(domain) = &a.dns_domain {
        iface = iface.text_child("DNSDomain", domain);
    }
    Some(iface)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_encoding_matches_windows_sim() {
        // "P@ssw0rd" + "AdministratorPassword" in UTF-16LE, base64.
        let encoded = encode_password("P@ssw0rd", "AdministratorPassword");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&encoded)
            .expect("base64");
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        assert_eq!(
            String::from_utf16(&units).expect("utf-16"),
            "P@ssw0rdAdministratorPassword"
        );
        assert!(
            encoded.starts_with("UABAAHMAcwB3ADAAcgBkAEEAZABtAGkAbgBpAHMAdAByAGEAdABvAHIA"),
            "{encoded}"
        );
    }

    #[test]
    fn nothing_set_means_no_components() {
        assert!(components(&WindowsSettings::default()).is_empty());
    }
}
