"""Scale benchmarks for the domain commands (issues: dysbiosis, pharmacomicrobiomics).

Generates (seeded) species-level relative-abundance tables whose features are real species names
(drawn from the bundled GMHI validation table, so references, AGORA2 carriage and the synonym
table all apply), then times:

1. `gutjoint reference build` on 1,000 healthy samples and `gutjoint dysbiosis` of 100,000
   samples against it;
2. `gutjoint drugs` for 100,000 samples x 20 drugs.

Prints wall time and peak memory (GNU time) of each step. Usage:
  python bench/scale_domain.py [--samples 100000] [--gutjoint target/release/gutjoint]
"""
import argparse, csv, os, subprocess, tempfile, time
import numpy as np

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ap = argparse.ArgumentParser()
ap.add_argument("--samples", type=int, default=100_000)
ap.add_argument("--reference", type=int, default=1_000)
ap.add_argument("--gutjoint", default=os.path.join(root, "target/release/gutjoint"))
args = ap.parse_args()

with open(os.path.join(root, "examples/data/gmhi/validation_abundance.csv"), encoding="utf-8-sig") as f:
    species = [r[0] for r in list(csv.reader(f))[1:] if "unclassified" not in r[0] and "virus" not in r[0]]
rng = np.random.default_rng(42)

def write_table(path, n, prefix):
    # ~40 species per sample (95% zeros over ~540 species), Dirichlet abundances, in percent.
    with open(path, "w") as out:
        out.write("#OTU ID\t" + "\t".join(f"{prefix}{i}" for i in range(n)) + "\n")
        m = len(species)
        present = rng.random((m, n)) < 0.075
        values = np.where(present, rng.gamma(0.5, 1.0, (m, n)), 0.0)
        values = 100 * values / np.maximum(values.sum(axis=0), 1e-12)
        for j, name in enumerate(species):
            out.write(name + "\t" + "\t".join("0" if v == 0 else f"{v:.6g}" for v in values[j]) + "\n")

def timed(argv, label):
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v"] + argv, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{label} failed: {p.stderr[-2000:]}")
    rss = next((int(l.split()[-1]) for l in p.stderr.splitlines() if "Maximum resident set size" in l), 0)
    print(f"{label:<55} {wall:8.2f} s   peak RSS {rss / 1024:8.1f} MB")
    return p.stdout

with tempfile.TemporaryDirectory() as tmp:
    ref_table, ref_md, big = (os.path.join(tmp, x) for x in ("ref.tsv", "ref_md.tsv", "big.tsv"))
    write_table(ref_table, args.reference, "R")
    with open(ref_md, "w") as f:
        f.write("sample-id\tstatus\n" + "".join(f"R{i}\thealthy\n" for i in range(args.reference)))
    write_table(big, args.samples, "S")
    print(f"tables: reference {args.reference} samples, scored {args.samples} samples x {len(species)} species "
          f"({os.path.getsize(big) / 1e6:.0f} MB TSV); nproc {os.cpu_count()}")
    ref = os.path.join(tmp, "ref.json")
    timed([args.gutjoint, "reference", "build", ref_table, "--metadata", ref_md, "--where", "status=healthy",
           "--rank", "species", "-o", ref, "--quiet"], f"reference build ({args.reference} samples)")
    timed([args.gutjoint, "dysbiosis", big, "--reference", ref, "-o", os.path.join(tmp, "d.tsv"), "--quiet"],
          f"dysbiosis ({args.samples} samples vs {args.reference})")
    drugs = ("sulfasalazine,mesalazine,methotrexate,leflunomide,hydroxychloroquine,diclofenac,indomethacin,ketoprofen,"
             "naproxen,ibuprofen,celecoxib,prednisolone,tofacitinib,baricitinib,upadacitinib,filgotinib,colchicine,"
             "allopurinol,digoxin,levodopa")
    assert len(drugs.split(",")) == 20
    timed([args.gutjoint, "drugs", big, "--drugs", drugs, "-o", os.path.join(tmp, "drugs.tsv"), "--quiet"],
          f"drugs ({args.samples} samples x 20 drugs)")
    rows = sum(1 for _ in open(os.path.join(tmp, "drugs.tsv"))) - 1
    print(f"drug rows written: {rows}")
