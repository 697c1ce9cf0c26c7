/*!
Sample metadata in QIIME 2's TSV format.

The first column holds sample ids and is named `sample-id`, `#SampleID`, `id`, `sampleid`,
`sample id`, `sample_id`, `#Sample ID`, `featureid`… (QIIME 2 accepts a fixed set; we also take
the common R/CSV spellings). An optional second line starting `#q2:types` declares each column
`categorical` or `numeric`; otherwise a column whose every non-missing value is a number is
numeric. Missing values are empty cells or `NA`. Comment lines start with `#`.
*/

use crate::error::{Error, Location, Result};
use crate::text::{Lines, split_fields};
use serde::Serialize;
use std::collections::HashMap;
use std::io::BufRead;

/// The id column names gutjoint recognises, compared case-insensitively.
pub const ID_COLUMN_NAMES: &[&str] = &[
    "sample-id",
    "#sampleid",
    "id",
    "sampleid",
    "sample id",
    "sample_id",
    "#sample id",
    "#sample-id",
    "#sample_id",
    "sample-ids",
    "sample_ids",
    "sample ids",
    "feature-id",
    "#featureid",
    "featureid",
    "feature id",
    "#otu id",
    "#otuid",
];

/// One metadata column.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", content = "values", rename_all = "lowercase")]
pub enum Column {
    Categorical(Vec<Option<String>>),
    Numeric(Vec<Option<f64>>),
}

impl Column {
    /// The value of row `i` as text (numbers printed as written by Rust).
    pub fn text(&self, i: usize) -> Option<String> {
        match self {
            Column::Categorical(v) => v[i].clone(),
            Column::Numeric(v) => v[i].map(|x| x.to_string()),
        }
    }
    pub fn is_numeric(&self) -> bool {
        matches!(self, Column::Numeric(_))
    }
}

/// Sample metadata: ids and typed columns, in file order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metadata {
    pub id_header: String,
    pub ids: Vec<String>,
    pub columns: Vec<(String, Column)>,
}

impl Metadata {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }
    pub fn column_names(&self) -> Vec<&str> {
        self.columns.iter().map(|(n, _)| n.as_str()).collect()
    }
    pub fn index(&self) -> HashMap<&str, usize> {
        self.ids
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i))
            .collect()
    }
}

fn is_missing(cell: &str) -> bool {
    let t = cell.trim();
    t.is_empty() || t == "NA" || t == "N/A" || t == "nan" || t == "NaN"
}

