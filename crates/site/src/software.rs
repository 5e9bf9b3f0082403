//! Programs of packages and deployment types of applications (`docs/media.md`, "Programs and
//! deployment types"), and the software policy of a task sequence: what its Install Package
//! and Install Application steps may run, served with its policy and sealed on stand-alone
//! media.
//!
//! Applications are named in task sequences by their model name
//! (`ScopeId_<scope>/Application_<id>`); tsmedia gives each application
//! `ScopeId_<site code>/Application_<package ID>` and lets the administrator set the name an
//! exported task sequence uses ([`Site::set_model_name`]).

use rusqlite::{OptionalExtension, Row, Transaction, params};
use serde::Serialize;
use tsmedia_mediafmt::software::{
    AfterRunning, Application, DeploymentType, Detection, Program, Requirement, RunMode,
    SoftwarePolicy,
};

use crate::error::{Error, Result};
use crate::package::{PackageType, package_type};
use crate::site::{Site, normalize_id};
use crate::time::now;

/// A program or application a task sequence names that the site does not have.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingSoftware {
    /// The package ID or application model name.
    pub package_id: String,
    /// The program name (`None` for an application without deployment types).
    pub program: Option<String>,
    /// The step naming it (empty for `<referenceList>`).
    pub step: String,
}

fn codes_text(codes: &[i64]) -> String {
    codes
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

fn codes_from(text: &str) -> Vec<i64> {
    text.split_whitespace()
        .filter_map(|c| c.parse().ok())
        .collect()
}

fn enum_text<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn enum_from<T: serde::de::DeserializeOwned + Default>(text: &str) -> T {
    serde_json::from_value(serde_json::Value::String(text.to_string())).unwrap_or_default()
}

/// Whether `name` has the shape of a model name: `ScopeId_<x>/Application_<y>`.
pub fn is_model_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    match lower.split_once('/') {
        Some((scope, app)) => {
            scope.len() > "scopeid_".len()
                && scope.starts_with("scopeid_")
                && app.len() > "application_".len()
                && app.starts_with("application_")
                && !name.contains(char::is_whitespace)
        }
        None => false,
    }
}

pub(crate) fn set_default_model_name(tx: &Transaction<'_>, id: &str) -> Result<()> {
    tx.execute(
        "UPDATE packages SET model_name = 'ScopeId_' || (SELECT code FROM site) || '/Application_' || id
         WHERE id = ?1",
        [id],
    )
    .map_err(Error::db(format!("naming application {id}")))?;
    Ok(())
}

fn program_row(r: &Row<'_>) -> rusqlite::Result<Program> {
    Ok(Program {
        package_id: r.get(0)?,
        name: r.get(1)?,
        command_line: r.get(2)?,
        working_dir: r.get(3)?,
        run_mode: enum_from::<RunMode>(&r.get::<_, String>(4)?),
        max_run_minutes: r.get(5)?,
        after_running: enum_from::<AfterRunning>(&r.get::<_, String>(6)?),
        success_codes: codes_from(&r.get::<_, String>(7)?),
        restart_codes: codes_from(&r.get::<_, String>(8)?),
    })
}

fn deployment_type_row(r: &Row<'_>) -> rusqlite::Result<(String, String, DeploymentType)> {
    let json_err = |i: usize, e: serde_json::Error| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    };
    let detection: Detection =
        serde_json::from_str(&r.get::<_, String>(5)?).map_err(|e| json_err(5, e))?;
    let requirements: Vec<Requirement> =
        serde_json::from_str(&r.get::<_, String>(6)?).map_err(|e| json_err(6, e))?;
    Ok((
        r.get(0)?,
        r.get::<_, Option<String>>(10)?.unwrap_or_default(),
        DeploymentType {
            name: r.get(1)?,
            priority: r.get(2)?,
            install_command: r.get(3)?,
            uninstall_command: r.get(4)?,
            detection,
            requirements,
            max_run_minutes: r.get(7)?,
            success_codes: codes_from(&r.get::<_, String>(8)?),
            restart_codes: codes_from(&r.get::<_, String>(9)?),
        },
    ))
}

