/*!
Writers, and the one way gutjoint puts a file on disk: [`write_atomic`] writes to a temporary
file beside the target and renames it into place, so a crash or an error never leaves a
half-written output and an existing file is replaced whole or not at all.
*/

use crate::biom_hdf5::write_biom_hdf5;
use crate::biom_json::write_biom_json;
use crate::error::{Error, Location, Result};
use crate::table::FeatureTable;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// Output formats, picked from the target's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    BiomHdf5,
    BiomJson,
    Tsv,
}

impl OutputFormat {
    /// `.biom` → BIOM 2.1 HDF5, `.json` → BIOM 1.0, `.tsv`/`.txt` → TSV.
    pub fn from_path(path: &Path) -> Option<OutputFormat> {
        let ext = path.extension()?.to_string_lossy().to_ascii_lowercase();
        Some(match ext.as_str() {
            "biom" | "h5" | "hdf5" => OutputFormat::BiomHdf5,
            "json" => OutputFormat::BiomJson,
            "tsv" | "txt" => OutputFormat::Tsv,
            _ => return None,
        })
    }
}

/// BIOM-style TSV: `# Constructed from biom file`, a `#OTU ID` header, features as rows, and a
/// `taxonomy` column when the table has lineages.
pub fn to_tsv(table: &FeatureTable) -> String {
    let mut out = String::with_capacity(table.n_features() * (table.n_samples() * 2 + 16));
    out.push_str("# Constructed from biom file\n#OTU ID");
    for s in table.sample_ids() {
        out.push('\t');
        out.push_str(s);
    }
    let lineages = table.lineages();
    if lineages.is_some() {
        out.push_str("\ttaxonomy");
    }
    out.push('\n');
    let (indptr, samples, values) = table.to_feature_major();
    let mut row = vec![0.0; table.n_samples()];
    for f in 0..table.n_features() {
        row.iter_mut().for_each(|v| *v = 0.0);
        for k in indptr[f]..indptr[f + 1] {
            row[samples[k] as usize] = values[k];
        }
        out.push_str(&table.feature_ids()[f]);
        for v in &row {
            let _ = write!(out, "\t{v}");
        }
        if let Some(l) = lineages {
            out.push('\t');
            out.push_str(&l[f].to_levels().join("; "));
        }
        out.push('\n');
    }
    out
}

/// Serialises a table in the given format.
pub fn table_bytes(
    table: &FeatureTable,
    format: OutputFormat,
    generated_by: &str,
) -> Result<Vec<u8>> {
    Ok(match format {
        OutputFormat::BiomHdf5 => write_biom_hdf5(table, generated_by)?,
        OutputFormat::BiomJson => write_biom_json(table, generated_by),
        OutputFormat::Tsv => to_tsv(table).into_bytes(),
    })
}

/// Writes bytes to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    // In 1 MiB pieces: one huge write(2) was measured 7x slower than chunked writes here.
    write_atomic_with(path, |w| {
        bytes
            .chunks(1 << 20)
            .try_for_each(|chunk| w.write_all(chunk))
    })
}

/// Streams output into `path` through a temporary file and a rename, for outputs too large to
/// hold twice in memory.
pub fn write_atomic_with<F>(path: &Path, write: F) -> Result<()>
where
    F: FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
{
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::invalid(&Location::file(path), "the output path names no file"))?;
    // Unique per process and per call: two threads (two analyses in one service) writing
    // the same path must not share a temporary file.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let tmp = dir.join(format!(
        ".{}.{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let result = (|| {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
        write(&mut out)?;
        // Flushed, not fsynced: the rename makes the file appear whole or not at all to every
        // other process, which is the guarantee users need; durability across power loss is
        // left to the file system, as other command-line tools do.
        out.into_inner().map_err(|e| e.into_error())?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}

/// Whether two shortest decimals could be equally close to `v`, where ryu (round half to even)
/// and Rust's formatter (round half up) may pick different last digits. Such a tie needs the
/// exact value to be the midpoint of two decimals of at most 17 digits, so to have at most 18
/// significant digits: an integer, or `m · 2^e` (m odd, e < 0) with `m · 5^-e < 10^18`.
fn may_be_a_tie(v: f64) -> bool {
    let bits = v.abs().to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1u64 << 52) - 1);
    let (mut m, mut e) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << 52), biased - 1075)
    };
    if m == 0 {
        return true;
    }
    let zeros = m.trailing_zeros();
    m >>= zeros;
    e += zeros as i32;
    if e >= 0 {
        return true;
    }
    // 5^28 > 10^19: more fractional bits always mean more than 18 digits.
    -e <= 27 && u128::from(m) * 5u128.pow((-e) as u32) < 10u128.pow(18)
}

