/*!
PERMANOVA's within-group sums of squared distances for many permutations at once, exactly in
f64: for every permutation `p` and group `a`, `W[p][a] = Σ_{i<j, both in a under p} d²(i, j)`.

Why this shape (issue #19; the profile is in bench/README.md). The earlier kernel formed
`D² G` with a 0/1 membership matrix `G` per batch of permutations: `n² (g − 1)` multiply-adds
per permutation over the full square, in f32 to be fast enough, so a permuted pseudo-F carried
~1e-6 relative error. Here each permutation costs at most the `n²/2` pairs of the upper
triangle, one f64 addition per pair in 4-wide SIMD (fewer with subset tables, below), and
nothing is rounded to f32:

- the triangle is cut into **column panels** of [`WIDTH`] columns; a panel's rows (every row
  above it, plus its own diagonal block with the lower part zeroed) are copied once, squared,
  into a contiguous buffer, so the distances are read once per panel, not once per permutation;
- the panel's rows are taken in **tiles** and, for every permutation, the tile's rows of group
  `a` are added to that permutation's `WIDTH` column sums of `a`, kept across the panel's tiles;
  only once the panel is done are the sums of the columns also in `a` kept (a mask of the
  panel's columns by label, summed in eight lanes);
- a tile's rows reach those sums by one of two kernels ([`Kernel`], chosen by the work each
  needs): **rows**, each member row added on its own from a tile of [`TILE`] rows resident in L1,
  with the tile's rows sorted by group once per permutation and shared by every panel; or
  **subsets** (the "four Russians" trick for a 0/1 matrix times a real one), where every span of
  [`SPAN`] rows gets a table of the sums of all 2^8 subsets of its rows, and a permutation adds
  one table entry per span and group, picked by the byte that says which of the span's rows are
  in the group: 2 additions per span instead of 5.3 for three groups;
- the **largest group is never summed**: its column sums are the panel's totals (the same for
  every permutation) minus the other groups', so a 3-group test adds 2/3 of the rows.

Panels are independent and run in parallel; each returns its own sums, which are added in panel
order, so the result is the same bits for any number of threads. Within a panel the additions
run in a fixed order, and the same order in the SIMD build ([`pulp`] dispatch: AVX2 where the
processor has it) as in the portable one, since each SIMD lane is one column's own running sum.
The sums are ordinary f64 sums of non-negative terms (relative error ≲ 1e-13 at 2,000 samples),
against which the test's tie tolerance of 1e-9 is wide; the two kernels add in different orders,
so their bits differ, but each is fixed.
*/

use rayon::prelude::*;

/// Columns per panel: 32 f64 column sums are eight 4-wide accumulators, enough independent
/// additions to keep both of a core's adders busy.
pub(crate) const WIDTH: usize = 32;
/// Rows per tile: 128 rows × 32 columns × 8 bytes = 32 KB, which stays in L1 while every
/// permutation runs over it. Row offsets inside a tile fit one byte.
pub(crate) const TILE: usize = 128;

/// Rows per subset table ([`Kernel::Subsets`]): a table holds the sums of all 2^8 subsets of a
/// span's rows (64 KB), and the masks that index it fit a byte.
pub(crate) const SPAN: usize = 8;
const SUBSETS: usize = 1 << SPAN;
/// Spans per subset tile: 8 tables (512 KB) stay in L2 while every permutation looks up one
/// entry per span and group. 4 and 16 spans were no different (bench/README.md).
const SPANS_PER_TILE: usize = 8;
const SUBSET_TILE: usize = SPANS_PER_TILE * SPAN;

/// Which rows of each span belong to which group, per permutation, as a bit mask of the span's
/// rows: `masks[offset(t, p, a) + s]` for span `s` of tile `t`, permutation `p`, group `a`.
struct SpanMasks {
    masks: Vec<u8>,
    permutations: usize,
    g: usize,
}

