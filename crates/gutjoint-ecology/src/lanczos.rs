/*!
The leading eigenpairs of a symmetric matrix by block Lanczos with full reorthogonalisation
(Golub & Underwood 1977; Golub & Van Loan, Matrix Computations, 4th ed., §10.3.6): PCoA with
`--dimensions k` needs the top `k` eigenpairs of the Gower-centred matrix, and a Krylov
method gets them from a few hundred matrix–block products instead of the `O(n³)` reduction to
tridiagonal form that a complete (or LAPACK's partial) eigendecomposition pays.

Why these choices:
- *Blocks of `BLOCK` vectors*: a single-vector Krylov space holds one direction of a multiple
  eigenvalue (points on a circle give λ₁ = λ₂ exactly), so it can miss a copy without any
  residual showing it; a block finds up to `BLOCK` copies, and its products read the matrix
  once per block.
- *Full reorthogonalisation* (classical Gram–Schmidt after the local recurrence, checked, and
  repeated when more than rounding is left): without it Lanczos loses
  orthogonality as Ritz pairs converge and produces spurious copies; with it the residual
  estimate `‖R_{j+1} s_last‖` equals the true residual `‖B u − θ u‖` down to rounding.
- *Convergence on residual norms*: every wanted Ritz pair must have a residual below
  `1e-13 · max|θ|`. The eigenvector error is at most residual / gap (Davis–Kahan), so the
  coordinates agree with LAPACK's to ~1e-12 even where neighbouring eigenvalues are 0.1 %
  apart (bench/pcoa.py's generator); the estimate keeps falling past the rounding floor of
  the product, so the test is always reachable when the space is large enough.
- *Memory traffic*: at n = 2,000 the products and the reorthogonalisation are bound by
  memory bandwidth (~7 GB/s on the 2-core benchmark machine), not arithmetic. The block
  three-term recurrence takes out `B Q_j`'s large components first, so one Gram–Schmidt pass
  against the whole basis leaves only rounding, which its fused check
  ([`subtract_then_project`]) confirms before a second subtraction is skipped: two reads of the
  basis per block. The caller's product reads the distances' triangle rather than a square `B`.
- *Deterministic*: the start block comes from a fixed seed, and every product is cut into
  fixed pieces computed sequentially (faer's `Par::Seq`) and combined in a fixed order, so the
  result is the same bits for any number of threads.

The caller gives the product `Y = B X` and a maximum Krylov dimension; `None` means the
wanted pairs did not converge within it (the caller falls back to a complete decomposition).
*/

use faer::{Accum, Mat, MatMut, MatRef, Par};
use rayon::prelude::*;

/// Vectors per block: copies of a multiple eigenvalue found, and products per pass over `B`.
/// On bench/pcoa.py's 2,000-sample matrix (top 10, bench/README.md) blocks of 4, 8, 12, 16 and
/// 24 converged at 324, 456, 552, 656 and 888 vectors, and 4 took the least time: larger blocks
/// read `B` fewer times but pay more for reorthogonalisation (`n · m²`) and Rayleigh–Ritz
/// (re-measured with the condensed-triangle product, 2026-12-03: products 0.24–0.27 s for
/// blocks of 4 against 0.29–0.35 s for 8, whose Rayleigh–Ritz also took twice as long).
pub(crate) const BLOCK: usize = 4;

/// Rows per piece of a product: fixed, so sums do not depend on the number of threads.
const PIECE: usize = 128;

/// Fixed seed of the start block (any fixed value gives reproducible output).
const START_SEED: u64 = 0x5043_6f41;

/// The top `k` eigenpairs in decreasing order of eigenvalue; `vectors` is `n × k` with unit
/// columns.
pub(crate) struct TopEigenpairs {
    pub values: Vec<f64>,
    pub vectors: Mat<f64>,
}

/// Rows per piece of the tall products with the basis: fixed (so the sums do not depend on
/// the number of threads), and a piece of the basis stays in cache between the two products of
/// [`subtract_then_project`].
fn tall_piece(n: usize) -> usize {
    n.div_ceil(n.div_ceil(PIECE * 4).max(1)).max(1)
}

