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
        "gmhi",
        "dysbiosis",
        "signatures",
        "differential-abundance",
        "classifiers",
        "drugs",
        "therapy",
        "methods",
    ] {
        assert!(
            html.contains(&format!("id=\"{id}\"")),
            "section {id} missing"
        );
    }
    assert_eq!(
        html.matches("<svg").count(),
        10,
        "composition, four alpha box plots, PCoA, GMHI, dysbiosis, volcanoes of AS and RA vs healthy"
    );
    let da = &results["differential_abundance"];
    assert_eq!(da["reference"], "healthy");
    assert_eq!(da["samples"], 264);
    // GMHI per group in the report equals `gutjoint gmhi` on the same samples.
    let gmhi = ok([
        "gmhi",
        "examples/data/gmhi/validation_abundance.csv",
        "--quiet",
    ]);
    let md = std::fs::read_to_string(repo().join("examples/demo/gmhi_arthritis_metadata.tsv"))
        .expect("md");
    let ra: std::collections::HashSet<&str> = md
        .lines()
        .filter(|l| l.split('\t').nth(1) == Some("RA"))
        .map(|l| l.split('\t').next().unwrap_or(""))
        .collect();
    let mut ra_gmhi: Vec<f64> = gmhi
        .lines()
        .skip(1)
        .filter(|l| ra.contains(l.split('\t').next().unwrap_or("")))
        .map(|l| l.split('\t').nth(1).expect("gmhi").parse().expect("n"))
        .collect();
    ra_gmhi.sort_by(f64::total_cmp);
    let reported = results["gmhi"]["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["group"] == "RA")
        .expect("RA");
    assert_eq!(reported["n"], 49);
    assert_eq!(
        reported["median"].as_f64(),
        Some(ra_gmhi[24]),
        "median of 49 values"
    );
    // The GESPIC cohort is the demo's second report.
    let gespic = json(&std::fs::read_to_string(a.join("gespic/results.json")).expect("gespic"));
    assert_eq!(gespic["samples_used"], 339);
    assert_eq!(gespic["permanova"]["number_of_groups"], 4);
    // #13: the GESPIC report opens with the sequencing-run warning (every healthy sample is in
    // run 0) and tests axSpA vs healthy within run 0 (16 axSpA, 62 healthy: cut -f2,3 of the
    // metadata | sort | uniq -c).
    let gespic_html = std::fs::read_to_string(a.join("gespic/report.html")).expect("html");
    let warning = gespic_html
        .find("axSpA vs healthy: 'SeqExp' is a nuisance column collinear with the group")
        .expect("the SeqExp warning");
    assert!(warning < gespic_html.find("id=\"data\"").expect("data section"));
    let axspa = gespic["confounders"]["comparisons"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["label"] == "axSpA vs healthy"))
        .expect("axSpA vs healthy");
    assert_eq!(axspa["collinear"][0]["within_level"], "0");
    assert_eq!(axspa["collinear"][0]["permanova_within"]["sample_size"], 78);
    // Both demo cohorts have a 'healthy' level: dysbiosis is scored against it.
    assert_eq!(gespic["dysbiosis"]["reference"], "own controls (healthy)");
    assert_eq!(results["dysbiosis"]["reference"], "own controls (healthy)");
    // The GESPIC report carries the gut–joint link: guilds by group and host associations.
    assert_eq!(
        gespic["gut_joint"]["guilds"].as_array().map(Vec::len),
        Some(7)
    );
    assert!(
        gespic["gut_joint"]["associations"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    let gespic_html = std::fs::read_to_string(a.join("gespic/report.html")).expect("html");
    assert!(gespic_html.contains("id=\"gut-joint\""));
    // The probiotic trial is the third: change over time, the same bytes on each run.
    for file in ["probiotic/results.json", "probiotic/report.html"] {
        assert_eq!(
            std::fs::read(a.join(file)).expect(file),
            std::fs::read(b.join(file)).expect(file),
            "{file} differs between two identical runs"
        );
    }
    let probiotic =
        json(&std::fs::read_to_string(a.join("probiotic/results.json")).expect("probiotic"));
    assert_eq!(probiotic["samples_used"], 44);
    assert_eq!(
        probiotic["change"]["points"].as_array().map(Vec::len),
        Some(44)
    );
    assert_eq!(probiotic["change"]["control_group"], "Placebo");
    // The report's classifier is `gutjoint classify` with the same settings (L1 logistic,
    // 5 x 5 folds, seed 0, features in >= 10% of the samples compared): the same AUC.
    let classifiers = results["classifiers"]["comparisons"]
        .as_array()
        .expect("comparisons");
    assert_eq!(classifiers.len(), 2, "AS and RA, each against healthy");
    let report_as = classifiers
        .iter()
        .find(|c| c["case"] == "AS")
        .expect("AS vs healthy");
    let cli = json(&ok([
        "classify",
        "examples/data/gmhi/validation_abundance.csv",
        "--metadata",
        "examples/demo/gmhi_arthritis_metadata.tsv",
        "--column",
        "group",
        "--positive",
        "AS",
        "--negative",
        "healthy",
        "--model",
        "l1-logistic",
        "--min-prevalence",
        "0.1",
        "--seed",
        "0",
        "--json",
        "--quiet",
    ]));
    assert_eq!(report_as["auc"], cli["auc"]);
    assert_eq!(report_as["features"], cli["features"]);
    assert_eq!(report_as["n_case"], 97);
    assert!(
        !html.contains("http://")
            || html.matches("http://").count()
                == html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(),
        "no external resources"
    );
    assert!(!html.contains("<script"), "the report needs no script");
}

#[test]
fn analyze_with_ancombc_reports_what_da_computes() {
    // `analyze --da-method ancombc` fits C(group) against healthy on the features present in
    // >= 10% of the samples: exactly `gutjoint da --method ancombc` with those settings.
    let out = temp_dir("analyze-ancombc");
    let g = "tests/data/golden/stats";
    ok([
        "analyze",
        &format!("{g}/gespic_axspa_healthy_genus.tsv"),
        "--metadata",
        &format!("{g}/gespic_axspa_healthy_metadata.tsv"),
        "--group",
        "group",
        "--da-method",
        "ancombc",
        "--classifier",
        "none",
        "--permutations",
        "9",
        "-o",
        out.to_str().expect("utf8"),
        "--quiet",
    ]);
    let results = json(&std::fs::read_to_string(out.join("results.json")).expect("json"));
    let da = &results["differential_abundance"];
    assert_eq!(da["method"], "ancombc");
    assert!(results["classifiers"].is_null());
    let tsv = ok([
        "da",
        &format!("{g}/gespic_axspa_healthy_genus.tsv"),
        "--metadata",
        &format!("{g}/gespic_axspa_healthy_metadata.tsv"),
        "--formula",
        "C(group)",
        "--reference",
        "group=healthy",
        "--method",
        "ancombc",
        "--min-prevalence",
        "0.1",
        "--quiet",
    ]);
    let mut lines = tsv.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let expected: Vec<(String, f64, f64)> = lines
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|f| f[col("term")] == "group[T.axSpA]")
        .map(|f| {
            (
                f[col("feature")].to_string(),
                f[col("estimate")].parse().expect("estimate"),
                f[col("q")].parse().expect("q"),
            )
        })
        .collect();
    let reported = da["coefficients"].as_array().expect("coefficients");
    assert_eq!(reported.len(), expected.len());
    for (r, (feature, estimate, q)) in reported.iter().zip(&expected) {
        assert_eq!(r["feature"].as_str(), Some(feature.as_str()));
        assert_eq!(r["estimate"].as_f64(), Some(*estimate), "{feature}");
        assert_eq!(r["q"].as_f64(), Some(*q), "{feature}");
    }
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
    // Method names are refused by the argument parser (exit status 2), which lists the names
    // it takes; the shared names live in crates/gutjoint-cli/src/methods.rs.
    for (flag, value, expected) in [
        (
            "--da-method",
            "ancom",
            "invalid value 'ancom' for '--da-method",
        ),
        (
            "--classifier",
            "svm",
            "invalid value 'svm' for '--classifier",
        ),
    ] {
        let r = run([
            "analyze",
            "examples/data/gmhi/validation_abundance.csv",
            "--metadata",
            "examples/demo/gmhi_arthritis_metadata.tsv",
            "--group",
            "group",
            flag,
            value,
            "-o",
            out.to_str().expect("utf8"),
        ]);
        assert_eq!(r.status, 2);
        assert!(
            r.stderr.contains(expected) && r.stderr.contains("possible values"),
            "{}",
            r.stderr
        );
        assert!(
            !out.join("report.html").exists(),
            "no report after a failure"
        );
    }
}

