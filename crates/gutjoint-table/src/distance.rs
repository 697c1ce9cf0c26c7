/*!
Distance matrices: ids and the condensed upper triangle, read and written in scikit-bio's
`lsmat` TSV (a header line of a leading tab then the ids, then one row per id).

A [`DistanceMatrix`] is always symmetric and hollow (zero diagonal) because only the upper
triangle is stored; reading checks that the file agrees before throwing the lower half away.
*/

use crate::error::{Error, Location, Result};
use crate::text::Lines;
use std::collections::HashSet;
use std::io::BufRead;

/// A validated distance matrix over unique ids.
#[derive(Debug, Clone, PartialEq)]
pub struct DistanceMatrix {
    ids: Vec<String>,
    condensed: Vec<f64>,
}

/// Position of pair (i, j), i < j, in the condensed upper triangle of an n × n matrix.
#[inline]
pub fn condensed_index(n: usize, i: usize, j: usize) -> usize {
    debug_assert!(i < j && j < n);
    n * i - i * (i + 1) / 2 + (j - i - 1)
}

impl DistanceMatrix {
    /// Builds from ids and a condensed upper triangle (row-major, i < j).
    pub fn from_condensed(ids: Vec<String>, condensed: Vec<f64>) -> Result<DistanceMatrix> {
        let origin = Location::named("distance matrix");
        let n = ids.len();
        if condensed.len() != n * n.saturating_sub(1) / 2 {
            return Err(Error::invalid(
                &origin,
                format!(
                    "{} distances for {n} ids, expected {}",
                    condensed.len(),
                    n * n.saturating_sub(1) / 2
                ),
            ));
        }
        let mut seen = HashSet::new();
        if let Some(dup) = ids.iter().find(|id| !seen.insert(id.as_str())) {
            return Err(Error::invalid(&origin, format!("duplicate id '{dup}'")));
        }
        Ok(DistanceMatrix { ids, condensed })
    }

    pub fn ids(&self) -> &[String] {
        &self.ids
    }
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
    pub fn condensed(&self) -> &[f64] {
        &self.condensed
    }
    /// The ids and the condensed upper triangle, without a copy (for a caller that hands the
    /// values on, such as NumPy).
    pub fn into_parts(self) -> (Vec<String>, Vec<f64>) {
        (self.ids, self.condensed)
    }

    /// The distance between items `i` and `j`.
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        match i.cmp(&j) {
            std::cmp::Ordering::Equal => 0.0,
            std::cmp::Ordering::Less => self.condensed[condensed_index(self.len(), i, j)],
            std::cmp::Ordering::Greater => self.condensed[condensed_index(self.len(), j, i)],
        }
    }

    /// The full square matrix, row-major.
    pub fn to_square(&self) -> Vec<f64> {
        let n = self.len();
        let mut out = vec![0.0; n * n];
        let mut k = 0;
        for i in 0..n {
            for j in (i + 1)..n {
                out[i * n + j] = self.condensed[k];
                out[j * n + i] = self.condensed[k];
                k += 1;
            }
        }
        out
    }

    /// The sub-matrix over `keep` (indices into ids), in that order.
    pub fn select(&self, keep: &[usize]) -> DistanceMatrix {
        let m = keep.len();
        let mut condensed = Vec::with_capacity(m * m.saturating_sub(1) / 2);
        for a in 0..m {
            for b in (a + 1)..m {
                condensed.push(self.get(keep[a], keep[b]));
            }
        }
        DistanceMatrix {
            ids: keep.iter().map(|&i| self.ids[i].clone()).collect(),
            condensed,
        }
    }

    /// scikit-bio's lsmat text. Each distance is formatted once (shortest round-trip form, ryu)
    /// and copied into both halves of the square, rows in parallel: for a 2,000-sample matrix
    /// formatting 4 million numbers is otherwise most of a beta-diversity run.
    pub fn to_lsmat(&self) -> String {
        use rayon::prelude::*;
        let n = self.len();
        // Upper triangle of row i as text ("\tv(i,i+1)\tv(i,i+2)…") with each value's start.
        let upper: Vec<(String, Vec<u32>)> = (0..n)
            .into_par_iter()
            .map(|i| {
                let mut text = String::with_capacity((n - i) * 20);
                let mut starts = Vec::with_capacity(n - i);
                let mut buffer = ryu::Buffer::new();
                for j in (i + 1)..n {
                    text.push('\t');
                    starts.push(text.len() as u32);
                    let v = self.condensed[condensed_index(n, i, j)];
                    text.push_str(if v == 0.0 { "0" } else { buffer.format(v) });
                }
                (text, starts)
            })
            .collect();
        // Value (j, i), j < i, as text: row j's entry for column i.
        let value = |j: usize, i: usize| -> &str {
            let (text, starts) = &upper[j];
            let k = i - j - 1;
            let end = starts.get(k + 1).map_or(text.len(), |s| *s as usize - 1);
            &text[starts[k] as usize..end]
        };
        let rows: Vec<String> = (0..n)
            .into_par_iter()
            .map(|i| {
                let mut out = String::with_capacity(self.ids[i].len() + upper[i].0.len() * 2 + 4);
                out.push_str(&self.ids[i]);
                for j in 0..i {
                    out.push('\t');
                    out.push_str(value(j, i));
                }
                out.push_str("\t0");
                out.push_str(&upper[i].0);
                out.push('\n');
                out
            })
            .collect();
        let mut out = String::with_capacity(n * 12 + rows.iter().map(String::len).sum::<usize>());
        for id in &self.ids {
            out.push('\t');
            out.push_str(id);
        }
        out.push('\n');
        rows.iter().for_each(|r| out.push_str(r));
        out
    }
}

