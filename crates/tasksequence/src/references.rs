//! Content references: which packages, images and applications a task sequence needs.
//!
//! Sources, all searched (a package found in several places is reported once per place):
//! - step command lines: `/switch:ID` arguments such as `OSDApplyOS.exe /image:PS100004,1`,
//!   `smsswd.exe /pkg:PS100006`, `osddriverclient.exe /install:PS100007`;
//! - step variables (`<defaultVarList>`) whose name or property names a package
//!   (`PackageID`, `OSDApplyDriverDriverPackageID`, `OSDDataImagePackageId`,
//!   `OSDDownloadDownloadPackages` lists, ...) and application variables (`OSDApp0Name`,
//!   Install Application's `ApplicationName`, a comma-separated list of model names);
//! - package-naming global variables;
//! - `<referenceList><reference package="..."/>`, when present. The SDK keeps the site's own
//!   list in `SMS_TaskSequencePackage.References` (`SMS_TaskSequence_Reference`: `Package`,
//!   `Program`, `Type` 0 = package, 1 = application model name); whether, and in which
//!   versions, it is also written inside `<sequence>` is not publicly documented [unknown].
//!   When present it is read, with `type="1"` marking an application.
//!
//! Package IDs are a three-character site code followed by five hexadecimal digits.

use serde::{Deserialize, Serialize};

use crate::model::{Node, Step, TaskSequence, Variable};

/// One piece of content a task sequence uses.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reference {
    /// Package ID (`PS100004`), or an application's unique ID (`ScopeId_.../Application_...`).
    pub package_id: String,
    /// Name of the step that uses it; empty for `<referenceList>` and global variables.
    pub step: String,
    /// What kind of content it is, as far as the place it was found tells.
    pub kind: ReferenceKind,
    /// Where it was found.
    pub found_in: ReferenceSource,
    /// The step, or a group around it, is disabled.
    pub disabled: bool,
}

/// The kind of referenced content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReferenceKind {
    /// An operating system image (also a data image applied by Apply Data Image).
    OsImage,
    /// An operating system installer / upgrade package.
    OsUpgradePackage,
    /// A boot image.
    BootImage,
    /// A driver package.
    DriverPackage,
    /// A Configuration Manager client package.
    ClientPackage,
    /// A classic package (programs, scripts, configuration files).
    Package,
    /// An application (identified by its unique ID, not a package ID).
    Application,
    /// Named by `<referenceList>` only; the kind is not recorded there.
    Unknown,
}

/// Where a reference was found.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReferenceSource {
    /// A `/switch:` argument of the step's `<action>` command line.
    Action {
        /// The switch, without `/` and `:` (`image`, `pkg`, ...).
        switch: String,
    },
    /// A step variable of `<defaultVarList>`.
    StepVariable {
        /// The variable name.
        name: String,
    },
    /// A `<globalVarList>` variable.
    GlobalVariable {
        /// The variable name.
        name: String,
    },
    /// `<referenceList>`.
    ReferenceList,
}

/// Whether `s` has the shape of a package ID: three alphanumerics, five hex digits.
pub fn is_package_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 8
        && b[..3].iter().all(u8::is_ascii_alphanumeric)
        && b[3..].iter().all(u8::is_ascii_hexdigit)
}

/// `<reference ... type="1">`: an application reference (`SMS_TaskSequence_Reference.Type`).
fn is_application_entry(entry: &crate::model::ReferenceEntry) -> bool {
    entry
        .attributes
        .iter()
        .any(|a| a.name.eq_ignore_ascii_case("type") && a.value.trim() == "1")
}

/// Whether `s` is an application unique ID (`ScopeId_<guid>/Application_<guid>`).
fn is_application_id(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    lower.starts_with("scopeid_") && lower.contains("/application_")
}

pub(crate) fn program_uses(ts: &TaskSequence) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for step in ts.all_steps() {
        if !type_is(&step.step_type, "InstallSoftwareAction") {
            continue;
        }
        let package = step
            .variable("PackageID")
            .or_else(|| step.property("PackageID"));
        let program = step
            .variable("_SMSSWDProgramName")
            .or_else(|| step.property("ProgramName"));
        if let (Some(package), Some(program)) = (package, program)
            && is_package_id(package.trim())
            && !program.trim().is_empty()
        {
            out.push((
                package.trim().to_string(),
                program.trim().to_string(),
                step.name.clone(),
            ));
        }
    }
    for entry in ts.reference_list.iter().flatten() {
        let program = entry
            .attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case("program"))
            .map(|a| a.value.trim())
            .filter(|p| !p.is_empty());
        if let (Some(package), Some(program)) = (entry.package.as_deref(), program)
            && is_package_id(package.trim())
        {
            out.push((
                package.trim().to_string(),
                program.to_string(),
                String::new(),
            ));
        }
    }
    out
}

