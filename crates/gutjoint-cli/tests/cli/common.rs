//! Helpers shared by the CLI tests: locating the repository, running the binary, a tiny reader
//! for the fixtures' `index.toml` manifests, and comparing numbers with a relative tolerance.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_gutjoint"))
}

pub struct Run {
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(bin())
        .args(args)
        .current_dir(repo())
        .output()
        .expect("run gutjoint");
    Run {
        status: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Runs and asserts success, returning stdout.
pub fn ok<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let r = run(args);
    assert_eq!(r.status, 0, "gutjoint failed: {}", r.stderr);
    r.stdout
}

pub fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("invalid JSON ({e}): {text}"))
}

/// One `[[file]]` entry of a manifest: keys to raw TOML values (strings unquoted).
pub type Entry = std::collections::BTreeMap<String, String>;

/// Reads the flat `[[file]]` manifests used under tests/data (string, number and bool values).
pub fn manifest(path: &Path) -> Vec<Entry> {
    let text = std::fs::read_to_string(path).expect("manifest");
    let mut entries = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line == "[[file]]" {
            entries.push(Entry::new());
        } else if let Some((key, value)) = line.split_once(" = ")
            && let Some(entry) = entries.last_mut()
            && !line.starts_with('#')
        {
            let value = value.trim();
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            entry.insert(
                key.trim().to_string(),
                value.replace("\\\"", "\"").replace("\\\\", "\\"),
            );
        }
    }
    entries
}

pub fn close(a: f64, b: f64, rel: f64) -> bool {
    let scale = a.abs().max(b.abs());
    (a - b).abs() <= rel * scale || (a - b).abs() < 1e-12
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gutjoint-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The rows of a TSV text as header → value maps (lines starting with `# ` are comments, as in
/// the golden files' provenance lines).
pub fn tsv_rows(text: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut lines = text.lines().filter(|l| !l.starts_with("# "));
    let header: Vec<String> = lines
        .next()
        .expect("header")
        .split('\t')
        .map(str::to_string)
        .collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split('\t').map(str::to_string))
                .collect()
        })
        .collect()
}

/// Debian's chromium for the tests that render pages headless, or `None` (with a note) when it
/// is not installed; CI installs it and sets GUTJOINT_REQUIRE_CHROMIUM, which makes its absence
/// a failure instead of a skip.
pub fn chromium() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser"].into_iter().find(|b| {
        std::process::Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found.is_none() {
        assert!(
            std::env::var_os("GUTJOINT_REQUIRE_CHROMIUM").is_none(),
            "chromium is required but not installed"
        );
        eprintln!("skipped: chromium is not installed");
    }
    found
}