/// The report as a person sees it: headless Chromium renders the demo report, logs no console
/// error, lays out every section with its plots, and takes a screenshot
/// (target/demo-report.png). CI installs Debian's chromium and sets GUTJOINT_REQUIRE_CHROMIUM.
#[test]
fn demo_report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        return;
    };
    let out = temp_dir("chromium");
    ok([
        "demo",
        "-o",
        out.to_str().expect("utf8"),
        "--permutations",
        "99",
        "--quiet",
    ]);
    let url = format!("file://{}", out.join("report.html").display());
    let profile = out.join("profile");
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
    ];
    let dom = std::process::Command::new(browser)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", &url])
        .output()
        .expect("chromium");
    assert!(
        dom.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let stderr = String::from_utf8_lossy(&dom.stderr);
    let console: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect();
    assert!(console.is_empty(), "console messages: {console:?}");
    let rendered = String::from_utf8_lossy(&dom.stdout);
    for id in [
        "research-use",
        "data",
        "composition",
        "alpha",
        "beta",
        "gmhi",
        "dysbiosis",
        "signatures",
        "differential-abundance",
        "classifiers",
        "drugs",
        "therapy",
        "methods",
    ] {
        assert!(
            rendered.contains(&format!("id=\"{id}\"")),
            "section {id} missing after rendering"
        );
    }
    // Every plot has drawn elements.
    for svg in rendered.split("<svg").skip(1) {
        let body = svg.split("</svg>").next().unwrap_or("");
        assert!(
            body.contains("<rect") || body.contains("<circle"),
            "an empty plot"
        );
    }
    // The third report (change over time in the probiotic trial) renders too, and each of its
    // new plots draws a line and a dot per subject.
    let url3 = format!("file://{}", out.join("probiotic/report.html").display());
    let dom3 = std::process::Command::new(browser)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--dump-dom", &url3])
        .output()
        .expect("chromium");
    assert!(dom3.status.success());
    let stderr3 = String::from_utf8_lossy(&dom3.stderr);
    assert!(
        !stderr3
            .lines()
            .any(|l| l.contains("CONSOLE") || l.contains("Uncaught")),
        "console messages: {stderr3}"
    );
    let rendered3 = String::from_utf8_lossy(&dom3.stdout);
    let change = rendered3
        .split("<section id=\"change\">")
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .expect("the change section after rendering");
    let plots: Vec<&str> = change.split("<svg").skip(1).collect();
    assert_eq!(plots.len(), 2, "Shannon and dysbiosis");
    for svg in plots {
        let body = svg.split("</svg>").next().unwrap_or("");
        // 22 subjects, two visits each.
        assert_eq!(body.matches("<polyline").count(), 22, "a line per subject");
        assert_eq!(body.matches("<circle").count(), 44, "a dot per sample");
    }
    for svg in rendered3.split("<svg").skip(1) {
        let body = svg.split("</svg>").next().unwrap_or("");
        assert!(
            body.contains("<rect") || body.contains("<circle"),
            "an empty plot in the third report"
        );
    }
    let screenshot = repo().join("target/demo-report.png");
    let shot = std::process::Command::new(browser)
        .args(common)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args([
            "--window-size=1100,6000",
            &format!("--screenshot={}", screenshot.display()),
            &url,
        ])
        .output()
        .expect("chromium");
    assert!(shot.status.success());
    let png = std::fs::read(&screenshot).expect("screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 50_000,
        "a 1100x6000 screenshot of the report is not blank: {} bytes",
        png.len()
    );
}

