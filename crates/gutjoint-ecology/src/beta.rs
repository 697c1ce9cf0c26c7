/*!
Beta diversity: how different two samples are, as scikit-bio 0.7 and the `unifrac` package
define it.

| metric | definition (x, y: two samples; N: totals) |
| --- | --- |
| `braycurtis` | `Σ|x - y| / Σ(x + y)`, computed as `(N_x + N_y - 2 Σ min(x, y)) / (N_x + N_y)`, exact for counts |
| `jaccard` | presence/absence: `1 - |X ∩ Y| / |X ∪ Y|` |
| `aitchison` | Euclidean distance between CLR transforms of `x + pseudocount` (default 1) |
| `unweighted_unifrac` | unshared / total branch length (Lozupone & Knight 2005) |
| `weighted_unifrac` | `Σ_b l_b |x_b/N_x - y_b/N_y|`, unnormalised as scikit-bio (Lozupone et al. 2007) |
| `weighted_normalized_unifrac` | the above divided by `Σ_tips depth (x/N_x + y/N_y)` |
| `generalized_unifrac` | `Σ l_b (p+q)^α |p-q|/(p+q) / Σ l_b (p+q)^α`, α given (Chen et al. 2012) |

The sparse metrics walk each sample's nonzero features against the other sample densified in
cache; UniFrac reduces to vector distances between branch profiles (see `phylo`), and unweighted
UniFrac to one matrix product (shared branch length = X diag(l) Xᵀ).
*/

use crate::error::{Error, Result};
use crate::pairwise::{
    Precision, condensed_rows_in, fill_dense_rows, fill_rows_as, l2_squared, pairs_in_rows,
};
use crate::phylo::PhyloTable;
use gutjoint_table::{DistanceMatrix, FeatureTable};
use rayon::prelude::*;
use serde::Serialize;
use std::ops::Range;

/// The beta metrics gutjoint computes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BetaMetric {
    BrayCurtis,
    Jaccard,
    Aitchison { pseudocount: f64 },
    UnweightedUnifrac,
    WeightedUnifrac,
    WeightedNormalizedUnifrac,
    GeneralizedUnifrac { alpha: f64 },
}

impl BetaMetric {
    pub const NAMES: &'static str = "braycurtis, jaccard, aitchison, unweighted_unifrac, weighted_unifrac, weighted_normalized_unifrac, generalized_unifrac";

    pub fn name(&self) -> &'static str {
        match self {
            BetaMetric::BrayCurtis => "braycurtis",
            BetaMetric::Jaccard => "jaccard",
            BetaMetric::Aitchison { .. } => "aitchison",
            BetaMetric::UnweightedUnifrac => "unweighted_unifrac",
            BetaMetric::WeightedUnifrac => "weighted_unifrac",
            BetaMetric::WeightedNormalizedUnifrac => "weighted_normalized_unifrac",
            BetaMetric::GeneralizedUnifrac { .. } => "generalized_unifrac",
        }
    }

    /// Parses a metric name; `alpha` and `pseudocount` fill the parameterised ones.
    pub fn parse(name: &str, alpha: f64, pseudocount: f64) -> Result<BetaMetric> {
        Ok(match name {
            "braycurtis" | "bray_curtis" => BetaMetric::BrayCurtis,
            "jaccard" => BetaMetric::Jaccard,
            "aitchison" => BetaMetric::Aitchison { pseudocount },
            "unweighted_unifrac" => BetaMetric::UnweightedUnifrac,
            "weighted_unifrac" => BetaMetric::WeightedUnifrac,
            "weighted_normalized_unifrac" => BetaMetric::WeightedNormalizedUnifrac,
            "generalized_unifrac" => BetaMetric::GeneralizedUnifrac { alpha },
            _ => {
                return Err(Error::UnknownMetric {
                    name: name.into(),
                    expected: Self::NAMES.into(),
                });
            }
        })
    }

    pub fn is_phylogenetic(&self) -> bool {
        matches!(
            self,
            BetaMetric::UnweightedUnifrac
                | BetaMetric::WeightedUnifrac
                | BetaMetric::WeightedNormalizedUnifrac
                | BetaMetric::GeneralizedUnifrac { .. }
        )
    }
}

