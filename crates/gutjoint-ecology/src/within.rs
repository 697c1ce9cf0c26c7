/*!
PERMANOVA's within-group sums of squared distances for many permutations at once, exactly in
f64: for every permutation `p` and group `a`, `W[p][a] = Σ_{i<j, both in a under p} d²(i, j)`.

Why this shape (issue #19; the profile is in bench/README.md). The earlier kernel formed
`D² G` with a 0/1 membership matrix `G` per batch of permutations: `n² (g − 1)` multiply-adds
per permutation over the full square, in f32 to be fast enough, so a permuted pseudo-F carried
~1e-6 relative error. Here each permutation costs the `n²/2` pairs of the upper triangle, one
f64 addition per pair in 4-wide SIMD, and nothing is rounded to f32:

- the triangle is cut into **column panels** of [`WIDTH`] columns; a panel's rows (every row
  above it, plus its own diagonal block with the lower part zeroed) are copied once, squared,
  into a contiguous buffer, so the distances are read once per panel, not once per permutation;
- the panel's rows are taken in **tiles** of [`TILE`] rows (32 KB, resident in L1) and, for every
  permutation, the tile's rows of group `a` are added to that permutation's `WIDTH` column sums
  of `a`, kept across the panel's tiles; only once the panel is done are the sums of the
  columns also in `a` kept (a mask of the panel's columns by label);
- which rows of a tile belong to which group under a permutation is **computed once** and shared
  by every panel: per tile and permutation, the tile's row offsets (one byte each) sorted by
  group, with the group starts;
- the **largest group is never summed**: its column sums are the panel's totals (the same for
  every permutation) minus the other groups', so a 3-group test adds 2/3 of the rows.

Panels are independent and run in parallel; each returns its own sums, which are added in panel
order, so the result is the same bits for any number of threads. Within a panel the additions
run in a fixed order, and the same order in the SIMD build ([`pulp`] dispatch: AVX2 where the
processor has it) as in the portable one, since each SIMD lane is one column's own running sum.
The sums are ordinary f64 sums of non-negative terms (relative error ≲ 1e-13 at 2,000 samples),
against which the test's tie tolerance of 1e-9 is wide.
*/

use rayon::prelude::*;

/// Columns per panel: 32 f64 column sums are eight 4-wide accumulators, enough independent
/// additions to keep both of a core's adders busy.
pub(crate) const WIDTH: usize = 32;
/// Rows per tile: 128 rows × 32 columns × 8 bytes = 32 KB, which stays in L1 while every
/// permutation runs over it. Row offsets inside a tile fit one byte.
pub(crate) const TILE: usize = 128;

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
    let permutations = labels.len() / n.max(1);
    if permutations == 0 || n < 2 {
        return vec![0.0; permutations * g];
    }
    let tiles = TileGroups::new(n, g, labels, permutations);
    // The group whose rows are never added: the largest under the observed labels (every
    // permutation keeps the group sizes).
    let mut sizes = vec![0usize; g];
    for &l in &labels[..n] {
        sizes[l as usize] += 1;
    }
    let skipped = (0..g)
        .max_by_key(|&a| (sizes[a], std::cmp::Reverse(a)))
        .unwrap_or(0);
    let shared = Shared {
        condensed,
        n,
        g,
        permutations,
        labels,
        tiles: &tiles,
        skipped,
    };
    // Widest panels (most rows) first, so that the pool's threads end together.
    let panels: Vec<usize> = (0..n).step_by(WIDTH).rev().collect();
    let parts: Vec<Vec<f64>> = panels
        .par_iter()
        .map_init(
            || (Vec::new(), Vec::new()),
            |(pack, accs), &first| {
                let sums = Panel {
                    shared: &shared,
                    first,
                    pack,
                    accs,
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

/// What every panel reads.
struct Shared<'a> {
    condensed: &'a [f64],
    n: usize,
    g: usize,
    permutations: usize,
    labels: &'a [u32],
    tiles: &'a TileGroups,
    skipped: usize,
}

/// One column panel: columns `first..first + WIDTH` against every row above them and its own
/// diagonal block. Runs inside [`pulp::Arch::dispatch`], so the loops below are compiled for the
/// processor's vector width.
struct Panel<'a> {
    shared: &'a Shared<'a>,
    first: usize,
    /// The squared panel, reused across the panels one thread computes.
    pack: &'a mut Vec<f64>,
    /// Per permutation and group, the panel's column sums; reused like `pack`.
    accs: &'a mut Vec<[f64; WIDTH]>,
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
        } = self;
        let Shared {
            condensed,
            n,
            g,
            permutations,
            labels,
            tiles,
            skipped,
        } = *shared;
        let width = WIDTH.min(n - first);
        // Rows 0..first pair with every panel column; rows first..first + width only with the
        // columns after them (the diagonal block's strict upper part).
        let rows_end = first + width;
        let tile_count = rows_end.div_ceil(TILE);
        pack.clear();
        pack.resize(tile_count * TILE * WIDTH, 0.0);
        for i in 0..rows_end {
            let from = if i < first { first } else { i + 1 };
            if from >= rows_end {
                continue;
            }
            let start = gutjoint_table::distance::condensed_index(n, i, from);
            let row = &mut pack[i * WIDTH + (from - first)..i * WIDTH + width];
            for (out, d) in row.iter_mut().zip(&condensed[start..]) {
                *out = d * d;
            }
        }
        // Column sums per permutation and group, kept across the panel's tiles (P × g × WIDTH
        // f64, ~0.8 MB at 999 permutations and 3 groups, in L2) and reduced over the panel's
        // columns once at the end. Reducing per tile instead (a serial 32-term chain for every
        // tile, permutation and group) was half of the kernel's time (`perf annotate`).
        accs.clear();
        accs.resize(permutations * g, [0.0; WIDTH]);
        // The skipped group's sums are the panel's totals minus the other groups'.
        let mut total = [0.0f64; WIDTH];
        for row in pack.chunks_exact(WIDTH) {
            for (s, v) in total.iter_mut().zip(row) {
                *s += v;
            }
        }
        for t in 0..tile_count {
            let tile = &pack[t * TILE * WIDTH..(t + 1) * TILE * WIDTH];
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
                        let row: &[f64; WIDTH] = tile[r as usize * WIDTH..][..WIDTH]
                            .try_into()
                            .expect("a tile row is WIDTH long");
                        for (s, v) in acc.iter_mut().zip(row) {
                            *s += v;
                        }
                    }
                    *slot = acc;
                }
            }
        }
        let mut out = vec![0.0; permutations * g];
        for p in 0..permutations {
            let columns = &labels[p * n + first..p * n + rows_end];
            let sums = &mut out[p * g..(p + 1) * g];
            let mut rest = total;
            for a in (0..g).filter(|&a| a != skipped) {
                let acc = &accs[p * g + a];
                sums[a] = masked_sum(acc, columns, a);
                for (r, s) in rest.iter_mut().zip(acc) {
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

/// The column sums of the panel's columns that are in group `a`.
#[inline(always)]
fn masked_sum(sums: &[f64; WIDTH], columns: &[u32], a: usize) -> f64 {
    sums.iter()
        .zip(columns)
        .map(|(s, &l)| if l as usize == a { *s } else { 0.0 })
        .sum()
}
