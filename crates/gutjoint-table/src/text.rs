/*!
Delimited text tables: BIOM-style TSV, R's `write.table`, CSV from spreadsheets, merged
MetaPhlAn tables.

The reader streams: the header line by line, then the data rows in blocks of whole lines (a
few MB) parsed in parallel, so a 1 GB table is never held in memory as text. It accepts the
conventions seen in the wild: a UTF-8 byte-order mark, CRLF line ends, `#` comment lines before
the header (`# Constructed from biom file`, `#mpa_v…`), a header that starts with `#OTU ID`, an
empty first header cell or a header one field short (R), double-quoted CSV fields, a trailing
`taxonomy` column, and `NCBI_tax_id` annotation columns. Features are rows and samples columns
unless `samples_as_rows` is set.
*/

use crate::error::{Error, Location, Result};
use crate::lineage::Lineage;
use crate::table::{FeatureTable, check_value};
use rayon::prelude::*;
use std::io::BufRead;

/// How to read a delimited table.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// Rows are samples and columns features (R/Excel exports); the default is the
    /// opposite, as BIOM TSV and MetaPhlAn write.
    pub samples_as_rows: bool,
}

/// Columns that annotate features rather than hold a sample.
fn annotation_kind(name: &str) -> Option<Annotation> {
    match name.trim().to_ascii_lowercase().as_str() {
        "taxonomy" | "taxon" | "lineage" | "consensus lineage" | "consensuslineage" => {
            Some(Annotation::Lineage)
        }
        "ncbi_tax_id" | "clade_taxid" | "ncbi_taxid" | "taxid" | "confidence" => {
            Some(Annotation::Ignored)
        }
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Annotation {
    Lineage,
    Ignored,
}

/// Splits one line into fields, honouring double quotes when the line has any.
pub(crate) fn split_fields<'a>(
    line: &'a str,
    delimiter: char,
    out: &mut Vec<std::borrow::Cow<'a, str>>,
) {
    out.clear();
    if !line.contains('"') {
        out.extend(line.split(delimiter).map(std::borrow::Cow::Borrowed));
        return;
    }
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            c if c == delimiter && !quoted => {
                out.push(std::borrow::Cow::Owned(std::mem::take(&mut field)))
            }
            c => field.push(c),
        }
    }
    out.push(std::borrow::Cow::Owned(field));
}

/// Reads lines, dropping a BOM on the first and CR/LF at the end of each, counting line numbers.
pub(crate) struct Lines<R> {
    reader: R,
    buffer: Vec<u8>,
    pub line_number: usize,
    origin: Location,
}

impl<R: BufRead> Lines<R> {
    pub(crate) fn new(reader: R, origin: &Location) -> Self {
        Self {
            reader,
            buffer: Vec::with_capacity(1 << 16),
            line_number: 0,
            origin: origin.clone(),
        }
    }

    /// The next line as text, or `None` at the end.
    pub(crate) fn next_line(&mut self) -> Result<Option<(usize, &str)>> {
        self.buffer.clear();
        let read = self
            .reader
            .read_until(b'\n', &mut self.buffer)
            .map_err(|e| self.read_error(e))?;
        if read == 0 {
            return Ok(None);
        }
        self.line_number += 1;
        while matches!(self.buffer.last(), Some(b'\n' | b'\r')) {
            self.buffer.pop();
        }
        let mut bytes = &self.buffer[..];
        if self.line_number == 1 {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(Some((self.line_number, text))),
            Err(e) => Err(Error::syntax(
                &self.origin.at_line(self.line_number),
                format!(
                    "not valid UTF-8 text (byte {}); expected a text table",
                    e.valid_up_to() + 1
                ),
            )),
        }
    }

    fn read_error(&self, e: std::io::Error) -> Error {
        read_error(&self.origin, self.line_number + 1, e)
    }

    /// The reader, positioned after the last line read, and that line's number. Nothing is
    /// lost: lines are read with `read_until`, so no read-ahead is held here.
    pub(crate) fn into_parts(self) -> (R, usize) {
        (self.reader, self.line_number)
    }
}

/// One line of a [`LineBlocks`] block: its number in the file and its bytes in the block,
/// without the line end (and without a BOM on line 1).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BlockLine {
    pub number: usize,
    pub start: usize,
    pub end: usize,
}

