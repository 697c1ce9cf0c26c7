/*!
BIOM 2.1: the HDF5 Biological Observation Matrix, as biom-format and QIIME 2 write it.

Layout: root attributes (`id`, `type`, `format-url`, `format-version` = [2, 1], `generated-by`,
`creation-date`, `shape` = [observations, samples], `nnz`); groups `observation/` and
`sample/`, each with `ids` (variable-length strings), `matrix/{data, indices, indptr}` (CSR by
observation and CSC, i.e. CSR by sample, of the same matrix), `metadata/` (e.g. `taxonomy`, a
2-D string dataset) and `group-metadata/`.

The HDF5 library is `hdf5-pure` (pure Rust): it reads the chunked, gzip-compressed,
variable-length-string files biom-format 2.1.18 writes, and files it writes are read back by
biom-format (tested in CI with Python's biom-format); no C library has to be installed, so a
fresh Debian machine needs nothing beyond the Rust toolchain. Reading prefers the
sample-major matrix (our storage order) and falls back to the observation matrix.
*/

use crate::error::{Error, Location, Result};
use crate::lineage::Lineage;
use crate::table::FeatureTable;
use hdf5_pure::{AttrValue, File, FileBuilder};

/// The HDF5 signature every HDF5 file starts with.
pub const HDF5_MAGIC: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

fn hdf5_error(origin: &Location, what: &str, e: hdf5_pure::Error) -> Error {
    let text = e.to_string();
    if text.contains("unexpected EOF") {
        return Error::syntax(
            origin,
            format!("the HDF5 file is truncated ({what}: {text})"),
        );
    }
    Error::invalid(origin, format!("{what}: {text}"))
}

/// Deflate expands at most ~1,032:1, so a dataset cannot honestly hold more bytes than this
/// many times the file's size (plus headroom for tiny files).
const MAX_EXPANSION: u64 = 1_100;

/// Opens dataset `path` after checking that its declared size fits what a file of `file_len`
/// bytes can hold. A damaged or crafted header can declare an absurd shape, and the HDF5 reader
/// would try to allocate it (found by fuzzing: an abort, not an error).
fn dataset(
    file: &File,
    path: &str,
    file_len: u64,
    origin: &Location,
) -> std::result::Result<hdf5_pure::Dataset, Error> {
    let d = file.dataset(path).map_err(|e| {
        hdf5_error(
            origin,
            &format!("BIOM 2.1 dataset '{path}' is missing or unreadable"),
            e,
        )
    })?;
    let shape = d.shape().map_err(|e| {
        hdf5_error(
            origin,
            &format!("dataset '{path}' has no readable shape"),
            e,
        )
    })?;
    let element = d.element_size().unwrap_or(1).max(1);
    let bytes = shape
        .iter()
        .try_fold(element, |acc, &dim| acc.checked_mul(dim));
    let limit = file_len
        .saturating_mul(MAX_EXPANSION)
        .saturating_add(1 << 20);
    match bytes {
        Some(b) if b <= limit => Ok(d),
        _ => Err(Error::invalid(
            origin,
            format!(
                "dataset '{path}' declares shape {shape:?} of {element}-byte elements, more than a {file_len}-byte file can hold; the file is corrupt"
            ),
        )),
    }
}

/// Reads a BIOM 2.1 HDF5 file from its bytes.
pub fn read_biom_hdf5(bytes: Vec<u8>, origin: &Location) -> Result<FeatureTable> {
    let file_len = bytes.len() as u64;
    let file = File::from_bytes(bytes).map_err(|e| {
        Error::syntax(
            origin,
            format!("not a readable HDF5 file ({e}); the file may be truncated or corrupt"),
        )
    })?;
    let ids = |path: &str| -> Result<Vec<String>> {
        dataset(&file, path, file_len, origin)?
            .read_string()
            .map_err(|e| {
                hdf5_error(
                    origin,
                    &format!(
                        "BIOM 2.1 dataset '{path}' is missing or unreadable, expected a list of ids"
                    ),
                    e,
                )
            })
    };
    let observation_ids = ids("observation/ids")?;
    let sample_ids = ids("sample/ids")?;
    let read_matrix = |axis: &str| -> Result<(Vec<usize>, Vec<u32>, Vec<f64>)> {
        let get = |name: &str| dataset(&file, &format!("{axis}/matrix/{name}"), file_len, origin);
        let data = get("data")?
            .read_f64()
            .map_err(|e| hdf5_error(origin, &format!("{axis}/matrix/data"), e))?;
        let indices = get("indices")?
            .read_i64()
            .map_err(|e| hdf5_error(origin, &format!("{axis}/matrix/indices"), e))?;
        let indptr = get("indptr")?
            .read_i64()
            .map_err(|e| hdf5_error(origin, &format!("{axis}/matrix/indptr"), e))?;
        if indptr.iter().any(|&p| p < 0) || indices.iter().any(|&i| i < 0 || i > u32::MAX as i64) {
            return Err(Error::invalid(
                origin,
                format!("{axis}/matrix has negative or oversized indices"),
            ));
        }
        Ok((
            indptr.into_iter().map(|p| p as usize).collect(),
            indices.into_iter().map(|i| i as u32).collect(),
            data,
        ))
    };
    let table = match read_matrix("sample") {
        Ok((indptr, indices, data)) if indptr.len() == sample_ids.len() + 1 => {
            FeatureTable::from_csr(
                sample_ids,
                observation_ids.clone(),
                indptr,
                indices,
                data,
                origin,
            )?
        }
        sample_attempt => {
            let (indptr, indices, data) = match read_matrix("observation") {
                Ok(m) => m,
                Err(e) => return Err(sample_attempt.err().unwrap_or(e)),
            };
            if indptr.len() != observation_ids.len() + 1 {
                return Err(Error::invalid(
                    origin,
                    format!(
                        "observation/matrix/indptr has {} entries, expected {} (observations + 1)",
                        indptr.len(),
                        observation_ids.len() + 1
                    ),
                ));
            }
            FeatureTable::from_feature_rows(
                sample_ids,
                observation_ids.clone(),
                &indptr,
                &indices,
                &data,
                origin,
            )?
        }
    };
    let lineages = read_taxonomy(&file, observation_ids.len(), file_len, origin);
    match lineages {
        Some(l) => table.with_lineages(l),
        None => Ok(table),
    }
}

