/*!
QIIME 2 artifacts (`.qza`): a zip archive with one top folder named by the artifact's UUID,
holding `metadata.yaml` (`uuid`, `type`, `format`), `VERSION`, provenance, and `data/`. A
`FeatureTable[Frequency]` or `FeatureTable[RelativeFrequency]` keeps its table as
`data/feature-table.biom` (BIOM 2.1 HDF5). Other semantic types are refused by name.
*/

use crate::biom_hdf5::read_biom_hdf5;
use crate::error::{Error, Location, Result};
use crate::table::{FeatureTable, ValueKind};
use std::io::{Cursor, Read};

/// The zip local-file signature every `.qza` starts with.
pub const ZIP_MAGIC: &[u8; 4] = b"PK\x03\x04";

/// Reads the feature table inside a QIIME 2 artifact.
pub fn read_qza(bytes: Vec<u8>, origin: &Location) -> Result<FeatureTable> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        Error::syntax(
            origin,
            format!("not a readable zip archive ({e}); expected a QIIME 2 .qza artifact"),
        )
    })?;
    let names: Vec<String> = archive.file_names().map(str::to_string).collect();
    let metadata_name = names
        .iter()
        .filter(|n| n.matches('/').count() == 1 && n.ends_with("/metadata.yaml"))
        .min()
        .cloned()
        .ok_or_else(|| {
            Error::invalid(
                origin,
                "the archive has no <uuid>/metadata.yaml, so it is not a QIIME 2 artifact",
            )
        })?;
    let root = metadata_name.trim_end_matches("metadata.yaml").to_string();
    let mut metadata = String::new();
    archive
        .by_name(&metadata_name)
        .map_err(|e| Error::invalid(origin, format!("{metadata_name}: {e}")))?
        .read_to_string(&mut metadata)
        .map_err(|e| Error::invalid(origin, format!("{metadata_name}: {e}")))?;
    let semantic_type = metadata
        .lines()
        .find_map(|l| l.strip_prefix("type:"))
        .map(|t| t.trim().trim_matches('\'').trim_matches('"').to_string())
        .ok_or_else(|| Error::invalid(origin, format!("{metadata_name} has no 'type:' line")))?;
    let kind = match semantic_type.as_str() {
        "FeatureTable[Frequency]" => ValueKind::Counts,
        "FeatureTable[RelativeFrequency]" => ValueKind::Relative,
        other => {
            return Err(Error::unsupported(
                origin,
                format!(
                    "this artifact is a {other}, expected FeatureTable[Frequency] or FeatureTable[RelativeFrequency]"
                ),
            ));
        }
    };
    let table_name = format!("{root}data/feature-table.biom");
    let mut entry = archive.by_name(&table_name).map_err(|_| {
        Error::invalid(
            origin,
            format!(
                "the artifact has no {table_name}; expected the table in BIOM 2.1 format there"
            ),
        )
    })?;
    let mut table_bytes = Vec::with_capacity(entry.size() as usize);
    entry.read_to_end(&mut table_bytes).map_err(|e| {
        Error::invalid(
            origin,
            format!("{table_name}: {e} (the archive may be truncated)"),
        )
    })?;
    let inner = Location::named(format!("{}:{table_name}", origin.source));
    Ok(read_biom_hdf5(table_bytes, &inner)?.with_kind(kind))
}