/// Computes a distance matrix between all samples.
pub fn beta(
    table: &FeatureTable,
    metric: BetaMetric,
    tree: Option<&PhyloTable>,
) -> Result<DistanceMatrix> {
    let condensed = beta_rows::<f64>(table, metric, tree, 0..table.n_samples())?;
    DistanceMatrix::from_condensed(table.sample_ids().to_vec(), condensed)
        .map_err(|e| Error::Invalid(e.to_string()))
}

/// A single-precision condensed matrix (sample order as the table), for cohorts too large for
/// f64: values are computed in f64 and rounded once.
pub fn beta_condensed_f32(
    table: &FeatureTable,
    metric: BetaMetric,
    tree: Option<&PhyloTable>,
) -> Result<Vec<f32>> {
    beta_rows::<f32>(table, metric, tree, 0..table.n_samples())
}

/// Rows `rows` of the condensed distance matrix (d(i, j) for i in `rows`, j > i, row-major):
/// the one implementation behind [`beta`], [`beta_condensed_f32`] and the blocks of
/// [`crate::blocks`]. Every metric computes each row from the whole table independently of the
/// other rows, so a range of rows holds the same bits as those rows of the whole matrix.
pub fn beta_rows<T: Precision>(
    table: &FeatureTable,
    metric: BetaMetric,
    tree: Option<&PhyloTable>,
    rows: Range<usize>,
) -> Result<Vec<T>> {
    let n = table.n_samples();
    if rows.start > rows.end || rows.end > n {
        return Err(Error::Invalid(format!(
            "rows {}..{} are outside the {n} samples",
            rows.start, rows.end
        )));
    }
    check_sums(table, metric)?;
    Ok(match metric {
        BetaMetric::BrayCurtis => braycurtis::<T>(table, rows),
        BetaMetric::Jaccard => jaccard::<T>(table, rows),
        BetaMetric::Aitchison { pseudocount } => aitchison::<T>(table, pseudocount, rows)?,
        _ => {
            let phylo = tree.ok_or_else(|| Error::NeedsTree {
                metric: metric.name().into(),
            })?;
            unifrac::<T>(phylo, metric, rows)?
        }
    })
}

/// Refuses a table whose sums would overflow in `metric`: every metric that divides by sample
/// totals (Bray–Curtis, the weighted UniFracs) needs each sample's total to be finite, and
/// Bray–Curtis adds two samples' totals, so the two largest must sum to a finite number too.
/// Without this, values near 1e308 give NaN distances without a word. Jaccard (presence only)
/// and Aitchison (logarithms) take no such sums.
fn check_sums(table: &FeatureTable, metric: BetaMetric) -> Result<()> {
    if matches!(
        metric,
        BetaMetric::Jaccard | BetaMetric::Aitchison { .. } | BetaMetric::UnweightedUnifrac
    ) {
        return Ok(());
    }
    let ids = table.sample_ids();
    let overflow = |detail: String| Error::Overflow {
        metric: metric.name().into(),
        detail,
    };
    // The two largest totals, (total, sample).
    let mut top = [(f64::NEG_INFINITY, 0); 2];
    for (s, id) in ids.iter().enumerate() {
        let total = table.sample_total(s);
        if !total.is_finite() {
            let largest = table.sample(s).1.iter().copied().fold(0.0, f64::max);
            return Err(overflow(format!(
                "the values of sample '{id}' (the largest {largest:e}) sum to {total}"
            )));
        }
        if total > top[0].0 {
            top = [(total, s), top[0]];
        } else if total > top[1].0 {
            top[1] = (total, s);
        }
    }
    if metric == BetaMetric::BrayCurtis
        && table.n_samples() >= 2
        && !(top[0].0 + top[1].0).is_finite()
    {
        return Err(overflow(format!(
            "samples '{}' and '{}' have totals {:e} and {:e}, and their distance divides by the sum of the two",
            ids[top[0].1], ids[top[1].1], top[0].0, top[1].0
        )));
    }
    Ok(())
}

