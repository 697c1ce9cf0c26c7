/*!
Elastic-net regression for the prediction room: a penalised linear model (continuous outcome)
and a penalised logistic model (binary outcome), in scikit-learn's parametrisation so the
numbers can be checked against it.

Objectives, with `n` samples, mixing `ρ = l1_ratio`, strength `α` and a per-feature penalty
factor `fⱼ` (1 for every feature unless the caller leaves some unpenalised, e.g. the clinical
covariates of a combined model):

- Gaussian, as `sklearn.linear_model.ElasticNet`:
  `(1/2n) Σ (yᵢ − b − xᵢ·w)² + α Σ fⱼ (ρ|wⱼ| + ½(1−ρ) wⱼ²)`.
- Binomial, as `LogisticRegression(penalty="elasticnet", C, l1_ratio)` (whose objective is
  `C Σ logloss + ρ‖w‖₁ + ½(1−ρ)‖w‖²`, i.e. the same problem with `α = 1 / (C n)`):
  `(1/n) Σ [log(1 + e^{ηᵢ}) − yᵢ ηᵢ] + α Σ fⱼ (ρ|wⱼ| + ½(1−ρ) wⱼ²)`, `ηᵢ = b + xᵢ·w`.

The intercept `b` is never penalised. Solved by cyclic coordinate descent (Friedman, Hastie &
Tibshirani 2010, J Stat Softw 33:1): exactly for the Gaussian model, and inside proximal Newton
steps (iteratively reweighted least squares with a backtracking line search on the true
objective) for the logistic one, with an active set (sweep the nonzero coefficients until they
settle, then one full sweep to confirm) and warm starts along a path of α values.
*/

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    Gaussian,
    Binomial,
}

/// One point of the hyper-parameter grid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Penalty {
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub alpha: f64,
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub l1_ratio: f64,
}

/// Intercept and coefficients on the scale of the columns the model was fitted on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElasticNetFit {
    pub intercept: f64,
    pub coefficients: Vec<f64>,
}

impl ElasticNetFit {
    /// Linear predictor of one row.
    pub fn linear_predictor(&self, row: &[f64]) -> f64 {
        self.intercept
            + row
                .iter()
                .zip(&self.coefficients)
                .map(|(a, b)| a * b)
                .sum::<f64>()
    }

    /// Predicted mean of one row: the value (Gaussian) or the probability (binomial).
    pub fn predict(&self, family: Family, row: &[f64]) -> f64 {
        let eta = self.linear_predictor(row);
        match family {
            Family::Gaussian => eta,
            Family::Binomial => sigmoid(eta),
        }
    }
}

pub(crate) fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// log(1 + e^η) without overflow.
fn softplus(eta: f64) -> f64 {
    if eta > 0.0 {
        eta + (-eta).exp().ln_1p()
    } else {
        eta.exp().ln_1p()
    }
}

/// A design matrix prepared once for many fits: columns centred (the intercept absorbs the
/// means, which keeps coordinate descent well conditioned) and stored column-major.
#[derive(Debug, Clone)]
pub struct Design {
    n: usize,
    p: usize,
    columns: Vec<f64>,
    means: Vec<f64>,
}

impl Design {
    /// From a row-major `n × p` matrix.
    pub fn new(x: &[f64], n: usize, p: usize) -> Result<Design> {
        if x.len() != n * p {
            return Err(Error::Invalid(format!(
                "design: expected {n} × {p} = {} values, found {}",
                n * p,
                x.len()
            )));
        }
        if let Some(k) = x.iter().position(|v| !v.is_finite()) {
            return Err(Error::Invalid(format!(
                "design: value at row {}, column {} is not finite",
                k / p.max(1),
                k % p.max(1)
            )));
        }
        let mut columns = vec![0.0; n * p];
        let mut means = vec![0.0; p];
        for j in 0..p {
            let col = &mut columns[j * n..(j + 1) * n];
            for (i, c) in col.iter_mut().enumerate() {
                *c = x[i * p + j];
            }
            let m = col.iter().sum::<f64>() / n as f64;
            col.iter_mut().for_each(|v| *v -= m);
            means[j] = m;
        }
        Ok(Design {
            n,
            p,
            columns,
            means,
        })
    }

    fn column(&self, j: usize) -> &[f64] {
        &self.columns[j * self.n..(j + 1) * self.n]
    }

