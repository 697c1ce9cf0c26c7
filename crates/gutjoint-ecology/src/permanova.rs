/*!
PERMANOVA (Anderson 2001, Austral Ecology 26:32) and PERMDISP (Anderson 2006, Biometrics
62:245), with scikit-bio's statistics and p-value rule `(hits + 1) / (permutations + 1)`, where
a hit is a permuted statistic greater than or equal to the observed one.

PERMANOVA's pseudo-F is `(s_T - s_W)/(g - 1) / (s_W/(n - g))` with `s_T = Σ_{i<j} d²/n` and
`s_W = Σ_groups Σ_{i<j in group} d²/n_group`. Every permutation's `s_W` is exact in f64, all
permutations evaluated together in column panels of the upper triangle ([`crate::within`]), so
999 permutations read the matrix about once instead of 999 times.

PERMDISP compares each group's dispersion: distances of samples to their group's centre in
PCoA space (the spatial median by default, as scikit-bio; or the centroid), then a one-way
ANOVA F on those distances; each permutation recomputes the centres.
*/

use crate::error::{Error, Result};
use crate::pcoa::pcoa;
use crate::rng::Rng;
use gutjoint_numeric::euclidean;
use gutjoint_table::DistanceMatrix;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Result of a permutation test, with scikit-bio's keys. It is written and read back as it
/// is (the `permanova --json` output, and the PERMANOVA and PERMDISP of `results.json`, which
/// reuses this type), so its fields are owned and a NaN statistic reads back from `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PermutationTest {
    pub method: PermutationMethod,
    /// `pseudo-F` (PERMANOVA) or `F-value` (PERMDISP), scikit-bio's names.
    pub test_statistic_name: String,
    pub sample_size: usize,
    pub number_of_groups: usize,
    #[serde(deserialize_with = "gutjoint_numeric::real::de")]
    #[schemars(with = "Option<f64>")]
    pub test_statistic: f64,
    /// `None` when no permutations were run (scikit-bio reports NaN).
    pub p_value: Option<f64>,
    pub permutations: usize,
}

/// The permutation tests, by scikit-bio's method names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum PermutationMethod {
    #[serde(rename = "PERMANOVA")]
    Permanova,
    #[serde(rename = "PERMDISP")]
    Permdisp,
}

impl PermutationMethod {
    pub fn name(self) -> &'static str {
        match self {
            PermutationMethod::Permanova => "PERMANOVA",
            PermutationMethod::Permdisp => "PERMDISP",
        }
    }
}

impl std::fmt::Display for PermutationMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Group labels as indices `0..g`, with the group names.
#[derive(Debug, Clone)]
pub struct Grouping {
    pub labels: Vec<usize>,
    pub names: Vec<String>,
}

impl Grouping {
    /// Builds labels from one value per sample (names sorted, as scikit-bio's `np.unique`).
    pub fn from_values(values: &[String]) -> Grouping {
        let mut names: Vec<String> = values.to_vec();
        names.sort();
        names.dedup();
        let labels = values
            .iter()
            .map(|v| names.binary_search(v).unwrap_or(0))
            .collect();
        Grouping { labels, names }
    }
    pub(crate) fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0; self.names.len()];
        for &l in &self.labels {
            sizes[l] += 1;
        }
        sizes
    }
}

fn check(dm: &DistanceMatrix, grouping: &Grouping) -> Result<()> {
    check_groups(dm.len(), grouping)
}

/// The grouping of `n` samples can be tested: one label per sample, two groups or more, and
/// at least one group with two samples.
pub(crate) fn check_groups(n: usize, grouping: &Grouping) -> Result<()> {
    let g = grouping.names.len();
    if grouping.labels.len() != n {
        return Err(Error::Invalid(format!(
            "{} group labels for {n} samples",
            grouping.labels.len()
        )));
    }
    if g < 2 {
        return Err(Error::Invalid(format!(
            "the grouping has {g} group; at least two are needed"
        )));
    }
    if g == n {
        return Err(Error::Invalid(
            "every sample is its own group; at least one group needs two samples".into(),
        ));
    }
    Ok(())
}

