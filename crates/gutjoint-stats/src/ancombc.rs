/*!
ANCOM-BC: analysis of compositions of microbiomes with bias correction (Lin & Peddada 2020,
Nat Commun 11:3514, doi:10.1038/s41467-020-17041-7), as scikit-bio 0.7.4's
`skbio.stats.composition.ancombc` computes it.

Why it exists next to `lm`: a sequencing library is a sample of each gut with an unknown,
sample-specific sampling fraction, so log abundances carry a per-sample offset and every
coefficient of a per-feature regression carries a per-term bias shared by all features.
ANCOM-BC estimates that offset and that bias and removes them, so a fold change means the same
thing whether the table holds counts or proportions.

The steps, for a table of strictly positive values `y` (the caller adds the pseudocount):
1. Per feature, ordinary least squares of `ln y` on the design: β̂ (by the least-squares
   operator `(XᵀX)⁻¹Xᵀ`).
2. Per sample, the sampling-fraction offset θ̂ = the mean residual over features; the
   residuals centred by it give a heteroscedasticity-robust (sandwich) variance of every
   coefficient: Var(β̂ⱼ) = Σₛ (residualₛ − θ̂ₛ)² · ((XᵀX)⁻¹Xᵀ)ⱼₛ².
3. Per term, the bias δ: the coefficients across features are modelled as a three-component
   Gaussian mixture (null features centred on δ, decreased ones on δ + l₁ ≤ δ, increased ones on
   δ + l₂ ≥ δ, with extra variances κ₁, κ₂) fitted by EM; each M-step fits κ by the bounded
   one-dimensional Nelder–Mead simplex SciPy uses ([`crate::optimize`]), with tolerances 1e-8,
   and EM stops when the parameter vector moves by at most `tol` (1e-5) or after `max_iter`
   (100) iterations. The weighted-least-squares δ and its variance are reported alongside.
4. The bias-corrected log fold change is β̂ − δ̂_EM (natural log), its standard error √Var(β̂),
   W = estimate / SE, a two-sided normal p-value, and q adjusted within each term across
   features (Holm by default, as scikit-bio and the R package).

Not here: ANCOM-BC's structural-zero detection and the zero-aware sparse fits (scikit-bio's
`ancombc` itself refuses zeros), and ANCOM-BC2.
*/

use crate::da::Coefficient;
use crate::design::Design;
use crate::distributions::normal_two_sided;
use crate::error::{Error, Result};
use crate::fdr::{Adjust, adjust};
use crate::ols::Ols;
use crate::optimize::NelderMead;
use gutjoint_table::FeatureTable;
use rayon::prelude::*;
use serde::Serialize;

/// What a streaming pass does with one sample: `(design row, ln values of its features, the
/// chunk's m × p share to add to)`.
type SampleVisit<'a> = dyn Fn(usize, &mut [f64], &mut [f64]) + Sync + 'a;

/// Contiguous sample chunks summed in parallel (fixed, so results do not depend on threads).
const CHUNKS: usize = 32;

/// Settings with scikit-bio's defaults.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub max_iter: usize,
    pub tol: f64,
    pub adjust: Adjust,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_iter: 100,
            tol: 1e-5,
            adjust: Adjust::Holm,
        }
    }
}

