#!/usr/bin/env python3
"""Load a table with the reference biom-format and print it as JSON.

    pip install biom-format==2.1.18 h5py
    python read_back.py FILE

FILE is anything biom.load_table reads (BIOM 2.x HDF5, BIOM 1.0 JSON, biom
TSV, gzipped JSON/TSV) or a QIIME 2 .qza whose <uuid>/data/ holds
feature-table.biom (it is extracted to a temporary file and loaded).

Prints one JSON object:
    {"samples": [ids], "features": [ids], "total": float, "nnz": int,
     "values": {"<feature>\\t<sample>": value, ...}}   # nonzero cells only
Exits 1 with a message on stderr if biom-format can't load the file.
Used by CI to prove that biom-format reads the files gutjoint writes.
"""

import json
import os
import sys
import tempfile
import zipfile

from biom import load_table


def load(path):
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist()
                     if n.count("/") == 2
                     and n.endswith("/data/feature-table.biom")]
            if len(names) != 1:
                raise ValueError("%s: expected one <uuid>/data/"
                                 "feature-table.biom, found %d"
                                 % (path, len(names)))
            payload = z.read(names[0])
        fd, tmp = tempfile.mkstemp(suffix=".biom")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
            return load_table(tmp)
        finally:
            os.unlink(tmp)
    return load_table(path)


def main(argv):
    if len(argv) != 2:
        print("usage: python read_back.py FILE", file=sys.stderr)
        return 2
    try:
        t = load(argv[1])
    except Exception as e:  # report any biom failure the same way
        print("read_back: biom-format could not load %s: %s: %s"
              % (argv[1], type(e).__name__, e), file=sys.stderr)
        return 1
    samples = [str(s) for s in t.ids(axis="sample")]
    features = [str(f) for f in t.ids(axis="observation")]
    m = t.matrix_data.tocoo()
    values = {}
    for i, j, v in zip(m.row, m.col, m.data):
        if v != 0:
            values["%s\t%s" % (features[i], samples[j])] = float(v)
    out = {
        "samples": samples,
        "features": features,
        "total": float(t.sum()),
        "nnz": int(t.nnz),
        "values": values,
    }
    json.dump(out, sys.stdout, sort_keys=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
