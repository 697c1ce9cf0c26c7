/*!
One entry point for every table format: [`read_table`] sniffs the content (HDF5 and zip
signatures, JSON, MetaPhlAn header lines, delimiters), undoes gzip, reads directories of
MetaPhlAn profiles, and reports what it found and anything it set aside.
*/

use crate::biom_hdf5::{HDF5_MAGIC, read_biom_hdf5};
use crate::biom_json::read_biom_json;
use crate::error::{Error, Location, Result};
use crate::lineage::Rank;
use crate::metaphlan::{
    Profile, keep_clade_rank, looks_like_profile, merge_profiles, read_profile, sample_id_from_path,
};
use crate::qza::{ZIP_MAGIC, read_qza};
use crate::table::FeatureTable;
use crate::text::{TextOptions, read_delimited};
use serde::Serialize;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// The formats gutjoint reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    BiomHdf5,
    BiomJson,
    Qza,
    Metaphlan,
    Tsv,
    Csv,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::BiomHdf5 => "biom-hdf5",
            Format::BiomJson => "biom-json",
            Format::Qza => "qza",
            Format::Metaphlan => "metaphlan",
            Format::Tsv => "tsv",
            Format::Csv => "csv",
        }
    }

    /// Parses a `--format` value.
    pub fn parse(text: &str) -> Option<Format> {
        Some(match text.to_ascii_lowercase().as_str() {
            "biom-hdf5" | "biom2" | "hdf5" | "biom" => Format::BiomHdf5,
            "biom-json" | "biom1" | "json" => Format::BiomJson,
            "qza" => Format::Qza,
            "metaphlan" | "mpa" => Format::Metaphlan,
            "tsv" | "txt" => Format::Tsv,
            "csv" => Format::Csv,
            _ => return None,
        })
    }

    pub const NAMES: &'static str = "biom-hdf5, biom-json, qza, metaphlan, tsv, csv";
}

/// How to read a table.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// Skip sniffing.
    pub format: Option<Format>,
    /// Plain TSV/CSV with samples as rows.
    pub samples_as_rows: bool,
    /// Rank kept from MetaPhlAn profiles and merged MetaPhlAn tables.
    pub metaphlan_rank: Rank,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            format: None,
            samples_as_rows: false,
            metaphlan_rank: Rank::Species,
        }
    }
}

/// A table and how it was read.
#[derive(Debug, Clone)]
pub struct ReadTable {
    pub table: FeatureTable,
    pub format: Format,
    pub gzipped: bool,
    /// Things the reader set aside or assumed, for the user to see.
    pub notes: Vec<String>,
}

const GZIP_MAGIC: &[u8; 2] = b"\x1f\x8b";

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|e| Error::io(path, e))
}

/// Reads the first bytes of a file, undoing gzip.
fn head(path: &Path, gzipped: bool) -> Result<Vec<u8>> {
    let file = open(path)?;
    let mut buf = Vec::with_capacity(8192);
    let result = if gzipped {
        flate2::read::MultiGzDecoder::new(file)
            .take(8192)
            .read_to_end(&mut buf)
    } else {
        file.take(8192).read_to_end(&mut buf)
    };
    match result {
        Ok(_) => Ok(buf),
        // A truncated gzip shorter than the head still sniffs from what was decoded.
        Err(_) if gzipped && !buf.is_empty() => Ok(buf),
        Err(e) if gzipped => Err(Error::syntax(
            &Location::file(path),
            format!("the gzip stream is truncated or corrupt ({e})"),
        )),
        Err(e) => Err(Error::io(path, e)),
    }
}

fn reader(path: &Path, gzipped: bool) -> Result<Box<dyn BufRead + Send>> {
    let file = open(path)?;
    Ok(if gzipped {
        Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::read::MultiGzDecoder::new(file),
        ))
    } else {
        Box::new(BufReader::with_capacity(1 << 20, file))
    })
}

fn read_all(path: &Path, gzipped: bool) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    reader(path, gzipped)?
        .read_to_end(&mut bytes)
        .map_err(|e| {
            if gzipped {
                Error::syntax(
                    &Location::file(path),
                    format!("the gzip stream is truncated or corrupt ({e})"),
                )
            } else {
                Error::io(path, e)
            }
        })?;
    Ok(bytes)
}

/// Guesses a file's format from its first bytes.
pub fn sniff(head: &[u8]) -> Option<Format> {
    if head.starts_with(HDF5_MAGIC) {
        return Some(Format::BiomHdf5);
    }
    if head.starts_with(ZIP_MAGIC) {
        return Some(Format::Qza);
    }
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') {
        return Some(Format::BiomJson);
    }
    if trimmed.is_empty() {
        return None;
    }
    if looks_like_profile(trimmed) {
        return Some(Format::Metaphlan);
    }
    let header = trimmed
        .lines()
        .find(|l| !l.starts_with('#') || l.contains('\t') || l.contains(','))
        .unwrap_or("");
    Some(if header.contains('\t') || !header.contains(',') {
        Format::Tsv
    } else {
        Format::Csv
    })
}

