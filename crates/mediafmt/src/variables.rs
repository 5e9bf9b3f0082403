//! Media variables (`Variables.dat` plaintext) and the small text files beside them
//! (`SMS/data/TsmBootstrap.ini`, `MediaLabel.txt`), written by the builder and read by the
//! runtime (and by `media inspect`).
//!
//! Plaintext as Configuration Manager writes it (`docs/media.md`, "Sealed files"): UTF-16LE
//! XML, `<MediaVarList><var name="...">value</var>...</MediaVarList>`; sealed with
//! [`crate::secret`].

use crate::error::{Error, Result};

/// Names whose values never appear in logs.
const SECRET: &[&str] = &[
    "_SMSTSMediaPFX",
    "_TSMediaPFXPassword",
    "_SMSTSMediaPassword",
];

/// The variable holding the site's reply-signing public key (Ed25519, 32 bytes as lowercase
/// hex, [`encode_site_key`]): the runtime accepts only management point answers signed with
/// it (`tsmedia-protocol`, `reply`). It is not secret, but it lives in the sealed file so that
/// it cannot be swapped without the media password.
pub const SITE_KEY_VARIABLE: &str = "_TSMediaSiteSigningKey";

/// The media variable that lets tsmedia PE open a debug shell (`media create --debug-shell`;
/// Configuration Manager's "enable command support"). It is read from the sealed
/// `Variables.dat` only, so it cannot be switched on by editing the medium.
pub const DEBUG_SHELL_VARIABLE: &str = "_TSMDebugShell";

/// The site key as [`SITE_KEY_VARIABLE`] holds it.
pub fn encode_site_key(key: &[u8; 32]) -> String {
    tsmedia_base::digest::hex(key)
}

/// Reads [`encode_site_key`]'s form.
pub fn parse_site_key(text: &str) -> Result<[u8; 32]> {
    let bad = || Error::SecretFormat {
        what: "Variables.dat".into(),
        reason: format!("{SITE_KEY_VARIABLE} is not 64 hexadecimal digits"),
    };
    let t = text.trim();
    if t.len() != 64 || !t.is_ascii() {
        return Err(bad());
    }
    let mut key = [0u8; 32];
    for (i, b) in key.iter_mut().enumerate() {
        *b = u8::from_str_radix(&t[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(key)
}

/// One media variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// Name, e.g. `SMSTSMP`.
    pub name: String,
    /// Value.
    pub value: String,
}

impl Variable {
    /// A variable.
    pub fn new(name: &str, value: impl Into<String>) -> Variable {
        Variable {
            name: name.into(),
            value: value.into(),
        }
    }

    /// Whether the value is secret (masked in logs and `inspect` without `--show-secrets`).
    pub fn is_secret(&self) -> bool {
        SECRET.iter().any(|s| s.eq_ignore_ascii_case(&self.name))
    }

    /// The value, or `********` for secrets.
    pub fn display_value(&self) -> String {
        if self.is_secret() {
            format!("******** ({} characters)", self.value.len())
        } else {
            self.value.clone()
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// Serializes variables as UTF-16LE XML with a BOM.
pub fn to_xml(vars: &[Variable]) -> Vec<u8> {
    let mut text = String::from("<MediaVarList Version=\"1\">");
    for v in vars {
        text.push_str(&format!(
            "<var name=\"{}\">{}</var>",
            escape(&v.name),
            escape(&v.value)
        ));
    }
    text.push_str("</MediaVarList>");
    let mut out = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out
}

/// Parses [`to_xml`]'s output.
pub fn from_xml(data: &[u8]) -> Result<Vec<Variable>> {
    let bad = |r: &str| Error::SecretFormat {
        what: "Variables.dat".into(),
        reason: r.into(),
    };
    let body = data
        .strip_prefix(&[0xFF, 0xFE])
        .ok_or_else(|| bad("no UTF-16 BOM"))?;
    if body.len() % 2 != 0 {
        return Err(bad("odd UTF-16 length"));
    }
    let units: Vec<u16> = body
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let text = String::from_utf16(&units).map_err(|_| bad("invalid UTF-16"))?;
    let mut vars = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("<var name=\"") {
        rest = &rest[start + 11..];
        let q = rest.find("\">").ok_or_else(|| bad("unterminated name"))?;
        let name = unescape(&rest[..q]);
        rest = &rest[q + 2..];
        let end = rest
            .find("</var>")
            .ok_or_else(|| bad("unterminated value"))?;
        vars.push(Variable {
            name,
            value: unescape(&rest[..end]),
        });
        rest = &rest[end + 6..];
    }
    Ok(vars)
}

/// `SMS\data\TsmBootstrap.ini`: the media type, whether a password is asked, unattended
/// mode, the disc of a set, and the media GUID (`MediaGuid`, not secret: tsmedia PE uses it
/// to find the medium it was started from among the machine's disks; nothing is trusted
/// because of it).
pub fn bootstrap_ini(
    media_type: &str,
    password: bool,
    unattended: bool,
    disc: Option<(u32, u32)>,
    media_guid: Option<&str>,
) -> String {
    let mut s = format!(
        "[MediaInfo]\r\nMediaType={media_type}\r\nPasswordRequired={password}\r\nUnattended={unattended}\r\n"
    );
    if let Some((n, of)) = disc {
        s.push_str(&format!("Disc={n}\r\nDiscCount={of}\r\n"));
    }
    if let Some(guid) = media_guid {
        s.push_str(&format!("MediaGuid={guid}\r\n"));
    }
    s
}

/// `MediaLabel.txt` at the media root, with the disc number for multi-disc sets.
pub fn media_label(label: &str, disc: u32, discs: u32) -> String {
    format!("label={label}\r\ndisc={disc}\r\ndiscs={discs}\r\n")
}

/// Reads `key=value` lines (MediaLabel.txt, TsmBootstrap.ini).
pub fn key_values(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_round_trip_and_masking() {
        let vars = vec![
            Variable::new("SMSTSMP", "http://mp1"),
            Variable::new("Odd", "a<b&\"c\">"),
            Variable::new("_SMSTSMediaPFX", "0011"),
        ];
        let x = to_xml(&vars);
        assert_eq!(from_xml(&x).unwrap(), vars);
        assert!(vars[2].display_value().starts_with("****"));
        assert_eq!(vars[0].display_value(), "http://mp1");
        assert!(from_xml(b"junk").is_err());
    }

    #[test]
    fn site_key_round_trip() {
        let key: [u8; 32] = std::array::from_fn(|i| i as u8 * 7);
        assert_eq!(parse_site_key(&encode_site_key(&key)).unwrap(), key);
        for bad in ["", "zz", &"g".repeat(64), &"é".repeat(32)] {
            assert!(parse_site_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ini_and_label() {
        let ini = bootstrap_ini("FullMedia", true, false, Some((2, 3)), Some("G"));
        let kv = key_values(&ini);
        assert!(kv.contains(&("MediaType".into(), "FullMedia".into())));
        assert!(kv.contains(&("Disc".into(), "2".into())));
        assert!(kv.contains(&("MediaGuid".into(), "G".into())));
        assert_eq!(key_values(&media_label("L", 1, 1))[0].1, "L");
    }
}