impl SpanMasks {
    fn new(n: usize, g: usize, labels: &[u32], permutations: usize) -> SpanMasks {
        let tiles = n.div_ceil(SUBSET_TILE);
        let per_tile = permutations * g * SPANS_PER_TILE;
        let mut masks = vec![0u8; tiles * per_tile];
        masks
            .par_chunks_mut(per_tile)
            .enumerate()
            .for_each(|(t, masks)| {
                let (lo, hi) = (t * SUBSET_TILE, ((t + 1) * SUBSET_TILE).min(n));
                for p in 0..permutations {
                    let masks = &mut masks[p * g * SPANS_PER_TILE..(p + 1) * g * SPANS_PER_TILE];
                    for (offset, &l) in labels[p * n + lo..p * n + hi].iter().enumerate() {
                        masks[l as usize * SPANS_PER_TILE + offset / SPAN] |= 1 << (offset % SPAN);
                    }
                }
            });
        SpanMasks {
            masks,
            permutations,
            g,
        }
    }

    fn offset(&self, t: usize, p: usize, a: usize) -> usize {
        ((t * self.permutations + p) * self.g + a) * SPANS_PER_TILE
    }
}

/// Which rows of each tile belong to which group, per permutation: the layout shared by every
/// panel. For tile `t` and permutation `p`, `rows[offset(t, p)..]` holds the tile's row offsets
/// grouped by label (increasing within a group), and `starts[(t * permutations + p) * (g + 1)..]`
/// the `g + 1` group boundaries.
struct TileGroups {
    rows: Vec<u8>,
    starts: Vec<u32>,
}

impl TileGroups {
    fn new(n: usize, g: usize, labels: &[u32], permutations: usize) -> TileGroups {
        let tiles = n.div_ceil(TILE);
        let mut rows = vec![0u8; n * permutations];
        let mut starts = vec![0u32; tiles * permutations * (g + 1)];
        // Tile t's block of `rows` starts at t * TILE * permutations (every tile but the last is
        // full), so tiles fill in parallel.
        rows.par_chunks_mut(TILE * permutations)
            .zip(starts.par_chunks_mut(permutations * (g + 1)))
            .enumerate()
            .for_each(|(t, (rows, starts))| {
                let (lo, hi) = (t * TILE, ((t + 1) * TILE).min(n));
                let len = hi - lo;
                let mut next = vec![0u32; g + 1];
                for p in 0..permutations {
                    let labels = &labels[p * n + lo..p * n + hi];
                    // Counting sort of the tile's rows by label: counts, starts, placement.
                    next.iter_mut().for_each(|c| *c = 0);
                    for &l in labels {
                        next[l as usize + 1] += 1;
                    }
                    for a in 0..g {
                        next[a + 1] += next[a];
                    }
                    starts[p * (g + 1)..(p + 1) * (g + 1)].copy_from_slice(&next);
                    let out = &mut rows[p * len..(p + 1) * len];
                    for (offset, &l) in labels.iter().enumerate() {
                        let slot = &mut next[l as usize];
                        out[*slot as usize] = offset as u8;
                        *slot += 1;
                    }
                }
            });
        TileGroups { rows, starts }
    }
}

/// `W[p * g + a]`: the sum of d² over the pairs within group `a` under permutation `p`, for the
/// `n`-sample condensed matrix `condensed` (scipy order) and `labels[p * n + i]`, the group of
/// sample `i` under permutation `p` (each below `g`). `done` is told how many pairs each finished
/// panel covered.
pub(crate) fn within_group_sums(
    condensed: &[f64],
    n: usize,
    g: usize,
    labels: &[u32],
    done: &(dyn Fn(u64) + Sync),
) -> Vec<f64> {
    within_group_sums_by(condensed, n, g, labels, None, done)
}

