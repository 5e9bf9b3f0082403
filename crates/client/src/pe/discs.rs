//! Media on several discs in tsmedia PE: the session boots from disc 1; when the set has more,
//! it asks for each other disc in turn ("Insert disc N of M"), ejecting the one in the drive,
//! and gathers every disc's files into one folder in RAM, which the task sequence then reads as
//! it reads a single disc. A disc counts only when its `TsmBootstrap.ini` carries the same
//! media GUID and the disc number asked for; anything else is named and asked for again.
//! (The set must fit in memory; sets larger than that belong on a USB drive.)

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::console::Console;
use super::devices::{self, Medium};

/// How many times a wrong disc (or none) may be offered for each disc asked for.
const TRIES: u32 = 5;

/// Gathers the set that `first` (disc 1, mounted at `mounted`) belongs to into
/// `<run_dir>/media-set`, asking for discs 2..=count on `console`. Returns the folder, or the
/// reason the set could not be gathered.
pub(crate) fn gather(
    console: &Console,
    sys_block: &Path,
    dev: &Path,
    run_dir: &Path,
    first: &Medium,
    mounted: &Path,
    count: u32,
) -> Result<PathBuf, String> {
    let set = run_dir.join("media-set");
    copy_tree(mounted, &set)?;
    console.say(&format!(
        "tsmedia PE: disc 1 of {count} copied from {}\n",
        first.device.path.display()
    ));
    let guid = first.bootstrap.media_guid.clone();
    let mut drive = first.device.clone();
    for disc in 2..=count {
        unmount(mounted);
        // The drive opens where it can; a virtual or USB drive just stays as it is.
        let _ = devices::run("eject", &[&drive.path.display().to_string()]);
        let mut found = None;
        for _ in 0..TRIES {
            console.say(&format!(
                "Insert disc {disc} of {count} of these media and press Enter.\n"
            ));
            if console.read_line(None).is_none() {
                return Err(format!(
                    "the console closed while waiting for disc {disc} of {count}"
                ));
            }
            match find_disc(sys_block, dev, guid.as_deref(), disc) {
                Ok(m) => {
                    found = Some(m);
                    break;
                }
                Err(what) => console.say(&format!("{what}\n")),
            }
        }
        let Some(medium) = found else {
            return Err(format!(
                "disc {disc} of {count} was not inserted ({TRIES} tries)"
            ));
        };
        devices::mount(&medium.device.path, medium.kind.fs_type(), mounted, true)?;
        copy_tree(mounted, &set)?;
        console.say(&format!(
            "tsmedia PE: disc {disc} of {count} copied from {}\n",
            medium.device.path.display()
        ));
        drive = medium.device;
    }
    unmount(mounted);
    Ok(set)
}

/// Looks for disc `disc` of the media with `guid`, giving the drive a few seconds to read a
/// newly inserted disc. The error says what is in the drives instead.
fn find_disc(
    sys_block: &Path,
    dev: &Path,
    guid: Option<&str>,
    disc: u32,
) -> Result<Medium, String> {
    let mut seen = String::from("no task sequence media are in any drive");
    for _ in 0..10 {
        let list = devices::list(sys_block, dev);
        let media: Vec<Medium> = list.iter().filter_map(devices::probe).collect();
        let same_set = |m: &&Medium| match (guid, m.bootstrap.media_guid.as_deref()) {
            (Some(g), Some(mg)) => g.eq_ignore_ascii_case(mg),
            (None, None) => true,
            _ => false,
        };
        if let Some(m) = media
            .iter()
            .filter(same_set)
            .find(|m| m.bootstrap.disc.is_some_and(|(n, _)| n == disc))
        {
            return Ok(m.clone());
        }
        if let Some(m) = media.iter().find(same_set) {
            let n = m.bootstrap.disc.map_or(1, |(n, _)| n);
            seen = format!("that is disc {n} of these media, not disc {disc}");
        } else if let Some(m) = media.first() {
            seen = format!(
                "the disc in {} belongs to other media",
                m.device.path.display()
            );
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    Err(seen)
}

fn unmount(at: &Path) {
    let _ = devices::run("umount", &[&at.display().to_string()]);
}

/// Copies the files under `from` into `to`, merging folders (later discs add to earlier ones).
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let entries = fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", from.display()))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry
            .file_type()
            .map_err(|e| format!("{}: {e}", src.display()))?;
        if kind.is_dir() {
            copy_tree(&src, &dst)?;
        } else if kind.is_file() {
            fs::copy(&src, &dst)
                .map_err(|e| format!("{} -> {}: {e}", src.display(), dst.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_discs_merge_into_the_folders_of_earlier_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b, set) = (
            tmp.path().join("a"),
            tmp.path().join("b"),
            tmp.path().join("set"),
        );
        fs::create_dir_all(a.join("SMS/PKG/P1")).unwrap();
        fs::create_dir_all(b.join("SMS/PKG/P2")).unwrap();
        fs::write(a.join("SMS/PKG/P1/one.txt"), "1").unwrap();
        fs::write(b.join("SMS/PKG/P2/two.txt"), "2").unwrap();
        copy_tree(&a, &set).unwrap();
        copy_tree(&b, &set).unwrap();
        assert_eq!(
            fs::read_to_string(set.join("SMS/PKG/P1/one.txt")).unwrap(),
            "1"
        );
        assert_eq!(
            fs::read_to_string(set.join("SMS/PKG/P2/two.txt")).unwrap(),
            "2"
        );
    }
}
