/*!
`gutjoint beta`'s whole path without the rest of the CLI, phase by phase, for profiling in a
release build of this crate alone (the CLI's release build pulls in far more):

    cargo run --release -p gutjoint-ecology --example beta_phases -- TABLE METRIC OUT [TREE]

METRIC is a `gutjoint beta --metric` name (generalized UniFrac with alpha 0.5); OUT ending in
`.npy` is written as the condensed vector, else as lsmat text. Prints `read`, `tree`, `compute`,
`write` and `total` seconds on stderr.
*/

use std::path::Path;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: beta_phases TABLE METRIC OUT [TREE]");
        std::process::exit(2);
    }
    let start = std::time::Instant::now();
    let mut last = start;
    let mut phase = |label: &str| {
        eprintln!("{label}\t{:.4}", last.elapsed().as_secs_f64());
        last = std::time::Instant::now();
    };
    let table = gutjoint_table::read_table(Path::new(&args[1]), Default::default())
        .expect("read")
        .table;
    phase("read");
    let metric = gutjoint_ecology::BetaMetric::parse(&args[2], 0.5, 1.0).expect("metric");
    let phylo = args.get(4).map(|tree| {
        let tree = gutjoint_table::read_tree_file(Path::new(tree)).expect("tree");
        gutjoint_ecology::PhyloTable::new(&table, &tree, false).expect("tips")
    });
    phase("tree");
    let dm = gutjoint_ecology::beta(&table, metric, phylo.as_ref()).expect("beta");
    phase("compute");
    let out = Path::new(&args[3]);
    if out.extension().is_some_and(|e| e == "npy") {
        gutjoint_table::write_atomic_with(out, |w| {
            gutjoint_table::npy::write_npy_vector(dm.condensed(), w)
        })
        .expect("write");
    } else {
        gutjoint_table::write_atomic_with(out, |w| dm.write_lsmat(w)).expect("write");
    }
    phase("write");
    eprintln!("total\t{:.4}", start.elapsed().as_secs_f64());
}
