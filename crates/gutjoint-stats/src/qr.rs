/*!
Thin QR decomposition of a tall, narrow design matrix (n samples × p ≤ a few dozen columns) by
Householder reflections, for the per-feature regressions of this crate.

Why our own rather than faer's: the designs here are tiny, and faer's x86 matrix kernels
return with the upper halves of the AVX registers still in use (no `vzeroupper`), after which
every scalar SSE instruction on that thread pays a transition penalty. Measured on ANCOM-BC's EM
(1,000 × 300): the same loop of logarithms ran 36× slower after one faer QR on the thread. A
50-line Householder QR has no such side effect and is as accurate for these shapes.
*/

/// `X = Q R` with `Q` n × p (orthonormal columns, column-major) and `R` p × p upper triangular
/// (row-major).
#[derive(Debug, Clone)]
pub struct ThinQr {
    pub n: usize,
    pub p: usize,
    /// Column-major: column j is `q[j * n..(j + 1) * n]`.
    pub q: Vec<f64>,
    /// Row-major upper triangle.
    pub r: Vec<f64>,
}

impl ThinQr {
    /// Decomposes row-major `x` (n × p, n ≥ p).
    pub fn new(x: &[f64], n: usize, p: usize) -> ThinQr {
        assert!(n >= p && x.len() == n * p, "QR of a tall matrix");
        // Work column-major: a[j * n + i] = x[i][j].
        let mut a = vec![0.0; n * p];
        for i in 0..n {
            for j in 0..p {
                a[j * n + i] = x[i * p + j];
            }
        }
        // Householder vectors v_k (zero above row k), kept for forming Q.
        let mut reflectors: Vec<Vec<f64>> = Vec::with_capacity(p);
        for k in 0..p {
            let column = &a[k * n..(k + 1) * n];
            let norm = column[k..].iter().map(|v| v * v).sum::<f64>().sqrt();
            let mut v = vec![0.0; n];
            v[k..].copy_from_slice(&column[k..]);
            // Reflect onto −sign(x_k)·‖x‖ e_k, which avoids cancellation in v_k.
            let alpha = if column[k] > 0.0 { -norm } else { norm };
            v[k] -= alpha;
            let vv: f64 = v[k..].iter().map(|x| x * x).sum();
            if vv > 0.0 {
                for j in k..p {
                    let col = &mut a[j * n..(j + 1) * n];
                    let dot: f64 = v[k..].iter().zip(&col[k..]).map(|(a, b)| a * b).sum();
                    let scale = 2.0 * dot / vv;
                    for (c, vi) in col[k..].iter_mut().zip(&v[k..]) {
                        *c -= scale * vi;
                    }
                }
            }
            reflectors.push(v);
        }
        let mut r = vec![0.0; p * p];
        for i in 0..p {
            for j in i..p {
                r[i * p + j] = a[j * n + i];
            }
        }
        // Q = H_0 H_1 … H_{p−1} applied to the first p columns of the identity.
        let mut q = vec![0.0; n * p];
        for j in 0..p {
            let col = &mut q[j * n..(j + 1) * n];
            col[j] = 1.0;
            for (k, v) in reflectors.iter().enumerate().rev() {
                let vv: f64 = v[k..].iter().map(|x| x * x).sum();
                if vv == 0.0 {
                    continue;
                }
                let dot: f64 = v[k..].iter().zip(&col[k..]).map(|(a, b)| a * b).sum();
                let scale = 2.0 * dot / vv;
                for (c, vi) in col[k..].iter_mut().zip(&v[k..]) {
                    *c -= scale * vi;
                }
            }
        }
        ThinQr { n, p, q, r }
    }

    /// Column j of Q.
    pub fn q_column(&self, j: usize) -> &[f64] {
        &self.q[j * self.n..(j + 1) * self.n]
    }

    /// `y` minus its projection on the column space of X.
    pub fn residuals(&self, y: &[f64]) -> Vec<f64> {
        let mut out = y.to_vec();
        for j in 0..self.p {
            let qj = self.q_column(j);
            let c: f64 = qj.iter().zip(y).map(|(a, b)| a * b).sum();
            for (o, q) in out.iter_mut().zip(qj) {
                *o -= c * q;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproduces_the_matrix_with_orthonormal_q() {
        // A 5 × 3 design (intercept, a slope, a dummy): Q R must give X back and QᵀQ = I.
        let x = [
            1.0, 0.5, 0.0, //
            1.0, 1.5, 1.0, //
            1.0, -2.0, 0.0, //
            1.0, 3.0, 1.0, //
            1.0, 0.0, 1.0,
        ];
        let qr = ThinQr::new(&x, 5, 3);
        for i in 0..5 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| qr.q[k * 5 + i] * qr.r[k * 3 + j]).sum();
                assert!((v - x[i * 3 + j]).abs() < 1e-14, "({i},{j}) {v}");
            }
        }
        for a in 0..3 {
            for b in 0..3 {
                let d: f64 = qr
                    .q_column(a)
                    .iter()
                    .zip(qr.q_column(b))
                    .map(|(u, v)| u * v)
                    .sum();
                let want = if a == b { 1.0 } else { 0.0 };
                assert!((d - want).abs() < 1e-14);
            }
        }
        // R is upper triangular.
        assert_eq!(qr.r[3], 0.0);
        assert_eq!(qr.r[6], 0.0);
        assert_eq!(qr.r[7], 0.0);
        // Residuals of y = 2 + x₁ (in the column space) vanish.
        let y: Vec<f64> = (0..5).map(|i| 2.0 + x[i * 3 + 1]).collect();
        assert!(qr.residuals(&y).iter().all(|e| e.abs() < 1e-13));
    }
}
