/*!
Damaged files never panic a reader. Every specimen of tests/data/formats (good and bad) is
damaged in seeded ways (200 copies each) — truncated, a byte flipped, a byte inserted or deleted, a line
duplicated or dropped — and read back with the reader for its kind; each read must end in a
table or an error, never a panic. A poor man's fuzzer that runs in `cargo test` (cargo-fuzz
needs a nightly toolchain); the seed is fixed, so a failure reproduces.
*/

use gutjoint_table::{
    ReadOptions, read_distance_file, read_metadata_file, read_table, read_tree_file,
};
use std::path::{Path, PathBuf};

/// xorshift64*: a tiny seeded generator, enough to pick positions and bytes.
struct Damage(u64);

impl Damage {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// One damaged copy of `bytes`.
    fn apply(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = bytes.to_vec();
        if out.is_empty() {
            return out;
        }
        match self.below(6) {
            0 => out.truncate(self.below(out.len())),
            1 => {
                let i = self.below(out.len());
                out[i] ^= 1 << self.below(8);
            }
            2 => {
                let i = self.below(out.len());
                let b = [b'\t', b',', b'\n', b'"', b'#', b'-', b'0', b'e', 0xff, 0][self.below(10)];
                out.insert(i, b);
            }
            3 => {
                out.remove(self.below(out.len()));
            }
            _ => {
                // Duplicate or drop a whole line.
                let text = out.split(|&b| b == b'\n').collect::<Vec<_>>();
                let k = self.below(text.len());
                let mut lines: Vec<Vec<u8>> = text.iter().map(|l| l.to_vec()).collect();
                if self.below(2) == 0 {
                    lines.insert(k, lines[k].clone());
                } else {
                    lines.remove(k);
                }
                out = lines.join(&b'\n');
            }
        }
        out
    }
}

fn specimens() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/formats");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("specimen folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().to_string());
            !name
                .as_deref()
                .is_some_and(|n| n.ends_with(".py") || n.ends_with(".toml") || n.ends_with(".txt"))
        })
        .collect();
    files.sort();
    files
}

/// Reads `path` with the reader its name calls for; the result itself does not matter.
fn read(path: &Path, kind: &str) {
    match kind {
        "metadata" => drop(read_metadata_file(path)),
        "tree" => drop(read_tree_file(path)),
        "distance" => drop(read_distance_file(path)),
        _ => drop(read_table(path, ReadOptions::default())),
    }
}

#[test]
fn damaged_specimens_give_errors_not_panics() {
    let files = specimens();
    assert!(files.len() >= 30, "specimen corpus found");
    let scratch = std::env::temp_dir().join(format!("gutjoint-mutations-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch dir");
    let mut damage = Damage(0x9e37_79b9_7f4a_7c15);
    let mut reads = 0;
    let mut failures = Vec::new();
    for file in &files {
        let name = file
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        let kind = if name.starts_with("metadata") || name == "bad_metadata_no_id.tsv" {
            "metadata"
        } else if name.ends_with(".nwk") {
            "tree"
        } else if name.contains("lsmat") {
            "distance"
        } else {
            "table"
        };
        let bytes = std::fs::read(file).expect("specimen");
        for round in 0..200 {
            let damaged = damage.apply(&bytes);
            // Keep the name (and so the extension and the format sniffing) of the original.
            let path = scratch.join(&name);
            std::fs::write(&path, &damaged).expect("write damaged copy");
            let outcome = std::panic::catch_unwind(|| read(&path, kind));
            reads += 1;
            if outcome.is_err() {
                let keep = scratch.join(format!("panic-{round}-{name}"));
                let _ = std::fs::write(&keep, &damaged);
                failures.push(keep.display().to_string());
            }
        }
    }
    assert!(reads >= 6_000);
    assert!(failures.is_empty(), "readers panicked on: {failures:#?}");
    let _ = std::fs::remove_dir_all(&scratch);
}
