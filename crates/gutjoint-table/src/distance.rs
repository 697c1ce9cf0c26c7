/*!
Distance matrices: ids and the condensed upper triangle, read and written in scikit-bio's
`lsmat` TSV (a header line of a leading tab then the ids, then one row per id).

A [`DistanceMatrix`] is always symmetric and hollow (zero diagonal) because only the upper
triangle is stored; reading checks that the file agrees before throwing the lower half away.
*/

use crate::decimal::read_decimal;
use crate::error::{Error, Location, Result};
use crate::text::{LineBlocks, OwnedBlock};
use std::collections::HashSet;
use std::io::BufRead;

/// A validated distance matrix over unique ids.
#[derive(Debug, Clone, PartialEq)]
pub struct DistanceMatrix {
    ids: Vec<String>,
    condensed: Vec<f64>,
}

/// Position of pair (i, j), i < j, in the condensed upper triangle of an n × n matrix.
#[inline]
pub fn condensed_index(n: usize, i: usize, j: usize) -> usize {
    debug_assert!(i < j && j < n);
    n * i - i * (i + 1) / 2 + (j - i - 1)
}

/// The pair `(i, j)`, `i < j`, at position `e` of the condensed upper triangle of an `n × n`
/// matrix: the inverse of [`condensed_index`], in constant time. Row `i` starts at
/// `s(i) = i (2n − i − 1) / 2`; the root of `s(i) = e` gives `i` to within one, which integer
/// comparisons settle (the floating-point root is exact enough for any `n` that fits memory).
pub fn condensed_pair(n: usize, e: usize) -> (usize, usize) {
    debug_assert!(e < n * n.saturating_sub(1) / 2);
    let b = (2 * n - 1) as f64;
    let guess = ((b - (b * b - 8.0 * e as f64).max(0.0).sqrt()) / 2.0) as usize;
    pair_from_row_guess(n, e, guess)
}

/// [`condensed_pair`] from a guess of the row, moved to the row whose span holds `e`.
fn pair_from_row_guess(n: usize, e: usize, guess: usize) -> (usize, usize) {
    let start = |i: usize| i * (2 * n - i - 1) / 2;
    let mut i = guess.min(n - 2);
    while i > 0 && start(i) > e {
        i -= 1;
    }
    while i + 2 < n && start(i + 1) <= e {
        i += 1;
    }
    (i, i + 1 + (e - start(i)))
}

impl DistanceMatrix {
    /// Builds from ids and a condensed upper triangle (row-major, i < j).
    pub fn from_condensed(ids: Vec<String>, condensed: Vec<f64>) -> Result<DistanceMatrix> {
        let origin = Location::named("distance matrix");
        let n = ids.len();
        if condensed.len() != n * n.saturating_sub(1) / 2 {
            return Err(Error::invalid(
                &origin,
                format!(
                    "{} distances for {n} ids, expected {}",
                    condensed.len(),
                    n * n.saturating_sub(1) / 2
                ),
            ));
        }
        let mut seen = HashSet::new();
        if let Some(dup) = ids.iter().find(|id| !seen.insert(id.as_str())) {
            return Err(Error::invalid(&origin, format!("duplicate id '{dup}'")));
        }
        Ok(DistanceMatrix { ids, condensed })
    }