/// The estimated bias of one term.
#[derive(Debug, Clone, Serialize)]
pub struct Bias {
    pub term: String,
    pub delta_em: f64,
    pub delta_wls: f64,
    pub var_delta: f64,
    /// EM iterations used (`max_iter` means it stopped before converging).
    pub em_iterations: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Ancombc {
    /// Term by term, features in table order within each term; `estimate` is the
    /// bias-corrected natural-log fold change and `statistic` is W = estimate / se.
    pub coefficients: Vec<Coefficient>,
    pub bias: Vec<Bias>,
}

/// The pseudocount ANCOM-BC adds when none is given: 1 for counts (scikit-bio's docstring
/// suggests `table + 1`), half the smallest nonzero value for proportions.
pub fn default_pseudocount(table: &FeatureTable) -> f64 {
    if table.kind() == gutjoint_table::ValueKind::Counts {
        1.0
    } else {
        crate::da::default_pseudocount(table)
    }
}

/// The table row of each sample of the design, in the design's order (ANCOM-BC and ANCOM-BC2
/// both fit on exactly the design's samples).
pub(crate) fn design_rows(table: &FeatureTable, design: &Design) -> Result<Vec<usize>> {
    let index = table.sample_index();
    design
        .sample_ids
        .iter()
        .map(|id| {
            index.get(id.as_str()).copied().ok_or_else(|| {
                Error::Invalid(format!("sample '{id}' of the design is not in the table"))
            })
        })
        .collect()
}

/// Runs ANCOM-BC on `ln(value + pseudocount)` of every feature of `table`, over the samples of
/// `design` (whose ids must be in the table). The table's values are used as they are: counts
/// or proportions give the same non-intercept results.
pub fn ancombc(
    table: &FeatureTable,
    design: &Design,
    pseudocount: f64,
    options: Options,
) -> Result<Ancombc> {
    let (n, p, m) = (design.n, design.p, table.n_features());
    if m < 2 {
        return Err(Error::Invalid(format!(
            "ANCOM-BC needs at least 2 features to estimate the bias; the table has {m}"
        )));
    }
    if pseudocount.is_nan() || pseudocount < 0.0 || pseudocount.is_infinite() {
        return Err(Error::Invalid(format!(
            "the pseudocount must be a finite non-negative number, not {pseudocount}"
        )));
    }
    let rows = design_rows(table, design)?;
    let ols = Ols::new(design)?;
    let pinv = ols.pseudo_inverse();
    let x = &design.x;
    // ln(value + pseudocount) of sample `i` of the design, all features, into `y`.
    let zero_log = pseudocount.ln();
    let log_row = |i: usize, y: &mut [f64]| -> Result<()> {
        y.fill(zero_log);
        let (features, values) = table.sample(rows[i]);
        for (&f, &v) in features.iter().zip(values) {
            y[f as usize] = (v + pseudocount).ln();
        }
        if let Some(f) = y.iter().position(|v| v.is_infinite()) {
            return Err(Error::Invalid(format!(
                "ANCOM-BC takes logarithms: feature '{}' is 0 in sample '{}' and the pseudocount is 0; give a positive pseudocount",
                table.feature_ids()[f],
                design.sample_ids[i]
            )));
        }
        Ok(())
    };
    // The samples are streamed in a fixed number of contiguous chunks (whatever the number of
    // threads), each summing its own share; the shares are then added in chunk order, so the
    // result is the same bytes on any machine. Memory stays at a few features × terms arrays
    // per chunk instead of a samples × features matrix.
    let chunks: Vec<std::ops::Range<usize>> = {
        let size = n.div_ceil(CHUNKS).max(1);
        (0..n).step_by(size).map(|a| a..(a + size).min(n)).collect()
    };

    // Runs `visit(i, ln y of sample i, share)` over every sample, chunk by chunk, and adds the
    // chunks' m × p shares in chunk order.
    let stream = |visit: &SampleVisit| -> Result<Vec<f64>> {
        let parts = chunks
            .par_iter()
            .map(|range| -> Result<Vec<f64>> {
                let mut part = vec![0.0; m * p];
                let mut y = vec![0.0; m];
                for i in range.clone() {
                    log_row(i, &mut y)?;
                    visit(i, &mut y, &mut part);
                }
                Ok(part)
            })
            .collect::<Result<Vec<_>>>()?;
        let mut total = vec![0.0; m * p];
        for part in parts {
            for (t, v) in total.iter_mut().zip(part) {
                *t += v;
            }
        }
        Ok(total)
    };

    // Step 1: coefficients, β[f][j] = Σᵢ ((XᵀX)⁻¹Xᵀ)ⱼᵢ · ln yᵢf (feature-major m × p).
    let beta = stream(&|i, y, part| {
        for (f, yf) in y.iter().enumerate() {
            for j in 0..p {
                part[f * p + j] += pinv[j * n + i] * yf;
            }
        }
    })?;
    // Step 2: per sample, the offset θ̂ᵢ = mean residual over features; per coefficient, the
    // sandwich variance Σᵢ (residualᵢf − θ̂ᵢ)² · ((XᵀX)⁻¹Xᵀ)ⱼᵢ².
    let variance = stream(&|i, y, part| {
        let xi = &x[i * p..(i + 1) * p];
        for (f, yf) in y.iter_mut().enumerate() {
            let fitted: f64 = (0..p).map(|j| xi[j] * beta[f * p + j]).sum();
            *yf -= fitted;
        }
        let theta = y.iter().sum::<f64>() / m as f64;
        for (f, r) in y.iter().enumerate() {
            let e2 = (r - theta) * (r - theta);
            for j in 0..p {
                let h = pinv[j * n + i];
                part[f * p + j] += e2 * (h * h);
            }
        }
    })?;
    // Step 3: the bias of each term.
    let bias: Vec<Bias> = (0..p)
        .into_par_iter()
        .map(|j| {
            let beta_j: Vec<f64> = (0..m).map(|f| beta[f * p + j]).collect();
            let var_j: Vec<f64> = (0..m).map(|f| variance[f * p + j]).collect();
            let em = estimate_bias(&beta_j, &var_j, options.tol, options.max_iter);
            Bias {
                term: design.names[j].clone(),
                delta_em: em.delta_em,
                delta_wls: em.delta_wls,
                var_delta: em.var_delta,
                em_iterations: em.iterations,
            }
        })
        .collect();
    // Step 4: corrected estimates and tests.
    let mut coefficients = Vec::with_capacity(m * p);
    for (j, b) in bias.iter().enumerate() {
        let estimate: Vec<f64> = (0..m).map(|f| beta[f * p + j] - b.delta_em).collect();
        let se: Vec<f64> = (0..m).map(|f| variance[f * p + j].sqrt()).collect();
        let w: Vec<f64> = estimate.iter().zip(&se).map(|(e, s)| e / s).collect();
        let pv: Vec<f64> = w.iter().map(|w| normal_two_sided(*w)).collect();
        let q = adjust(&pv, options.adjust);
        for f in 0..m {
            coefficients.push(Coefficient {
                feature: table.feature_ids()[f].clone(),
                term: b.term.clone(),
                estimate: estimate[f],
                se: se[f],
                statistic: w[f],
                p: pv[f],
                q: q[f],
            });
        }
    }
    Ok(Ancombc { coefficients, bias })
}

/// Result of the EM for one term.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BiasEstimate {
    pub(crate) delta_em: f64,
    pub(crate) delta_wls: f64,
    pub(crate) var_delta: f64,
    pub(crate) iterations: usize,
}