    /// `offset + X_c·w` for every row, on the centred columns (zeros in `w` skipped).
    fn centred_predictor(&self, offset: f64, w: &[f64]) -> Vec<f64> {
        let mut eta = vec![offset; self.n];
        for (j, wj) in w.iter().enumerate() {
            if *wj != 0.0 {
                eta.iter_mut()
                    .zip(self.column(j))
                    .for_each(|(e, x)| *e += wj * x);
            }
        }
        eta
    }

    /// The smallest α at which every penalised coefficient is zero: the largest gradient of the
    /// loss at the fit of the unpenalised columns alone (the intercept, and any columns with
    /// penalty factor 0). For `l1_ratio` below 0.001 the mixing is taken as 0.001, as glmnet
    /// does, so the path stays finite.
    pub fn alpha_max(
        &self,
        y: &[f64],
        family: Family,
        l1_ratio: f64,
        factors: Option<&[f64]>,
    ) -> Result<f64> {
        let rho = l1_ratio.max(1e-3);
        let free = factors.is_some_and(|f| f.contains(&0.0));
        let fitted: Vec<f64> = if free {
            // An α so large that the L1 term holds every penalised coefficient at zero.
            let base = fit(
                self,
                y,
                family,
                Penalty {
                    alpha: 1e12,
                    l1_ratio: 1.0,
                },
                factors,
                None,
                Tolerance::default(),
            )?;
            let shift: f64 = self
                .means
                .iter()
                .zip(&base.coefficients)
                .map(|(m, c)| m * c)
                .sum();
            self.centred_predictor(base.intercept + shift, &base.coefficients)
                .into_iter()
                .map(|eta| match family {
                    Family::Gaussian => eta,
                    Family::Binomial => sigmoid(eta),
                })
                .collect()
        } else {
            vec![y.iter().sum::<f64>() / self.n as f64; self.n]
        };
        Ok((0..self.p)
            .filter_map(|j| {
                let f = factors.map_or(1.0, |f| f[j]);
                (f > 0.0).then(|| {
                    let g: f64 = self
                        .column(j)
                        .iter()
                        .zip(y.iter().zip(&fitted))
                        .map(|(x, (y, m))| x * (y - m))
                        .sum();
                    g.abs() / (self.n as f64 * rho * f)
                })
            })
            .fold(0.0, f64::max))
    }
}

/// Solver tolerances: coordinate descent stops when no coefficient moves by more than `tol`
/// (scaled by its column's weighted norm); Newton steps stop when the objective changes by less
/// than `tol` relative.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tolerance {
    pub tol: f64,
    pub max_iterations: usize,
}

impl Default for Tolerance {
    fn default() -> Self {
        Tolerance {
            tol: 1e-7,
            max_iterations: 10_000,
        }
    }
}