impl DistanceMatrix {
    /// Streams scikit-bio's lsmat text to `out` in blocks of rows formatted in parallel, for
    /// matrices whose text would not fit in memory (50,000 samples ≈ 25 GB of text). Each
    /// distance is formatted twice (once per half); output is identical to [`to_lsmat`].
    ///
    /// [`to_lsmat`]: DistanceMatrix::to_lsmat
    pub fn write_lsmat(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        self.write_lsmat_above(out, 4096)
    }

    /// [`write_lsmat`](DistanceMatrix::write_lsmat), building the text in memory up to
    /// `in_memory_up_to` ids and streaming blocks beyond.
    fn write_lsmat_above(
        &self,
        out: &mut dyn std::io::Write,
        in_memory_up_to: usize,
    ) -> std::io::Result<()> {
        use rayon::prelude::*;
        let n = self.len();
        if n <= in_memory_up_to {
            let text = self.to_lsmat();
            return text
                .as_bytes()
                .chunks(1 << 20)
                .try_for_each(|c| out.write_all(c));
        }
        let mut header = String::with_capacity(n * 12);
        for id in &self.ids {
            header.push('\t');
            header.push_str(id);
        }
        header.push('\n');
        out.write_all(header.as_bytes())?;
        let block = 256;
        for start in (0..n).step_by(block) {
            let rows: Vec<String> = (start..(start + block).min(n))
                .into_par_iter()
                .map(|i| {
                    let mut line = String::with_capacity(n * 20);
                    let mut buffer = ryu::Buffer::new();
                    line.push_str(&self.ids[i]);
                    for j in 0..n {
                        line.push('\t');
                        let v = self.get(i, j);
                        line.push_str(if v == 0.0 { "0" } else { buffer.format(v) });
                    }
                    line.push('\n');
                    line
                })
                .collect();
            for r in rows {
                out.write_all(r.as_bytes())?;
            }
        }
        Ok(())
    }
}