pub(crate) fn collect(ts: &TaskSequence) -> Vec<Reference> {
    let mut out = Vec::new();
    for v in &ts.global_variables {
        for (id, kind) in variable_ids(v, None) {
            out.push(Reference {
                package_id: id,
                step: String::new(),
                kind,
                found_in: ReferenceSource::GlobalVariable {
                    name: v.name.clone(),
                },
                disabled: false,
            });
        }
    }
    walk(&ts.steps, false, &mut out);
    if let Some(list) = &ts.reference_list {
        for entry in list {
            let Some(id) = entry.package.as_deref().filter(|p| !p.is_empty()) else {
                continue;
            };
            let kind = out
                .iter()
                .find(|r| r.package_id.eq_ignore_ascii_case(id))
                .map(|r| r.kind)
                .unwrap_or(if is_application_id(id) || is_application_entry(entry) {
                    ReferenceKind::Application
                } else {
                    ReferenceKind::Unknown
                });
            out.push(Reference {
                package_id: id.to_string(),
                step: String::new(),
                kind,
                found_in: ReferenceSource::ReferenceList,
                disabled: false,
            });
        }
    }
    out
}

fn walk(nodes: &[Node], disabled: bool, out: &mut Vec<Reference>) {
    for node in nodes {
        match node {
            Node::Group(g) => walk(&g.children, disabled || g.disabled, out),
            Node::Step(s) => step_refs(s, disabled || s.disabled, out),
        }
    }
}

fn step_refs(step: &Step, disabled: bool, out: &mut Vec<Reference>) {
    if let Some(action) = &step.action {
        for (switch, id) in action_ids(action) {
            out.push(Reference {
                kind: kind_for_switch(&step.step_type, &switch),
                package_id: id,
                step: step.name.clone(),
                found_in: ReferenceSource::Action { switch },
                disabled,
            });
        }
    }
    for v in &step.variables {
        for (id, kind) in variable_ids(v, Some(&step.step_type)) {
            out.push(Reference {
                package_id: id,
                step: step.name.clone(),
                kind,
                found_in: ReferenceSource::StepVariable {
                    name: v.name.clone(),
                },
                disabled,
            });
        }
    }
}

/// `/switch:ID[,...]` arguments of a command line whose first value is a package ID.
fn action_ids(action: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = action;
    while let Some(slash) = rest.find('/') {
        rest = &rest[slash + 1..];
        let switch_len = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        if switch_len == 0 || rest.as_bytes().get(switch_len) != Some(&b':') {
            continue;
        }
        let switch = &rest[..switch_len];
        let value = &rest[switch_len + 1..];
        let end = value
            .find(|c: char| c == ',' || c == '"' || c == ';' || c.is_whitespace())
            .unwrap_or(value.len());
        let candidate = &value[..end];
        if is_package_id(candidate) {
            out.push((switch.to_ascii_lowercase(), candidate.to_string()));
        }
        rest = &value[end..];
    }
    out
}

fn kind_for_switch(step_type: &str, switch: &str) -> ReferenceKind {
    match switch {
        "image" | "data" => ReferenceKind::OsImage,
        "source" => ReferenceKind::OsUpgradePackage,
        "install" if type_is(step_type, "ApplyDriverPackageAction") => ReferenceKind::DriverPackage,
        "client" => ReferenceKind::ClientPackage,
        // Apply Operating System's unattend/sysprep answer file package.
        "config" => ReferenceKind::Package,
        _ => kind_for_step(step_type),
    }
}

fn kind_for_step(step_type: &str) -> ReferenceKind {
    if type_is(step_type, "ApplyDriverPackageAction") {
        ReferenceKind::DriverPackage
    } else if type_is(step_type, "ApplyDataImageAction")
        || type_is(step_type, "ApplyOperatingSystemAction")
    {
        ReferenceKind::OsImage
    } else if type_is(step_type, "UpgradeOperatingSystemAction") {
        ReferenceKind::OsUpgradePackage
    } else if type_is(step_type, "SetupWindowsAndSMSAction") {
        ReferenceKind::ClientPackage
    } else {
        ReferenceKind::Package
    }
}

