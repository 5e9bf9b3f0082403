//! The step implementations, by concept.

pub(crate) mod capture;
pub(crate) mod command;
pub(crate) mod disk;
pub(crate) mod image;
pub(crate) mod package;
pub(crate) mod partitions;
pub(crate) mod setup;
pub(crate) mod software;
pub(crate) mod windows;

use tsmedia_tasksequence::{Step, StepError, Variables};

/// A step setting: the step variable named `name` or carrying `property`, expanded.
pub(crate) fn setting(step: &Step, env: &Variables, name: &str, property: &str) -> Option<String> {
    step.variable(name)
        .or_else(|| step.property(property))
        .or_else(|| env.get(name))
        .map(|v| env.expand(v))
        .filter(|v| !v.trim().is_empty())
}

/// A failure naming the step.
pub(crate) fn failed(step: &Step, what: impl std::fmt::Display) -> StepError {
    StepError::Failed(format!("{}: {what}", step.name))
}

/// A failure naming the step, with the error's whole chain of causes.
pub(crate) fn failed_by(step: &Step, e: &dyn std::error::Error) -> StepError {
    failed(step, tsmedia_base::error_chain(e))
}

/// The value after `/<key>:` in an action command line (`OSDApplyOS.exe /image:PS100004,1`).
pub(crate) fn action_arg(action: &str, key: &str) -> Option<String> {
    let needle = format!("/{}:", key.to_ascii_lowercase());
    let lower = action.to_ascii_lowercase();
    let at = lower.find(&needle)? + needle.len();
    let rest = &action[at..];
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    Some(rest[..end].trim_matches('"').to_string()).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::action_arg;

    #[test]
    fn action_arguments() {
        let a = "OSDApplyOS.exe /image:PS100004,2 /target:C:";
        assert_eq!(action_arg(a, "image").as_deref(), Some("PS100004,2"));
        assert_eq!(action_arg(a, "TARGET").as_deref(), Some("C:"));
        assert_eq!(action_arg(a, "install"), None);
        assert_eq!(action_arg("x /image: y", "image"), None);
    }
}