/// Reads text in blocks of whole lines for readers that parse lines in parallel: one buffer,
/// filled by large reads and reused, instead of [`Lines`]' copy of every line (and the caller's
/// second copy to keep a block of them). Lines are found with `memchr`; whether a line is UTF-8
/// is left to the caller, which can check the block's lines in parallel
/// ([`BlockLine::text`]).
pub(crate) struct LineBlocks<R> {
    reader: R,
    buffer: Vec<u8>,
    /// Where the bytes not yet handed out begin.
    consumed: usize,
    line_number: usize,
    eof: bool,
    origin: Location,
}

impl<R: std::io::Read> LineBlocks<R> {
    pub(crate) fn new(reader: R, origin: &Location) -> Self {
        Self::after_line(reader, origin, 0)
    }

    /// Blocks of the lines that follow line `line_number`, already read by someone else.
    pub(crate) fn after_line(reader: R, origin: &Location, line_number: usize) -> Self {
        Self {
            reader,
            buffer: Vec::new(),
            consumed: 0,
            line_number,
            eof: false,
            origin: origin.clone(),
        }
    }

    /// The next block: `lines` receives every whole line of about `bytes` bytes of input (at
    /// least one line unless the input is over; a line longer than `bytes` is read whole), and
    /// the returned buffer holds them. An empty `lines` means the end.
    pub(crate) fn next_block(&mut self, bytes: usize, lines: &mut Vec<BlockLine>) -> Result<&[u8]> {
        use std::io::Read;
        lines.clear();
        self.buffer.drain(..self.consumed);
        self.consumed = 0;
        let mut want = bytes.max(1);
        loop {
            if !self.eof && self.buffer.len() < want {
                let missing = (want - self.buffer.len()) as u64;
                // Room for the whole block at once: grown by `read_to_end` it was reallocated
                // and copied a dozen times on its way to 16 MB.
                self.buffer.reserve(missing as usize);
                let read = (&mut self.reader)
                    .take(missing)
                    .read_to_end(&mut self.buffer)
                    .map_err(|e| read_error(&self.origin, self.line_number + 1, e))?;
                self.eof = read == 0 || (read as u64) < missing;
            }
            let mut at = 0;
            for end in memchr::memchr_iter(b'\n', &self.buffer) {
                push_line(&self.buffer, &mut self.line_number, at, end, lines);
                at = end + 1;
            }
            if self.eof && at < self.buffer.len() {
                let end = self.buffer.len();
                push_line(&self.buffer, &mut self.line_number, at, end, lines);
                at = end;
            }
            if !lines.is_empty() || self.eof {
                self.consumed = at;
                return Ok(&self.buffer);
            }
            // No whole line yet: read on until one ends.
            want = want.saturating_mul(2);
        }
    }

    /// [`next_block`](LineBlocks::next_block), handed over: the block's bytes move into
    /// `block` (whose old buffer becomes this reader's), and the start of the next line, if
    /// read already, moves back. No `lines` means the end.
    pub(crate) fn next_owned_block(&mut self, bytes: usize, block: &mut OwnedBlock) -> Result<()> {
        self.next_block(bytes, &mut block.lines)?;
        std::mem::swap(&mut self.buffer, &mut block.bytes);
        self.buffer.clear();
        self.buffer.extend_from_slice(&block.bytes[self.consumed..]);
        block.bytes.truncate(self.consumed);
        self.consumed = 0;
        Ok(())
    }
}

/// A block of whole lines that its reader handed over, for a consumer on another thread:
/// `bytes` holds the lines, `lines` where each is. Given back empty, its buffers are reused.
#[derive(Default)]
pub(crate) struct OwnedBlock {
    pub bytes: Vec<u8>,
    pub lines: Vec<BlockLine>,
}

/// Counts the line `buffer[start..end]` and records it without its CR and (on line 1) BOM.
fn push_line(
    buffer: &[u8],
    line_number: &mut usize,
    mut start: usize,
    mut end: usize,
    lines: &mut Vec<BlockLine>,
) {
    *line_number += 1;
    if *line_number == 1 && buffer[start..end].starts_with(b"\xEF\xBB\xBF") {
        start += 3;
    }
    while end > start && buffer[end - 1] == b'\r' {
        end -= 1;
    }
    lines.push(BlockLine {
        number: *line_number,
        start,
        end,
    });
}

