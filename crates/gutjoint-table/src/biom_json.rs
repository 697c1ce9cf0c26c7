/*!
BIOM 1.0: the JSON Biological Observation Matrix (McDonald et al. 2012, GigaScience 1:7).

Older QIIME 1 and mothur write it. `rows` are observations (features) and `columns` samples;
`data` is dense (a list of rows) or sparse (`[row, column, value]` triplets) by `matrix_type`;
observation metadata may carry a `taxonomy` list. gutjoint writes the sparse form, as
biom-format does.
*/

use crate::error::{Error, Location, Result};
use crate::lineage::Lineage;
use crate::table::{FeatureTable, ValueKind};
use serde_json::{Value, json};

/// Reads a BIOM 1.0 JSON document.
pub fn read_biom_json(bytes: &[u8], origin: &Location) -> Result<FeatureTable> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| {
        Error::syntax(
            &origin.at_line(e.line()),
            format!("invalid JSON ({e}); expected a BIOM 1.0 document"),
        )
    })?;
    let field = |name: &str| {
        doc.get(name).ok_or_else(|| {
            Error::invalid(origin, format!("BIOM 1.0 document has no '{name}' field"))
        })
    };
    let ids = |name: &str| -> Result<(Vec<String>, Vec<Lineage>)> {
        let list = field(name)?
            .as_array()
            .ok_or_else(|| Error::invalid(origin, format!("'{name}' must be a list")))?;
        let mut out = Vec::with_capacity(list.len());
        let mut lineages = Vec::with_capacity(list.len());
        for (i, entry) in list.iter().enumerate() {
            let id = entry
                .get("id")
                .and_then(Value::as_str)
                .ok_or_else(|| Error::invalid(origin, format!("{name}[{i}] has no string 'id'")))?;
            out.push(id.to_string());
            let taxonomy = entry.get("metadata").and_then(|m| m.get("taxonomy"));
            lineages.push(match taxonomy {
                Some(Value::Array(levels)) => Lineage::from_levels(
                    &levels.iter().filter_map(Value::as_str).collect::<Vec<_>>(),
                ),
                Some(Value::String(text)) => Lineage::parse(text),
                _ => Lineage::empty(),
            });
        }
        Ok((out, lineages))
    };
    let (features, lineages) = ids("rows")?;
    let (samples, _) = ids("columns")?;
    let shape: Vec<u64> = field("shape")?
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    if shape != [features.len() as u64, samples.len() as u64] {
        return Err(Error::invalid(
            origin,
            format!(
                "shape {:?} disagrees with {} rows and {} columns",
                shape,
                features.len(),
                samples.len()
            ),
        ));
    }
    let matrix_type = field("matrix_type")?.as_str().unwrap_or("");
    let data = field("data")?
        .as_array()
        .ok_or_else(|| Error::invalid(origin, "'data' must be a list"))?;
    let number = |v: &Value, at: &dyn Fn() -> String| -> Result<f64> {
        v.as_f64().ok_or_else(|| {
            Error::invalid(origin, format!("{}: expected a number, found {v}", at()))
        })
    };
    let mut triplets = Vec::new();
    match matrix_type {
        "sparse" => {
            for (k, entry) in data.iter().enumerate() {
                let cell = entry.as_array().filter(|a| a.len() == 3).ok_or_else(|| {
                    Error::invalid(origin, format!("data[{k}]: expected [row, column, value]"))
                })?;
                let r = cell[0].as_u64().filter(|r| (*r as usize) < features.len());
                let c = cell[1].as_u64().filter(|c| (*c as usize) < samples.len());
                let (Some(r), Some(c)) = (r, c) else {
                    return Err(Error::invalid(
                        origin,
                        format!(
                            "data[{k}]: row/column index out of range (shape {} x {})",
                            features.len(),
                            samples.len()
                        ),
                    ));
                };
                let v = number(&cell[2], &|| format!("data[{k}]"))?;
                triplets.push((c as u32, r as u32, v));
            }
        }
        "dense" => {
            if data.len() != features.len() {
                return Err(Error::invalid(
                    origin,
                    format!(
                        "dense data has {} rows, expected {}",
                        data.len(),
                        features.len()
                    ),
                ));
            }
            for (r, row) in data.iter().enumerate() {
                let row = row
                    .as_array()
                    .filter(|a| a.len() == samples.len())
                    .ok_or_else(|| {
                        Error::invalid(
                            origin,
                            format!("data row {r}: expected {} values", samples.len()),
                        )
                    })?;
                for (c, v) in row.iter().enumerate() {
                    let v = number(v, &|| format!("data row {r}, column {c}"))?;
                    if v != 0.0 {
                        triplets.push((c as u32, r as u32, v));
                    }
                }
            }
        }
        other => {
            return Err(Error::invalid(
                origin,
                format!("matrix_type '{other}', expected 'sparse' or 'dense'"),
            ));
        }
    }
    for &(s, f, v) in &triplets {
        crate::table::check_value(v, origin, || {
            format!(
                "sample {}, feature {}",
                samples[s as usize], features[f as usize]
            )
        })?;
    }
    FeatureTable::from_triplets(samples, features, triplets, origin)?.with_lineages(lineages)
}

/// Writes a table as sparse BIOM 1.0 JSON.
pub fn write_biom_json(table: &FeatureTable, generated_by: &str) -> Vec<u8> {
    let counts = table.kind() == ValueKind::Counts;
    let rows: Vec<Value> = (0..table.n_features())
        .map(|f| {
            let metadata = match table.lineages() {
                Some(l) if !l[f].is_empty() => json!({ "taxonomy": l[f].to_levels() }),
                _ => Value::Null,
            };
            json!({ "id": table.feature_ids()[f], "metadata": metadata })
        })
        .collect();
    let columns: Vec<Value> = table
        .sample_ids()
        .iter()
        .map(|s| json!({ "id": s, "metadata": Value::Null }))
        .collect();
    let (indptr, samples, values) = table.to_feature_major();
    let mut data = Vec::with_capacity(values.len());
    for f in 0..table.n_features() {
        for k in indptr[f]..indptr[f + 1] {
            let v = if counts && values[k].abs() < 9.0e15 {
                json!(values[k] as i64)
            } else {
                json!(values[k])
            };
            data.push(json!([f, samples[k], v]));
        }
    }
    let doc = json!({
        "id": null,
        "format": "Biological Observation Matrix 1.0.0",
        "format_url": "http://biom-format.org",
        "type": "OTU table",
        "generated_by": generated_by,
        "date": "1970-01-01T00:00:00",
        "rows": rows,
        "columns": columns,
        "matrix_type": "sparse",
        "matrix_element_type": if counts { "int" } else { "float" },
        "shape": [table.n_features(), table.n_samples()],
        "data": data,
    });
    let mut out = serde_json::to_vec(&doc).unwrap_or_default();
    out.push(b'\n');
    out
}
