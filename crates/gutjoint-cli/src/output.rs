/*!
Writing results: files go through `write_atomic` (temporary file + rename), JSON and text go
to stdout, and a closed pipe (`gutjoint inspect t.biom | head`) ends quietly.
*/

use anyhow::{Context, Result};
use serde::Serialize;
use std::io::Write;
use std::path::Path;

/// The command-line advice for a library error that a flag of this command fixes. The
/// libraries say what is wrong in the data's words (their messages are shown by Python and the
/// HTTP service too, which have other switches); the flag is named here, from the error's
/// typed variant, and only when the command has it (`--drop-missing` is on `alpha` and `beta`).
pub fn flag_hint(error: &anyhow::Error, has_drop_missing: bool) -> Option<&'static str> {
    use gutjoint_ecology::Error as Ecology;
    use gutjoint_pipeline::PipelineError;
    error.chain().find_map(|cause| {
        let ecology = cause.downcast_ref::<Ecology>().or_else(|| {
            // The pipeline wraps ecology errors transparently: the wrapper is the cause seen.
            match cause.downcast_ref::<PipelineError>() {
                Some(PipelineError::Ecology(e)) => Some(e),
                _ => None,
            }
        })?;
        match ecology {
            Ecology::NeedsTree { .. } => Some("give the tree with --tree NWK"),
            Ecology::MissingFromTree { .. } if has_drop_missing => {
                Some("pass --drop-missing to leave those features out")
            }
            _ => None,
        }
    })
}

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

/// Streams output to stdout through a buffer, for outputs written as they are formatted.
pub fn print_with(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    write(&mut out)?;
    out.flush()?;
    Ok(())
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: Serialize>(value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    print(&text)
}

/// Writes `text` to `path` (atomically) when one is given, else to stdout.
pub fn write_or_print(path: Option<&Path>, text: &str) -> Result<()> {
    match path {
        Some(p) => write_file(p, text.as_bytes()),
        None => print(text),
    }
}

/// Writes a file atomically.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    create_parent(path)?;
    gutjoint_table::write_atomic(path, bytes)?;
    Ok(())
}

/// Streams a file atomically (through a temporary file and a rename), for outputs written as
/// they are formatted.
pub fn write_file_with<F>(path: &Path, write: F) -> Result<()>
where
    F: FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
{
    create_parent(path)?;
    gutjoint_table::write_atomic_with(path, write)?;
    Ok(())
}

/// Creates the folder an output goes into, when it does not exist.
fn create_parent(path: &Path) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && !parent.is_dir()
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("{}: cannot create the output folder", parent.display()))?;
    }
    Ok(())
}

/// The `generated-by` string written into files.
pub fn generated_by() -> String {
    format!("gutjoint {}", env!("CARGO_PKG_VERSION"))
}

static TIMINGS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();

/// Turns on `--timings` (once, at start-up).
pub fn enable_timings(on: bool) {
    let _ = TIMINGS.set(on);
}

/// Runs `work`, printing `timing\t<label>\t<seconds>` on stderr when `--timings` is on.
pub fn timed<T>(label: &str, work: impl FnOnce() -> T) -> T {
    let start = std::time::Instant::now();
    let value = work();
    report_timing(label, start.elapsed().as_secs_f64());
    value
}

/// Prints `timing\t<label>\t<seconds>` on stderr when `--timings` is on: for phases that
/// [`timed`] cannot wrap, such as work summed over blocks.
pub fn report_timing(label: &str, seconds: f64) {
    if TIMINGS.get().copied().unwrap_or(false) {
        eprintln!("timing\t{label}\t{seconds:.6}");
    }
}

/// Shows the progress of the ecology room's long loops on stderr while `work` runs — only on a
/// terminal, never with `--quiet`, and only for work that lasts more than a second.
pub fn with_progress<T>(label: &str, quiet: bool, work: impl FnOnce() -> T) -> T {
    use std::io::IsTerminal;
    if quiet || !std::io::stderr().is_terminal() {
        return work();
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let label = label.to_string();
    // This run's counters (not the process's): the painter polls a clone.
    let progress = gutjoint_ecology::progress::Progress::new();
    let polled = progress.clone();
    let painter = std::thread::spawn(move || {
        let start = std::time::Instant::now();
        let mut painted = false;
        while !flag.load(std::sync::atomic::Ordering::Relaxed) {
            std::thread::sleep(std::time::Duration::from_millis(200));
            let (done, total) = polled.get();
            if start.elapsed().as_secs_f64() > 1.0 && total > 0 {
                let width = 30;
                let filled = (done.min(total) * width / total) as usize;
                eprint!(
                    "\r[gutjoint] {label} [{}{}] {:>3}% {:.0}s",
                    "#".repeat(filled),
                    " ".repeat(width as usize - filled),
                    done.min(total) * 100 / total,
                    start.elapsed().as_secs_f64()
                );
                painted = true;
            }
        }
        if painted {
            eprint!("\r{}\r", " ".repeat(70));
        }
    });
    let value = progress.watch(work);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = painter.join();
    value
}