impl BlockLine {
    /// The line as text, or the same error [`Lines`] gives for bytes that are not UTF-8.
    pub(crate) fn text<'a>(&self, block: &'a [u8], origin: &Location) -> Result<&'a str> {
        std::str::from_utf8(&block[self.start..self.end]).map_err(|e| {
            Error::syntax(
                &origin.at_line(self.number),
                format!(
                    "not valid UTF-8 text (byte {}); expected a text table",
                    e.valid_up_to() + 1
                ),
            )
        })
    }
}

/// A read error at line `line`, saying when it is a damaged gzip stream.
fn read_error(origin: &Location, line: usize, e: std::io::Error) -> Error {
    let what = if e.kind() == std::io::ErrorKind::UnexpectedEof
        || e.to_string().contains("corrupt deflate")
    {
        "the compressed (gzip) stream is truncated or corrupt".to_string()
    } else {
        e.to_string()
    };
    Error::syntax(&origin.at_line(line), what)
}

/// Parses an abundance cell: a plain decimal (counts, relative abundances) exactly in one pass
/// (`decimal.rs`, the bits `f64::from_str` gives), anything else by `f64::from_str` after
/// trimming.
#[inline]
pub(crate) fn parse_value(cell: &str) -> Option<f64> {
    match crate::decimal::read_decimal(cell.as_bytes(), 0) {
        Some((v, end)) if end == cell.len() => Some(v),
        _ => cell.trim().parse::<f64>().ok(),
    }
}

pub(crate) fn describe_bad_value(cell: &str) -> String {
    let t = cell.trim();
    if t.is_empty() {
        "an empty cell, expected a number".to_string()
    } else if matches!(t, "NA" | "na" | "N/A" | "NaN" | "nan" | "null") {
        format!("a missing value '{t}', expected a number (abundance tables must be complete)")
    } else {
        format!("'{t}' is not a number")
    }
}

/// Reads a delimited table from any buffered reader.
pub fn read_delimited<R: BufRead>(
    reader: R,
    origin: &Location,
    options: TextOptions,
) -> Result<FeatureTable> {
    read_delimited_in_blocks(reader, origin, options, 1 << 22)
}