/// Fits one elastic-net model. `start` warm-starts from a fit at a nearby α (same columns);
/// `factors` are per-feature penalty factors (default all 1). `y` is 0/1 for the binomial family.
pub fn fit(
    design: &Design,
    y: &[f64],
    family: Family,
    penalty: Penalty,
    factors: Option<&[f64]>,
    start: Option<&ElasticNetFit>,
    tolerance: Tolerance,
) -> Result<ElasticNetFit> {
    let (n, p) = (design.n, design.p);
    if y.len() != n {
        return Err(Error::Invalid(format!(
            "elastic net: {} outcomes for {n} rows",
            y.len()
        )));
    }
    if penalty.alpha.is_nan() || penalty.alpha < 0.0 || !(0.0..=1.0).contains(&penalty.l1_ratio) {
        return Err(Error::Invalid(format!(
            "elastic net: alpha must be ≥ 0 and l1_ratio in [0, 1], got {} and {}",
            penalty.alpha, penalty.l1_ratio
        )));
    }
    if family == Family::Binomial && y.iter().any(|v| *v != 0.0 && *v != 1.0) {
        return Err(Error::Invalid(
            "elastic net: a binomial outcome must be 0 or 1".into(),
        ));
    }
    let factor = |j: usize| factors.map_or(1.0, |f| f[j]);
    let l1: Vec<f64> = (0..p)
        .map(|j| penalty.alpha * penalty.l1_ratio * factor(j))
        .collect();
    let l2: Vec<f64> = (0..p)
        .map(|j| penalty.alpha * (1.0 - penalty.l1_ratio) * factor(j))
        .collect();
    // Coefficients on the centred columns; the centred intercept `b` is converted back at the end.
    let mut w = vec![0.0; p];
    let mut b = match family {
        Family::Gaussian => y.iter().sum::<f64>() / n as f64,
        Family::Binomial => {
            let m = (y.iter().sum::<f64>() / n as f64).clamp(1e-6, 1.0 - 1e-6);
            (m / (1.0 - m)).ln()
        }
    };
    if let Some(s) = start {
        w.copy_from_slice(&s.coefficients);
        b = s.intercept + design.means.iter().zip(&w).map(|(m, c)| m * c).sum::<f64>();
    }
    let mut eta = design.centred_predictor(b, &w);
    let penalty_value = |w: &[f64]| -> f64 {
        w.iter()
            .enumerate()
            .map(|(j, c)| l1[j] * c.abs() + 0.5 * l2[j] * c * c)
            .sum()
    };
    let objective = |eta: &[f64], w: &[f64]| -> f64 {
        let loss: f64 = match family {
            Family::Gaussian => {
                eta.iter()
                    .zip(y)
                    .map(|(e, y)| (y - e) * (y - e))
                    .sum::<f64>()
                    / (2.0 * n as f64)
            }
            Family::Binomial => {
                eta.iter()
                    .zip(y)
                    .map(|(e, y)| softplus(*e) - y * e)
                    .sum::<f64>()
                    / n as f64
            }
        };
        loss + penalty_value(w)
    };
    let mut value = objective(&eta, &w);
    let mut weights = vec![0.0; n];
    let mut q = vec![0.0; n];
    let mut curvature = vec![0.0; p];
    let newton_steps = match family {
        Family::Gaussian => 1,
        Family::Binomial => 200,
    };
    let mut sweeps = 0usize;
    for _ in 0..newton_steps {
        // Quadratic model of the loss around η: weights Wᵢ and the negative gradient qᵢ.
        for i in 0..n {
            match family {
                Family::Gaussian => {
                    weights[i] = 1.0 / n as f64;
                    q[i] = (y[i] - eta[i]) / n as f64;
                }
                Family::Binomial => {
                    let pr = sigmoid(eta[i]);
                    weights[i] = (pr * (1.0 - pr)).max(1e-5) / n as f64;
                    q[i] = (y[i] - pr) / n as f64;
                }
            }
        }
        for (j, c) in curvature.iter_mut().enumerate() {
            *c = design
                .column(j)
                .iter()
                .zip(&weights)
                .map(|(x, w)| w * x * x)
                .sum();
        }
        let w_sum: f64 = weights.iter().sum();
        // Coordinate descent on the penalised quadratic, in the step (db, dw).
        let mut dw = vec![0.0; p];
        let mut db = 0.0;
        let mut active: Vec<usize> = (0..p).filter(|&j| w[j] != 0.0).collect();
        let mut full = active.is_empty();
        loop {
            sweeps += 1;
            if sweeps > tolerance.max_iterations {
                return Err(Error::Invalid(format!(
                    "elastic net did not converge in {} coordinate sweeps (alpha {}, l1_ratio {})",
                    tolerance.max_iterations, penalty.alpha, penalty.l1_ratio
                )));
            }
            let mut moved = 0.0f64;
            let mut update = |j: usize, dw: &mut [f64], q: &mut [f64]| {
                let a = curvature[j];
                if a <= 0.0 {
                    return;
                }
                let xj = design.column(j);
                let u = w[j] + dw[j];
                let s = xj.iter().zip(q.iter()).map(|(x, q)| x * q).sum::<f64>() + a * u;
                let next = if s > l1[j] {
                    (s - l1[j]) / (a + l2[j])
                } else if s < -l1[j] {
                    (s + l1[j]) / (a + l2[j])
                } else {
                    0.0
                };
                let change = next - u;
                if change != 0.0 {
                    dw[j] += change;
                    for ((qi, x), wi) in q.iter_mut().zip(xj).zip(&weights) {
                        *qi -= wi * x * change;
                    }
                    moved = moved.max(change.abs() * a.sqrt());
                }
            };
            if full {
                for j in 0..p {
                    update(j, &mut dw, &mut q);
                }
            } else {
                for &j in &active {
                    update(j, &mut dw, &mut q);
                }
            }
            // Intercept (unpenalised).
            let change = q.iter().sum::<f64>() / w_sum;
            if change != 0.0 {
                db += change;
                q.iter_mut()
                    .zip(&weights)
                    .for_each(|(qi, wi)| *qi -= wi * change);
                moved = moved.max(change.abs() * w_sum.sqrt());
            }
            if moved <= tolerance.tol {
                if full {
                    break;
                }
                // Settled on the active set: confirm with a sweep over every coordinate.
                full = true;
            } else if full {
                // Keep sweeping only what is nonzero until it settles.
                active = (0..p).filter(|&j| w[j] + dw[j] != 0.0).collect();
                full = active.is_empty();
            }
        }
        // Step along (db, dw): exact for the Gaussian model, backtracked for the logistic one.
        let xd = design.centred_predictor(db, &dw);
        if family == Family::Gaussian {
            w.iter_mut().zip(&dw).for_each(|(a, d)| *a += d);
            b += db;
            break;
        }
        let mut t = 1.0;
        let mut accepted = false;
        for _ in 0..40 {
            let trial_w: Vec<f64> = w.iter().zip(&dw).map(|(a, d)| a + t * d).collect();
            let trial_eta: Vec<f64> = eta.iter().zip(&xd).map(|(e, v)| e + t * v).collect();
            let trial_value = objective(&trial_eta, &trial_w);
            if trial_value <= value + 1e-15 * value.abs() {
                let change = value - trial_value;
                w = trial_w;
                eta = trial_eta;
                b += t * db;
                value = trial_value;
                accepted = true;
                let step = dw
                    .iter()
                    .map(|d| (t * d).abs())
                    .fold((t * db).abs(), f64::max);
                if change <= tolerance.tol * 1e-3 * value.abs().max(1e-12) && step < tolerance.tol {
                    return Ok(finish(design, b, w));
                }
                break;
            }
            t *= 0.5;
        }
        if !accepted {
            break; // no descent left at machine precision: at the optimum
        }
    }
    Ok(finish(design, b, w))
}

