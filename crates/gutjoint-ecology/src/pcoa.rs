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

#[cfg(test)]
mod tests {
    use super::*;

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