/// Blocks within which permutations are restricted (vegan's `strata`, permute's `blocks`):
/// one stratum index per sample, as from [`Strata::from_values`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Strata {
    pub labels: Vec<usize>,
    pub names: Vec<String>,
}

impl Strata {
    /// Strata from one value per sample (names sorted).
    pub fn from_values(values: &[String]) -> Strata {
        let g = Grouping::from_values(values);
        Strata {
            labels: g.labels,
            names: g.names,
        }
    }

    /// Members of each stratum, in sample order.
    pub(crate) fn members(&self) -> Vec<Vec<usize>> {
        let mut out = vec![Vec::new(); self.names.len()];
        for (i, &s) in self.labels.iter().enumerate() {
            out[s].push(i);
        }
        out
    }

    /// Whether `grouping` takes more than one value inside at least one stratum: when it does
    /// not, every restricted permutation reproduces the observed grouping and the test can say
    /// nothing (the group is entirely explained by the strata).
    pub fn group_varies_within(&self, labels: &[usize]) -> bool {
        self.members().iter().any(|m| {
            m.first()
                .is_some_and(|&first| m.iter().any(|&i| labels[i] != labels[first]))
        })
    }
}

/// PERMANOVA pseudo-F and permutation p-value.
pub fn permanova(
    dm: &DistanceMatrix,
    grouping: &Grouping,
    permutations: usize,
    seed: u64,
) -> Result<PermutationTest> {
    permanova_within(dm, grouping, permutations, seed, None)
}

/// PERMANOVA with permutations restricted to `strata` (vegan's `adonis2(..., strata = )`):
/// the pseudo-F is the unrestricted one; only the null distribution changes, each sample's
/// label moving only among samples of its own stratum. With `None`, identical to [`permanova`].
pub fn permanova_within(
    dm: &DistanceMatrix,
    grouping: &Grouping,
    permutations: usize,
    seed: u64,
    strata: Option<&Strata>,
) -> Result<PermutationTest> {
    check(dm, grouping)?;
    if let Some(s) = strata {
        check_strata_design(s, grouping, dm.len())?;
    }
    let n = dm.len();
    let g = grouping.names.len();
    let sizes = grouping.sizes();
    // The observed sums (one pass over the triangle, ~5 ms at 2,000 samples) while another
    // thread draws the permutations' labels (sequential: one seeded generator).
    let ((s_t, s_w), labels) = rayon::join(
        || observed_sums(dm, grouping, &sizes),
        || permutation_labels(grouping, permutations, seed, strata),
    );
    let permuted = permuted_within(dm, grouping, &labels);
    Ok(pseudo_f_test(n, g, s_t, s_w, &permuted))
}

/// The PERMANOVA result from `s_T`, the observed `s_W` and every permutation's `s_W`: shared by
/// the single-machine test and the blockwise reduce ([`crate::blocks`]).
pub(crate) fn pseudo_f_test(
    n: usize,
    g: usize,
    s_t: f64,
    s_w: f64,
    permuted: &[f64],
) -> PermutationTest {
    let f_of = |s_w: f64| ((s_t - s_w) / (g - 1) as f64) / (s_w / (n - g) as f64);
    let observed = f_of(s_w);
    let threshold = observed - tie_tolerance(n) * observed.abs();
    let hits = permuted
        .iter()
        .map(|&s| f_of(s))
        .filter(|f| *f >= threshold)
        .count();
    let permutations = permuted.len();
    PermutationTest {
        method: PermutationMethod::Permanova,
        test_statistic_name: "pseudo-F".into(),
        sample_size: n,
        number_of_groups: g,
        test_statistic: observed,
        p_value: (permutations > 0).then(|| (hits + 1) as f64 / (permutations + 1) as f64),
        permutations,
    }
}

