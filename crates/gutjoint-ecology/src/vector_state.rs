/*!
Clears the upper halves of the vector registers after faer's matrix products.

Why: on x86-64, faer multiplies matrices with hand-written AVX-512 / AVX2 kernels
(`private-gemm-x86`) that return without `vzeroupper`, and the compiler, which did not see their
instructions, assumes the registers came back clean. Until something clears them, every
legacy-SSE instruction on that thread — which is all of this workspace's scalar `f64` code and
number formatting, built for the x86-64 baseline — pays a false dependency on the dirty upper
halves. Measured (2,000 samples, `pcoa` all axes, 4 M coordinates formatted): 0.38–0.45 s on the
rayon threads that had run faer's eigendecomposition, 0.09 s on a fresh pool of two threads.

A function built for AVX2 that writes a vector register ends with `vzeroupper` (the compiler
inserts it before returning to baseline code): [`clear_upper_state_everywhere`] runs one on
every rayon thread and on the caller once a faer computation is done.
*/

struct Clear;

impl pulp::WithSimd for Clear {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        // A vector register written and kept alive: the function uses the wide registers, so
        // it returns through `vzeroupper`.
        std::hint::black_box(simd.splat_f64s(std::hint::black_box(0.0)));
    }
}

/// Runs [`Clear`] on this thread, on the best vector unit pulp finds (nothing to clear on
/// machines without AVX).
fn clear_upper_state() {
    pulp::Arch::new().dispatch(Clear);
}

/// Clears the vector state on every thread of rayon's pool and on the calling thread: call it
/// once faer's products are done, before scalar work runs on those threads.
pub(crate) fn clear_upper_state_everywhere() {
    rayon::broadcast(|_| clear_upper_state());
    clear_upper_state();
}
