//! The serialisable state of a suspended run: where to continue, and the variables.
//!
//! A step that restarts the computer (Restart Computer, Setup Windows and ConfigMgr, ...)
//! ends the engine's run with [`RunStatus::Suspended`](crate::engine::RunStatus). The runtime
//! stores the [`ExecutionState`] (for instance as JSON on the disk, where ConfigMgr keeps
//! `_SMSTaskSequence`), restarts, and calls [`Engine::resume`](crate::engine::Engine::resume).

use serde::{Deserialize, Serialize};

use crate::model::{Node, TaskSequence};
use crate::variables::Variables;

/// Where a restart should boot into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RestartTarget {
    /// The boot image (Windows PE).
    BootImage,
    /// The installed operating system.
    InstalledOs,
}

/// Why a run stopped before its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SuspendReason {
    /// A step asked for a restart.
    Restart {
        /// The step's name.
        step: String,
        /// Where to boot.
        target: RestartTarget,
    },
    /// The cancel flag was raised before the step at `position`.
    Cancelled,
}

/// A suspended run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionState {
    /// Path of child indices from the top of the sequence to the next node to run. Groups on
    /// the way have been entered already: their conditions are not evaluated again. The last
    /// index may equal the number of children (the group is finished).
    pub position: Vec<usize>,
    /// The variables at suspension, built-ins included.
    pub variables: Variables,
    /// Why the run stopped.
    pub reason: SuspendReason,
    /// [`fingerprint`] of the task sequence, checked on resume.
    pub fingerprint: String,
}

impl ExecutionState {
    /// Checks that `position` leads through groups of `ts` to a valid index.
    pub fn position_is_valid(&self, ts: &TaskSequence) -> bool {
        let Some((last, groups)) = self.position.split_last() else {
            return false;
        };
        let mut nodes = &ts.steps;
        for &i in groups {
            match nodes.get(i) {
                Some(Node::Group(g)) => nodes = &g.children,
                _ => return false,
            }
        }
        *last <= nodes.len()
    }
}

/// A stable identity of a task sequence's content: FNV-1a (64-bit) of its export, in hex.
pub fn fingerprint(ts: &TaskSequence) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in ts.to_xml().bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}