const DT_COLUMNS: &str = "d.application_id, d.name, d.priority, d.install_command, d.uninstall_command,
     d.detection, d.requirements, d.max_run_minutes, d.success_codes, d.restart_codes, p.model_name";

fn check_type(tx: &rusqlite::Connection, id: &str, kind: PackageType) -> Result<()> {
    let found = package_type(tx, id)?;
    if found != kind {
        return Err(Error::WrongType {
            id: id.to_string(),
            expected: kind.to_string(),
            found: found.to_string(),
        });
    }
    Ok(())
}

impl Site {
    /// Adds a program to package `program.package_id` (a package of type `package`).
    pub fn add_program(&mut self, program: &Program) -> Result<Program> {
        let id = normalize_id(&program.package_id);
        let name = program.name.trim();
        if name.is_empty() || name.chars().count() > 50 {
            return Err(Error::invalid(
                "program name",
                format!("{name:?} (1 to 50 characters)"),
            ));
        }
        if program.command_line.trim().is_empty() {
            return Err(Error::invalid(
                format!("program {name:?}"),
                "empty command line",
            ));
        }
        let tx = self.transaction("adding a program")?;
        check_type(&tx, &id, PackageType::Package)?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT name FROM programs WHERE package_id = ?1 AND name = ?2",
                params![id, name],
                |r| r.get(0),
            )
            .optional()
            .map_err(Error::db("looking up programs"))?;
        if let Some(existing) = existing {
            return Err(Error::Duplicate {
                kind: "program",
                name: name.to_string(),
                existing: format!("program {existing:?} of {id}"),
            });
        }
        tx.execute(
            "INSERT INTO programs (package_id, name, command_line, working_dir, run_mode,
                                   max_run_minutes, after_running, success_codes, restart_codes,
                                   created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                id,
                name,
                program.command_line,
                program.working_dir,
                enum_text(&program.run_mode),
                program.max_run_minutes,
                enum_text(&program.after_running),
                codes_text(&program.success_codes),
                codes_text(&program.restart_codes),
                now()
            ],
        )
        .map_err(Error::db(format!("adding program {name:?} to {id}")))?;
        tx.commit()
            .map_err(Error::db(format!("adding program {name:?} to {id}")))?;
        self.programs(&id)?
            .into_iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| Error::not_found("program", format!("{name:?} of {id}")))
    }

    /// The programs of a package, by name.
    pub fn programs(&self, package_id: &str) -> Result<Vec<Program>> {
        let id = normalize_id(package_id);
        package_type(&self.conn, &id)?;
        self.conn
            .prepare(
                "SELECT package_id, name, command_line, working_dir, run_mode, max_run_minutes,
                        after_running, success_codes, restart_codes
                 FROM programs WHERE package_id = ?1 ORDER BY name COLLATE NOCASE",
            )
            .and_then(|mut s| s.query_map([&id], program_row)?.collect())
            .map_err(Error::db(format!("reading the programs of {id}")))
    }

    /// Removes program `name` of a package.
    pub fn remove_program(&mut self, package_id: &str, name: &str) -> Result<()> {
        let id = normalize_id(package_id);
        package_type(&self.conn, &id)?;
        let n = self
            .conn
            .execute(
                "DELETE FROM programs WHERE package_id = ?1 AND name = ?2",
                params![id, name.trim()],
            )
            .map_err(Error::db(format!("removing program {name:?} of {id}")))?;
        if n == 0 {
            return Err(Error::not_found("program", format!("{name:?} of {id}")));
        }
        Ok(())
    }

    /// Sets the model name of an application (the name an exported task sequence uses).
    pub fn set_model_name(&mut self, application_id: &str, model_name: &str) -> Result<()> {
        let id = normalize_id(application_id);
        let model_name = model_name.trim();
        if !is_model_name(model_name) {
            return Err(Error::invalid(
                "model name",
                format!("{model_name:?} (expected ScopeId_<scope>/Application_<id>)"),
            ));
        }
        let tx = self.transaction("naming an application")?;
        check_type(&tx, &id, PackageType::Application)?;
        let other: Option<String> = tx
            .query_row(
                "SELECT id FROM packages WHERE model_name = ?1 COLLATE NOCASE AND id <> ?2",
                params![model_name, id],
                |r| r.get(0),
            )
            .optional()
            .map_err(Error::db("looking up model names"))?;
        if let Some(other) = other {
            return Err(Error::Duplicate {
                kind: "model name",
                name: model_name.to_string(),
                existing: format!("application {other}"),
            });
        }
        tx.execute(
            "UPDATE packages SET model_name = ?2 WHERE id = ?1",
            params![id, model_name],
        )
        .map_err(Error::db(format!("naming application {id}")))?;
        tx.commit()
            .map_err(Error::db(format!("naming application {id}")))
    }

    /// The application package with this model name (compared without case).
    pub fn application_by_model_name(&self, model_name: &str) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT id FROM packages WHERE model_name = ?1 COLLATE NOCASE",
                [model_name.trim()],
                |r| r.get(0),
            )
            .optional()
            .map_err(Error::db("looking up model names"))
    }

    /// Adds a deployment type to an application.
    pub fn add_deployment_type(
        &mut self,
        application_id: &str,
        dt: &DeploymentType,
    ) -> Result<DeploymentType> {
        let id = normalize_id(application_id);
        let name = dt.name.trim();
        if name.is_empty() {
            return Err(Error::invalid("deployment type name", "empty"));
        }
        if dt.install_command.trim().is_empty() {
            return Err(Error::invalid(
                format!("deployment type {name:?}"),
                "empty installation program",
            ));
        }
        let detection = serde_json::to_string(&dt.detection).expect("plain data serialises");
        let requirements = serde_json::to_string(&dt.requirements).expect("plain data serialises");
        let tx = self.transaction("adding a deployment type")?;
        check_type(&tx, &id, PackageType::Application)?;
        let existing: Option<String> = tx
            .query_row(
                "SELECT name FROM deployment_types WHERE application_id = ?1 AND name = ?2",
                params![id, name],
                |r| r.get(0),
            )
            .optional()
            .map_err(Error::db("looking up deployment types"))?;
        if let Some(existing) = existing {
            return Err(Error::Duplicate {
                kind: "deployment type",
                name: name.to_string(),
                existing: format!("deployment type {existing:?} of {id}"),
            });
        }
        tx.execute(
            "INSERT INTO deployment_types (application_id, name, priority, install_command,
                 uninstall_command, detection, requirements, max_run_minutes, success_codes,
                 restart_codes, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                id,
                name,
                dt.priority,
                dt.install_command,
                dt.uninstall_command,
                detection,
                requirements,
                dt.max_run_minutes,
                codes_text(&dt.success_codes),
                codes_text(&dt.restart_codes),
                now()
            ],
        )
        .map_err(Error::db(format!(
            "adding deployment type {name:?} to {id}"
        )))?;
        tx.commit().map_err(Error::db(format!(
            "adding deployment type {name:?} to {id}"
        )))?;
        self.deployment_types(&id)?
            .into_iter()
            .find(|d| d.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| Error::not_found("deployment type", format!("{name:?} of {id}")))
    }

    /// The deployment types of an application, by priority.
    pub fn deployment_types(&self, application_id: &str) -> Result<Vec<DeploymentType>> {
        let id = normalize_id(application_id);
        check_type(&self.conn, &id, PackageType::Application)?;
        let rows: Vec<(String, String, DeploymentType)> = self
            .conn
            .prepare(&format!(
                "SELECT {DT_COLUMNS} FROM deployment_types d JOIN packages p ON p.id = d.application_id
                 WHERE d.application_id = ?1 ORDER BY d.priority, d.name COLLATE NOCASE"
            ))
            .and_then(|mut s| s.query_map([&id], deployment_type_row)?.collect())
            .map_err(Error::db(format!("reading the deployment types of {id}")))?;
        Ok(rows.into_iter().map(|(_, _, d)| d).collect())
    }

    /// Removes deployment type `name` of an application.
    pub fn remove_deployment_type(&mut self, application_id: &str, name: &str) -> Result<()> {
        let id = normalize_id(application_id);
        check_type(&self.conn, &id, PackageType::Application)?;
        let n = self
            .conn
            .execute(
                "DELETE FROM deployment_types WHERE application_id = ?1 AND name = ?2",
                params![id, name.trim()],
            )
            .map_err(Error::db(format!(
                "removing deployment type {name:?} of {id}"
            )))?;
        if n == 0 {
            return Err(Error::not_found(
                "deployment type",
                format!("{name:?} of {id}"),
            ));
        }
        Ok(())
    }

    /// The software policy of a set of packages: the programs of its packages and the
    /// applications with their deployment types.
    pub fn software_policy_of(&self, package_ids: &[String]) -> Result<SoftwarePolicy> {
        let mut policy = SoftwarePolicy::default();
        for id in package_ids {
            let package = self.package(id)?;
            match package.kind {
                PackageType::Package => policy.programs.extend(self.programs(&package.id)?),
                PackageType::Application => policy.applications.push(Application {
                    deployment_types: self.deployment_types(&package.id)?,
                    model_name: package.model_name.clone().unwrap_or_default(),
                    name: package.name,
                    package_id: package.id,
                }),
                _ => {}
            }
        }
        Ok(policy)
    }

    /// The software policy of a task sequence: what every package and application it
    /// references (with dependencies) may run.
    pub fn software_policy(&self, ts_id: &str) -> Result<SoftwarePolicy> {
        self.software_policy_of(&self.task_sequence_packages(ts_id)?)
    }

    /// Programs the steps of a task sequence name (`PackageID` + `ProgramName`, and
    /// `<referenceList>` entries with a `program`) that the site does not have, and
    /// applications it names that have no deployment type.
    pub fn missing_software(&self, ts_id: &str) -> Result<Vec<MissingSoftware>> {
        let ts = self.task_sequence(ts_id)?;
        let mut out = Vec::new();
        for (package, program, step) in ts.sequence.program_uses() {
            let id = normalize_id(&package);
            if !matches!(package_type(&self.conn, &id), Ok(PackageType::Package)) {
                continue;
            }
            let has = self
                .programs(&id)?
                .iter()
                .any(|p| p.name.eq_ignore_ascii_case(&program));
            if !has {
                out.push(MissingSoftware {
                    package_id: id,
                    program: Some(program),
                    step,
                });
            }
        }
        for r in self.task_sequence_references(ts_id)? {
            if r.resolved
                && r.kind == Some(PackageType::Application)
                && self.deployment_types(&r.package_id)?.is_empty()
            {
                out.push(MissingSoftware {
                    package_id: r.package_id,
                    program: None,
                    step: r.steps.first().cloned().unwrap_or_default(),
                });
            }
        }
        out.dedup();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::is_model_name;

    #[test]
    fn model_name_shape() {
        assert!(is_model_name(
            "ScopeId_7E9C2B28-56D7-4E4F-BCF6-7E3E3A3F1F44/Application_2a5d7c1e-0000-4000-8000-000000000001"
        ));
        assert!(is_model_name("ScopeId_PS1/Application_PS100004"));
        for bad in [
            "PS100004",
            "ScopeId_/Application_x",
            "ScopeId_x/Application_",
            "x/y",
            "ScopeId_a b/Application_c",
        ] {
            assert!(!is_model_name(bad), "{bad}");
        }
    }
}
