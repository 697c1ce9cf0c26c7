/*!
How good are out-of-fold predictions? The numbers a reviewer asks for beyond the AUC.

Binary outcomes: the Brier score (mean squared error of the probability; `sklearn.metrics.
brier_score_loss`), calibration by logistic recalibration (Cox 1958, Biometrika 45:562): the
slope of `logit P(y) = a + b·logit p̂` (ideal 1; below 1 means predictions too extreme, the
usual sign of overfitting) and the calibration-in-the-large intercept `a` with `b` fixed at 1
(ideal 0); the binned calibration curve of `sklearn.calibration.calibration_curve` (uniform
bins); decision-curve net benefit `TP/n − FP/n · t/(1−t)` at threshold probabilities `t`
(Vickers & Elkin 2006, Med Decis Making 26:565). Probabilities are clipped to [1e-6, 1 − 1e-6]
before the logit so a forest's 0 or 1 stays finite. The paired DeLong test compares two AUCs
on the same samples (DeLong et al. 1988, Biometrics 44:837), from the structural components
of [`crate::classify::delong_components`].

Continuous outcomes: R² (`sklearn.metrics.r2_score`: 1 − SS_res/SS_tot), RMSE and MAE, with
percentile bootstrap confidence intervals over samples, and a paired bootstrap of the
difference in R² between two predictions of the same samples.
*/

use crate::ancombc::quantile;
use crate::classify::delong_components;
use crate::distributions::normal_two_sided;
use crate::elastic_net::{Design, Family, Penalty, Tolerance, fit};
use crate::error::{Error, Result};
use gutjoint_numeric::Rng;
use serde::{Deserialize, Serialize};

/// 97.5th percentile of the standard normal.
const Z975: f64 = 1.959_963_984_540_054;

pub fn brier(probabilities: &[f64], labels: &[bool]) -> f64 {
    probabilities
        .iter()
        .zip(labels)
        .map(|(p, y)| (p - f64::from(u8::from(*y))).powi(2))
        .sum::<f64>()
        / probabilities.len() as f64
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// Calibration-in-the-large: intercept of the logistic model with offset logit(p̂).
    pub intercept: f64,
    /// Slope of logit(p̂) in an unpenalised logistic model.
    pub slope: f64,
}

pub fn calibration(probabilities: &[f64], labels: &[bool]) -> Result<Calibration> {
    let n = probabilities.len();
    let z: Vec<f64> = probabilities.iter().map(|p| logit(*p)).collect();
    let y: Vec<f64> = labels.iter().map(|b| f64::from(u8::from(*b))).collect();
    let design = Design::new(&z, n, 1)?;
    let slope = fit(
        &design,
        &y,
        Family::Binomial,
        Penalty {
            alpha: 0.0,
            l1_ratio: 0.0,
        },
        None,
        None,
        Tolerance {
            tol: 1e-12,
            max_iterations: 100_000,
        },
    )?
    .coefficients[0];
    // Intercept with the offset: Newton's method on one parameter, a concave log-likelihood.
    let mut a = 0.0;
    for _ in 0..100 {
        let (mut g, mut h) = (0.0, 0.0);
        for (zi, yi) in z.iter().zip(&y) {
            let p = crate::elastic_net::sigmoid(a + zi);
            g += yi - p;
            h += p * (1.0 - p);
        }
        if h <= 0.0 {
            break;
        }
        let step = g / h;
        a += step;
        if step.abs() < 1e-14 {
            break;
        }
    }
    Ok(Calibration {
        intercept: a,
        slope,
    })
}

/// One non-empty bin of the calibration curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CalibrationBin {
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub mean_predicted: f64,
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub observed: f64,
    pub count: usize,
}

