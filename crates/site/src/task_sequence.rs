//! Task sequences stored at the site: the imported XML, the parsed model, an optional boot
//! image, and the resolution of the content they reference to site packages.

use std::collections::BTreeMap;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use tsmedia_tasksequence::TaskSequence;

use crate::error::{Error, Result};
use crate::package::{PackageType, package_type};
use crate::site::{Site, allocate_id, normalize_id};
use crate::time::{Timestamp, now};

/// A task sequence as stored.
#[derive(Debug, Clone, Serialize)]
pub struct StoredTaskSequence {
    /// `<site code><5 hex digits>`.
    pub id: String,
    /// Display name (unique).
    pub name: String,
    /// Boot image package the task sequence is associated with.
    pub boot_image: Option<String>,
    /// The model (its fields appear at the top level of the JSON).
    #[serde(flatten)]
    pub sequence: TaskSequence,
    /// When it was imported.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// One line of `tsmedia ts list`.
#[derive(Debug, Clone, Serialize)]
pub struct TaskSequenceSummary {
    /// ID.
    pub id: String,
    /// Name.
    pub name: String,
    /// Boot image package.
    pub boot_image: Option<String>,
    /// Number of steps, groups not counted.
    pub step_count: usize,
    /// When it was imported.
    pub created_at: Timestamp,
}

/// A piece of content a task sequence needs, resolved against the site's packages.
#[derive(Debug, Clone, Serialize)]
pub struct ContentReference {
    /// The package ID (or application unique ID) as referenced.
    pub package_id: String,
    /// Names of the steps that use it (empty for the boot image, `<referenceList>` entries,
    /// global variables and dependencies).
    pub steps: Vec<String>,
    /// Why it is needed besides steps: `boot image`, or `dependency of <ID>`.
    pub needed_by: Vec<String>,
    /// Whether every use is in a disabled step or group.
    pub only_disabled: bool,
    /// Whether a site package has this ID.
    pub resolved: bool,
    /// The package's name, when resolved.
    pub name: Option<String>,
    /// The package's type, when resolved.
    #[serde(rename = "type")]
    pub kind: Option<PackageType>,
    /// Its current content version, when resolved.
    pub content_id: Option<String>,
    /// Its current size, when resolved.
    pub size: Option<u64>,
    /// Distribution points holding its current content version.
    pub distributed_to: Vec<String>,
}

/// The result of importing a task sequence.
#[derive(Debug, Clone, Serialize)]
pub struct ImportedTaskSequence {
    /// The new task sequence's ID.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Number of steps.
    pub step_count: usize,
    /// Referenced package IDs that no site package has.
    pub unresolved: Vec<ContentReference>,
}

impl Site {
    /// Imports a Configuration Manager or MDT `<sequence>` document as a new task sequence.
    /// References to packages the site does not have are returned in `unresolved`.
    pub fn import_task_sequence(
        &mut self,
        xml: &str,
        name: &str,
        boot_image: Option<&str>,
    ) -> Result<ImportedTaskSequence> {
        let name = name.trim().to_string();
        if name.is_empty() {
            return Err(Error::invalid("task sequence name", "empty"));
        }
        let sequence = TaskSequence::from_xml(xml).map_err(|e| Error::TaskSequence {
            name: name.clone(),
            reason: e.to_string(),
        })?;
        let model = serde_json::to_string(&sequence).map_err(|e| Error::TaskSequence {
            name: name.clone(),
            reason: format!("cannot store the model: {e}"),
        })?;
        let boot_image = boot_image.map(normalize_id);
        let at = now();
        let tx = self.transaction("importing a task sequence")?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT id, name FROM task_sequences WHERE name = ?1 COLLATE NOCASE",
                [&name],
                |r| {
                    Ok(format!(
                        "task sequence {} {:?}",
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?
                    ))
                },
            )
            .optional()
            .map_err(Error::db("looking up task sequence names"))?;
        if let Some(existing) = existing {
            return Err(Error::Duplicate {
                kind: "task sequence",
                name,
                existing,
            });
        }
        if let Some(boot) = &boot_image {
            let kind = package_type(&tx, boot)?;
            if kind != PackageType::BootImage {
                return Err(Error::WrongType {
                    id: boot.clone(),
                    expected: PackageType::BootImage.to_string(),
                    found: kind.to_string(),
                });
            }
        }
        let id = allocate_id(&tx)?;
        tx.execute(
            "INSERT INTO task_sequences (id, name, boot_image, xml, model, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            params![id, name, boot_image, xml, model, at],
        )
        .map_err(Error::db(format!("importing task sequence {id}")))?;
        tx.commit()
            .map_err(Error::db(format!("importing task sequence {id}")))?;
        let unresolved = self
            .task_sequence_references(&id)?
            .into_iter()
            .filter(|r| !r.resolved)
            .collect();
        Ok(ImportedTaskSequence {
            step_count: sequence.all_steps().len(),
            id,
            name,
            unresolved,
        })
    }