/// How a tile's rows reach a permutation's column sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kernel {
    /// Each member row added on its own ([`TileGroups`]): `SPAN · (1 − f)` row additions per
    /// span of [`SPAN`] rows and permutation, `f` the largest group's share.
    Rows,
    /// One addition per span and group from the span's table of subset sums ([`SpanMasks`]):
    /// `g − 1` row additions per span and permutation, plus the `2^SPAN − 1` that build the table
    /// once per panel.
    Subsets,
}

impl Kernel {
    /// The kernel with less work for these group sizes and this many permutations. A lookup
    /// reads its row from the tables in L2 and costs about 1.6 additions of a row in L1 (4.4
    /// against 2.7 ns in a micro-benchmark on the 2-core benchmark machine). Measured at 2,000
    /// samples and 999 permutations (bench/README.md): two groups, subsets 1.4× faster; three,
    /// 1.2×; five, the same; six, rows 1.3× faster, as this rule predicts.
    fn cheaper(n: usize, g: usize, largest: usize, permutations: usize) -> Kernel {
        let rows = permutations as f64 * SPAN as f64 * (n - largest) as f64 / n.max(1) as f64;
        let subsets = 1.6 * permutations as f64 * g.saturating_sub(1) as f64 + (SUBSETS - 1) as f64;
        if subsets < rows {
            Kernel::Subsets
        } else {
            Kernel::Rows
        }
    }
}

/// [`within_group_sums`] with the kernel chosen by the caller, or by [`Kernel::cheaper`] when
/// `None` (tests run both kernels on the same input).
pub(crate) fn within_group_sums_by(
    condensed: &[f64],
    n: usize,
    g: usize,
    labels: &[u32],
    kernel: Option<Kernel>,
    done: &(dyn Fn(u64) + Sync),
) -> Vec<f64> {
    let permutations = labels.len() / n.max(1);
    if permutations == 0 || n < 2 {
        return vec![0.0; permutations * g];
    }
    // The group whose rows are never added: the largest under the observed labels (every
    // permutation keeps the group sizes).
    let mut sizes = vec![0usize; g];
    for &l in &labels[..n] {
        sizes[l as usize] += 1;
    }
    let skipped = (0..g)
        .max_by_key(|&a| (sizes[a], std::cmp::Reverse(a)))
        .unwrap_or(0);
    let kernel = kernel.unwrap_or_else(|| Kernel::cheaper(n, g, sizes[skipped], permutations));
    let layout = match kernel {
        Kernel::Rows => Layout::Rows(TileGroups::new(n, g, labels, permutations)),
        Kernel::Subsets => Layout::Subsets(SpanMasks::new(n, g, labels, permutations)),
    };
    let shared = Shared {
        condensed,
        n,
        g,
        permutations,
        labels,
        layout: &layout,
        skipped,
    };
    // Widest panels (most rows) first, so that the pool's threads end together.
    let panels: Vec<usize> = (0..n).step_by(WIDTH).rev().collect();
    let parts: Vec<Vec<f64>> = panels
        .par_iter()
        .map_init(
            || (Vec::new(), Vec::new(), Vec::new()),
            |(pack, accs, table), &first| {
                let sums = Panel {
                    shared: &shared,
                    first,
                    pack,
                    accs,
                    table,
                }
                .run();
                let width = WIDTH.min(n - first);
                done((first * width + width * (width - 1) / 2) as u64);
                sums
            },
        )
        .collect();
    // Panel order, whatever thread computed them: the same bits for any number of threads.
    let mut out = vec![0.0; permutations * g];
    for part in &parts {
        out.iter_mut().zip(part).for_each(|(o, v)| *o += v);
    }
    out
}

/// The per-permutation layout the chosen kernel reads, built once and shared by every panel.
enum Layout {
    Rows(TileGroups),
    Subsets(SpanMasks),
}

/// What every panel reads.
struct Shared<'a> {
    condensed: &'a [f64],
    n: usize,
    g: usize,
    permutations: usize,
    labels: &'a [u32],
    layout: &'a Layout,
    skipped: usize,
}