/// Strata fit the `n` samples and leave the grouping something to permute.
pub(crate) fn check_strata_design(strata: &Strata, grouping: &Grouping, n: usize) -> Result<()> {
    check_strata(strata, n)?;
    if !strata.group_varies_within(&grouping.labels) {
        return Err(Error::Invalid(format!(
            "the grouping does not vary within any of the {} strata: every restricted permutation reproduces it, so the strata explain the groups entirely and the test cannot separate them",
            strata.names.len()
        )));
    }
    Ok(())
}

pub(crate) fn check_strata(strata: &Strata, n: usize) -> Result<()> {
    if strata.labels.len() != n {
        return Err(Error::Invalid(format!(
            "{} strata labels for {n} samples",
            strata.labels.len()
        )));
    }
    Ok(())
}

/// The permutations' labels, drawn in order from one seeded generator; with strata, each
/// stratum's labels are shuffled among its own members (strata in order, each permutation in
/// turn), so a sample never takes a label from another stratum.
fn permuted_labels(
    labels: &[usize],
    permutations: usize,
    seed: u64,
    strata: Option<&Strata>,
) -> Vec<Vec<usize>> {
    permutation_draws(labels, seed, strata)
        .take(permutations)
        .collect()
}

/// The same draws as [`permuted_labels`], one at a time: blockwise PERMANOVA
/// ([`crate::blocks`]) redraws every permutation in each worker and must not hold them all.
pub(crate) fn permutation_draws<'a>(
    labels: &'a [usize],
    seed: u64,
    strata: Option<&Strata>,
) -> impl Iterator<Item = Vec<usize>> + 'a {
    let mut rng = Rng::new(seed);
    let blocks = strata.map(Strata::members);
    std::iter::repeat_with(move || match &blocks {
        None => {
            let mut p = labels.to_vec();
            rng.shuffle(&mut p);
            p
        }
        Some(blocks) => {
            let mut p = labels.to_vec();
            for members in blocks {
                let mut values: Vec<usize> = members.iter().map(|&i| labels[i]).collect();
                rng.shuffle(&mut values);
                for (&i, v) in members.iter().zip(values) {
                    p[i] = v;
                }
            }
            p
        }
    })
}

/// A permutation of `0..n` per draw, restricted to strata when given (used to permute rows of
/// a residual matrix rather than labels).
pub(crate) fn permuted_orders(
    n: usize,
    permutations: usize,
    seed: u64,
    strata: Option<&Strata>,
) -> Vec<Vec<usize>> {
    let identity: Vec<usize> = (0..n).collect();
    permuted_labels(&identity, permutations, seed, strata)
}

/// Relative tolerance under which a permuted F counts as equal to the observed one (a hit): the
/// observed F is summed directly, permuted ones in another order ([`crate::within`]), so a
/// relabelling of the observed grouping must not be lost to rounding. Both are f64 sums (relative
/// error ≲ 1e-13 at thousands of samples), far inside this tolerance, and distinct groupings of
/// real data do not come within it.
pub(crate) fn tie_tolerance(_n: usize) -> f64 {
    1e-9
}

/// `s_T` and the observed `s_W`, by direct sums in the order of the definition: pairs `(i, j)`,
/// `i < j`, row by row. One pass over the triangle with both sums side by side; the bits are
/// those of summing a materialised vector of squares, without its 16 MB at 2,000 samples.
fn observed_sums(dm: &DistanceMatrix, grouping: &Grouping, sizes: &[usize]) -> (f64, f64) {
    let n = dm.len();
    let labels = &grouping.labels;
    let mut total = 0.0;
    let mut within = vec![0.0; sizes.len()];
    let mut rest = dm.condensed();
    for i in 0..n {
        let (row, tail) = rest.split_at(n - 1 - i);
        rest = tail;
        let li = labels[i];
        for (d, &lj) in row.iter().zip(&labels[i + 1..]) {
            let d2 = d * d;
            total += d2;
            if lj == li {
                within[li] += d2;
            }
        }
    }
    let s_w = within.iter().zip(sizes).map(|(w, s)| w / *s as f64).sum();
    (total / n as f64, s_w)
}

