/*!
The one TSV reader every knowledge table goes through.

The tables follow one convention (knowledge/README.md): UTF-8, a header row, tab-separated, no
quoting, every row exactly as wide as the header, `;` inside list cells. This module enforces
the shape (BOM, CRLF and trailing blank lines are tolerated; a ragged row, a blank line inside
the table or a duplicate column is an error naming the line) and gives typed cell accessors
whose errors say which column held what and what was allowed instead.
*/

use crate::error::{Error, Result};
use std::collections::HashMap;

/// A value written as one of a closed set of codes in a table cell.
pub(crate) trait Coded: Sized + Copy + 'static {
    /// What the column holds, for messages (`disease`, `confidence`).
    const WHAT: &'static str;
    /// Every accepted spelling, in the order the schema lists them.
    fn codes() -> &'static [&'static str];
    /// The value for an exact code.
    fn from_code(code: &str) -> Option<Self>;
}

/// A parsed table: header and rows, each row with its 1-based line number.
pub(crate) struct Tsv<'a> {
    table: &'a str,
    columns: HashMap<&'a str, usize>,
    rows: Vec<(usize, Vec<&'a str>)>,
}

impl<'a> Tsv<'a> {
    pub(crate) fn parse(text: &'a str, table: &'a str) -> Result<Self> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text
            .split('\n')
            .map(|line| line.strip_suffix('\r').unwrap_or(line))
            .enumerate()
            .map(|(i, line)| (i + 1, line));

        let header: Vec<&str> = match lines.next() {
            Some((_, line)) if !line.trim().is_empty() => line.split('\t').collect(),
            _ => {
                return Err(Error::row(
                    table,
                    1,
                    "empty table, expected a tab-separated header row",
                ));
            }
        };
        let mut columns = HashMap::new();
        for (index, name) in header.iter().enumerate() {
            let name = name.trim();
            if name.is_empty() {
                return Err(Error::row(
                    table,
                    1,
                    format!("header column {} has no name", index + 1),
                ));
            }
            if columns.insert(name, index).is_some() {
                return Err(Error::row(
                    table,
                    1,
                    format!("header names column '{name}' twice"),
                ));
            }
        }

        let mut rows = Vec::new();
        let mut blank: Option<usize> = None;
        for (line_no, line) in lines {
            if line.trim().is_empty() {
                blank.get_or_insert(line_no);
                continue;
            }
            if let Some(blank_line) = blank {
                return Err(Error::row(
                    table,
                    blank_line,
                    "blank line inside the table; expected a row or the end of the file",
                ));
            }
            let fields: Vec<&str> = line.split('\t').collect();
            if fields.len() != header.len() {
                return Err(Error::row(
                    table,
                    line_no,
                    format!(
                        "expected {} tab-separated fields (as in the header), found {}",
                        header.len(),
                        fields.len()
                    ),
                ));
            }
            rows.push((line_no, fields));
        }
        Ok(Self {
            table,
            columns,
            rows,
        })
    }

    /// The index of a column the schema requires.
    pub(crate) fn column(&self, name: &str) -> Result<usize> {
        self.columns.get(name).copied().ok_or_else(|| {
            Error::row(
                self.table,
                1,
                format!("missing column '{name}' in the header"),
            )
        })
    }

    /// Header names with their indices, in file order.
    pub(crate) fn header(&self) -> Vec<(&'a str, usize)> {
        let mut header: Vec<(&str, usize)> = self.columns.iter().map(|(n, i)| (*n, *i)).collect();
        header.sort_by_key(|(_, i)| *i);
        header
    }

    pub(crate) fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|(line, fields)| Row {
            table: self.table,
            line: *line,
            fields,
        })
    }
}

/// One data row with typed accessors.
pub(crate) struct Row<'t> {
    table: &'t str,
    pub(crate) line: usize,
    fields: &'t [&'t str],
}