#[test]
fn one_patient_view_and_problems_in_terminal_and_report() {
    let out = temp_dir("patient");
    let md = out.join("md.tsv");
    // Two AS samples and two healthy ones of the bundled cohort; one takes an unknown drug.
    std::fs::write(
        &md,
        "sample-id\tgroup\tmeds\nSRR5279217\tAS\tsulfasalazine, wonderpill\nSRR5279218\tAS\tnone\nSAMEA2582018\thealthy\t\nSAMEA2582019\thealthy\tdiclofenac\n",
    )
    .expect("write");
    let r = run([
        "analyze",
        "examples/data/gmhi/validation_abundance.csv",
        "--metadata",
        md.to_str().expect("utf8"),
        "--group",
        "group",
        "--medication-column",
        "meds",
        "--sample",
        "SRR5279217",
        "--permutations",
        "9",
        "-o",
        out.join("r").to_str().expect("utf8"),
    ]);
    assert_eq!(r.status, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("medications not in the knowledge base (not scored): wonderpill"),
        "{}",
        r.stderr
    );
    let results = json(&std::fs::read_to_string(out.join("r/results.json")).expect("results"));
    let p = &results["patient"];
    assert_eq!(p["sample_id"], "SRR5279217");
    assert_eq!(p["group"], "AS");
    // The patient's GMHI is the one `gutjoint gmhi` prints for that sample.
    let gmhi = ok([
        "gmhi",
        "examples/data/gmhi/validation_abundance.csv",
        "--quiet",
    ]);
    let expected: f64 = gmhi
        .lines()
        .find(|l| l.starts_with("SRR5279217\t"))
        .expect("row")
        .split('\t')
        .nth(1)
        .expect("v")
        .parse()
        .expect("n");
    assert_eq!(p["gmhi"].as_f64(), Some(expected));
    let drugs: Vec<&str> = p["drugs"]
        .as_array()
        .expect("drugs")
        .iter()
        .filter_map(|d| d["drug"].as_str())
        .collect();
    assert!(
        drugs.iter().all(|d| *d == "sulfasalazine") && !drugs.is_empty(),
        "{drugs:?}"
    );
    let html = std::fs::read_to_string(out.join("r/report.html")).expect("html");
    assert!(html.contains("id=\"patient\"") && html.contains("wonderpill"));
    // A group column with one level: PERMANOVA is skipped with a note, the rest still runs.
    std::fs::write(
        &md,
        "sample-id\tgroup\nSRR5279217\tAS\nSRR5279218\tAS\nSRR5279219\tAS\n",
    )
    .expect("write");
    let one = run([
        "analyze",
        "examples/data/gmhi/validation_abundance.csv",
        "--metadata",
        md.to_str().expect("utf8"),
        "--group",
        "group",
        "-o",
        out.join("one").to_str().expect("utf8"),
    ]);
    assert_eq!(one.status, 0, "{}", one.stderr);
    assert!(one.stderr.contains("one group only"), "{}", one.stderr);
    let html = std::fs::read_to_string(out.join("one/report.html")).expect("html");
    assert!(html.contains("one group only"));
}

