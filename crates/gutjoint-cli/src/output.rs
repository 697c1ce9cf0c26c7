/*!
Writing results: files go through `write_atomic` (temporary file + rename), JSON and text go
to stdout, and a closed pipe (`gutjoint inspect t.biom | head`) ends quietly.
*/

use anyhow::{Context, Result};
use serde::Serialize;
use std::io::Write;
use std::path::Path;

/// Whether an error is a closed stdout pipe, which is not a failure (ripgrep's rule).
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Prints text to stdout.
pub fn print(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: Serialize>(value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    print(&text)
}

/// Writes a file atomically.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.is_dir()
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("{}: cannot create the output folder", parent.display()))?;
    }
    gutjoint_table::write_atomic(path, bytes)?;
    Ok(())
}

/// The `generated-by` string written into files.
pub fn generated_by() -> String {
    format!("gutjoint {}", env!("CARGO_PKG_VERSION"))
}
