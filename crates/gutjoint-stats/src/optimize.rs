/*!
One-dimensional Nelder–Mead minimisation with a lower bound, moving the simplex exactly as
SciPy's `minimize(method="Nelder-Mead", bounds=...)` does (reflection 1, expansion 2,
contraction ½, shrink ½; trial points clipped to the bounds; stop when both the simplex width
and the spread of its function values are within the absolute tolerances, or after 200
evaluations or iterations).

Why a copy of SciPy's moves rather than a better 1-D minimiser (Brent): ANCOM-BC's EM step
fits the variance of each mixture component with this simplex, and scikit-bio's reported
numbers depend on where that simplex stops. Following the same moves from the same starting
simplex is what lets `da --method ancombc` match scikit-bio to 1e-6 and beyond.
*/

/// Absolute tolerances and the evaluation budget.
#[derive(Debug, Clone, Copy)]
pub struct NelderMead {
    pub xatol: f64,
    pub fatol: f64,
    /// Maximum function evaluations and iterations (SciPy: 200 × dimension).
    pub max_eval: usize,
}

impl Default for NelderMead {
    fn default() -> Self {
        NelderMead {
            xatol: 1e-4,
            fatol: 1e-4,
            max_eval: 200,
        }
    }
}

const RHO: f64 = 1.0;
const CHI: f64 = 2.0;
const PSI: f64 = 0.5;
const SIGMA: f64 = 0.5;

impl NelderMead {
    /// Minimises `f` over `[lower, ∞)` from `x0`; returns the best vertex.
    pub fn minimize_bounded(&self, mut f: impl FnMut(f64) -> f64, x0: f64, lower: f64) -> f64 {
        let clip = |x: f64| if x < lower { lower } else { x };
        let calls = std::cell::Cell::new(0usize);
        let max_eval = self.max_eval;
        // SciPy's wrapper refuses a call once the budget is spent; the step in progress is
        // then abandoned.
        let mut eval = |x: f64| -> Option<f64> {
            if calls.get() >= max_eval {
                return None;
            }
            calls.set(calls.get() + 1);
            Some(f(x))
        };
        let x0 = clip(x0);
        // The starting simplex: x0 and x0 · 1.05 (or 0.00025 when x0 is zero).
        let x1 = clip(if x0 != 0.0 { 1.05 * x0 } else { 0.00025 });
        let mut sim = [x0, x1];
        let mut fsim = [f64::INFINITY; 2];
        for k in 0..2 {
            match eval(sim[k]) {
                Some(v) => fsim[k] = v,
                None => break,
            }
        }
        sort(&mut sim, &mut fsim);
        let mut iterations = 1usize;
        while calls.get() < max_eval && iterations < max_eval {
            if (sim[1] - sim[0]).abs() <= self.xatol && (fsim[0] - fsim[1]).abs() <= self.fatol {
                break;
            }
            // With one dimension the centroid of all but the worst vertex is the best vertex.
            let xbar = sim[0];
            let step = (|| {
                let xr = clip((1.0 + RHO) * xbar - RHO * sim[1]);
                let fxr = eval(xr)?;
                if fxr < fsim[0] {
                    let xe = clip((1.0 + RHO * CHI) * xbar - RHO * CHI * sim[1]);
                    let fxe = eval(xe)?;
                    if fxe < fxr {
                        sim[1] = xe;
                        fsim[1] = fxe;
                    } else {
                        sim[1] = xr;
                        fsim[1] = fxr;
                    }
                    return Some(());
                }
                // fsim[0] ≤ fxr; with one dimension the second-worst vertex is the best one,
                // so a plain reflection is never kept: contract.
                let shrink = if fxr < fsim[1] {
                    let xc = clip((1.0 + PSI * RHO) * xbar - PSI * RHO * sim[1]);
                    let fxc = eval(xc)?;
                    if fxc <= fxr {
                        sim[1] = xc;
                        fsim[1] = fxc;
                        false
                    } else {
                        true
                    }
                } else {
                    let xcc = clip((1.0 - PSI) * xbar + PSI * sim[1]);
                    let fxcc = eval(xcc)?;
                    if fxcc < fsim[1] {
                        sim[1] = xcc;
                        fsim[1] = fxcc;
                        false
                    } else {
                        true
                    }
                };
                if shrink {
                    sim[1] = clip(sim[0] + SIGMA * (sim[1] - sim[0]));
                    fsim[1] = eval(sim[1])?;
                }
                Some(())
            })();
            if step.is_some() {
                iterations += 1;
            }
            sort(&mut sim, &mut fsim);
        }
        sim[0]
    }
}

