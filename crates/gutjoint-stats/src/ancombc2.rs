/*!
ANCOM-BC2 (Lin & Peddada 2024, Nat Methods 21:83, doi:10.1038/s41592-023-02092-7) as
scikit-bio 0.7.4's `skbio.stats.composition.ancombc2` computes it on a table with a
pseudocount (its dense route).

Why a second ANCOM-BC: ANCOM-BC subtracts a per-term bias from every coefficient but keeps the
per-sample sampling fractions inside the residuals. ANCOM-BC2 estimates each sample's sampling
fraction explicitly, removes it from the data and fits again, so the standard errors no longer
carry the spread of library sizes, and it widens them by the uncertainty of the bias and a
small variance floor so rare features with tiny residuals are not called on that alone.

The steps, on `y = ln(value + pseudocount)` centred per feature over the samples:
1. Per feature, least squares `β̂⁰ = (XᵀX)⁻¹Xᵀy`; the residuals, centred per sample by their
   mean over features θ̂⁰, give sandwich variances (as [`crate::ancombc`]).
2. Per term, the bias δ̂ by the same EM as ANCOM-BC (one implementation:
   [`crate::ancombc::estimate_bias`]), with the variance of its WLS estimate, Var(δ̂).
3. Per sample, the sampling fraction θ̂ᵢ = mean over features of `yᵢ − xᵢβ̂⁰ + xᵢδ̂`; the data
   become `y − θ̂`.
4. Refit: `β̂ = (XᵀX)⁻¹Xᵀ(y − θ̂)` (now the bias-corrected natural-log fold change), sandwich
   variances from the uncentred residuals.
5. Variance adjustment: `Var = (√Var + √Var(δ̂))²`, then plus the `var_quantile` (0.05) quantile
   of that term's variances over features (the R package's `s0_perc`).
6. W = β̂ / se, p from Student's t with n − p degrees of freedom (two-sided), q within each term
   across features (Holm by default).

Not here (refused with a message): a pseudocount of 0 on a table with zeros, where scikit-bio
treats zeros as missing and fits each feature on its observed samples (its sparse route), and
random effects: scikit-bio 0.7.4's `ancombc2` has no random-effect argument (the R package's
`rand_formula` has none to compare with on this machine), so `--subject` is refused rather
than answered by an unverified model.
*/

use crate::ancombc::{Bias, design_rows, estimate_bias, quantile};
use crate::da::Coefficient;
use crate::design::Design;
use crate::distributions::t_two_sided;
use crate::error::{Error, Result};
use crate::fdr::{Adjust, adjust};
use crate::ols::Ols;
use gutjoint_table::FeatureTable;
use rayon::prelude::*;
use serde::Serialize;

/// Settings with scikit-bio's defaults.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub max_iter: usize,
    pub tol: f64,
    pub adjust: Adjust,
    /// Quantile of each term's coefficient variances added to every variance (0 disables).
    pub var_quantile: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_iter: 100,
            tol: 1e-5,
            adjust: Adjust::Holm,
            var_quantile: 0.05,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Ancombc2 {
    /// Term by term, features in table order within each term; `estimate` is the
    /// bias-corrected natural-log fold change, `statistic` W = estimate / se.
    pub coefficients: Vec<Coefficient>,
    /// The bias of each term from the first fit.
    pub bias: Vec<Bias>,
    /// The variance floor added to each term (the `var_quantile` quantile), in term order.
    pub variance_floor: Vec<f64>,
    /// Residual degrees of freedom of the t tests (samples − coefficients).
    pub df: f64,
    /// The sampling fraction (log scale) removed from each design row.
    pub sampling_fractions: Vec<f64>,
}

