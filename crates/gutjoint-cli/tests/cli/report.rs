//! The main job: `gutjoint demo` / `analyze` write a self-contained report, results.json and
//! tables; identical inputs and seed give identical bytes; bad inputs end in clear messages.

use crate::common::*;

#[test]
fn demo_report_is_complete_and_deterministic() {
    let a = temp_dir("demo-a");
    let b = temp_dir("demo-b");
    ok([
        "demo",
        "-o",
        a.to_str().expect("utf8"),
        "--permutations",
        "199",
        "--quiet",
    ]);
    ok([
        "demo",
        "-o",
        b.to_str().expect("utf8"),
        "--permutations",
        "199",
        "--quiet",
    ]);
    for file in [
        "results.json",
        "report.html",
        "tables/alpha.tsv",
        "tables/pcoa.tsv",
        "tables/distance_braycurtis.tsv",
    ] {
        let (x, y) = (
            std::fs::read(a.join(file)).expect(file),
            std::fs::read(b.join(file)).expect(file),
        );
        assert!(!x.is_empty(), "{file} is empty");
        assert_eq!(x, y, "{file} differs between two identical runs");
    }
    let results = json(&std::fs::read_to_string(a.join("results.json")).expect("json"));
    // Group sizes of examples/demo/gmhi_arthritis_metadata.tsv (cut -f2 | sort | uniq -c).
    assert_eq!(
        results["groups"],
        serde_json::json!([{"group": "AS", "samples": 97}, {"group": "RA", "samples": 49}, {"group": "healthy", "samples": 118}])
    );
    assert_eq!(results["samples_used"], 264);
    assert_eq!(results["dropped_not_in_metadata"], 782 - 264);
    assert_eq!(results["permanova"]["sample_size"], 264);
    // The alpha medians in the results equal the medians of tables/alpha.tsv per group.
    let alpha = std::fs::read_to_string(a.join("tables/alpha.tsv")).expect("alpha");
    let mut shannon_as: Vec<f64> = alpha
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|f| f[1] == "AS")
        .map(|f| f[3].parse().expect("shannon"))
        .collect();
    shannon_as.sort_by(f64::total_cmp);
    let median = shannon_as[shannon_as.len() / 2]; // 97 values: the 49th
    let reported = results["alpha"]
        .as_array()
        .expect("alpha")
        .iter()
        .find(|r| r["metric"] == "shannon" && r["group"] == "AS")
        .expect("row");
    assert_eq!(reported["median"].as_f64(), Some(median));
    let html = std::fs::read_to_string(a.join("report.html")).expect("html");
    for id in [
        "research-use",
        "data",
        "composition",
        "alpha",
        "beta",
        "methods",
    ] {
        assert!(
            html.contains(&format!("id=\"{id}\"")),
            "section {id} missing"
        );
    }
    assert_eq!(
        html.matches("<svg").count(),
        6,
        "composition, four alpha box plots, PCoA"
    );
    assert!(
        !html.contains("http://")
            || html.matches("http://").count()
                == html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(),
        "no external resources"
    );
    assert!(!html.contains("<script"), "the report needs no script");
}

#[test]
fn analyze_bad_inputs_are_clear() {
    let out = temp_dir("bad-analyze");
    let r = run([
        "analyze",
        "examples/data/phyloseq/GlobalPatterns.otu.tsv",
        "--metadata",
        "examples/demo/gmhi_arthritis_metadata.tsv",
        "--group",
        "group",
        "-o",
        out.to_str().expect("utf8"),
    ]);
    assert_eq!(r.status, 1);
    assert!(
        r.stderr.contains(
            "none of the table's 26 sample ids is in examples/demo/gmhi_arthritis_metadata.tsv"
        ),
        "{}",
        r.stderr
    );
    assert!(
        !out.join("report.html").exists(),
        "no report after a failure"
    );
    let r = run([
        "analyze",
        "examples/data/gmhi/validation_abundance.csv",
        "--metadata",
        "examples/demo/gmhi_arthritis_metadata.tsv",
        "--group",
        "nope",
        "-o",
        out.to_str().expect("utf8"),
    ]);
    assert!(
        r.stderr.contains("no column 'nope'") && r.stderr.contains("group"),
        "{}",
        r.stderr
    );
}