/// `observation/metadata/taxonomy`: a 2-D string dataset, one row of levels per observation.
fn read_taxonomy(file: &File, n: usize, file_len: u64, origin: &Location) -> Option<Vec<Lineage>> {
    let dataset = dataset(file, "observation/metadata/taxonomy", file_len, origin).ok()?;
    let shape = dataset.shape().ok()?;
    let flat = dataset.read_string().ok()?;
    let width = match shape.as_slice() {
        [rows, cols] if *rows as usize == n => *cols as usize,
        [rows] if *rows as usize == n => 1,
        _ => return None,
    };
    if width == 0 || flat.len() != n * width {
        return None;
    }
    Some(
        flat.chunks(width)
            .map(|levels| {
                if width == 1 {
                    Lineage::parse(&levels[0])
                } else {
                    Lineage::from_levels(levels)
                }
            })
            .collect(),
    )
}

/// One BIOM axis to write: group name, ids, indptr, indices, data.
type Axis<'a> = (&'a str, &'a [String], Vec<i32>, Vec<i32>, &'a [f64]);

/// Writes a table as BIOM 2.1 HDF5 bytes that biom-format reads.
pub fn write_biom_hdf5(table: &FeatureTable, generated_by: &str) -> Result<Vec<u8>> {
    let origin = Location::named("BIOM 2.1 writer");
    let mut builder = FileBuilder::new();
    builder.set_attr("id", AttrValue::VarLenString("No Table ID".into()));
    builder.set_attr("type", AttrValue::VarLenString("OTU table".into()));
    builder.set_attr(
        "format-url",
        AttrValue::VarLenString("http://biom-format.org".into()),
    );
    builder.set_attr("format-version", AttrValue::I64Array(vec![2, 1]));
    builder.set_attr("generated-by", AttrValue::VarLenString(generated_by.into()));
    builder.set_attr(
        "creation-date",
        AttrValue::VarLenString("1970-01-01T00:00:00".into()),
    );
    builder.set_attr(
        "shape",
        AttrValue::I64Array(vec![table.n_features() as i64, table.n_samples() as i64]),
    );
    builder.set_attr("nnz", AttrValue::I64(table.nnz() as i64));

    let (f_indptr, f_samples, f_values) = table.to_feature_major();
    let to_i32 = |v: &[usize]| -> Result<Vec<i32>> {
        v.iter()
            .map(|&x| {
                i32::try_from(x).map_err(|_| {
                    Error::unsupported(&origin, "table too large for BIOM's 32-bit indices")
                })
            })
            .collect()
    };
    let axes: [Axis<'_>; 2] = [
        (
            "observation",
            table.feature_ids(),
            to_i32(&f_indptr)?,
            f_samples.iter().map(|&s| s as i32).collect(),
            &f_values,
        ),
        (
            "sample",
            table.sample_ids(),
            to_i32(table.indptr())?,
            table.indices().iter().map(|&f| f as i32).collect(),
            table.values(),
        ),
    ];
    for (name, ids, indptr, indices, data) in axes {
        let mut group = builder.create_group(name);
        let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        group.create_dataset("ids").with_vlen_strings(&id_refs);
        let mut matrix = group.create_group("matrix");
        matrix.create_dataset("data").with_f64_data(data);
        matrix.create_dataset("indices").with_i32_data(&indices);
        matrix.create_dataset("indptr").with_i32_data(&indptr);
        group.add_group(matrix.finish());
        let mut metadata = group.create_group("metadata");
        if name == "observation"
            && let Some(lineages) = table.lineages()
        {
            let levels: Vec<Vec<String>> = lineages.iter().map(Lineage::to_levels).collect();
            let width = levels.iter().map(Vec::len).max().unwrap_or(0);
            if width > 0 {
                let flat: Vec<String> = levels
                    .iter()
                    .flat_map(|l| (0..width).map(move |i| l.get(i).cloned().unwrap_or_default()))
                    .collect();
                let refs: Vec<&str> = flat.iter().map(String::as_str).collect();
                metadata
                    .create_dataset("taxonomy")
                    .with_vlen_strings(&refs)
                    .with_shape(&[ids.len() as u64, width as u64]);
            }
        }
        group.add_group(metadata.finish());
        let group_metadata = group.create_group("group-metadata");
        group.add_group(group_metadata.finish());
        builder.add_group(group.finish());
    }
    builder
        .finish()
        .map_err(|e| Error::unsupported(&origin, format!("HDF5 serialisation failed: {e}")))
}