/// One column panel: columns `first..first + WIDTH` against every row above them and its own
/// diagonal block. Runs inside [`pulp::Arch::dispatch`], so the loops below are compiled for the
/// processor's vector width.
struct Panel<'a> {
    shared: &'a Shared<'a>,
    first: usize,
    /// The squared panel, reused across the panels one thread computes.
    pack: &'a mut Vec<Lanes>,
    /// Per permutation and group, the panel's column sums; reused like `pack`.
    accs: &'a mut Vec<Lanes>,
    /// A tile's tables of subset sums ([`Kernel::Subsets`]); reused like `pack`.
    table: &'a mut Vec<Lanes>,
}

impl Panel<'_> {
    /// The panel's sums on the best vector unit pulp finds (AVX2, or portable code).
    fn run(self) -> Vec<f64> {
        pulp::Arch::new().dispatch(self)
    }

    #[inline(always)]
    fn sums(self) -> Vec<f64> {
        let Panel {
            shared,
            first,
            pack,
            accs,
            table,
        } = self;
        let Shared {
            condensed,
            n,
            g,
            permutations,
            labels,
            layout,
            skipped,
        } = *shared;
        let width = WIDTH.min(n - first);
        // Rows 0..first pair with every panel column; rows first..first + width only with the
        // columns after them (the diagonal block's strict upper part).
        let rows_end = first + width;
        let tile_count = rows_end.div_ceil(TILE);
        pack.clear();
        pack.resize(tile_count * TILE, Lanes::ZERO);
        for (i, row) in pack[..rows_end].iter_mut().enumerate() {
            let from = if i < first { first } else { i + 1 };
            if from >= rows_end {
                continue;
            }
            let start = gutjoint_table::distance::condensed_index(n, i, from);
            for (out, d) in row.0[from - first..width]
                .iter_mut()
                .zip(&condensed[start..])
            {
                *out = d * d;
            }
        }
        // Column sums per permutation and group, kept across the panel's tiles (P × g × WIDTH
        // f64, ~0.8 MB at 999 permutations and 3 groups, in L2) and reduced over the panel's
        // columns once at the end. Reducing per tile instead (a serial 32-term chain for every
        // tile, permutation and group) was half of the kernel's time (`perf annotate`).
        accs.clear();
        accs.resize(permutations * g, Lanes::ZERO);
        // The skipped group's sums are the panel's totals minus the other groups'.
        let mut total = Lanes::ZERO;
        for row in pack.iter() {
            total.add(row);
        }
        match layout {
            Layout::Rows(tiles) => {
                for t in 0..tile_count {
                    let tile = &pack[t * TILE..(t + 1) * TILE];
                    let tile_len = TILE.min(n - t * TILE);
                    let rows_base = t * TILE * permutations;
                    for p in 0..permutations {
                        let starts = &tiles.starts[(t * permutations + p) * (g + 1)..][..g + 1];
                        let rows = &tiles.rows[rows_base + p * tile_len..][..tile_len];
                        for a in (0..g).filter(|&a| a != skipped) {
                            let members = &rows[starts[a] as usize..starts[a + 1] as usize];
                            if members.is_empty() {
                                continue;
                            }
                            let slot = &mut accs[p * g + a];
                            let mut acc = *slot;
                            for &r in members {
                                acc.add(&tile[r as usize]);
                            }
                            *slot = acc;
                        }
                    }
                }
            }
            Layout::Subsets(masks) => {
                // Spans holding a row this panel uses; the last may be partly zero padding.
                let span_count = rows_end.div_ceil(SPAN);
                table.clear();
                table.resize(SPANS_PER_TILE * SUBSETS, Lanes::ZERO);
                for t in 0..span_count.div_ceil(SPANS_PER_TILE) {
                    let spans = (span_count - t * SPANS_PER_TILE).min(SPANS_PER_TILE);
                    for s in 0..spans {
                        let rows = &pack[t * SUBSET_TILE + s * SPAN..][..SPAN];
                        let sums = &mut table[s * SUBSETS..(s + 1) * SUBSETS];
                        // Subset m's sum is the sum of m without its lowest row, plus that row:
                        // one row addition per subset, in a fixed order.
                        sums[0] = Lanes::ZERO;
                        for m in 1..SUBSETS {
                            let mut sum = sums[m & (m - 1)];
                            let low = m.trailing_zeros() as usize;
                            sum.add(&rows[low]);
                            sums[m] = sum;
                        }
                    }
                    for p in 0..permutations {
                        for a in (0..g).filter(|&a| a != skipped) {
                            let members = &masks.masks[masks.offset(t, p, a)..][..spans];
                            let slot = &mut accs[p * g + a];
                            let mut acc = *slot;
                            for (s, &m) in members.iter().enumerate() {
                                acc.add(&table[s * SUBSETS + m as usize]);
                            }
                            *slot = acc;
                        }
                    }
                }
            }
        }
        let mut out = vec![0.0; permutations * g];
        // The panel's column labels under each permutation, padded with a label no group has.
        // (Only the last panel is narrower; the others read the labels in place, since a copy
        // per permutation went through a `memcpy` call.)
        let mut padded = [u32::MAX; WIDTH];
        for p in 0..permutations {
            let labels = &labels[p * n + first..p * n + rows_end];
            let columns: &[u32; WIDTH] = match labels.try_into() {
                Ok(full) => full,
                Err(_) => {
                    padded[..width].copy_from_slice(labels);
                    &padded
                }
            };
            let sums = &mut out[p * g..(p + 1) * g];
            let mut rest = total;
            for a in (0..g).filter(|&a| a != skipped) {
                let acc = &accs[p * g + a];
                sums[a] = masked_sum(acc, columns, a);
                for (r, s) in rest.0.iter_mut().zip(&acc.0) {
                    *r -= s;
                }
            }
            sums[skipped] = masked_sum(&rest, columns, skipped);
        }
        out
    }
}

