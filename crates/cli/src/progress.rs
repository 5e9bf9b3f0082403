//! Progress bars on stderr (hidden with --quiet or when stderr is not a terminal).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::Arc;
use tsmedia_wim::write::Progress;

pub struct Bar(ProgressBar);

impl Bar {
    pub fn new(message: &str, quiet: bool) -> Arc<Bar> {
        let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if quiet {
            pb.set_draw_target(ProgressDrawTarget::hidden());
        }
        pb.set_style(
            ProgressStyle::with_template(
                "{msg:>10} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .expect("template is valid")
            .progress_chars("=> "),
        );
        pb.set_message(message.to_string());
        Arc::new(Bar(pb))
    }

    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Progress for Bar {
    fn start(&self, total: u64) {
        self.0.set_length(total);
    }

    fn advance(&self, bytes: u64) {
        self.0.inc(bytes);
    }
}
