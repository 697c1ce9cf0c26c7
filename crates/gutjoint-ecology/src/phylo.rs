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
use rayon::prelude::*;

/// One sample on the tree: its sparse branch row, total, and depth-weighted mean.
type SampleBranches = (Vec<(u32, f64)>, f64, f64);

/// Branch profiles of every sample, sparse: a sample touches only the branches above its
/// features (a few hundred of thousands), which is what makes pairwise UniFrac cheap.
#[derive(Debug, Clone)]
pub struct PhyloTable {
    /// Branch lengths (branches with length 0 are dropped: they add nothing to any metric).
    pub lengths: Vec<f64>,
    /// Per sample: `(branch, abundance below it)` for the branches with abundance, ascending.
    pub rows: Vec<Vec<(u32, f64)>>,
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
        let mut branch_of_node = vec![u32::MAX; nodes.len()];
        let mut lengths = Vec::new();
        for &node in &order {
            if node != root && tree.length(node) > 0.0 {
                branch_of_node[node] = lengths.len() as u32;
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
        let position: Vec<usize> = {
            let mut p = vec![0; nodes.len()];
            for (k, &node) in order.iter().enumerate() {
                p[node] = k;
            }
            p
        };
        let n_samples = table.n_samples();
        let per_sample: Vec<SampleBranches> = (0..n_samples)
            .into_par_iter()
            .map_init(
                // Per thread: abundance below each node and whether the node is touched, both
                // reset after each sample (dense arrays: a hash map per sample cost more than
                // the sums themselves).
                || (vec![0.0; nodes.len()], vec![false; nodes.len()]),
                |(acc, touched_mark), s| {
                    // Walk up from each feature, marking the touched nodes (a walk stops at a node
                    // already marked: its ancestors are), then visit them in post-order so every
                    // node is complete before its parent.
                    let (idx, vals) = table.sample(s);
                    let (mut total, mut dw) = (0.0, 0.0);
                    let mut touched: Vec<usize> = Vec::new();
                    for (f, v) in idx.iter().zip(vals) {
                        if let Some(node) = tip_of_feature[*f as usize] {
                            acc[node] += v;
                            total += v;
                            dw += depth[node] * v;
                            let mut up = Some(node);
                            while let Some(at) = up {
                                if touched_mark[at] {
                                    break;
                                }
                                touched_mark[at] = true;
                                touched.push(at);
                                up = nodes[at].parent;
                            }
                        }
                    }
                    touched.sort_unstable_by_key(|&node| position[node]);
                    let mut row = Vec::with_capacity(touched.len());
                    for &node in &touched {
                        let a = acc[node];
                        if let Some(parent) = nodes[node].parent {
                            acc[parent] += a;
                        }
                        if branch_of_node[node] != u32::MAX && a != 0.0 {
                            row.push((branch_of_node[node], a));
                        }
                    }
                    for &node in &touched {
                        acc[node] = 0.0;
                        touched_mark[node] = false;
                    }
                    row.sort_unstable_by_key(|p| p.0);
                    (row, total, if total > 0.0 { dw / total } else { 0.0 })
                },
            )
            .collect();
        let mut rows = Vec::with_capacity(n_samples);
        let mut totals = Vec::with_capacity(n_samples);
        let mut depth_weighted = Vec::with_capacity(n_samples);
        for (row, total, dw) in per_sample {
            rows.push(row);
            totals.push(total);
            depth_weighted.push(dw);
        }
        Ok(PhyloTable {
            lengths,
            rows,
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

    /// Faith's phylogenetic diversity of sample `s`.
    pub fn faith_pd(&self, s: usize) -> f64 {
        self.rows[s]
            .iter()
            .filter(|(_, a)| *a > 0.0)
            .map(|(b, _)| self.lengths[*b as usize])
            .sum()
    }
}
