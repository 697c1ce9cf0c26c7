/*!
Distance matrices and PERMANOVA in blocks, for cohorts whose full matrix does not fit one
machine (300,000 samples make 4.5 × 10¹⁰ pairs; issue #16).

**Blocks are stripes of rows of the condensed upper triangle**: block `I` of `N` holds d(i, j)
for the rows `i` in `a_I..a_{I+1}` and every `j > i`, in the condensed (scipy `squareform`)
order. Stripes rather than square tiles because

- every beta kernel already computes one row `i` against all later samples from the whole
  table, so a stripe is computed by the same code, in the same floating-point order, as those
  rows of a single run: the merged matrix is the same bits *by construction*;
- the blocks of a matrix are consecutive slices of its condensed vector, so merging is a
  concatenation that streams to disk in constant memory;
- a worker reads the whole table anyway (one TSV/BIOM file), so tiles would not save input.

Row boundaries are chosen so that every block holds the same number of pairs (±1 row): the
first block has few long rows, the last many short ones. Each boundary is a pure function of
`(n, I, N)`, so workers need no coordination.

**PERMANOVA by blocks** is a map over blocks and a reduce. The map adds, over the block's
pairs, `s_T`'s sum of squared distances, the observed within-group sums, and for every
permutation its `s_W` contribution `Σ_g W_g / n_g` — permutations drawn by the same seeded
generator as [`crate::permanova`], so every worker draws the very permutations of a single run.
The reduce adds the blocks' numbers and applies the single-machine test
([`crate::permanova::pseudo_f_test`]). Within a block the observed sums run over the pairs in
condensed order, as the single run does; across blocks they are added block by block, so with
one block the pseudo-F is the same bits, and with several it differs only by the rounding of a
re-associated sum of positive terms (bounded in [`reassociation_bound`]).
*/

use crate::beta::{BetaMetric, beta_rows};
use crate::error::{Error, Result};
use crate::pairwise::{Precision, pairs_in_rows};
use crate::permanova::{
    Grouping, PermutationTest, Strata, check_groups, check_strata_design, permutation_draws,
    pseudo_f_test,
};
use crate::phylo::PhyloTable;
use gutjoint_table::FeatureTable;
use std::ops::Range;

/// One block of the condensed distance matrix of `n` samples: block `index` of `count`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub n: usize,
    pub index: usize,
    pub count: usize,
    /// Rows of the condensed triangle in this block.
    pub rows: Range<usize>,
}

impl Block {
    /// Block `index` (0-based) of `count` for `n` samples.
    pub fn new(n: usize, index: usize, count: usize) -> Result<Block> {
        if count == 0 || index >= count {
            return Err(Error::Invalid(format!(
                "block {index} of {count} does not exist (blocks are numbered 0 to count - 1, count ≥ 1)"
            )));
        }
        Ok(Block {
            n,
            index,
            count,
            rows: boundary(n, index, count)..boundary(n, index + 1, count),
        })
    }

    /// Index in the full condensed vector of this block's first value.
    pub fn offset(&self) -> usize {
        pairs_before(self.n, self.rows.start)
    }