/// `calibration_curve(y, p, n_bins, strategy="uniform")`: bin edges k/n_bins; a probability on
/// an inner edge falls in the lower bin (NumPy's searchsorted, side "left").
pub fn calibration_curve(
    probabilities: &[f64],
    labels: &[bool],
    bins: usize,
) -> Vec<CalibrationBin> {
    let step = 1.0 / bins as f64;
    let mut sum_p = vec![0.0; bins];
    let mut sum_y = vec![0.0; bins];
    let mut count = vec![0usize; bins];
    for (p, y) in probabilities.iter().zip(labels) {
        let b = (1..bins).filter(|&k| (k as f64 * step) < *p).count();
        sum_p[b] += p;
        sum_y[b] += f64::from(u8::from(*y));
        count[b] += 1;
    }
    (0..bins)
        .filter(|&b| count[b] > 0)
        .map(|b| CalibrationBin {
            mean_predicted: sum_p[b] / count[b] as f64,
            observed: sum_y[b] / count[b] as f64,
            count: count[b],
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NetBenefit {
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub threshold: f64,
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub model: f64,
    /// Treating everyone as positive.
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub treat_all: f64,
}

/// Net benefit of acting on `p ≥ t` at each threshold `t` (treating no one has net benefit 0).
pub fn decision_curve(
    probabilities: &[f64],
    labels: &[bool],
    thresholds: &[f64],
) -> Vec<NetBenefit> {
    let n = labels.len() as f64;
    let events = labels.iter().filter(|b| **b).count() as f64;
    thresholds
        .iter()
        .map(|&t| {
            let odds = t / (1.0 - t);
            let (mut tp, mut fp) = (0.0, 0.0);
            for (p, y) in probabilities.iter().zip(labels) {
                if *p >= t {
                    if *y {
                        tp += 1.0;
                    } else {
                        fp += 1.0;
                    }
                }
            }
            NetBenefit {
                threshold: t,
                model: tp / n - fp / n * odds,
                treat_all: events / n - (n - events) / n * odds,
            }
        })
        .collect()
}

/// One corner of the ROC curve: the share of negatives and of positives scored at or above
/// `threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RocPoint {
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub threshold: f64,
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub false_positive_rate: f64,
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub true_positive_rate: f64,
}

/// The empirical ROC curve of `sklearn.metrics.roc_curve(labels, scores,
/// drop_intermediate=False)`: a first point (0, 0) at threshold +∞, then one point per distinct
/// score from the highest down (tied scores move both rates at once, which is what makes the
/// trapezoids under the curve sum to the AUC with ties counted ½). Needs both classes.
pub fn roc_curve(scores: &[f64], labels: &[bool]) -> Result<Vec<RocPoint>> {
    let positives = labels.iter().filter(|l| **l).count();
    let negatives = labels.len() - positives;
    if positives == 0 || negatives == 0 || scores.len() != labels.len() {
        return Err(Error::Invalid(format!(
            "an ROC curve needs both classes and one score per label ({positives} positive, \
             {negatives} negative, {} scores)",
            scores.len()
        )));
    }
    if let Some(s) = scores.iter().find(|s| s.is_nan()) {
        return Err(Error::Invalid(format!(
            "ROC curve: score {s} is not a number"
        )));
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut curve = vec![RocPoint {
        threshold: f64::INFINITY,
        false_positive_rate: 0.0,
        true_positive_rate: 0.0,
    }];
    let (mut tp, mut fp) = (0usize, 0usize);
    for (k, &i) in order.iter().enumerate() {
        if labels[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        // A point only after the last of a run of tied scores.
        if order.get(k + 1).is_none_or(|&j| scores[j] != scores[i]) {
            curve.push(RocPoint {
                threshold: scores[i],
                false_positive_rate: fp as f64 / negatives as f64,
                true_positive_rate: tp as f64 / positives as f64,
            });
        }
    }
    Ok(curve)
}

/// Paired comparison of two predictions of the same samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Difference {
    /// Second minus first (e.g. combined − clinical).
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub delta: f64,
    #[serde(deserialize_with = "gutjoint_numeric::real::de_pair")]
    #[schemars(with = "[Option<f64>; 2]")]
    pub ci: [f64; 2],
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub p: f64,
    pub method: DifferenceMethod,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceMethod {
    /// DeLong's paired test of two AUCs.
    Delong,
    /// Paired bootstrap of the difference in R².
    PairedBootstrap,
}

/// DeLong's paired test of AUC(b) − AUC(a) on the same labels.
pub fn delong_paired(a: &[f64], b: &[f64], labels: &[bool]) -> Result<Difference> {
    let ca = delong_components(a, labels)?;
    let cb = delong_components(b, labels)?;
    let cov = |x: &[f64], mx: f64, y: &[f64], my: f64| -> f64 {
        if x.len() < 2 {
            return 0.0;
        }
        x.iter()
            .zip(y)
            .map(|(u, v)| (u - mx) * (v - my))
            .sum::<f64>()
            / (x.len() - 1) as f64
    };
    let (m, n) = (ca.v10.len() as f64, ca.v01.len() as f64);
    let var = |va: &[f64], vb: &[f64]| {
        cov(va, ca.auc, va, ca.auc) + cov(vb, cb.auc, vb, cb.auc)
            - 2.0 * cov(va, ca.auc, vb, cb.auc)
    };
    let variance = var(&ca.v10, &cb.v10) / m + var(&ca.v01, &cb.v01) / n;
    let delta = cb.auc - ca.auc;
    let se = variance.max(0.0).sqrt();
    let p = if se > 0.0 {
        normal_two_sided(delta / se)
    } else if delta == 0.0 {
        1.0
    } else {
        0.0
    };
    Ok(Difference {
        delta,
        ci: [delta - Z975 * se, delta + Z975 * se],
        p,
        method: DifferenceMethod::Delong,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Regression {
    pub r2: f64,
    pub rmse: f64,
    pub mae: f64,
}

pub fn regression(predicted: &[f64], observed: &[f64]) -> Regression {
    let n = observed.len() as f64;
    let mean = observed.iter().sum::<f64>() / n;
    let ss_res: f64 = predicted
        .iter()
        .zip(observed)
        .map(|(p, y)| (y - p).powi(2))
        .sum();
    let ss_tot: f64 = observed.iter().map(|y| (y - mean).powi(2)).sum();
    let mae = predicted
        .iter()
        .zip(observed)
        .map(|(p, y)| (y - p).abs())
        .sum::<f64>()
        / n;
    Regression {
        // sklearn's r2_score: 1 for a perfect fit of a constant outcome, 0 otherwise then.
        r2: if ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else if ss_res == 0.0 {
            1.0
        } else {
            0.0
        },
        rmse: (ss_res / n).sqrt(),
        mae,
    }
}

/// Percentile 95% intervals of R², RMSE and MAE over `replicates` bootstrap resamples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RegressionIntervals {
    pub r2_ci: [f64; 2],
    pub rmse_ci: [f64; 2],
    pub mae_ci: [f64; 2],
}

fn interval(mut values: Vec<f64>) -> [f64; 2] {
    values.sort_by(f64::total_cmp);
    [quantile(&values, 0.025), quantile(&values, 0.975)]
}

fn resample(n: usize, rng: &mut Rng) -> Vec<usize> {
    (0..n).map(|_| rng.below(n as u64) as usize).collect()
}

pub fn regression_bootstrap(
    predicted: &[f64],
    observed: &[f64],
    replicates: usize,
    seed: u64,
) -> RegressionIntervals {
    let mut rng = Rng::new(seed);
    let n = observed.len();
    let (mut r2, mut rmse, mut mae) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..replicates {
        let idx = resample(n, &mut rng);
        let p: Vec<f64> = idx.iter().map(|&i| predicted[i]).collect();
        let y: Vec<f64> = idx.iter().map(|&i| observed[i]).collect();
        let r = regression(&p, &y);
        r2.push(r.r2);
        rmse.push(r.rmse);
        mae.push(r.mae);
    }
    RegressionIntervals {
        r2_ci: interval(r2),
        rmse_ci: interval(rmse),
        mae_ci: interval(mae),
    }
}

/// Paired bootstrap of R²(b) − R²(a): the same resampled samples for both predictions; the
/// two-sided p is twice the smaller share of replicates on either side of zero, counted as
/// (hits + 1) / (replicates + 1).
pub fn r2_paired_bootstrap(
    a: &[f64],
    b: &[f64],
    observed: &[f64],
    replicates: usize,
    seed: u64,
) -> Result<Difference> {
    if replicates == 0 {
        return Err(Error::Invalid(
            "a paired bootstrap needs at least one replicate".into(),
        ));
    }
    let mut rng = Rng::new(seed);
    let n = observed.len();
    let delta = regression(b, observed).r2 - regression(a, observed).r2;
    let mut deltas = Vec::with_capacity(replicates);
    for _ in 0..replicates {
        let idx = resample(n, &mut rng);
        let pick = |v: &[f64]| idx.iter().map(|&i| v[i]).collect::<Vec<f64>>();
        let y = pick(observed);
        deltas.push(regression(&pick(b), &y).r2 - regression(&pick(a), &y).r2);
    }
    let below = deltas.iter().filter(|d| **d <= 0.0).count();
    let above = deltas.iter().filter(|d| **d >= 0.0).count();
    let p = (2.0 * (below.min(above) + 1) as f64 / (replicates + 1) as f64).min(1.0);
    Ok(Difference {
        delta,
        ci: interval(deltas),
        p,
        method: DifferenceMethod::PairedBootstrap,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// scikit-learn's documented example (`sklearn.metrics.roc_curve` docstring): y = [1, 1, 2,
    /// 2] with 2 positive, scores [0.1, 0.4, 0.35, 0.8] give fpr [0, 0, 0.5, 0.5, 1], tpr [0,
    /// 0.5, 0.5, 1, 1], thresholds [inf, 0.8, 0.4, 0.35, 0.1].
    #[test]
    fn roc_curve_equals_scikit_learns_example_and_its_area_is_the_auc() {
        let labels = [false, false, true, true];
        let curve = roc_curve(&[0.1, 0.4, 0.35, 0.8], &labels).unwrap();
        let fpr: Vec<f64> = curve.iter().map(|p| p.false_positive_rate).collect();
        let tpr: Vec<f64> = curve.iter().map(|p| p.true_positive_rate).collect();
        let thr: Vec<f64> = curve.iter().map(|p| p.threshold).collect();
        assert_eq!(fpr, [0.0, 0.0, 0.5, 0.5, 1.0]);
        assert_eq!(tpr, [0.0, 0.5, 0.5, 1.0, 1.0]);
        assert_eq!(thr, [f64::INFINITY, 0.8, 0.4, 0.35, 0.1]);
        // Ties: trapezoids under the curve equal the Mann–Whitney AUC with ties counted ½.
        let scores = [0.2, 0.5, 0.5, 0.9, 0.5, 0.1, 0.7, 0.2];
        let labels = [false, true, false, true, true, false, false, true];
        let curve = roc_curve(&scores, &labels).unwrap();
        assert_eq!(curve.len(), 1 + 5, "one point per distinct score");
        let area: f64 = curve
            .windows(2)
            .map(|w| {
                (w[1].false_positive_rate - w[0].false_positive_rate)
                    * (w[1].true_positive_rate + w[0].true_positive_rate)
                    / 2.0
            })
            .sum();
        let auc = crate::classify::roc_auc(&scores, &labels).unwrap().auc;
        assert!((area - auc).abs() < 1e-15, "{area} vs {auc}");
        // By hand: positives {0.5, 0.9, 0.5, 0.2}, negatives {0.2, 0.5, 0.1, 0.7}; pairs won
        // 0.5: 2 + ½; 0.9: 4; 0.5: 2 + ½; 0.2: 1 + ½ (tie) = 10.5 of 16.
        assert_eq!(auc, 10.5 / 16.0);
        assert!(roc_curve(&[0.1, 0.2], &[true, true]).is_err());
    }

    /// Hand-derived: Brier of (0.9, 0.2, 0.6) against (1, 0, 0) = (0.01 + 0.04 + 0.36) / 3.
    #[test]
    fn brier_by_hand() {
        let b = brier(&[0.9, 0.2, 0.6], &[true, false, false]);
        assert!((b - 0.41 / 3.0).abs() < 1e-15);
    }

    /// Perfectly calibrated by construction: when y is drawn from p itself, the recalibration
    /// fitted to the expected counts is the identity. With fractional weights emulated by
    /// replicating each probability 10 times with exactly 10·p positives, intercept 0 and
    /// slope 1 satisfy the score equations exactly.
    #[test]
    fn calibration_of_calibrated_predictions_is_identity() {
        let mut p = Vec::new();
        let mut y = Vec::new();
        for k in 1..10 {
            let q = k as f64 / 10.0;
            for r in 0..10 {
                p.push(q);
                y.push(r < k);
            }
        }
        let c = calibration(&p, &y).unwrap();
        assert!(c.intercept.abs() < 1e-9, "{c:?}");
        assert!((c.slope - 1.0).abs() < 1e-8, "{c:?}");
    }

    /// Hand-derived at t = 0.5: p ≥ 0.5 flags samples 0, 1, 3 (TP 2, FP 1), n = 5:
    /// 2/5 − 1/5 · 1 = 0.2; treating all: 3/5 − 2/5 = 0.2.
    #[test]
    fn net_benefit_by_hand() {
        let d = decision_curve(
            &[0.9, 0.6, 0.2, 0.5, 0.1],
            &[true, true, true, false, false],
            &[0.5],
        );
        assert!((d[0].model - 0.2).abs() < 1e-15);
        assert!((d[0].treat_all - 0.2).abs() < 1e-15);
    }

    #[test]
    fn paired_delong_of_identical_scores_is_null_and_symmetric() {
        let s = [0.9, 0.8, 0.4, 0.5, 0.3, 0.4, 0.7];
        let t = [0.2, 0.9, 0.6, 0.5, 0.1, 0.3, 0.8];
        let y = [true, true, true, false, false, false, true];
        let same = delong_paired(&s, &s, &y).unwrap();
        assert_eq!(same.delta, 0.0);
        assert_eq!(same.p, 1.0);
        let ab = delong_paired(&s, &t, &y).unwrap();
        let ba = delong_paired(&t, &s, &y).unwrap();
        assert!((ab.delta + ba.delta).abs() < 1e-15);
        assert!((ab.p - ba.p).abs() < 1e-15);
    }

    #[test]
    fn r2_rmse_mae_by_hand() {
        // y = (1, 2, 3), ŷ = (1, 2, 4): SS_res 1, SS_tot 2 → R² 0.5; RMSE √(1/3); MAE 1/3.
        let r = regression(&[1.0, 2.0, 4.0], &[1.0, 2.0, 3.0]);
        assert!((r.r2 - 0.5).abs() < 1e-15);
        assert!((r.rmse - (1.0f64 / 3.0).sqrt()).abs() < 1e-15);
        assert!((r.mae - 1.0 / 3.0).abs() < 1e-15);
    }
}

/// Against scikit-learn 1.9.1 / statsmodels 0.15.0 on the fixtures made by
/// tests/data/golden/predict/make_predict_golden.py (out-of-fold probabilities of an elastic-net
/// logistic model on GESPIC genera).
#[cfg(test)]
pub(crate) mod golden {
    use super::*;

    /// Rows (header skipped) of a fixture in tests/data/golden/predict.
    pub(crate) fn read(name: &str) -> Vec<Vec<String>> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/data/golden/predict")
            .join(name);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .lines()
            .skip(1)
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect()
    }

    fn close(a: f64, b: f64, rel: f64, what: &str) {
        assert!(
            (a - b).abs() <= rel * b.abs().max(1e-300),
            "{what}: {a} vs {b}"
        );
    }

    #[test]
    fn brier_calibration_and_curve_match_sklearn_and_statsmodels() {
        let oof = read("en_oof.tsv");
        let y: Vec<bool> = oof.iter().map(|r| r[1] == "1").collect();
        let p: Vec<f64> = oof.iter().map(|r| r[2].parse().unwrap()).collect();
        let expected: std::collections::BTreeMap<String, f64> = read("metrics.tsv")
            .into_iter()
            .map(|r| (r[0].clone(), r[1].parse().unwrap()))
            .collect();
        close(brier(&p, &y), expected["brier"], 1e-12, "brier");
        let c = calibration(&p, &y).unwrap();
        close(c.slope, expected["calibration_slope"], 1e-9, "slope");
        close(
            c.intercept,
            expected["calibration_intercept"],
            1e-9,
            "intercept",
        );
        let curve = calibration_curve(&p, &y, 10);
        let bins = expected.keys().filter(|k| k.ends_with("_observed")).count();
        assert_eq!(curve.len(), bins);
        for (k, b) in curve.iter().enumerate() {
            close(
                b.mean_predicted,
                expected[&format!("curve_{k}_mean_predicted")],
                1e-12,
                "curve p",
            );
            close(
                b.observed,
                expected[&format!("curve_{k}_observed")],
                1e-12,
                "curve y",
            );
        }
    }
}
