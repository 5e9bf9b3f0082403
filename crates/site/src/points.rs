//! Distribution points (which content versions each holds, who may read it) and management
//! points (with the boundaries they serve).

use std::net::IpAddr;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::site::Site;
use crate::time::{Timestamp, now};

/// Configuration Manager's default package access accounts: a new DP lets these read.
pub const DEFAULT_READERS: [&str; 2] = ["Users", "Guests"];

/// Principals that are no named account: `Anonymous` (a request without one), `Everyone`
/// (what the runtime and the media builder say when given none) and the guest account.
pub const UNAUTHENTICATED: [&str; 4] = ["Anonymous", "Everyone", "Guest", "Guests"];

/// A distribution point.
#[derive(Debug, Clone, Serialize)]
pub struct DistributionPoint {
    /// Its name (the ID on the command line).
    pub id: String,
    /// Base URL content is served from.
    pub url: String,
    /// The content versions it holds, one per package.
    pub content: Vec<DpContent>,
    /// Principals with read access to its content library.
    pub read_access: Vec<String>,
    /// When it was added.
    pub created_at: Timestamp,
}

/// A content version held by a distribution point.
#[derive(Debug, Clone, Serialize)]
pub struct DpContent {
    /// The package.
    pub package_id: String,
    /// The content version held.
    pub content_id: String,
    /// Whether that is the package's current version.
    pub current: bool,
    /// When it was distributed.
    pub distributed_at: Timestamp,
}

/// A management point.
#[derive(Debug, Clone, Serialize)]
pub struct ManagementPoint {
    /// Its name (the ID on the command line).
    pub id: String,
    /// Base URL of its HTTP(S) service.
    pub url: String,
    /// Boundaries (CIDR) whose clients it serves; empty means every client.
    pub boundaries: Vec<String>,
    /// When it was added.
    pub created_at: Timestamp,
}

/// Checks a server name: letters, digits, `-`, `.` and `_`.
fn validate_name(kind: &str, name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
    {
        return Err(Error::invalid(
            format!("{kind} name {name:?}"),
            "use letters, digits, '-', '.' and '_'",
        ));
    }
    Ok(name.to_string())
}