/// [`read_delimited`] with the data rows of a features-as-rows table parsed in blocks of about
/// `block_bytes` bytes.
fn read_delimited_in_blocks<R: BufRead>(
    reader: R,
    origin: &Location,
    options: TextOptions,
    block_bytes: usize,
) -> Result<FeatureTable> {
    let mut lines = Lines::new(reader, origin);
    // Find the header: skip comment lines; a final `#` line that is followed by data and has
    // a delimiter is itself the header (`#OTU ID`, `#clade_name`).
    let mut pending_comment: Option<(String, usize)> = None;
    let header_line: String;
    let header_number: usize;
    let first_data: Option<(String, usize)>;
    loop {
        let Some((number, line)) = lines.next_line()? else {
            return match pending_comment {
                Some((_, n)) => Err(Error::syntax(
                    &origin.at_line(n),
                    "the table has a header but no data rows",
                )),
                None => Err(Error::syntax(
                    origin,
                    "the file is empty, expected a header line and data rows",
                )),
            };
        };
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with('#') {
            pending_comment = Some((line.to_string(), number));
            continue;
        }
        let this = (line.to_string(), number);
        match pending_comment.take() {
            Some((comment, n)) if comment.contains('\t') || comment.contains(',') => {
                header_line = comment.trim_start_matches('#').to_string();
                header_number = n;
                first_data = Some(this);
            }
            _ => {
                header_line = this.0;
                header_number = this.1;
                first_data = None;
            }
        }
        break;
    }
    // One byte, so that rows are split with `memchr` (see `RowReader::split`).
    let delimiter = if header_line.contains('\t') {
        b'\t'
    } else if header_line.contains(',') {
        b','
    } else {
        b'\t'
    };
    let mut fields = Vec::new();
    split_fields(&header_line, char::from(delimiter), &mut fields);
    let mut header: Vec<String> = fields.iter().map(|f| f.trim().to_string()).collect();
    // Trailing empty header cells from spreadsheets (`a,b,c,`) are dropped when data agree.
    let header_origin = origin.at_line(header_number);

    let mut reader = RowReader {
        delimiter,
        header_fields: header.len(),
        ranges: Vec::new(),
        owned: Vec::new(),
        quoted: false,
        origin: origin.clone(),
    };
    let mut rows: Vec<(String, usize)> = Vec::new();
    if let Some(d) = first_data {
        rows.push(d);
    }
    // Peek the first data row to settle R's short header.
    if rows.is_empty() {
        loop {
            match lines.next_line()? {
                None => {
                    return Err(Error::syntax(
                        &header_origin,
                        "the table has a header but no data rows",
                    ));
                }
                Some((_, l)) if l.trim().is_empty() || l.starts_with('#') => continue,
                Some((n, l)) => {
                    rows.push((l.to_string(), n));
                    break;
                }
            }
        }
    }
    let mut first_fields = Vec::new();
    split_fields(&rows[0].0, char::from(delimiter), &mut first_fields);
    if first_fields.len() == header.len() + 1 {
        header.insert(0, String::new());
    } else if first_fields.len() + 1 == header.len() && header.last().is_some_and(String::is_empty)
    {
        header.pop();
    }
    reader.header_fields = header.len();
    if header.len() < 2 {
        return Err(Error::syntax(
            &header_origin,
            format!(
                "the header has {} column, expected an id column and at least one more (is the delimiter tab or comma?)",
                header.len()
            ),
        ));
    }

    if options.samples_as_rows {
        return read_samples_as_rows(&mut lines, rows, &header, &mut reader, origin);
    }

    // Features as rows: every column after the first is a sample unless it annotates.
    let mut sample_columns = Vec::new();
    let mut lineage_column = None;
    for (c, name) in header.iter().enumerate().skip(1) {
        match annotation_kind(name) {
            Some(Annotation::Lineage) => lineage_column = Some(c),
            Some(Annotation::Ignored) => {}
            None => sample_columns.push(c),
        }
    }
    if sample_columns.is_empty() {
        return Err(Error::syntax(
            &header_origin,
            "the header names no sample columns",
        ));
    }
    let sample_ids: Vec<String> = sample_columns.iter().map(|&c| header[c].clone()).collect();
    if let Some(i) = sample_ids.iter().position(String::is_empty) {
        return Err(Error::syntax(
            &header_origin,
            format!("sample column {} has an empty name", sample_columns[i] + 1),
        ));
    }
    let parser = FeatureRowParser {
        header: &header,
        sample_columns: &sample_columns,
        lineage_column,
        origin,
    };
    let mut feature_ids = Vec::new();
    let mut lineages = Vec::new();
    let mut indptr = vec![0usize];
    let mut samples: Vec<u32> = Vec::new();
    let mut values: Vec<f64> = Vec::new();
    let mut keep = |row: FeatureRow| {
        feature_ids.push(row.id);
        if let Some(lineage) = row.lineage {
            lineages.push(lineage);
        }
        samples.extend_from_slice(&row.samples);
        values.extend_from_slice(&row.values);
        indptr.push(values.len());
    };
    for (line, number) in &rows {
        keep(parser.parse(line, *number, &mut reader)?);
    }
    // The rest in blocks of whole lines, each block's rows parsed in parallel and kept in
    // file order; the first bad row in file order is the error. (Parsed line by line on one
    // thread, a 2,000-sample table was a fifth of a Bray–Curtis whole process, `perf`.)
    let (rest, line_number) = lines.into_parts();
    let mut blocks = LineBlocks::after_line(rest, origin, line_number);
    let mut block_lines = Vec::new();
    loop {
        let block = blocks.next_block(block_bytes, &mut block_lines)?;
        if block_lines.is_empty() {
            break;
        }
        let parsed: Vec<Result<Option<FeatureRow>>> = block_lines
            .par_iter()
            .map_init(
                || reader.clone(),
                |reader, at| {
                    let line = at.text(block, origin)?;
                    if line.trim().is_empty() || line.starts_with('#') {
                        return Ok(None);
                    }
                    parser.parse(line, at.number, reader).map(Some)
                },
            )
            .collect();
        for row in parsed {
            if let Some(row) = row? {
                keep(row);
            }
        }
    }
    // Transposing to sample-major order: a second copy is fastest (measured 175 MB/s parsing on
    // one core, peak 2.1x the sparse size); past 512 MB of sparse data the in-place transpose
    // keeps the peak near 1.5x at about a third more time.
    let table = if values.len() * 12 > 512 << 20 {
        samples.shrink_to_fit();
        values.shrink_to_fit();
        FeatureTable::from_feature_rows_owned(
            sample_ids,
            feature_ids,
            &indptr,
            samples,
            values,
            origin,
        )?
    } else {
        FeatureTable::from_feature_rows(
            sample_ids,
            feature_ids,
            &indptr,
            &samples,
            &values,
            origin,
        )?
    };
    if lineage_column.is_some() {
        table.with_lineages(lineages)
    } else {
        Ok(table)
    }
}