    /// The task sequence with this ID.
    pub fn task_sequence(&self, id: &str) -> Result<StoredTaskSequence> {
        let id = normalize_id(id);
        let row: Option<(String, String, Option<String>, String, i64, i64)> = self
            .conn
            .query_row(
                "SELECT id, name, boot_image, model, created_at, updated_at
                 FROM task_sequences WHERE id = ?1",
                [&id],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                    ))
                },
            )
            .optional()
            .map_err(Error::db(format!("reading task sequence {id}")))?;
        let (id, name, boot_image, model, created, updated) =
            row.ok_or_else(|| Error::not_found("task sequence", &id))?;
        let sequence = serde_json::from_str(&model).map_err(|e| Error::TaskSequence {
            name: id.clone(),
            reason: format!("stored model is unreadable: {e}"),
        })?;
        Ok(StoredTaskSequence {
            id,
            name,
            boot_image,
            sequence,
            created_at: Timestamp(created),
            updated_at: Timestamp(updated),
        })
    }

    /// The XML exactly as it was imported.
    pub fn task_sequence_source_xml(&self, id: &str) -> Result<String> {
        let id = normalize_id(id);
        self.conn
            .query_row("SELECT xml FROM task_sequences WHERE id = ?1", [&id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(Error::db(format!("reading task sequence {id}")))?
            .ok_or_else(|| Error::not_found("task sequence", id))
    }

    /// Every task sequence, by ID.
    pub fn task_sequences(&self) -> Result<Vec<TaskSequenceSummary>> {
        let ids: Vec<String> = self
            .conn
            .prepare("SELECT id FROM task_sequences ORDER BY id")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .map_err(Error::db("listing task sequences"))?;
        ids.iter()
            .map(|id| {
                let ts = self.task_sequence(id)?;
                Ok(TaskSequenceSummary {
                    step_count: ts.sequence.all_steps().len(),
                    id: ts.id,
                    name: ts.name,
                    boot_image: ts.boot_image,
                    created_at: ts.created_at,
                })
            })
            .collect()
    }

    pub(crate) fn has_task_sequence(&self, id: &str) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM task_sequences WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .map_err(Error::db(format!("looking up {id}")))
    }

    /// The content a task sequence needs: every package its steps, variables and reference
    /// list name, its boot image, and (transitively) the packages those depend on.
    pub fn task_sequence_references(&self, id: &str) -> Result<Vec<ContentReference>> {
        let ts = self.task_sequence(id)?;
        let mut refs: BTreeMap<String, ContentReference> = BTreeMap::new();
        let blank = |package_id: &str| ContentReference {
            package_id: package_id.to_string(),
            steps: Vec::new(),
            needed_by: Vec::new(),
            only_disabled: true,
            resolved: false,
            name: None,
            kind: None,
            content_id: None,
            size: None,
            distributed_to: Vec::new(),
        };
        for r in ts.sequence.references() {
            let key = if tsmedia_tasksequence::is_package_id(&r.package_id) {
                normalize_id(&r.package_id)
            } else {
                // An application's model name stands for its package.
                self.application_by_model_name(&r.package_id)?
                    .unwrap_or_else(|| r.package_id.clone())
            };
            let entry = refs.entry(key.clone()).or_insert_with(|| blank(&key));
            if !r.step.is_empty() && !entry.steps.contains(&r.step) {
                entry.steps.push(r.step.clone());
            }
            entry.only_disabled &= r.disabled;
        }
        if let Some(boot) = &ts.boot_image {
            let entry = refs.entry(boot.clone()).or_insert_with(|| blank(boot));
            entry.needed_by.push("boot image".into());
            entry.only_disabled = false;
        }
        // Dependencies, transitively.
        let mut queue: Vec<String> = refs.keys().cloned().collect();
        while let Some(pkg) = queue.pop() {
            let deps: Vec<String> = self
                .conn
                .prepare_cached("SELECT depends_on FROM package_dependencies WHERE package_id = ?1")
                .and_then(|mut s| s.query_map([&pkg], |r| r.get(0))?.collect())
                .map_err(Error::db(format!("reading dependencies of {pkg}")))?;
            for dep in deps {
                let fresh = !refs.contains_key(&dep);
                let only_disabled = refs.get(&pkg).is_some_and(|r| r.only_disabled);
                let entry = refs.entry(dep.clone()).or_insert_with(|| blank(&dep));
                let why = format!("dependency of {pkg}");
                if !entry.needed_by.contains(&why) {
                    entry.needed_by.push(why);
                }
                entry.only_disabled &= only_disabled;
                if fresh {
                    queue.push(dep);
                }
            }
        }
        for entry in refs.values_mut() {
            let package = match self.package(&entry.package_id) {
                Ok(p) => p,
                Err(Error::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            };
            entry.resolved = true;
            entry.name = Some(package.name);
            entry.kind = Some(package.kind);
            entry.size = Some(package.size);
            entry.distributed_to = self.dps_holding(&package.content_id)?;
            entry.content_id = Some(package.content_id);
        }
        Ok(refs.into_values().collect())
    }

    /// IDs of the site packages a task sequence needs (resolved references only).
    pub(crate) fn task_sequence_packages(&self, id: &str) -> Result<Vec<String>> {
        Ok(self
            .task_sequence_references(id)?
            .into_iter()
            .filter(|r| r.resolved)
            .map(|r| r.package_id)
            .collect())
    }
}
