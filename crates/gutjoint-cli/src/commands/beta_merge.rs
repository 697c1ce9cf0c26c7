/*!
`gutjoint beta-merge` and the block ("part") file that `gutjoint beta --block I/N` writes.

A part must be enough, alone, to say what it is: merging parts of different tables, metrics or
layouts, or a truncated copy, must fail loudly rather than produce a plausible wrong matrix. So
a part carries its input's identity (SHA-256 of the table and tree files, the metric and every
parameter that changes a distance, the sample ids and their digest), its place (block `I` of
`N`, rows, offset in the condensed vector), its precision, a format version, and the SHA-256 of
its payload.

Layout (little-endian):

| bytes | content |
| --- | --- |
| 8 | magic `\x93GJBLOCK` |
| 4 | format version (u32, 1) |
| 4 | header length `H` (u32) |
| H | header, JSON (UTF-8) |
| rest | the block's distances in condensed order, `<f8` or `<f4` |

The payload is the block's slice of scipy's condensed vector, so `beta-merge` to `.npy` is a
concatenation in block order, streamed part by part.
*/

use crate::output;
use anyhow::{Context, Result, bail};
use gutjoint_ecology::blocks::Block;
use gutjoint_table::npy::NpyElement;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"\x93GJBLOCK";
const VERSION: u32 = 1;

/// Merges the parts written by `gutjoint beta --block I/N` into one distance matrix: `.npy`
/// (condensed vector, ids in `<OUT>.ids.txt`) or lsmat TSV, the same bytes as a single
/// `gutjoint beta` run. Checks that the parts share input, metric, parameters and precision,
/// that blocks 1..N are each present exactly once, and every part's checksum.
///
/// Example:
///   for i in 1 2 3; do gutjoint beta t.tsv --metric braycurtis --block $i/3 -o bc.$i.part; done
///   gutjoint beta-merge bc.1.part bc.2.part bc.3.part -o bc.npy
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct Args {
    /// Part files (any order).
    #[arg(value_name = "PART", required = true)]
    pub parts: Vec<PathBuf>,
    /// Output: `.npy` (condensed) or lsmat TSV (f64 only).
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
}

/// What a matrix was computed from: equal for every part of one matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// SHA-256 of the table file (or, for several inputs, of their digests in order).
    pub table_sha256: String,
    pub tree_sha256: Option<String>,
    pub metric: String,
    /// Everything else that changes a distance (reader options, alpha, pseudocount...).
    pub parameters: serde_json::Value,
    /// `f64` or `f32`.
    pub precision: String,
    pub n_samples: usize,
    /// SHA-256 of the sample ids, each followed by a newline.
    pub sample_ids_sha256: String,
}

/// Where a part sits in the matrix (block numbers are 1-based, as on the command line).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    pub block: usize,
    pub blocks: usize,
    pub rows: [usize; 2],
    pub offset: usize,
    pub values: usize,
}

impl Placement {
    pub fn of(block: &Block) -> Placement {
        Placement {
            block: block.index + 1,
            blocks: block.count,
            rows: [block.rows.start, block.rows.end],
            offset: block.offset(),
            values: block.len(),
        }
    }

    /// The ecology crate's block, after checking the stored layout against it.
    pub fn block(&self, n: usize, path: &Path) -> Result<Block> {
        if self.block == 0 || self.block > self.blocks {
            bail!(
                "{}: corrupt part: block {} of {}",
                path.display(),
                self.block,
                self.blocks
            );
        }
        let b = Block::new(n, self.block - 1, self.blocks)?;
        if Placement::of(&b) != *self {
            bail!(
                "{}: corrupt part: block {}/{} of {n} samples should hold rows {}..{} ({} values at offset {}), the header says rows {}..{} ({} values at offset {})",
                path.display(),
                self.block,
                self.blocks,
                b.rows.start,
                b.rows.end,
                b.len(),
                b.offset(),
                self.rows[0],
                self.rows[1],
                self.values,
                self.offset
            );
        }
        Ok(b)
    }
}