    /// Number of distances in the block.
    pub fn len(&self) -> usize {
        pairs_in_rows(self.n, self.rows.clone())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Pairs in rows `0..r` of the condensed triangle of `n` items.
pub fn pairs_before(n: usize, r: usize) -> usize {
    // Σ_{i<r} (n - 1 - i) = r (n - 1) - r (r - 1) / 2, in u128 so 10⁶ samples cannot overflow.
    let (n, r) = (n as u128, r as u128);
    (r * n.saturating_sub(1) - r * r.saturating_sub(1) / 2) as usize
}

/// First row of block `k` of `count`: the smallest row before which at least `k/count` of the
/// pairs lie (row `n` for `k = count`).
fn boundary(n: usize, k: usize, count: usize) -> usize {
    if k == 0 {
        return 0;
    }
    if k >= count {
        return n;
    }
    let total = pairs_before(n, n) as u128;
    let target = total * k as u128; // compare pairs_before(r) * count >= total * k
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pairs_before(n, mid) as u128 * count as u128 >= target {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

/// The distances of one block, in condensed order: the same values, bit for bit, as the same
/// slice of a single run's condensed matrix ([`crate::beta::beta`] in f64,
/// [`crate::beta::beta_condensed_f32`] in f32).
pub fn beta_block<T: Precision>(
    table: &FeatureTable,
    metric: BetaMetric,
    tree: Option<&PhyloTable>,
    block: &Block,
) -> Result<Vec<T>> {
    if block.n != table.n_samples() {
        return Err(Error::Invalid(format!(
            "the block was laid out for {} samples but the table has {}",
            block.n,
            table.n_samples()
        )));
    }
    beta_rows(table, metric, tree, block.rows.clone())
}

/// The samples a blockwise PERMANOVA tests, and how: `kept[i]` is sample `i`'s position among
/// the tested samples (`None` when it has no group), `grouping` labels the tested samples in
/// that order, as the single run's `DistanceMatrix::select` would.
#[derive(Debug, Clone)]
pub struct PermanovaDesign {
    pub kept: Vec<Option<usize>>,
    pub grouping: Grouping,
    pub strata: Option<Strata>,
    pub permutations: usize,
    pub seed: u64,
}

impl PermanovaDesign {
    /// Checks the design as the single-machine test does.
    pub fn check(&self) -> Result<()> {
        let n_kept = self.kept.iter().flatten().count();
        if self.kept.iter().flatten().enumerate().any(|(k, &p)| k != p) {
            return Err(Error::Invalid(
                "the tested samples must be numbered 0, 1, 2, … in matrix order".into(),
            ));
        }
        check_groups(n_kept, &self.grouping)?;
        if let Some(s) = &self.strata {
            check_strata_design(s, &self.grouping, n_kept)?;
        }
        Ok(())
    }

    /// Samples per group, as the reduce step needs them.
    pub fn group_sizes(&self) -> Vec<usize> {
        self.grouping.sizes()
    }
}

/// One block's contribution to PERMANOVA.
#[derive(Debug, Clone, PartialEq)]
pub struct PermanovaPartial {
    /// Σ d² over the block's tested pairs (condensed order).
    pub total: f64,
    /// Per group, Σ d² over the block's pairs within the group (observed labels).
    pub within: Vec<f64>,
    /// Per permutation, Σ_g W_g / n_g over the block's pairs.
    pub permuted: Vec<f64>,
}

/// The map step: one block's sums for the observed labels and every permutation. `values` are
/// the block's distances in condensed order (as [`beta_block`] returns them, widened to f64).
pub fn permanova_map(
    values: &[f64],
    block: &Block,
    design: &PermanovaDesign,
) -> Result<PermanovaPartial> {
    design.check()?;
    if values.len() != block.len() {
        return Err(Error::Invalid(format!(
            "block {} of {} holds {} distances, expected {}",
            block.index,
            block.count,
            values.len(),
            block.len()
        )));
    }
    if design.kept.len() != block.n {
        return Err(Error::Invalid(format!(
            "the design covers {} samples, the matrix {}",
            design.kept.len(),
            block.n
        )));
    }
    let n = block.n;
    let labels = &design.grouping.labels;
    let g = design.grouping.names.len();
    let sizes = design.grouping.sizes();
    // Observed sums in condensed order, as `permanova_within` adds them.
    let (mut total, mut within) = (0.0, vec![0.0; g]);
    let mut k = 0;
    for i in block.rows.clone() {
        let row = &values[k..k + (n - i - 1)];
        k += row.len();
        let Some(ki) = design.kept[i] else { continue };
        for (off, d) in row.iter().enumerate() {
            if let Some(kj) = design.kept[i + 1 + off] {
                let d2 = d * d;
                total += d2;
                if labels[ki] == labels[kj] {
                    within[labels[ki]] += d2;
                }
            }
        }
    }
    let permuted = permuted_partial(values, block, design, &sizes);
    Ok(PermanovaPartial {
        total,
        within,
        permuted,
    })
}

/// Every permutation's `Σ_g W_g / n_g` over the block, batched as a matrix product as in the
/// single run (`D² G` with `G` the 0/1 membership of g − 1 groups per permutation; the last
/// group from the row sums), here on the block's rectangle of tested rows × later tested
/// columns, in f64.
fn permuted_partial(
    values: &[f64],
    block: &Block,
    design: &PermanovaDesign,
    sizes: &[usize],
) -> Vec<f64> {
    let n = block.n;
    let g = design.grouping.names.len();
    if design.permutations == 0 {
        return Vec::new();
    }
    // Tested rows of the block, and tested columns after the block's first row.
    let rows: Vec<(usize, usize)> = block
        .rows
        .clone()
        .filter_map(|i| design.kept[i].map(|k| (i, k)))
        .collect();
    let first = block.rows.start;
    let mut column_of = vec![usize::MAX; n];
    let mut columns = Vec::new();
    for (slot, kept) in column_of.iter_mut().zip(&design.kept).skip(first + 1) {
        if let Some(k) = kept {
            *slot = columns.len();
            columns.push(*k);
        }
    }
    let mut d2 = faer::Mat::<f64>::zeros(rows.len(), columns.len());
    let mut row_sums = vec![0.0f64; rows.len()];
    let mut r = 0;
    let mut k = 0;
    for i in block.rows.clone() {
        let row = &values[k..k + (n - i - 1)];
        k += row.len();
        if design.kept[i].is_none() {
            continue;
        }
        for (off, d) in row.iter().enumerate() {
            let c = column_of[i + 1 + off];
            if c != usize::MAX {
                d2[(r, c)] = d * d;
                row_sums[r] += d * d;
            }
        }
        r += 1;
    }
    let last = g - 1;
    // As the single run, up to 256 permutations per product, but with the 0/1 matrix (columns
    // × batch·(g−1) f64) capped at 2²⁵ values (256 MB): at 300,000 samples the uncapped batch
    // would take 1.2 GB for three groups and ~10 GB for many.
    let cap = (1usize << 25) / (columns.len() * last).max(1);
    let batch = (4096 / last.max(1)).clamp(1, 256).min(cap.max(1));
    let mut out = Vec::with_capacity(design.permutations);
    let mut draws = permutation_draws(&design.grouping.labels, design.seed, design.strata.as_ref())
        .take(design.permutations);
    let progress = crate::progress::start(design.permutations as u64);
    loop {
        let chunk: Vec<Vec<usize>> = draws.by_ref().take(batch).collect();
        if chunk.is_empty() {
            break;
        }
        let cols = chunk.len() * last;
        let indicator = faer::Mat::<f64>::from_fn(columns.len(), cols, |c, q| {
            if chunk[q / last][columns[c]] == q % last {
                1.0
            } else {
                0.0
            }
        });
        let mut product = faer::Mat::<f64>::zeros(rows.len(), cols);
        faer::linalg::matmul::matmul(
            &mut product,
            faer::Accum::Replace,
            &d2,
            &indicator,
            1.0,
            faer::Par::rayon(0),
        );
        // Before the scalar sums below (vector_state.rs).
        crate::vector_state::clear_upper_state_everywhere();
        for (p, labels) in chunk.iter().enumerate() {
            let mut within = vec![0.0f64; g];
            for (r, &(_, ki)) in rows.iter().enumerate() {
                let l = labels[ki];
                if l < last {
                    within[l] += product[(r, p * last + l)];
                } else {
                    let to_others: f64 = (0..last).map(|h| product[(r, p * last + h)]).sum();
                    within[last] += row_sums[r] - to_others;
                }
            }
            out.push(
                within
                    .iter()
                    .zip(sizes)
                    .map(|(w, size)| w / *size as f64)
                    .sum(),
            );
        }
        progress.advance(chunk.len() as u64);
    }
    out
}

/// The reduce step: adds the blocks' partial sums (in the order given, which should be block
/// order) and computes pseudo-F and p as the single-machine test does, for groups of
/// `group_sizes` samples (the design's [`Grouping`] sizes) and `permutations` draws.
pub fn permanova_reduce(
    partials: &[PermanovaPartial],
    group_sizes: &[usize],
    permutations: usize,
) -> Result<PermutationTest> {
    let n: usize = group_sizes.iter().sum();
    let g = group_sizes.len();
    if g < 2 || g >= n || group_sizes.contains(&0) {
        return Err(Error::Invalid(format!(
            "groups of sizes {group_sizes:?} cannot be tested: two groups or more are needed, none empty, one with two samples"
        )));
    }
    for (b, p) in partials.iter().enumerate() {
        if p.within.len() != g || p.permuted.len() != permutations {
            return Err(Error::Invalid(format!(
                "partial sums {b} have {} groups and {} permutations, expected {g} and {permutations}",
                p.within.len(),
                p.permuted.len(),
            )));
        }
    }
    let sizes = group_sizes;
    let mut total = 0.0;
    let mut within = vec![0.0; g];
    let mut permuted = vec![0.0; permutations];
    for p in partials {
        total += p.total;
        within.iter_mut().zip(&p.within).for_each(|(a, b)| *a += b);
        permuted
            .iter_mut()
            .zip(&p.permuted)
            .for_each(|(a, b)| *a += b);
    }
    let s_t = total / n as f64;
    let s_w: f64 = within.iter().zip(sizes).map(|(w, s)| w / *s as f64).sum();
    Ok(pseudo_f_test(n, g, s_t, s_w, &permuted))
}

/// Bound on the relative difference between a sum of `m` non-negative terms added in one
/// sequence and the same terms added in consecutive segments whose sums are then added:
/// both are recursive summations, each within γ_{m−1} = (m−1)u / (1 − (m−1)u) of the exact sum
/// (Higham 2002, *Accuracy and Stability of Numerical Algorithms*, §4.2), so they differ by at
/// most twice that. Blockwise `s_T` and each `W_g` obey it against the single run.
pub fn reassociation_bound(m: usize) -> f64 {
    let mu = m.saturating_sub(1) as f64 * f64::EPSILON / 2.0;
    2.0 * mu / (1.0 - mu)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permanova::permanova;
    use gutjoint_table::{DistanceMatrix, Location};

    fn table(n: usize, d: usize, seed: u64) -> FeatureTable {
        let mut rng = crate::rng::Rng::new(seed);
        let mut t = Vec::new();
        for s in 0..n {
            for f in 0..d {
                if rng.below(3) == 0 {
                    t.push((s as u32, f as u32, (1 + rng.below(50)) as f64));
                }
            }
            t.push((s as u32, (s % d) as u32, 1.0 + s as f64));
        }
        t.sort_by_key(|x| (x.0, x.1));
        t.dedup_by_key(|x| (x.0, x.1));
        FeatureTable::from_triplets(
            (0..n).map(|i| format!("S{i}")).collect(),
            (0..d).map(|i| format!("F{i}")).collect(),
            t,
            &Location::named("t"),
        )
        .expect("valid")
    }

    #[test]
    fn blocks_cover_the_triangle_once_with_equal_pair_counts() {
        for (n, count) in [(1, 1), (2, 3), (10, 3), (57, 7), (1000, 64)] {
            let total = n * (n.max(1) - 1) / 2;
            let mut next_row = 0;
            let mut next_offset = 0;
            for index in 0..count {
                let b = Block::new(n, index, count).expect("block");
                assert_eq!(b.rows.start, next_row);
                assert_eq!(b.offset(), next_offset);
                next_row = b.rows.end;
                next_offset += b.len();
                // Balanced: a block exceeds its share by less than one (longest) row.
                assert!(
                    b.len() <= total / count + n,
                    "{n} {count} {index}: {}",
                    b.len()
                );
            }
            assert_eq!(next_row, n);
            assert_eq!(next_offset, total);
        }
        // Hand check: 5 samples (rows of 4, 3, 2, 1, 0 pairs; 10 in all) in 2 blocks of ≥ 5:
        // rows 0–1 (7 pairs) and rows 2–4 (3 pairs).
        assert_eq!(Block::new(5, 0, 2).expect("b").rows, 0..2);
        assert_eq!(Block::new(5, 1, 2).expect("b").rows, 2..5);
        assert!(Block::new(5, 2, 2).is_err());
        assert_eq!(pairs_before(300_000, 300_000), 44_999_850_000);
    }

    #[test]
    fn blocks_concatenate_to_the_single_run_bit_for_bit() {
        let t = table(41, 13, 3);
        for metric in [
            BetaMetric::BrayCurtis,
            BetaMetric::Jaccard,
            BetaMetric::Aitchison { pseudocount: 0.5 },
        ] {
            let whole = crate::beta::beta(&t, metric, None).expect("beta");
            let whole32 = crate::beta::beta_condensed_f32(&t, metric, None).expect("f32");
            let mut joined = Vec::new();
            let mut joined32 = Vec::new();
            for index in 0..5 {
                let b = Block::new(41, index, 5).expect("block");
                joined.extend(beta_block::<f64>(&t, metric, None, &b).expect("block"));
                joined32.extend(beta_block::<f32>(&t, metric, None, &b).expect("block"));
            }
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&joined), bits(whole.condensed()), "{metric:?}");
            let bits32 = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits32(&joined32), bits32(&whole32), "{metric:?}");
        }
    }

    fn dm_and_design(n: usize, drop: &[usize], g: usize) -> (DistanceMatrix, PermanovaDesign) {
        let t = table(n, 17, 9);
        let dm = crate::beta::beta(&t, BetaMetric::BrayCurtis, None).expect("beta");
        let mut kept = vec![None; n];
        let mut values = Vec::new();
        for i in (0..n).filter(|i| !drop.contains(i)) {
            kept[i] = Some(values.len());
            values.push(["a", "b", "c", "d"][(i * 7 + i / 5) % g].to_string());
        }
        let design = PermanovaDesign {
            kept,
            grouping: Grouping::from_values(&values),
            strata: None,
            permutations: 199,
            seed: 42,
        };
        (dm, design)
    }

    fn blockwise(dm: &DistanceMatrix, design: &PermanovaDesign, count: usize) -> PermutationTest {
        let partials: Vec<PermanovaPartial> = (0..count)
            .map(|index| {
                let b = Block::new(dm.len(), index, count).expect("block");
                let values = &dm.condensed()[b.offset()..b.offset() + b.len()];
                permanova_map(values, &b, design).expect("map")
            })
            .collect();
        permanova_reduce(&partials, &design.group_sizes(), design.permutations).expect("reduce")
    }

    #[test]
    fn blockwise_permanova_equals_the_single_run() {
        // 60 samples (f64 products in the single run) and 230 (f32 products, tie tolerance
        // 1e-5); three of them without a group, as samples missing from the metadata.
        for (n, g) in [(60, 3), (230, 2)] {
            let (dm, design) = dm_and_design(n, &[4, 17, 31], g);
            let keep: Vec<usize> = (0..n).filter(|i| design.kept[*i].is_some()).collect();
            let single = permanova(&dm.select(&keep), &design.grouping, 199, 42).expect("single");
            // One block: the same sums in the same order, so the same bits.
            let one = blockwise(&dm, &design, 1);
            assert_eq!(one, single);
            for count in [2, 3, 7] {
                let many = blockwise(&dm, &design, count);
                assert_eq!(many.p_value, single.p_value, "n={n} blocks={count}");
                let pairs = keep.len() * (keep.len() - 1) / 2;
                // F = (s_T / s_W − 1)(n − g)/(g − 1), s_T / s_W = 1 + x with
                // x = F (g − 1)/(n − g): relative errors δ_T, δ_W of s_T and s_W (each within
                // the reassociation bound, plus a few roundings of the final divisions) reach
                // F multiplied by (1 + x)/x.
                let rel =
                    (many.test_statistic - single.test_statistic).abs() / single.test_statistic;
                let x = single.test_statistic * (g - 1) as f64 / (keep.len() - g) as f64;
                let bound = (2.0 * reassociation_bound(pairs) + 8.0 * f64::EPSILON) * (1.0 + x) / x;
                assert!(rel <= bound, "n={n} blocks={count}: {rel:e} > {bound:e}");
            }
        }
    }

    #[test]
    fn blockwise_permanova_with_strata_equals_the_single_run() {
        let (dm, mut design) = dm_and_design(80, &[], 2);
        let strata: Vec<String> = (0..80)
            .map(|i| ["x", "y", "z"][i % 3].to_string())
            .collect();
        design.strata = Some(Strata::from_values(&strata));
        let single = crate::permanova::permanova_within(
            &dm,
            &design.grouping,
            199,
            42,
            design.strata.as_ref(),
        )
        .expect("single");
        assert_eq!(blockwise(&dm, &design, 1), single);
        assert_eq!(blockwise(&dm, &design, 4).p_value, single.p_value);
    }

    #[test]
    fn a_block_of_the_wrong_size_or_design_is_refused() {
        let (dm, design) = dm_and_design(30, &[], 2);
        let b = Block::new(30, 1, 3).expect("block");
        let e = permanova_map(&dm.condensed()[..5], &b, &design).unwrap_err();
        assert!(e.to_string().contains("holds 5 distances"), "{e}");
        let short = PermanovaPartial {
            total: 1.0,
            within: vec![0.0; 2],
            permuted: vec![0.0; 3],
        };
        let e = permanova_reduce(&[short], &design.group_sizes(), 199).unwrap_err();
        assert!(e.to_string().contains("3 permutations"), "{e}");
    }
}