fn read_samples_as_rows<R: BufRead>(
    lines: &mut Lines<R>,
    first_rows: Vec<(String, usize)>,
    header: &[String],
    reader: &mut RowReader,
    origin: &Location,
) -> Result<FeatureTable> {
    let feature_ids: Vec<String> = header[1..].to_vec();
    let mut sample_ids = Vec::new();
    let mut indptr = vec![0usize];
    let mut indices = Vec::new();
    let mut values = Vec::new();
    let mut handle = |line: &str, number: usize, reader: &mut RowReader| -> Result<()> {
        reader.split(line, number)?;
        let id = reader.field(line, 0).trim();
        if id.is_empty() {
            return Err(Error::syntax(
                &origin.at_line(number),
                "the sample id (first column) is empty",
            ));
        }
        sample_ids.push(id.to_string());
        for (f, name) in header.iter().enumerate().skip(1) {
            let cell = reader.field(line, f);
            let v = parse_value(cell).ok_or_else(|| {
                Error::invalid(
                    &origin.at_line(number),
                    format!("column '{name}': {}", describe_bad_value(cell)),
                )
            })?;
            if v != 0.0 {
                check_value(v, &origin.at_line(number), || format!("column '{name}'"))?;
                indices.push((f - 1) as u32);
                values.push(v);
            }
        }
        indptr.push(values.len());
        Ok(())
    };
    for (line, number) in &first_rows {
        handle(line, *number, reader)?;
    }
    while let Some((number, line)) = lines.next_line()? {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        handle(line, number, reader)?;
    }
    FeatureTable::from_csr(sample_ids, feature_ids, indptr, indices, values, origin)
}

/// One data row of a table with features as rows: the feature's id, its lineage when the table
/// has a lineage column, and its nonzero cells (sample index, value) in column order.
struct FeatureRow {
    id: String,
    lineage: Option<Lineage>,
    samples: Vec<u32>,
    values: Vec<f64>,
}

/// Parses data rows of a table with features as rows; shared by the threads of a block.
struct FeatureRowParser<'a> {
    header: &'a [String],
    sample_columns: &'a [usize],
    lineage_column: Option<usize>,
    origin: &'a Location,
}

impl FeatureRowParser<'_> {
    fn parse(&self, line: &str, number: usize, reader: &mut RowReader) -> Result<FeatureRow> {
        reader.split(line, number)?;
        let id = reader.field(line, 0).trim();
        if id.is_empty() {
            return Err(Error::syntax(
                &self.origin.at_line(number),
                "the feature id (first column) is empty",
            ));
        }
        let mut row = FeatureRow {
            id: id.to_string(),
            lineage: self
                .lineage_column
                .map(|c| Lineage::parse(reader.field(line, c))),
            samples: Vec::new(),
            values: Vec::new(),
        };
        for (s, &c) in self.sample_columns.iter().enumerate() {
            let cell = reader.field(line, c);
            let v = parse_value(cell).ok_or_else(|| {
                Error::invalid(
                    &self.origin.at_line(number),
                    format!("column '{}': {}", self.header[c], describe_bad_value(cell)),
                )
            })?;
            if v != 0.0 {
                check_value(v, &self.origin.at_line(number), || {
                    format!("column '{}'", self.header[c])
                })?;
                row.samples.push(s as u32);
                row.values.push(v);
            }
        }
        Ok(row)
    }
}

/// Splits data rows into fields without copying them: field `i` is `line[ranges[i]]`, except
/// on lines with double quotes, which are unquoted into owned strings.
#[derive(Clone)]
struct RowReader {
    /// A tab or a comma.
    delimiter: u8,
    header_fields: usize,
    ranges: Vec<(usize, usize)>,
    owned: Vec<String>,
    quoted: bool,
    origin: Location,
}

