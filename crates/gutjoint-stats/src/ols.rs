/*!
Ordinary least squares for many responses sharing one design (one model per feature), by a
single QR decomposition of the design ([`crate::qr`]): `β = R⁻¹ Qᵀ y`, `Var(β) = σ² (RᵀR)⁻¹`,
`σ² = RSS / (n − p)`; t statistics and two-sided p-values from Student's t with n − p degrees
of freedom — what statsmodels' `OLS(...).fit()` reports as `params`, `bse`, `tvalues`,
`pvalues`.
*/

use crate::design::Design;
use crate::distributions::t_two_sided;
use crate::error::{Error, Result};
use crate::qr::ThinQr;
use serde::Serialize;

/// Coefficients of one response.
#[derive(Debug, Clone, Serialize)]
pub struct Fit {
    pub estimate: Vec<f64>,
    pub se: Vec<f64>,
    pub t: Vec<f64>,
    pub p: Vec<f64>,
    pub df: usize,
}

/// A factorised design, reusable across responses.
#[derive(Debug, Clone)]
pub struct Ols {
    /// Thin Q, column-major n × p.
    q: Vec<f64>,
    r_inv: Vec<f64>,
    /// Diagonal of (XᵀX)⁻¹.
    cov_diag: Vec<f64>,
    n: usize,
    p: usize,
}

impl Ols {
    pub fn new(design: &Design) -> Result<Ols> {
        let (n, p) = (design.n, design.p);
        if n <= p {
            return Err(Error::Invalid(format!(
                "{n} samples for {p} model coefficients; a linear model needs more samples than coefficients"
            )));
        }
        let ThinQr { q, r, .. } = ThinQr::new(&design.x, n, p);
        let r = |i: usize, j: usize| r[i * p + j];
        // Invert the upper-triangular R by back substitution, column by column.
        let mut r_inv = vec![0.0; p * p];
        for col in 0..p {
            for row in (0..p).rev() {
                let mut s = if row == col { 1.0 } else { 0.0 };
                for k in (row + 1)..p {
                    s -= r(row, k) * r_inv[k * p + col];
                }
                let diag = r(row, row);
                if diag.abs() < 1e-12 * r(0, 0).abs().max(1.0) {
                    return Err(Error::Invalid(format!(
                        "the design is rank-deficient: column '{}' is a combination of the others",
                        design.names[row]
                    )));
                }
                r_inv[row * p + col] = s / diag;
            }
        }
        let cov_diag = (0..p)
            .map(|j| (0..p).map(|k| r_inv[j * p + k] * r_inv[j * p + k]).sum())
            .collect();
        Ok(Ols {
            q,
            r_inv,
            cov_diag,
            n,
            p,
        })
    }

    /// The least-squares operator (XᵀX)⁻¹Xᵀ = R⁻¹Qᵀ, row-major `p × n`: row j holds the
    /// weights that turn a response into its coefficient j (used for sandwich variances).
    pub fn pseudo_inverse(&self) -> Vec<f64> {
        let (n, p) = (self.n, self.p);
        let mut out = vec![0.0; p * n];
        for j in 0..p {
            for i in 0..n {
                out[j * n + i] = (0..p)
                    .map(|k| self.r_inv[j * p + k] * self.q[k * n + i])
                    .sum();
            }
        }
        out
    }

    /// Residual sum of squares of one response (what a likelihood-ratio test compares).
    pub fn rss(&self, y: &[f64]) -> f64 {
        let n = self.n;
        let qty: Vec<f64> = (0..self.p)
            .map(|j| {
                self.q[j * n..(j + 1) * n]
                    .iter()
                    .zip(y)
                    .map(|(a, b)| a * b)
                    .sum()
            })
            .collect();
        (0..n)
            .map(|i| {
                let fitted: f64 = (0..self.p).map(|k| self.q[k * n + i] * qty[k]).sum();
                (y[i] - fitted).powi(2)
            })
            .sum()
    }

    /// Fits one response.
    pub fn fit(&self, y: &[f64]) -> Fit {
        let (n, p) = (self.n, self.p);
        let qty: Vec<f64> = (0..p)
            .map(|j| {
                self.q[j * n..(j + 1) * n]
                    .iter()
                    .zip(y)
                    .map(|(a, b)| a * b)
                    .sum()
            })
            .collect();
        let beta: Vec<f64> = (0..p)
            .map(|j| (0..p).map(|k| self.r_inv[j * p + k] * qty[k]).sum())
            .collect();
        // RSS = |y|² − |Qᵀy|² loses precision when the fit is close; compute residuals directly.
        let fitted: Vec<f64> = (0..n)
            .map(|i| (0..p).map(|k| self.q[k * n + i] * qty[k]).sum())
            .collect();
        let rss: f64 = y.iter().zip(&fitted).map(|(a, b)| (a - b) * (a - b)).sum();
        let df = n - p;
        let sigma2 = rss / df as f64;
        let se: Vec<f64> = self.cov_diag.iter().map(|c| (sigma2 * c).sqrt()).collect();
        let t: Vec<f64> = beta.iter().zip(&se).map(|(b, s)| b / s).collect();
        let pv = t.iter().map(|t| t_two_sided(*t, df as f64)).collect();
        Fit {
            estimate: beta,
            se,
            t,
            p: pv,
            df,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_regression_by_hand() {
        // y = 1 + 2x + e with e = (+0.1, -0.1, -0.1, +0.1) at x = 0..3:
        // slope = Sxy/Sxx = (Σ(x-1.5)(y-ȳ)) / 5.
        let xs = [0.0, 1.0, 2.0, 3.0];
        let e = [0.1, -0.1, -0.1, 0.1];
        let y: Vec<f64> = xs.iter().zip(&e).map(|(x, e)| 1.0 + 2.0 * x + e).collect();
        let design = Design {
            names: vec!["Intercept".into(), "x".into()],
            x: xs.iter().flat_map(|x| [1.0, *x]).collect(),
            n: 4,
            p: 2,
            sample_ids: vec![],
            dropped: vec![],
            references: Default::default(),
        };
        let fit = Ols::new(&design).expect("full rank").fit(&y);
        let ybar = y.iter().sum::<f64>() / 4.0;
        let sxy: f64 = xs.iter().zip(&y).map(|(x, y)| (x - 1.5) * (y - ybar)).sum();
        let slope = sxy / 5.0;
        assert!((fit.estimate[1] - slope).abs() < 1e-12);
        assert!((fit.estimate[0] - (ybar - slope * 1.5)).abs() < 1e-12);
        let rss: f64 = xs
            .iter()
            .zip(&y)
            .map(|(x, y)| (y - fit.estimate[0] - fit.estimate[1] * x).powi(2))
            .sum();
        assert!((fit.se[1] - (rss / 2.0 / 5.0).sqrt()).abs() < 1e-12);
        assert_eq!(fit.df, 2);
    }
}