/// EM fit of the three-component mixture of one term's coefficients (`beta`, with variances
/// `var`), then the weighted-least-squares bias and its variance.
pub(crate) fn estimate_bias(beta: &[f64], var: &[f64], tol: f64, max_iter: usize) -> BiasEstimate {
    let m = beta.len();
    let (delta0, l1_0, l2_0, kappa1_0, kappa2_0) = initial_parameters(beta);
    // [π₀, π₁, π₂, δ, l₁, l₂, κ₁, κ₂]
    let mut params = [0.75, 0.125, 0.125, delta0, l1_0, l2_0, kappa1_0, kappa2_0];
    let simplex = NelderMead {
        xatol: 1e-8,
        fatol: 1e-8,
        max_eval: 200,
    };
    let mut resp = [vec![0.0; m], vec![0.0; m], vec![0.0; m]];
    let mut nu_inv = [vec![0.0; m], vec![0.0; m], vec![0.0; m]];
    let mut sq = [vec![0.0; m], vec![0.0; m]];
    let mut loss = f64::INFINITY;
    let mut iterations = 0;
    while loss > tol && iterations < max_iter {
        let [pi0, pi1, pi2, delta, l1, l2, kappa1, kappa2] = params;
        let means = [delta, delta + l1, delta + l2];
        let weights = [pi0, pi1, pi2];
        let extra = [0.0, kappa1, kappa2];
        // E-step: responsibilities (the shared 1/√(2π) cancels).
        for i in 0..m {
            let mut total = 0.0;
            for r in 0..3 {
                let inv = 1.0 / (var[i] + extra[r]);
                nu_inv[r][i] = inv;
                let d = beta[i] - means[r];
                let density = (-0.5 * (d * d * inv)).exp() * inv.sqrt() * weights[r];
                resp[r][i] = density;
                total += density;
            }
            for r in resp.iter_mut() {
                r[i] /= total;
            }
        }
        // M-step.
        let mut updated = [0.0; 8];
        for r in 0..3 {
            updated[r] = resp[r].iter().sum::<f64>() / m as f64;
        }
        let (mut numer, mut denom) = (0.0, 0.0);
        let offsets = [0.0, l1, l2];
        for r in 0..3 {
            for i in 0..m {
                numer += resp[r][i] * (beta[i] - offsets[r]) * nu_inv[r][i];
                denom += resp[r][i] * nu_inv[r][i];
            }
        }
        updated[3] = numer / denom;
        for (k, r) in [1usize, 2].into_iter().enumerate() {
            let (mut num, mut den) = (0.0, 0.0);
            for i in 0..m {
                let w = resp[r][i] * nu_inv[r][i];
                den += w;
                num += w * (beta[i] - delta);
            }
            let l = num / den;
            updated[4 + k] = if r == 1 { l.min(0.0) } else { l.max(0.0) };
        }
        for (k, r) in [1usize, 2].into_iter().enumerate() {
            for i in 0..m {
                let d = beta[i] - means[r];
                sq[k][i] = d * d;
            }
            // Features whose responsibility underflowed to a subnormal number add less than
            // 1e-300 to the objective but make every evaluation an order of magnitude slower
            // (subnormal arithmetic); they are left out unless nothing else is left.
            let mut used: Vec<usize> = (0..m)
                .filter(|&i| resp[r][i] >= f64::MIN_POSITIVE)
                .collect();
            if used.is_empty() {
                used = (0..m).collect();
            }
            let (sq_r, resp_r) = (&sq[k], &resp[r]);
            // Negative log-likelihood of the component's extra variance κ (up to a constant).
            let objective = |kappa: f64| {
                0.5 * used
                    .iter()
                    .map(|&i| {
                        let v = var[i] + kappa;
                        resp_r[i] * (sq_r[i] / v + v.ln())
                    })
                    .sum::<f64>()
            };
            updated[6 + k] = simplex.minimize_bounded(objective, params[6 + k], 0.0);
        }
        loss = updated
            .iter()
            .zip(&params)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            .sqrt();
        params = updated;
        iterations += 1;
    }
    let [_, pi1, pi2, delta, l1, l2, kappa1, kappa2] = params;
    // Weighted least squares: features below the π₁ quantile are "decreased", those at or above
    // the 1 − π₂ quantile "increased".
    let mut sorted = beta.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (q1, q2) = (quantile(&sorted, pi1), quantile(&sorted, 1.0 - pi2));
    let (mut numer, mut denom) = (0.0, 0.0);
    for i in 0..m {
        let (offset, extra) = if beta[i] < q1 {
            (l1, kappa1)
        } else if beta[i] >= q2 {
            (l2, kappa2)
        } else {
            (0.0, 0.0)
        };
        let w = 1.0 / (var[i] + extra);
        denom += w;
        numer += w * (beta[i] - offset);
    }
    let var_delta = 1.0 / denom;
    BiasEstimate {
        delta_em: delta,
        delta_wls: numer * var_delta,
        var_delta: if var_delta.is_finite() {
            var_delta
        } else {
            0.0
        },
        iterations,
    }
}