/// The permutations' labels, drawn in order from the seeded generator, one row of `n` per
/// permutation.
fn permutation_labels(
    grouping: &Grouping,
    permutations: usize,
    seed: u64,
    strata: Option<&Strata>,
) -> Vec<u32> {
    let n = grouping.labels.len();
    let mut labels = Vec::with_capacity(permutations * n);
    for draw in permutation_draws(&grouping.labels, seed, strata).take(permutations) {
        labels.extend(draw.iter().map(|&l| l as u32));
    }
    labels
}

/// `s_W` of every permutation whose labels are in `labels` ([`permutation_labels`]), exactly in
/// f64 through [`crate::within::within_group_sums`] (every permutation's within-group sums of
/// d², in column panels shared by all permutations).
fn permuted_within(dm: &DistanceMatrix, grouping: &Grouping, labels: &[u32]) -> Vec<f64> {
    if labels.is_empty() {
        return Vec::new();
    }
    let n = dm.len();
    let g = grouping.names.len();
    let sizes = grouping.sizes();
    let progress = crate::progress::start((n * n.saturating_sub(1) / 2) as u64);
    let within = crate::within::within_group_sums(dm.condensed(), n, g, labels, &|pairs| {
        progress.advance(pairs)
    });
    within
        .chunks(g)
        .map(|w| w.iter().zip(&sizes).map(|(w, size)| w / *size as f64).sum())
        .collect()
}

/// Centre used by PERMDISP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DispersionCentre {
    Median,
    Centroid,
}

/// PERMDISP F and permutation p-value, in the first `dimensions` PCoA axes (scikit-bio's
/// default is 10; 0 means all).
pub fn permdisp(
    dm: &DistanceMatrix,
    grouping: &Grouping,
    permutations: usize,
    seed: u64,
    centre: DispersionCentre,
    dimensions: usize,
) -> Result<PermutationTest> {
    check(dm, grouping)?;
    let ordination = pcoa(dm)?;
    let n = dm.len();
    // Only axes with a positive eigenvalue carry coordinates; the rest are zero.
    let positive = ordination.eigenvalues.iter().filter(|v| **v > 0.0).count();
    let axes = if dimensions == 0 {
        positive
    } else {
        positive.min(dimensions)
    };
    let points: Vec<f64> = (0..n)
        .flat_map(|i| (0..axes).map(move |k| (i, k)))
        .map(|(i, k)| ordination.coordinate(i, k))
        .collect();
    let g = grouping.names.len();
    let observed = dispersion_f(&points, axes, &grouping.labels, g, centre);
    let all = permuted_labels(&grouping.labels, permutations, seed, None);
    let progress = crate::progress::start(permutations as u64);
    let stats: Vec<f64> = all
        .par_iter()
        .map(|labels| {
            let f = dispersion_f(&points, axes, labels, g, centre);
            progress.advance(1);
            f
        })
        .collect();
    let hits = stats.iter().filter(|f| **f >= observed).count();
    Ok(PermutationTest {
        method: PermutationMethod::Permdisp,
        test_statistic_name: "F-value".into(),
        sample_size: n,
        number_of_groups: g,
        test_statistic: observed,
        p_value: (permutations > 0).then(|| (hits + 1) as f64 / (permutations + 1) as f64),
        permutations,
    })
}

