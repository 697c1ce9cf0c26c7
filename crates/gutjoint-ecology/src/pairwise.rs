/*!
The pairwise engine behind every beta metric: fills the condensed upper triangle in parallel,
one row of it per task, and offers a cache-blocked driver for dense per-sample vectors (rows of
`i` are compared with a block of rows `j` that stays in cache).
*/

use rayon::prelude::*;
use std::ops::Range;

/// The element type of a condensed matrix: `f64` by default, `f32` to halve memory for very
/// large cohorts (50,000 samples need 5 GB in f32 instead of 10 GB).
pub trait Precision: Copy + Default + Send + Sync + 'static {
    fn from_f64(value: f64) -> Self;
}

impl Precision for f64 {
    #[inline]
    fn from_f64(value: f64) -> Self {
        value
    }
}

impl Precision for f32 {
    #[inline]
    fn from_f64(value: f64) -> Self {
        value as f32
    }
}

/// Splits the condensed triangle of `n` items into its rows (row `i` holds d(i, j) for j > i).
pub fn condensed_rows<T>(condensed: &mut [T], n: usize) -> Vec<(usize, &mut [T])> {
    condensed_rows_in(condensed, n, 0..n)
}

/// Number of pairs (i, j), j > i, in rows `rows` of the condensed triangle of `n` items: the
/// length of that slice of the condensed vector.
pub fn pairs_in_rows(n: usize, rows: Range<usize>) -> usize {
    rows.map(|i| n - i - 1).sum()
}

/// [`condensed_rows`] for a contiguous range of rows: `condensed` holds only those rows (a
/// block of the matrix), in the same layout, so a block's values are computed by the same code
/// as the whole matrix's.
pub fn condensed_rows_in<T>(
    condensed: &mut [T],
    n: usize,
    rows: Range<usize>,
) -> Vec<(usize, &mut [T])> {
    let mut out = Vec::with_capacity(rows.len());
    let mut rest = condensed;
    for i in rows {
        let (row, tail) = rest.split_at_mut(n - i - 1);
        out.push((i, row));
        rest = tail;
    }
    out
}

/// Fills a condensed matrix with `distance(i, j)` for i < j, rows in parallel.
pub fn fill<F>(n: usize, distance: F) -> Vec<f64>
where
    F: Fn(usize, usize) -> f64 + Sync,
{
    fill_as(n, distance)
}

/// [`fill`] into any precision.
pub fn fill_as<T: Precision, F>(n: usize, distance: F) -> Vec<T>
where
    F: Fn(usize, usize) -> f64 + Sync,
{
    fill_rows_as(n, 0..n, distance)
}

/// [`fill_as`] for the rows `rows` of the condensed triangle only (one block of the matrix).
pub fn fill_rows_as<T: Precision, F>(n: usize, rows: Range<usize>, distance: F) -> Vec<T>
where
    F: Fn(usize, usize) -> f64 + Sync,
{
    let mut condensed = vec![T::default(); pairs_in_rows(n, rows.clone())];
    let progress = crate::progress::start(condensed.len() as u64);
    condensed_rows_in(&mut condensed, n, rows)
        .into_par_iter()
        .for_each(|(i, row)| {
            for (k, slot) in row.iter_mut().enumerate() {
                *slot = T::from_f64(distance(i, i + 1 + k));
            }
            progress.advance(row.len() as u64);
        });
    condensed
}

/// Fills a condensed matrix from dense rows (`data` is row-major `n × dim`) with a kernel over
/// two rows, processing rows `i` in blocks so that each row `j` read from memory serves a whole
/// block while it is in cache.
pub fn fill_dense<F>(data: &[f64], n: usize, dim: usize, kernel: F) -> Vec<f64>
where
    F: Fn(&[f64], &[f64]) -> f64 + Sync,
{
    fill_dense_rows(data, n, dim, 0..n, kernel)
}

/// [`fill_dense`] for the rows `rows` of the condensed triangle only, into any precision. Each
/// value is `kernel(row i, row j)` whatever the blocking, so a block of rows holds the same bits
/// as the same rows of the whole matrix.
pub fn fill_dense_rows<T: Precision, F>(
    data: &[f64],
    n: usize,
    dim: usize,
    rows: Range<usize>,
    kernel: F,
) -> Vec<T>
where
    F: Fn(&[f64], &[f64]) -> f64 + Sync,
{
    const BLOCK: usize = 16;
    let mut condensed = vec![T::default(); pairs_in_rows(n, rows.clone())];
    let progress = crate::progress::start(condensed.len() as u64);
    let mut rows = condensed_rows_in(&mut condensed, n, rows);
    let mut blocks: Vec<Vec<(usize, &mut [T])>> = Vec::new();
    while !rows.is_empty() {
        let take = rows.len().min(BLOCK);
        blocks.push(rows.drain(..take).collect());
    }
    blocks.into_par_iter().for_each(|mut block| {
        let first = block[0].0;
        for j in (first + 1)..n {
            let rj = &data[j * dim..(j + 1) * dim];
            for (i, row) in block.iter_mut() {
                if j > *i {
                    let ri = &data[*i * dim..(*i + 1) * dim];
                    row[j - *i - 1] = T::from_f64(kernel(ri, rj));
                }
            }
        }
        progress.advance(block.iter().map(|(_, r)| r.len() as u64).sum());
    });
    condensed
}

/// Σ |a - b|, with independent accumulators so the compiler vectorises it.
#[inline]
pub fn l1(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += (x[k] - y[k]).abs();
        }
    }
    let mut total: f64 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        total += (x - y).abs();
    }
    total
}

/// Σ (a - b)².
#[inline]
pub fn l2_squared(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            let d = x[k] - y[k];
            acc[k] += d * d;
        }
    }
    let mut total: f64 = acc.iter().sum();
    for (x, y) in ra.iter().zip(rb) {
        total += (x - y) * (x - y);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_fill_equals_plain_fill() {
        let n = 37;
        let dim = 11;
        let data: Vec<f64> = (0..n * dim)
            .map(|k| ((k * 7919) % 101) as f64 / 7.0)
            .collect();
        let blocked = fill_dense(&data, n, dim, l1);
        let plain = fill(n, |i, j| {
            l1(&data[i * dim..(i + 1) * dim], &data[j * dim..(j + 1) * dim])
        });
        assert_eq!(blocked, plain);
        // Hand check of one pair.
        let (a, b) = (&data[0..dim], &data[dim..2 * dim]);
        let direct: f64 = a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum();
        assert!((plain[0] - direct).abs() < 1e-12);
    }
}
