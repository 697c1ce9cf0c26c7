/*!
Quantiles and the median, by one rule: linear interpolation between order statistics
(Hyndman & Fan 1996, type 7; R's default and NumPy's `method="linear"`). For sorted values
`x[0..n]` and a share `q`, the position is `h = (n - 1) q`, and the quantile lies a fraction
`t = h - ⌊h⌋` of the way from `x[⌊h⌋]` to `x[⌊h⌋ + 1]`.

The interpolation is evaluated as NumPy evaluates it (`numpy/lib/_function_base_impl.py`,
`_lerp`): `a + (b - a) t` when `t < ½`, and `b - (b - a)(1 - t)` otherwise. Both are the same
number on paper; in floating point they can differ in the last bit, and evaluating as NumPy does
makes every quantile equal to the peer's to the bit. The median is the same rule at `q = ½`:
the middle value, or the mean of the two middle values (`(a + b) / 2` is what the lerp gives at
`t = ½` only up to rounding, so the median takes the mean directly, as NumPy's `median` does).
*/

/// The `q` quantile (0 ≤ q ≤ 1) of values sorted ascending; NaN when there are none.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let position = (n - 1) as f64 * q;
    let below = position.floor();
    let lo = (below as usize).min(n - 1);
    let hi = (lo + 1).min(n - 1);
    let t = position - below;
    let (a, b) = (sorted[lo], sorted[hi]);
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// The median of `values` (sorted in place): the middle value, or the mean of the middle two
/// for an even count; NaN when empty.
pub fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_as_numpy() {
        // numpy.quantile([1, 2, 4, 8], [0, 0.125, 0.5, 0.875, 1]) = 1, 1.375, 3, 6.5, 8:
        // h = 3q, so q = 0.125 is 3/8 of the way from 1 to 2, q = 0.875 is 5/8 from 4 to 8.
        let v = [1.0, 2.0, 4.0, 8.0];
        for (q, want) in [
            (0.0, 1.0),
            (0.125, 1.375),
            (0.5, 3.0),
            (0.875, 6.5),
            (1.0, 8.0),
        ] {
            assert_eq!(quantile_sorted(&v, q), want, "q = {q}");
        }
        assert!(quantile_sorted(&[], 0.5).is_nan());
        assert_eq!(quantile_sorted(&[7.0], 0.3), 7.0);
    }

    #[test]
    fn the_upper_half_interpolates_from_the_upper_neighbour() {
        // numpy.quantile([0.2550690257394217, 0.7505041128313626], 0.95) = 0.7257323584767655
        // (NumPy 1.26/2.x): b - (b - a)·0.05, one ulp below a + (b - a)·0.95 = …656.
        let v = [0.2550690257394217, 0.7505041128313626];
        assert_eq!(quantile_sorted(&v, 0.95), 0.7257323584767655);
        assert_ne!(v[0] + (v[1] - v[0]) * 0.95, 0.7257323584767655);
    }

    #[test]
    fn median_by_hand() {
        assert_eq!(median(&mut [5.0, 1.0, 3.0]), 3.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }
}