/// Bray–Curtis over an inverted index: for sample `i`, each of its nonzero features adds
/// `min(x_if, x_jf)` to an accumulator for every later sample `j` that also has the feature
/// (found in the feature-major copy), so a pair costs only the features it shares. With 95%
/// zeros that is ~20× fewer operations than looking every nonzero of `j` up in a dense row of
/// `i`. The shared sum of a pair adds the same nonzero terms in the same (feature) order as a
/// direct Σ min(x, y), so the distances are the same bits.
fn braycurtis<T: Precision>(table: &FeatureTable, rows: Range<usize>) -> Vec<T> {
    let n = table.n_samples();
    let totals: Vec<f64> = (0..n).map(|s| table.sample_total(s)).collect();
    let (feature_ptr, feature_samples, feature_values) = table.to_feature_major();
    // For each nonzero of the sample-major table (in `table.sample` order), where its feature's
    // later samples start in the feature-major copy: one pass, as the copy lists each feature's
    // samples in sample order. Looking it up by binary search per nonzero instead took a
    // quarter of the kernel's time (bench/README.md, `python_beta.py`).
    let mut next = feature_ptr.clone();
    let mut later_start = Vec::with_capacity(table.nnz());
    for s in 0..n {
        for f in table.sample(s).0 {
            next[*f as usize] += 1;
            later_start.push(next[*f as usize]);
        }
    }
    let row_start = table.indptr();
    let mut condensed = vec![T::default(); pairs_in_rows(n, rows.clone())];
    let progress = crate::progress::start(condensed.len() as u64);
    condensed_rows_in(&mut condensed, n, rows)
        .into_par_iter()
        .for_each_init(
            || vec![0.0; n],
            |shared, (i, row)| {
                let (ii, iv) = table.sample(i);
                let starts = &later_start[row_start[i]..row_start[i] + ii.len()];
                for ((f, x), &later) in ii.iter().zip(iv).zip(starts) {
                    let end = feature_ptr[*f as usize + 1];
                    let samples = &feature_samples[later..end];
                    let values = &feature_values[later..end];
                    for (s, y) in samples.iter().zip(values) {
                        // Values are never NaN (the table refuses NaN), so the plain comparison is
                        // min(x, y) without f64::min's NaN handling.
                        shared[*s as usize] += if *x < *y { *x } else { *y };
                    }
                }
                for (k, slot) in row.iter_mut().enumerate() {
                    let j = i + 1 + k;
                    let sum = totals[i] + totals[j];
                    *slot = T::from_f64(if sum > 0.0 {
                        (sum - 2.0 * shared[j]) / sum
                    } else {
                        0.0
                    });
                    shared[j] = 0.0;
                }
                progress.advance(row.len() as u64);
            },
        );
    condensed
}

fn jaccard<T: Precision>(table: &FeatureTable, rows: Range<usize>) -> Vec<T> {
    let n = table.n_samples();
    let words = table.n_features().div_ceil(64);
    let mut bits = vec![0u64; n * words];
    let mut sizes = vec![0u32; n];
    for s in 0..n {
        let (idx, _) = table.sample(s);
        sizes[s] = idx.len() as u32;
        for f in idx {
            bits[s * words + *f as usize / 64] |= 1 << (*f % 64);
        }
    }
    fill_rows_as(n, rows, |i, j| {
        let (a, b) = (
            &bits[i * words..(i + 1) * words],
            &bits[j * words..(j + 1) * words],
        );
        let shared: u32 = a.iter().zip(b).map(|(x, y)| (x & y).count_ones()).sum();
        let union = sizes[i] + sizes[j] - shared;
        if union == 0 {
            0.0
        } else {
            f64::from(union - shared) / f64::from(union)
        }
    })
}

/// Centred log-ratio of each sample after adding `pseudocount` to every cell (zeros included),
/// row-major `n_samples × n_features` (the numeric room's kernel, with ecology's error).
pub fn clr_dense(table: &FeatureTable, pseudocount: f64) -> Result<Vec<f64>> {
    gutjoint_numeric::clr_dense(table, pseudocount).map_err(|e| Error::Invalid(e.to_string()))
}