fn dispersion_f(
    points: &[f64],
    dim: usize,
    labels: &[usize],
    g: usize,
    centre: DispersionCentre,
) -> f64 {
    let mut distances = vec![0.0; labels.len()];
    for group in 0..g {
        let members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == group).collect();
        let rows: Vec<&[f64]> = members
            .iter()
            .map(|&i| &points[i * dim..(i + 1) * dim])
            .collect();
        let c = match centre {
            DispersionCentre::Centroid => centroid(&rows, dim),
            DispersionCentre::Median => spatial_median(&rows, dim),
        };
        for (&i, row) in members.iter().zip(&rows) {
            distances[i] = euclidean(row, &c);
        }
    }
    one_way_f(&distances, labels, g)
}

fn centroid(rows: &[&[f64]], dim: usize) -> Vec<f64> {
    let mut c = vec![0.0; dim];
    for r in rows {
        for (a, v) in c.iter_mut().zip(r.iter()) {
            *a += v;
        }
    }
    c.iter_mut().for_each(|v| *v /= rows.len() as f64);
    c
}

/// Spatial (geometric) median by the Vardi–Zhang (2000, PNAS 97:1423) modification of
/// Weiszfeld's algorithm, started at the centroid, stopping when an update moves less than
/// 1e-7 or after 500 iterations — the same rule as scikit-bio, so the medians agree.
pub fn spatial_median(rows: &[&[f64]], dim: usize) -> Vec<f64> {
    const EPS: f64 = 1e-7;
    let mut y = centroid(rows, dim);
    if rows.len() == 1 {
        return y;
    }
    let mut inverse = vec![0.0; rows.len()];
    let mut next = vec![0.0; dim];
    for _ in 0..500 {
        let mut coincident = 0usize;
        let mut inverse_sum = 0.0;
        for (k, r) in rows.iter().enumerate() {
            let d = euclidean(r, &y);
            if d > EPS {
                inverse[k] = 1.0 / d;
                inverse_sum += inverse[k];
            } else {
                inverse[k] = 0.0;
                coincident += 1;
            }
        }
        if coincident == rows.len() {
            break;
        }
        // Weighted mean of the points that do not coincide with y.
        let mut t = vec![0.0; dim];
        for (k, r) in rows.iter().enumerate() {
            if inverse[k] > 0.0 {
                let w = inverse[k] / inverse_sum;
                for (a, v) in t.iter_mut().zip(r.iter()) {
                    *a += w * v;
                }
            }
        }
        if coincident == 0 {
            next.copy_from_slice(&t);
        } else {
            let r_norm = t
                .iter()
                .zip(&y)
                .map(|(a, b)| ((a - b) * inverse_sum).powi(2))
                .sum::<f64>()
                .sqrt();
            let gamma = if r_norm > EPS {
                coincident as f64 / r_norm
            } else {
                0.0
            };
            for ((out, a), b) in next.iter_mut().zip(&t).zip(&y) {
                *out = (1.0 - gamma).max(0.0) * a + gamma.min(1.0) * b;
            }
        }
        let moved = euclidean(&y, &next);
        if moved < EPS {
            break;
        }
        y.copy_from_slice(&next);
    }
    y
}