impl Row<'_> {
    pub(crate) fn error(&self, message: impl Into<String>) -> Error {
        Error::row(self.table, self.line, message)
    }

    /// The cell, trimmed.
    pub(crate) fn text(&self, column: usize) -> &str {
        self.fields.get(column).map_or("", |s| s.trim())
    }

    pub(crate) fn required(&self, column: usize, what: &str) -> Result<String> {
        let text = self.text(column);
        if text.is_empty() {
            Err(self.error(format!("empty {what}, expected a value")))
        } else {
            Ok(text.to_string())
        }
    }

    pub(crate) fn optional(&self, column: usize) -> Option<String> {
        let text = self.text(column);
        (!text.is_empty()).then(|| text.to_string())
    }

    pub(crate) fn coded<T: Coded>(&self, column: usize) -> Result<T> {
        let text = self.text(column);
        T::from_code(text).ok_or_else(|| self.unknown::<T>(text))
    }

    pub(crate) fn optional_coded<T: Coded>(&self, column: usize) -> Result<Option<T>> {
        let text = self.text(column);
        if text.is_empty() {
            Ok(None)
        } else {
            T::from_code(text)
                .map(Some)
                .ok_or_else(|| self.unknown::<T>(text))
        }
    }

    /// A `;`-separated list of codes; `empty_ok` says whether the schema allows no value.
    pub(crate) fn coded_list<T: Coded>(&self, column: usize, empty_ok: bool) -> Result<Vec<T>> {
        let items = split_list(self.text(column));
        if items.is_empty() && !empty_ok {
            return Err(self.error(format!(
                "empty {}, expected one or more of {}",
                T::WHAT,
                T::codes().join(", ")
            )));
        }
        items
            .iter()
            .map(|item| T::from_code(item).ok_or_else(|| self.unknown::<T>(item)))
            .collect()
    }

    fn unknown<T: Coded>(&self, text: &str) -> Error {
        if text.is_empty() {
            self.error(format!(
                "empty {}, expected one of {}",
                T::WHAT,
                T::codes().join(", ")
            ))
        } else {
            self.error(format!(
                "unknown {} '{text}', expected one of {}",
                T::WHAT,
                T::codes().join(", ")
            ))
        }
    }

    /// A `;`-separated free-text list.
    pub(crate) fn list(&self, column: usize) -> Vec<String> {
        split_list(self.text(column))
            .into_iter()
            .map(str::to_string)
            .collect()
    }

    pub(crate) fn year(&self, column: usize) -> Result<Option<u16>> {
        let text = self.text(column);
        if text.is_empty() {
            return Ok(None);
        }
        if text.len() == 4 && text.bytes().all(|b| b.is_ascii_digit()) {
            text.parse()
                .map(Some)
                .map_err(|_| self.error(format!("year '{text}' is not a four-digit year")))
        } else {
            Err(self.error(format!("year '{text}' is not a four-digit year (or empty)")))
        }
    }

    pub(crate) fn doi(&self, column: usize) -> Result<Option<String>> {
        let text = self.text(column);
        if text.is_empty() {
            return Ok(None);
        }
        if text.starts_with("10.") && text.contains('/') && !text.contains(char::is_whitespace) {
            Ok(Some(text.to_string()))
        } else {
            Err(self.error(format!(
                "doi '{text}' is not a bare DOI, expected '10.<prefix>/<suffix>' (no 'doi:' or URL)"
            )))
        }
    }

    pub(crate) fn pmid(&self, column: usize) -> Result<Option<String>> {
        let text = self.text(column);
        if text.is_empty() {
            return Ok(None);
        }
        if text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Some(text.to_string()))
        } else {
            Err(self.error(format!("pmid '{text}' is not digits only")))
        }
    }

    pub(crate) fn count(&self, column: usize, what: &str) -> Result<u32> {
        let text = self.text(column);
        text.parse().map_err(|_| {
            self.error(format!(
                "{what} '{text}' is not a whole number, expected digits"
            ))
        })
    }

    pub(crate) fn boolean(&self, column: usize, what: &str) -> Result<bool> {
        match self.text(column) {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(self.error(format!("{what} '{other}', expected true or false"))),
        }
    }

    /// A number in `[0, 1]` (a fraction or a p-value).
    pub(crate) fn unit_interval(&self, column: usize, what: &str) -> Result<f64> {
        let text = self.text(column);
        match text.parse::<f64>() {
            Ok(value) if (0.0..=1.0).contains(&value) => Ok(value),
            Ok(_) => Err(self.error(format!(
                "{what} '{text}' is outside 0..1, expected a fraction between 0 and 1"
            ))),
            Err(_) => Err(self.error(format!(
                "{what} '{text}' is not a number, expected a value between 0 and 1"
            ))),
        }
    }
}

/// Splits a `;` list, trimming items and dropping empty ones. A `;` inside parentheses is
/// prose, not a separator (`dihydrofolate reductase (FolA; drug target)` is one item).
pub(crate) fn split_list(text: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ';' if depth == 0 => {
                items.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&text[start..]);
    items
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_splitting_respects_parentheses() {
        assert_eq!(split_list("a (b; c);d; ;e"), vec!["a (b; c)", "d", "e"]);
        assert!(split_list("").is_empty());
    }

    #[test]
    fn shape_errors_name_the_line() {
        let err = Tsv::parse("a\tb\n1\t2\n3\n", "t.tsv")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("t.tsv line 3: expected 2 tab-separated fields (as in the header), found 1")
        );
        let err = Tsv::parse("a\tb\n1\t2\n\n3\t4\n", "t.tsv")
            .err()
            .map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.starts_with("t.tsv line 3: blank line")));
        assert!(Tsv::parse("", "t.tsv").is_err());
        assert!(Tsv::parse("a\ta\n", "t.tsv").is_err());
        // BOM, CRLF and trailing blank lines are fine.
        let tsv = Tsv::parse("\u{feff}a\tb\r\n1\t2\r\n\r\n", "t.tsv");
        assert!(tsv.is_ok_and(|t| t.rows().count() == 1));
    }
}
