/*!
Principal coordinate analysis (classical multidimensional scaling; Gower 1966), as
scikit-bio's `pcoa(method="eigh")`: Gower-centre `-D²/2`, take the full symmetric
eigendecomposition, sort eigenvalues in decreasing order, set values within 1e-8 of zero and
all negative ones (with their vectors) to zero, scale eigenvectors by `sqrt(λ)`, and report
`λ / Σλ` as the proportion explained. Eigenvector signs are arbitrary in every solver; gutjoint
makes the largest-magnitude coordinate of each axis positive so output is reproducible.
*/

use crate::error::{Error, Result};
use gutjoint_table::DistanceMatrix;
use gutjoint_table::distance::condensed_index;
use serde::Serialize;

/// PCoA result: all axes (columns with zero eigenvalue included, as scikit-bio).
#[derive(Debug, Clone, Serialize)]
pub struct PcoaResult {
    pub method: &'static str,
    pub sample_ids: Vec<String>,
    pub eigenvalues: Vec<f64>,
    pub proportion_explained: Vec<f64>,
    /// Row-major `n × n` coordinates: sample `i`, axis `k` at `i * n + k`.
    #[serde(skip)]
    pub coordinates: Vec<f64>,
}

impl PcoaResult {
    pub fn coordinate(&self, sample: usize, axis: usize) -> f64 {
        self.coordinates[sample * self.eigenvalues.len() + axis]
    }
    pub fn n_axes(&self) -> usize {
        self.eigenvalues.len()
    }

    /// The coordinates of the first `k` axes as TSV (`sample-id`, `PC1`…), numbers as Rust's
    /// `{}` writes them: [`write_coordinates_tsv`](PcoaResult::write_coordinates_tsv) into
    /// memory.
    pub fn coordinates_tsv(&self, k: usize) -> String {
        let mut out = Vec::new();
        self.write_coordinates_tsv(k, &mut out)
            .expect("writing to memory cannot fail");
        String::from_utf8(out).expect("ids and numbers are UTF-8")
    }

    /// Streams the coordinates of the first `k` axes as TSV to `out`. Rows are formatted in
    /// parallel in chunks of about 1.5 MB of text whose buffers are reused from round to round,
    /// and each chunk is written as one piece (before: a `String` per row, all collected, then
    /// concatenated into one 49 MB `String` for all axes at 2,000 samples, then written).
    pub fn write_coordinates_tsv(
        &self,
        k: usize,
        out: &mut dyn std::io::Write,
    ) -> std::io::Result<()> {
        self.write_coordinates_tsv_in_chunks(k, out, 3 << 19)
    }

    /// [`write_coordinates_tsv`](PcoaResult::write_coordinates_tsv) with chunks of about
    /// `chunk_bytes` bytes.
    fn write_coordinates_tsv_in_chunks(
        &self,
        k: usize,
        out: &mut dyn std::io::Write,
        chunk_bytes: usize,
    ) -> std::io::Result<()> {
        use rayon::prelude::*;
        let k = k.min(self.n_axes());
        let n = self.sample_ids.len();
        let mut header = String::from("sample-id");
        for axis in 1..=k {
            header.push_str("\tPC");
            header.push_str(&axis.to_string());
        }
        header.push('\n');
        out.write_all(header.as_bytes())?;
        // About 12 bytes per number (the all-axes file at 2,000 samples averages 11).
        let rows_per_chunk = (chunk_bytes / (k * 12 + 32)).max(1);
        let mut chunks = vec![String::new(); rayon::current_num_threads() * 2];
        let rows_per_round = rows_per_chunk * chunks.len();
        for round in (0..n).step_by(rows_per_round) {
            chunks.par_iter_mut().enumerate().for_each(|(c, chunk)| {
                // Formatted into a local: the chunks' `String` headers share a cache line,
                // which each push would otherwise write.
                let mut text = std::mem::take(chunk);
                text.clear();
                let first = round + c * rows_per_chunk;
                let last = (first + rows_per_chunk).min(round + rows_per_round).min(n);
                for i in first..last {
                    text.push_str(&self.sample_ids[i]);
                    for &v in &self.coordinates[i * self.n_axes()..][..k] {
                        text.push('\t');
                        gutjoint_table::write::push_display_f64(&mut text, v);
                    }
                    text.push('\n');
                }
                *chunk = text;
            });
            for text in &chunks {
                out.write_all(text.as_bytes())?;
            }
        }
        Ok(())
    }
}

/// The Gower-centred matrix `-½ J D² J` (symmetric), filled column by column in parallel.
/// Each row mean is summed left to right, as a plain row-major loop would. The matrix is a
/// faer `Mat` (64-byte aligned columns) because faer's SIMD reductions split sums by alignment:
/// the same layout as in faer's own `self_adjoint_eigen` keeps every bit of the result.
fn gower_centered(dm: &DistanceMatrix) -> faer::Mat<f64> {
    use rayon::prelude::*;
    let n = dm.len();
    let mut e = faer::Mat::<f64>::zeros(n, n);
    e.as_mut()
        .par_col_iter_mut()
        .enumerate()
        .for_each(|(j, mut column)| {
            for i in 0..n {
                let d = dm.get(i, j);
                column[i] = -0.5 * d * d;
            }
        });
    // E is symmetric, so column means equal row means.
    let means: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|j| e.col(j).iter().sum::<f64>() / n as f64)
        .collect();
    let grand = means.iter().sum::<f64>() / n as f64;
    e.as_mut()
        .par_col_iter_mut()
        .enumerate()
        .for_each(|(j, mut column)| {
            for i in 0..n {
                column[i] += grand - means[i] - means[j];
            }
        });
    e
}