/// One-way ANOVA F of `values` by `labels`.
fn one_way_f(values: &[f64], labels: &[usize], g: usize) -> f64 {
    let n = values.len();
    let mut sums = vec![0.0; g];
    let mut counts = vec![0usize; g];
    for (v, l) in values.iter().zip(labels) {
        sums[*l] += v;
        counts[*l] += 1;
    }
    let grand = values.iter().sum::<f64>() / n as f64;
    let means: Vec<f64> = sums
        .iter()
        .zip(&counts)
        .map(|(s, c)| s / *c as f64)
        .collect();
    let between: f64 = means
        .iter()
        .zip(&counts)
        .map(|(m, c)| *c as f64 * (m - grand).powi(2))
        .sum();
    let within: f64 = values
        .iter()
        .zip(labels)
        .map(|(v, l)| (v - means[*l]).powi(2))
        .sum();
    (between / (g - 1) as f64) / (within / (n - g) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudo_f_by_hand_and_batched_permutations_agree() {
        // Four points on a line: 0, 1 (group a) and 5, 6 (group b).
        let xs: [f64; 4] = [0.0, 1.0, 5.0, 6.0];
        let mut condensed = Vec::new();
        for i in 0..4 {
            for j in (i + 1)..4 {
                condensed.push((xs[i] - xs[j]).abs());
            }
        }
        let dm =
            DistanceMatrix::from_condensed((0..4).map(|i| format!("s{i}")).collect(), condensed)
                .expect("valid");
        let grouping = Grouping::from_values(&["a".into(), "a".into(), "b".into(), "b".into()]);
        // s_T = (1 + 25 + 36 + 16 + 25 + 1) / 4 = 26; s_W = 1/2 + 1/2 = 1; F = 25 / (1/2) = 50
        let r = permanova(&dm, &grouping, 0, 1).expect("ok");
        assert!((r.test_statistic - 50.0).abs() < 1e-12);
        assert_eq!(r.p_value, None);
        // With 3 distinct splits of 4 into 2+2, the observed one is the most extreme: every
        // permutation that reproduces it (or its swap) is a hit; the batched path must agree
        // with a direct recomputation for each permutation.
        let perms = permuted_labels(&grouping.labels, 50, 9, None);
        let batched = permuted_within(&dm, &grouping, &permutation_labels(&grouping, 50, 9, None));
        for (labels, s_w) in perms.iter().zip(&batched) {
            let mut direct = [0.0; 2];
            for i in 0..4 {
                for j in (i + 1)..4 {
                    if labels[i] == labels[j] {
                        direct[labels[i]] += dm.get(i, j).powi(2);
                    }
                }
            }
            assert!(((direct[0] + direct[1]) / 2.0 - s_w).abs() < 1e-12);
        }
    }

    /// `s_W` of each permutation by the definition: a direct sum over same-group pairs.
    fn direct_s_w(dm: &DistanceMatrix, labels: &[usize], sizes: &[usize]) -> f64 {
        let mut within = vec![0.0; sizes.len()];
        for i in 0..dm.len() {
            for j in (i + 1)..dm.len() {
                if labels[i] == labels[j] {
                    within[labels[i]] += dm.get(i, j).powi(2);
                }
            }
        }
        within.iter().zip(sizes).map(|(w, s)| w / *s as f64).sum()
    }

    fn random_points(n: usize, seed: u64) -> DistanceMatrix {
        let mut rng = Rng::new(seed);
        let pts: Vec<[f64; 3]> = (0..n)
            .map(|_| [0; 3].map(|_: i32| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64))
            .collect();
        crate::pcoa::euclidean_matrix(&pts)
    }

    /// The panel kernel against the definition, for sizes around its panel (32 columns) and
    /// tile (128 rows) edges, two to seven groups of unequal sizes (a singleton included), and
    /// with strata: every permutation's `s_W` equal to the direct sum to 1e-12 relative.
    #[test]
    fn permuted_sums_equal_direct_sums_for_every_permutation() {
        for (n, g) in [(2, 2), (5, 2), (33, 3), (128, 2), (129, 3), (300, 7)] {
            let dm = random_points(n, n as u64);
            // Unequal groups: label i*i mod g, and sample 0 alone in an extra group when n > 4.
            let values: Vec<String> = (0..n)
                .map(|i| {
                    if i == 0 && n > 4 {
                        "single".to_string()
                    } else {
                        format!("g{}", (i * i + i / 3) % g)
                    }
                })
                .collect();
            let grouping = Grouping::from_values(&values);
            let sizes = grouping.sizes();
            let strata =
                Strata::from_values(&(0..n).map(|i| format!("s{}", i % 3)).collect::<Vec<_>>());
            for strata in [None, Some(&strata)] {
                let fast = permuted_within(
                    &dm,
                    &grouping,
                    &permutation_labels(&grouping, 25, 7, strata),
                );
                let draws = permuted_labels(&grouping.labels, 25, 7, strata);
                assert_eq!(fast.len(), 25);
                for (s_w, labels) in fast.iter().zip(&draws) {
                    let exact = direct_s_w(&dm, labels, &sizes);
                    assert!(
                        (s_w - exact).abs() <= 1e-12 * exact.abs(),
                        "n {n}, g {g}: {s_w} vs {exact}"
                    );
                }
            }
        }
    }

    /// Same bits with one thread as with four: panels are added in a fixed order.
    #[test]
    fn permuted_sums_do_not_depend_on_the_thread_count() {
        let dm = random_points(333, 4);
        let values: Vec<String> = (0..333).map(|i| format!("g{}", i % 4)).collect();
        let grouping = Grouping::from_values(&values);
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool")
                .install(|| {
                    permuted_within(&dm, &grouping, &permutation_labels(&grouping, 40, 9, None))
                })
        };
        let one = run(1);
        let four = run(4);
        assert_eq!(
            one.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            four.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }

    #[test]
    fn strata_keep_each_label_inside_its_stratum() {
        let labels = vec![0, 1, 0, 1, 1, 0, 0, 1];
        let strata =
            Strata::from_values(&["a", "a", "a", "b", "b", "b", "b", "a"].map(String::from));
        for p in permuted_labels(&labels, 30, 2, Some(&strata)) {
            for members in strata.members() {
                let mut before: Vec<usize> = members.iter().map(|&i| labels[i]).collect();
                let mut after: Vec<usize> = members.iter().map(|&i| p[i]).collect();
                before.sort();
                after.sort();
                assert_eq!(before, after);
            }
        }
    }

    /// Two batches far apart; the group is unevenly spread over them (15 cases of 20 in batch
    /// A, 5 of 20 in batch B) but has no effect within either. Unrestricted permutations see
    /// the batch through the group (p ≤ 0.01); permutations within batches do not (p ≥ 0.05).
    #[test]
    fn a_group_that_differs_only_through_its_batch_is_not_significant_within_strata() {
        let mut rng = Rng::new(11);
        let mut unit = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let pts: Vec<[f64; 3]> = (0..40)
            .map(|i| {
                let shift = if i < 20 { 0.0 } else { 4.0 };
                [shift + unit(), unit(), unit()]
            })
            .collect();
        let dm = crate::pcoa::euclidean_matrix(&pts);
        let group: Vec<String> = (0..40)
            .map(|i| {
                let case = if i < 20 { i % 4 != 0 } else { i % 4 == 0 };
                if case { "case" } else { "control" }.to_string()
            })
            .collect();
        let batch: Vec<String> = (0..40)
            .map(|i| if i < 20 { "A" } else { "B" }.to_string())
            .collect();
        let grouping = Grouping::from_values(&group);
        let strata = Strata::from_values(&batch);
        let free = permanova_within(&dm, &grouping, 999, 3, None).expect("ok");
        let within = permanova_within(&dm, &grouping, 999, 3, Some(&strata)).expect("ok");
        assert_eq!(free.test_statistic, within.test_statistic);
        assert!(free.p_value.expect("p") <= 0.01, "{free:?}");
        assert!(within.p_value.expect("p") >= 0.05, "{within:?}");
        // A grouping that is constant inside every stratum cannot be tested within them.
        let e = permanova_within(&dm, &Grouping::from_values(&batch), 9, 3, Some(&strata))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("does not vary within any of the 2 strata"),
            "{e}"
        );
    }

    #[test]
    fn spatial_median_of_a_square_is_its_centre() {
        let pts = [[0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [2.0, 2.0], [1.0, 1.0]];
        let rows: Vec<&[f64]> = pts.iter().map(|p| p.as_slice()).collect();
        let m = spatial_median(&rows, 2);
        assert!((m[0] - 1.0).abs() < 1e-6 && (m[1] - 1.0).abs() < 1e-6);
    }
}
