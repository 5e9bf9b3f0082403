//! The console of tsmedia PE: what the runtime says goes to the serial console (the kernel's
//! `/dev/console`, the runtime's standard output) and to the screen (`/dev/tty1`); what the
//! user types is read from both, whichever answers first. Passwords are read with echo off.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

/// The terminals the runtime talks to.
pub struct Console {
    screens: Mutex<Vec<File>>,
    /// Terminal device paths, for `stty -F`.
    ttys: Vec<PathBuf>,
    lines: Mutex<Receiver<String>>,
}

fn reader(input: Box<dyn std::io::Read + Send>, tx: Sender<String>) {
    std::thread::spawn(move || {
        let mut r = BufReader::new(input);
        loop {
            let mut line = String::new();
            match r.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    if tx
                        .send(line.trim_end_matches(['\r', '\n']).to_string())
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
    });
}

impl Console {
    /// The console of a running tsmedia PE: standard input and output, plus `screen` (normally
    /// `/dev/tty1`) when it can be opened and is not the same terminal.
    pub fn system(screen: Option<&Path>) -> Console {
        let (tx, rx) = channel();
        reader(Box::new(std::io::stdin()), tx.clone());
        let mut screens = Vec::new();
        let mut ttys = vec![PathBuf::from("/dev/console")];
        if let Some(path) = screen
            && let Ok(f) = OpenOptions::new().read(true).write(true).open(path)
            && let Ok(input) = f.try_clone()
        {
            reader(Box::new(input), tx);
            screens.push(f);
            ttys.push(path.to_path_buf());
        }
        Console {
            screens: Mutex::new(screens),
            ttys,
            lines: Mutex::new(rx),
        }
    }

    /// Writes `text` to every terminal.
    pub fn say(&self, text: &str) {
        let text = text.replace('\n', "\r\n");
        let mut out = std::io::stdout();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
        if let Ok(mut screens) = self.screens.lock() {
            for s in screens.iter_mut() {
                let _ = s.write_all(text.as_bytes());
                let _ = s.flush();
            }
        }
    }

    fn echo(&self, on: bool) {
        for tty in &self.ttys {
            let _ = std::process::Command::new("stty")
                .arg("-F")
                .arg(tty)
                .arg(if on { "echo" } else { "-echo" })
                .status();
        }
    }

    /// A line typed on any terminal, waiting at most `timeout` (`None`: forever).
    pub fn read_line(&self, timeout: Option<Duration>) -> Option<String> {
        let rx = self.lines.lock().ok()?;
        match timeout {
            None => rx.recv().ok(),
            Some(t) => rx.recv_timeout(t).ok(),
        }
    }

    /// Asks for a secret: `prompt`, then a line read with echo off.
    pub fn ask_secret(&self, prompt: &str) -> Option<String> {
        // Echo goes off before the prompt shows, so nothing typed after it is echoed.
        self.echo(false);
        self.say(prompt);
        let line = self.read_line(None);
        self.echo(true);
        self.say("\n");
        line
    }
}

/// What the failure screen shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// One line: what failed.
    pub title: String,
    /// The whole message (the error and its causes).
    pub detail: String,
    /// The process exit code the runtime ends with.
    pub exit_code: u8,
    /// Where the log is.
    pub logs: Vec<PathBuf>,
}

/// The failure screen's text.
pub fn failure_screen(f: &Failure) -> String {
    let rule = "=".repeat(72);
    let mut s = format!(
        "\n{rule}\n  THE TASK SEQUENCE FAILED\n{rule}\n  {}\n\n  {}\n\n  Exit code: {}\n",
        f.title, f.detail, f.exit_code
    );
    for l in &f.logs {
        s.push_str(&format!("  Log: {}\n", l.display()));
    }
    s.push_str(&format!("{rule}\n"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_screen_names_what_failed_the_code_and_the_log() {
        let s = failure_screen(&Failure {
            title: "Step \"Apply\" failed".into(),
            detail: "no such package P1".into(),
            exit_code: 4,
            logs: vec![PathBuf::from("/run/tsmedia/smsts.log")],
        });
        assert!(s.contains("THE TASK SEQUENCE FAILED"));
        assert!(s.contains("Step \"Apply\" failed"));
        assert!(s.contains("Exit code: 4"));
        assert!(s.contains("Log: /run/tsmedia/smsts.log"));
    }
}