/// `Y = Aᵀ X` for `A` (`n × m`) and `X` (`n × p`) tall: the `n` rows are cut into fixed
/// pieces whose partial `m × p` products are added in order.
fn transpose_product(a: MatRef<'_, f64>, x: MatRef<'_, f64>) -> Mat<f64> {
    let (n, m, p) = (a.nrows(), a.ncols(), x.ncols());
    let step = tall_piece(n);
    let partials: Vec<Mat<f64>> = (0..n.div_ceil(step))
        .into_par_iter()
        .map(|piece| {
            let start = piece * step;
            let len = step.min(n - start);
            let mut part = Mat::<f64>::zeros(m, p);
            faer::linalg::matmul::matmul(
                part.as_mut(),
                Accum::Replace,
                a.subrows(start, len).transpose(),
                x.subrows(start, len),
                1.0,
                Par::Seq,
            );
            part
        })
        .collect();
    sum_in_order(m, p, &partials)
}

/// `W −= A H`, then returns `Aᵀ W`: the middle of classical Gram–Schmidt applied twice, fused
/// so that each piece of `A` (the basis, the largest array after `B`) is read once for both
/// products instead of twice.
fn subtract_then_project(w: MatMut<'_, f64>, a: MatRef<'_, f64>, h: MatRef<'_, f64>) -> Mat<f64> {
    let (n, m, p) = (a.nrows(), a.ncols(), w.ncols());
    let step = tall_piece(n);
    let partials: Vec<Mat<f64>> = w
        .par_row_chunks_mut(step)
        .enumerate()
        .map(|(piece, mut rows)| {
            let (start, len) = (piece * step, rows.nrows());
            let a = a.subrows(start, len);
            faer::linalg::matmul::matmul(rows.as_mut(), Accum::Add, a, h, -1.0, Par::Seq);
            let mut part = Mat::<f64>::zeros(m, p);
            faer::linalg::matmul::matmul(
                part.as_mut(),
                Accum::Replace,
                a.transpose(),
                rows.as_ref(),
                1.0,
                Par::Seq,
            );
            part
        })
        .collect();
    sum_in_order(m, p, &partials)
}

/// The sum of `m × p` partial products, in their order.
fn sum_in_order(m: usize, p: usize, partials: &[Mat<f64>]) -> Mat<f64> {
    let mut sum = Mat::<f64>::zeros(m, p);
    for part in partials {
        sum += part;
    }
    sum
}

/// `Y += alpha · A X` with the rows of `Y` and `A` cut into fixed pieces, each sequential, so
/// the bits do not depend on the number of threads.
fn add_product(y: MatMut<'_, f64>, a: MatRef<'_, f64>, x: MatRef<'_, f64>, alpha: f64) {
    y.par_row_chunks_mut(PIECE)
        .enumerate()
        .for_each(|(piece, rows)| {
            let start = piece * PIECE;
            let len = rows.nrows();
            faer::linalg::matmul::matmul(
                rows,
                Accum::Add,
                a.subrows(start, len),
                x,
                alpha,
                Par::Seq,
            );
        });
}

/// Orthonormalises the columns of `w` (already orthogonal to the basis `v`) among themselves
/// by Gram–Schmidt with a second pass, returning the upper-triangular `R` with `W = Q R`. A
/// column that vanishes (the Krylov space is invariant in that direction: a breakdown) is
/// replaced by a fresh pseudo-random vector orthogonal to `v` and to the earlier columns, with
/// a zero diagonal entry in `R`.
fn orthonormalise_block(
    v: MatRef<'_, f64>,
    w: &mut Mat<f64>,
    scale: f64,
    rng: &mut gutjoint_numeric::rng::Rng,
) -> Mat<f64> {
    let (n, p) = (w.nrows(), w.ncols());
    let mut r = Mat::<f64>::zeros(p, p);
    for c in 0..p {
        let before = w.col(c).norm_l2();
        for _ in 0..2 {
            for e in 0..c {
                let h = w.col(e).transpose() * w.col(c);
                r[(e, c)] += h;
                let (done, rest) = w.as_mut().split_at_col_mut(c);
                let mut col = rest.col_mut(0);
                col -= h * done.col(e);
            }
        }
        let mut norm = w.col(c).norm_l2();
        // A column reduced to rounding noise of the product carries no new direction.
        let breakdown = norm <= 1e-12 * scale.max(before) || norm == 0.0 || !norm.is_finite();
        if breakdown {
            // The column lies in the span of the earlier ones: its couplings r[(e, c)], e < c,
            // stay; only the new direction is missing and a fresh one takes its place.
            let mut fresh = Mat::<f64>::from_fn(n, 1, |_, _| uniform(rng));
            for _ in 0..2 {
                let h = transpose_product(v, fresh.as_ref());
                add_product(fresh.as_mut(), v, h.as_ref(), -1.0);
                for e in 0..c {
                    let h = w.col(e).transpose() * fresh.col(0);
                    let mut col = fresh.col_mut(0);
                    col -= h * w.col(e);
                }
            }
            w.col_mut(c).copy_from(fresh.col(0));
            norm = w.col(c).norm_l2();
            r[(c, c)] = 0.0;
        } else {
            r[(c, c)] = norm;
        }
        let mut col = w.col_mut(c);
        col *= 1.0 / norm;
    }
    r
}