    pub fn ids(&self) -> &[String] {
        &self.ids
    }
    pub fn len(&self) -> usize {
        self.ids.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
    pub fn condensed(&self) -> &[f64] {
        &self.condensed
    }
    /// The ids and the condensed upper triangle, without a copy (for a caller that hands the
    /// values on, such as NumPy).
    pub fn into_parts(self) -> (Vec<String>, Vec<f64>) {
        (self.ids, self.condensed)
    }

    /// The distance between items `i` and `j`.
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> f64 {
        match i.cmp(&j) {
            std::cmp::Ordering::Equal => 0.0,
            std::cmp::Ordering::Less => self.condensed[condensed_index(self.len(), i, j)],
            std::cmp::Ordering::Greater => self.condensed[condensed_index(self.len(), j, i)],
        }
    }

    /// The full square matrix, row-major.
    pub fn to_square(&self) -> Vec<f64> {
        let n = self.len();
        let mut out = vec![0.0; n * n];
        self.write_square(&mut out);
        out
    }

    /// Writes the full square matrix, row-major, into `out` (`n × n` values, any prior
    /// contents): for a caller that owns the memory, such as a NumPy array handed to
    /// scikit-bio. Blocks of rows are filled in parallel. Within a block the part right of the
    /// diagonal is each row's own stretch of the condensed triangle, copied whole; the part left
    /// of it comes from the earlier rows' stretches over the block's columns, so reads stay
    /// sequential and each row's writes advance one column at a time (a plain transpose would
    /// touch a new cache line for every value of the lower half).
    pub fn write_square(&self, out: &mut [f64]) {
        use rayon::prelude::*;
        /// Rows per block: 32 rows' write positions stay in cache while the block's columns are
        /// gathered from every earlier row.
        const BLOCK: usize = 32;
        let n = self.len();
        assert_eq!(out.len(), n * n, "write_square needs n × n values");
        if n == 0 {
            return;
        }
        out.par_chunks_mut(BLOCK * n)
            .enumerate()
            .for_each(|(b, rows)| {
                let first_row = b * BLOCK;
                let end_row = first_row + rows.len() / n;
                // Left of the diagonal: d(i, j) = d(j, i) for j < i, from row j of the triangle.
                for j in 0..end_row {
                    let from = first_row.max(j + 1);
                    if from >= end_row {
                        continue;
                    }
                    let start = condensed_index(n, j, from);
                    for (k, v) in self.condensed[start..start + (end_row - from)]
                        .iter()
                        .enumerate()
                    {
                        rows[(from - first_row + k) * n + j] = *v;
                    }
                }
                // The diagonal and right of it: the row's own stretch of the triangle.
                for i in first_row..end_row {
                    let row = &mut rows[(i - first_row) * n..(i - first_row + 1) * n];
                    row[i] = 0.0;
                    if i + 1 < n {
                        let start = condensed_index(n, i, i + 1);
                        row[i + 1..].copy_from_slice(&self.condensed[start..start + (n - i - 1)]);
                    }
                }
            });
    }

    /// [`select`](DistanceMatrix::select) on a matrix the caller gives up: when `keep` is every
    /// id in order (the usual case when metadata covers every sample), the matrix itself, not a
    /// copy made pair by pair (16 MB and a lookup per pair at 2,000 ids, ~5 % of a
    /// 999-permutation PERMANOVA's process).
    pub fn into_selected(self, keep: &[usize]) -> DistanceMatrix {
        let everything = keep.len() == self.len() && keep.iter().enumerate().all(|(i, &k)| i == k);
        if everything { self } else { self.select(keep) }
    }

    /// The sub-matrix over `keep` (indices into ids), in that order.
    pub fn select(&self, keep: &[usize]) -> DistanceMatrix {
        let m = keep.len();
        let mut condensed = Vec::with_capacity(m * m.saturating_sub(1) / 2);
        for a in 0..m {
            for b in (a + 1)..m {
                condensed.push(self.get(keep[a], keep[b]));
            }
        }
        DistanceMatrix {
            ids: keep.iter().map(|&i| self.ids[i].clone()).collect(),
            condensed,
        }
    }

    /// scikit-bio's lsmat text, in memory (see [`write_lsmat`](DistanceMatrix::write_lsmat)).
    pub fn to_lsmat(&self) -> String {
        let mut out = Vec::new();
        self.write_lsmat(&mut out)
            .expect("writing to memory cannot fail");
        String::from_utf8(out).expect("ids and numbers are UTF-8")
    }

    /// Streams scikit-bio's lsmat text to `out`: a header line of a tab then the ids, then one
    /// row per id (the id, then every distance in ryu's shortest round-trip form, `0` for zero).
    ///
    /// Where the time went (`perf`, 2,000 ids, 70 MB of text): first-touching the memory of a
    /// formatted upper triangle kept for the lower half, copying it into rows, and copying the
    /// rows once more into the `BufWriter`. Now chunks of consecutive rows of about 1.5 MB are
    /// formatted in parallel into buffers that are reused from round to round (two rounds'
    /// worth, ~15 MB first-touched in all, whatever n), and each chunk, larger than the
    /// writer's buffer, goes to the file without a copy, on this thread while the pool formats
    /// the next round. Each distance is formatted twice (once per half), which costs less than
    /// keeping the first formatting; a row reads its lower half down a column of the
    /// triangle, from cache lines the previous rows of the chunk brought in. (Measured
    /// 2026-12-03: keeping the lower triangle's text to format each distance once cut user CPU
    /// ~15 % but doubled system time for its ~46 MB and left the wall time unchanged, so it
    /// was not kept.)
    pub fn write_lsmat(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        self.write_lsmat_in_chunks(out, 3 << 19)
    }

    /// The lsmat header line: a tab, then the ids separated by tabs.
    fn write_lsmat_header(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let mut header = String::with_capacity(self.ids.len() * 12);
        for id in &self.ids {
            header.push('\t');
            header.push_str(id);
        }
        header.push('\n');
        out.write_all(header.as_bytes())
    }

    /// [`write_lsmat`](DistanceMatrix::write_lsmat) with chunks of about `chunk_bytes` bytes.
    fn write_lsmat_in_chunks(
        &self,
        out: &mut dyn std::io::Write,
        chunk_bytes: usize,
    ) -> std::io::Result<()> {
        use rayon::prelude::*;
        let n = self.len();
        self.write_lsmat_header(out)?;
        // Chunks are sized by a typical row (values of 17–19 characters and a tab); the text
        // buffers grow to the worst case, 25 bytes a value, if they need to.
        let row_bytes = n * 20 + 32;
        let rows_per_chunk = (chunk_bytes / row_bytes).max(1);
        // Each chunk: its text, and its rows' values below the diagonal gathered ahead.
        let chunks_per_round = rayon::current_num_threads() * 2;
        let rows_per_round = rows_per_chunk * chunks_per_round;
        let format_round = |round: usize, chunks: &mut Vec<(RowText, Vec<f64>)>| {
            chunks.resize_with(chunks_per_round, Default::default);
            chunks
                .par_iter_mut()
                .enumerate()
                .for_each(|(c, (text, lower))| {
                    text.clear();
                    let first = round + c * rows_per_chunk;
                    let last = (first + rows_per_chunk).min(round + rows_per_round).min(n);
                    if first >= last {
                        return;
                    }
                    self.gather_below_diagonal(first..last, lower);
                    let mut buffer = zmij::Buffer::new();
                    for i in first..last {
                        let id = self.ids[i].as_bytes();
                        // The id, n values of at most 25 bytes each, the newline.
                        text.make_room(id.len() + n * 25 + 1);
                        text.push(id);
                        // Below the diagonal (gathered), the diagonal, then row i of the
                        // triangle, contiguous.
                        for &v in &lower[(i - first) * last..][..i] {
                            text.push_distance(&mut buffer, v);
                        }
                        text.push(b"\t0");
                        let start = if i + 1 < n {
                            condensed_index(n, i, i + 1)
                        } else {
                            0
                        };
                        for &v in &self.condensed[start..start + (n - 1 - i)] {
                            text.push_distance(&mut buffer, v);
                        }
                        text.push(b"\n");
                    }
                });
        };
        let write_round = |out: &mut dyn std::io::Write, chunks: &[(RowText, Vec<f64>)]| {
            chunks
                .iter()
                .try_for_each(|(text, _)| out.write_all(text.as_bytes()))
        };
        // Two sets of chunks: the pool formats the next round into one while this thread writes
        // the other to `out`. Done in turn, the pool waited for every `write_all` (the kernel's
        // copy into the page cache, ~15 % of a Bray–Curtis whole process, `perf`) and this
        // thread for every round.
        let (mut written, mut formatting) = (Vec::new(), Vec::new());
        for (k, round) in (0..n).step_by(rows_per_round).enumerate() {
            rayon::in_place_scope(|scope| {
                scope.spawn(|_| format_round(round, &mut formatting));
                if k > 0 {
                    write_round(out, &written)
                } else {
                    Ok(())
                }
            })?;
            std::mem::swap(&mut written, &mut formatting);
        }
        write_round(out, &written)
    }

    /// Fills `lower` with the values below the diagonal of rows `rows` (`a..b`), row `i`'s at
    /// `lower[(i - a) * b..][..i]`. Row i below the diagonal is column i of the upper
    /// triangle; read one value per row, each a cache line and a page away from the last
    /// (9 % of writing the lsmat at n = 2,000, `perf`). Taken in tiles of 32 triangle rows,
    /// the 32 pages stay in the TLB and each cache line read serves the next output rows too.
    fn gather_below_diagonal(&self, rows: std::ops::Range<usize>, lower: &mut Vec<f64>) {
        const TILE: usize = 32;
        let n = self.len();
        let (first, last) = (rows.start, rows.end);
        lower.clear();
        lower.resize((last - first) * last, 0.0);
        for tile in (0..last.saturating_sub(1)).step_by(TILE) {
            let tile_end = (tile + TILE).min(last - 1);
            for i in first.max(tile + 1)..last {
                let row = &mut lower[(i - first) * last..][tile..tile_end.min(i)];
                for (j, slot) in (tile..).zip(row) {
                    *slot = self.condensed[condensed_index(n, j, i)];
                }
            }
        }
    }
}

/// A chunk of the lsmat's text: `bytes[..len]`, in a buffer that is sized once and reused from
/// round to round, so a value's digits can be copied in fixed-size pieces.
///
/// Where the time went before (`perf`, 2,000 ids, Bray–Curtis whole process): appending each
/// value's digits to a `Vec` with `extend_from_slice` was a call to `memmove` with the length
/// known only at run time, plus the `Vec`'s capacity check: 14 % of the process in our copy
/// and ~6 % in `memmove`, next to zmij's 32 %.
#[derive(Clone, Default)]
struct RowText {
    bytes: Vec<u8>,
    len: usize,
}

impl RowText {
    fn clear(&mut self) {
        self.len = 0;
    }

