/*!
NumPy `.npy` output for distance matrices too large for text: the condensed upper triangle as
one little-endian vector (what `scipy.spatial.distance.squareform` takes), version 1.0 header.
50,000 samples make 1.25 × 10⁹ distances — 5 GB as f32, against ~25 GB as lsmat text.
*/

use std::io::{self, Write};

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
}