/// A uniform number in (−1, 1) from the top 53 bits.
fn uniform(rng: &mut gutjoint_numeric::rng::Rng) -> f64 {
    2.0 * ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64) - 1.0
}

/// Eigenvalues (decreasing) and eigenvectors of a small symmetric matrix, sequentially.
fn small_eigen(t: MatRef<'_, f64>) -> Option<(Vec<f64>, Mat<f64>)> {
    use faer::linalg::evd::{self, ComputeEigenvectors, SelfAdjointEvdParams};
    let m = t.nrows();
    let params: faer::Spec<SelfAdjointEvdParams, f64> = Default::default();
    let mut scratch = faer::dyn_stack::MemBuffer::new(evd::self_adjoint_evd_scratch::<f64>(
        m,
        ComputeEigenvectors::Yes,
        Par::Seq,
        params,
    ));
    let stack = faer::dyn_stack::MemStack::new(&mut scratch);
    let mut values = faer::diag::Diag::<f64>::zeros(m);
    let mut vectors = Mat::<f64>::zeros(m, m);
    evd::self_adjoint_evd(
        t,
        values.as_mut(),
        Some(vectors.as_mut()),
        Par::Seq,
        stack,
        params,
    )
    .ok()?;
    // faer returns increasing order; reverse it.
    let values: Vec<f64> = (0..m).rev().map(|i| values[i]).collect();
    let vectors = Mat::from_fn(m, m, |i, j| vectors[(i, m - 1 - j)]);
    Some((values, vectors))
}