fn aitchison<T: Precision>(
    table: &FeatureTable,
    pseudocount: f64,
    rows: Range<usize>,
) -> Result<Vec<T>> {
    let clr = clr_dense(table, pseudocount)?;
    Ok(fill_dense_rows(
        &clr,
        table.n_samples(),
        table.n_features(),
        rows,
        |a, b| l2_squared(a, b).sqrt(),
    ))
}

/// A sample's sparse branch values, with an optional second value per branch.
struct SparseRows<'a> {
    rows: &'a [Vec<(u32, f64)>],
    /// Per sample, one extra value per entry of `rows` (same order), e.g. `p^α`.
    extra: Option<&'a [Vec<f64>]>,
}

/// Fills the condensed matrix from sparse per-sample rows: for row `i`, its values (and extras)
/// are spread into dense buffers once, then every later sample `j` walks only its own nonzeros
/// against them. `kernel(i, dense_i, extra_i, j, j_position)` sees the two samples that way.
fn fill_sparse<T: Precision, F>(
    data: &SparseRows<'_>,
    dim: usize,
    range: Range<usize>,
    kernel: F,
) -> Vec<T>
where
    F: Fn(usize, &[f64], &[f64], usize) -> f64 + Sync,
{
    let rows = data.rows;
    let n = rows.len();
    let mut condensed = vec![T::default(); pairs_in_rows(n, range.clone())];
    let progress = crate::progress::start(condensed.len() as u64);
    condensed_rows_in(&mut condensed, n, range)
        .into_par_iter()
        .for_each_init(
            || {
                (
                    vec![0.0; dim],
                    vec![0.0; if data.extra.is_some() { dim } else { 0 }],
                )
            },
            |(dense, dense_extra), (i, out)| {
                for (m, (b, v)) in rows[i].iter().enumerate() {
                    dense[*b as usize] = *v;
                    if let Some(extra) = data.extra {
                        dense_extra[*b as usize] = extra[i][m];
                    }
                }
                for (k, slot) in out.iter_mut().enumerate() {
                    *slot = T::from_f64(kernel(i, dense, dense_extra, i + 1 + k));
                }
                for (b, _) in &rows[i] {
                    dense[*b as usize] = 0.0;
                    if data.extra.is_some() {
                        dense_extra[*b as usize] = 0.0;
                    }
                }
                progress.advance(out.len() as u64);
            },
        );
    condensed
}

/// Rows `i` compared at once by [`fill_lanes`].
const LANES: usize = 8;

/// The branch numbers of every sample, back to back (4 bytes a branch instead of the 16 of a
/// `(branch, value)` pair): what the unweighted kernel streams for every sample `j`.
struct BranchLists {
    starts: Vec<usize>,
    branches: Vec<u32>,
}

impl BranchLists {
    fn new(rows: &[Vec<(u32, f64)>]) -> BranchLists {
        let mut starts = Vec::with_capacity(rows.len() + 1);
        let mut branches = Vec::with_capacity(rows.iter().map(Vec::len).sum());
        starts.push(0);
        for row in rows {
            branches.extend(row.iter().map(|(k, _)| *k));
            starts.push(branches.len());
        }
        BranchLists { starts, branches }
    }

    fn of(&self, sample: usize) -> &[u32] {
        &self.branches[self.starts[sample]..self.starts[sample + 1]]
    }
}