/// Reads a table from a file, or from a directory of MetaPhlAn profiles.
pub fn read_table(path: &Path, options: ReadOptions) -> Result<ReadTable> {
    let origin = Location::file(path);
    let metadata = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if metadata.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| Error::io(path, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && !p
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(Error::invalid(
                &origin,
                "the directory holds no files, expected MetaPhlAn profiles",
            ));
        }
        return read_profiles(&files, options.metaphlan_rank);
    }
    let gzipped = {
        let mut magic = [0u8; 2];
        let n = open(path)?
            .read(&mut magic)
            .map_err(|e| Error::io(path, e))?;
        n == 2 && &magic == GZIP_MAGIC
    };
    let head = head(path, gzipped)?;
    let format = match options.format {
        Some(f) => f,
        None => sniff(&head)
            .ok_or_else(|| Error::syntax(&origin, "the file is empty, expected a feature table"))?,
    };
    let mut notes = Vec::new();
    let table = match format {
        Format::BiomHdf5 => read_biom_hdf5(read_all(path, gzipped)?, &origin)?,
        Format::BiomJson => read_biom_json(&read_all(path, gzipped)?, &origin)?,
        Format::Qza => read_qza(read_all(path, gzipped)?, &origin)?,
        Format::Metaphlan => {
            let profile = read_profile(
                reader(path, gzipped)?,
                sample_id_from_path(path),
                &origin,
                options.metaphlan_rank,
            )?;
            notes.extend(unclassified_note(std::slice::from_ref(&profile)));
            merge_profiles(vec![profile], &origin)?
        }
        Format::Tsv | Format::Csv => {
            let table = read_delimited(
                reader(path, gzipped)?,
                &origin,
                TextOptions {
                    samples_as_rows: options.samples_as_rows,
                },
            )?;
            let (table, dropped) = keep_clade_rank(table, options.metaphlan_rank)?;
            if dropped > 0 {
                notes.push(format!(
                    "kept the {} rows of this merged MetaPhlAn table and set aside {dropped} rows of other ranks",
                    options.metaphlan_rank
                ));
            }
            table
        }
    };
    Ok(ReadTable {
        table,
        format,
        gzipped,
        notes,
    })
}

/// Reads several single-sample MetaPhlAn profiles into one table.
pub fn read_profiles(paths: &[PathBuf], rank: Rank) -> Result<ReadTable> {
    let mut profiles: Vec<Profile> = Vec::with_capacity(paths.len());
    let mut any_gzip = false;
    for path in paths {
        let origin = Location::file(path);
        let mut magic = [0u8; 2];
        let n = open(path)?
            .read(&mut magic)
            .map_err(|e| Error::io(path, e))?;
        let gzipped = n == 2 && &magic == GZIP_MAGIC;
        any_gzip |= gzipped;
        let head = head(path, gzipped)?;
        if sniff(&head) != Some(Format::Metaphlan) {
            return Err(Error::syntax(
                &origin,
                "not a MetaPhlAn profile (expected #clade_name header lines and clade rows)",
            ));
        }
        profiles.push(read_profile(
            reader(path, gzipped)?,
            sample_id_from_path(path),
            &origin,
            rank,
        )?);
    }
    let origin = Location::named(format!("{} MetaPhlAn profiles", paths.len()));
    let notes = unclassified_note(&profiles).into_iter().collect();
    let table = merge_profiles(profiles, &origin)?;
    Ok(ReadTable {
        table,
        format: Format::Metaphlan,
        gzipped: any_gzip,
        notes,
    })
}

/// Says how much unclassified abundance the profiles set aside.
fn unclassified_note(profiles: &[Profile]) -> Option<String> {
    let shares: Vec<f64> = profiles.iter().map(|p| p.unclassified).collect();
    let max = shares.iter().copied().fold(0.0, f64::max);
    (max > 0.0).then(|| {
        let mean = shares.iter().sum::<f64>() / shares.len() as f64;
        format!("set aside the UNCLASSIFIED/UNKNOWN share (mean {mean:.4}, max {max:.4}, in the profile's units) as it is not a taxon")
    })
}

/// Reads a QIIME 2 metadata file.
pub fn read_metadata_file(path: &Path) -> Result<crate::metadata::Metadata> {
    let gz = path.extension().is_some_and(|e| e == "gz");
    crate::metadata::read_metadata(reader(path, gz)?, &Location::file(path))
}

/// Reads a Newick tree file.
pub fn read_tree_file(path: &Path) -> Result<crate::newick::Tree> {
    let gz = path.extension().is_some_and(|e| e == "gz");
    let bytes = read_all(path, gz)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::syntax(
            &Location::file(path),
            "not valid UTF-8 text, expected Newick",
        )
    })?;
    crate::newick::parse_newick(&text, &Location::file(path))
}

/// Reads a distance matrix file: lsmat text (scikit-bio's format, optionally gzipped), or
/// `.npy` with its ids in `<file>.ids.txt` ([`crate::npy::read_npy_distance`]).
pub fn read_distance_file(path: &Path) -> Result<crate::distance::DistanceMatrix> {
    if path.extension().is_some_and(|e| e == "npy") {
        return crate::npy::read_npy_distance(path);
    }
    let gz = path.extension().is_some_and(|e| e == "gz");
    crate::distance::read_lsmat(reader(path, gz)?, &Location::file(path))
}