    /// Makes sure `need` more bytes fit. The buffer only grows (zero-filled, once per size).
    fn make_room(&mut self, need: usize) {
        if self.bytes.len() < self.len + need {
            self.bytes.resize(self.len + need, 0);
        }
    }

    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    /// Appends `piece`; room for it was made.
    fn push(&mut self, piece: &[u8]) {
        self.bytes[self.len..][..piece.len()].copy_from_slice(piece);
        self.len += piece.len();
    }

    /// Appends a tab and `v` in the shortest form that reads back as the same `f64`, exactly
    /// as ryu writes it (`0.25`, `1.0`, `1e-7`, `1.5e16`), or `0` for zero; room for 25 bytes
    /// was made. The digits come from zmij (the same shortest digits and layout as ryu, ~1.4×
    /// faster on this machine), whose only difference is the `+` of a positive exponent
    /// (`1.5e+16`), dropped here; the writer's test checks the bytes against ryu on random
    /// values over the whole exponent range.
    #[inline]
    fn push_distance(&mut self, buffer: &mut zmij::Buffer, v: f64) {
        self.bytes[self.len] = b'\t';
        self.len += 1;
        if v == 0.0 {
            self.bytes[self.len] = b'0';
            self.len += 1;
            return;
        }
        // Below 1e15 in size ryu writes no positive exponent, so zmij's bytes are ryu's.
        if v.abs() < 1e15 {
            let digits = buffer.format_finite(v).as_bytes();
            let to = &mut self.bytes[self.len..][..25];
            let len = digits.len();
            // Two overlapping fixed-size copies (moves of one register each, no call).
            if len >= 16 {
                to[..16].copy_from_slice(&digits[..16]);
                to[len - 16..][..16].copy_from_slice(&digits[len - 16..][..16]);
            } else if len >= 8 {
                to[..8].copy_from_slice(&digits[..8]);
                to[len - 8..][..8].copy_from_slice(&digits[len - 8..][..8]);
            } else {
                to[..len].copy_from_slice(digits);
            }
            self.len += len;
            return;
        }
        let digits = buffer.format(v).as_bytes();
        // An exponent is at most `e+308`: a `+` can only be among the last four bytes.
        let tail = digits.len().saturating_sub(4);
        match digits[tail..].iter().position(|&b| b == b'+') {
            Some(at) => {
                self.push(&digits[..tail + at]);
                self.push(&digits[tail + at + 1..]);
            }
            None => self.push(digits),
        }
    }
}

/// Reads an lsmat distance matrix straight into the condensed upper triangle (no square copy:
/// at 50,000 ids the square alone would be 20 GB). The text comes in blocks of whole lines
/// (1 MB, then doubling up to 4 MB), read on a thread of their own while the previous block's
/// rows are parsed in parallel; each row's values above the diagonal are stored, the diagonal
/// must be zero and the values below it must equal the ones already stored (within 1e-12
/// relative, [`same_distance`]). Errors name the first bad line in file order. `reader` must be
/// `Send` for that thread.
///
/// Where the time went before (`perf`, 2,000 ids, 70 MB): reading line by line on one thread
/// (a copy per line, then a second copy into the block), and per cell a `split`, a `trim`,
/// and `f64::from_str`; the number parsing itself was a third. Now lines are cut out of the
/// block with `memchr` and never copied, and a row is walked once, cell by cell; plain decimals
/// are read exactly in the same pass (`decimal.rs`, the same bits as `f64::from_str`).
pub fn read_lsmat<R: BufRead + Send>(reader: R, origin: &Location) -> Result<DistanceMatrix> {
    read_lsmat_in_blocks(reader, origin, 1 << 22)
}

/// [`read_lsmat`] with blocks of about `block_bytes` bytes (at least one line each).
fn read_lsmat_in_blocks<R: BufRead + Send>(
    reader: R,
    origin: &Location,
    block_bytes: usize,
) -> Result<DistanceMatrix> {
    use std::sync::mpsc;
    let mut blocks = LineBlocks::new(reader, origin);
    let mut ids: Vec<String> = Vec::new();
    let mut condensed: Vec<f64> = Vec::new();
    let mut values: Vec<f64> = Vec::new();
    let mut row = 0;
    std::thread::scope(|scope| -> Result<()> {
        // The next block is read and cut into lines on a thread of its own while this one's
        // rows are parsed: done in turn, reading and finding the line ends kept the parsing
        // threads waiting (`perf report --tid`: ~70 ms of a 0.2 s read of 70 MB on the main
        // thread). Blocks come back through `spare` to be refilled; if this side stops early,
        // the reader's next send fails and it ends.
        let (full, received) = mpsc::sync_channel::<Result<OwnedBlock>>(1);
        let (spare, returned) = mpsc::channel::<OwnedBlock>();
        scope.spawn(move || {
            // The first block is small and each next one twice the size, up to `block_bytes`:
            // the parsing threads waited ~15 ms for a first block of 16 MB (`perf`, 70 MB).
            // Blocks of 4 MB rather than 16: the reader's buffers and the parsed rows are
            // reused while still cached, and fewer fresh pages are faulted in (12 alternating
            // runs of `permanova DM.tsv`: 0.251 s with 16 MB, 0.237 s with 4 MB, 2 MB the same).
            let mut size = block_bytes.min(1 << 20);
            loop {
                let mut block = returned.try_recv().unwrap_or_default();
                let read = blocks.next_owned_block(size, &mut block);
                size = (size * 2).min(block_bytes);
                let last = read.is_err() || block.lines.is_empty();
                if full.send(read.map(|()| block)).is_err() || last {
                    return;
                }
            }
        });
        for block in received {
            let block = block?;
            if block.lines.is_empty() {
                break;
            }
            consume_block(
                &block,
                origin,
                &mut ids,
                &mut condensed,
                &mut values,
                &mut row,
            )?;
            // Ignored if the reader has finished: the buffer is simply dropped.
            let _ = spare.send(block);
        }
        Ok(())
    })?;
    if ids.is_empty() {
        return Err(Error::syntax(
            origin,
            "the file is empty, expected an lsmat distance matrix",
        ));
    }
    let n = ids.len();
    if row != n {
        return Err(Error::syntax(
            origin,
            format!("{row} rows for {n} ids, expected a square matrix"),
        ));
    }
    DistanceMatrix::from_condensed(ids, condensed).map_err(|e| match e {
        Error::Invalid { message, .. } => Error::invalid(origin, message),
        other => other,
    })
}

/// One block of an lsmat: the header if it is the first, then its rows parsed in parallel, their
/// upper halves stored in `condensed` and their diagonals and lower halves checked; `row` counts
/// the rows read so far.
fn consume_block(
    block: &OwnedBlock,
    origin: &Location,
    ids: &mut Vec<String>,
    condensed: &mut Vec<f64>,
    values: &mut Vec<f64>,
    row: &mut usize,
) -> Result<()> {
    use rayon::prelude::*;
    let (bytes, lines) = (&block.bytes[..], &block.lines);
    // Text of every line, checked in parallel; the first bad one in file order is the error.
    let texts: Vec<Result<(usize, &str)>> = lines
        .par_iter()
        .map(|l| l.text(bytes, origin).map(|t| (l.number, t)))
        .collect();
    let mut rows: Vec<(usize, &str)> = Vec::with_capacity(texts.len());
    for text in texts {
        let (number, line) = text?;
        if !line.trim().is_empty() {
            rows.push((number, line));
        }
    }
    let mut rows = &rows[..];
    if ids.is_empty() {
        let Some(&(header_number, header)) = rows.first() else {
            return Ok(());
        };
        *ids = header
            .split('\t')
            .skip(1)
            .map(|s| s.trim().to_string())
            .collect();
        if ids.is_empty() {
            return Err(Error::syntax(
                &origin.at_line(header_number),
                "the header names no ids, expected a leading tab then the ids",
            ));
        }
        *condensed = vec![0.0f64; ids.len() * (ids.len() - 1) / 2];
        rows = &rows[1..];
    }
    let (n, first) = (ids.len(), *row);
    if first + rows.len() > n {
        return Err(Error::syntax(
            &origin.at_line(rows[n - first].0),
            format!("more than {n} rows for {n} ids"),
        ));
    }
    if rows.is_empty() {
        return Ok(());
    }
    // Parse every row of the block (row `first + b` into `values[b * n..]`). Every cell of a
    // row parsed without error is written, so the buffer is not cleared between blocks.
    values.resize(rows.len() * n, 0.0);
    let first_error = values
        .par_chunks_mut(n)
        .zip(rows.par_iter())
        .enumerate()
        .map(|(b, (out, &(number, line)))| {
            parse_lsmat_row(line, first + b, ids, out, &origin.at_line(number))
        })
        .find_first(|r| r.is_err());
    if let Some(Err(e)) = first_error {
        return Err(e);
    }
    // Store the upper parts (consecutive in the triangle, so cut row by row and copied in
    // parallel), then check diagonals and lower parts against stored values.
    let start = if first + 1 < n {
        condensed_index(n, first, first + 1)
    } else {
        condensed.len()
    };
    let mut upper = &mut condensed[start..];
    let mut targets = Vec::with_capacity(rows.len());
    for b in 0..rows.len() {
        let (this, rest) = upper.split_at_mut(n - 1 - (first + b));
        targets.push(this);
        upper = rest;
    }
    targets
        .into_par_iter()
        .zip(values.par_chunks(n))
        .enumerate()
        .for_each(|(b, (target, out))| target.copy_from_slice(&out[first + b + 1..]));
    // The diagonal must be zero, the first non-zero in file order is the error.
    let hollow = (0..rows.len()).find(|&b| values[b * n + first + b] != 0.0);
    // Row i's lower part is column i of the stored triangle, one value per stored row: walked
    // row by row, every value was a cache miss (a sixth of the reader's time, `perf`). So the
    // columns j are taken in tiles of 64: for each row of the block, the tile's 64 stored rows
    // are each read one step further along (64 streams, the same cache lines reused for eight
    // rows). The first disagreement in file order (row, then column) is the error.
    const TILE: usize = 64;
    let stored = &*condensed;
    let last = first + rows.len();
    let mismatch = (0..(last - 1).div_ceil(TILE))
        .into_par_iter()
        .filter_map(|t| {
            let columns = t * TILE..((t + 1) * TILE).min(last - 1);
            // Stored (j, i) sits at starts[j - columns.start] + i - j - 1.
            let starts: Vec<usize> = columns
                .clone()
                .map(|j| condensed_index(n, j, j + 1))
                .collect();
            for b in columns.start.saturating_sub(first)..rows.len() {
                let i = first + b;
                let row = &values[b * n..];
                for (j, &start) in (columns.start..columns.end.min(i)).zip(&starts) {
                    if !same_distance(stored[start + (i - j - 1)], row[j]) {
                        return Some((b, j));
                    }
                }
            }
            None
        })
        .min();
    match (hollow, mismatch) {
        (Some(h), m) if m.is_none_or(|(b, _)| h <= b) => {
            return Err(not_hollow(origin, &ids[first + h]));
        }
        (_, Some((b, j))) => {
            let i = first + b;
            let (a, b_value) = (stored[condensed_index(n, j, i)], values[b * n + j]);
            return Err(not_symmetric(origin, (&ids[j], &ids[i]), a, b_value));
        }
        _ => {}
    }
    *row += rows.len();
    Ok(())
}

/// Whether `d(i, j) = a` and `d(j, i) = b` agree as a symmetric matrix's pair: equal, or
/// within 1e-12 relative (absolute below 1), so that matrices from tools that compute the two
/// halves separately are not refused for rounding. One rule for every reader (lsmat, `.npy`).
pub(crate) fn same_distance(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

/// The error for a non-zero diagonal entry at `id` (every reader says it the same way).
pub(crate) fn not_hollow(at: &Location, id: &str) -> Error {
    Error::invalid(
        at,
        format!("the diagonal is not zero at '{id}' (a distance matrix must be hollow)"),
    )
}

/// The error for `d(first, second) = a` and `d(second, first) = b` that are not
/// [`same_distance`] (every reader says it the same way).
pub(crate) fn not_symmetric(at: &Location, (first, second): (&str, &str), a: f64, b: f64) -> Error {
    Error::invalid(
        at,
        format!("not symmetric: d({first}, {second}) = {a} but d({second}, {first}) = {b}"),
    )
}

/// Parses row `row` of an lsmat (its id, then `n` distances) into `out`, walking the line once.
fn parse_lsmat_row(
    line: &str,
    row: usize,
    ids: &[String],
    out: &mut [f64],
    at: &Location,
) -> Result<()> {
    let n = ids.len();
    let wrong_count = || {
        let fields = line.bytes().filter(|&b| b == b'\t').count() + 1;
        Error::syntax(
            at,
            format!(
                "expected {} fields (an id and {n} distances), found {fields}",
                n + 1
            ),
        )
    };
    let bytes = line.as_bytes();
    let id_end = memchr::memchr(b'\t', bytes).ok_or_else(wrong_count)?;
    let mut at_byte = id_end + 1;
    // Cells first, so that a row with the wrong number of fields says so before its id is
    // compared (as the reader always did).
    let mut bad: Option<(usize, &str)> = None;
    for (j, slot) in out.iter_mut().enumerate() {
        if at_byte > bytes.len() {
            return Err(wrong_count());
        }
        // Nearly every cell is a plain decimal, read exactly in the pass that finds its tab;
        // anything else is cut at the tab and given to the general parser.
        if let Some((v, end)) = read_decimal(bytes, at_byte) {
            *slot = v;
            at_byte = end + 1;
            continue;
        }
        let end = bytes[at_byte..]
            .iter()
            .position(|&b| b == b'\t')
            .map_or(bytes.len(), |k| at_byte + k);
        let cell = &line[at_byte..end];
        at_byte = end + 1;
        let value = parse_distance(cell);
        match value {
            Some(v) => *slot = v,
            None if bad.is_none() => bad = Some((j, cell)),
            None => {}
        }
    }
    if at_byte <= bytes.len() {
        return Err(wrong_count());
    }
    let id = line[..id_end].trim();
    if id != ids[row] {
        return Err(Error::invalid(
            at,
            format!(
                "row id '{id}' does not match column id '{}' at the same position",
                ids[row]
            ),
        ));
    }
    if let Some((j, cell)) = bad {
        return Err(match cell.trim().parse::<f64>() {
            Ok(v) => Error::invalid(
                at,
                format!("distance {v} to '{}' is not finite and >= 0", ids[j]),
            ),
            Err(_) => Error::invalid(at, format!("'{cell}' is not a number")),
        });
    }
    Ok(())
}

/// A distance cell's value when it is a finite number ≥ 0 (`0` and untrimmed cells included).
#[inline]
fn parse_distance(cell: &str) -> Option<f64> {
    let v = if cell == "0" {
        0.0
    } else {
        let bytes = cell.as_bytes();
        let trimmed = match (bytes.first(), bytes.last()) {
            (Some(a), Some(b)) if !a.is_ascii_whitespace() && !b.is_ascii_whitespace() => cell,
            _ => cell.trim(),
        };
        trimmed.parse::<f64>().ok()?
    };
    (v.is_finite() && v >= 0.0).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condensed_pair_inverts_condensed_index() {
        // Every pair for small n (n = 2 has one pair; odd and even n).
        for n in 2..40 {
            let mut e = 0;
            for i in 0..n {
                for j in i + 1..n {
                    assert_eq!(condensed_index(n, i, j), e);
                    assert_eq!(condensed_pair(n, e), (i, j), "n {n}, e {e}");
                    e += 1;
                }
            }
        }
        // Row boundaries at sizes where the root is least exact: the first and last pair of
        // every 997th row, and the very last pair, up to 3 million ids.
        for n in [2_000, 50_000, 3_000_000] {
            for i in (0..n - 1).step_by(997).chain([n - 2]) {
                for j in [i + 1, n - 1] {
                    let e = condensed_index(n, i, j);
                    assert_eq!(condensed_pair(n, e), (i, j), "n {n}");
                    if e > 0 {
                        let before = condensed_pair(n, e - 1);
                        assert_eq!(condensed_index(n, before.0, before.1), e - 1, "n {n}");
                    }
                }
            }
        }
        // The root lands on the right row in all of the above; a guess a few rows off either
        // way (rounding at sizes beyond memory) is moved to it.
        let n = 50;
        for (e, pair) in [(0, (0, 1)), (48, (0, 49)), (49, (1, 2)), (1224, (48, 49))] {
            for guess in [0, 1, 2, 5, 47, 48, 60] {
                assert_eq!(
                    pair_from_row_guess(n, e, guess),
                    pair,
                    "e {e}, guess {guess}"
                );
            }
        }
    }

    #[test]
    fn lsmat_round_trip_and_indexing() {
        let text = "\ta\tb\tc\na\t0\t0.5\t1.0\nb\t0.5\t0\t0.25\nc\t1.0\t0.25\t0\n";
        let dm = read_lsmat(text.as_bytes(), &Location::named("dm")).expect("valid");
        assert_eq!(dm.condensed(), &[0.5, 1.0, 0.25]);
        assert_eq!(dm.get(2, 1), 0.25);
        assert_eq!(dm.to_lsmat(), text);
        let mut streamed = Vec::new();
        dm.write_lsmat(&mut streamed).expect("write");
        assert_eq!(streamed, text.as_bytes());
        // Chunks of one row (rounds of one row per chunk, the last round partly empty) write
        // the same bytes as one chunk for the whole matrix.
        for chunk_bytes in [0, 1 << 20] {
            let mut chunked = Vec::new();
            dm.write_lsmat_in_chunks(&mut chunked, chunk_bytes)
                .expect("write");
            assert_eq!(chunked, text.as_bytes(), "chunks of {chunk_bytes} bytes");
        }
        assert_eq!(condensed_index(4, 2, 3), 5);
        let sub = dm.select(&[2, 0]);
        assert_eq!(sub.ids(), &["c", "a"]);
        assert_eq!(sub.condensed(), &[1.0]);
        // Given up: every id in order is the same matrix, its storage not copied; any other
        // selection is `select`'s.
        assert_eq!(dm.clone().into_selected(&[2, 0]), sub);
        assert_eq!(dm.clone().into_selected(&[0, 2]), dm.select(&[0, 2]));
        let storage = dm.condensed().as_ptr();
        let same = dm.clone();
        let kept = dm.into_selected(&[0, 1, 2]);
        assert_eq!(kept, same);
        assert_eq!(kept.condensed().as_ptr(), storage);
    }

    /// A 53-bit pseudo-random stream (Knuth's 64-bit LCG, top bits) for the tests' values.
    fn lcg(seed: u64) -> impl FnMut() -> u64 {
        let mut state = seed;
        move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            state >> 11
        }
    }

    /// The writer against a row-by-row reference, with zeros, integers and tiny and huge values
    /// (the layouts ryu switches between), and chunks of one row, a few rows and whole rounds.
    #[test]
    fn lsmat_writer_gives_the_reference_bytes() {
        let mut next = lcg(0x9E37_79B9_7F4A_7C15);
        for n in [0usize, 1, 2, 3, 63, 64, 65, 130, 300] {
            let ids: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
            let condensed: Vec<f64> = (0..n * n.saturating_sub(1) / 2)
                .map(|_| match next() % 7 {
                    0 => 0.0,
                    1 => (next() % 100) as f64,
                    2 => (next() as f64) * 1e-30,
                    3 => (next() as f64) * 1e10,
                    // Any positive finite bit pattern: every exponent, subnormals included.
                    4 => loop {
                        let v = f64::from_bits((next() << 11 ^ next()) & !(1u64 << 63));
                        if v.is_finite() && v > 0.0 {
                            break v;
                        }
                    },
                    _ => (next() as f64) / (1u64 << 53) as f64,
                })
                .collect();
            let dm = DistanceMatrix::from_condensed(ids, condensed).expect("valid");
            let mut reference = String::new();
            for id in dm.ids() {
                reference.push('\t');
                reference.push_str(id);
            }
            reference.push('\n');
            let mut buffer = ryu::Buffer::new();
            for i in 0..n {
                reference.push_str(&dm.ids()[i]);
                for j in 0..n {
                    let v = dm.get(i, j);
                    reference.push('\t');
                    reference.push_str(if v == 0.0 { "0" } else { buffer.format(v) });
                }
                reference.push('\n');
            }
            for chunk_bytes in [0, 20 * n + 32, 5 * (20 * n + 32), 3 << 19] {
                let mut twice = Vec::new();
                dm.write_lsmat_in_chunks(&mut twice, chunk_bytes)
                    .expect("write");
                assert!(
                    twice == reference.as_bytes(),
                    "n {n}, {chunk_bytes} bytes a chunk"
                );
            }
        }
    }

    #[test]
    fn square_form_is_symmetric_hollow_and_matches_get() {
        // Sizes around the 32-row block: one partial block, exactly one, several with a
        // partial last one; the buffer starts as garbage, as NumPy's uninitialised memory may.
        for n in [0usize, 1, 2, 5, 32, 33, 70] {
            let ids: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
            let condensed: Vec<f64> = (0..n * n.saturating_sub(1) / 2)
                .map(|k| 1.0 + k as f64)
                .collect();
            let dm = DistanceMatrix::from_condensed(ids, condensed).expect("valid");
            let mut square = vec![f64::NAN; n * n];
            dm.write_square(&mut square);
            for i in 0..n {
                for j in 0..n {
                    assert_eq!(square[i * n + j], dm.get(i, j), "n = {n}, ({i}, {j})");
                }
            }
            assert_eq!(dm.to_square(), square);
        }
        // By hand: the 3 × 3 matrix of the condensed [0.5, 1.0, 0.25].
        let dm = DistanceMatrix::from_condensed(
            vec!["a".into(), "b".into(), "c".into()],
            vec![0.5, 1.0, 0.25],
        )
        .expect("valid");
        assert_eq!(
            dm.to_square(),
            vec![0.0, 0.5, 1.0, 0.5, 0.0, 0.25, 1.0, 0.25, 0.0]
        );
    }

    #[test]
    fn asymmetric_or_non_hollow_is_refused() {
        let e = read_lsmat(
            "\ta\tb\na\t0\t1\nb\t2\t0\n".as_bytes(),
            &Location::named("dm"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("not symmetric"), "{e}");
        let e = read_lsmat(
            "\ta\tb\na\t1\t1\nb\t1\t0\n".as_bytes(),
            &Location::named("dm"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("hollow"), "{e}");
    }

    /// The symmetry rule is decided on exact values at its edge: a lower value 0.9e-12 away
    /// passes, 1.1e-12 away is refused with the exact value in the message, and lower cells the
    /// fast decimal reader declines (a sign, spaces, many digits) are read by the general one.
    #[test]
    fn the_symmetry_rule_holds_at_its_edge_with_any_lower_cells() {
        let origin = Location::named("dm");
        let matrix = |lower: &str| format!("\ta\tb\na\t0\t1.0\nb\t{lower}\t0\n");
        for lower in [
            "1.0000000000009",
            "0.9999999999991",
            "+1.0",
            " 1.0 ",
            "1.00000000000000000000001",
        ] {
            let dm = read_lsmat(matrix(lower).as_bytes(), &origin).expect(lower);
            assert_eq!(dm.get(0, 1), 1.0);
        }
        for lower in ["1.0000000000011", "0.9999999999989"] {
            let e = read_lsmat(matrix(lower).as_bytes(), &origin)
                .unwrap_err()
                .to_string();
            assert!(e.contains(&format!("d(b, a) = {lower}")), "{e}");
        }
        let e = read_lsmat(matrix("-1.0").as_bytes(), &origin)
            .unwrap_err()
            .to_string();
        assert!(e.contains("is not finite and >= 0"), "{e}");
    }

    /// Lower halves are checked in tiles of columns, in parallel; the error is still the first
    /// in file order: the earliest bad row, in it the diagonal before the lowest bad column.
    #[test]
    fn the_first_error_in_file_order_across_column_tiles() {
        let n = 150;
        let ids: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
        let matrix = |changes: &[(usize, usize, &str)]| {
            let mut text = format!("\t{}\n", ids.join("\t"));
            for (i, id) in ids.iter().enumerate() {
                text += id;
                for j in 0..n {
                    let cell = changes
                        .iter()
                        .find(|&&(r, c, _)| (r, c) == (i, j))
                        .map(|&(_, _, v)| v.to_string())
                        .unwrap_or_else(|| {
                            let (a, b) = (i.min(j), i.max(j));
                            if a == b {
                                "0".into()
                            } else {
                                format!("0.{a:03}{b:03}")
                            }
                        });
                    text += &format!("\t{cell}");
                }
                text += "\n";
            }
            text
        };
        let origin = Location::named("dm");
        let read = |changes: &[(usize, usize, &str)]| {
            read_lsmat(matrix(changes).as_bytes(), &origin)
                .unwrap_err()
                .to_string()
        };
        let dm = read_lsmat(matrix(&[]).as_bytes(), &origin).expect("valid");
        assert_eq!(dm.get(140, 70), 0.070140);
        let e = read(&[(120, 5, "0.5"), (100, 90, "0.5"), (100, 10, "0.5")]);
        assert!(
            e.contains("d(s10, s100) = 0.0101 but d(s100, s10) = 0.5"),
            "{e}"
        );
        let e = read(&[(100, 10, "0.5"), (60, 60, "1")]);
        assert!(e.contains("diagonal is not zero at 's60'"), "{e}");
        let e = read(&[(60, 10, "0.5"), (60, 60, "1")]);
        assert!(e.contains("diagonal is not zero at 's60'"), "{e}");
        let e = read(&[(60, 10, "0.5"), (61, 61, "1")]);
        assert!(e.contains("d(s10, s60)"), "{e}");
    }

    #[test]
    fn rows_read_one_per_block_give_the_same_matrix_and_errors() {
        let text = "\ta\tb\tc\na\t0\t0.5\t1.0\nb\t0.5\t0\t0.25\n\nc\t1.0\t0.25\t0\n";
        let origin = Location::named("dm");
        let whole = read_lsmat(text.as_bytes(), &origin).expect("valid");
        let one_by_one = read_lsmat_in_blocks(text.as_bytes(), &origin, 1).expect("valid");
        assert_eq!(whole, one_by_one);
        // The asymmetry sits across a block boundary: row c disagrees with row b.
        let bad = text.replace("c\t1.0\t0.25", "c\t1.0\t0.3");
        let e = read_lsmat_in_blocks(bad.as_bytes(), &origin, 1)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("not symmetric: d(b, c) = 0.25 but d(c, b) = 0.3"),
            "{e}"
        );
        let e = read_lsmat_in_blocks(text.replace("0.25\n", "x\n").as_bytes(), &origin, 1)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 3") && e.contains("'x' is not a number"),
            "{e}"
        );
        let e = read_lsmat(format!("{text}d\t1\t1\t1\n").as_bytes(), &origin)
            .unwrap_err()
            .to_string();
        assert!(e.contains("more than 3 rows"), "{e}");
        let e = read_lsmat("\ta\tb\na\t0\t1\n".as_bytes(), &origin)
            .unwrap_err()
            .to_string();
        assert!(e.contains("1 rows for 2 ids"), "{e}");
    }

    #[test]
    fn a_failing_output_stops_the_writer_with_its_error() {
        // Rounds of chunks are formatted in parallel, then written: an error on the output,
        // in the header or in any round, must come back as the result.
        struct FailsAfter(usize);
        impl std::io::Write for FailsAfter {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                if self.0 < bytes.len() {
                    return Err(std::io::Error::other("disk full"));
                }
                self.0 -= bytes.len();
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let n = 40;
        let ids: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
        let condensed = vec![0.5; n * (n - 1) / 2];
        let dm = DistanceMatrix::from_condensed(ids, condensed).expect("valid");
        let whole = dm.to_lsmat().len();
        for limit in [0, 100, 1_000, whole - 1] {
            let e = dm
                .write_lsmat_in_chunks(&mut FailsAfter(limit), 0)
                .expect_err("the output fails");
            assert_eq!(e.to_string(), "disk full");
        }
        let mut exact = FailsAfter(whole);
        dm.write_lsmat_in_chunks(&mut exact, 0)
            .expect("fits exactly");
        assert_eq!(exact.0, 0);
    }

    #[test]
    fn written_cells_match_their_formula_across_tiles() {
        // n = 75: the writer's gather takes three tiles of triangle rows, the last partly
        // filled.
        let n = 75;
        let ids: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
        let d = |i: usize, j: usize| ((i.min(j) * 131 + i.max(j) * 17) % 97) as f64 / 8.0 + 0.125;
        let condensed: Vec<f64> = (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| d(i, j)))
            .collect();
        let dm = DistanceMatrix::from_condensed(ids.clone(), condensed).expect("valid");
        // The written text, cell by cell, is d(i, j) in every row (checked against the formula,
        // not the reader) and reads back as the same matrix, in one block or row by row.
        let text = dm.to_lsmat();
        for (i, line) in text.lines().skip(1).enumerate() {
            let cells: Vec<&str> = line.split('\t').collect();
            assert_eq!(cells[0], ids[i]);
            for (j, cell) in cells[1..].iter().enumerate() {
                let expected = if i == j { 0.0 } else { d(i, j) };
                assert_eq!(cell.parse::<f64>().expect("number"), expected, "({i}, {j})");
            }
        }
        let origin = Location::named("dm");
        for block in [1, 1 << 24] {
            let back = read_lsmat_in_blocks(text.as_bytes(), &origin, block).expect("valid");
            assert_eq!(back, dm);
        }
        // One wrong value below the diagonal far from the first rows, then a non-zero
        // diagonal: each named, in one block and row by row.
        let mut rows: Vec<Vec<String>> = text
            .lines()
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect();
        rows[1 + 70][1 + 40] = "9".to_string();
        let asymmetric = rows.iter().map(|r| r.join("\t") + "\n").collect::<String>();
        rows[1 + 70][1 + 40] = format!("{}", d(70, 40));
        rows[1 + 66][1 + 66] = "0.5".to_string();
        let not_hollow = rows.iter().map(|r| r.join("\t") + "\n").collect::<String>();
        for block in [1, 1 << 24] {
            let e = read_lsmat_in_blocks(asymmetric.as_bytes(), &origin, block)
                .unwrap_err()
                .to_string();
            let want = format!(
                "not symmetric: d(s40, s70) = {} but d(s70, s40) = 9",
                d(40, 70)
            );
            assert!(e.contains(&want), "{e}");
            let e = read_lsmat_in_blocks(not_hollow.as_bytes(), &origin, block)
                .unwrap_err()
                .to_string();
            assert!(e.contains("the diagonal is not zero at 's66'"), "{e}");
        }
    }
}
