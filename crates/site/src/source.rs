//! Reading a package source: one file, or a folder tree of files.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::time::mtime_of;

/// One file of a package source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SourceFile {
    /// Path inside the content, `/`-separated.
    pub rel_path: String,
    /// Where it is on disk.
    pub abs_path: PathBuf,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
}

/// Lists the files of `source` in path order. A single file becomes one entry named after it.
/// Symbolic links to files inside the source folder are read as their target; links that lead
/// out of it, links to folders and special files are refused (issue #15, L6: a link planted in
/// a source must not bring another file of the machine into the library), as are names that
/// are not UTF-8.
pub(crate) fn scan(source: &Path) -> Result<Vec<SourceFile>> {
    let meta = fs::metadata(source).map_err(Error::io(source))?;
    let root = fs::canonicalize(source).map_err(Error::io(source))?;
    let mut files = Vec::new();
    if meta.is_file() {
        let name = file_name(source)?;
        files.push(SourceFile {
            rel_path: name,
            abs_path: source.to_path_buf(),
            mtime: mtime_of(&meta),
        });
    } else if meta.is_dir() {
        walk(&root, source, "", &mut files)?;
    } else {
        return Err(Error::invalid(
            format!("source {}", source.display()),
            "neither a file nor a folder",
        ));
    }
    files.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
    Ok(files)
}

fn file_name(path: &Path) -> Result<String> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .ok_or_else(|| {
            Error::invalid(
                format!("source {}", path.display()),
                "its name is not UTF-8",
            )
        })
}

fn walk(root: &Path, dir: &Path, prefix: &str, files: &mut Vec<SourceFile>) -> Result<()> {
    for entry in fs::read_dir(dir).map_err(Error::io(dir))? {
        let entry = entry.map_err(Error::io(dir))?;
        let path = entry.path();
        let name = file_name(&path)?;
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let link = fs::symlink_metadata(&path).map_err(Error::io(&path))?;
        let meta = match fs::metadata(&path) {
            Err(e) if link.file_type().is_symlink() && e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::invalid(
                    format!("source {}", path.display()),
                    "a symbolic link whose target does not exist",
                ));
            }
            m => m.map_err(Error::io(&path))?,
        };
        if meta.is_dir() {
            if link.file_type().is_symlink() {
                return Err(Error::invalid(
                    format!("source {}", path.display()),
                    "symbolic links to folders are not followed",
                ));
            }
            walk(root, &path, &rel, files)?;
        } else if meta.is_file() {
            let abs_path = if link.file_type().is_symlink() {
                let target = fs::canonicalize(&path).map_err(Error::io(&path))?;
                if !target.starts_with(root) {
                    return Err(Error::invalid(
                        format!("source {}", path.display()),
                        format!(
                            "a symbolic link to {}, outside the source folder; copy the file \
                             into the source instead",
                            target.display()
                        ),
                    ));
                }
                target
            } else {
                path
            };
            files.push(SourceFile {
                rel_path: rel,
                abs_path,
                mtime: mtime_of(&meta),
            });
        } else {
            return Err(Error::invalid(
                format!("source {}", path.display()),
                "not a regular file",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_a_tree_in_path_order() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("b/c")).unwrap();
        fs::write(dir.path().join("b/c/z.txt"), b"z").unwrap();
        fs::write(dir.path().join("a.txt"), b"a").unwrap();
        fs::create_dir(dir.path().join("empty")).unwrap();
        let files = scan(dir.path()).unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.rel_path.as_str()).collect();
        assert_eq!(names, ["a.txt", "b/c/z.txt"]);
        let single = scan(&dir.path().join("a.txt")).unwrap();
        assert_eq!(single[0].rel_path, "a.txt");
        assert!(scan(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn links_out_of_the_source_are_refused_and_links_inside_read_their_target() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("shadow"), b"secret").unwrap();
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("a.txt"), b"a").unwrap();
        std::os::unix::fs::symlink(dir.path().join("a.txt"), dir.path().join("inside")).unwrap();
        let files = scan(dir.path()).unwrap();
        assert_eq!(files[1].rel_path, "inside");
        assert_eq!(
            files[1].abs_path,
            fs::canonicalize(dir.path().join("a.txt")).unwrap()
        );
        std::os::unix::fs::symlink(outside.path().join("shadow"), dir.path().join("out")).unwrap();
        let e = scan(dir.path()).unwrap_err().to_string();
        assert!(e.contains("outside the source folder"), "{e}");
    }

    #[test]
    fn a_dangling_symbolic_link_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("nowhere", dir.path().join("dangling")).unwrap();
        let e = scan(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("dangling") && e.contains("does not exist"),
            "{e}"
        );
    }
}