impl RowReader {
    fn split(&mut self, line: &str, number: usize) -> Result<()> {
        self.quoted = line.contains('"');
        let count = if self.quoted {
            let mut cow = Vec::new();
            split_fields(line, char::from(self.delimiter), &mut cow);
            self.owned.clear();
            self.owned.extend(cow.into_iter().map(|c| c.into_owned()));
            self.owned.len()
        } else {
            self.ranges.clear();
            // `memchr` finds the one-byte delimiter directly, where `match_indices(char)`
            // confirmed each match with a call to `memcmp` (a tenth of reading a 2,000-sample
            // table, `perf`).
            let mut start = 0;
            for at in memchr::memchr_iter(self.delimiter, line.as_bytes()) {
                self.ranges.push((start, at));
                start = at + 1;
            }
            self.ranges.push((start, line.len()));
            self.ranges.len()
        };
        // A trailing empty cell from spreadsheets is tolerated.
        let mut count = count;
        if count == self.header_fields + 1 && self.field(line, count - 1).trim().is_empty() {
            count -= 1;
        }
        if count != self.header_fields {
            return Err(Error::syntax(
                &self.origin.at_line(number),
                format!(
                    "expected {} fields (as many as the header), found {count}",
                    self.header_fields
                ),
            ));
        }
        Ok(())
    }

