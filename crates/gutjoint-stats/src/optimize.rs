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
