/*!
NumPy `.npy` for distance matrices too large for text: the condensed upper triangle as one
little-endian vector (what `scipy.spatial.distance.squareform` takes), version 1.0 header, with
the sample ids one per line in `<file>.ids.txt` beside it. 50,000 samples make 1.25 × 10⁹
distances — 5 GB as f32, against ~25 GB as lsmat text.

The reader takes what the writer writes and what a scikit-bio user saves by hand: the condensed
vector or the square `n × n` array (`np.save("dm.npy", dm.data)`), `<f8` or `<f4`, header
versions 1–3. At 2,000 samples it reads 16 MB instead of parsing 70 MB of text (bench/README.md).
*/

use std::io::{self, Read, Write};
use std::path::Path;

use crate::distance::{
    DistanceMatrix, condensed_index, condensed_pair, not_hollow, not_symmetric, same_distance,
};
use crate::error::{Error, Location, Result};

/// Element types the writer knows.
pub trait NpyElement: Copy {
    const DESCR: &'static str;
    fn write_le(values: &[Self], out: &mut dyn Write) -> io::Result<()>;
}

impl NpyElement for f32 {
    const DESCR: &'static str = "<f4";
    fn write_le(values: &[f32], out: &mut dyn Write) -> io::Result<()> {
        let mut buf = Vec::with_capacity(4 * 65536);
        for chunk in values.chunks(65536) {
            buf.clear();
            chunk
                .iter()
                .for_each(|v| buf.extend_from_slice(&v.to_le_bytes()));
            out.write_all(&buf)?;
        }
        Ok(())
    }
}

impl NpyElement for f64 {
    const DESCR: &'static str = "<f8";
    fn write_le(values: &[f64], out: &mut dyn Write) -> io::Result<()> {
        let mut buf = Vec::with_capacity(8 * 65536);
        for chunk in values.chunks(65536) {
            buf.clear();
            chunk
                .iter()
                .for_each(|v| buf.extend_from_slice(&v.to_le_bytes()));
            out.write_all(&buf)?;
        }
        Ok(())
    }
}

/// Writes a 1-D array in `.npy` format (version 1.0; header padded to a multiple of 64 bytes).
pub fn write_npy_vector<T: NpyElement>(values: &[T], out: &mut dyn Write) -> io::Result<()> {
    write_npy_header::<T>(values.len(), out)?;
    T::write_le(values, out)
}

/// Writes the `.npy` header of a 1-D array of `len` elements, for writers that stream the
/// values after it (merging a matrix's blocks without holding it).
pub fn write_npy_header<T: NpyElement>(len: usize, out: &mut dyn Write) -> io::Result<()> {
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': ({},), }}",
        T::DESCR,
        len
    );
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    out.write_all(b"\x93NUMPY\x01\x00")?;
    out.write_all(&(header.len() as u16).to_le_bytes())?;
    out.write_all(header.as_bytes())
}

/// The ids file of a `.npy` distance matrix: `<path>.ids.txt`.
pub fn ids_path(path: &Path) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".ids.txt");
    name.into()
}

/// What a `.npy` header says, as far as a distance matrix needs it.
#[derive(Debug, PartialEq)]
struct Header {
    /// `true` for `<f4`, `false` for `<f8`.
    single: bool,
    fortran_order: bool,
    shape: Vec<usize>,
}

/// Parses the header dictionary (`{'descr': '<f8', 'fortran_order': False, 'shape': (n,), }`).
fn parse_header(text: &str, at: &Location) -> Result<Header> {
    let value_of = |key: &str| -> Result<&str> {
        let quoted = format!("'{key}':");
        let start = text.find(&quoted).ok_or_else(|| {
            Error::syntax(
                at,
                format!("the .npy header has no '{key}' (header: {text})"),
            )
        })? + quoted.len();
        Ok(text[start..].trim_start())
    };
    let descr = value_of("descr")?;
    let single = if descr.starts_with("'<f8'") {
        false
    } else if descr.starts_with("'<f4'") {
        true
    } else {
        let shown: String = descr.chars().take_while(|&c| c != ',').collect();
        return Err(Error::unsupported(
            at,
            format!("element type {shown}, expected little-endian floats '<f8' or '<f4'"),
        ));
    };
    let order = value_of("fortran_order")?;
    let fortran_order = if order.starts_with("False") {
        false
    } else if order.starts_with("True") {
        true
    } else {
        return Err(Error::syntax(
            at,
            "'fortran_order' is neither True nor False",
        ));
    };
    let shape = value_of("shape")?;
    let inner = shape
        .strip_prefix('(')
        .and_then(|rest| rest.split_once(')'))
        .map(|(inner, _)| inner)
        .ok_or_else(|| Error::syntax(at, "'shape' is not a tuple"))?;
    let shape = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| Error::syntax(at, format!("'shape' holds '{s}', expected sizes")))
        })
        .collect::<Result<Vec<usize>>>()?;
    Ok(Header {
        single,
        fortran_order,
        shape,
    })
}

