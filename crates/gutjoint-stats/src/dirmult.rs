/*!
The Dirichlet-multinomial t-test of ALDEx2 (Fernandes et al. 2014, Microbiome 2:15) as
scikit-bio's `dirmult_ttest` defines it: add a pseudocount (0.5) to the counts; for each of
`draws` (128) posterior draws, sample each sample's composition from Dirichlet(counts +
pseudocount) (as normalised Gamma variates — CLR makes the normalisation unnecessary), take the
CLR, and run Welch's t-test of every feature between the treatment and reference groups. Report
the means over draws of the CLR difference (as log2 fold change), of t and of the two-sided
p-value; the 95% interval is the lowest per-draw lower bound and the highest upper bound; q by
Holm (default) on the mean p-values; a feature is significant when q ≤ 0.05 and the interval
excludes 0.

The draws come from gutjoint's own seeded generator (xoshiro256**, Marsaglia–Tsang Gamma
variates), not NumPy's, so results agree with scikit-bio's to within Monte Carlo error, not to
the last digit: the test compares the difference with the spread between two scikit-bio seeds.
*/

use crate::distributions::{t_quantile, t_two_sided};
use crate::fdr::{Adjust, adjust};
use gutjoint_numeric::Rng;
use rayon::prelude::*;
use serde::Serialize;

/// Gaussian and Gamma variates on the project's seeded generator (also drives the mixed-model
/// error-rate simulations in [`crate::lmm`]).
pub(crate) struct Stream(Rng);

impl Stream {
    pub(crate) fn new(seed: u64) -> Stream {
        Stream(Rng::new(seed))
    }
    /// Uniform in (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.0.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    pub(crate) fn normal(&mut self) -> f64 {
        // Box–Muller; one of the pair is discarded for simplicity.
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
    /// Gamma(shape, 1) by Marsaglia & Tsang (2000, ACM TOMS 26:363); shape < 1 via the
    /// boost Gamma(a) = Gamma(a + 1) · U^(1/a).
    fn gamma(&mut self, shape: f64) -> f64 {
        if shape < 1.0 {
            let u = self.uniform();
            return self.gamma(shape + 1.0) * u.powf(1.0 / shape);
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = (1.0 + c * x).powi(3);
            if v <= 0.0 {
                continue;
            }
            let u = self.uniform();
            if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v;
            }
        }
    }
}

/// Welch statistics of every feature in one posterior draw.
struct DrawStats {
    diff: Vec<f64>,
    t: Vec<f64>,
    p: Vec<f64>,
    lower: Vec<f64>,
    upper: Vec<f64>,
}

/// One feature's result, with scikit-bio's columns.
#[derive(Debug, Clone, Serialize)]
pub struct DirmultRow {
    pub feature: String,
    pub t_statistic: f64,
    pub log2_fc: f64,
    pub ci_lower: f64,
    pub ci_upper: f64,
    pub p: f64,
    pub q: f64,
    pub significant: bool,
}

