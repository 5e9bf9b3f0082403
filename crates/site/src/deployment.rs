//! Deployments (advertisements) of task sequences to collections, and which of them media and
//! PXE may offer.

use std::fmt;
use std::str::FromStr;

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::site::{Site, allocate_id, normalize_id};
use crate::time::{Timestamp, now};

/// To whom a deployment is made available (the "Make available to the following" setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Availability {
    /// Only Configuration Manager clients.
    Clients,
    /// Configuration Manager clients, media and PXE.
    ClientsMediaPxe,
    /// Only media and PXE.
    MediaPxe,
    /// Only media and PXE (hidden): chosen only through `SMSTSPreferredAdvertID`.
    MediaPxeHidden,
}

impl Availability {
    /// Name used in the database, CLI and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Clients => "clients",
            Availability::ClientsMediaPxe => "clients-media-pxe",
            Availability::MediaPxe => "media-pxe",
            Availability::MediaPxeHidden => "media-pxe-hidden",
        }
    }

    /// Whether boot media and PXE may run the deployment.
    pub fn available_to_media(self) -> bool {
        !matches!(self, Availability::Clients)
    }

    /// Whether the deployment is hidden from the list a user chooses from.
    pub fn hidden(self) -> bool {
        matches!(self, Availability::MediaPxeHidden)
    }
}

impl FromStr for Availability {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        [
            Availability::Clients,
            Availability::ClientsMediaPxe,
            Availability::MediaPxe,
            Availability::MediaPxeHidden,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
        .ok_or_else(|| {
            Error::invalid(
                "availability",
                format!(
                    "{s:?} (expected clients, clients-media-pxe, media-pxe or media-pxe-hidden)"
                ),
            )
        })
    }
}

impl fmt::Display for Availability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a deployment is offered or enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    /// The user chooses to run it.
    Available,
    /// It runs without asking.
    Required,
}

impl Purpose {
    /// Name used in the database, CLI and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Available => "available",
            Purpose::Required => "required",
        }
    }
}

impl FromStr for Purpose {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s {
            "available" => Ok(Purpose::Available),
            "required" => Ok(Purpose::Required),
            _ => Err(Error::invalid(
                "purpose",
                format!("{s:?} (expected available or required)"),
            )),
        }
    }
}

/// A deployment of a task sequence to a collection.
#[derive(Debug, Clone, Serialize)]
pub struct Deployment {
    /// Deployment (advertisement) ID, `<site code><5 hex digits>`.
    pub id: String,
    /// The task sequence.
    pub ts_id: String,
    /// Its name.
    pub ts_name: String,
    /// The target collection.
    pub collection_id: String,
    /// Its name.
    pub collection_name: String,
    /// Who may run it.
    pub availability: Availability,
    /// Offered or enforced.
    pub purpose: Purpose,
    /// When it was made.
    pub created_at: Timestamp,
}

const SELECT: &str = "SELECT d.id, d.ts_id, t.name, d.collection_id, c.name, d.availability, d.purpose, d.created_at
     FROM deployments d JOIN task_sequences t ON t.id = d.ts_id JOIN collections c ON c.id = d.collection_id";

type RawDeployment = (String, String, String, String, String, String, String, i64);

fn raw(r: &Row<'_>) -> rusqlite::Result<RawDeployment> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn cook(r: RawDeployment) -> Result<Deployment> {
    Ok(Deployment {
        id: r.0,
        ts_id: r.1,
        ts_name: r.2,
        collection_id: r.3,
        collection_name: r.4,
        availability: r.5.parse()?,
        purpose: r.6.parse()?,
        created_at: Timestamp(r.7),
    })
}

impl Site {
    /// Deploys a task sequence to a collection (by name or ID).
    pub fn deploy(
        &mut self,
        ts_id: &str,
        collection: &str,
        availability: Availability,
        purpose: Purpose,
    ) -> Result<Deployment> {
        let ts = self.task_sequence(ts_id)?;
        let collection_id = self.collection_id(collection)?;
        let tx = self.transaction("deploying a task sequence")?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT id FROM deployments WHERE ts_id = ?1 AND collection_id = ?2",
                params![ts.id, collection_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(Error::db("looking up deployments"))?;
        if let Some(existing) = existing {
            return Err(Error::Duplicate {
                kind: "deployment of",
                name: format!("{} to {collection_id}", ts.id),
                existing: format!("deployment {existing}"),
            });
        }
        let id = allocate_id(&tx)?;
        tx.execute(
            "INSERT INTO deployments (id, ts_id, collection_id, availability, purpose, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                id,
                ts.id,
                collection_id,
                availability.as_str(),
                purpose.as_str(),
                now()
            ],
        )
        .map_err(Error::db(format!("adding deployment {id}")))?;
        tx.commit()
            .map_err(Error::db(format!("adding deployment {id}")))?;
        self.deployment(&id)
    }

    /// The deployment with this ID.
    pub fn deployment(&self, id: &str) -> Result<Deployment> {
        let id = normalize_id(id);
        let row = self
            .conn
            .query_row(&format!("{SELECT} WHERE d.id = ?1"), [&id], raw)
            .optional()
            .map_err(Error::db(format!("reading deployment {id}")))?
            .ok_or_else(|| Error::not_found("deployment", &id))?;
        cook(row)
    }

    /// Every deployment, by ID.
    pub fn deployments(&self) -> Result<Vec<Deployment>> {
        let rows: Vec<RawDeployment> = self
            .conn
            .prepare(&format!("{SELECT} ORDER BY d.id"))
            .and_then(|mut s| s.query_map([], raw)?.collect())
            .map_err(Error::db("listing deployments"))?;
        rows.into_iter().map(cook).collect()
    }

    /// Deployments that media and PXE may run, hidden ones included (the caller shows only
    /// those not [`Availability::hidden`] unless `SMSTSPreferredAdvertID` names one). With a
    /// resource ID, only deployments to collections that computer is a member of.
    pub fn deployments_for_media(&self, resource_id: Option<i64>) -> Result<Vec<Deployment>> {
        let collections = match resource_id {
            Some(r) => Some(self.collections_of(r)?),
            None => None,
        };
        Ok(self
            .deployments()?
            .into_iter()
            .filter(|d| d.availability.available_to_media())
            .filter(|d| {
                collections
                    .as_ref()
                    .is_none_or(|c| c.contains(&d.collection_id))
            })
            .collect())
    }
}