/// A part's JSON header.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartHeader {
    pub format: String,
    pub version: u32,
    pub software: String,
    pub source: Source,
    pub placement: Placement,
    pub sample_ids: Vec<String>,
    pub payload_sha256: String,
}

/// A part's distances.
pub enum Values {
    F64(Vec<f64>),
    F32(Vec<f32>),
}

impl Values {
    /// The distances in f64 (f32 ones widened, exactly).
    pub fn into_f64(self) -> Vec<f64> {
        match self {
            Values::F64(v) => v,
            Values::F32(v) => v.iter().map(|x| f64::from(*x)).collect(),
        }
    }
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// SHA-256 of a file, streamed.
pub fn file_sha256(path: &Path) -> Result<String> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let k = file
            .read(&mut buf)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        if k == 0 {
            break;
        }
        hasher.update(&buf[..k]);
    }
    Ok(hex(&hasher.finalize()))
}

/// The identity of a table given as one or more paths (files, or directories of profiles):
/// a single file's SHA-256; otherwise the SHA-256 of every file's name and digest, in order
/// (directory entries sorted by name).
pub fn inputs_sha256(paths: &[PathBuf]) -> Result<String> {
    if let [single] = paths
        && single.is_file()
    {
        return file_sha256(single);
    }
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("{}: cannot list", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|e| e.is_file())
                .collect();
            entries.sort();
            files.extend(entries);
        } else {
            files.push(p.clone());
        }
    }
    let mut hasher = Sha256::new();
    for f in &files {
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned());
        hasher.update(format!(
            "{}\t{}\n",
            name.unwrap_or_default(),
            file_sha256(f)?
        ));
    }
    Ok(hex(&hasher.finalize()))
}

pub fn ids_sha256(ids: &[String]) -> String {
    let mut hasher = Sha256::new();
    for id in ids {
        hasher.update(id.as_bytes());
        hasher.update(b"\n");
    }
    hex(&hasher.finalize())
}

/// Streams `values` as little-endian bytes into `out` and, at once, into a SHA-256.
fn write_values<T: NpyElement>(values: &[T], out: &mut dyn Write) -> std::io::Result<String> {
    struct Tee<'a> {
        out: &'a mut dyn Write,
        hasher: Sha256,
    }
    impl Write for Tee<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            let k = self.out.write(buf)?;
            self.hasher.update(&buf[..k]);
            Ok(k)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.out.flush()
        }
    }
    let mut tee = Tee {
        out,
        hasher: Sha256::new(),
    };
    T::write_le(values, &mut tee)?;
    Ok(hex(&tee.hasher.finalize()))
}

/// Writes a part atomically: the payload's digest is computed first (without a copy of the
/// payload), then the header and the payload are written.
pub fn write_part<T: NpyElement>(
    path: &Path,
    source: Source,
    ids: &[String],
    block: &Block,
    values: &[T],
) -> Result<()> {
    let digest = write_values(values, &mut std::io::sink())?;
    let header = PartHeader {
        format: "gutjoint-beta-block".into(),
        version: VERSION,
        software: output::generated_by(),
        source,
        placement: Placement::of(block),
        sample_ids: ids.to_vec(),
        payload_sha256: digest,
    };
    let json = serde_json::to_vec(&header)?;
    gutjoint_table::write_atomic_with(path, |w| {
        w.write_all(MAGIC)?;
        w.write_all(&VERSION.to_le_bytes())?;
        w.write_all(&(json.len() as u32).to_le_bytes())?;
        w.write_all(&json)?;
        T::write_le(values, w)
    })?;
    Ok(())
}

fn element_size(precision: &str, path: &Path) -> Result<usize> {
    match precision {
        "f64" => Ok(8),
        "f32" => Ok(4),
        other => bail!(
            "{}: corrupt part: unknown precision '{other}'",
            path.display()
        ),
    }
}

