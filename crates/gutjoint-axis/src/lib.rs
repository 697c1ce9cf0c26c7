/*!
# gutjoint-axis — the gut–joint domain layer

The founding article's argument runs from ecology to the joint: a healthy gut is diverse with
no organism dominating; dysbiosis (an imbalance away from that state) and a leakier gut lining
may drive joint inflammation; and "microbial patterns also vary by geography". This crate turns
the ecology room's numbers into those domain answers:

- [`gmhi`] — the Gut Microbiome Health Index of Gupta et al. (2020), exactly as the authors
  compute it;
- [`reference`] and [`dysbiosis`] — healthy reference cohorts per population and each sample's
  distance from its own population's healthy state (HMP2's definition), with the taxa that
  deviate most;
- [`dominance`] — a single organism taking over (Taur et al. 2012's 30% rule);
- [`enterotype`] — Bacteroides-, Prevotella- or Ruminococcus-type communities (Arumugam et al.
  2011);
- [`confounders`] — what else differs between patients and controls (sequencing run, drugs,
  HLA-B27), which columns to adjust for, and whether a taxon's group difference survives them.

All functions are pure. None of their outputs is a diagnosis: each says what was compared with
what, and a reference is only as good as its match to the sample's population.
*/

pub mod confounders;
pub mod derived;
pub mod dominance;
pub mod dysbiosis;
pub mod engraftment;
pub mod enterotype;
pub mod error;
pub mod gmhi;
pub mod guilds;
pub mod pharmaco;
pub mod profile;
pub mod reference;
pub mod replicate;
pub mod signatures;
#[cfg(test)]
mod test_support;
pub mod trajectory;

pub use error::{Error, Result};
pub use profile::KeyedProfiles;