/// Runs ANCOM-BC2 on `ln(value + pseudocount)` of every feature of `table`, over the samples
/// of `design` (whose ids must be in the table).
pub fn ancombc2(
    table: &FeatureTable,
    design: &Design,
    pseudocount: f64,
    options: Options,
) -> Result<Ancombc2> {
    let (n, p, m) = (design.n, design.p, table.n_features());
    if m < 2 {
        return Err(Error::Invalid(format!(
            "ANCOM-BC2 needs at least 2 features to estimate the bias; the table has {m}"
        )));
    }
    if !(pseudocount.is_finite() && pseudocount >= 0.0) {
        return Err(Error::Invalid(format!(
            "the pseudocount must be a finite non-negative number, not {pseudocount}"
        )));
    }
    if !(0.0..=1.0).contains(&options.var_quantile) {
        return Err(Error::Invalid(format!(
            "the variance quantile must be within 0 and 1, not {}",
            options.var_quantile
        )));
    }
    let rows = design_rows(table, design)?;
    let ols = Ols::new(design)?;
    let pinv = ols.pseudo_inverse();
    let x = &design.x;

    // y, feature-major m × n: ln(value + pseudocount), centred per feature.
    let mut y = vec![pseudocount.ln(); m * n];
    for (i, &s) in rows.iter().enumerate() {
        let (features, values) = table.sample(s);
        for (&f, &v) in features.iter().zip(values) {
            y[f as usize * n + i] = (v + pseudocount).ln();
        }
    }
    if let Some(at) = y.iter().position(|v| v.is_infinite()) {
        return Err(Error::Invalid(format!(
            "ANCOM-BC2 takes logarithms: feature '{}' is 0 in sample '{}' and the pseudocount is 0; give a positive pseudocount (scikit-bio's zero-as-missing route is not implemented)",
            table.feature_ids()[at / n],
            design.sample_ids[at % n]
        )));
    }
    y.par_chunks_mut(n).for_each(|row| {
        let mean = row.iter().sum::<f64>() / n as f64;
        row.iter_mut().for_each(|v| *v -= mean);
    });

    // Least squares of every feature: β (m × p) and the residuals (m × n).
    let fit = |y: &[f64]| -> (Vec<f64>, Vec<f64>) {
        let mut beta = vec![0.0; m * p];
        let mut resid = vec![0.0; m * n];
        beta.par_chunks_mut(p)
            .zip(resid.par_chunks_mut(n))
            .enumerate()
            .for_each(|(f, (b, r))| {
                let yf = &y[f * n..(f + 1) * n];
                for j in 0..p {
                    b[j] = (0..n).map(|i| pinv[j * n + i] * yf[i]).sum();
                }
                for i in 0..n {
                    let fitted: f64 = (0..p).map(|j| x[i * p + j] * b[j]).sum();
                    r[i] = yf[i] - fitted;
                }
            });
        (beta, resid)
    };
    // Sandwich variances Σᵢ (rᵢ − cᵢ)² hⱼᵢ² with per-sample centring c (m × p).
    let sandwich = |resid: &[f64], centre: &[f64]| -> Vec<f64> {
        let mut var = vec![0.0; m * p];
        var.par_chunks_mut(p).enumerate().for_each(|(f, v)| {
            let rf = &resid[f * n..(f + 1) * n];
            for j in 0..p {
                v[j] = (0..n)
                    .map(|i| {
                        let e = rf[i] - centre[i];
                        let h = pinv[j * n + i];
                        e * e * h * h
                    })
                    .sum();
            }
        });
        var
    };
    // Mean over features of each sample's value (features summed in table order).
    let feature_mean = |v: &[f64]| -> Vec<f64> {
        let mut mean = vec![0.0; n];
        for f in 0..m {
            for i in 0..n {
                mean[i] += v[f * n + i];
            }
        }
        mean.iter_mut().for_each(|s| *s /= m as f64);
        mean
    };

    // Step 1.
    let (beta0, resid0) = fit(&y);
    let theta0 = feature_mean(&resid0);
    let var0 = sandwich(&resid0, &theta0);
    // Step 2.
    let column = |a: &[f64], j: usize| -> Vec<f64> { (0..m).map(|f| a[f * p + j]).collect() };
    let estimates: Vec<_> = (0..p)
        .into_par_iter()
        .map(|j| {
            estimate_bias(
                &column(&beta0, j),
                &column(&var0, j),
                options.tol,
                options.max_iter,
            )
        })
        .collect();
    let bias: Vec<Bias> = estimates
        .iter()
        .zip(&design.names)
        .map(|(e, term)| Bias {
            term: term.clone(),
            delta_em: e.delta_em,
            delta_wls: e.delta_wls,
            var_delta: e.var_delta,
            em_iterations: e.iterations,
        })
        .collect();
    // Step 3: θ̂ᵢ = mean_f yᵢf − xᵢ·mean_f β̂⁰f + xᵢ·δ̂.
    let mean_beta: Vec<f64> = (0..p)
        .map(|j| (0..m).map(|f| beta0[f * p + j]).sum::<f64>() / m as f64)
        .collect();
    let mut theta = feature_mean(&y);
    for (i, t) in theta.iter_mut().enumerate() {
        let xi = &x[i * p..(i + 1) * p];
        for j in 0..p {
            *t += xi[j] * (estimates[j].delta_em - mean_beta[j]);
        }
    }
    y.par_chunks_mut(n).for_each(|row| {
        row.iter_mut().zip(&theta).for_each(|(v, t)| *v -= t);
    });
    // Step 4.
    let (beta, resid) = fit(&y);
    let mut var = sandwich(&resid, &vec![0.0; n]);
    // Step 5.
    let mut floor = vec![0.0; p];
    for j in 0..p {
        let sd_delta = estimates[j].var_delta.sqrt();
        for f in 0..m {
            let v = &mut var[f * p + j];
            *v = (v.sqrt() + sd_delta).powi(2);
        }
        if options.var_quantile > 0.0 {
            let mut sorted: Vec<f64> = column(&var, j)
                .into_iter()
                .filter(|v| !v.is_nan())
                .collect();
            sorted.sort_by(f64::total_cmp);
            if !sorted.is_empty() {
                floor[j] = quantile(&sorted, options.var_quantile);
            }
        }
        for f in 0..m {
            var[f * p + j] += floor[j];
        }
    }
    // Step 6.
    let df = (n - p) as f64;
    let mut coefficients = Vec::with_capacity(m * p);
    for (j, term) in design.names.iter().enumerate() {
        let estimate = column(&beta, j);
        let se: Vec<f64> = column(&var, j).iter().map(|v| v.sqrt()).collect();
        let w: Vec<f64> = estimate.iter().zip(&se).map(|(e, s)| e / s).collect();
        let pv: Vec<f64> = w.iter().map(|w| t_two_sided(*w, df)).collect();
        let q = adjust(&pv, options.adjust);
        for f in 0..m {
            coefficients.push(Coefficient {
                feature: table.feature_ids()[f].clone(),
                term: term.clone(),
                estimate: estimate[f],
                se: se[f],
                statistic: w[f],
                p: pv[f],
                q: q[f],
            });
        }
    }
    Ok(Ancombc2 {
        coefficients,
        bias,
        variance_floor: floor,
        df,
        sampling_fractions: theta,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gutjoint_table::Location;

    const BASE: [[f64; 6]; 8] = [
        [10.0, 20.0, 30.0, 5.0, 8.0, 40.0],
        [12.0, 18.0, 33.0, 6.0, 7.0, 38.0],
        [9.0, 22.0, 28.0, 4.0, 9.0, 41.0],
        [11.0, 21.0, 31.0, 5.0, 8.0, 39.0],
        [40.0, 19.0, 29.0, 5.0, 8.0, 42.0],
        [38.0, 21.0, 32.0, 6.0, 7.0, 40.0],
        [42.0, 20.0, 30.0, 4.0, 9.0, 37.0],
        [39.0, 23.0, 27.0, 5.0, 8.0, 41.0],
    ];

    /// Eight samples in two groups (a, b), six features; `scale[i]` multiplies sample i.
    fn table(scale: &[f64], zero: Option<(usize, usize)>) -> FeatureTable {
        let mut triplets = Vec::new();
        for (s, row) in BASE.iter().enumerate() {
            for (f, v) in row.iter().enumerate() {
                if zero != Some((s, f)) {
                    triplets.push((s as u32, f as u32, v * scale[s]));
                }
            }
        }
        FeatureTable::from_triplets(
            (0..8).map(|i| format!("s{i}")).collect(),
            (0..6).map(|f| format!("f{f}")).collect(),
            triplets,
            &Location::named("test"),
        )
        .expect("table")
    }

    fn two_groups() -> Design {
        Design {
            names: vec!["Intercept".into(), "group[T.b]".into()],
            x: (0..8)
                .flat_map(|i| [1.0, if i < 4 { 0.0 } else { 1.0 }])
                .collect(),
            n: 8,
            p: 2,
            sample_ids: (0..8).map(|i| format!("s{i}")).collect(),
            dropped: vec![],
            references: Default::default(),
        }
    }

    #[test]
    fn library_size_does_not_move_the_fold_changes() {
        // What ANCOM-BC2 is for: multiplying a sample's values by a constant (a deeper library)
        // only moves its sampling fraction, so with pseudocount 0 on a zero-free table the
        // fold changes and standard errors do not change — up to where the bias EM stops: the
        // scaling shifts every feature's coefficients alike, EM follows the shift and stops
        // within tol = 1e-5 of it (measured: 8.6e-8 on the intercept).
        let d = two_groups();
        let a = table(&[1.0; 8], None);
        let b = table(&[1.0, 5.0, 0.3, 2.0, 7.0, 1.0, 0.5, 3.0], None);
        let ra = ancombc2(&a, &d, 0.0, Options::default()).expect("a");
        let rb = ancombc2(&b, &d, 0.0, Options::default()).expect("b");
        for (x, y) in ra.coefficients.iter().zip(&rb.coefficients) {
            assert!((x.estimate - y.estimate).abs() < 1e-6, "{x:?} vs {y:?}");
            assert!((x.se - y.se).abs() < 1e-6, "{x:?} vs {y:?}");
        }
        // f0 is about 4x higher in group b while the others stay: its log fold change is near
        // ln 4 = 1.386.
        let f0 = ra
            .coefficients
            .iter()
            .find(|c| c.feature == "f0" && c.term == "group[T.b]")
            .expect("f0");
        assert!((f0.estimate - 4f64.ln()).abs() < 0.2, "{f0:?}");
        assert_eq!(ra.df, 6.0);
    }

    #[test]
    fn zeros_without_a_pseudocount_are_refused() {
        let d = two_groups();
        let t = table(&[1.0; 8], Some((3, 2)));
        let msg = ancombc2(&t, &d, 0.0, Options::default())
            .expect_err("zero")
            .to_string();
        assert!(
            msg.contains("'f2'") && msg.contains("'s3'") && msg.contains("pseudocount"),
            "{msg}"
        );
        assert!(ancombc2(&t, &d, 1.0, Options::default()).is_ok());
    }
}