/// Reads and checks a part's header; returns it with the open file positioned at the payload.
pub fn read_part_header(path: &Path) -> Result<(PartHeader, std::io::BufReader<std::fs::File>)> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("{}: cannot open the part", path.display()))?;
    let size = file.metadata()?.len();
    let mut r = std::io::BufReader::with_capacity(1 << 20, file);
    let mut fixed = [0u8; 16];
    r.read_exact(&mut fixed).map_err(|_| {
        anyhow::anyhow!(
            "{}: not a gutjoint block part (shorter than its 16-byte preamble)",
            path.display()
        )
    })?;
    if &fixed[..8] != MAGIC {
        bail!(
            "{}: not a gutjoint block part (no \\x93GJBLOCK magic); parts are written by `gutjoint beta --block I/N`",
            path.display()
        );
    }
    let version = u32::from_le_bytes(fixed[8..12].try_into().expect("4 bytes"));
    if version != VERSION {
        bail!(
            "{}: part format version {version}; this gutjoint reads version {VERSION}",
            path.display()
        );
    }
    let len = u32::from_le_bytes(fixed[12..16].try_into().expect("4 bytes")) as u64;
    if 16 + len > size {
        bail!(
            "{}: corrupt part: header of {len} bytes in a file of {size}",
            path.display()
        );
    }
    let mut json = vec![0u8; len as usize];
    r.read_exact(&mut json)?;
    let header: PartHeader = serde_json::from_slice(&json)
        .with_context(|| format!("{}: corrupt part: unreadable header", path.display()))?;
    let p = &header.placement;
    let expected = 16 + len + (p.values * element_size(&header.source.precision, path)?) as u64;
    if size != expected {
        bail!(
            "{}: corrupt or truncated part: {size} bytes, expected {expected} for {} {} values",
            path.display(),
            p.values,
            header.source.precision
        );
    }
    if header.sample_ids.len() != header.source.n_samples
        || ids_sha256(&header.sample_ids) != header.source.sample_ids_sha256
    {
        bail!(
            "{}: corrupt part: its sample ids do not match their recorded digest",
            path.display()
        );
    }
    p.block(header.source.n_samples, path)?;
    Ok((header, r))
}

/// Reads a part's payload after its header, checking the payload's SHA-256.
pub fn read_payload(path: &Path, header: &PartHeader, mut r: impl Read) -> Result<Values> {
    let size = element_size(&header.source.precision, path)?;
    let mut bytes = vec![0u8; header.placement.values * size];
    r.read_exact(&mut bytes)
        .with_context(|| format!("{}: truncated part", path.display()))?;
    if hex(&Sha256::digest(&bytes)) != header.payload_sha256 {
        bail!(
            "{}: corrupt part: the payload's SHA-256 differs from the one recorded in its header",
            path.display()
        );
    }
    Ok(if size == 8 {
        Values::F64(
            bytes
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                .collect(),
        )
    } else {
        Values::F32(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
                .collect(),
        )
    })
}

/// The first field in which two sources differ, as `field: a vs b`.
pub fn difference(a: &Source, b: &Source) -> Option<String> {
    let (va, vb) = (serde_json::to_value(a).ok()?, serde_json::to_value(b).ok()?);
    // In the struct's order, so that a different table is reported as such rather than by a
    // consequence of it (its sample count).
    [
        "table_sha256",
        "tree_sha256",
        "metric",
        "parameters",
        "precision",
        "n_samples",
        "sample_ids_sha256",
    ]
    .iter()
    .find(|k| va.get(**k) != vb.get(**k))
    .map(|k| {
        let null = serde_json::Value::Null;
        format!(
            "{k}: {} vs {}",
            va.get(*k).unwrap_or(&null),
            vb.get(*k).unwrap_or(&null)
        )
    })
}