/// Starting values: δ = mean of the coefficients within the quartiles, l₁ and κ₁ the mean and
/// sample variance below the 12.5th percentile, l₂ and κ₂ above the 87.5th (κ = 1 when that
/// variance is zero or undefined).
fn initial_parameters(beta: &[f64]) -> (f64, f64, f64, f64, f64) {
    let mut sorted = beta.to_vec();
    sorted.sort_by(f64::total_cmp);
    let edges = [0.125, 0.25, 0.75, 0.875].map(|q| quantile(&sorted, q));
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let middle: Vec<f64> = beta
        .iter()
        .copied()
        .filter(|b| *b >= edges[1] && *b <= edges[2])
        .collect();
    let delta = if middle.is_empty() {
        mean(beta)
    } else {
        mean(&middle)
    };
    let tail = |values: Vec<f64>, fallback: f64| -> (f64, f64) {
        if values.is_empty() {
            return (fallback, 1.0);
        }
        let l = mean(&values);
        let kappa = if values.len() > 1 {
            let v =
                values.iter().map(|b| (b - l) * (b - l)).sum::<f64>() / (values.len() - 1) as f64;
            if v == 0.0 { 1.0 } else { v }
        } else {
            1.0
        };
        (l, kappa)
    };
    let (l1, kappa1) = tail(
        beta.iter().copied().filter(|b| *b < edges[0]).collect(),
        sorted[0],
    );
    let (l2, kappa2) = tail(
        beta.iter().copied().filter(|b| *b > edges[3]).collect(),
        sorted[sorted.len() - 1],
    );
    (delta, l1, l2, kappa1, kappa2)
}