/// Reads a distance matrix from `.npy` (condensed vector or square array, see the module
/// docs) and its ids from `<path>.ids.txt`. Values must be finite and non-negative, a square
/// must be hollow and symmetric (the lsmat reader's rules), and the array's size must match
/// the number of ids; each error names the file and the element.
pub fn read_npy_distance(path: &Path) -> Result<DistanceMatrix> {
    let at = Location::file(path);
    let id_file = ids_path(path);
    let id_text = std::fs::read_to_string(&id_file).map_err(|e| Error::io(&id_file, e))?;
    let ids: Vec<String> = id_text.lines().map(str::to_owned).collect();
    if let Some(line) = ids.iter().position(|id| id.trim().is_empty()) {
        return Err(Error::syntax(
            &Location::file(&id_file).at_line(line + 1),
            "an empty id, expected one sample id per line",
        ));
    }
    let n = ids.len();
    if n == 0 {
        return Err(Error::syntax(
            &Location::file(&id_file),
            "no sample ids, expected one per line (the matrix's rows in order)",
        ));
    }
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut input = io::BufReader::with_capacity(1 << 20, file);
    let mut magic = [0u8; 8];
    input.read_exact(&mut magic).map_err(|_| {
        Error::syntax(
            &at,
            "shorter than a .npy header, expected a NumPy array file",
        )
    })?;
    if &magic[..6] != b"\x93NUMPY" {
        return Err(Error::syntax(
            &at,
            "not a NumPy .npy file (no \\x93NUMPY magic)",
        ));
    }
    let header_len = match magic[6] {
        1 => {
            let mut len = [0u8; 2];
            input.read_exact(&mut len).map_err(|e| Error::io(path, e))?;
            u16::from_le_bytes(len) as usize
        }
        2 | 3 => {
            let mut len = [0u8; 4];
            input.read_exact(&mut len).map_err(|e| Error::io(path, e))?;
            u32::from_le_bytes(len) as usize
        }
        v => {
            return Err(Error::unsupported(
                &at,
                format!(".npy format version {v}, expected 1, 2 or 3"),
            ));
        }
    };
    if header_len > 1 << 20 {
        return Err(Error::syntax(
            &at,
            format!("a .npy header of {header_len} bytes, expected a short dictionary"),
        ));
    }
    let mut header = vec![0u8; header_len];
    input
        .read_exact(&mut header)
        .map_err(|_| Error::syntax(&at, "the .npy header is cut short"))?;
    let header = String::from_utf8_lossy(&header);
    let Header {
        single,
        fortran_order,
        shape,
    } = parse_header(&header, &at)?;
    let pairs = n * n.saturating_sub(1) / 2;
    let square = match shape.as_slice() {
        [len] if *len == pairs => false,
        [rows, cols] if *rows == n && *cols == n => true,
        _ => {
            return Err(Error::invalid(
                &at,
                format!(
                    "array of shape {shape:?} for {n} ids in {}, expected ({pairs},) (the \
                     condensed upper triangle) or ({n}, {n})",
                    id_file.display()
                ),
            ));
        }
    };
    let count = if square { n * n } else { pairs };
    let width = if single { 4 } else { 8 };
    let mut condensed = vec![0.0f64; pairs];
    // Element e of the array as (row, column) in the order it is stored. A square in Fortran
    // order is stored as its transpose, the same matrix once symmetry holds, so only the
    // messages swap the pair back.
    let place = |e: usize| -> (usize, usize) {
        if square {
            (e / n, e % n)
        } else {
            (usize::MAX, e)
        }
    };
    let mut buffer = vec![0u8; width * 65536];
    let mut e = 0usize;
    while e < count {
        let take = (count - e).min(65536);
        input.read_exact(&mut buffer[..take * width]).map_err(|_| {
            Error::syntax(
                &at,
                format!(
                    "the data stops after {e} of {count} values ({} bytes each)",
                    width
                ),
            )
        })?;
        for (k, bytes) in buffer[..take * width].chunks_exact(width).enumerate() {
            let v = if single {
                f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as f64
            } else {
                let mut raw = [0u8; 8];
                raw.copy_from_slice(bytes);
                f64::from_le_bytes(raw)
            };
            let (i, j) = place(e + k);
            // The pair as the user's matrix names it (a Fortran square is stored transposed),
            // worked out only when a message needs it.
            let named = || match (square, fortran_order) {
                (false, _) => condensed_pair(n, j),
                (true, false) => (i, j),
                (true, true) => (j, i),
            };
            if !(v.is_finite() && v >= 0.0) {
                let (row, column) = named();
                return Err(Error::invalid(
                    &at,
                    format!(
                        "d({}, {}) = {v} (element {}), expected a finite distance >= 0",
                        ids[row],
                        ids[column],
                        e + k
                    ),
                ));
            }
            if !square {
                condensed[j] = v;
            } else if i == j {
                if v != 0.0 {
                    return Err(not_hollow(&at, &ids[i]));
                }
            } else if i < j {
                condensed[condensed_index(n, i, j)] = v;
            } else {
                let a = condensed[condensed_index(n, j, i)];
                if !same_distance(a, v) {
                    let (row, column) = named();
                    return Err(not_symmetric(&at, (&ids[column], &ids[row]), a, v));
                }
            }
        }
        e += take;
    }
    if input.read(&mut [0u8; 1]).map_err(|e| Error::io(path, e))? != 0 {
        return Err(Error::syntax(
            &at,
            format!("bytes after the {count} values the header announces"),
        ));
    }
    DistanceMatrix::from_condensed(ids, condensed).map_err(|e| match e {
        Error::Invalid { message, .. } => Error::invalid(&at, message),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout() {
        let mut out = Vec::new();
        write_npy_vector(&[1.0f32, 0.5], &mut out).expect("write");
        assert_eq!(&out[..8], b"\x93NUMPY\x01\x00");
        let header_len = u16::from_le_bytes([out[8], out[9]]) as usize;
        assert_eq!((10 + header_len) % 64, 0);
        let header = std::str::from_utf8(&out[10..10 + header_len]).expect("ascii");
        assert!(header.starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"));
        assert!(header.ends_with('\n'));
        assert_eq!(&out[10 + header_len..], &[0, 0, 128, 63, 0, 0, 0, 63]);
    }

    /// A `.npy` file as NumPy 1.x writes it: version 1.0, header padded with spaces to a
    /// multiple of 64 bytes, then the raw little-endian values.
    fn npy_bytes(descr: &str, shape: &str, fortran: bool, data: &[u8]) -> Vec<u8> {
        let order = if fortran { "True" } else { "False" };
        let mut header =
            format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}");
        let unpadded = 10 + header.len() + 1;
        header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(header.len() as u16).to_le_bytes());
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    fn f8(values: &[f64]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// Writes `bytes` as `name` and the ids beside it in a fresh directory; returns the path.
    fn saved(name: &str, bytes: &[u8], ids: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("gutjoint-npy-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("write");
        std::fs::write(ids_path(&path), ids).expect("ids");
        path
    }

    fn error_of(path: &Path) -> String {
        read_npy_distance(path).expect_err("must fail").to_string()
    }

    #[test]
    fn condensed_written_here_reads_back_bit_for_bit() {
        let condensed = vec![0.1, 0.7000000000000001, 1e-300, 0.0, 3.5, 2.0 / 3.0];
        let mut bytes = Vec::new();
        write_npy_vector(&condensed, &mut bytes).expect("write");
        let path = saved("condensed.npy", &bytes, "a\nb\nc\nd\n");
        let dm = read_npy_distance(&path).expect("read");
        assert_eq!(dm.ids(), ["a", "b", "c", "d"]);
        assert_eq!(dm.condensed(), condensed.as_slice());
        // f32 values widen exactly.
        let single = [0.1f32, 0.25, 1.0];
        let mut bytes = Vec::new();
        write_npy_vector(&single, &mut bytes).expect("write");
        let path = saved("single.npy", &bytes, "x\ny\nz");
        let dm = read_npy_distance(&path).expect("read");
        assert_eq!(dm.condensed(), [0.1f32 as f64, 0.25, 1.0]);
    }

    #[test]
    fn a_square_in_either_order_gives_its_upper_triangle() {
        // d(a,b) = 0.5, d(a,c) = 0.25, d(b,c) = 0.125.
        let square = [0.0, 0.5, 0.25, 0.5, 0.0, 0.125, 0.25, 0.125, 0.0];
        for fortran in [false, true] {
            let bytes = npy_bytes("<f8", "(3, 3)", fortran, &f8(&square));
            let path = saved(&format!("square-{fortran}.npy"), &bytes, "a\nb\nc\n");
            let dm = read_npy_distance(&path).expect("read");
            assert_eq!(dm.condensed(), [0.5, 0.25, 0.125]);
        }
    }

    #[test]
    fn bad_files_are_refused_with_the_file_and_the_element() {
        let ids = "a\nb\nc\n";
        let asymmetric = [0.0, 0.5, 0.25, 0.5, 0.0, 0.125, 0.25, 0.3, 0.0];
        let path = saved(
            "asym.npy",
            &npy_bytes("<f8", "(3, 3)", false, &f8(&asymmetric)),
            ids,
        );
        let e = error_of(&path);
        assert!(
            e.contains("asym.npy")
                && e.contains("not symmetric: d(b, c) = 0.125 but d(c, b) = 0.3"),
            "{e}"
        );

        let mut hollow = [0.0, 0.5, 0.25, 0.5, 0.0, 0.125, 0.25, 0.125, 0.0];
        hollow[4] = 1.0;
        let path = saved(
            "hollow.npy",
            &npy_bytes("<f8", "(3, 3)", false, &f8(&hollow)),
            ids,
        );
        assert!(error_of(&path).contains("diagonal is not zero at 'b'"));

        let path = saved(
            "neg.npy",
            &npy_bytes("<f8", "(3,)", false, &f8(&[0.5, 0.2, -1.0])),
            ids,
        );
        let e = error_of(&path);
        assert!(
            e.contains("d(b, c) = -1 (element 2), expected a finite distance >= 0"),
            "{e}"
        );

        let path = saved(
            "nan.npy",
            &npy_bytes("<f8", "(3,)", false, &f8(&[f64::NAN, 0.2, 1.0])),
            ids,
        );
        assert!(error_of(&path).contains("d(a, b) = NaN"));

        let path = saved(
            "shape.npy",
            &npy_bytes("<f8", "(4,)", false, &f8(&[0.5; 4])),
            ids,
        );
        let e = error_of(&path);
        assert!(
            e.contains("shape [4] for 3 ids")
                && e.contains("expected (3,)")
                && e.contains("or (3, 3)"),
            "{e}"
        );

        let path = saved(
            "short.npy",
            &npy_bytes("<f8", "(3,)", false, &f8(&[0.5, 0.2])),
            ids,
        );
        assert!(error_of(&path).contains("the data stops after 0 of 3 values"));

        let path = saved(
            "long.npy",
            &npy_bytes("<f8", "(3,)", false, &f8(&[0.5; 4])),
            ids,
        );
        assert!(error_of(&path).contains("bytes after the 3 values"));

        let path = saved(
            "int.npy",
            &npy_bytes("<i8", "(3,)", false, &f8(&[0.5; 3])),
            ids,
        );
        assert!(error_of(&path).contains("element type '<i8', expected"));

        let path = saved("text.npy", b"\ta\tb\tc\na\t0\t1\t2\n", ids);
        assert!(error_of(&path).contains("not a NumPy .npy file"));

        let path = saved(
            "dup.npy",
            &npy_bytes("<f8", "(3,)", false, &f8(&[0.5; 3])),
            "a\na\nc\n",
        );
        let e = error_of(&path);
        assert!(
            e.contains("dup.npy") && e.contains("duplicate id 'a'"),
            "{e}"
        );

        let path = saved(
            "noids.npy",
            &npy_bytes("<f8", "(3,)", false, &f8(&[0.5; 3])),
            ids,
        );
        std::fs::remove_file(ids_path(&path)).expect("rm");
        assert!(error_of(&path).contains("noids.npy.ids.txt"));

        let path = saved("empty.npy", &npy_bytes("<f8", "(0,)", false, &[]), "");
        assert!(error_of(&path).contains("empty.npy.ids.txt: no sample ids"));
    }
}
