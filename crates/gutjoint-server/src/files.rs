//! The data directory: where uploads, results, keys and the SQLite store live, readable by the
//! service's own user only (directories 0700, files 0600), and written so that an upload or a
//! key file is either whole or absent (write to `tmp/`, fsync, rename).
//!
//! Layout: `keys.json`, `jobs.db` (SQLite), `tmp/` (uploads in progress), and per job
//! `jobs/<id>/input/{table,metadata,tree}/<name>` and `jobs/<id>/output/` (report.html,
//! results.json, tables/*.tsv). No path component ever comes from a client: file names are
//! reduced to a safe base name inside a directory the server chose.

use crate::error::{Result, ServerError};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The service's data directory.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// Opens (creating if needed) the data directory and makes it private to this user.
    pub fn open(root: &Path) -> Result<DataDir> {
        create_private_dir(root)?;
        // An existing directory may have been made with a looser umask.
        fs::set_permissions(root, fs::Permissions::from_mode(0o700))
            .map_err(|e| ServerError::io(root, e))?;
        let dir = DataDir {
            root: root.to_path_buf(),
        };
        create_private_dir(&dir.root.join("jobs"))?;
        create_private_dir(&dir.tmp_dir())?;
        Ok(dir)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn keys_path(&self) -> PathBuf {
        self.root.join("keys.json")
    }
    pub fn db_path(&self) -> PathBuf {
        self.root.join("jobs.db")
    }
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }
    pub fn jobs_dir(&self) -> PathBuf {
        self.root.join("jobs")
    }
    pub fn job_dir(&self, id: &str) -> PathBuf {
        self.jobs_dir().join(id)
    }
    pub fn input_dir(&self, id: &str) -> PathBuf {
        self.job_dir(id).join("input")
    }
    pub fn output_dir(&self, id: &str) -> PathBuf {
        self.job_dir(id).join("output")
    }

    /// A fresh private directory under `tmp/` for one upload in progress.
    pub fn new_upload_dir(&self) -> Result<PathBuf> {
        let dir = self.tmp_dir().join(crate::ids::random_hex(12)?);
        create_private_dir(&dir)?;
        Ok(dir)
    }

    /// Moves a completely written upload into place as job `id`'s input (one rename, so a
    /// crash leaves either the whole upload or none of it under `jobs/`).
    pub fn commit_upload(&self, upload: &Path, id: &str) -> Result<()> {
        let job = self.job_dir(id);
        create_private_dir(&job)?;
        let input = self.input_dir(id);
        fs::rename(upload, &input).map_err(|e| ServerError::io(&input, e))?;
        sync_dir(&job);
        Ok(())
    }

    /// Removes every file of job `id` (input and output); absent is fine.
    pub fn remove_job(&self, id: &str) -> Result<()> {
        let dir = self.job_dir(id);
        match fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ServerError::io(dir, e)),
        }
    }

    /// Job directories under `jobs/` (their names), for the orphan sweep.
    pub fn job_dirs(&self) -> Result<Vec<(String, std::time::SystemTime)>> {
        let jobs = self.jobs_dir();
        let mut out = Vec::new();
        for entry in fs::read_dir(&jobs).map_err(|e| ServerError::io(&jobs, e))? {
            let entry = entry.map_err(|e| ServerError::io(&jobs, e))?;
            let name = entry.file_name().to_string_lossy().to_string();
            let modified = entry
                .metadata()
                .and_then(|m| m.modified())
                .unwrap_or(std::time::SystemTime::UNIX_EPOCH);
            out.push((name, modified));
        }
        Ok(out)
    }

    /// Clears uploads left half-written by a crash (they never became jobs). Only entries
    /// older than `min_age` go, so another host sharing the directory is not disturbed.
    pub fn clear_tmp(&self, min_age: std::time::Duration) -> Result<usize> {
        let tmp = self.tmp_dir();
        let mut removed = 0;
        for entry in fs::read_dir(&tmp).map_err(|e| ServerError::io(&tmp, e))? {
            let entry = entry.map_err(|e| ServerError::io(&tmp, e))?;
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_none_or(|age| age >= min_age);
            if old && fs::remove_dir_all(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// Creates `path` (and parents) as a directory only its owner can enter.
pub fn create_private_dir(path: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|e| ServerError::io(path, e))
}

/// Creates a new file readable and writable by its owner only.
pub fn create_private_file(path: &Path) -> Result<fs::File> {
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| ServerError::io(path, e))
}

/// Writes `bytes` to `path` whole or not at all: a private temporary file beside it, fsync,
/// rename.
pub fn write_private_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let parent = path.parent().unwrap_or(Path::new("."));
    let tmp = parent.join(format!(
        ".{}.{}.tmp",
        path.file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default(),
        crate::ids::random_hex(6)?
    ));
    let result = (|| {
        let mut file = create_private_file(&tmp)?;
        file.write_all(bytes)
            .map_err(|e| ServerError::io(&tmp, e))?;
        file.sync_all().map_err(|e| ServerError::io(&tmp, e))?;
        fs::rename(&tmp, path).map_err(|e| ServerError::io(path, e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    sync_dir(parent);
    result
}

/// Makes a rename durable (best effort: some file systems refuse to fsync a directory).
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// The base name a client's file name is stored under: the part after the last `/` or `\`,
/// only `A-Z a-z 0-9 . _ -`, no leading dot, at most 100 characters; `fallback` when nothing
/// is left. Kept at all because single MetaPhlAn profiles take their sample id from the file
/// name, and readers look at a `.gz` ending.
pub fn safe_file_name(client_name: Option<&str>, fallback: &str) -> String {
    let base = client_name
        .unwrap_or("")
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("");
    let kept: String = base
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .collect();
    let trimmed = kept.trim_start_matches('.');
    let name: String = trimmed.chars().take(100).collect();
    if name.is_empty() {
        fallback.to_string()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_file_names_cannot_leave_the_job_directory() {
        assert_eq!(safe_file_name(Some("../../etc/passwd"), "table"), "passwd");
        assert_eq!(safe_file_name(Some("..\\..\\x.tsv"), "table"), "x.tsv");
        assert_eq!(safe_file_name(Some(".."), "table"), "table");
        assert_eq!(safe_file_name(Some("/"), "table"), "table");
        assert_eq!(safe_file_name(None, "tree"), "tree");
        assert_eq!(
            safe_file_name(Some("p1 profile (2).tsv.gz"), "table"),
            "p1profile2.tsv.gz"
        );
        assert_eq!(safe_file_name(Some(".hidden"), "table"), "hidden");
    }

    #[test]
    fn data_dir_is_private_and_uploads_move_whole() {
        let root = std::env::temp_dir().join(format!(
            "gutjoint-files-{}",
            crate::ids::random_hex(6).expect("random")
        ));
        let dir = DataDir::open(&root).expect("open");
        let mode = fs::metadata(&root).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let up = dir.new_upload_dir().expect("upload dir");
        write_private_atomic(&up.join("t.tsv"), b"x").expect("write");
        let mode = fs::metadata(up.join("t.tsv"))
            .expect("meta")
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        dir.commit_upload(&up, "abc").expect("commit");
        assert!(!up.exists());
        assert_eq!(
            fs::read(dir.input_dir("abc").join("t.tsv")).expect("read"),
            b"x"
        );
        dir.remove_job("abc").expect("remove");
        assert!(!dir.job_dir("abc").exists());
        dir.remove_job("abc").expect("absent is fine");
        fs::remove_dir_all(&root).expect("cleanup");
    }
}
