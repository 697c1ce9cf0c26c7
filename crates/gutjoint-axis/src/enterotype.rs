/*!
Enterotypes (Arumugam et al. 2011, Nature 473:174): three community types of the human gut,
driven by *Bacteroides* (1), *Prevotella* (2) and *Ruminococcus* (3). The authors clustered
genus profiles by Jensen–Shannon distance (partitioning around medoids). gutjoint assigns a
sample to the nearest of three centroids — the mean genus profiles of the published samples
of each enterotype — by Jensen–Shannon distance (square root of the divergence, natural log).
Agreement with the published labels is measured leaving each sample out of its centroid.
*/

use crate::profile::KeyedProfiles;
use serde::Serialize;
use std::collections::BTreeMap;

pub const NAMES: [&str; 3] = ["Bacteroides", "Prevotella", "Ruminococcus"];

/// Three centroid profiles over a shared key space.
#[derive(Debug, Clone)]
pub struct Centroids {
    pub keys: Vec<String>,
    /// `sums[e][k]` and `counts[e]`: running sums, so a sample can be left out.
    pub sums: Vec<Vec<f64>>,
    pub counts: Vec<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnterotypeCall {
    pub sample_id: String,
    pub enterotype: &'static str,
    /// Jensen–Shannon distance to each centroid, in `NAMES` order.
    pub distances: [f64; 3],
}

/// Builds centroids from labelled profiles (label 0, 1, 2 for enterotypes 1–3; others ignored).
pub fn centroids(profiles: &KeyedProfiles, labels: &[Option<usize>]) -> Centroids {
    let n = profiles.keys.len();
    let mut sums = vec![vec![0.0; n]; 3];
    let mut counts = vec![0usize; 3];
    for (row, label) in profiles.rows.iter().zip(labels) {
        if let Some(e) = label.filter(|e| *e < 3) {
            counts[e] += 1;
            for (k, v) in row {
                sums[e][*k as usize] += v;
            }
        }
    }
    Centroids {
        keys: profiles.keys.clone(),
        sums,
        counts,
    }
}

fn jsd(p: &[f64], q: &[f64]) -> f64 {
    let mut d = 0.0;
    for (a, b) in p.iter().zip(q) {
        let m = 0.5 * (a + b);
        if *a > 0.0 {
            d += 0.5 * a * (a / m).ln();
        }
        if *b > 0.0 {
            d += 0.5 * b * (b / m).ln();
        }
    }
    d.max(0.0).sqrt()
}

/// Assigns each sample to its nearest centroid. `leave_out` gives, per sample, the centroid it
/// contributed to (so its own profile is subtracted first).
pub fn assign(
    profiles: &KeyedProfiles,
    centroids: &Centroids,
    leave_out: Option<&[Option<usize>]>,
) -> Vec<EnterotypeCall> {
    let index: BTreeMap<&str, usize> = centroids
        .keys
        .iter()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let n = centroids.keys.len();
    profiles
        .rows
        .iter()
        .enumerate()
        .map(|(s, row)| {
            let mut p = vec![0.0; n];
            for (k, v) in row {
                if let Some(&i) = index.get(profiles.keys[*k as usize].as_str()) {
                    p[i] += v;
                }
            }
            let total: f64 = p.iter().sum();
            if total > 0.0 {
                p.iter_mut().for_each(|v| *v /= total);
            }
            let own = leave_out.and_then(|l| l[s]);
            let mut distances = [f64::INFINITY; 3];
            for (e, distance) in distances.iter_mut().enumerate() {
                let mut c = centroids.sums[e].clone();
                let mut count = centroids.counts[e];
                if own == Some(e) {
                    for (k, v) in row {
                        if let Some(&i) = index.get(profiles.keys[*k as usize].as_str()) {
                            c[i] -= v;
                        }
                    }
                    count -= 1;
                }
                if count == 0 {
                    continue;
                }
                let ct: f64 = c.iter().map(|v| v.max(0.0)).sum();
                let cn: Vec<f64> = c.iter().map(|v| v.max(0.0) / ct).collect();
                *distance = jsd(&p, &cn);
            }
            let best = (0..3)
                .min_by(|a, b| distances[*a].total_cmp(&distances[*b]))
                .unwrap_or(0);
            EnterotypeCall {
                sample_id: profiles.sample_ids[s].clone(),
                enterotype: NAMES[best],
                distances,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jensen_shannon_by_hand() {
        // Disjoint distributions: JSD = ln 2, distance sqrt(ln 2).
        assert!((jsd(&[1.0, 0.0], &[0.0, 1.0]) - 2f64.ln().sqrt()).abs() < 1e-15);
        assert_eq!(jsd(&[0.5, 0.5], &[0.5, 0.5]), 0.0);
    }
}
