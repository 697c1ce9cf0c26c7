/*!
A feature table placed on a phylogeny, ready for UniFrac and Faith's PD.

Every branch (a non-root node with a positive length) gets, for every sample, the summed
abundance of the features below it, computed once in one post-order pass per sample. UniFrac
distances then become vector distances between samples' branch profiles: the idea behind
Fast UniFrac (Hamady et al. 2010, ISME J 4:17) and Striped UniFrac (McDonald et al. 2018,
Nat Methods 15:847), which walk branches for all pairs at once instead of walking the tree once
per pair.
*/

use crate::error::{Error, Result};
use gutjoint_table::{FeatureTable, Location, Tree};

/// Branch profiles of every sample.
#[derive(Debug, Clone)]
pub struct PhyloTable {
    /// Branch lengths (branches with length 0 are dropped: they add nothing to any metric).
    pub lengths: Vec<f64>,
    /// Row-major `n_samples × n_branches`: abundance below each branch.
    pub below: Vec<f64>,
    /// Sample totals.
    pub totals: Vec<f64>,
    /// For weighted normalized UniFrac: `Σ_f depth(f) x_sf / N_s`, depth = root-to-tip length.
    pub depth_weighted: Vec<f64>,
    pub n_samples: usize,
    pub sample_ids: Vec<String>,
    /// Features set aside because the tree lacks them (with `drop_missing`).
    pub dropped: Vec<String>,
}

impl PhyloTable {
    /// Places `table` on `tree`, matching features to tips by name. Features with no tip are an
    /// error unless `drop_missing` is set.
    pub fn new(table: &FeatureTable, tree: &Tree, drop_missing: bool) -> Result<PhyloTable> {
        let tips = tree
            .tip_index(&Location::named("tree"))
            .map_err(|e| Error::Invalid(e.to_string()))?;
        let mut tip_of_feature = Vec::with_capacity(table.n_features());
        let mut dropped = Vec::new();
        for id in table.feature_ids() {
            match tips.get(id.as_str()) {
                Some(&node) => tip_of_feature.push(Some(node)),
                None => {
                    dropped.push(id.clone());
                    tip_of_feature.push(None);
                }
            }
        }
        if !dropped.is_empty() && !drop_missing {
            return Err(Error::MissingFromTree {
                missing: dropped.len(),
                first: dropped[0].clone(),
            });
        }
        let nodes = tree.nodes();
        let order = tree.postorder();
        let root = tree.root();
        // Branch numbering: post-order position of each non-root node with positive length.
        let mut branch_of_node = vec![usize::MAX; nodes.len()];
        let mut lengths = Vec::new();
        for &node in &order {
            if node != root && tree.length(node) > 0.0 {
                branch_of_node[node] = lengths.len();
                lengths.push(tree.length(node));
            }
        }
        // Root-to-node depth, for the normalisation of weighted UniFrac.
        let mut depth = vec![0.0; nodes.len()];
        for &node in order.iter().rev() {
            if let Some(parent) = nodes[node].parent {
                depth[node] = depth[parent] + tree.length(node);
            }
        }
        let n_samples = table.n_samples();
        let n_branches = lengths.len();
        let mut below = vec![0.0; n_samples * n_branches];
        let mut totals = vec![0.0; n_samples];
        let mut depth_weighted = vec![0.0; n_samples];
        let mut acc = vec![0.0; nodes.len()];
        for s in 0..n_samples {
            acc.iter_mut().for_each(|a| *a = 0.0);
            let (idx, vals) = table.sample(s);
            let mut total = 0.0;
            let mut dw = 0.0;
            for (f, v) in idx.iter().zip(vals) {
                if let Some(node) = tip_of_feature[*f as usize] {
                    acc[node] += v;
                    total += v;
                    dw += depth[node] * v;
                }
            }
            let row = &mut below[s * n_branches..(s + 1) * n_branches];
            for &node in &order {
                let a = acc[node];
                if a != 0.0 {
                    if let Some(parent) = nodes[node].parent {
                        acc[parent] += a;
                    }
                    if branch_of_node[node] != usize::MAX {
                        row[branch_of_node[node]] = a;
                    }
                }
            }
            totals[s] = total;
            depth_weighted[s] = if total > 0.0 { dw / total } else { 0.0 };
        }
        Ok(PhyloTable {
            lengths,
            below,
            totals,
            depth_weighted,
            n_samples,
            sample_ids: table.sample_ids().to_vec(),
            dropped,
        })
    }

    pub fn n_branches(&self) -> usize {
        self.lengths.len()
    }

    pub fn row(&self, s: usize) -> &[f64] {
        let b = self.n_branches();
        &self.below[s * b..(s + 1) * b]
    }

    /// Faith's phylogenetic diversity of sample `s`.
    pub fn faith_pd(&self, s: usize) -> f64 {
        self.row(s)
            .iter()
            .zip(&self.lengths)
            .filter(|(a, _)| **a > 0.0)
            .map(|(_, l)| l)
            .sum()
    }
}