/// `B X` for the Gower-centred `B = -½ J D² J` without forming `B`: `J (E (J X))` with
/// `E = -½ D²` read from the condensed triangle, so that memory stays at the distances plus a
/// few `n × c` blocks (fsvd at n = 50,000: 10 GB of distances instead of 20 GB per square).
/// `x` and the result are row-major `n × c`. The triangle is cut into a fixed number of row
/// ranges of equal work whose partial products are added in order, so the sums (and the
/// output) do not depend on the number of threads. Used by fsvd and by the block Lanczos of
/// [`pcoa_top`], where it replaced a product with the square `B` (half the bytes read per
/// product; 0.32–0.37 s → 0.24–0.27 s for the 81 products at n = 2,000, alternating runs).
fn centered_product(dm: &DistanceMatrix, x: &[f64], c: usize) -> Vec<f64> {
    let n = dm.len();
    let center = |m: &mut [f64]| {
        let mut means = vec![0.0; c];
        for row in m.chunks(c) {
            means.iter_mut().zip(row).for_each(|(s, v)| *s += v);
        }
        means.iter_mut().for_each(|s| *s /= n as f64);
        for row in m.chunks_mut(c) {
            row.iter_mut().zip(&means).for_each(|(v, s)| *v -= s);
        }
    };
    let mut xc = x.to_vec();
    center(&mut xc);
    // Row ranges with about equal numbers of pairs (row i holds n - 1 - i of them).
    const PIECES: usize = 16;
    let total = n * n.saturating_sub(1) / 2;
    let mut bounds = vec![0usize];
    let mut acc = 0usize;
    for i in 0..n {
        acc += n - 1 - i;
        if acc * PIECES >= total * bounds.len() && bounds.len() < PIECES {
            bounds.push(i + 1);
        }
    }
    bounds.push(n);
    bounds.dedup();
    // Columns in groups of at most 16, each on a kernel of fixed width 4, 8 or 16 (zero
    // padded): a fixed width keeps a row's sums in vector registers. Each column's arithmetic
    // is the same, in the same order, whatever its group, so the bits do not depend on it.
    let mut y = vec![0.0f64; n * c];
    for first in (0..c).step_by(16) {
        let width = (c - first).min(16);
        match width {
            1..=4 => centered_group::<4>(dm, &xc, c, first, width, &bounds, &mut y),
            5..=8 => centered_group::<8>(dm, &xc, c, first, width, &bounds, &mut y),
            _ => centered_group::<16>(dm, &xc, c, first, width, &bounds, &mut y),
        }
    }
    center(&mut y);
    y
}

/// Columns `first..first + width` of `E Xc` (`E = -½ D²`, `xc` row-major `n × c`) added into
/// `y`, with the columns packed into rows of `W` (zero padded). The pieces between `bounds`
/// run in parallel, and their partial products are added in order.
fn centered_group<const W: usize>(
    dm: &DistanceMatrix,
    xc: &[f64],
    c: usize,
    first: usize,
    width: usize,
    bounds: &[usize],
    y: &mut [f64],
) {
    use rayon::prelude::*;
    let packed: Vec<[f64; W]> = xc
        .chunks(c)
        .map(|row| {
            let mut lane = [0.0; W];
            lane[..width].copy_from_slice(&row[first..first + width]);
            lane
        })
        .collect();
    let partials: Vec<Vec<[f64; W]>> = bounds
        .par_windows(2)
        .map(|w| {
            pulp::Arch::new().dispatch(CenteredPiece {
                n: dm.len(),
                condensed: dm.condensed(),
                xc: &packed,
                rows: (w[0], w[1]),
            })
        })
        .collect();
    for part in &partials {
        y.par_chunks_mut(c).zip(part).for_each(|(row, sums)| {
            row[first..first + width]
                .iter_mut()
                .zip(sums)
                .for_each(|(a, b)| *a += b);
        });
    }
}

/// One row range's share of `E Xc`: for each pair `i < j` in it, `e = -½ d(i, j)²` adds
/// `e · x_j` to `y_i` and `e · x_i` to `y_j`, so the triangle is read once. Runs inside
/// [`pulp::Arch::dispatch`], so the fixed-width row updates are compiled for the processor's
/// vector unit (AVX2 where present; no fused multiply–add, so the bits are the portable ones).
struct CenteredPiece<'a, const W: usize> {
    n: usize,
    condensed: &'a [f64],
    xc: &'a [[f64; W]],
    rows: (usize, usize),
}

impl<const W: usize> pulp::WithSimd for CenteredPiece<'_, W> {
    type Output = Vec<[f64; W]>;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> Vec<[f64; W]> {
        self.sums()
    }
}