/// Reads an lsmat distance matrix.
pub fn read_lsmat<R: BufRead>(reader: R, origin: &Location) -> Result<DistanceMatrix> {
    let mut lines = Lines::new(reader, origin);
    let header = loop {
        match lines.next_line()? {
            None => {
                return Err(Error::syntax(
                    origin,
                    "the file is empty, expected an lsmat distance matrix",
                ));
            }
            Some((_, l)) if l.trim().is_empty() => continue,
            Some((n, l)) => break (n, l.to_string()),
        }
    };
    let (header_number, header) = header;
    let ids: Vec<String> = header
        .split('\t')
        .skip(1)
        .map(|s| s.trim().to_string())
        .collect();
    let n = ids.len();
    if n == 0 {
        return Err(Error::syntax(
            &origin.at_line(header_number),
            "the header names no ids, expected a leading tab then the ids",
        ));
    }
    let mut square = vec![0.0f64; n * n];
    let mut row = 0;
    while let Some((number, line)) = lines.next_line()? {
        if line.trim().is_empty() {
            continue;
        }
        if row == n {
            return Err(Error::syntax(
                &origin.at_line(number),
                format!("more than {n} rows for {n} ids"),
            ));
        }
        let fields: Vec<&str> = line.split('\t').collect();
        if fields.len() != n + 1 {
            return Err(Error::syntax(
                &origin.at_line(number),
                format!(
                    "expected {} fields (an id and {n} distances), found {}",
                    n + 1,
                    fields.len()
                ),
            ));
        }
        if fields[0].trim() != ids[row] {
            return Err(Error::invalid(
                &origin.at_line(number),
                format!(
                    "row id '{}' does not match column id '{}' at the same position",
                    fields[0].trim(),
                    ids[row]
                ),
            ));
        }
        for (j, cell) in fields[1..].iter().enumerate() {
            let v: f64 = cell.trim().parse().map_err(|_| {
                Error::invalid(&origin.at_line(number), format!("'{cell}' is not a number"))
            })?;
            if !v.is_finite() || v < 0.0 {
                return Err(Error::invalid(
                    &origin.at_line(number),
                    format!("distance {v} to '{}' is not finite and >= 0", ids[j]),
                ));
            }
            square[row * n + j] = v;
        }
        row += 1;
    }
    if row != n {
        return Err(Error::syntax(
            origin,
            format!("{row} rows for {n} ids, expected a square matrix"),
        ));
    }
    let mut condensed = Vec::with_capacity(n * (n - 1) / 2);
    for i in 0..n {
        if square[i * n + i] != 0.0 {
            return Err(Error::invalid(
                origin,
                format!(
                    "the diagonal is not zero at '{}' (a distance matrix must be hollow)",
                    ids[i]
                ),
            ));
        }
        for j in (i + 1)..n {
            let (a, b) = (square[i * n + j], square[j * n + i]);
            if (a - b).abs() > 1e-12 * a.abs().max(b.abs()).max(1.0) {
                return Err(Error::invalid(
                    origin,
                    format!(
                        "not symmetric: d({}, {}) = {a} but d({}, {}) = {b}",
                        ids[i], ids[j], ids[j], ids[i]
                    ),
                ));
            }
            condensed.push(a);
        }
    }
    DistanceMatrix::from_condensed(ids, condensed).map_err(|e| match e {
        Error::Invalid { message, .. } => Error::invalid(origin, message),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsmat_round_trip_and_indexing() {
        let text = "\ta\tb\tc\na\t0\t0.5\t1.0\nb\t0.5\t0\t0.25\nc\t1.0\t0.25\t0\n";
        let dm = read_lsmat(text.as_bytes(), &Location::named("dm")).expect("valid");
        assert_eq!(dm.condensed(), &[0.5, 1.0, 0.25]);
        assert_eq!(dm.get(2, 1), 0.25);
        assert_eq!(dm.to_lsmat(), text);
        let mut streamed = Vec::new();
        dm.write_lsmat(&mut streamed).expect("write");
        assert_eq!(streamed, text.as_bytes());
        let mut blocked = Vec::new();
        dm.write_lsmat_above(&mut blocked, 0).expect("write");
        assert_eq!(
            blocked,
            text.as_bytes(),
            "the streaming path writes the same bytes"
        );
        assert_eq!(condensed_index(4, 2, 3), 5);
        let sub = dm.select(&[2, 0]);
        assert_eq!(sub.ids(), &["c", "a"]);
        assert_eq!(sub.condensed(), &[1.0]);
    }

    #[test]
    fn asymmetric_or_non_hollow_is_refused() {
        let e = read_lsmat(
            "\ta\tb\na\t0\t1\nb\t2\t0\n".as_bytes(),
            &Location::named("dm"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("not symmetric"), "{e}");
        let e = read_lsmat(
            "\ta\tb\na\t1\t1\nb\t1\t0\n".as_bytes(),
            &Location::named("dm"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("hollow"), "{e}");
    }
}