/// Orders the two vertices by function value; ties keep their order (NumPy's argsort on two
/// elements is stable).
fn sort(sim: &mut [f64; 2], fsim: &mut [f64; 2]) {
    if fsim[1] < fsim[0] || (fsim[0].is_nan() && !fsim[1].is_nan()) {
        sim.swap(0, 1);
        fsim.swap(0, 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_a_parabola() {
        // (x − 3)² from x0 = 1: the minimum is 3, within the tolerance.
        let nm = NelderMead {
            xatol: 1e-10,
            fatol: 1e-12,
            max_eval: 200,
        };
        let x = nm.minimize_bounded(|x| (x - 3.0) * (x - 3.0), 1.0, 0.0);
        assert!((x - 3.0).abs() < 1e-6, "{x}");
    }

    #[test]
    fn stops_at_the_lower_bound() {
        // (x + 2)² has its minimum at −2; over [0, ∞) the answer is the bound.
        let nm = NelderMead::default();
        assert_eq!(
            nm.minimize_bounded(|x| (x + 2.0) * (x + 2.0), 1.0, 0.0),
            0.0
        );
    }

    #[test]
    fn same_moves_as_scipy() {
        // Each case: scipy 1.17 `minimize(f, [x0], method="Nelder-Mead", bounds=[(0, None)],
        // options=...)` → its `x` and `nfev`, asserted bit for bit.
        let counted = |nm: NelderMead, f: fn(f64) -> f64, x0: f64| {
            let mut n = 0;
            let x = nm.minimize_bounded(
                |x| {
                    n += 1;
                    f(x)
                },
                x0,
                0.0,
            );
            (x, n)
        };
        let tight = NelderMead {
            xatol: 1e-8,
            fatol: 1e-8,
            max_eval: 200,
        };
        // (x − 0.3)² + 0.1·√|x − 0.3| from 2.0, tolerances 1e-8 → 0.2999999999999985, 100 calls.
        let kinked = |x: f64| (x - 0.3) * (x - 0.3) + 0.1 * (x - 0.3).abs().sqrt();
        assert_eq!(counted(tight, kinked, 2.0), (0.299_999_999_999_998_5, 100));
        // (x + 2)² from 1.0, tolerances 1e-8 → the bound 0.0 after 12 calls.
        assert_eq!(counted(tight, |x| (x + 2.0) * (x + 2.0), 1.0), (0.0, 12));
        // (x − 0.7)⁴ from 0.0 (the 0.00025 starting step), default tolerances
        // → 0.7000000000000007, 48 calls.
        let quartic = |x: f64| (x - 0.7f64).powf(4.0);
        assert_eq!(
            counted(NelderMead::default(), quartic, 0.0),
            (0.700_000_000_000_000_7, 48)
        );
    }
}

/// Brent's minimiser on `[a, b]` (golden-section steps with parabolic interpolation; Brent
/// 1973, ch. 5): returns the abscissa of the smallest value found once the bracket is within
/// `tol · |x| + 1e-12` of it. Used for the one-parameter REML profile of the mixed models,
/// where the answer must be exact to far below the peers' reporting precision.
pub fn brent(mut f: impl FnMut(f64) -> f64, a: f64, b: f64, tol: f64) -> (f64, f64) {
    const GOLD: f64 = 0.381_966_011_250_105_1;
    let (mut a, mut b) = (a.min(b), a.max(b));
    let mut x = a + GOLD * (b - a);
    let (mut w, mut v) = (x, x);
    let mut fx = f(x);
    let (mut fw, mut fv) = (fx, fx);
    let (mut d, mut e) = (0.0f64, 0.0f64);
    for _ in 0..500 {
        let m = 0.5 * (a + b);
        let tol1 = tol * x.abs() + 1e-12;
        let tol2 = 2.0 * tol1;
        if (x - m).abs() <= tol2 - 0.5 * (b - a) {
            break;
        }
        let mut golden = true;
        if e.abs() > tol1 {
            // Parabola through x, w, v.
            let r = (x - w) * (fx - fv);
            let mut q = (x - v) * (fx - fw);
            let mut p = (x - v) * q - (x - w) * r;
            q = 2.0 * (q - r);
            if q > 0.0 {
                p = -p;
            }
            q = q.abs();
            if p.abs() < (0.5 * q * e).abs() && p > q * (a - x) && p < q * (b - x) {
                e = d;
                d = p / q;
                let u = x + d;
                if u - a < tol2 || b - u < tol2 {
                    d = if m >= x { tol1 } else { -tol1 };
                }
                golden = false;
            }
        }
        if golden {
            e = if x >= m { a - x } else { b - x };
            d = GOLD * e;
        }
        let u = if d.abs() >= tol1 {
            x + d
        } else {
            x + tol1.copysign(d)
        };
        let fu = f(u);
        if fu <= fx {
            if u >= x {
                a = x;
            } else {
                b = x;
            }
            (v, fv, w, fw, x, fx) = (w, fw, x, fx, u, fu);
        } else {
            if u < x {
                a = u;
            } else {
                b = u;
            }
            if fu <= fw || w == x {
                (v, fv, w, fw) = (w, fw, u, fu);
            } else if fu <= fv || v == x || v == w {
                (v, fv) = (u, fu);
            }
        }
    }
    (x, fx)
}

/// Nelder–Mead simplex in any dimension, unbounded (Lagarias et al. 1998 moves: reflection 1,
/// expansion 2, contraction ½, shrink ½), restarted from its best vertex until a restart no
/// longer improves: for the few covariance parameters of a random-slope mixed model, whose
/// REML profile is smooth and cheap to evaluate.
pub fn nelder_mead(
    mut f: impl FnMut(&[f64]) -> f64,
    x0: &[f64],
    step: f64,
    tol: f64,
    max_eval: usize,
) -> (Vec<f64>, f64) {
    let k = x0.len();
    let mut best = x0.to_vec();
    let mut fbest = f(&best);
    let mut evals = 1usize;
    for _restart in 0..20 {
        let mut sim: Vec<Vec<f64>> = vec![best.clone()];
        for i in 0..k {
            let mut v = best.clone();
            v[i] += if v[i].abs() > 1e-3 {
                step * v[i].abs()
            } else {
                step
            };
            sim.push(v);
        }
        let mut fs: Vec<f64> = sim.iter().map(|v| f(v)).collect();
        evals += k;
        loop {
            let mut order: Vec<usize> = (0..=k).collect();
            order.sort_by(|a, b| fs[*a].total_cmp(&fs[*b]));
            sim = order.iter().map(|&i| sim[i].clone()).collect();
            fs = order.iter().map(|&i| fs[i]).collect();
            let spread = (fs[k] - fs[0]).abs();
            let width = sim[1..]
                .iter()
                .flat_map(|v| v.iter().zip(&sim[0]).map(|(a, b)| (a - b).abs()))
                .fold(0.0f64, f64::max);
            if (spread <= tol * (1.0 + fs[0].abs()) && width <= tol.sqrt()) || evals >= max_eval {
                break;
            }
            let centroid: Vec<f64> = (0..k)
                .map(|j| sim[..k].iter().map(|v| v[j]).sum::<f64>() / k as f64)
                .collect();
            let along = |t: f64| -> Vec<f64> {
                centroid
                    .iter()
                    .zip(&sim[k])
                    .map(|(c, w)| c + t * (c - w))
                    .collect()
            };
            let xr = along(1.0);
            let fr = f(&xr);
            evals += 1;
            if fr < fs[0] {
                let xe = along(2.0);
                let fe = f(&xe);
                evals += 1;
                if fe < fr {
                    (sim[k], fs[k]) = (xe, fe);
                } else {
                    (sim[k], fs[k]) = (xr, fr);
                }
            } else if fr < fs[k - 1] {
                (sim[k], fs[k]) = (xr, fr);
            } else {
                let (xc, fc) = if fr < fs[k] {
                    let xc = along(0.5);
                    let fc = f(&xc);
                    (xc, fc)
                } else {
                    let xc = along(-0.5);
                    let fc = f(&xc);
                    (xc, fc)
                };
                evals += 1;
                if fc < fs[k].min(fr) {
                    (sim[k], fs[k]) = (xc, fc);
                } else {
                    for i in 1..=k {
                        let v: Vec<f64> = sim[0]
                            .iter()
                            .zip(&sim[i])
                            .map(|(b, x)| b + 0.5 * (x - b))
                            .collect();
                        fs[i] = f(&v);
                        sim[i] = v;
                    }
                    evals += k;
                }
            }
        }
        let improved = fs[0] < fbest - tol * (1.0 + fbest.abs());
        if fs[0] < fbest {
            best = sim[0].clone();
            fbest = fs[0];
        }
        if !improved || evals >= max_eval {
            break;
        }
    }
    (best, fbest)
}

#[cfg(test)]
mod brent_tests {
    use super::*;

    #[test]
    fn brent_finds_interior_and_boundary_minima() {
        // (x − 0.7)² + 1 on [0, 5]: the minimum 0.7 to the tolerance.
        let (x, fx) = brent(|x| (x - 0.7) * (x - 0.7) + 1.0, 0.0, 5.0, 1e-10);
        assert!((x - 0.7).abs() < 1e-8, "{x}");
        assert!((fx - 1.0).abs() < 1e-15);
        // ln-shaped x − ln x has its minimum at 1.
        let (x, _) = brent(|x| x - x.ln(), 0.01, 20.0, 1e-10);
        assert!((x - 1.0).abs() < 1e-7, "{x}");
        // Increasing on the interval: Brent ends at the lower edge.
        let (x, _) = brent(|x| x * x, 0.0, 3.0, 1e-10);
        assert!(x < 1e-8, "{x}");
    }

    #[test]
    fn simplex_finds_the_rosenbrock_valley_floor() {
        // Rosenbrock's banana, minimum at (1, 1), from the textbook start (−1.2, 1).
        let rosen = |v: &[f64]| 100.0 * (v[1] - v[0] * v[0]).powi(2) + (1.0 - v[0]).powi(2);
        let (x, fx) = nelder_mead(rosen, &[-1.2, 1.0], 0.1, 1e-14, 20_000);
        assert!(
            (x[0] - 1.0).abs() < 1e-5 && (x[1] - 1.0).abs() < 1e-5,
            "{x:?}"
        );
        assert!(fx < 1e-10);
    }
}
