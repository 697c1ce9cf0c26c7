/*!
Spearman correlation and partial Spearman correlation (Pearson correlation of the ranks, and of
the residuals of the ranks after regressing out the covariates' ranks, as pingouin's
`partial_corr(method="spearman")`), with p-values from Student's t on n − 2 − k degrees of
freedom (k covariates).
*/

use crate::distributions::t_two_sided;

/// Average ranks (ties share their mean rank), 1-based.
pub fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|a, b| values[*a].total_cmp(&values[*b]));
    let mut out = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            out[k] = rank;
        }
        i = j + 1;
    }
    out
}

/// Pearson correlation.
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    sab / (saa * sbb).sqrt()
}

/// Correlation with its two-sided p-value on `df` degrees of freedom.
fn with_p(r: f64, df: f64) -> (f64, f64) {
    let t = r * (df / (1.0 - r * r).max(f64::MIN_POSITIVE)).sqrt();
    (r, t_two_sided(t, df))
}

/// Spearman's rho and p.
pub fn spearman(a: &[f64], b: &[f64]) -> (f64, f64) {
    let r = pearson(&ranks(a), &ranks(b));
    with_p(r, a.len() as f64 - 2.0)
}

/// Residuals of `y` after least squares on an intercept and `covariates` (columns).
fn residuals(y: &[f64], covariates: &[Vec<f64>]) -> Vec<f64> {
    let n = y.len();
    let p = covariates.len() + 1;
    let x: Vec<f64> = (0..n)
        .flat_map(|i| (0..p).map(move |j| if j == 0 { 1.0 } else { covariates[j - 1][i] }))
        .collect();
    crate::qr::ThinQr::new(&x, n, p).residuals(y)
}

/// Partial Spearman correlation of `a` and `b` given `covariates`, and its p-value.
pub fn partial_spearman(a: &[f64], b: &[f64], covariates: &[Vec<f64>]) -> (f64, f64) {
    let ranked: Vec<Vec<f64>> = covariates.iter().map(|c| ranks(c)).collect();
    let ra = residuals(&ranks(a), &ranked);
    let rb = residuals(&ranks(b), &ranked);
    let r = pearson(&ra, &rb);
    with_p(r, a.len() as f64 - 2.0 - covariates.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_with_ties_and_perfect_monotone() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
        let (r, p) = spearman(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 4.0, 8.0, 16.0, 32.0]);
        assert!((r - 1.0).abs() < 1e-15);
        assert!(p < 1e-6);
    }
}
