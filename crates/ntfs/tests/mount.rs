//! The mount guard against the real `mkntfs` and `ntfs-3g` (needs root and FUSE): a volume
//! is unmounted when the guard is dropped, written data survives an explicit unmount, and a
//! file that is no NTFS volume is refused by the driver and by the apply.

use std::fs;
use std::path::Path;
use tsmedia_ntfs::{FormatOptions, Mount, format, is_ntfs};

fn mounted(dir: &Path) -> bool {
    let info = fs::read_to_string("/proc/self/mountinfo").unwrap();
    let dir = dir.display().to_string();
    info.lines()
        .any(|l| l.split(' ').nth(4) == Some(dir.as_str()))
}

fn volume(dir: &Path) -> std::path::PathBuf {
    let img = dir.join("v.img");
    fs::File::create(&img).unwrap().set_len(16 << 20).unwrap();
    format(&img, &FormatOptions::default()).unwrap();
    assert!(is_ntfs(&img, 0).unwrap());
    img
}

#[test]
fn dropping_the_guard_unmounts_and_unmount_keeps_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let img = volume(dir.path());
    let m = Mount::new(&img).unwrap();
    let at = m.path().to_path_buf();
    assert!(mounted(&at));
    fs::write(at.join("kept.txt"), b"kept").unwrap();
    drop(m);
    assert!(!mounted(&at), "still mounted after drop");

    let m = Mount::new(&img).unwrap();
    assert_eq!(fs::read(m.path().join("kept.txt")).unwrap(), b"kept");
    let at = m.path().to_path_buf();
    m.unmount().unwrap();
    assert!(!mounted(&at));
    let fix = std::process::Command::new("ntfsfix")
        .arg("-n")
        .arg(&img)
        .output()
        .unwrap();
    assert!(fix.status.success(), "{fix:?}");
}

#[test]
fn a_file_without_ntfs_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let img = dir.path().join("zero.img");
    fs::write(&img, vec![0u8; 4 << 20]).unwrap();
    assert!(!is_ntfs(&img, 0).unwrap());
    let e = Mount::new(&img).err().expect("ntfs-3g must refuse");
    assert!(e.to_string().contains("ntfs-3g failed"), "{e}");
    let wim_dir = dir.path().join("tree");
    fs::create_dir(&wim_dir).unwrap();
    fs::write(wim_dir.join("a.txt"), b"a").unwrap();
    let wim = dir.path().join("a.wim");
    let mut w = tsmedia_wim::WimWriter::create(&wim, Default::default()).unwrap();
    tsmedia_wim::capture(&wim_dir, &mut w, &Default::default()).unwrap();
    w.finish(0).unwrap();
    let wim = tsmedia_wim::Wim::open(&wim).unwrap();
    let e = tsmedia_ntfs::apply_to_ntfs(&wim, 1, &img, &Default::default()).unwrap_err();
    assert!(matches!(e, tsmedia_ntfs::Error::NotNtfs { .. }), "{e}");
    assert_eq!(fs::read(&img).unwrap(), vec![0u8; 4 << 20]);
}
