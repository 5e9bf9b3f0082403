//! The answer file parsed back with a namespace-aware XML reader: every setting from the task
//! sequence variables is where Windows Setup looks for it, the Administrator password is
//! encoded, secrets never print, and an image's own answer file is merged, not replaced.

use std::collections::HashMap;

use base64::Engine;
use roxmltree::{Document, Node};
use tsmedia_winboot::unattend::{UNATTEND_NS, WCM_NS, settings_from_variables, write_answer_file};
use tsmedia_winboot::{WindowsSettings, answer_file};

const ADMIN_PASSWORD: &str = "Adm1n-P@ss<&>";
const JOIN_PASSWORD: &str = "J0in-S3cret";
const PRODUCT_KEY: &str = "VK7JG-NPHTM-C97JM-9MPGT-3V66T";

fn variables() -> HashMap<String, String> {
    [
        ("OSDComputerName", "PC-0042"),
        ("OSDRegisteredUserName", "Jane Doe"),
        ("OSDRegisteredOrgName", "Contoso & Sons"),
        ("OSDTimeZone", "W. Europe Standard Time"),
        ("OSDProductKey", PRODUCT_KEY),
        ("OSDLocalAdminPassword", ADMIN_PASSWORD),
        ("OSDJoinType", "0"),
        ("OSDDomainName", "corp.contoso.com"),
        ("OSDDomainOUName", "OU=Desktops,DC=corp,DC=contoso,DC=com"),
        ("OSDJoinAccount", "CORP\\svc-join"),
        ("OSDJoinPassword", JOIN_PASSWORD),
        ("OSDDNSDomain", "corp.contoso.com"),
        ("OSDDNSSuffixSearchOrder", "corp.contoso.com,contoso.com"),
        ("OSDAdapterCount", "2"),
        ("OSDAdapter0EnableDHCP", "false"),
        ("OSDAdapter0MacAddress", "00:15:5d:01:02:03"),
        ("OSDAdapter0IPAddressList", "192.168.10.20,192.168.10.21"),
        ("OSDAdapter0SubnetMask", "255.255.255.0"),
        ("OSDAdapter0Gateways", "192.168.10.1"),
        ("OSDAdapter0DNSServerList", "192.168.10.2,192.168.10.3"),
        ("OSDAdapter0DNSDomain", "lab.contoso.com"),
        ("OSDAdapter1EnableDHCP", "true"),
        ("OSDAdapter1Name", "Ethernet 2"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn settings() -> WindowsSettings {
    let vars = variables();
    let mut s = settings_from_variables(|n| vars.get(n).cloned()).expect("settings");
    s.run_synchronous
        .push(tsmedia_winboot::unattend::SyncCommand {
            path: "pnputil /add-driver C:\\Drivers\\*.inf /subdirs /install".into(),
            description: "Install staged drivers".into(),
        });
    s
}

fn is(node: &Node<'_, '_>, name: &str) -> bool {
    node.is_element()
        && node.tag_name().name() == name
        && node.tag_name().namespace() == Some(UNATTEND_NS)
}

fn component<'a, 'i>(doc: &'a Document<'i>, pass: &str, name: &str) -> Node<'a, 'i> {
    let found: Vec<Node<'a, 'i>> = doc
        .root_element()
        .children()
        .filter(|s| is(s, "settings") && s.attribute("pass") == Some(pass))
        .flat_map(|s| {
            s.children()
                .filter(|c| is(c, "component") && c.attribute("name") == Some(name))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(found.len(), 1, "exactly one {name} in {pass}");
    found[0]
}

/// The text of the element at `path` (child names) below `node`.
fn text(node: Node<'_, '_>, path: &[&str]) -> String {
    let mut at = node;
    for part in path {
        at = at
            .children()
            .find(|c| is(c, part))
            .unwrap_or_else(|| panic!("no {part} in {:?}", at.tag_name().name()));
    }
    at.text().unwrap_or_default().to_string()
}

fn texts(node: Node<'_, '_>, list: &str, item: &str) -> Vec<String> {
    let list = node
        .children()
        .find(|c| is(c, list))
        .unwrap_or_else(|| panic!("no {list}"));
    list.children()
        .filter(|c| is(c, item))
        .map(|c| {
            assert_eq!(
                c.attribute((WCM_NS, "action")),
                Some("add"),
                "{item} carries wcm:action"
            );
            c.text().unwrap_or_default().to_string()
        })
        .collect()
}

#[test]
fn every_setting_is_where_setup_reads_it() {
    let xml = answer_file(&settings(), None).expect("answer file");
    let doc = Document::parse(&xml).expect("well-formed");
    assert!(is(&doc.root_element(), "unattend"));

    let shell = component(&doc, "specialize", "Microsoft-Windows-Shell-Setup");
    assert_eq!(shell.attribute("processorArchitecture"), Some("amd64"));
    assert_eq!(text(shell, &["ComputerName"]), "PC-0042");
    assert_eq!(text(shell, &["RegisteredOwner"]), "Jane Doe");
    assert_eq!(text(shell, &["RegisteredOrganization"]), "Contoso & Sons");
    assert_eq!(text(shell, &["TimeZone"]), "W. Europe Standard Time");
    assert_eq!(text(shell, &["ProductKey"]), PRODUCT_KEY);

    let join = component(&doc, "specialize", "Microsoft-Windows-UnattendedJoin");
    assert_eq!(
        text(join, &["Identification", "JoinDomain"]),
        "corp.contoso.com"
    );
    assert_eq!(
        text(join, &["Identification", "MachineObjectOU"]),
        "OU=Desktops,DC=corp,DC=contoso,DC=com"
    );
    assert_eq!(
        text(join, &["Identification", "Credentials", "Domain"]),
        "CORP"
    );
    assert_eq!(
        text(join, &["Identification", "Credentials", "Username"]),
        "svc-join"
    );
    assert_eq!(
        text(join, &["Identification", "Credentials", "Password"]),
        JOIN_PASSWORD
    );

    let tcpip = component(&doc, "specialize", "Microsoft-Windows-TCPIP");
    let ifaces: Vec<Node> = tcpip.descendants().filter(|n| is(n, "Interface")).collect();
    assert_eq!(ifaces.len(), 2);
    assert_eq!(text(ifaces[0], &["Identifier"]), "00-15-5D-01-02-03");
    assert_eq!(text(ifaces[0], &["Ipv4Settings", "DhcpEnabled"]), "false");
    assert_eq!(
        texts(ifaces[0], "UnicastIpAddresses", "IpAddress"),
        ["192.168.10.20/24", "192.168.10.21/24"]
    );
    assert_eq!(text(ifaces[0], &["Routes", "Route", "Prefix"]), "0.0.0.0/0");
    assert_eq!(
        text(ifaces[0], &["Routes", "Route", "NextHopAddress"]),
        "192.168.10.1"
    );
    assert_eq!(text(ifaces[1], &["Identifier"]), "Ethernet 2");
    assert_eq!(text(ifaces[1], &["Ipv4Settings", "DhcpEnabled"]), "true");

    let dns = component(&doc, "specialize", "Microsoft-Windows-DNS-Client");
    assert_eq!(text(dns, &["DNSDomain"]), "corp.contoso.com");
    assert_eq!(
        texts(dns, "DNSSuffixSearchOrder", "DomainName"),
        ["corp.contoso.com", "contoso.com"]
    );
    let dns_iface = dns
        .descendants()
        .find(|n| is(n, "Interface"))
        .expect("DNS interface");
    assert_eq!(text(dns_iface, &["Identifier"]), "00-15-5D-01-02-03");
    assert_eq!(
        texts(dns_iface, "DNSServerSearchOrder", "IpAddress"),
        ["192.168.10.2", "192.168.10.3"]
    );
    assert_eq!(text(dns_iface, &["DNSDomain"]), "lab.contoso.com");

    let deployment = component(&doc, "specialize", "Microsoft-Windows-Deployment");
    assert_eq!(
        text(
            deployment,
            &["RunSynchronous", "RunSynchronousCommand", "Order"]
        ),
        "1"
    );
    assert_eq!(
        text(
            deployment,
            &["RunSynchronous", "RunSynchronousCommand", "Path"]
        ),
        "pnputil /add-driver C:\\Drivers\\*.inf /subdirs /install"
    );

    let oobe = component(&doc, "oobeSystem", "Microsoft-Windows-Shell-Setup");
    assert_eq!(
        text(
            oobe,
            &["UserAccounts", "AdministratorPassword", "PlainText"]
        ),
        "false"
    );
    let value = text(oobe, &["UserAccounts", "AdministratorPassword", "Value"]);
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&value)
        .expect("base64");
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    assert_eq!(
        String::from_utf16(&units).expect("UTF-16LE"),
        format!("{ADMIN_PASSWORD}AdministratorPassword")
    );
    assert!(
        !xml.contains(ADMIN_PASSWORD) && !xml.contains("Adm1n"),
        "the Administrator password is never in clear"
    );
}

#[test]
fn secrets_never_print() {
    let shown = format!("{:?}", settings());
    for secret in [ADMIN_PASSWORD, JOIN_PASSWORD, PRODUCT_KEY] {
        assert!(!shown.contains(secret), "{secret} leaked into Debug output");
    }
    assert!(shown.contains("***"));
    assert!(shown.contains("PC-0042"), "non-secrets still show");
}

const IMAGE_UNATTEND: &str = r#"<?xml version="1.0" encoding="utf-16"?>
<unattend xmlns="urn:schemas-microsoft-com:unattend">
  <settings pass="specialize">
    <component name="Microsoft-Windows-Shell-Setup" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS">
      <ComputerName>*</ComputerName>
      <CopyProfile>true</CopyProfile>
    </component>
  </settings>
  <settings pass="oobeSystem">
    <component name="Microsoft-Windows-International-Core" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS">
      <InputLocale>de-DE</InputLocale>
    </component>
    <component name="Microsoft-Windows-Shell-Setup" processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS" xmlns:wcm="http://schemas.microsoft.com/WMIConfig/2002/State">
      <OOBE><HideEULAPage>true</HideEULAPage></OOBE>
    </component>
  </settings>
</unattend>
"#;

#[test]
fn the_images_answer_file_is_merged_on_the_volume() {
    let volume = tempfile::tempdir().expect("tempdir");
    let panther = volume.path().join("windows/panther");
    std::fs::create_dir_all(&panther).expect("mkdir");
    // UTF-16LE with a byte order mark, as Windows System Image Manager saves it.
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(IMAGE_UNATTEND.encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(panther.join("Unattend.xml"), utf16).expect("write");

    let path = write_answer_file(volume.path(), &settings()).expect("write answer file");
    assert_eq!(
        path,
        panther.join("Unattend.xml"),
        "the existing file, found without regard to case"
    );
    let xml = std::fs::read_to_string(&path).expect("UTF-8 now");
    let doc = Document::parse(&xml).expect("well-formed");

    let shell = component(&doc, "specialize", "Microsoft-Windows-Shell-Setup");
    assert_eq!(
        text(shell, &["ComputerName"]),
        "PC-0042",
        "ours replaces the image's"
    );
    assert_eq!(
        text(shell, &["CopyProfile"]),
        "true",
        "the image's own setting stays"
    );
    assert_eq!(
        shell.children().filter(|c| is(c, "ComputerName")).count(),
        1
    );
    assert_eq!(
        text(
            component(&doc, "oobeSystem", "Microsoft-Windows-International-Core"),
            &["InputLocale"]
        ),
        "de-DE"
    );
    let oobe = component(&doc, "oobeSystem", "Microsoft-Windows-Shell-Setup");
    assert_eq!(text(oobe, &["OOBE", "HideEULAPage"]), "true");
    assert_eq!(
        text(
            oobe,
            &["UserAccounts", "AdministratorPassword", "PlainText"]
        ),
        "false"
    );
    component(&doc, "specialize", "Microsoft-Windows-UnattendedJoin");

    // Applying the same settings again changes nothing.
    write_answer_file(volume.path(), &settings()).expect("again");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), xml);
}

#[test]
fn a_broken_answer_file_is_reported_with_its_path() {
    let volume = tempfile::tempdir().expect("tempdir");
    let panther = volume.path().join("Windows/Panther");
    std::fs::create_dir_all(&panther).expect("mkdir");
    std::fs::write(panther.join("unattend.xml"), "<unattend><settings>").expect("write");
    let err = write_answer_file(volume.path(), &settings()).expect_err("not XML");
    assert!(err.to_string().contains("Panther/unattend.xml"), "{err}");
    assert!(!err.to_string().contains(ADMIN_PASSWORD));

    let fresh = tempfile::tempdir().expect("tempdir");
    let path =
        write_answer_file(fresh.path(), &WindowsSettings::default()).expect("empty settings");
    assert!(path.ends_with("Windows/Panther/unattend.xml"));
    assert!(Document::parse(&std::fs::read_to_string(path).expect("read")).is_ok());
}