/// Checks that `paths` are the parts of one matrix, each block exactly once; returns their
/// headers in block order.
pub fn check_parts(paths: &[PathBuf]) -> Result<Vec<(PathBuf, PartHeader)>> {
    let mut headers = Vec::with_capacity(paths.len());
    for p in paths {
        headers.push((p.clone(), read_part_header(p)?.0));
    }
    let (first_path, first) = &headers[0];
    for (p, h) in &headers[1..] {
        if let Some(diff) = difference(&first.source, &h.source) {
            bail!(
                "{} and {} are parts of different matrices ({diff}); merge parts of one `gutjoint beta` computation",
                first_path.display(),
                p.display()
            );
        }
        if h.placement.blocks != first.placement.blocks {
            bail!(
                "{} is one of {} blocks but {} one of {}; all parts must come from the same --block I/N split",
                first_path.display(),
                first.placement.blocks,
                p.display(),
                h.placement.blocks
            );
        }
    }
    let placed: Vec<(&Path, usize)> = headers
        .iter()
        .map(|(p, h)| (p.as_path(), h.placement.block))
        .collect();
    let order = block_order(&placed, first.placement.blocks, "gutjoint beta --block I/N")?;
    let mut slots: Vec<Option<(PathBuf, PartHeader)>> = headers.into_iter().map(Some).collect();
    Ok(order
        .into_iter()
        .map(|k| slots[k].take().expect("each once"))
        .collect())
}

/// Positions of `placed` (file, 1-based block) in block order, after checking that blocks
/// 1..=count each appear exactly once; `command` is what makes a missing one.
pub fn block_order(placed: &[(&Path, usize)], count: usize, command: &str) -> Result<Vec<usize>> {
    let mut by_block: Vec<Option<usize>> = vec![None; count];
    for (k, (p, block)) in placed.iter().enumerate() {
        let Some(slot) = by_block.get_mut(block.wrapping_sub(1)) else {
            bail!("{}: block {block} of {count} does not exist", p.display());
        };
        if let Some(other) = slot {
            bail!(
                "block {block}/{count} is given twice: {} and {}",
                placed[*other].0.display(),
                p.display()
            );
        }
        *slot = Some(k);
    }
    let missing: Vec<String> = by_block
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_none())
        .map(|(b, _)| format!("{}/{count}", b + 1))
        .collect();
    if !missing.is_empty() {
        bail!(
            "incomplete: block{} {} of the matrix {} missing (made by `{command}`)",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", "),
            if missing.len() > 1 { "are" } else { "is" }
        );
    }
    Ok(by_block.into_iter().flatten().collect())
}

pub fn run(args: Args) -> Result<()> {
    let parts = check_parts(&args.parts)?;
    let header = &parts[0].1;
    let ids = header.sample_ids.clone();
    let n = ids.len();
    let total = n * n.saturating_sub(1) / 2;
    let npy = args.output.extension().is_some_and(|e| e == "npy");
    let f32 = header.source.precision == "f32";
    if npy {
        // Streamed: one part in memory at a time; the atomic write leaves no output if a part
        // turns out corrupt half-way.
        gutjoint_table::write_atomic_with(&args.output, |w| {
            let result = (|| -> Result<()> {
                if f32 {
                    gutjoint_table::npy::write_npy_header::<f32>(total, w)?;
                } else {
                    gutjoint_table::npy::write_npy_header::<f64>(total, w)?;
                }
                for (p, _) in &parts {
                    let (h, r) = read_part_header(p)?;
                    match read_payload(p, &h, r)? {
                        Values::F64(v) => f64::write_le(&v, w)?,
                        Values::F32(v) => f32::write_le(&v, w)?,
                    }
                }
                Ok(())
            })();
            result.map_err(|e| std::io::Error::other(format!("{e:#}")))
        })?;
        return super::beta::write_ids_beside(&args.output, &ids);
    }
    if f32 {
        bail!(
            "the parts are f32, and an lsmat holds f64 text; name the output OUT.npy (as `gutjoint beta --precision f32` requires)"
        );
    }
    let mut condensed = Vec::with_capacity(total);
    for (p, _) in &parts {
        let (h, r) = read_part_header(p)?;
        match read_payload(p, &h, r)? {
            Values::F64(v) => condensed.extend(v),
            Values::F32(_) => unreachable!("precision checked above"),
        }
    }
    let dm = gutjoint_table::DistanceMatrix::from_condensed(ids, condensed)?;
    gutjoint_table::write_atomic_with(&args.output, |w| dm.write_lsmat(w))?;
    Ok(())
}