/// Fills the condensed matrix from sparse per-sample rows, [`LANES`] rows `i` at a time: their
/// values are spread into one dense buffer of `[f64; LANES]` per branch (0 where a sample lacks
/// the branch), then each later sample `j` is walked once for all of them —
/// `accumulate(dense, j)` returns one sum per lane and `distance(i, j, sum)` finishes a pair.
///
/// Why lanes: a pair's sum runs over `j`'s branches in ascending order, one addition after the
/// other, so a single pair is bound by the latency of floating-point addition. The lanes are
/// independent chains the processor overlaps, and each of `j`'s branch lists is read once per
/// [`LANES`] rows instead of once per row. Every lane adds the same terms in the same order as
/// a pair on its own would, so the distances keep their bits whatever the grouping (a block of
/// rows holds the same values as those rows of the whole matrix).
fn fill_lanes<T: Precision, A, D>(
    rows: &[Vec<(u32, f64)>],
    dim: usize,
    range: Range<usize>,
    accumulate: A,
    distance: D,
) -> Vec<T>
where
    A: Fn(&[[f64; LANES]], usize) -> [f64; LANES] + Sync,
    D: Fn(usize, usize, f64) -> f64 + Sync,
{
    let n = rows.len();
    let mut condensed = vec![T::default(); pairs_in_rows(n, range.clone())];
    let progress = crate::progress::start(condensed.len() as u64);
    let mut out_rows = condensed_rows_in(&mut condensed, n, range);
    let mut groups: Vec<Vec<(usize, &mut [T])>> = Vec::new();
    while !out_rows.is_empty() {
        let take = out_rows.len().min(LANES);
        groups.push(out_rows.drain(..take).collect());
    }
    groups.into_par_iter().for_each_init(
        || vec![[0.0; LANES]; dim],
        |dense, mut group| {
            for (lane, (i, _)) in group.iter().enumerate() {
                for (k, v) in &rows[*i] {
                    dense[*k as usize][lane] = *v;
                }
            }
            let first = group[0].0;
            for j in (first + 1)..n {
                let sums = accumulate(dense, j);
                for (lane, (i, out)) in group.iter_mut().enumerate() {
                    if j > *i {
                        out[j - *i - 1] = T::from_f64(distance(*i, j, sums[lane]));
                    }
                }
            }
            for (i, _) in &group {
                for (k, _) in &rows[*i] {
                    dense[*k as usize] = [0.0; LANES];
                }
            }
            progress.advance(group.iter().map(|(_, out)| out.len() as u64).sum());
        },
    );
    condensed
}