    #[inline]
    fn field<'a>(&'a self, line: &'a str, i: usize) -> &'a str {
        if self.quoted {
            &self.owned[i]
        } else {
            let (a, b) = self.ranges[i];
            &line[a..b]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_paths_equal_the_float_parser() {
        for cell in [
            "0",
            "1",
            "7",
            "0042",
            "123456789012345",
            "999999999999999",
            "12.345678",
            "0.000123",
        ] {
            assert_eq!(parse_value(cell), cell.parse::<f64>().ok(), "{cell}");
        }
        // Not plain digits: the float parser decides.
        assert_eq!(parse_value(" 12 "), Some(12.0));
        assert_eq!(parse_value("1\t"), Some(1.0));
        assert_eq!(parse_value("1e3"), Some(1000.0));
        assert_eq!(
            parse_value("1234567890123456789"),
            Some(1.234_567_890_123_456_8e18)
        );
        assert_eq!(parse_value("-3"), Some(-3.0));
        assert_eq!(parse_value(""), None);
        assert_eq!(parse_value("NA"), None);
    }

    fn read(text: &str, samples_as_rows: bool) -> Result<FeatureTable> {
        read_delimited(
            text.as_bytes(),
            &Location::named("t.tsv"),
            TextOptions { samples_as_rows },
        )
    }

    #[test]
    fn biom_tsv_with_comment_header_and_taxonomy() {
        let t = read("# Constructed from biom file\n#OTU ID\tS1\tS2\ttaxonomy\nO1\t1\t0\tk__Bacteria; p__Firmicutes\nO2\t0\t2.5\t\n", false)
            .expect("valid");
        assert_eq!(t.sample_ids(), &["S1", "S2"]);
        assert_eq!(t.feature_ids(), &["O1", "O2"]);
        assert_eq!(t.get(1, 1), 2.5);
        assert_eq!(t.lineage(0).get(crate::Rank::Phylum), Some("Firmicutes"));
    }

    #[test]
    fn r_write_table_short_header_crlf_bom() {
        let t = read("\u{feff}S1\tS2\r\nO1\t3\t4\r\nO2\t0\t1\r\n", false).expect("valid");
        assert_eq!(t.sample_ids(), &["S1", "S2"]);
        assert_eq!(t.total(), 8.0);
    }

    #[test]
    fn quoted_csv_and_samples_as_rows() {
        let t = read("\"id\",\"A\",\"B\"\n\"s1\",1,2\n\"s2\",0,3\n", true).expect("valid");
        assert_eq!(t.sample_ids(), &["s1", "s2"]);
        assert_eq!(t.feature_ids(), &["A", "B"]);
        assert_eq!(t.get(1, 1), 3.0);
    }

    #[test]
    fn errors_name_the_line() {
        let ragged = read("#OTU ID\tS1\tS2\nO1\t1\t2\nO2\t1\n", false)
            .unwrap_err()
            .to_string();
        assert_eq!(
            ragged,
            "t.tsv line 3: expected 3 fields (as many as the header), found 2"
        );
        let na = read("#OTU ID\tS1\nO1\tNA\n", false)
            .unwrap_err()
            .to_string();
        assert!(
            na.contains("line 2") && na.contains("missing value 'NA'"),
            "{na}"
        );
        let neg = read("#OTU ID\tS1\nO1\t-2\n", false)
            .unwrap_err()
            .to_string();
        assert!(neg.contains("line 2") && neg.contains("negative"), "{neg}");
        assert!(read("", false).unwrap_err().to_string().contains("empty"));
        assert!(
            read("#OTU ID\tS1\n", false)
                .unwrap_err()
                .to_string()
                .contains("no data rows")
        );
    }

    /// Rows parsed in parallel blocks give the table the line-by-line reading gave, whatever
    /// the block size (one line a block, a few lines, all of them), with blank and comment
    /// lines, CRLF, quoted cells and a lineage column; the error is the first bad row in file
    /// order, whether the later bad rows are in the same block or another.
    #[test]
    fn blocks_of_rows_give_the_same_table_and_the_first_error() {
        let mut text =
            String::from("# Constructed from biom file\r\n#OTU ID\tS1\tS2\tS3\ttaxonomy\r\n");
        for f in 0..40 {
            match f % 9 {
                3 => text.push_str("\r\n"),
                6 => text.push_str("# a comment between rows\n"),
                _ => {}
            }
            let cells = [(f * 7) % 5, (f * 3) % 4, f % 2];
            let lineage = if f % 4 == 0 {
                "\"k__Bacteria; p__Firmicutes\""
            } else {
                "k__Bacteria"
            };
            text.push_str(&format!(
                "O{f}\t{}\t{}.5\t{}e1\t{lineage}\r\n",
                cells[0], cells[1], cells[2]
            ));
        }
        let read_in = |text: &str, block_bytes| {
            read_delimited_in_blocks(
                text.as_bytes(),
                &Location::named("t.tsv"),
                TextOptions::default(),
                block_bytes,
            )
        };
        let whole = read_in(&text, 1 << 22).expect("valid");
        assert_eq!(whole.feature_ids().len(), 40);
        // Feature O13 (the 14th row): 13·7 mod 5 = 1, 13·3 mod 4 = 3 → 3.5, 13 mod 2 = 1 → 10.
        let (f, s1, s2, s3) = (13, 0, 1, 2);
        assert_eq!(whole.feature_ids()[f], "O13");
        assert_eq!(
            (whole.get(s1, f), whole.get(s2, f), whole.get(s3, f)),
            (1.0, 3.5, 10.0)
        );
        assert_eq!(whole.lineage(f).get(crate::Rank::Domain), Some("Bacteria"));
        // O12's lineage was quoted, with its `;`-separated ranks.
        assert_eq!(
            whole.lineage(12).get(crate::Rank::Phylum),
            Some("Firmicutes")
        );
        for block_bytes in [0, 1, 30, 200] {
            assert_eq!(
                read_in(&text, block_bytes).expect("valid"),
                whole,
                "{block_bytes}"
            );
        }
        // Line 9 is ragged, line 12 has a negative value and line 30 is not UTF-8.
        let mut lines: Vec<Vec<u8>> = text.lines().map(|l| l.as_bytes().to_vec()).collect();
        lines[8] = b"O_ragged\t1\t2".to_vec();
        lines[11] = b"O_negative\t1\t-2\t3\tk__Bacteria".to_vec();
        lines[29] = b"O_bytes\t1\t\xff\t3\tk__Bacteria".to_vec();
        let bytes = lines.join(&b'\n');
        for block_bytes in [0, 1, 30, 200, 1 << 22] {
            let e = read_delimited_in_blocks(
                &bytes[..],
                &Location::named("t.tsv"),
                TextOptions::default(),
                block_bytes,
            )
            .unwrap_err()
            .to_string();
            assert_eq!(
                e, "t.tsv line 9: expected 5 fields (as many as the header), found 3",
                "{block_bytes}"
            );
            // Without the ragged row, the negative value; without both, the bytes.
            let mut later = lines.clone();
            later[8] = text.lines().nth(8).expect("line 9").as_bytes().to_vec();
            let e = read_delimited_in_blocks(
                &later.join(&b'\n')[..],
                &Location::named("t.tsv"),
                TextOptions::default(),
                block_bytes,
            )
            .unwrap_err()
            .to_string();
            assert!(
                e.starts_with("t.tsv line 12:") && e.contains("negative"),
                "{e}"
            );
            later[11] = text.lines().nth(11).expect("line 12").as_bytes().to_vec();
            let e = read_delimited_in_blocks(
                &later.join(&b'\n')[..],
                &Location::named("t.tsv"),
                TextOptions::default(),
                block_bytes,
            )
            .unwrap_err()
            .to_string();
            assert!(
                e.starts_with("t.tsv line 30:") && e.contains("UTF-8"),
                "{e}"
            );
        }
    }
}
