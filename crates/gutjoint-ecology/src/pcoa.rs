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
}

/// Gower-centred matrix `-½ J D² J` (row-major square).
pub fn gower_centered(dm: &DistanceMatrix) -> Vec<f64> {
    let n = dm.len();
    let mut e = dm.to_square();
    e.iter_mut().for_each(|v| *v = -0.5 * *v * *v);
    let row_means: Vec<f64> = (0..n)
        .map(|i| e[i * n..(i + 1) * n].iter().sum::<f64>() / n as f64)
        .collect();
    let grand = row_means.iter().sum::<f64>() / n as f64;
    for i in 0..n {
        for j in 0..n {
            // E is symmetric, so column means equal row means.
            e[i * n + j] += grand - row_means[i] - row_means[j];
        }
    }
    e
}

/// Approximate PCoA for large cohorts: the leading `dimensions` eigenpairs of the centred
/// matrix by randomized subspace iteration (Halko, Martinsson & Tropp 2011, SIAM Rev 53:217),
/// the method behind scikit-bio's `fsvd`: a seeded Gaussian sketch with 10 extra columns and
/// four power iterations, re-orthonormalised by QR each time. Proportions explained are
/// relative to the trace of the centred matrix (the sum of all eigenvalues), as scikit-bio's.
pub fn pcoa_fsvd(dm: &DistanceMatrix, dimensions: usize, seed: u64) -> Result<PcoaResult> {
    let n = dm.len();
    if n < 2 {
        return Err(Error::Invalid("PCoA needs at least two samples".into()));
    }
    let k = dimensions.clamp(1, n);
    let l = (k + 10).min(n);
    let centered = gower_centered(dm);
    let b = faer::Mat::<f64>::from_fn(n, n, |i, j| centered[i * n + j]);
    let trace: f64 = (0..n).map(|i| b[(i, i)]).sum();
    let mut rng = crate::rng::Rng::new(seed);
    let mut gaussian = || {
        // Box–Muller from two uniforms in (0, 1].
        let u1 = ((rng.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        let u2 = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    };
    let omega = faer::Mat::<f64>::from_fn(n, l, |_, _| gaussian());
    let mut q = (&b * &omega).qr().compute_thin_Q();
    for _ in 0..4 {
        q = (&b * &q).qr().compute_thin_Q();
    }
    let small = q.transpose() * &b * &q;
    let evd = small
        .self_adjoint_eigen(faer::Side::Lower)
        .map_err(|e| Error::Numerical(format!("{e:?}")))?;
    let vectors = &q * evd.U();
    let values = evd.S();
    let mut order: Vec<usize> = (0..l).collect();
    order.sort_by(|a, b| values[*b].total_cmp(&values[*a]));
    order.truncate(k);
    let eigenvalues: Vec<f64> = order
        .iter()
        .map(|&i| values[i])
        .map(|v| if v.abs() <= 1e-8 { 0.0 } else { v.max(0.0) })
        .collect();
    let proportion_explained = eigenvalues.iter().map(|v| v / trace).collect();
    let mut coordinates = vec![0.0; n * k];
    for (axis, &i) in order.iter().enumerate() {
        let lambda = eigenvalues[axis];
        if lambda <= 0.0 {
            continue;
        }
        let column: Vec<f64> = (0..n).map(|r| vectors[(r, i)]).collect();
        let pivot = column
            .iter()
            .copied()
            .fold(0.0f64, |m, v| if v.abs() > m.abs() { v } else { m });
        let sign = if pivot < 0.0 { -1.0 } else { 1.0 };
        for (r, v) in column.iter().enumerate() {
            coordinates[r * k + axis] = sign * v * lambda.sqrt();
        }
    }
    Ok(PcoaResult {
        method: "fsvd",
        sample_ids: dm.ids().to_vec(),
        eigenvalues,
        proportion_explained,
        coordinates,
    })
}

/// Runs PCoA on a distance matrix.
pub fn pcoa(dm: &DistanceMatrix) -> Result<PcoaResult> {
    let n = dm.len();
    if n < 2 {
        return Err(Error::Invalid("PCoA needs at least two samples".into()));
    }
    let centered = gower_centered(dm);
    let matrix = faer::Mat::<f64>::from_fn(n, n, |i, j| centered[i * n + j]);
    let evd = matrix
        .self_adjoint_eigen(faer::Side::Lower)
        .map_err(|e| Error::Numerical(format!("{e:?}")))?;
    let values = evd.S();
    let vectors = evd.U();
    // faer gives ascending order; scikit-bio reports descending.
    let mut order: Vec<usize> = (0..n).collect();
    let raw: Vec<f64> = (0..n)
        .map(|k| values[k])
        .map(|v| if v.abs() <= 1e-8 { 0.0 } else { v })
        .collect();
    order.sort_by(|a, b| raw[*b].total_cmp(&raw[*a]));
    let mut eigenvalues: Vec<f64> = order.iter().map(|&k| raw[k]).collect();
    eigenvalues.iter_mut().for_each(|v| *v = v.max(0.0));
    let sum: f64 = eigenvalues.iter().sum();
    let proportion_explained = eigenvalues.iter().map(|v| v / sum).collect();
    let mut coordinates = vec![0.0; n * n];
    for (axis, &k) in order.iter().enumerate() {
        let lambda = eigenvalues[axis];
        if lambda <= 0.0 {
            continue;
        }
        let scale = lambda.sqrt();
        let column: Vec<f64> = (0..n).map(|i| vectors[(i, k)]).collect();
        let pivot = column
            .iter()
            .copied()
            .fold(0.0f64, |m, v| if v.abs() > m.abs() { v } else { m });
        let sign = if pivot < 0.0 { -1.0 } else { 1.0 };
        for (i, v) in column.iter().enumerate() {
            coordinates[i * n + axis] = sign * v * scale;
        }
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
            let (a, b) = (pts[i].as_ref(), pts[j].as_ref());
            condensed.push(
                a.iter()
                    .zip(b)
                    .map(|(x, y)| (x - y) * (x - y))
                    .sum::<f64>()
                    .sqrt(),
            );
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