/// Checks an http:// or https:// URL with a host; returns it without a trailing `/`.
pub(crate) fn validate_url(url: &str) -> Result<String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| {
            Error::invalid(
                format!("URL {url:?}"),
                "must start with http:// or https://",
            )
        })?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.chars().any(char::is_whitespace) {
        return Err(Error::invalid(format!("URL {url:?}"), "has no host"));
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// An IP network, `address/prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `192.168.1.0/24` or `fd00::/8`; a bare address is a host route.
    pub fn parse(text: &str) -> Result<Cidr> {
        let bad = |reason: &str| Error::invalid(format!("boundary {text:?}"), reason.to_string());
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| bad("not an IP address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .map_err(|_| bad("prefix is not a number"))?,
            None => max,
        };
        if prefix > max {
            return Err(bad(&format!("prefix is more than {max}")));
        }
        Ok(Cidr { addr, prefix })
    }

    fn bits(addr: IpAddr) -> (u128, u8) {
        match addr {
            IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
            IpAddr::V6(a) => (u128::from(a), 128),
        }
    }

    /// Whether `ip` is in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        if self.addr.is_ipv4() != ip.is_ipv4() {
            return false;
        }
        let (net, width) = Self::bits(self.addr);
        let (host, _) = Self::bits(ip);
        let shift = u32::from(width - self.prefix);
        if shift >= 128 {
            return true;
        }
        (net >> shift) == (host >> shift)
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl Site {
    /// Adds a distribution point.
    pub fn add_distribution_point(&mut self, name: &str, url: &str) -> Result<DistributionPoint> {
        let name = validate_name("distribution point", name)?;
        let url = validate_url(url)?;
        let tx = self.transaction("adding a distribution point")?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT name FROM distribution_points WHERE name = ?1 COLLATE NOCASE",
                [&name],
                |r| r.get(0),
            )
            .optional()
            .map_err(Error::db("looking up distribution points"))?;
        if let Some(existing) = existing {
            return Err(Error::Duplicate {
                kind: "distribution point",
                name: name.clone(),
                existing: format!("distribution point {existing}"),
            });
        }
        tx.execute(
            "INSERT INTO distribution_points (name, url, created_at) VALUES (?1, ?2, ?3)",
            params![name, url, now()],
        )
        .map_err(Error::db(format!("adding distribution point {name}")))?;
        tx.commit()
            .map_err(Error::db(format!("adding distribution point {name}")))?;
        self.distribution_point(&name)
    }

    fn dp_name(&self, name: &str) -> Result<String> {
        self.conn
            .query_row(
                "SELECT name FROM distribution_points WHERE name = ?1 COLLATE NOCASE",
                [name.trim()],
                |r| r.get(0),
            )
            .optional()
            .map_err(Error::db("looking up distribution points"))?
            .ok_or_else(|| Error::not_found("distribution point", name.trim()))
    }

    /// The distribution point with this name.
    pub fn distribution_point(&self, name: &str) -> Result<DistributionPoint> {
        let name = self.dp_name(name)?;
        let (url, created): (String, i64) = self
            .conn
            .query_row(
                "SELECT url, created_at FROM distribution_points WHERE name = ?1",
                [&name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(Error::db(format!("reading distribution point {name}")))?;
        let content = self
            .conn
            .prepare(
                "SELECT d.package_id, d.content_id, c.version = p.source_version, d.distributed_at
                 FROM dp_content d
                 JOIN content_versions c ON c.content_id = d.content_id
                 JOIN packages p ON p.id = d.package_id
                 WHERE d.dp = ?1 ORDER BY d.package_id",
            )
            .and_then(|mut s| {
                s.query_map([&name], |r| {
                    Ok(DpContent {
                        package_id: r.get(0)?,
                        content_id: r.get(1)?,
                        current: r.get(2)?,
                        distributed_at: Timestamp(r.get(3)?),
                    })
                })?
                .collect()
            })
            .map_err(Error::db(format!("reading the content of {name}")))?;
        let read_access = self
            .conn
            .prepare("SELECT principal FROM dp_grants WHERE dp = ?1 ORDER BY principal")
            .and_then(|mut s| s.query_map([&name], |r| r.get(0))?.collect())
            .map_err(Error::db(format!("reading the grants of {name}")))?;
        Ok(DistributionPoint {
            id: name,
            url,
            content,
            read_access,
            created_at: Timestamp(created),
        })
    }

    /// Every distribution point, by name.
    pub fn distribution_points(&self) -> Result<Vec<DistributionPoint>> {
        let names: Vec<String> = self
            .conn
            .prepare("SELECT name FROM distribution_points ORDER BY name")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(Error::db("listing distribution points"))?;
        names.iter().map(|n| self.distribution_point(n)).collect()
    }

    /// Gives `principal` read access to the content of distribution point `dp`.
    pub fn grant_dp_read(&mut self, dp: &str, principal: &str) -> Result<DistributionPoint> {
        let name = self.dp_name(dp)?;
        let principal = principal.trim();
        if principal.is_empty() {
            return Err(Error::invalid("principal", "empty"));
        }
        let tx = self.transaction("granting read access")?;
        tx.execute(
            "INSERT OR IGNORE INTO dp_grants (dp, principal) VALUES (?1, ?2)",
            params![name, principal],
        )
        .map_err(Error::db(format!(
            "granting {principal} read access to {name}"
        )))?;
        tx.commit().map_err(Error::db(format!(
            "granting {principal} read access to {name}"
        )))?;
        self.distribution_point(&name)
    }

    /// Whether `principal` may read the content of distribution point `dp` (principals compare
    /// case-insensitively, as Windows account names do). Besides a grant naming it, the
    /// built-in groups of Configuration Manager's package access accounts count as Windows
    /// counts them: `Everyone` holds every principal; `Users` every named account; `Guests`
    /// the unauthenticated ones ([`UNAUTHENTICATED`]). A new DP made with `tsmedia dp add`
    /// grants `Users` and `Guests` ([`DEFAULT_READERS`]), Configuration Manager's default.
    pub fn has_dp_read_access(&self, dp: &str, principal: &str) -> Result<bool> {
        let name = self.dp_name(dp)?;
        let principal = principal.trim();
        let group = if UNAUTHENTICATED
            .iter()
            .any(|u| u.eq_ignore_ascii_case(principal))
        {
            "Guests"
        } else {
            "Users"
        };
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM dp_grants WHERE dp = ?1 AND (principal = ?2 COLLATE NOCASE \
                 OR principal = 'Everyone' COLLATE NOCASE OR principal = ?3 COLLATE NOCASE)",
                params![name, principal, group],
                |r| r.get(0),
            )
            .map_err(Error::db(format!("reading the grants of {name}")))
    }

    /// Distributes content to a distribution point. Each ID is a package (its current version),
    /// a content ID, or a task sequence (everything it references). The content is verified
    /// first; damaged content is not distributed. Returns the content IDs now held.
    pub fn distribute(&mut self, ids: &[String], dp: &str) -> Result<Vec<String>> {
        let name = self.dp_name(dp)?;
        if ids.is_empty() {
            return Err(Error::invalid("content to distribute", "no IDs given"));
        }
        let mut content_ids = Vec::new();
        for id in ids {
            for c in self.resolve_content_ids(id, false)? {
                if !content_ids.contains(&c) {
                    content_ids.push(c);
                }
            }
        }
        let report = self.verify_content(&content_ids)?;
        if let Some(first) = report.problems.first() {
            return Err(Error::invalid(
                format!("content {}", first.content_id),
                format!(
                    "{} damaged file(s), not distributed to {name}; first: {first}",
                    report.problems.len()
                ),
            ));
        }
        let at = now();
        let tx = self.transaction("distributing content")?;
        for content_id in &content_ids {
            let package_id: String = tx
                .query_row(
                    "SELECT package_id FROM content_versions WHERE content_id = ?1",
                    [content_id],
                    |r| r.get(0),
                )
                .map_err(Error::db(format!("reading content {content_id}")))?;
            tx.execute(
                "INSERT INTO dp_content (dp, package_id, content_id, distributed_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (dp, package_id) DO UPDATE SET content_id = ?3, distributed_at = ?4",
                params![name, package_id, content_id, at],
            )
            .map_err(Error::db(format!("distributing {content_id} to {name}")))?;
        }
        tx.commit()
            .map_err(Error::db(format!("distributing content to {name}")))?;
        Ok(content_ids)
    }

    /// Names of the distribution points holding this content version.
    pub fn dps_holding(&self, content_id: &str) -> Result<Vec<String>> {
        self.conn
            .prepare_cached("SELECT dp FROM dp_content WHERE content_id = ?1 ORDER BY dp")
            .and_then(|mut s| s.query_map([content_id], |r| r.get(0))?.collect())
            .map_err(Error::db(format!(
                "reading where {content_id} is distributed"
            )))
    }

    /// Adds a management point serving the given boundaries (every client when empty).
    pub fn add_management_point(
        &mut self,
        name: &str,
        url: &str,
        boundaries: &[String],
    ) -> Result<ManagementPoint> {
        let name = validate_name("management point", name)?;
        let url = validate_url(url)?;
        let cidrs = boundaries
            .iter()
            .map(|b| Cidr::parse(b).map(|c| c.to_string()))
            .collect::<Result<Vec<_>>>()?;
        let tx = self.transaction("adding a management point")?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT name FROM management_points WHERE name = ?1 COLLATE NOCASE",
                [&name],
                |r| r.get(0),
            )
            .optional()
            .map_err(Error::db("looking up management points"))?;
        if let Some(existing) = existing {
            return Err(Error::Duplicate {
                kind: "management point",
                name: name.clone(),
                existing: format!("management point {existing}"),
            });
        }
        tx.execute(
            "INSERT INTO management_points (name, url, created_at) VALUES (?1, ?2, ?3)",
            params![name, url, now()],
        )
        .map_err(Error::db(format!("adding management point {name}")))?;
        for cidr in &cidrs {
            tx.execute(
                "INSERT OR IGNORE INTO mp_boundaries (mp, cidr) VALUES (?1, ?2)",
                params![name, cidr],
            )
            .map_err(Error::db(format!("adding boundary {cidr} to {name}")))?;
        }
        tx.commit()
            .map_err(Error::db(format!("adding management point {name}")))?;
        self.management_point(&name)
    }

    /// The management point with this name.
    pub fn management_point(&self, name: &str) -> Result<ManagementPoint> {
        let row: Option<(String, String, i64)> = self
            .conn
            .query_row(
                "SELECT name, url, created_at FROM management_points WHERE name = ?1 COLLATE NOCASE",
                [name.trim()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(Error::db("looking up management points"))?;
        let (name, url, created) =
            row.ok_or_else(|| Error::not_found("management point", name.trim()))?;
        let boundaries = self
            .conn
            .prepare("SELECT cidr FROM mp_boundaries WHERE mp = ?1 ORDER BY cidr")
            .and_then(|mut s| s.query_map([&name], |r| r.get(0))?.collect())
            .map_err(Error::db(format!("reading the boundaries of {name}")))?;
        Ok(ManagementPoint {
            id: name,
            url,
            boundaries,
            created_at: Timestamp(created),
        })
    }

    /// Every management point, by name.
    pub fn management_points(&self) -> Result<Vec<ManagementPoint>> {
        let names: Vec<String> = self
            .conn
            .prepare("SELECT name FROM management_points ORDER BY name")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(Error::db("listing management points"))?;
        names.iter().map(|n| self.management_point(n)).collect()
    }

    /// The management points that serve a client at `ip`: those with a boundary containing it,
    /// then those with no boundaries (they serve everyone).
    pub fn management_points_for(&self, ip: IpAddr) -> Result<Vec<ManagementPoint>> {
        let all = self.management_points()?;
        let (mut matched, mut open) = (Vec::new(), Vec::new());
        for mp in all {
            if mp.boundaries.is_empty() {
                open.push(mp);
            } else if mp
                .boundaries
                .iter()
                .any(|b| Cidr::parse(b).is_ok_and(|c| c.contains(ip)))
            {
                matched.push(mp);
            }
        }
        matched.extend(open);
        Ok(matched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_parsing_and_containment() {
        let table = [
            ("10.1.0.0/16", "10.1.200.3", true),
            ("10.1.0.0/16", "10.2.0.1", false),
            ("0.0.0.0/0", "192.0.2.1", true),
            ("192.0.2.7", "192.0.2.7", true),
            ("192.0.2.7", "192.0.2.8", false),
            ("fd00::/8", "fd12::1", true),
            ("fd00::/8", "10.0.0.1", false),
            ("::/0", "2001:db8::1", true),
        ];
        for (cidr, ip, inside) in table {
            let c = Cidr::parse(cidr).unwrap();
            assert_eq!(c.contains(ip.parse().unwrap()), inside, "{cidr} ∋ {ip}");
        }
        for bad in ["10.0.0.0/33", "fd00::/129", "banana/8", "10.0.0.0/x", ""] {
            assert!(Cidr::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn urls() {
        assert_eq!(validate_url("http://dp1.lab/").unwrap(), "http://dp1.lab");
        assert!(validate_url("https://mp1.lab:443/sms").is_ok());
        for bad in ["ftp://x", "http://", "dp1", "https:///path"] {
            assert!(validate_url(bad).is_err(), "{bad:?} accepted");
        }
    }
}