/// The `q` quantile of sorted values by linear interpolation, evaluated as NumPy does (the
/// numeric room's one rule).
pub(crate) use gutjoint_numeric::quantile_sorted as quantile;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starting_values_by_hand() {
        // Eight coefficients 0..7: quartile edges (linear) 0.875, 1.75, 5.25, 6.125, so the
        // middle is {2, 3, 4, 5} (δ = 3.5), the lower tail {0} (l₁ = 0, κ₁ = 1 for a single
        // value), the upper tail {7} (l₂ = 7, κ₂ = 1).
        let beta: Vec<f64> = (0..8).map(f64::from).collect();
        assert_eq!(initial_parameters(&beta), (3.5, 0.0, 7.0, 1.0, 1.0));
    }

    #[test]
    fn a_common_shift_moves_only_the_bias() {
        // What ANCOM-BC rests on: adding the same constant to every feature's coefficient (a
        // different sampling fraction between groups) must move δ̂ by that constant and leave
        // the corrected estimates alone. Twenty null features, three decreased, three increased.
        let mut beta: Vec<f64> = (0..20)
            .map(|i| 0.05 * ((i * 7 % 11) as f64 - 5.0) / 5.0)
            .collect();
        beta.extend([-1.2, -0.9, -1.5, 1.1, 0.8, 1.4]);
        let var: Vec<f64> = (0..beta.len())
            .map(|i| 0.01 + 0.002 * (i % 5) as f64)
            .collect();
        let base = estimate_bias(&beta, &var, 1e-5, 100);
        let shifted: Vec<f64> = beta.iter().map(|b| b + 0.5).collect();
        let moved = estimate_bias(&shifted, &var, 1e-5, 100);
        // Equal up to where EM stops: it ends once its parameters move by at most tol = 1e-5,
        // and the two runs stop after different numbers of iterations (measured: 2.9e-7 apart).
        assert!(
            (moved.delta_em - base.delta_em - 0.5).abs() < 1e-5,
            "{base:?} {moved:?}"
        );
        assert!(
            (moved.delta_wls - base.delta_wls - 0.5).abs() < 1e-5,
            "{base:?} {moved:?}"
        );
        assert!((moved.var_delta - base.var_delta).abs() < 1e-5 * base.var_delta);
        // The null features sit around 0, so the bias is near 0 despite the six outliers, and
        // EM converged well before its limit.
        assert!(base.delta_em.abs() < 0.05, "{base:?}");
        assert!(base.iterations < 100, "{base:?}");
    }
}