/// UniFrac by sums over the branches two samples share. Every metric splits into per-sample
/// totals (computed once) and a correction over shared branches, so a pair costs the length of
/// one sample's branch list instead of the whole tree:
/// - unweighted: unique = own_i + own_j - 2·shared, union = own_i + own_j - shared;
/// - weighted: Σ|a - b| = A_i + A_j - 2 Σ_shared min(a, b) for non-negative a, b;
/// - generalized: branches held by one sample contribute l·p^α to both numerator and
///   denominator, so only shared branches need the full term.
fn unifrac<T: Precision>(
    phylo: &PhyloTable,
    metric: BetaMetric,
    range: Range<usize>,
) -> Result<Vec<T>> {
    let b = phylo.n_branches();
    if let Some(s) = phylo.totals.iter().position(|t| *t <= 0.0) {
        return Err(Error::Invalid(format!(
            "sample '{}' has no abundance on the tree; UniFrac is undefined for empty samples",
            phylo.sample_ids[s]
        )));
    }
    let l = &phylo.lengths;
    Ok(match metric {
        BetaMetric::UnweightedUnifrac => {
            // Each present branch carries its length, so shared length is a plain gather-sum
            // over sample j's branches (ascending), of l_b where sample i has b and 0 where not.
            let present: Vec<Vec<(u32, f64)>> = phylo
                .rows
                .iter()
                .map(|r| r.iter().map(|(k, _)| (*k, l[*k as usize])).collect())
                .collect();
            let owned: Vec<f64> = present
                .iter()
                .map(|r| r.iter().map(|p| p.1).sum())
                .collect();
            let branches = BranchLists::new(&present);
            fill_lanes(
                &present,
                b,
                range.clone(),
                |dense, j| {
                    let mut shared = [0.0; LANES];
                    for k in branches.of(j) {
                        let d = &dense[*k as usize];
                        for lane in 0..LANES {
                            shared[lane] += d[lane];
                        }
                    }
                    shared
                },
                |i, j, shared| {
                    let union = owned[i] + owned[j] - shared;
                    if union > 0.0 {
                        ((owned[i] - shared) + (owned[j] - shared)) / union
                    } else {
                        0.0
                    }
                },
            )
        }
        BetaMetric::WeightedUnifrac | BetaMetric::WeightedNormalizedUnifrac => {
            // Rows scaled to l_b · x_b / N.
            let weighted: Vec<Vec<(u32, f64)>> = phylo
                .rows
                .iter()
                .zip(&phylo.totals)
                .map(|(row, total)| {
                    row.iter()
                        .map(|(k, a)| (*k, l[*k as usize] * a / total))
                        .collect()
                })
                .collect();
            let sums: Vec<f64> = weighted
                .iter()
                .map(|r| r.iter().map(|p| p.1).sum())
                .collect();
            let normalized = metric == BetaMetric::WeightedNormalizedUnifrac;
            let depth = &phylo.depth_weighted;
            fill_lanes(
                &weighted,
                b,
                range.clone(),
                |dense, j| {
                    let mut shared_min = [0.0; LANES];
                    for (k, v) in &weighted[j] {
                        let d = &dense[*k as usize];
                        for lane in 0..LANES {
                            // min without f64::min's NaN handling (no NaN reaches here): the
                            // same value, and it vectorises.
                            shared_min[lane] += if d[lane] < *v { d[lane] } else { *v };
                        }
                    }
                    shared_min
                },
                |i, j, shared_min| {
                    let d = (sums[i] + sums[j] - 2.0 * shared_min).max(0.0);
                    if normalized {
                        d / (depth[i] + depth[j])
                    } else {
                        d
                    }
                },
            )
        }
        BetaMetric::GeneralizedUnifrac { alpha } => {
            let power = |x: f64| {
                if alpha == 1.0 {
                    x
                } else if alpha == 0.5 {
                    x.sqrt()
                } else {
                    x.powf(alpha)
                }
            };
            let proportions: Vec<Vec<(u32, f64)>> = phylo
                .rows
                .iter()
                .zip(&phylo.totals)
                .map(|(row, total)| row.iter().map(|(k, a)| (*k, a / total)).collect())
                .collect();
            // p^α of every entry, computed once; a branch held by one sample only contributes
            // l·p^α to numerator and denominator alike.
            let powers: Vec<Vec<f64>> = proportions
                .iter()
                .map(|r| r.iter().map(|(_, p)| power(*p)).collect())
                .collect();
            let solo: Vec<f64> = proportions
                .iter()
                .zip(&powers)
                .map(|(r, pw)| r.iter().zip(pw).map(|((k, _), x)| l[*k as usize] * x).sum())
                .collect();
            let data = SparseRows {
                rows: &proportions,
                extra: Some(&powers),
            };
            fill_sparse(&data, b, range.clone(), |i, dense, dense_pow, j| {
                let (mut num, mut den) = (solo[i] + solo[j], solo[i] + solo[j]);
                // Branch-free: where sample i lacks the branch (p = 0, p^α = 0) both
                // corrections are exactly zero, since q > 0 on every stored entry.
                for ((k, q), q_pow) in proportions[j].iter().zip(&powers[j]) {
                    let p = dense[*k as usize];
                    let lk = l[*k as usize];
                    let s = p + q;
                    let own = lk * (dense_pow[*k as usize] + q_pow);
                    let w = lk * power(s);
                    num += w * (p - q).abs() / s - own;
                    den += w - own;
                }
                if den > 0.0 { num / den } else { 0.0 }
            })
        }
        _ => unreachable!("non-phylogenetic metrics are handled by `beta_rows`"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gutjoint_table::Location;

    fn table(rows: &[&[f64]]) -> FeatureTable {
        let mut t = Vec::new();
        for (s, r) in rows.iter().enumerate() {
            for (f, v) in r.iter().enumerate() {
                if *v != 0.0 {
                    t.push((s as u32, f as u32, *v));
                }
            }
        }
        FeatureTable::from_triplets(
            (0..rows.len()).map(|i| format!("S{i}")).collect(),
            (0..rows[0].len()).map(|i| format!("F{i}")).collect(),
            t,
            &Location::named("t"),
        )
        .expect("valid")
    }

    #[test]
    fn braycurtis_and_jaccard_by_hand() {
        let t = table(&[&[1.0, 2.0, 0.0], &[0.0, 2.0, 3.0], &[1.0, 2.0, 0.0]]);
        let bc = beta(&t, BetaMetric::BrayCurtis, None).expect("ok");
        // |1-0| + |2-2| + |0-3| = 4 over 3 + 5 = 8
        assert_eq!(bc.get(0, 1), 0.5);
        assert_eq!(bc.get(0, 2), 0.0);
        let j = beta(&t, BetaMetric::Jaccard, None).expect("ok");
        // {0,1} vs {1,2}: shared 1, union 3
        assert!((j.get(0, 1) - 2.0 / 3.0).abs() < 1e-15);
    }

    /// Values near the largest f64: a table whose sums overflow is refused with the sample and
    /// the value named (they used to give NaN distances without a word), while one whose sums
    /// stay finite gives the hand-derived distance.
    #[test]
    fn sums_near_the_largest_float_are_refused_or_exact() {
        // S0 = (1e308, 1e308) sums to inf.
        let t = table(&[&[1e308, 1e308], &[1.0, 0.0]]);
        let e = beta(&t, BetaMetric::BrayCurtis, None).expect_err("overflow");
        let text = e.to_string();
        assert!(matches!(e, Error::Overflow { .. }), "{text}");
        assert!(text.contains("'S0'") && text.contains("1e308"), "{text}");
        // Each total finite (1e308), but Bray–Curtis divides by their sum 2e308.
        let t = table(&[&[1e308, 0.0], &[0.0, 1e308], &[1.0, 1.0]]);
        let text = beta(&t, BetaMetric::BrayCurtis, None)
            .expect_err("overflow")
            .to_string();
        assert!(text.contains("'S0' and 'S1'"), "{text}");
        // Jaccard and Aitchison take no sums of values: they still work on the same table.
        let j = beta(&t, BetaMetric::Jaccard, None).expect("presence only");
        assert_eq!(j.get(0, 1), 1.0);
        let a = beta(&t, BetaMetric::Aitchison { pseudocount: 1.0 }, None).expect("logs");
        assert!(a.get(0, 1).is_finite());
        // 4e307 and 5e307 sum to 9e307 < 1.8e308: computed, not refused. Bray–Curtis of
        // (4e307, 0) and (0, 5e307) shares nothing, so it is 1; (4e307, 0) and (2e307, 0)
        // share min = 2e307, so (6e307 - 4e307) / 6e307 = 1/3.
        let t = table(&[&[4e307, 0.0], &[0.0, 5e307], &[2e307, 0.0]]);
        let bc = beta(&t, BetaMetric::BrayCurtis, None).expect("finite sums");
        assert_eq!(bc.get(0, 1), 1.0);
        assert!((bc.get(0, 2) - 1.0 / 3.0).abs() < 1e-15, "{}", bc.get(0, 2));
    }

    /// The weighted UniFracs divide by each sample's total: an infinite total is refused, and
    /// the parts of a block run (`beta_rows`) are checked the same way.
    #[test]
    fn weighted_unifrac_refuses_an_infinite_total() {
        let tree =
            gutjoint_table::newick::parse_newick("(F0:1,F1:1)root;", &Location::named("tree"))
                .expect("tree");
        let t = table(&[&[1e308, 1e308], &[1.0, 0.0]]);
        let phylo = PhyloTable::new(&t, &tree, false).expect("tips");
        for metric in [
            BetaMetric::WeightedUnifrac,
            BetaMetric::WeightedNormalizedUnifrac,
            BetaMetric::GeneralizedUnifrac { alpha: 0.5 },
        ] {
            let text = beta(&t, metric, Some(&phylo))
                .expect_err("overflow")
                .to_string();
            assert!(
                text.contains("'S0'") && text.contains(metric.name()),
                "{text}"
            );
            assert!(beta_rows::<f64>(&t, metric, Some(&phylo), 1..2).is_err());
        }
        // Unweighted UniFrac reads presence only.
        let d = beta(&t, BetaMetric::UnweightedUnifrac, Some(&phylo)).expect("presence");
        assert_eq!(d.get(0, 1), 0.5);
    }

    #[test]
    fn aitchison_by_hand() {
        let t = table(&[&[1.0, 3.0], &[3.0, 1.0]]);
        let d = beta(&t, BetaMetric::Aitchison { pseudocount: 1.0 }, None).expect("ok");
        // clr(2,4) = (-ln2/2, ln2/2); clr(4,2) = (ln2/2, -ln2/2); distance sqrt(2) ln 2
        assert!((d.get(0, 1) - 2f64.sqrt() * 2f64.ln()).abs() < 1e-15);
    }
}
