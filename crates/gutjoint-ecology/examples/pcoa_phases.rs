/*!
`gutjoint pcoa`'s whole path without the rest of the CLI, phase by phase, for profiling in a
release build of this crate alone (the CLI's release build pulls in far more):

    cargo run --release -p gutjoint-ecology --example pcoa_phases -- DM.tsv OUT.tsv [fsvd K]
    cargo run --release -p gutjoint-ecology --example pcoa_phases -- DM.tsv OUT.tsv [top K]
    cargo run --release -p gutjoint-ecology --example pcoa_phases -- DM.tsv compare

Prints `read`, `compute`, `format`, `write` and total seconds on stderr. `compare` times, in
one process on the same matrix, the eigendecomposition as `pcoa` did it before (faer's complete
`self_adjoint_eigen` of a copy of the centred matrix) against `pcoa` now, alternating 3 times.
*/

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: pcoa_phases DM.tsv OUT.tsv [fsvd K | top K]");
        std::process::exit(2);
    }
    let start = std::time::Instant::now();
    let mut last = start;
    let mut phase = |label: &str| {
        eprintln!("{label}\t{:.4}", last.elapsed().as_secs_f64());
        last = std::time::Instant::now();
    };
    let dm = gutjoint_table::read_distance_file(std::path::Path::new(&args[1])).expect("read");
    phase("read");
    if args[2] == "compare" {
        let n = dm.len();
        for _ in 0..3 {
            let t = std::time::Instant::now();
            // Before: the square, its centred copy, faer's matrix, faer's copy inside the EVD.
            let square = dm.to_square();
            let mut e: Vec<f64> = square.iter().map(|d| -0.5 * d * d).collect();
            let means: Vec<f64> = (0..n)
                .map(|i| e[i * n..(i + 1) * n].iter().sum::<f64>() / n as f64)
                .collect();
            let grand = means.iter().sum::<f64>() / n as f64;
            for i in 0..n {
                for j in 0..n {
                    e[i * n + j] += grand - means[i] - means[j];
                }
            }
            let matrix = faer::Mat::<f64>::from_fn(n, n, |i, j| e[i * n + j]);
            let evd = matrix.self_adjoint_eigen(faer::Side::Lower).expect("evd");
            let before = t.elapsed().as_secs_f64();
            let t = std::time::Instant::now();
            let now = gutjoint_ecology::pcoa(&dm).expect("pcoa");
            let after = t.elapsed().as_secs_f64();
            eprintln!(
                "before (full self_adjoint_eigen)\t{before:.4}\tnow (pcoa)\t{after:.4}\tratio\t{:.2}\t(lambda1 {} vs {})",
                before / after,
                evd.S()[n - 1],
                now.eigenvalues[0]
            );
        }
        return;
    }
    let (result, k) = if args.get(3).map(String::as_str) == Some("fsvd") {
        let k: usize = args[4].parse().expect("K");
        (gutjoint_ecology::pcoa_fsvd(&dm, k, 1).expect("fsvd"), k)
    } else if args.get(3).map(String::as_str) == Some("top") {
        // `gutjoint pcoa --dimensions K` (block Lanczos for the leading K axes).
        let k: usize = args[4].parse().expect("K");
        (gutjoint_ecology::pcoa_top(&dm, k).expect("top"), k)
    } else {
        let r = gutjoint_ecology::pcoa(&dm).expect("pcoa");
        let k = r.n_axes();
        (r, k)
    };
    phase("compute");
    let text = result.coordinates_tsv(k);
    phase("format");
    std::fs::write(&args[2], text).expect("write");
    phase("write");
    eprintln!("total\t{:.4}", start.elapsed().as_secs_f64());
}