/// Converts the centred-design intercept back to the original columns.
fn finish(design: &Design, b: f64, w: Vec<f64>) -> ElasticNetFit {
    let shift: f64 = design.means.iter().zip(&w).map(|(m, c)| m * c).sum();
    ElasticNetFit {
        intercept: b - shift,
        coefficients: w,
    }
}

/// Fits every α of `alphas` (any order; fitted from the largest down with warm starts) at one
/// `l1_ratio`; returns the fits in the order of `alphas`.
pub fn fit_path(
    design: &Design,
    y: &[f64],
    family: Family,
    alphas: &[f64],
    l1_ratio: f64,
    factors: Option<&[f64]>,
    tolerance: Tolerance,
) -> Result<Vec<ElasticNetFit>> {
    let mut order: Vec<usize> = (0..alphas.len()).collect();
    order.sort_by(|&a, &b| alphas[b].total_cmp(&alphas[a]));
    let mut fits: Vec<Option<ElasticNetFit>> = vec![None; alphas.len()];
    let mut previous: Option<ElasticNetFit> = None;
    for k in order {
        let f = fit(
            design,
            y,
            family,
            Penalty {
                alpha: alphas[k],
                l1_ratio,
            },
            factors,
            previous.as_ref(),
            tolerance,
        )?;
        previous = Some(f.clone());
        fits[k] = Some(f);
    }
    Ok(fits.into_iter().flatten().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gutjoint_numeric::Rng;

    fn data(n: usize, p: usize, seed: u64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let mut rng = Rng::new(seed);
        let x: Vec<f64> = (0..n * p)
            .map(|_| rng.below(20_001) as f64 / 10_000.0 - 1.0)
            .collect();
        let lin: Vec<f64> = (0..n)
            .map(|i| 1.5 * x[i * p] - x[i * p + 1] + 0.3 + (rng.below(1001) as f64 / 1000.0 - 0.5))
            .collect();
        let yb = lin.iter().map(|v| f64::from(u8::from(*v > 0.3))).collect();
        (x, lin, yb)
    }

    /// Stationarity (KKT) of the elastic-net objective: for every coefficient, the gradient of
    /// the smooth part plus the ridge term equals −l1·sign(w) where w ≠ 0 and lies within
    /// [−l1, l1] where w = 0; the intercept's gradient is zero.
    fn check_kkt(x: &[f64], y: &[f64], n: usize, p: usize, family: Family, pen: Penalty) {
        let d = Design::new(x, n, p).unwrap();
        let f = fit(
            &d,
            y,
            family,
            pen,
            None,
            None,
            Tolerance {
                tol: 1e-12,
                max_iterations: 100_000,
            },
        )
        .unwrap();
        let resid: Vec<f64> = (0..n)
            .map(|i| y[i] - f.predict(family, &x[i * p..(i + 1) * p]))
            .collect();
        assert!(resid.iter().sum::<f64>().abs() / (n as f64) < 1e-9);
        let l1 = pen.alpha * pen.l1_ratio;
        let l2 = pen.alpha * (1.0 - pen.l1_ratio);
        for j in 0..p {
            let g = -(0..n).map(|i| x[i * p + j] * resid[i]).sum::<f64>() / n as f64
                + l2 * f.coefficients[j];
            if f.coefficients[j] == 0.0 {
                assert!(g.abs() <= l1 + 1e-9, "{family:?} j={j} g={g}");
            } else {
                assert!(
                    (g + l1 * f.coefficients[j].signum()).abs() < 1e-8,
                    "{family:?} j={j} g={g}"
                );
            }
        }
    }

    #[test]
    fn optimum_satisfies_kkt_conditions() {
        let (n, p) = (80, 12);
        let (x, yc, yb) = data(n, p, 5);
        for pen in [
            Penalty {
                alpha: 0.05,
                l1_ratio: 0.5,
            },
            Penalty {
                alpha: 0.01,
                l1_ratio: 1.0,
            },
            Penalty {
                alpha: 0.2,
                l1_ratio: 0.0,
            },
        ] {
            check_kkt(&x, &yc, n, p, Family::Gaussian, pen);
            check_kkt(&x, &yb, n, p, Family::Binomial, pen);
        }
    }

    #[test]
    fn alpha_max_zeroes_every_coefficient() {
        let (n, p) = (60, 8);
        let (x, yc, yb) = data(n, p, 9);
        let d = Design::new(&x, n, p).unwrap();
        for (y, fam) in [(&yc, Family::Gaussian), (&yb, Family::Binomial)] {
            let a = d.alpha_max(y, fam, 0.5, None).unwrap();
            let at = |alpha: f64| {
                fit(
                    &d,
                    y,
                    fam,
                    Penalty {
                        alpha,
                        l1_ratio: 0.5,
                    },
                    None,
                    None,
                    Tolerance::default(),
                )
                .unwrap()
            };
            assert!(at(a * 1.0001).coefficients.iter().all(|c| *c == 0.0));
            assert!(at(a * 0.95).coefficients.iter().any(|c| *c != 0.0));
        }
    }

    #[test]
    fn unpenalised_columns_stay_in() {
        let (n, p) = (60, 6);
        let (x, yc, _) = data(n, p, 2);
        let d = Design::new(&x, n, p).unwrap();
        let factors = [0.0, 1.0, 1.0, 1.0, 1.0, 0.0];
        let f = fit(
            &d,
            &yc,
            Family::Gaussian,
            Penalty {
                alpha: 100.0,
                l1_ratio: 1.0,
            },
            Some(&factors),
            None,
            Tolerance::default(),
        )
        .unwrap();
        assert!(f.coefficients[0] != 0.0 && f.coefficients[5] != 0.0);
        assert!(f.coefficients[1..5].iter().all(|c| *c == 0.0));
        // α_max accounts for the unpenalised columns: just above it only they are nonzero.
        for fam in [Family::Gaussian, Family::Binomial] {
            let y: Vec<f64> = match fam {
                Family::Gaussian => yc.clone(),
                Family::Binomial => yc.iter().map(|v| f64::from(u8::from(*v > 0.3))).collect(),
            };
            let a = d.alpha_max(&y, fam, 0.5, Some(&factors)).unwrap();
            let at = |alpha: f64| {
                fit(
                    &d,
                    &y,
                    fam,
                    Penalty {
                        alpha,
                        l1_ratio: 0.5,
                    },
                    Some(&factors),
                    None,
                    Tolerance::default(),
                )
                .unwrap()
            };
            assert!(at(a * 1.0001).coefficients[1..5].iter().all(|c| *c == 0.0));
            assert!(at(a * 0.95).coefficients[1..5].iter().any(|c| *c != 0.0));
        }
    }
}

/// Against scikit-learn 1.9.1 on the same folds and hyper-parameters
/// (tests/data/golden/predict/make_predict_golden.py: GESPIC genus CLR, StandardScaler fitted on
/// each fold's training rows, LogisticRegression(penalty="elasticnet", solver="saga",
/// C = 1/(n·α)) and ElasticNet(α, l1_ratio); the script asserts sklearn reached the optimum).
#[cfg(test)]
mod golden {
    use super::*;

    use crate::metrics::golden::read;

    #[test]
    fn coefficients_match_sklearn_on_the_same_folds() {
        let table = read("en_x.tsv");
        let folds: Vec<usize> = read("en_folds.tsv")
            .iter()
            .map(|r| r[1].parse().unwrap())
            .collect();
        let p = table[0].len() - 3;
        let n = table.len();
        let x: Vec<f64> = table
            .iter()
            .flat_map(|r| r[3..].iter().map(|v| v.parse::<f64>().unwrap()))
            .collect();
        let label: Vec<f64> = table.iter().map(|r| r[1].parse().unwrap()).collect();
        let age: Vec<f64> = table.iter().map(|r| r[2].parse().unwrap()).collect();
        let expected = read("en_coef.tsv");
        let mut checked = 0;
        for k in 0..5 {
            let train: Vec<usize> = (0..n).filter(|&i| folds[i] != k).collect();
            // StandardScaler on the training rows: mean and population standard deviation.
            let mut xs = Vec::new();
            for j in 0..p {
                let m = train.iter().map(|&i| x[i * p + j]).sum::<f64>() / train.len() as f64;
                let sd = (train
                    .iter()
                    .map(|&i| (x[i * p + j] - m).powi(2))
                    .sum::<f64>()
                    / train.len() as f64)
                    .sqrt();
                xs.push((m, sd));
            }
            let xt: Vec<f64> = train
                .iter()
                .flat_map(|&i| (0..p).map(move |j| (i, j)))
                .map(|(i, j)| (x[i * p + j] - xs[j].0) / xs[j].1)
                .collect();
            let design = Design::new(&xt, train.len(), p).unwrap();
            for (model, family, y) in [
                ("logistic", Family::Binomial, &label),
                ("gaussian", Family::Gaussian, &age),
            ] {
                let rows: Vec<&Vec<String>> = expected
                    .iter()
                    .filter(|r| r[0] == k.to_string() && r[1] == model)
                    .collect();
                let mut settings: Vec<(String, String)> =
                    rows.iter().map(|r| (r[2].clone(), r[3].clone())).collect();
                settings.dedup();
                for (a, l) in settings {
                    let pen = Penalty {
                        alpha: a.parse().unwrap(),
                        l1_ratio: l.parse().unwrap(),
                    };
                    let yt: Vec<f64> = train.iter().map(|&i| y[i]).collect();
                    let fit = fit(
                        &design,
                        &yt,
                        family,
                        pen,
                        None,
                        None,
                        Tolerance {
                            tol: 1e-12,
                            max_iterations: 1_000_000,
                        },
                    )
                    .unwrap();
                    let want: Vec<f64> = rows
                        .iter()
                        .filter(|r| r[2] == a && r[3] == l)
                        .map(|r| r[5].parse().unwrap())
                        .collect();
                    assert_eq!(want.len(), p + 1);
                    assert!(
                        (fit.intercept - want[0]).abs() < 1e-4,
                        "{model} fold {k} {pen:?}: intercept {} vs {}",
                        fit.intercept,
                        want[0]
                    );
                    for j in 0..p {
                        let d = (fit.coefficients[j] - want[j + 1]).abs();
                        assert!(
                            d < 1e-4,
                            "{model} fold {k} {pen:?} coefficient {j}: {} vs {}",
                            fit.coefficients[j],
                            want[j + 1]
                        );
                        // Zeros must be zeros on both sides (same selection).
                        assert_eq!(
                            fit.coefficients[j] == 0.0,
                            want[j + 1] == 0.0,
                            "{model} fold {k} coefficient {j}"
                        );
                    }
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 20);
    }
}