/// The Python interpreter of the peers venv (scripts/setup.sh), when it has `module`.
fn peers_python(module: &str) -> Option<std::path::PathBuf> {
    let venv = std::env::var_os("GUTJOINT_PY_VENV")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .map(std::path::PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cache"))
                })
                .map(|c| c.join("gutjoint/py-peers"))
        })?;
    let python = venv.join("bin/python");
    std::process::Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success())
        .then_some(python)
}

/// SHA-256 of a file as coreutils' `sha256sum` prints it.
fn sha256sum(path: &std::path::Path) -> String {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .expect("digest")
        .to_string()
}

/// The three demo reports: `gutjoint report results.json` re-renders report.html byte for byte;
/// results.json validates against docs/results.schema.json with Python's jsonschema; the
/// provenance's checksums are sha256sum's; no absolute path of the run is in the results; and
/// the command the provenance records, run in the report's folder, writes the same bytes.
#[test]
fn results_re_render_validate_and_reproduce() {
    let out = temp_dir("rerender");
    ok([
        "demo",
        "-o",
        out.to_str().expect("utf8"),
        "--permutations",
        "19",
        "--quiet",
    ]);
    let python = peers_python("jsonschema");
    if python.is_none() {
        assert!(
            std::env::var_os("GUTJOINT_REQUIRE_PYTHON").is_none(),
            "Python jsonschema is required but not in the peers venv (scripts/setup.sh)"
        );
        eprintln!(
            "note: schema validation skipped: no jsonschema in the peers venv (scripts/setup.sh)"
        );
    }
    for dir in [out.clone(), out.join("gespic"), out.join("probiotic")] {
        let results = dir.join("results.json");
        let again = dir.join("again.html");
        ok([
            "report",
            results.to_str().expect("utf8"),
            "-o",
            again.to_str().expect("utf8"),
            "--quiet",
        ]);
        assert!(
            std::fs::read(&again).expect("again")
                == std::fs::read(dir.join("report.html")).expect("report"),
            "{}: the re-rendered report differs from the written one",
            dir.display()
        );
        if let Some(python) = &python {
            let check = std::process::Command::new(python)
                .args([
                    "-c",
                    "import json, sys, jsonschema\n\
                     schema = json.load(open(sys.argv[1]))\n\
                     jsonschema.Draft202012Validator.check_schema(schema)\n\
                     jsonschema.Draft202012Validator(schema).validate(json.load(open(sys.argv[2])))",
                ])
                .arg(repo().join("docs/results.schema.json"))
                .arg(&results)
                .output()
                .expect("python");
            assert!(
                check.status.success(),
                "{}: {}",
                results.display(),
                String::from_utf8_lossy(&check.stderr)
            );
        }
        let text = std::fs::read_to_string(&results).expect("results");
        assert!(
            !text.contains(out.to_str().expect("utf8"))
                && !text.contains(repo().to_str().expect("utf8")),
            "{}: an absolute path of this run is in the results",
            results.display()
        );
        let r = json(&text);
        let p = &r["provenance"];
        for input in p["inputs"].as_array().expect("inputs") {
            let path = dir.join(input["path"].as_str().expect("relative path"));
            assert_eq!(
                input["sha256"].as_str(),
                Some(sha256sum(&path).as_str()),
                "{input}"
            );
            assert_eq!(
                input["bytes"].as_u64(),
                Some(std::fs::metadata(&path).expect("size").len())
            );
        }
        // The probiotic trial's table comes with its taxonomy.
        let probiotic = dir.ends_with("probiotic");
        assert_eq!(
            p["inputs"].as_array().map(Vec::len),
            Some(if probiotic { 3 } else { 2 }),
            "table and metadata (and taxonomy)"
        );
        let taxon_disease = p["knowledge_base"]["tables"]
            .as_array()
            .expect("tables")
            .iter()
            .find(|t| t["name"] == "knowledge/taxon_disease.tsv")
            .expect("taxon_disease");
        assert_eq!(
            taxon_disease["sha256"].as_str(),
            Some(sha256sum(&repo().join("knowledge/taxon_disease.tsv")).as_str())
        );
        assert_eq!(p["parameters"]["permutations"], 19);
        assert_eq!(
            p["parameters"]["metric"], "braycurtis",
            "defaults are recorded too"
        );
        assert!(
            p["command"]
                .as_str()
                .is_some_and(|c| c.ends_with("--output .")),
            "{}",
            p["command"]
        );
    }
    // The GESPIC command, run in its folder with this binary first on PATH, rewrites the same
    // results and report.
    let gespic = out.join("gespic");
    let before: Vec<Vec<u8>> = ["results.json", "report.html"]
        .iter()
        .map(|f| std::fs::read(gespic.join(f)).expect("file"))
        .collect();
    let command =
        json(&std::fs::read_to_string(gespic.join("results.json")).expect("results"))["provenance"]
            ["command"]
            .as_str()
            .expect("command")
            .to_string();
    let bin_dir = bin().parent().expect("bin dir").to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let rerun = std::process::Command::new("sh")
        .args(["-c", &format!("{command} --quiet")])
        .current_dir(&gespic)
        .env("PATH", path)
        .output()
        .expect("sh");
    assert!(
        rerun.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    for (f, old) in ["results.json", "report.html"].iter().zip(&before) {
        assert!(
            &std::fs::read(gespic.join(f)).expect("file") == old,
            "{f} differs after running the recorded command"
        );
    }
    // A results file of another major schema version is refused, naming both versions.
    let mut old = json(&std::fs::read_to_string(out.join("results.json")).expect("results"));
    let current = old["schema_version"].as_str().expect("version").to_string();
    old["schema_version"] = serde_json::json!("0.1");
    let old_path = out.join("old.json");
    std::fs::write(&old_path, old.to_string()).expect("write");
    let r = run([
        "report",
        old_path.to_str().expect("utf8"),
        "-o",
        out.join("old.html").to_str().expect("utf8"),
    ]);
    assert_eq!(r.status, 1);
    assert!(
        r.stderr
            .contains("results schema version 0.1, but this gutjoint")
            && r.stderr
                .contains(&format!("reads schema version {current}")),
        "{}",
        r.stderr
    );
    assert!(
        !out.join("old.html").exists(),
        "no report from a refused file"
    );
}
