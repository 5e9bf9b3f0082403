//! Progress bars on stderr: the drawing of the libraries' [`Progress`] reports (hidden with
//! `--quiet` or when stderr is not a terminal).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use tsmedia_base::Progress;

/// One bar for a whole command; each task the library begins takes it over, with its name.
pub struct Bar(ProgressBar);

const WITH_TOTAL: &str = "{msg:>14} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}";
const WITHOUT_TOTAL: &str = "{msg:>14} {spinner} {bytes} {bytes_per_sec}";

impl Bar {
    /// A bar named `message` until the first task begins.
    pub fn new(message: &str, quiet: bool) -> Arc<Bar> {
        let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if quiet || !std::io::stderr().is_terminal() {
            pb.set_draw_target(ProgressDrawTarget::hidden());
        }
        pb.set_style(style(WITH_TOTAL));
        pb.set_message(message.to_string());
        Arc::new(Bar(pb))
    }

    /// Removes the bar (the command is over).
    pub fn clear(&self) {
        self.0.finish_and_clear();
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .expect("templates are constants known to be valid")
        .progress_chars("=> ")
}

impl Progress for Bar {
    fn begin(&self, task: &str, total: Option<u64>) {
        self.0.set_message(task.to_string());
        self.0.reset();
        match total {
            Some(total) => {
                self.0.set_style(style(WITH_TOTAL));
                self.0.set_length(total);
            }
            None => {
                self.0.set_style(style(WITHOUT_TOTAL));
                self.0.unset_length();
            }
        }
    }

    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
}