/// Appends `v` exactly as `write!(out, "{v}")` would — Rust's shortest round-trip digits,
/// laid out without an exponent — several times faster: zmij finds the same shortest digits
/// (checked against the standard formatter on random bit patterns in the tests), only its
/// layout (`1e-7`, `1.5e+16`, `1.0`) is rewritten. For writers of millions of numbers whose
/// bytes must not change, such as PCoA coordinates.
pub fn push_display_f64(out: &mut String, v: f64) {
    if !v.is_finite() {
        let _ = write!(out, "{v}");
        return;
    }
    if v == 0.0 {
        out.push_str(if v.is_sign_negative() { "-0" } else { "0" });
        return;
    }
    if may_be_a_tie(v) {
        let _ = write!(out, "{v}");
        return;
    }
    let mut buffer = zmij::Buffer::new();
    let text = buffer.format_finite(v);
    // Without an exponent, zmij's layout is Rust's but for the `.0` of a whole number: no
    // re-layout for the common case (PCoA coordinates, 4 M of them at 2,000 samples). An
    // exponent is at most `e-324` or `e+308`, so only the last five bytes can hold its `e`.
    let bytes = text.as_bytes();
    if !bytes[bytes.len().saturating_sub(5)..].contains(&b'e') {
        out.push_str(match bytes {
            [.., b'.', b'0'] => &text[..text.len() - 2],
            _ => text,
        });
        return;
    }
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match text.find('e') {
        Some(at) => (&text[..at], text[at + 1..].parse::<i32>().unwrap_or(0)),
        None => (text, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    // Significant digits, and how many of them stand before the decimal point.
    let mut digits = [0u8; 40];
    let mut count = 0;
    let mut point = whole.len() as i32 + exponent;
    for &d in whole.as_bytes().iter().chain(fraction.as_bytes()) {
        if count == 0 && d == b'0' {
            point -= 1;
            continue;
        }
        digits[count] = d;
        count += 1;
    }
    while count > 1 && digits[count - 1] == b'0' {
        count -= 1;
    }
    let digits = std::str::from_utf8(&digits[..count]).unwrap_or("0");
    if negative {
        out.push('-');
    }
    if point <= 0 {
        out.push_str("0.");
        (0..-point).for_each(|_| out.push('0'));
        out.push_str(digits);
    } else if (point as usize) < count {
        out.push_str(&digits[..point as usize]);
        out.push('.');
        out.push_str(&digits[point as usize..]);
    } else {
        out.push_str(digits);
        (count..point as usize).for_each(|_| out.push('0'));
    }
}

#[cfg(test)]
mod tests {
    /// Before the per-call counter the temporary name was `.same.txt.<pid>.tmp`: threads of one
    /// process wrote into one file and could rename each other's half-written bytes into place.
    #[test]
    fn threads_writing_one_path_never_share_a_temporary_file() {
        let dir = std::env::temp_dir().join(format!("gutjoint-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("same.txt");
        std::thread::scope(|scope| {
            for t in 0..8u8 {
                let path = &path;
                scope.spawn(move || {
                    for _ in 0..20 {
                        super::write_atomic(path, &[t; 4096]).expect("writes");
                    }
                });
            }
        });
        // Whole: one thread's 4096 identical bytes, never a mix or a truncated file.
        let bytes = std::fs::read(&path).expect("reads");
        assert_eq!(bytes.len(), 4096);
        assert!(bytes.iter().all(|b| *b == bytes[0]));
        let leftovers = std::fs::read_dir(&dir).expect("lists").count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Rust's `{}` is the reference: random bit patterns (every exponent), values as PCoA and
    /// distances produce them, and the edge cases must come out byte for byte the same.
    #[test]
    fn display_f64_matches_the_standard_formatter() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            // SplitMix64.
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let mut values = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            1e-7,
            1.5e-7,
            1e15,
            1e16,
            1e21,
            123456789012345680.0,
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            f64::EPSILON,
            0.3,
            2.0 / 3.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            // A tie: 1308548795726862.25 is as close to …862.2 as to …862.3.
            f64::from_bits(0x4312_9879_088f_f039),
        ];
        for _ in 0..200_000 {
            values.push(f64::from_bits(next()));
            let unit = (next() >> 11) as f64 / (1u64 << 53) as f64;
            values.push(unit - 0.5);
            values.push((unit - 0.5) * 1e-9);
            // Few significant bits: halves, quarters… of large and small numbers.
            values.push((next() >> 40) as f64 * 2f64.powi((next() % 80) as i32 - 40));
        }
        let mut ours = String::new();
        for v in values {
            ours.clear();
            super::push_display_f64(&mut ours, v);
            assert_eq!(ours, format!("{v}"), "bits {:#x}", v.to_bits());
        }
    }
}
