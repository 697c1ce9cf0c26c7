/*!
Distances between two samples' vectors, for the places that compare a few pairs at a time (a
sample against a reference population, a point against its group's centre). The all-pairs
matrices of `gutjoint beta` have their own blocked kernels in ecology's `pairwise` and `beta`
modules, tuned for whole cohorts; these are the plain definitions.
*/

/// Euclidean distance `√Σ (a_k - b_k)²`, summed in order (the same bits on every platform).
pub fn euclidean(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// Bray–Curtis dissimilarity `Σ|a - b| / Σ(a + b)` between two sparse rows of `(key, value)`
/// pairs sorted by key (a key missing from one row is a zero there); 0 when both are empty.
pub fn braycurtis_sparse(a: &[(u32, f64)], b: &[(u32, f64)]) -> f64 {
    let (mut i, mut j) = (0, 0);
    let (mut diff, mut sum) = (0.0, 0.0);
    while i < a.len() || j < b.len() {
        let ka = a.get(i).map_or(u32::MAX, |p| p.0);
        let kb = b.get(j).map_or(u32::MAX, |p| p.0);
        if ka == kb {
            diff += (a[i].1 - b[j].1).abs();
            sum += a[i].1 + b[j].1;
            i += 1;
            j += 1;
        } else if ka < kb {
            diff += a[i].1;
            sum += a[i].1;
            i += 1;
        } else {
            diff += b[j].1;
            sum += b[j].1;
            j += 1;
        }
    }
    if sum > 0.0 { diff / sum } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn euclidean_by_hand() {
        // A 3-4-5 right triangle.
        assert_eq!(euclidean(&[0.0, 0.0], &[3.0, 4.0]), 5.0);
        assert_eq!(euclidean(&[], &[]), 0.0);
    }

    #[test]
    fn braycurtis_by_hand() {
        // a = (0.5, 0.5, 0), b = (0, 0.25, 0.75): Σ|a-b| = 0.5 + 0.25 + 0.75 = 1.5, Σ(a+b) = 2,
        // so 0.75 — scipy.spatial.distance.braycurtis([.5,.5,0],[0,.25,.75]) = 0.75.
        let a = [(0, 0.5), (1, 0.5)];
        let b = [(1, 0.25), (2, 0.75)];
        assert_eq!(braycurtis_sparse(&a, &b), 0.75);
        assert_eq!(braycurtis_sparse(&b, &a), 0.75);
        assert_eq!(braycurtis_sparse(&a, &a), 0.0);
        assert_eq!(braycurtis_sparse(&[], &[]), 0.0);
    }
}