/// Reads a QIIME 2 metadata table (TSV; CSV is accepted when the header has no tab).
pub fn read_metadata<R: BufRead>(reader: R, origin: &Location) -> Result<Metadata> {
    let mut lines = Lines::new(reader, origin);
    let mut header: Option<(Vec<String>, usize)> = None;
    let mut declared: Option<Vec<String>> = None;
    let mut rows: Vec<(Vec<String>, usize)> = Vec::new();
    let mut delimiter = '\t';
    while let Some((number, line)) = lines.next_line()? {
        let mut fields = Vec::new();
        if line.trim().is_empty() {
            continue;
        }
        if header.is_none() {
            delimiter = if line.contains('\t') {
                '\t'
            } else if line.contains(',') {
                ','
            } else {
                '\t'
            };
            split_fields(line, delimiter, &mut fields);
            let names: Vec<String> = fields.iter().map(|f| f.trim().to_string()).collect();
            let first = names[0].to_ascii_lowercase();
            if line.starts_with('#') && !ID_COLUMN_NAMES.contains(&first.as_str()) {
                continue; // a comment before the header
            }
            if !ID_COLUMN_NAMES.contains(&first.as_str()) {
                return Err(Error::syntax(
                    &origin.at_line(number),
                    format!(
                        "the first column is named '{}', expected a sample id column such as 'sample-id' or '#SampleID'",
                        names[0]
                    ),
                ));
            }
            header = Some((names, number));
            continue;
        }
        split_fields(line, delimiter, &mut fields);
        let cells: Vec<String> = fields.iter().map(|f| f.trim().to_string()).collect();
        if cells[0].eq_ignore_ascii_case("#q2:types") {
            declared = Some(cells);
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        rows.push((cells, number));
    }
    let Some((names, header_line)) = header else {
        return Err(Error::syntax(
            origin,
            "the metadata file is empty, expected a header with a sample id column",
        ));
    };
    let width = names.len();
    let mut ids = Vec::with_capacity(rows.len());
    let mut seen = HashMap::new();
    for (cells, number) in &mut rows {
        // Trailing empty cells are dropped by some editors; pad them as missing.
        if cells.len() < width {
            cells.resize(width, String::new());
        }
        if cells.len() > width {
            return Err(Error::syntax(
                &origin.at_line(*number),
                format!(
                    "expected {width} fields (as the header), found {}",
                    cells.len()
                ),
            ));
        }
        let id = cells[0].clone();
        if id.is_empty() {
            return Err(Error::invalid(&origin.at_line(*number), "empty sample id"));
        }
        if let Some(first) = seen.insert(id.clone(), *number) {
            return Err(Error::invalid(
                &origin.at_line(*number),
                format!("duplicate sample id '{id}' (first on line {first})"),
            ));
        }
        ids.push(id);
    }
    let mut columns = Vec::with_capacity(width.saturating_sub(1));
    for c in 1..width {
        let name = names[c].clone();
        if name.is_empty() {
            return Err(Error::syntax(
                &origin.at_line(header_line),
                format!("column {} has an empty name", c + 1),
            ));
        }
        let declared_type = declared
            .as_ref()
            .and_then(|d| d.get(c))
            .map(|t| t.to_ascii_lowercase());
        let cells: Vec<&str> = rows.iter().map(|(r, _)| r[c].as_str()).collect();
        let parsed: Vec<Option<Option<f64>>> = cells
            .iter()
            .map(|cell| {
                if is_missing(cell) {
                    Some(None)
                } else {
                    cell.parse::<f64>().ok().map(Some)
                }
            })
            .collect();
        let all_numeric =
            parsed.iter().all(Option::is_some) && cells.iter().any(|c| !is_missing(c));
        let numeric = match declared_type.as_deref() {
            Some("numeric") => {
                if let Some(i) = parsed.iter().position(Option::is_none) {
                    return Err(Error::invalid(
                        &origin.at_line(rows[i].1),
                        format!(
                            "column '{name}' is declared numeric but '{}' is not a number",
                            cells[i]
                        ),
                    ));
                }
                true
            }
            Some("categorical") => false,
            _ => all_numeric,
        };
        let column = if numeric {
            Column::Numeric(parsed.into_iter().map(|p| p.flatten()).collect())
        } else {
            Column::Categorical(
                cells
                    .iter()
                    .map(|c| {
                        if is_missing(c) {
                            None
                        } else {
                            Some((*c).to_string())
                        }
                    })
                    .collect(),
            )
        };
        columns.push((name, column));
    }
    Ok(Metadata {
        id_header: names[0].clone(),
        ids,
        columns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q2_types_and_missing_values() {
        let text = "sample-id\tgroup\tage\tcode\n#q2:types\tcategorical\tnumeric\tcategorical\nS1\tRA\t54\t01\nS2\thealthy\t\t02\nS3\tNA\t61.5\t03\n";
        let m = read_metadata(text.as_bytes(), &Location::named("md.tsv")).expect("valid");
        assert_eq!(m.ids, vec!["S1", "S2", "S3"]);
        assert_eq!(
            m.column("age"),
            Some(&Column::Numeric(vec![Some(54.0), None, Some(61.5)]))
        );
        assert_eq!(
            m.column("group"),
            Some(&Column::Categorical(vec![
                Some("RA".into()),
                Some("healthy".into()),
                None
            ]))
        );
        assert_eq!(
            m.column("code"),
            Some(&Column::Categorical(vec![
                Some("01".into()),
                Some("02".into()),
                Some("03".into())
            ]))
        );
    }

    #[test]
    fn hash_sample_id_and_inference() {
        let m = read_metadata(
            "#SampleID\tx\nA\t1\nB\t2\n".as_bytes(),
            &Location::named("m"),
        )
        .expect("valid");
        assert!(m.column("x").is_some_and(Column::is_numeric));
    }

    #[test]
    fn missing_id_column_is_named() {
        let e = read_metadata("foo\tbar\nA\t1\n".as_bytes(), &Location::named("md.tsv"))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "md.tsv line 1: the first column is named 'foo', expected a sample id column such as 'sample-id' or '#SampleID'"
        );
        let d = read_metadata("id\tx\nA\t1\nA\t2\n".as_bytes(), &Location::named("md.tsv"))
            .unwrap_err()
            .to_string();
        assert!(d.contains("line 3") && d.contains("duplicate sample id 'A'"));
    }
}