/// Runs the test on dense counts (`counts[s][f]`), treatment and reference sample indices.
#[allow(clippy::too_many_arguments)]
pub fn dirmult_ttest(
    counts: &[Vec<f64>],
    features: &[String],
    treatment: &[usize],
    reference: &[usize],
    pseudocount: f64,
    draws: usize,
    seed: u64,
    method: Adjust,
) -> Vec<DirmultRow> {
    let m = features.len();
    let (n1, n2) = (treatment.len() as f64, reference.len() as f64);
    // Each draw has its own stream (seed + draw), so draws can run in parallel and the result
    // does not depend on the number of threads.
    let per_draw: Vec<DrawStats> = (0..draws)
        .into_par_iter()
        .map(|draw| {
            let mut rng = Stream::new(
                seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                    .wrapping_add(draw as u64),
            );
            let clr = |s: usize, rng: &mut Stream| -> Vec<f64> {
                let mut row: Vec<f64> = counts[s]
                    .iter()
                    .map(|c| rng.gamma(c + pseudocount).ln())
                    .collect();
                let mean = row.iter().sum::<f64>() / m as f64;
                row.iter_mut().for_each(|v| *v -= mean);
                row
            };
            let trt: Vec<Vec<f64>> = treatment.iter().map(|&s| clr(s, &mut rng)).collect();
            let rf: Vec<Vec<f64>> = reference.iter().map(|&s| clr(s, &mut rng)).collect();
            let (mut diff, mut t, mut p, mut lo, mut hi) = (
                vec![0.0; m],
                vec![0.0; m],
                vec![0.0; m],
                vec![0.0; m],
                vec![0.0; m],
            );
            for f in 0..m {
                let mean = |rows: &Vec<Vec<f64>>| {
                    rows.iter().map(|r| r[f]).sum::<f64>() / rows.len() as f64
                };
                let (m1, m2) = (mean(&trt), mean(&rf));
                let var = |rows: &Vec<Vec<f64>>, mu: f64| {
                    rows.iter().map(|r| (r[f] - mu).powi(2)).sum::<f64>()
                        / (rows.len() as f64 - 1.0)
                };
                let (vn1, vn2) = (var(&trt, m1) / n1, var(&rf, m2) / n2);
                let se = (vn1 + vn2).sqrt();
                let dof = (vn1 + vn2).powi(2) / (vn1 * vn1 / (n1 - 1.0) + vn2 * vn2 / (n2 - 1.0));
                diff[f] = m1 - m2;
                t[f] = diff[f] / se;
                p[f] = t_two_sided(t[f], dof);
                let half = t_quantile(0.975, dof) * se;
                lo[f] = diff[f] - half;
                hi[f] = diff[f] + half;
            }
            DrawStats {
                diff,
                t,
                p,
                lower: lo,
                upper: hi,
            }
        })
        .collect();
    let d = draws as f64;
    let mean_of = |k: usize| -> Vec<f64> {
        (0..m)
            .map(|f| {
                per_draw
                    .iter()
                    .map(|x| match k {
                        0 => x.diff[f],
                        1 => x.t[f],
                        _ => x.p[f],
                    })
                    .sum::<f64>()
                    / d
            })
            .collect()
    };
    let (delta, tstat, pval) = (mean_of(0), mean_of(1), mean_of(2));
    let lower: Vec<f64> = (0..m)
        .map(|f| {
            per_draw
                .iter()
                .map(|x| x.lower[f])
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    let upper: Vec<f64> = (0..m)
        .map(|f| {
            per_draw
                .iter()
                .map(|x| x.upper[f])
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .collect();
    let q = adjust(&pval, method);
    let ln2 = std::f64::consts::LN_2;
    (0..m)
        .map(|f| DirmultRow {
            feature: features[f].clone(),
            t_statistic: tstat[f],
            log2_fc: delta[f] / ln2,
            ci_lower: lower[f] / ln2,
            ci_upper: upper[f] / ln2,
            p: pval[f],
            q: q[f],
            significant: q[f] <= 0.05
                && ((lower[f] > 0.0 && upper[f] > 0.0) || (lower[f] < 0.0 && upper[f] < 0.0)),
        })
        .collect()
}

/// One feature–covariate row of the Dirichlet-multinomial mixed model, with scikit-bio's
/// `dirmult_lme` columns.
#[derive(Debug, Clone, Serialize)]
pub struct DirmultLmeRow {
    pub feature: String,
    pub term: String,
    /// Draws whose fit of this feature succeeded (scikit-bio's `Reps`).
    pub reps: usize,
    /// Mean over draws of the CLR coefficient, in log2 units.
    pub log2_fc: f64,
    /// Lowest per-draw lower 95% bound (normal), log2.
    pub ci_lower: f64,
    /// Highest per-draw upper 95% bound, log2.
    pub ci_upper: f64,
    /// Mean over draws of the two-sided normal p-value (as `MixedLM` reports it).
    pub p: f64,
    /// Adjusted across the covariates of this feature (scikit-bio: each feature is a family).
    pub q: f64,
    pub significant: bool,
}

/// scikit-bio's `dirmult_lme` (default model): for each of `draws` posterior draws, every
/// sample's composition from Dirichlet(counts + pseudocount) as CLR of Gamma variates, then per
/// feature the REML random-intercept model of [`crate::lmm::MixedModel`] with normal (z)
/// p-values; means over the draws that fitted, the extreme 95% bounds, q by `method` across
/// each feature's covariates (the intercept is not reported). `counts[r]` is design row r.
///
/// Standard errors are lme4's GLS ones, σ²(XᵀV⁻¹X)⁻¹; statsmodels (and so scikit-bio) inverts
/// the joint observed information instead. The two are equal when every subject has the same
/// number of samples and differ by up to about 1% otherwise (docs/longitudinal.md).
#[allow(clippy::too_many_arguments)]
pub fn dirmult_lme(
    counts: &[Vec<f64>],
    features: &[String],
    model: &crate::lmm::MixedModel,
    pseudocount: f64,
    draws: usize,
    seed: u64,
    method: Adjust,
) -> crate::error::Result<Vec<DirmultLmeRow>> {
    use crate::error::Error;
    let m = features.len();
    if m < 2 {
        return Err(Error::Invalid(format!(
            "the Dirichlet-multinomial model needs at least 2 features; the table has {m}"
        )));
    }
    if counts.len() != model.n_samples() {
        return Err(Error::Invalid(format!(
            "{} samples of counts for {} design rows",
            counts.len(),
            model.n_samples()
        )));
    }
    if !(pseudocount > 0.0 && pseudocount.is_finite()) {
        return Err(Error::Invalid(format!(
            "the pseudocount must be positive, not {pseudocount}"
        )));
    }
    if draws == 0 {
        return Err(Error::Invalid(
            "at least one posterior draw is needed".into(),
        ));
    }
    // The covariates reported: every design column but the intercept.
    let covariates: Vec<usize> = (0..model.names().len())
        .filter(|&j| model.names()[j] != "Intercept")
        .collect();
    let k = covariates.len();
    const Z975: f64 = 1.959_963_984_540_054;
    // Per draw, per feature: Some((estimate, p, lower, upper) per covariate) or None.
    type Draw = Vec<Option<Vec<[f64; 4]>>>;
    let per_draw: Vec<Draw> = (0..draws)
        .into_par_iter()
        .map(|draw| {
            let mut rng = Stream::new(
                seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                    .wrapping_add(draw as u64),
            );
            // Samples × features CLR of one draw, then fitted feature by feature.
            let clr: Vec<Vec<f64>> = counts
                .iter()
                .map(|row| {
                    let mut v: Vec<f64> = row
                        .iter()
                        .map(|c| rng.gamma(c + pseudocount).ln())
                        .collect();
                    let mean = v.iter().sum::<f64>() / m as f64;
                    v.iter_mut().for_each(|x| *x -= mean);
                    v
                })
                .collect();
            (0..m)
                .map(|f| {
                    let y: Vec<f64> = clr.iter().map(|r| r[f]).collect();
                    let fit = model.fit_z(&y).ok()?;
                    let usable = covariates
                        .iter()
                        .all(|&j| fit.se[j].is_finite() && fit.se[j] > 0.0);
                    usable.then(|| {
                        covariates
                            .iter()
                            .map(|&j| {
                                let (b, half) = (fit.estimate[j], Z975 * fit.se[j]);
                                [b, fit.p[j], b - half, b + half]
                            })
                            .collect()
                    })
                })
                .collect()
        })
        .collect();
    let ln2 = std::f64::consts::LN_2;
    let mut rows = Vec::with_capacity(m * k);
    for f in 0..m {
        let fitted: Vec<&Vec<[f64; 4]>> = per_draw.iter().filter_map(|d| d[f].as_ref()).collect();
        let reps = fitted.len();
        let mut stats = Vec::with_capacity(k);
        for c in 0..k {
            let mean = |i: usize| fitted.iter().map(|d| d[c][i]).sum::<f64>() / reps as f64;
            let (lfc, p) = if reps > 0 {
                (mean(0), mean(1))
            } else {
                (f64::NAN, f64::NAN)
            };
            let lower = fitted.iter().map(|d| d[c][2]).fold(f64::INFINITY, f64::min);
            let upper = fitted
                .iter()
                .map(|d| d[c][3])
                .fold(f64::NEG_INFINITY, f64::max);
            stats.push((lfc, p, lower, upper));
        }
        let pv: Vec<f64> = stats.iter().map(|s| s.1).collect();
        let q = adjust(&pv, method);
        for (c, &j) in covariates.iter().enumerate() {
            let (lfc, p, lower, upper) = stats[c];
            let (lower, upper) = if reps > 0 {
                (lower, upper)
            } else {
                (f64::NAN, f64::NAN)
            };
            rows.push(DirmultLmeRow {
                feature: features[f].clone(),
                term: model.names()[j].clone(),
                reps,
                log2_fc: lfc / ln2,
                ci_lower: lower / ln2,
                ci_upper: upper / ln2,
                p,
                q: q[c],
                significant: q[c] <= 0.05
                    && ((lower > 0.0 && upper > 0.0) || (lower < 0.0 && upper < 0.0)),
            });
        }
    }
    if rows.iter().all(|r| r.reps == 0) {
        return Err(Error::Invalid(
            "the mixed model could not be fitted for any feature in any draw".into(),
        ));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_variates_have_the_right_moments() {
        // Gamma(k, 1) has mean k and variance k.
        let mut rng = Stream::new(1);
        for shape in [0.5, 1.0, 3.5, 40.0] {
            let n = 200_000;
            let xs: Vec<f64> = (0..n).map(|_| rng.gamma(shape)).collect();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
            assert!(
                (mean - shape).abs() < 0.02 * shape.max(1.0),
                "shape {shape}: mean {mean}"
            );
            assert!(
                (var - shape).abs() < 0.05 * shape.max(1.0),
                "shape {shape}: var {var}"
            );
        }
    }
}
