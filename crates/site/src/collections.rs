//! Collections of computers, with variables; the built-in "All Systems" and
//! "All Unknown Computers" collections have rule-based membership.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::site::{Site, allocate_id, normalize_id};
use crate::time::{Timestamp, now};

/// A collection.
#[derive(Debug, Clone, Serialize)]
pub struct Collection {
    /// `<site code><5 hex digits>`, or `SMS00001` / `SMS000US` for the built-in ones.
    pub id: String,
    /// Name (unique).
    pub name: String,
    /// Whether membership is automatic (built-in collections).
    pub builtin: bool,
    /// Members.
    pub members: Vec<CollectionMember>,
    /// Collection variables, by name.
    pub variables: Vec<CollectionVariable>,
    /// When it was made.
    pub created_at: Timestamp,
}

/// A member of a collection.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CollectionMember {
    /// Resource ID.
    pub resource_id: i64,
    /// Computer name.
    pub name: String,
}

/// A collection variable.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CollectionVariable {
    /// Variable name.
    pub name: String,
    /// Value.
    pub value: String,
}

impl Site {
    /// Creates an empty collection.
    pub fn add_collection(&mut self, name: &str) -> Result<Collection> {
        let name = name.trim().to_string();
        if name.is_empty() {
            return Err(Error::invalid("collection name", "empty"));
        }
        let tx = self.transaction("adding a collection")?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT id, name FROM collections WHERE name = ?1 COLLATE NOCASE",
                [&name],
                |r| {
                    Ok(format!(
                        "{} {:?}",
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?
                    ))
                },
            )
            .optional()
            .map_err(Error::db("looking up collections"))?;
        if let Some(existing) = existing {
            return Err(Error::Duplicate {
                kind: "collection",
                name,
                existing: format!("collection {existing}"),
            });
        }
        let id = allocate_id(&tx)?;
        tx.execute(
            "INSERT INTO collections (id, name, created_at) VALUES (?1, ?2, ?3)",
            params![id, name, now()],
        )
        .map_err(Error::db(format!("adding collection {id}")))?;
        tx.commit()
            .map_err(Error::db(format!("adding collection {id}")))?;
        self.collection(&id)
    }

    /// The ID of the collection with this ID or name.
    pub(crate) fn collection_id(&self, name_or_id: &str) -> Result<String> {
        let key = name_or_id.trim();
        self.conn
            .query_row(
                "SELECT id FROM collections WHERE id = ?1 OR name = ?2 COLLATE NOCASE",
                params![normalize_id(key), key],
                |r| r.get(0),
            )
            .optional()
            .map_err(Error::db("looking up collections"))?
            .ok_or_else(|| Error::not_found("collection", key))
    }

    /// The collection with this ID or name.
    pub fn collection(&self, name_or_id: &str) -> Result<Collection> {
        let id = self.collection_id(name_or_id)?;
        let (name, rule, created): (String, Option<String>, i64) = self
            .conn
            .query_row(
                "SELECT name, rule, created_at FROM collections WHERE id = ?1",
                [&id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(Error::db(format!("reading collection {id}")))?;
        let sql = match rule.as_deref() {
            Some("all") => {
                "SELECT resource_id, name FROM computers WHERE ?1 = ?1 ORDER BY resource_id"
            }
            Some("unknown") => {
                "SELECT resource_id, name FROM computers WHERE unknown_arch IS NOT NULL AND ?1 = ?1
                 ORDER BY resource_id"
            }
            _ => {
                "SELECT c.resource_id, c.name FROM collection_members m
                 JOIN computers c ON c.resource_id = m.resource_id
                 WHERE m.collection_id = ?1 ORDER BY c.resource_id"
            }
        };
        let members = self
            .conn
            .prepare(sql)
            .and_then(|mut s| {
                s.query_map([&id], |r| {
                    Ok(CollectionMember {
                        resource_id: r.get(0)?,
                        name: r.get(1)?,
                    })
                })?
                .collect()
            })
            .map_err(Error::db(format!("reading the members of {id}")))?;
        let variables = self
            .conn
            .prepare("SELECT name, value FROM collection_variables WHERE collection_id = ?1 ORDER BY name")
            .and_then(|mut s| {
                s.query_map([&id], |r| {
                    Ok(CollectionVariable {
                        name: r.get(0)?,
                        value: r.get(1)?,
                    })
                })?
                .collect()
            })
            .map_err(Error::db(format!("reading the variables of {id}")))?;
        Ok(Collection {
            id,
            name,
            builtin: rule.is_some(),
            members,
            variables,
            created_at: Timestamp(created),
        })
    }

    /// Every collection, by ID.
    pub fn collections(&self) -> Result<Vec<Collection>> {
        let ids: Vec<String> = self
            .conn
            .prepare("SELECT id FROM collections ORDER BY id")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(Error::db("listing collections"))?;
        ids.iter().map(|id| self.collection(id)).collect()
    }

    /// Adds computers (by name or resource ID) to a collection.
    pub fn add_collection_members(
        &mut self,
        collection: &str,
        computers: &[String],
    ) -> Result<Collection> {
        let id = self.collection_id(collection)?;
        let builtin: bool = self
            .conn
            .query_row(
                "SELECT rule IS NOT NULL FROM collections WHERE id = ?1",
                [&id],
                |r| r.get(0),
            )
            .map_err(Error::db(format!("reading collection {id}")))?;
        if builtin {
            return Err(Error::invalid(
                format!("collection {id}"),
                "membership of a built-in collection is automatic",
            ));
        }
        if computers.is_empty() {
            return Err(Error::invalid("members", "no computers given"));
        }
        let resources = computers
            .iter()
            .map(|c| self.computer(c).map(|c| c.id))
            .collect::<Result<Vec<_>>>()?;
        let tx = self.transaction("adding collection members")?;
        for r in resources {
            tx.execute(
                "INSERT OR IGNORE INTO collection_members (collection_id, resource_id) VALUES (?1, ?2)",
                params![id, r],
            )
            .map_err(Error::db(format!("adding resource {r} to {id}")))?;
        }
        tx.commit()
            .map_err(Error::db(format!("adding members to {id}")))?;
        self.collection(&id)
    }

    /// Sets a collection variable (replacing its value if it exists).
    pub fn set_collection_variable(
        &mut self,
        collection: &str,
        name: &str,
        value: &str,
    ) -> Result<Collection> {
        let id = self.collection_id(collection)?;
        let name = name.trim();
        if name.is_empty() || name.contains(['=', ' ']) {
            return Err(Error::invalid(
                format!("variable name {name:?}"),
                "empty or contains '=' or a space",
            ));
        }
        if name.starts_with('_') {
            return Err(Error::invalid(
                format!("variable name {name:?}"),
                "names starting with '_' are read-only task sequence variables",
            ));
        }
        let tx = self.transaction("setting a collection variable")?;
        tx.execute(
            "INSERT INTO collection_variables (collection_id, name, value) VALUES (?1, ?2, ?3)
             ON CONFLICT (collection_id, name) DO UPDATE SET value = ?3",
            params![id, name, value],
        )
        .map_err(Error::db(format!("setting {name} on {id}")))?;
        tx.commit()
            .map_err(Error::db(format!("setting {name} on {id}")))?;
        self.collection(&id)
    }

    /// IDs of the collections a computer is a member of (built-in ones included).
    pub fn collections_of(&self, resource_id: i64) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for c in self.collections()? {
            if c.members.iter().any(|m| m.resource_id == resource_id) {
                out.push(c.id);
            }
        }
        Ok(out)
    }
}