/// The top `k` eigenpairs of the symmetric `n × n` operator `product` (`Y = B X`, `X` being
/// `n × BLOCK`), or `None` if they have not converged when the Krylov space reaches
/// `max_dimension` (capped at `n − BLOCK`, where a complete decomposition is cheaper anyway).
pub(crate) fn top_eigenpairs(
    n: usize,
    k: usize,
    max_dimension: usize,
    product: impl Fn(MatRef<'_, f64>, MatMut<'_, f64>),
) -> Option<TopEigenpairs> {
    let p = BLOCK;
    let max_dimension = max_dimension.min(n.saturating_sub(p));
    if k == 0 || max_dimension < k + p {
        return None;
    }
    // Basis V (n × capacity) and projected matrix T = Vᵀ B V, filled block by block.
    let capacity = max_dimension.next_multiple_of(p) + p;
    let mut v = Mat::<f64>::zeros(n, capacity);
    let mut t = Mat::<f64>::zeros(capacity, capacity);
    let mut rng = gutjoint_numeric::rng::Rng::new(START_SEED);
    // Start block: pseudo-random, orthonormalised (column by column, as drawn).
    let mut start = Mat::<f64>::from_fn(n, p, |_, _| 0.0);
    for c in 0..p {
        for i in 0..n {
            start[(i, c)] = uniform(&mut rng);
        }
    }
    orthonormalise_block(v.as_ref().subcols(0, 0), &mut start, 1.0, &mut rng);
    v.as_mut().subcols_mut(0, p).copy_from(&start);
    let mut w = Mat::<f64>::zeros(n, p);
    let mut m = p; // columns of V filled
    let mut scale = 0.0f64; // largest |Ritz value| seen, the size of B
    let mut next_check = k + p;
    let mut last_check: Option<(usize, f64)> = None;
    loop {
        // W = B Q_j (T's column block j). First the block three-term recurrence removes W's
        // large components: along Q_j (the diagonal block) and along Q_{j-1} (R_{j-1}ᵀ, known).
        // Then classical Gram–Schmidt against the whole basis, whose fused second step also
        // measures what is left; that is subtracted only when it is above rounding (1e-14 of
        // the column; measured at n = 2,000: never above 1.3e-16), so the basis is read twice
        // per block instead of three times.
        product(v.as_ref().subcols(m - p, p), w.as_mut());
        let q = v.as_ref().subcols(m - p, p);
        let local = transpose_product(q, w.as_ref());
        add_product(w.as_mut(), q, local.as_ref(), -1.0);
        if m > p {
            // T's block above the diagonal is R_{j-1}ᵀ; R_{j-1} is stored below it.
            let coupling = Mat::<f64>::from_fn(p, p, |i, c| t[(m - p + c, m - 2 * p + i)]);
            add_product(
                w.as_mut(),
                v.as_ref().subcols(m - 2 * p, p),
                coupling.as_ref(),
                -1.0,
            );
        }
        let basis = v.as_ref().subcols(0, m);
        let mut h = transpose_product(basis, w.as_ref());
        let h2 = subtract_then_project(w.as_mut(), basis, h.as_ref());
        let left = (0..p).any(|c| {
            let norm = w.col(c).norm_l2();
            (0..m).any(|r| h2[(r, c)].abs() > 1e-14 * norm)
        });
        if left {
            add_product(w.as_mut(), basis, h2.as_ref(), -1.0);
            h += &h2;
        }
        for c in 0..p {
            for r in 0..p {
                h[(m - p + r, c)] += local[(r, c)];
            }
        }
        // The diagonal block from this product; the blocks above it mirror earlier couplings.
        for c in 0..p {
            for r in m - p..m {
                t[(r, m - p + c)] = h[(r, c)];
            }
        }
        let block_diag_scale = (0..p).map(|c| h[(m - p + c, c)].abs()).fold(0.0, f64::max);
        scale = scale.max(block_diag_scale);
        let r = orthonormalise_block(basis, &mut w, scale, &mut rng);
        if m >= next_check {
            // Rayleigh–Ritz on T (m × m): symmetric block tridiagonal from the lower blocks.
            let tm = Mat::<f64>::from_fn(m, m, |i, j| {
                let (hi, lo) = if i >= j { (i, j) } else { (j, i) };
                t[(hi, lo)]
            });
            let (values, vectors) = small_eigen(tm.as_ref())?;
            scale = scale.max(values[0].abs()).max(values[m - 1].abs());
            let worst = (0..k)
                .map(|i| {
                    // Residual of Ritz pair i: ‖R s_last‖, s_last = its last p components.
                    (0..p)
                        .map(|a| {
                            (a..p)
                                .map(|b| r[(a, b)] * vectors[(m - p + b, i)])
                                .sum::<f64>()
                                .powi(2)
                        })
                        .sum::<f64>()
                        .sqrt()
                })
                .fold(0.0, f64::max);
            if worst <= 1e-13 * scale {
                let mut u = Mat::<f64>::zeros(n, k);
                add_product(
                    u.as_mut(),
                    v.as_ref().subcols(0, m),
                    vectors.as_ref().subcols(0, k),
                    1.0,
                );
                return Some(TopEigenpairs {
                    values: values[..k].to_vec(),
                    vectors: u,
                });
            }
            // The worst residual falls about geometrically with the Krylov dimension: from the
            // last two checks, the vectors still needed at that rate; the next check comes
            // after 70 % of them, and at least m/16 vectors later, since near the end a check
            // (the O(m³) Rayleigh–Ritz) costs more than a few extra blocks. On the benchmark's
            // 2,000-sample matrix: 10 checks instead of 20, at 308 vectors instead of 324.
            let step = match last_check {
                Some((m0, worst0)) if worst < worst0 && worst > 0.0 => {
                    let rate = (worst / worst0).ln() / (m - m0) as f64;
                    let needed = (1e-13 * scale / worst).ln() / rate;
                    (needed * 0.7).clamp((m / 16) as f64, (m / 2) as f64) as usize
                }
                _ => m / 8,
            };
            last_check = Some((m, worst));
            next_check = m + p.max(step / p * p);
        }
        if m + p > max_dimension {
            return None;
        }
        // Append Q_{j+1}; its coupling R to Q_j is T's block below the diagonal.
        v.as_mut().subcols_mut(m, p).copy_from(&w);
        for a in 0..p {
            for b in 0..p {
                t[(m + a, m - p + b)] = r[(a, b)];
            }
        }
        m += p;
    }
}