impl<const W: usize> CenteredPiece<'_, W> {
    #[inline(always)]
    fn sums(self) -> Vec<[f64; W]> {
        let CenteredPiece {
            n,
            condensed,
            xc,
            rows: (top, bottom),
        } = self;
        // Tiles of 32 rows × 256 columns keep the x and y rows a tile touches in cache while
        // the distances stream through once.
        const ROWS: usize = 32;
        const COLUMNS: usize = 256;
        // d(i, j) for lo <= j < hi, lo > i: condensed[start + j - i - 1], start = (i, i + 1).
        let distances = |i: usize, lo: usize, hi: usize| {
            let start = condensed_index(n, i, i + 1);
            &condensed[start + lo - i - 1..start + hi - i - 1]
        };
        let mut y = vec![[0.0f64; W]; n];
        for first in (top..bottom).step_by(ROWS) {
            let last = (first + ROWS).min(bottom);
            let mut tile = [[0.0f64; W]; ROWS];
            let mut from = first + 1;
            while from < n {
                let to = (from + COLUMNS).min(n);
                // Four rows at a time share each x_j and y_j and give four independent sums
                // (one row's sums form a chain of dependent additions).
                let mut i = first;
                while i < last {
                    let quad = i + 4 <= last;
                    // Columns every row of the group has (j > i + 3); before them, row by row.
                    let shared = if quad { from.max(i + 4) } else { to };
                    for r in i..if quad { i + 4 } else { last } {
                        let lo = from.max(r + 1);
                        let hi = shared.min(to);
                        if lo < hi {
                            row_update(
                                distances(r, lo, hi),
                                &xc[r],
                                &mut tile[r - first],
                                &xc[lo..hi],
                                &mut y[lo..hi],
                            );
                        }
                    }
                    if quad && shared < to {
                        let d: [&[f64]; 4] = std::array::from_fn(|q| distances(i + q, shared, to));
                        let at = i - first;
                        let sums: &mut [[f64; W]; 4] =
                            (&mut tile[at..at + 4]).try_into().expect("four rows");
                        let own: &[[f64; W]; 4] = xc[i..i + 4].try_into().expect("four rows");
                        quad_update(d, own, sums, &xc[shared..to], &mut y[shared..to]);
                    }
                    i = if quad { i + 4 } else { last };
                }
                from = to;
            }
            for (a, b) in y[first..last].iter_mut().zip(&tile) {
                for t in 0..W {
                    a[t] += b[t];
                }
            }
        }
        y
    }
}

/// One row `i` against columns `j` (its distances `d`): `y_i += e x_j`, `y_j += e x_i` with
/// `e = -½ d²`.
#[inline(always)]
fn row_update<const W: usize>(
    d: &[f64],
    xi: &[f64; W],
    yi: &mut [f64; W],
    xj: &[[f64; W]],
    yj: &mut [[f64; W]],
) {
    let mut sum = *yi;
    for ((&d, xj), yj) in d.iter().zip(xj).zip(yj) {
        let e = -0.5 * d * d;
        for t in 0..W {
            sum[t] += e * xj[t];
            yj[t] += e * xi[t];
        }
    }
    *yi = sum;
}

/// Four rows against the same columns: [`row_update`] for each, with the four additions to
/// `y_j` summed in pairs first.
#[inline(always)]
fn quad_update<const W: usize>(
    d: [&[f64]; 4],
    xi: &[[f64; W]; 4],
    yi: &mut [[f64; W]; 4],
    xj: &[[f64; W]],
    yj: &mut [[f64; W]],
) {
    let [x0, x1, x2, x3] = *xi;
    let [mut s0, mut s1, mut s2, mut s3] = *yi;
    let len = xj
        .len()
        .min(yj.len())
        .min(d.iter().map(|r| r.len()).min().unwrap_or(0));
    let (d0, d1, d2, d3) = (&d[0][..len], &d[1][..len], &d[2][..len], &d[3][..len]);
    for j in 0..len {
        let e0 = -0.5 * d0[j] * d0[j];
        let e1 = -0.5 * d1[j] * d1[j];
        let e2 = -0.5 * d2[j] * d2[j];
        let e3 = -0.5 * d3[j] * d3[j];
        let x = &xj[j];
        let y = &mut yj[j];
        for t in 0..W {
            s0[t] += e0 * x[t];
            s1[t] += e1 * x[t];
            s2[t] += e2 * x[t];
            s3[t] += e3 * x[t];
            y[t] += (e0 * x0[t] + e1 * x1[t]) + (e2 * x2[t] + e3 * x3[t]);
        }
    }
    *yi = [s0, s1, s2, s3];
}

/// A row-major `n × c` buffer as a faer matrix, and back.
fn to_mat(rows: &[f64], n: usize, c: usize) -> faer::Mat<f64> {
    faer::Mat::from_fn(n, c, |i, j| rows[i * c + j])
}
fn to_rows(m: faer::MatRef<'_, f64>) -> Vec<f64> {
    let (n, c) = (m.nrows(), m.ncols());
    let mut rows = vec![0.0; n * c];
    for i in 0..n {
        for j in 0..c {
            rows[i * c + j] = m[(i, j)];
        }
    }
    rows
}

/// Makes the largest-magnitude entry of a vector positive (eigenvector signs are arbitrary).
fn sign_of_pivot(column: impl Iterator<Item = f64>) -> f64 {
    let pivot = column.fold(0.0f64, |m, v| if v.abs() > m.abs() { v } else { m });
    if pivot < 0.0 { -1.0 } else { 1.0 }
}