fn type_is(step_type: &str, suffix: &str) -> bool {
    step_type.len() >= suffix.len()
        && step_type[step_type.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

/// Package (or application) IDs a variable names, with their kind.
fn variable_ids(v: &Variable, step_type: Option<&str>) -> Vec<(String, ReferenceKind)> {
    let name = v.name.to_ascii_lowercase();
    let property = v.property.as_deref().unwrap_or("").to_ascii_lowercase();
    let names_app = (name.starts_with("osdapp") && name.ends_with("name"))
        || (property.starts_with("appinfo") && property.ends_with("name"));
    if names_app && is_application_id(v.value.trim()) {
        return vec![(v.value.trim().to_string(), ReferenceKind::Application)];
    }
    // Install Application's `ApplicationName`: a comma-separated list of model names.
    if name == "applicationname" || property == "applicationname" {
        return v
            .value
            .split(',')
            .map(str::trim)
            .filter(|a| is_application_id(a) || is_package_id(a))
            .map(|a| (a.to_string(), ReferenceKind::Application))
            .collect();
    }
    let says = |word: &str| name.contains(word) || property.contains(word);
    if !says("package") && !says("bootimage") {
        return Vec::new();
    }
    let kind = if says("bootimage") {
        ReferenceKind::BootImage
    } else if says("driverpackage") {
        ReferenceKind::DriverPackage
    } else if says("imagepackage") {
        ReferenceKind::OsImage
    } else if says("configfilepackage") || says("syspreppackage") {
        ReferenceKind::Package
    } else if says("clientpackage") {
        ReferenceKind::ClientPackage
    } else if says("installpackage") || says("upgradepackage") {
        ReferenceKind::OsUpgradePackage
    } else {
        step_type.map_or(ReferenceKind::Package, kind_for_step)
    };
    v.value
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|part| is_package_id(part))
        .map(|part| (part.to_string(), kind))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_id_shape() {
        for (s, ok) in [
            ("PS100004", true),
            ("ps1000ab", true),
            ("CM1FFFFF", true),
            ("PS10004", false),
            ("PS1000G4", false),
            ("PS1000045", false),
            ("P-100004", false),
            ("", false),
        ] {
            assert_eq!(is_package_id(s), ok, "{s}");
        }
    }

    #[test]
    fn install_steps_name_programs_and_applications() {
        let ts = TaskSequence::from_xml(
            r#"<sequence version="3.10">
  <referenceList><reference package="PS100009" program="Setup" type="0"/></referenceList>
  <step type="SMS_TaskSequence_InstallSoftwareAction" name="Install Tools">
    <action>smsswd.exe /pkg:PS100006 /install /basevar: /continueOnError:</action>
    <defaultVarList>
      <variable name="PackageID" property="PackageID">PS100006</variable>
      <variable name="_SMSSWDProgramName" property="ProgramName">Install</variable>
    </defaultVarList>
  </step>
  <step type="SMS_TaskSequence_InstallApplicationAction" name="Install Apps">
    <action>smsappinstall.exe /app:%ApplicationName% /basevar: /continueOnError:False</action>
    <defaultVarList>
      <variable name="ApplicationName" property="ApplicationName">ScopeId_A/Application_B, ScopeId_A/Application_C</variable>
    </defaultVarList>
  </step>
</sequence>"#,
        )
        .unwrap();
        assert_eq!(
            ts.program_uses(),
            vec![
                ("PS100006".into(), "Install".into(), "Install Tools".into()),
                ("PS100009".into(), "Setup".into(), String::new()),
            ]
        );
        let apps: Vec<String> = ts
            .references()
            .into_iter()
            .filter(|r| r.kind == ReferenceKind::Application)
            .map(|r| r.package_id)
            .collect();
        assert_eq!(
            apps,
            vec!["ScopeId_A/Application_B", "ScopeId_A/Application_C"]
        );
    }

    #[test]
    fn action_switches() {
        let ids = action_ids(
            r#"OSDApplyOS.exe /image:PS100004,%OSDImageIndex% "/config:PS100005,unattend.xml" /runfromnet:False /target:C:"#,
        );
        assert_eq!(
            ids,
            vec![
                ("image".to_string(), "PS100004".to_string()),
                ("config".to_string(), "PS100005".to_string())
            ]
        );
        assert!(action_ids("cmd.exe /c echo /x: //").is_empty());
    }
}