impl pulp::WithSimd for Panel<'_> {
    type Output = Vec<f64>;

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> Vec<f64> {
        self.sums()
    }
}

/// One row of a panel, or a sum of rows: `WIDTH` columns, aligned to a cache line so that no
/// vector load straddles two (unaligned 256-byte rows cost a third more per row added).
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Lanes([f64; WIDTH]);

impl Lanes {
    const ZERO: Lanes = Lanes([0.0; WIDTH]);

    /// `self += row`, one lane per column (each column's own running sum, so the same order on
    /// every vector width).
    #[inline(always)]
    fn add(&mut self, row: &Lanes) {
        for (s, v) in self.0.iter_mut().zip(&row.0) {
            *s += v;
        }
    }
}

/// The column sums of the panel's columns that are in group `a`: eight running sums, one per
/// lane of the two vectors a chunk of eight columns fills, then added in a fixed order (a single
/// running sum was a serial chain of 32 scalar additions per permutation and group, a quarter of
/// the kernel's time). A column outside `a` is cleared by masking its bits, not by a branch:
/// written as `if`, the compiler emitted a compare and jump per column, mispredicted on random
/// labels, a fifth of the kernel.
#[inline(always)]
fn masked_sum(sums: &Lanes, columns: &[u32; WIDTH], a: usize) -> f64 {
    let a = a as u32;
    let mut part = [0.0f64; 8];
    for (s, l) in sums.0.chunks_exact(8).zip(columns.chunks_exact(8)) {
        for lane in 0..8 {
            let keep = u64::from(l[lane] == a).wrapping_neg();
            part[lane] += f64::from_bits(s[lane].to_bits() & keep);
        }
    }
    ((part[0] + part[4]) + (part[2] + part[6])) + ((part[1] + part[5]) + (part[3] + part[7]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random squared-distance-like values in scipy's condensed order (any non-negative values
    /// will do: the kernels sum whatever they are given).
    fn condensed(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = gutjoint_numeric::rng::Rng::new(seed);
        (0..n * (n - 1) / 2)
            .map(|_| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 + 0.01)
            .collect()
    }

    /// The definition: W[p][a] = Σ_{i<j, both in a under p} d(i, j)².
    fn direct(condensed: &[f64], n: usize, g: usize, labels: &[u32]) -> Vec<f64> {
        let permutations = labels.len() / n;
        let mut out = vec![0.0; permutations * g];
        for p in 0..permutations {
            let l = &labels[p * n..(p + 1) * n];
            let mut k = 0;
            for i in 0..n {
                for j in (i + 1)..n {
                    if l[i] == l[j] {
                        out[p * g + l[i] as usize] += condensed[k] * condensed[k];
                    }
                    k += 1;
                }
            }
        }
        out
    }

    /// Both kernels against the definition, to 1e-12 relative, at sizes on either side of a
    /// span (8 rows), a subset tile (64), a row tile (128) and a panel (32 columns), with two to
    /// seven groups of unequal sizes, a singleton among them.
    #[test]
    fn both_kernels_give_the_direct_sums() {
        for (n, g) in [
            (2, 2),
            (7, 2),
            (9, 3),
            (33, 2),
            (63, 3),
            (64, 4),
            (65, 3),
            (129, 2),
            (200, 7),
        ] {
            let d = condensed(n, n as u64);
            let base: Vec<u32> = (0..n)
                .map(|i| {
                    if i == 0 {
                        g as u32 - 1
                    } else {
                        ((i * i + i / 3) % (g - 1)) as u32
                    }
                })
                .collect();
            let mut rng = gutjoint_numeric::rng::Rng::new(3);
            let mut labels = Vec::new();
            for _ in 0..30 {
                let mut l = base.clone();
                rng.shuffle(&mut l);
                labels.extend(l);
            }
            let want = direct(&d, n, g, &labels);
            for kernel in [Kernel::Rows, Kernel::Subsets] {
                let got = within_group_sums_by(&d, n, g, &labels, Some(kernel), &|_| {});
                assert_eq!(got.len(), want.len());
                for (k, (x, y)) in got.iter().zip(&want).enumerate() {
                    assert!(
                        (x - y).abs() <= 1e-12 * y.abs(),
                        "{kernel:?}, n {n}, g {g}, permutation {}, group {}: {x} vs {y}",
                        k / g,
                        k % g
                    );
                }
            }
        }
    }

    /// Each kernel gives the same bits with one thread as with three.
    #[test]
    fn each_kernel_gives_the_same_bits_on_any_number_of_threads() {
        let n = 150;
        let d = condensed(n, 5);
        let labels: Vec<u32> = (0..40 * n).map(|k| ((k * 7 + k / n) % 3) as u32).collect();
        for kernel in [Kernel::Rows, Kernel::Subsets] {
            let run = |threads| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .expect("pool")
                    .install(|| within_group_sums_by(&d, n, 3, &labels, Some(kernel), &|_| {}))
            };
            let bits = |v: Vec<f64>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(run(1)), bits(run(3)), "{kernel:?}");
        }
    }

    /// The rule picks subsets where they measured faster (two or three groups at 999
    /// permutations) and rows where they did (six groups; or few permutations, which cannot
    /// pay for building the tables).
    #[test]
    fn the_cheaper_kernel_follows_the_measurements() {
        // Equal groups of 2,000 samples (the largest holds n / g, rounded up).
        let n = 2000;
        let pick = |g: usize, p| Kernel::cheaper(n, g, n.div_ceil(g), p);
        assert_eq!(pick(2, 999), Kernel::Subsets);
        assert_eq!(pick(3, 999), Kernel::Subsets);
        assert_eq!(pick(6, 999), Kernel::Rows);
        assert_eq!(pick(3, 19), Kernel::Rows);
    }
}
