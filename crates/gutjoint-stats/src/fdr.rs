//! Multiple-testing adjustment: Benjamini–Hochberg (default), Holm, Bonferroni, none —
//! as statsmodels' `multipletests` computes them (NaN p-values stay NaN and are not counted).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Adjust {
    Bh,
    Holm,
    Bonferroni,
    None,
}

impl Adjust {
    pub fn parse(name: &str) -> Option<Adjust> {
        Some(match name.to_ascii_lowercase().as_str() {
            "bh" | "fdr_bh" | "benjamini-hochberg" => Adjust::Bh,
            "holm" => Adjust::Holm,
            "bonferroni" => Adjust::Bonferroni,
            "none" => Adjust::None,
            _ => return None,
        })
    }
}

pub fn adjust(p: &[f64], method: Adjust) -> Vec<f64> {
    let idx: Vec<usize> = (0..p.len()).filter(|&i| p[i].is_finite()).collect();
    let m = idx.len() as f64;
    let mut out = vec![f64::NAN; p.len()];
    let mut order = idx.clone();
    order.sort_by(|a, b| p[*a].total_cmp(&p[*b]));
    match method {
        Adjust::None => idx.iter().for_each(|&i| out[i] = p[i]),
        Adjust::Bonferroni => idx.iter().for_each(|&i| out[i] = (p[i] * m).min(1.0)),
        Adjust::Bh => {
            let mut running = 1.0f64;
            for (rank, &i) in order.iter().enumerate().rev() {
                running = running.min(p[i] * m / (rank + 1) as f64);
                out[i] = running.min(1.0);
            }
        }
        Adjust::Holm => {
            let mut running = 0.0f64;
            for (rank, &i) in order.iter().enumerate() {
                running = running.max(p[i] * (m - rank as f64));
                out[i] = running.min(1.0);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bh_and_holm_by_hand() {
        let p = [0.01, 0.04, 0.03, 0.5];
        // BH: sorted .01 .03 .04 .5 -> .04, .06→min(.06,.0533)=.0533, .0533, .5
        let q = adjust(&p, Adjust::Bh);
        assert!((q[0] - 0.04).abs() < 1e-15);
        assert!((q[2] - 0.04 * 4.0 / 3.0).abs() < 1e-15);
        assert!((q[1] - 0.04 * 4.0 / 3.0).abs() < 1e-15);
        assert!((q[3] - 0.5).abs() < 1e-15);
        // Holm: .01*4=.04, .03*3=.09, .04*2=.08→.09, .5
        let h = adjust(&p, Adjust::Holm);
        assert_eq!(h, vec![0.04, 0.09, 0.09, 0.5]);
    }
}