/// Approximate PCoA for large cohorts: the leading `dimensions` eigenpairs of the centred
/// matrix by randomized subspace iteration (Halko, Martinsson & Tropp 2011, SIAM Rev 53:217),
/// the family of scikit-bio's `fsvd`: a seeded Gaussian sketch with 10 extra columns and four
/// power iterations, re-orthonormalised by QR each time, then the eigenpairs of `Qᵀ B Q`
/// (signed, unlike scikit-bio's singular values). scikit-bio's own variant (2 extra columns,
/// one Krylov level `[B G, B³ G]`) was measured and is less accurate: 2.6e-4 relative on the
/// first eigenvalue of GlobalPatterns where this one is within 1e-5 (see bench/pcoa.py for
/// n = 5,000). `B` is never formed (see [`centered_product`]): memory is the distances plus
/// `O(n·k)`. Proportions explained are relative to the trace of `B` (the sum of all
/// eigenvalues), as scikit-bio's.
pub fn pcoa_fsvd(dm: &DistanceMatrix, dimensions: usize, seed: u64) -> Result<PcoaResult> {
    let n = dm.len();
    if n < 2 {
        return Err(Error::Invalid("PCoA needs at least two samples".into()));
    }
    let k = dimensions.clamp(1, n);
    let l = (k + 10).min(n);
    let mut rng = crate::rng::Rng::new(seed);
    let mut gaussian = || {
        // Box–Muller from two uniforms in (0, 1].
        let u1 = ((rng.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        let u2 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    };
    // Drawn column by column (the sketch of earlier versions, so a seed gives the same axes).
    let omega = to_rows(faer::Mat::<f64>::from_fn(n, l, |_, _| gaussian()).as_ref());
    let mut q = to_mat(&centered_product(dm, &omega, l), n, l)
        .qr()
        .compute_thin_Q();
    for _ in 0..4 {
        q = to_mat(&centered_product(dm, &to_rows(q.as_ref()), l), n, l)
            .qr()
            .compute_thin_Q();
    }
    let bq = to_mat(&centered_product(dm, &to_rows(q.as_ref()), l), n, l);
    let small = q.transpose() * &bq;
    let evd = small
        .self_adjoint_eigen(faer::Side::Lower)
        .map_err(|e| Error::Numerical(format!("{e:?}")))?;
    let vectors = &q * evd.U();
    crate::vector_state::clear_upper_state_everywhere();
    let values = evd.S();
    let mut order: Vec<usize> = (0..l).collect();
    order.sort_by(|a, b| values[*b].total_cmp(&values[*a]));
    order.truncate(k);
    Ok(leading_axes(
        "fsvd",
        dm,
        order.iter().map(|&i| values[i]).collect(),
        |axis, r| vectors[(r, order[axis])],
    ))
}

/// The trace of the Gower-centred matrix, i.e. the sum of all its eigenvalues, from the
/// distances: `Σ_i B_ii = (1/n) Σ_{i<j} d²_ij` because `B_ii = ē − 2 ē_i` and `Σ_i ē_i = n ē`.
fn centered_trace(dm: &DistanceMatrix) -> f64 {
    dm.condensed().iter().map(|d| d * d).sum::<f64>() / dm.len() as f64
}

/// The result for the leading `values.len()` axes (values in decreasing order, `vector(axis,
/// sample)` the unit eigenvector's entries) as scikit-bio reports a PCoA with `dimensions < n`:
/// values within 1e-8 of zero and negative ones set to zero (their coordinates too), each axis'
/// largest-magnitude coordinate positive, proportions relative to the trace of the centred
/// matrix (the sum of all eigenvalues, not only of the computed ones).
fn leading_axes(
    method: &'static str,
    dm: &DistanceMatrix,
    values: Vec<f64>,
    vector: impl Fn(usize, usize) -> f64,
) -> PcoaResult {
    let n = dm.len();
    let k = values.len();
    let trace = centered_trace(dm);
    let eigenvalues: Vec<f64> = values
        .into_iter()
        .map(|v| if v.abs() <= 1e-8 { 0.0 } else { v.max(0.0) })
        .collect();
    let proportion_explained = eigenvalues.iter().map(|v| v / trace).collect();
    let mut coordinates = vec![0.0; n * k];
    for (axis, &lambda) in eigenvalues.iter().enumerate() {
        if lambda <= 0.0 {
            continue;
        }
        let sign = sign_of_pivot((0..n).map(|r| vector(axis, r)));
        for r in 0..n {
            coordinates[r * k + axis] = sign * vector(axis, r) * lambda.sqrt();
        }
    }
    PcoaResult {
        method,
        sample_ids: dm.ids().to_vec(),
        eigenvalues,
        proportion_explained,
        coordinates,
    }
}

/// scikit-bio's `pcoa(method="eigh", dimensions=k)` for every face: the top `k` axes by
/// [`pcoa_top`] when `0 < k < n` (proportions relative to the trace, as scikit-bio's partial
/// path), else all axes by [`pcoa`] (proportions relative to the sum of positive eigenvalues).
pub fn pcoa_eigh(dm: &DistanceMatrix, dimensions: Option<usize>) -> Result<PcoaResult> {
    match dimensions {
        Some(k) if k > 0 && k < dm.len() => pcoa_top(dm, k),
        _ => pcoa(dm),
    }
}

/// Exact PCoA restricted to the leading `dimensions` axes, as scikit-bio's
/// `pcoa(dm, method="eigh", dimensions=k)`, which for `k < n` asks LAPACK for the top `k`
/// eigenpairs only and reports `λ / trace(B)` as the proportion explained. Here the top `k`
/// come from block Lanczos with full reorthogonalisation ([`crate::lanczos`]), whose products
/// read the condensed distances ([`centered_product`]; `B` is never formed), converged until
/// every residual is below 1e-13 of the largest eigenvalue; if that takes more than
/// `max(n/2, …)` Krylov vectors (or `k ≥ n`), the complete decomposition of [`pcoa`] is used
/// instead and cut to `k` axes, with the same semantics.
pub fn pcoa_top(dm: &DistanceMatrix, dimensions: usize) -> Result<PcoaResult> {
    let n = dm.len();
    pcoa_top_within(dm, dimensions, krylov_limit(n, dimensions)).map(|(result, _)| result)
}

/// The largest Krylov dimension tried before falling back: half the matrix (beyond which the
/// complete decomposition costs about the same), at least room for a few blocks per wanted
/// axis, and at most 1,500 vectors (the basis and its reorthogonalisation grow as `n · m` and
/// `n · m²`).
fn krylov_limit(n: usize, k: usize) -> usize {
    (n / 2).max(8 * (k + crate::lanczos::BLOCK)).min(1500)
}

/// [`pcoa_top`] with the Krylov limit given; also says whether Lanczos converged (`true`) or
/// the complete decomposition was used (`false`).
fn pcoa_top_within(
    dm: &DistanceMatrix,
    dimensions: usize,
    max_dimension: usize,
) -> Result<(PcoaResult, bool)> {
    let n = dm.len();
    if n < 2 {
        return Err(Error::Invalid("PCoA needs at least two samples".into()));
    }
    let k = dimensions.clamp(1, n);
    if k < n {
        // The products read the condensed triangle (half of B's bytes; they are bound by
        // memory bandwidth) and never form B (bench/README.md, issue #19).
        let top = crate::lanczos::top_eigenpairs(n, k, max_dimension, |x, mut y| {
            let rows = centered_product(dm, &to_rows(x), x.ncols());
            y.copy_from(to_mat(&rows, n, x.ncols()));
        });
        crate::vector_state::clear_upper_state_everywhere();
        if let Some(top) = top {
            let vectors = top.vectors;
            return Ok((
                leading_axes("eigh", dm, top.values, |axis, r| vectors[(r, axis)]),
                true,
            ));
        }
    }
    // The complete decomposition; for k < n cut to k axes with scikit-bio's partial semantics
    // (proportions of the trace), for k = n as it is (scikit-bio's full path).
    let full = pcoa(dm)?;
    if k == n {
        return Ok((full, false));
    }
    let mut result = leading_axes("eigh", dm, full.eigenvalues[..k].to_vec(), |_, _| 0.0);
    for (r, row) in result.coordinates.chunks_mut(k).enumerate() {
        row.copy_from_slice(&full.coordinates[r * n..r * n + k]);
    }
    Ok((result, false))
}

/// Runs PCoA on a distance matrix: faer's Householder tridiagonalisation and divide-and-conquer
/// tridiagonal eigensolver (the steps of its `self_adjoint_eigen`), but the reflectors are
/// applied only to the eigenvectors of positive eigenvalues — the others get zero coordinates —
/// which saves about half of the back-transformation, and the centred matrix is reduced in
/// place instead of being copied.
pub fn pcoa(dm: &DistanceMatrix) -> Result<PcoaResult> {
    use faer::linalg::evd::{self, ComputeEigenvectors, SelfAdjointEvdParams};
    use faer::prelude::{IntoConst, ReborrowMut};
    use faer::{Conj, MatMut, MatRef};
    let n = dm.len();
    if n < 2 {
        return Err(Error::Invalid("PCoA needs at least two samples".into()));
    }
    let par = faer::get_global_parallelism();
    let params: faer::Spec<SelfAdjointEvdParams, f64> = Default::default();
    let mut scratch = faer::dyn_stack::MemBuffer::new(evd::self_adjoint_evd_scratch::<f64>(
        n,
        ComputeEigenvectors::Yes,
        par,
        params,
    ));
    let stack = faer::dyn_stack::MemStack::new(&mut scratch);
    let mut centered = gower_centered(dm);
    let mut a = centered.as_mut();
    let block = faer::linalg::qr::no_pivoting::factor::recommended_block_size::<f64>(n, n);
    let mut householder = faer::Mat::<f64>::zeros(block, n - 1);
    evd::tridiag::tridiag_in_place(
        a.rb_mut(),
        householder.as_mut(),
        par,
        stack,
        params.tridiag.into(),
    );
    let a = a.into_const();
    let diag: Vec<f64> = (0..n).map(|i| a[(i, i)]).collect();
    let subdiag: Vec<f64> = (0..n - 1).map(|i| a[(i + 1, i)]).collect();
    let mut values = faer::diag::Diag::<f64>::zeros(n);
    let mut u_matrix = faer::Mat::<f64>::zeros(n, n);
    let mut u = u_matrix.as_mut();
    evd::tridiagonal_self_adjoint_evd(
        faer::ColRef::from_slice(&diag).as_diagonal(),
        faer::ColRef::from_slice(&subdiag).as_diagonal(),
        values.as_mut(),
        Some(u.rb_mut()),
        par,
        stack,
        params,
    )
    .map_err(|e| Error::Numerical(format!("{e:?}")))?;
    let values = values.column_vector();
    let raw: Vec<f64> = (0..n)
        .map(|k| values[k])
        .map(|v| if v.abs() <= 1e-8 { 0.0 } else { v })
        .collect();
    // Eigenvalues come in nondecreasing order, so the positive ones are the last columns;
    // transform from the first positive one on (all columns if the order were ever broken).
    let first_positive = raw.iter().position(|&v| v > 0.0).unwrap_or(n);
    let first_positive = if raw[first_positive..].iter().all(|&v| v > 0.0) {
        first_positive
    } else {
        0
    };
    if first_positive < n {
        evd_back_transform(
            a.submatrix(1, 0, n - 1, n - 1),
            householder.as_ref(),
            u.rb_mut()
                .subrows_mut(1, n - 1)
                .subcols_mut(first_positive, n - first_positive),
            par,
            stack,
        );
    }
    fn evd_back_transform(
        basis: MatRef<'_, f64>,
        factor: MatRef<'_, f64>,
        target: MatMut<'_, f64>,
        par: faer::Par,
        stack: &mut faer::dyn_stack::MemStack,
    ) {
        faer::linalg::householder::apply_block_householder_sequence_on_the_left_in_place_with_conj(
            basis,
            factor,
            Conj::No,
            target,
            par,
            stack,
        );
    }
    // faer's products leave the vector registers dirty (vector_state.rs): cleared before the
    // scalar work that follows on the same threads.
    crate::vector_state::clear_upper_state_everywhere();
    let vectors = u.into_const();
    // scikit-bio reports descending order.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| raw[*b].total_cmp(&raw[*a]));
    let mut eigenvalues: Vec<f64> = order.iter().map(|&k| raw[k]).collect();
    eigenvalues.iter_mut().for_each(|v| *v = v.max(0.0));
    let sum: f64 = eigenvalues.iter().sum();
    let proportion_explained = eigenvalues.iter().map(|v| v / sum).collect();
    // Per positive axis: its column and the factor sign · √λ.
    let axes: Vec<(usize, f64)> = order
        .iter()
        .zip(&eigenvalues)
        .take_while(|(_, lambda)| **lambda > 0.0)
        .map(|(&k, &lambda)| {
            (
                k,
                sign_of_pivot(vectors.col(k).iter().copied()) * lambda.sqrt(),
            )
        })
        .collect();
    let mut coordinates = vec![0.0; n * n];
    {
        use rayon::prelude::*;
        coordinates
            .par_chunks_mut(n)
            .enumerate()
            .for_each(|(i, row)| {
                for (slot, &(k, factor)) in row.iter_mut().zip(&axes) {
                    *slot = vectors[(i, k)] * factor;
                }
            });
    }
    Ok(PcoaResult {
        method: "eigh",
        sample_ids: dm.ids().to_vec(),
        eigenvalues,
        proportion_explained,
        coordinates,
    })
}

/// Euclidean distances between points, ids "0", "1", …: a test matrix whose ordination is known.
#[cfg(test)]
pub(crate) fn euclidean_matrix<P: AsRef<[f64]>>(pts: &[P]) -> DistanceMatrix {
    let n = pts.len();
    let mut condensed = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for i in 0..n {
        for j in (i + 1)..n {
            condensed.push(gutjoint_numeric::euclidean(
                pts[i].as_ref(),
                pts[j].as_ref(),
            ));
        }
    }
    DistanceMatrix::from_condensed((0..n).map(|i| i.to_string()).collect(), condensed)
        .expect("valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fsvd_recovers_the_leading_eigenvalues() {
        // 40 points on a noisy plane in 5-D: the two leading eigenvalues dominate.
        let mut rng = crate::rng::Rng::new(3);
        let n = 40;
        let pts: Vec<[f64; 5]> = (0..n)
            .map(|_| {
                let mut u = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                [10.0 * u(), 5.0 * u(), 0.1 * u(), 0.1 * u(), 0.1 * u()]
            })
            .collect();
        let dm = euclidean_matrix(&pts);
        let exact = pcoa(&dm).expect("eigh");
        let approx = pcoa_fsvd(&dm, 3, 11).expect("fsvd");
        for k in 0..3 {
            assert!(
                (exact.eigenvalues[k] - approx.eigenvalues[k]).abs() < 1e-9 * exact.eigenvalues[0],
                "axis {k}"
            );
            assert!((exact.proportion_explained[k] - approx.proportion_explained[k]).abs() < 1e-9);
            // Both make the largest-magnitude coordinate positive, so signs agree too.
            for i in 0..n {
                let (e, a) = (exact.coordinate(i, k), approx.coordinate(i, k));
                assert!((e - a).abs() < 1e-9, "axis {k} sample {i}: {e} vs {a}");
            }
        }
    }

    /// Squared distances of random points in 40-D (not Euclidean distances), so that the
    /// centred matrix has negative eigenvalues and n is past faer's divide-and-conquer
    /// threshold (128).
    fn non_euclidean_matrix(n: usize) -> DistanceMatrix {
        let mut rng = crate::rng::Rng::new(7);
        let pts: Vec<Vec<f64>> = (0..n)
            .map(|_| {
                (0..40)
                    .map(|_| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
                    .collect()
            })
            .collect();
        let dm = euclidean_matrix(&pts);
        let condensed = dm.condensed().iter().map(|d| d * d).collect();
        DistanceMatrix::from_condensed(dm.ids().to_vec(), condensed).expect("valid")
    }

    #[test]
    fn partial_back_transform_equals_the_full_eigendecomposition() {
        // Reference: faer's complete self_adjoint_eigen of the same centred matrix, with the
        // post-processing written out as scikit-bio's pcoa does it.
        let n = 300;
        let dm = non_euclidean_matrix(n);
        let b = gower_centered(&dm);
        let evd = b.self_adjoint_eigen(faer::Side::Lower).expect("evd");
        let mut reference: Vec<(f64, usize)> = (0..n).map(|k| (evd.S()[k], k)).collect();
        reference.sort_by(|a, b| b.0.total_cmp(&a.0));
        let r = pcoa(&dm).expect("pcoa");
        let negatives = reference.iter().filter(|(v, _)| *v < -1e-8).count();
        assert!(
            negatives > 10,
            "the test needs negative eigenvalues ({negatives})"
        );
        for (axis, &(value, k)) in reference.iter().enumerate() {
            let expected = if value.abs() <= 1e-8 {
                0.0
            } else {
                value.max(0.0)
            };
            assert!((r.eigenvalues[axis] - expected).abs() <= 1e-12 * reference[0].0);
            for i in 0..n {
                let v = evd.U()[(i, k)] * expected.sqrt();
                let got = r.coordinate(i, axis);
                assert!(
                    (got.abs() - v.abs()).abs() <= 1e-9 * reference[0].0.sqrt(),
                    "axis {axis} sample {i}: {got} vs {v}"
                );
            }
        }
    }

    /// Sum of the diagonal of the centred matrix, the denominator of partial proportions.
    fn trace_of(dm: &DistanceMatrix) -> f64 {
        let b = gower_centered(dm);
        (0..dm.len()).map(|i| b[(i, i)]).sum()
    }

    /// `pcoa_top`'s answer against the complete decomposition: eigenvalues within 1e-12 of
    /// λ₁, proportions = λ / trace, coordinates within `tolerance` of the axis' largest.
    fn assert_top_equals_full(
        dm: &DistanceMatrix,
        top: &PcoaResult,
        full: &PcoaResult,
        tolerance: f64,
    ) {
        let (n, k) = (dm.len(), top.n_axes());
        let trace = trace_of(dm);
        for axis in 0..k {
            let (t, f) = (top.eigenvalues[axis], full.eigenvalues[axis]);
            assert!(
                (t - f).abs() <= 1e-12 * full.eigenvalues[0],
                "axis {axis}: {t} vs {f}"
            );
            let p = top.proportion_explained[axis];
            assert!(
                (p - f / trace).abs() <= 1e-12,
                "axis {axis}: {p} vs {}",
                f / trace
            );
            let scale = (0..n)
                .map(|i| full.coordinate(i, axis).abs())
                .fold(0.0, f64::max);
            for i in 0..n {
                let (a, b) = (top.coordinate(i, axis), full.coordinate(i, axis));
                assert!(
                    (a - b).abs() <= tolerance * scale,
                    "axis {axis} sample {i}: {a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn top_axes_by_lanczos_equal_the_full_decomposition_on_clustered_eigenvalues() {
        // Euclidean distances of random points in 200-D: the centred matrix is a sample
        // covariance of i.i.d. coordinates, whose top eigenvalues crowd at the edge of the
        // Marchenko–Pastur bulk without a gap (as bench/pcoa.py's generator).
        let n = 400;
        let mut rng = crate::rng::Rng::new(11);
        let pts: Vec<Vec<f64>> = (0..n)
            .map(|_| {
                (0..200)
                    .map(|_| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64)
                    .collect()
            })
            .collect();
        let dm = euclidean_matrix(&pts);
        let full = pcoa(&dm).expect("full");
        let k = 10;
        let gaps: Vec<f64> = (0..k)
            .map(|a| full.eigenvalues[a] - full.eigenvalues[a + 1])
            .collect();
        let closest = gaps.iter().copied().fold(f64::INFINITY, f64::min);
        assert!(
            closest < 1e-2 * full.eigenvalues[0],
            "the test needs neighbouring eigenvalues closer than 1 % of λ₁: {gaps:?}"
        );
        let (top, lanczos) = pcoa_top_within(&dm, k, krylov_limit(n, k)).expect("top");
        assert!(lanczos, "Lanczos converged within its limit");
        assert_eq!(top.n_axes(), k);
        assert_top_equals_full(&dm, &top, &full, 1e-9);
        // Proportions are of the trace, as the full path's for this positive semi-definite B.
        assert!((top.proportion_explained[0] - full.proportion_explained[0]).abs() < 1e-12);
    }

    #[test]
    fn too_small_a_krylov_space_falls_back_to_the_full_decomposition() {
        let n = 200;
        let dm = non_euclidean_matrix(n);
        let k = 6;
        let (fallback, lanczos) = pcoa_top_within(&dm, k, k + crate::lanczos::BLOCK).expect("top");
        assert!(
            !lanczos,
            "a space of {} vectors cannot converge here",
            k + crate::lanczos::BLOCK
        );
        let full = pcoa(&dm).expect("full");
        assert_top_equals_full(&dm, &fallback, &full, 0.0);
        let (converged, lanczos) = pcoa_top_within(&dm, k, krylov_limit(n, k)).expect("top");
        assert!(lanczos);
        assert_top_equals_full(&dm, &converged, &full, 1e-9);
    }

    #[test]
    fn a_double_eigenvalue_is_found_twice() {
        // 120 points evenly on a unit circle, lifted by a small third coordinate: the circle
        // gives λ₁ = λ₂ = n/2 exactly, which a single-vector Krylov space would see once.
        let n = 120;
        let pts: Vec<[f64; 3]> = (0..n)
            .map(|i| {
                let angle = std::f64::consts::TAU * i as f64 / n as f64;
                // cos 3θ is orthogonal to cos θ and sin θ over the circle: λ₃ = 0.04 n/2.
                [angle.cos(), angle.sin(), 0.2 * (3.0 * angle).cos()]
            })
            .collect();
        let dm = euclidean_matrix(&pts);
        let full = pcoa(&dm).expect("full");
        let (top, lanczos) = pcoa_top_within(&dm, 3, 60).expect("top");
        assert!(lanczos);
        for axis in 0..3 {
            let (t, f) = (top.eigenvalues[axis], full.eigenvalues[axis]);
            assert!((t - f).abs() <= 1e-12 * f, "axis {axis}: {t} vs {f}");
        }
        assert!((top.eigenvalues[0] - n as f64 / 2.0).abs() < 1e-10);
        assert!((top.eigenvalues[1] - n as f64 / 2.0).abs() < 1e-10);
        // Axes 1–2 are any orthonormal basis of the circle's plane; each sample's squared
        // distance from the centre within that plane is the same in both (cos² + sin² = 1).
        for i in 0..n {
            let radius = |r: &PcoaResult| r.coordinate(i, 0).powi(2) + r.coordinate(i, 1).powi(2);
            assert!((radius(&top) - 1.0).abs() < 1e-10 && (radius(&full) - 1.0).abs() < 1e-10);
            // cos 3θ reaches ±0.2 at several samples, so the sign rule has ties: compare |x|.
            let (a, b) = (top.coordinate(i, 2), full.coordinate(i, 2));
            assert!((a.abs() - b.abs()).abs() < 1e-10, "sample {i}: {a} vs {b}");
        }
    }

    #[test]
    fn top_axes_are_the_same_bits_for_any_number_of_threads() {
        let dm = non_euclidean_matrix(300);
        let with = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool")
                .install(|| pcoa_top(&dm, 5).expect("top"))
        };
        let (one, three) = (with(1), with(3));
        assert_eq!(one.eigenvalues, three.eigenvalues);
        assert_eq!(one.proportion_explained, three.proportion_explained);
        assert_eq!(one.coordinates, three.coordinates);
    }

    #[test]
    fn matrix_free_product_equals_the_centred_matrix_times_x() {
        // Sizes that leave partial groups of four rows, tiles of 32 rows and 256 columns;
        // widths on each kernel (4, 8, 16) and split into groups of 16.
        for n in [57, 300] {
            let dm = non_euclidean_matrix(n);
            let b = gower_centered(&dm);
            for c in [1, 3, 4, 5, 8, 9, 16, 17, 20] {
                let x: Vec<f64> = (0..n * c).map(|t| ((t * 37) % 11) as f64 - 5.0).collect();
                let y = centered_product(&dm, &x, c);
                for i in 0..n {
                    for t in 0..c {
                        let expected: f64 = (0..n).map(|j| b[(i, j)] * x[j * c + t]).sum();
                        assert!(
                            (y[i * c + t] - expected).abs() < 1e-12 * n as f64,
                            "n {n} c {c}: {i} {t}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn coordinates_tsv_writes_what_display_writes() {
        let dm = non_euclidean_matrix(20);
        let r = pcoa(&dm).expect("pcoa");
        let mut expected = String::from("sample-id\tPC1\tPC2\tPC3\n");
        for (i, id) in r.sample_ids.iter().enumerate() {
            expected.push_str(id);
            for axis in 0..3 {
                expected.push_str(&format!("\t{}", r.coordinate(i, axis)));
            }
            expected.push('\n');
        }
        assert_eq!(r.coordinates_tsv(3), expected);
        // All axes, in chunks of one row (rounds of a row per chunk, the last round partly
        // empty) and of two: the same bytes as one chunk, and each number as `{}` writes it.
        let all = r.coordinates_tsv(usize::MAX);
        let mut lines = all.lines();
        let header = (1..=r.n_axes())
            .map(|a| format!("\tPC{a}"))
            .collect::<String>();
        assert_eq!(lines.next(), Some(format!("sample-id{header}").as_str()));
        for (i, line) in lines.enumerate() {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields[0], r.sample_ids[i]);
            for (axis, field) in fields[1..].iter().enumerate() {
                assert_eq!(
                    *field,
                    format!("{}", r.coordinate(i, axis)),
                    "row {i}, axis {axis}"
                );
            }
        }
        for chunk_bytes in [0, 2 * (20 * 12 + 32)] {
            let mut chunked = Vec::new();
            r.write_coordinates_tsv_in_chunks(usize::MAX, &mut chunked, chunk_bytes)
                .expect("write");
            assert_eq!(String::from_utf8(chunked).expect("utf-8"), all);
        }
    }

    #[test]
    fn a_failing_output_stops_the_coordinates_with_its_error() {
        struct Fails(usize);
        impl std::io::Write for Fails {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                if self.0 == 0 {
                    return Err(std::io::Error::other("disk full"));
                }
                self.0 -= 1;
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let r = pcoa(&non_euclidean_matrix(20)).expect("pcoa");
        // The header, or the first or a later round of one-row chunks.
        for writes in [0, 1, 5] {
            let e = r
                .write_coordinates_tsv_in_chunks(usize::MAX, &mut Fails(writes), 0)
                .expect_err("the output fails");
            assert_eq!(e.to_string(), "disk full");
        }
    }

    #[test]
    fn euclidean_points_are_recovered() {
        // Points on a line at 0, 1, 3: one positive eigenvalue equal to the sum of squared
        // deviations from the mean (4/3)² + (1/3)² + (5/3)² = 42/9.
        let dm = DistanceMatrix::from_condensed(
            vec!["a".into(), "b".into(), "c".into()],
            vec![1.0, 3.0, 2.0],
        )
        .expect("valid");
        let r = pcoa(&dm).expect("ok");
        assert!((r.eigenvalues[0] - 42.0 / 9.0).abs() < 1e-12);
        assert!(r.eigenvalues[1].abs() < 1e-12);
        assert!((r.proportion_explained[0] - 1.0).abs() < 1e-12);
        let d01 = (r.coordinate(0, 0) - r.coordinate(1, 0)).abs();
        assert!((d01 - 1.0).abs() < 1e-12);
    }
}
