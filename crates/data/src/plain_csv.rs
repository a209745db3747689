//! A fast path for the user's own tables (`match --table`, `effect --table`): a plain CSV
//! (UTF-8, no quote characters, one value per header cell on every line) is split and typed in
//! parallel, straight into columns, with the types polars' inference over the whole file gives.
//! Anything this path is not sure to type the same way (a value that might be a boolean, a NaN,
//! an exponent or a date, quoting, a ragged or blank line) makes it step aside, and polars
//! reads the file as before; the test `plain_csv_types_as_polars_does` holds the two to the
//! same frame.
//!
//! The typing rules are polars 0.55's inference (`infer_field_schema`): a column whose values
//! are all integers (`-?[0-9]+`) is Int64; integers and decimals (`-?[0-9]+.[0-9]+`) Float64;
//! anything else in a column makes it text; an empty field is null.
//!
//! [`read_columns`], which reads only the columns a command names, types them directly and
//! steps aside only where a line cannot be split (a quote inside a field, a field over several
//! lines, a blank or ragged line): a field wholly in quotes (R's `write.csv`) is typed by its
//! text, as polars types it; `true` / `false` are booleans (read as 1 and 0); and any number the
//! standard library reads (exponents, as pandas writes small values) is a number. Where these
//! differ from polars' inference (`+5`, `.5` and `5.` are numbers here, text to polars) the
//! value is what the file says.

use polars::prelude::*;
use rayon::prelude::*;

/// What one field can be. The frame path's kinds are ordered (a column takes the widest of its
/// fields'); `Bool` comes only from [`type_of`], whose columns combine kinds by [`Kind::join`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    Empty,
    Int,
    Float,
    Text,
    Bool,
}

impl Kind {
    /// The kind of a column holding fields of kinds `self` and `other`: numbers widen to
    /// Float, booleans stay booleans, and booleans with numbers (or anything with text) are
    /// text, as polars' inference types such a column.
    fn join(self, other: Kind) -> Kind {
        match (self, other) {
            (Kind::Empty, k) | (k, Kind::Empty) => k,
            (a, b) if a == b => a,
            (Kind::Int | Kind::Float, Kind::Int | Kind::Float) => Kind::Float,
            _ => Kind::Text,
        }
    }
}

/// A field of a column `read_columns` types directly: its kind ([`type_of`]) and, for a number
/// or a boolean, its value, in one pass over the usual decimal ([`Decimal`]); anything else as
/// [`type_of`] takes it.
fn kind_and_value(field: &[u8]) -> (Kind, f64) {
    let d = Decimal::of(field);
    // as `classify`: an integer of at most 18 digits, or digits '.' digits
    let decimal = match d.point {
        None => d.simple && d.count <= 18,
        Some(at) => d.simple && at > 0 && at + 1 < d.len,
    };
    if decimal {
        let kind = if d.point.is_some() { Kind::Float } else { Kind::Int };
        return (kind, d.value(field));
    }
    let kind = type_of(field);
    let value = match kind {
        Kind::Int | Kind::Float => parsed(field),
        Kind::Bool => f64::from(u8::from(field.eq_ignore_ascii_case(b"true"))),
        _ => f64::NAN,
    };
    (kind, value)
}

/// The kind of a field (its text inside any quotes, as polars types it) of a column
/// `read_columns` types directly: empty; an integer or a decimal (the fast forms); `true` /
/// `false` in any case a boolean; then anything the standard library reads as a number
/// (exponents, `.5`, `5.`, `+5`, `inf`, `NaN`: the commands refuse NaN and infinities with
/// their row); anything else text.
fn type_of(field: &[u8]) -> Kind {
    match classify(field) {
        Some(kind) => kind,
        None if field.eq_ignore_ascii_case(b"true") || field.eq_ignore_ascii_case(b"false") => Kind::Bool,
        None if std::str::from_utf8(field).is_ok_and(|f| f.parse::<f64>().is_ok()) => Kind::Float,
        None => Kind::Text,
    }
}

/// The field's kind, or None when polars might type it otherwise than this path would (leading
/// `+`, exponents, `.5`, `5.`, NaN, infinities, booleans, date-like numbers, carriage returns,
/// integers too long for an i64).
fn classify(field: &[u8]) -> Option<Kind> {
    if field.is_empty() {
        return Some(Kind::Empty);
    }
    let digits = field.strip_prefix(b"-").unwrap_or(field);
    let integer_part = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    if integer_part > 0 {
        if integer_part == digits.len() {
            return (integer_part <= 18).then_some(Kind::Int);
        }
        if digits[integer_part] == b'.' {
            let fraction = &digits[integer_part + 1..];
            if !fraction.is_empty() && fraction.iter().all(u8::is_ascii_digit) {
                return Some(Kind::Float);
            }
        }
    }
    let numeric_looking = field.iter().all(|b| b.is_ascii_digit() || b".eE+-".contains(b));
    let special = ["true", "false", "nan", "inf", "infinity", "-inf", "+inf", "-infinity", "+infinity"]
        .iter()
        .any(|w| field.eq_ignore_ascii_case(w.as_bytes()));
    if numeric_looking || special || field.contains(&b'\r') {
        return None;
    }
    Some(Kind::Text)
}

/// One chunk of lines: each column's field positions (start in the file, length) and the
/// widest kind seen.
struct Chunk {
    fields: Vec<Vec<(u32, u32)>>,
    kinds: Vec<Kind>,
    /// Whether the column has an empty field in this chunk.
    empty: Vec<bool>,
}

/// Splits the lines of `bytes[from..to]` (whole lines) into `n` fields each.
fn split_chunk(bytes: &[u8], from: usize, to: usize, n: usize) -> Option<Chunk> {
    let mut chunk = Chunk { fields: vec![Vec::new(); n], kinds: vec![Kind::Empty; n], empty: vec![false; n] };
    let every: Vec<Option<usize>> = (0..n).map(Some).collect();
    each_field(&bytes[from..to], n, &every, |column, _, at, field| {
        let kind = classify(field)?;
        chunk.kinds[column] = chunk.kinds[column].max(kind);
        chunk.empty[column] |= kind == Kind::Empty;
        chunk.fields[column].push(((from + at) as u32, field.len() as u32));
        Some(())
    })?;
    Some(chunk)
}

/// A column of numbers from the fields' text (an empty field is null); without empty fields the
/// values go in without a validity mask.
fn numbers<'a, T>(name: PlSmallStr, fields: impl Iterator<Item = &'a str>, has_empty: bool) -> Column
where
    T: std::str::FromStr + Default,
    Series: NamedFrom<Vec<T>, [T]> + NamedFrom<Vec<Option<T>>, [Option<T>]>,
{
    if has_empty {
        let values: Vec<Option<T>> = fields.map(|f| if f.is_empty() { None } else { f.parse().ok() }).collect();
        Column::new(name, values)
    } else {
        Column::new(name, fields.map(|f| f.parse().unwrap_or_default()).collect::<Vec<T>>())
    }
}

/// The end of the header line and the column names of a file the fast paths take: under 4 GiB
/// (field positions are u32), no byte-order mark, no quote anywhere, distinct non-empty names.
fn plain_header(bytes: &[u8]) -> Option<(usize, Vec<&str>)> {
    if bytes.len() >= u32::MAX as usize
        || bytes.starts_with(&[0xEF, 0xBB, 0xBF])
        || memchr::memchr(b'"', bytes).is_some()
    {
        return None;
    }
    let header_end = memchr::memchr(b'\n', bytes)?;
    let header = std::str::from_utf8(&bytes[..header_end]).ok()?;
    let header = header.strip_suffix('\r').unwrap_or(header);
    let names: Vec<&str> = header.split(',').collect();
    let mut distinct = names.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() != names.len() || names.iter().any(|n| n.is_empty() || n.contains('\r')) {
        return None;
    }
    Some((header_end, names))
}

/// The end of the header line and the column names of a file [`read_columns`] takes: under
/// 4 GiB, a byte-order mark skipped, names that may be quoted (R's `write.csv`), distinct
/// (an empty name, such as R's row-name column, is kept and never asked for).
fn quoted_header(bytes: &[u8]) -> Option<(usize, Vec<&str>)> {
    if bytes.len() >= u32::MAX as usize {
        return None;
    }
    let header_end = memchr::memchr(b'\n', bytes)?;
    let from = if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) { 3 } else { 0 };
    let line = &bytes[from..header_end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let width = line.iter().filter(|&&b| b == b',').count() + 1;
    let all: Vec<Option<usize>> = (0..width).map(Some).collect();
    let mut names = Vec::with_capacity(width);
    each_field(line, width, &all, |_, _, _, name| {
        names.push(std::str::from_utf8(name).ok()?);
        Some(())
    })?;
    let mut distinct = names.clone();
    distinct.sort_unstable();
    distinct.dedup();
    (distinct.len() == names.len()).then_some((header_end, names))
}

/// The frame of a plain CSV, or None when polars should read it (see the module's docs).
pub(crate) fn read(bytes: &[u8]) -> Option<DataFrame> {
    let (header_end, names) = plain_header(bytes)?;
    let text = std::str::from_utf8(bytes).ok()?;
    let n = names.len();
    // chunks of whole lines, several per thread
    let bounds = chunk_bounds(bytes, header_end + 1);
    let chunks: Vec<Chunk> =
        bounds.par_windows(2).map(|w| split_chunk(bytes, w[0], w[1], n)).collect::<Option<Vec<_>>>()?;
    let rows: usize = chunks.iter().map(|c| c.fields[0].len()).sum();
    if rows == 0 {
        return None;
    }
    let columns: Vec<Column> = (0..n)
        .into_par_iter()
        .map(|j| {
            let kind = chunks.iter().map(|c| c.kinds[j]).max().unwrap_or(Kind::Empty);
            let has_empty = chunks.iter().any(|c| c.empty[j]);
            let fields = || chunks.iter().flat_map(|c| c.fields[j].iter());
            let value = |&(start, len): &(u32, u32)| &text[start as usize..start as usize + len as usize];
            let name = PlSmallStr::from(names[j]);
            match kind {
                // a column with no values: polars' own reading decides its type (booleans
                // are never classified on this path)
                Kind::Empty | Kind::Bool => None,
                Kind::Int => Some(numbers::<i64>(name, fields().map(value), has_empty)),
                Kind::Float => Some(numbers::<f64>(name, fields().map(value), has_empty)),
                Kind::Text => {
                    let values: Vec<Option<&str>> =
                        fields().map(|f| if f.1 == 0 { None } else { Some(value(f)) }).collect();
                    Some(Column::new(name, values))
                }
            }
        })
        .collect::<Option<Vec<_>>>()?;
    DataFrame::new(rows, columns).ok()
}

/// A column of a plain CSV as [`crate::read::user_columns`] gives it, typed as polars' inference would type
/// it (Int64 and Float64 both as numbers).
#[derive(Debug, Clone, PartialEq)]
pub enum PlainColumn {
    /// Numbers (an empty field is NaN here; see `first_empty`).
    Numbers {
        /// One per row.
        values: Vec<f64>,
        /// The first data row (0-based) with an empty field, if any.
        first_empty: Option<usize>,
    },
    /// Text, dictionary-coded: the distinct values in order of first appearance, and each
    /// row's index among them (an empty field is `u32::MAX`; see `first_empty`).
    Text {
        /// Distinct values.
        labels: Vec<String>,
        /// One per row.
        codes: Vec<u32>,
        /// The first data row (0-based) with an empty field, if any.
        first_empty: Option<usize>,
    },
}

/// The columns of a plain CSV that [`crate::read::user_columns`] was asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct PlainColumns {
    /// Every column's name, in the file's order.
    pub names: Vec<String>,
    /// Data rows.
    pub rows: usize,
    /// The wanted columns present in the file, by name.
    pub columns: Vec<(String, PlainColumn)>,
}

/// Calls `visit(slot, row, at, field)` for each field of `bytes` (whole lines) whose
/// column has a slot, rows counted from 0, `at` the field's first byte in `bytes`; returns the
/// number of lines. A field wholly in double quotes is given without them; a quoted
/// field holding a quote, a field with a quote elsewhere, or a quote left open (a field over
/// several lines) gives None, as does a line the fast path leaves to polars (blank, or not `n`
/// fields), or `visit` saying None.
fn each_field<'a>(
    bytes: &'a [u8],
    n: usize,
    slots: &[Option<usize>],
    visit: impl FnMut(usize, usize, usize, &'a [u8]) -> Option<()>,
) -> Option<usize> {
    // one vectorised look for quotes over the whole chunk: most files have none, and then the
    // lines are split as they are read
    if memchr::memchr(b'"', bytes).is_none() {
        return each_unquoted_field(bytes, n, slots, visit);
    }
    each_field_by_line(bytes, n, slots, visit)
}

/// [`each_field`] line by line, each line looked at for quotes.
fn each_field_by_line<'a>(
    bytes: &'a [u8],
    n: usize,
    slots: &[Option<usize>],
    mut visit: impl FnMut(usize, usize, usize, &'a [u8]) -> Option<()>,
) -> Option<usize> {
    let mut row = 0;
    let mut start = 0;
    while start < bytes.len() {
        // the line, then its fields (short: a byte loop beats a vectorised search there)
        let end = memchr::memchr(b'\n', &bytes[start..]).map_or(bytes.len(), |i| start + i);
        let line = &bytes[start..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return None; // a blank line: polars decides what it is
        }
        // one vectorised look for quotes per line; a line without any splits on commas alone
        let any_quote = memchr::memchr(b'"', line).is_some();
        let (mut column, mut from) = (0, 0);
        loop {
            let quoted = any_quote && line.get(from) == Some(&b'"');
            let (first, last, to) = if quoted {
                // the closing quote must end the field
                let close = from + 1 + memchr::memchr(b'"', &line[from + 1..])?;
                if close + 1 < line.len() && line[close + 1] != b',' {
                    return None;
                }
                (from + 1, close, close + 1)
            } else {
                // (a line holds no newline: the next delimiter is its next comma)
                let to = delimiter(line, from);
                if any_quote && line[from..to].contains(&b'"') {
                    return None;
                }
                (from, to, to)
            };
            if column == n {
                return None;
            }
            if let Some(slot) = slots[column] {
                visit(slot, row, start + first, &line[first..last])?;
            }
            column += 1;
            if to == line.len() {
                break;
            }
            from = to + 1;
        }
        if column != n {
            return None;
        }
        row += 1;
        start = end + 1;
    }
    Some(row)
}

/// [`each_field`] of a chunk without quotes: each field ends at the next comma or newline,
/// found together, so a line is read once (the same fields, rows and refusals: a blank line,
/// or a line without `n` fields, gives None; a carriage return ending a line is not part of its
/// last field).
fn each_unquoted_field<'a>(
    bytes: &'a [u8],
    n: usize,
    slots: &[Option<usize>],
    mut visit: impl FnMut(usize, usize, usize, &'a [u8]) -> Option<()>,
) -> Option<usize> {
    let mut row = 0;
    let mut at = 0;
    while at < bytes.len() {
        let line_start = at;
        let mut column = 0;
        loop {
            let to = delimiter(bytes, at);
            let line_ends = to == bytes.len() || bytes[to] == b'\n';
            let last = if line_ends && to > at && bytes[to - 1] == b'\r' { to - 1 } else { to };
            if line_ends && last == line_start {
                return None; // a blank line: polars decides what it is
            }
            if column == n {
                return None;
            }
            if let Some(slot) = slots[column] {
                visit(slot, row, at, &bytes[at..last])?;
            }
            column += 1;
            at = to + 1;
            if line_ends {
                break;
            }
        }
        if column != n {
            return None;
        }
        row += 1;
    }
    Some(row)
}

/// The first comma or newline of `bytes` from `from` on, or the end: eight bytes at a time where
/// eight remain (a byte equal to ',' is a zero byte of `word ^ ",,,,,,,,"`, found exactly by the
/// carry-free test `(x - 0x01..) & !x & 0x80..` on its lowest such byte, Mycroft's trick; bytes
/// above the lowest zero can be flagged wrongly, so only the lowest flag is read, and the lowest
/// of the comma's and the newline's tests is the first of either), then byte by byte.
fn delimiter(bytes: &[u8], from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut at = from;
    while at + 8 <= bytes.len() {
        let word = eight(bytes, at);
        let found = zero(word ^ (ONES * u64::from(b','))) | zero(word ^ (ONES * u64::from(b'\n')));
        if found != 0 {
            return at + (found.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while at < bytes.len() && bytes[at] != b',' && bytes[at] != b'\n' {
        at += 1;
    }
    at
}

/// Eight bytes, the first at the lowest address.
fn eight(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("eight bytes"))
}

/// The value of eight ASCII digits (the first the most significant, at the lowest address), or
/// None when a byte is not a digit: a byte is a digit when its high nibble is 3 and stays 3
/// with 6 added (no carry crosses a byte: each is at most 0x39 + 6); the digits are then
/// combined in pairs, fours and the eight by three multiplications (the SWAR method described by
/// D. Lemire, "Quickly parsing eight digits", 2022).
fn eight_digits(word: u64) -> Option<u64> {
    const NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    if word & NIBBLES != ZEROS || (word.wrapping_add(0x0606_0606_0606_0606) & NIBBLES) != ZEROS {
        return None;
    }
    let mut v = word - ZEROS;
    // pairs: each 16-bit lane's low byte is 10 d_first + d_second
    v = v.wrapping_mul(10).wrapping_add(v >> 8);
    const LANES: u64 = 0x0000_00FF_0000_00FF;
    let fours = (v & LANES).wrapping_mul(100 + (1_000_000 << 32));
    let rest = ((v >> 16) & LANES).wrapping_mul(1 + (10_000 << 32));
    Some(fours.wrapping_add(rest) >> 32)
}

/// The standard library's correctly rounded value of a field (NaN when it is not a number).
fn parsed(field: &[u8]) -> f64 {
    std::str::from_utf8(field).ok().and_then(|f| f.parse().ok()).unwrap_or(f64::NAN)
}

/// A field read once as `-`? digits with at most one `.`: the digits as an integer (wrapping
/// beyond 19 digits), how many, how many after the point, where the point is (among the
/// digits' bytes) and whether nothing else occurred.
struct Decimal {
    negative: bool,
    mantissa: u64,
    count: usize,
    fraction: usize,
    point: Option<usize>,
    simple: bool,
    /// Bytes after the sign.
    len: usize,
}

impl Decimal {
    fn of(field: &[u8]) -> Decimal {
        let (negative, digits) = match field.split_first() {
            Some((b'-', rest)) => (true, rest),
            _ => (false, field),
        };
        let mut d = Decimal {
            negative,
            mantissa: 0,
            count: 0,
            fraction: 0,
            point: None,
            simple: !digits.is_empty(),
            len: digits.len(),
        };
        let mut i = 0;
        while i < digits.len() {
            // eight digits at once where eight remain (the same mantissa: wrapping arithmetic
            // is arithmetic mod 2^64, so m 10^8 + v is eight steps of m 10 + d)
            if let Some(v) = digits.get(i..i + 8).and_then(|b| eight_digits(eight(b, 0))) {
                d.mantissa = d.mantissa.wrapping_mul(100_000_000).wrapping_add(v);
                d.count += 8;
                d.fraction += if d.point.is_some() { 8 } else { 0 };
                i += 8;
                continue;
            }
            let b = digits[i];
            match b {
                b'0'..=b'9' => {
                    d.mantissa = d.mantissa.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
                    d.count += 1;
                    d.fraction += usize::from(d.point.is_some());
                }
                b'.' if d.point.is_none() => d.point = Some(i),
                _ => {
                    d.simple = false;
                    break;
                }
            }
            i += 1;
        }
        d
    }

    /// The field's value: short decimals (at most 15 digits, the usual case) take Clinger's
    /// fast path, the digits as an integer, exact in an f64, divided by an exact power of ten,
    /// one correctly rounded operation, hence the value the full parser gives (W. D. Clinger,
    /// "How to read floating point numbers accurately", PLDI 1990); the rest go through the
    /// standard library's parser.
    fn value(&self, field: &[u8]) -> f64 {
        const POWERS: [f64; 16] =
            [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
        if self.simple && self.count <= 15 {
            // below 10^15 < 2^53: exact; so is 10^fraction
            let value = self.mantissa as f64 / POWERS[self.fraction];
            return if self.negative { -value } else { value };
        }
        if self.simple && self.count <= 19 {
            if let Some(value) = long_decimal(self.mantissa, self.fraction) {
                return if self.negative { -value } else { value };
            }
        }
        parsed(field)
    }
}

/// The correctly rounded value of `mantissa / 10^fraction` for a mantissa of 16 to 19 digits
/// (below 10^19, exact in a u64; the full-precision numbers pandas and R write), or None where
/// this cannot be sure of the rounding (the standard library's parser decides those).
///
/// The mantissa is split exactly into its nearest f64 `high` and the rest `low` (an integer
/// of at most 2^10 in magnitude), and 10^fraction is exact for fraction <= 22. The quotient
/// high / 10^f is rounded once; its remainder is exact with a fused multiply-add (the
/// remainder of a correctly rounded quotient is representable: Boldo and Daumas 2003), so that
/// q + (remainder + low) / 10^f (the second quotient taken as a product with 10^-f) is the
/// value up to an error below 2^-49 of an ulp. The sum is
/// correctly rounded unless the value lies that close to a midpoint between two f64s: such
/// sums (and powers of two, where the spacing changes) are given up, well within the margin.
fn long_decimal(mantissa: u64, fraction: usize) -> Option<f64> {
    const POWERS: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
        1e20, 1e21, 1e22,
    ];
    // the nearest doubles to 10^-f: the correction (at most about an ulp of the quotient) needs
    // no correct rounding, so it takes a multiplication (relative error 2^-52, a few 2^-52 of
    // an ulp of the sum, far inside the margin below) rather than a second division
    const RECIPROCALS: [f64; 23] = [
        1e0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12, 1e-13, 1e-14, 1e-15, 1e-16,
        1e-17, 1e-18, 1e-19, 1e-20, 1e-21, 1e-22,
    ];
    let power = *POWERS.get(fraction)?;
    // |mantissa - high| <= 2^10 (high holds 53 of at most 64 bits, and below 2^64 fits a
    // u64): exact as an integer and as an f64; below 2^62 (every mantissa of up to 18 digits)
    // through the signed conversions, which are single instructions
    let (high, low) = if mantissa < 1 << 62 {
        let high = mantissa as i64 as f64;
        (high, (mantissa as i64 - high as i64) as f64)
    } else {
        let high = mantissa as f64;
        let whole = high as u64;
        (high, if mantissa >= whole { (mantissa - whole) as f64 } else { -((whole - mantissa) as f64) })
    };
    let quotient = high / power;
    let remainder = (-quotient).mul_add(power, high);
    let correction = (remainder + low) * RECIPROCALS[fraction];
    let sum = quotient + correction;
    // the sum's rounding error, exactly (Knuth's two-sum)
    let back = sum - quotient;
    let error = (quotient - (sum - back)) + (correction - back);
    let bits = sum.to_bits();
    if sum == 0.0 || !sum.is_finite() || bits & ((1u64 << 52) - 1) == 0 {
        return None;
    }
    let half_ulp = (f64::from_bits(bits + 1) - sum) / 2.0;
    ((error.abs() - half_ulp).abs() > half_ulp * 1e-6).then_some(sum)
}

/// What [`read_columns`] learns of one chunk's wanted columns.
struct ChunkColumns<'a> {
    /// The widest kind seen.
    kinds: Vec<Kind>,
    /// The chunk's first row with an empty field.
    first_empty: Vec<Option<usize>>,
    /// The row from which the column's fields are stored as text labels.
    text_from: Vec<Option<usize>>,
    /// Whether a number was "-0" (polars' Int64 reads it as 0).
    negative_zero: Vec<bool>,
    /// Distinct labels in order of first appearance, with the code of each, and the last one.
    labels: Vec<Vec<&'a str>>,
    seen: Vec<std::collections::HashMap<&'a [u8], u32>>,
    last: Vec<Option<(&'a [u8], u32)>>,
}

impl<'a> ChunkColumns<'a> {
    fn new(width: usize) -> Self {
        ChunkColumns {
            kinds: vec![Kind::Empty; width],
            first_empty: vec![None; width],
            text_from: vec![None; width],
            negative_zero: vec![false; width],
            labels: vec![Vec::new(); width],
            seen: vec![Default::default(); width],
            last: vec![None; width],
        }
    }

    /// The chunk's code of label `field` in column `slot` (rows of one label usually come
    /// together: the last label is checked first); None for a label that is not UTF-8.
    fn code(&mut self, slot: usize, field: &'a [u8]) -> Option<u32> {
        if let Some((label, code)) = self.last[slot] {
            if label == field {
                return Some(code);
            }
        }
        let code = match self.seen[slot].get(field) {
            Some(&code) => code,
            None => {
                self.labels[slot].push(std::str::from_utf8(field).ok()?);
                let code = self.labels[slot].len() as u32 - 1;
                self.seen[slot].insert(field, code);
                code
            }
        };
        self.last[slot] = Some((field, code));
        Some(code)
    }
}

/// The `wanted` columns of a plain CSV (see the module's docs), read without building a frame:
/// numbers as f64 and text dictionary-coded, in one parallel pass over the lines that types and
/// parses together (after a vectorised count of each chunk's lines, which places its rows).
/// None when polars should read the file (as this module's polars path does), or when a wanted column has no values at
/// all.
pub fn read_columns(bytes: &[u8], wanted: &[&str]) -> Option<PlainColumns> {
    let (header_end, names) = quoted_header(bytes)?;
    let n = names.len();
    // the wanted columns present, each with its slot
    let mut slots = vec![None; n];
    let mut present: Vec<&str> = Vec::new();
    for name in wanted {
        if let Some(j) = names.iter().position(|c| c == name) {
            if slots[j].is_none() {
                slots[j] = Some(present.len());
                present.push(name);
            }
        }
    }
    let bounds = chunk_bounds(bytes, header_end + 1);
    let chunks: Vec<&[u8]> = bounds.windows(2).map(|w| &bytes[w[0]..w[1]]).collect();
    // each chunk's lines (a vectorised count), hence where its rows go
    let lines: Vec<usize> = chunks
        .par_iter()
        .map(|c| memchr::memchr_iter(b'\n', c).count() + usize::from(c.last() != Some(&b'\n')))
        .collect();
    let rows: usize = lines.iter().sum();
    if rows == 0 {
        return None;
    }
    // every wanted column gets room for numbers and for text codes, zeroed by the allocator
    // and untouched (hence costing no memory) where nothing is written
    let width = present.len();
    let mut numbers: Vec<Vec<f64>> = (0..width).map(|_| vec![0.0; rows]).collect();
    let mut codes: Vec<Vec<u32>> = (0..width).map(|_| vec![0; rows]).collect();
    // per chunk, its part of every column's numbers and codes
    type Part<'a> = (Vec<&'a mut [f64]>, Vec<&'a mut [u32]>);
    let mut parts: Vec<Part<'_>> = lines.iter().map(|_| (Vec::new(), Vec::new())).collect();
    for (number_column, code_column) in numbers.iter_mut().zip(codes.iter_mut()) {
        let (mut rest_n, mut rest_c) = (number_column.as_mut_slice(), code_column.as_mut_slice());
        for (part, &count) in parts.iter_mut().zip(&lines) {
            let (mine_n, next_n) = std::mem::take(&mut rest_n).split_at_mut(count);
            let (mine_c, next_c) = std::mem::take(&mut rest_c).split_at_mut(count);
            part.0.push(mine_n);
            part.1.push(mine_c);
            (rest_n, rest_c) = (next_n, next_c);
        }
    }
    // one pass: each wanted field typed, and stored as a number, or as a text label once the
    // chunk's column has shown text
    let mut done: Vec<ChunkColumns<'_>> = chunks
        .par_iter()
        .zip(parts.into_par_iter())
        .map(|(chunk, (mut nums, mut texts))| {
            let mut out = ChunkColumns::new(width);
            let lines = each_field(chunk, n, &slots, |slot, row, _, field| {
                let (kind, value) = kind_and_value(field);
                out.kinds[slot] = out.kinds[slot].join(kind);
                match kind {
                    Kind::Empty => {
                        out.first_empty[slot].get_or_insert(row);
                        *nums[slot].get_mut(row)? = f64::NAN;
                        *texts[slot].get_mut(row)? = u32::MAX;
                    }
                    Kind::Int | Kind::Float | Kind::Bool
                        if out.text_from[slot].is_none() && out.kinds[slot] != Kind::Text =>
                    {
                        out.negative_zero[slot] |= value == 0.0 && value.is_sign_negative();
                        *nums[slot].get_mut(row)? = value;
                    }
                    _ => {
                        out.text_from[slot].get_or_insert(row);
                        *texts[slot].get_mut(row)? = out.code(slot, field)?;
                    }
                }
                Some(())
            })?;
            (lines == nums.first().map_or(lines, |c| c.len())).then_some(out)
        })
        .collect::<Option<_>>()?;
    let offsets: Vec<usize> = lines.iter().scan(0, |at, &l| Some(std::mem::replace(at, *at + l))).collect();
    let mut columns: Vec<(String, PlainColumn)> = Vec::with_capacity(width);
    for (slot, ((name, mut values), mut coded)) in present.iter().zip(numbers).zip(codes).enumerate() {
        let kind = done.iter().fold(Kind::Empty, |k, c| k.join(c.kinds[slot]));
        let first_empty = done.iter().zip(&offsets).find_map(|(c, at)| c.first_empty[slot].map(|r| at + r));
        let column = match kind {
            // a column with no values: polars' own reading decides its type
            Kind::Empty => return None,
            Kind::Int | Kind::Float | Kind::Bool => {
                // an Int64 column holds no negative zero ("-0" is 0)
                if kind == Kind::Int && done.iter().any(|c| c.negative_zero[slot]) {
                    values.iter_mut().filter(|v| **v == 0.0).for_each(|v| *v = 0.0);
                }
                PlainColumn::Numbers { values, first_empty }
            }
            Kind::Text => {
                // rows a chunk stored as numbers before its text began (or a chunk of numbers
                // only, in a column that is text elsewhere) are read again as labels
                let only: Vec<Option<usize>> = slots.iter().map(|s| s.filter(|&s| s == slot)).collect();
                let mut start = 0;
                for ((chunk, out), &count) in chunks.iter().zip(done.iter_mut()).zip(&lines) {
                    let until = out.text_from[slot].unwrap_or(count);
                    if until > 0 {
                        let target = &mut coded[start..start + count];
                        each_field(chunk, n, &only, |_, row, _, field| {
                            if row < until && !field.is_empty() {
                                target[row] = out.code(slot, field)?;
                            }
                            Some(())
                        })?;
                    }
                    start += count;
                }
                // one dictionary in order of first appearance, each chunk's codes renumbered
                let mut all: Vec<String> = Vec::new();
                let mut index: std::collections::HashMap<&str, u32> = Default::default();
                let mut rest = coded.as_mut_slice();
                for (out, &count) in done.iter().zip(&lines) {
                    // the chunk's labels numbered as its rows first show them (a chunk's own
                    // order is not the rows' where its text began after some rows)
                    let mut map = vec![u32::MAX; out.labels[slot].len()];
                    let (mine, next) = std::mem::take(&mut rest).split_at_mut(count);
                    for c in mine.iter_mut().filter(|c| **c != u32::MAX) {
                        let mapped = &mut map[*c as usize];
                        if *mapped == u32::MAX {
                            let label = out.labels[slot][*c as usize];
                            *mapped = *index.entry(label).or_insert_with(|| {
                                all.push(label.to_string());
                                all.len() as u32 - 1
                            });
                        }
                        *c = *mapped;
                    }
                    rest = next;
                }
                PlainColumn::Text { labels: all, codes: coded, first_empty }
            }
        };
        columns.push((name.to_string(), column));
    }
    Some(PlainColumns { names: names.iter().map(|s| s.to_string()).collect(), rows, columns })
}

/// Chunk boundaries of the lines from `body` on: whole lines, several chunks per thread.
fn chunk_bounds(bytes: &[u8], body: usize) -> Vec<usize> {
    let pieces = rayon::current_num_threads() * 4;
    let step = ((bytes.len() - body) / pieces).max(1 << 16);
    let mut bounds = vec![body];
    while let Some(&last) = bounds.last() {
        if last >= bytes.len() {
            break;
        }
        let target = (last + step).min(bytes.len());
        let next = if target == bytes.len() {
            target
        } else {
            memchr::memchr(b'\n', &bytes[target..]).map_or(bytes.len(), |i| target + i + 1)
        };
        bounds.push(next);
    }
    bounds
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Marsaglia's xorshift64 from `state`: the tests' reproducible random fields.
    fn xorshift(mut state: u64) -> impl FnMut() -> u64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        }
    }

    /// A number's text, as polars parses an Int64 or Float64 field (both as f64: an integer of
    /// at most 18 digits converts to the same f64 either way, each correctly rounded).
    fn number(field: &[u8]) -> f64 {
        Decimal::of(field).value(field)
    }
    use std::io::Cursor;

    /// Files both fast paths take.
    const TAKEN: [&str; 6] = [
        "a,b,c\n1,2.5,x\n-3,4,y\n",
        "a,b,c\r\n1,2.5,x\r\n,,\r\n7,0.125,z",
        "id,site,w\n10,s0,1\n11,s1,0\n12,s0,\n",
        "y,g\n0.1,1\n-0.000001,0\n123456789012345678,1\n",
        "t,x\nabc,1\n5,2\n",
        "t\n s\n x \n",
    ];

    fn polars_read(text: &str) -> DataFrame {
        CsvReadOptions::default()
            .with_infer_schema_length(None)
            .into_reader_with_file_handle(Cursor::new(text.as_bytes().to_vec()))
            .finish()
            .expect("polars reads it")
    }

    /// Every case the fast path takes yields polars' frame (values, nulls and types); the cases
    /// it must leave to polars are left.
    #[test]
    fn plain_csv_types_as_polars_does() {
        for text in TAKEN {
            let fast = read(text.as_bytes()).unwrap_or_else(|| panic!("fast path takes {text:?}"));
            let slow = polars_read(text);
            assert_eq!(fast.schema(), slow.schema(), "{text:?}");
            assert!(fast.equals_missing(&slow), "{text:?}\n{fast}\n{slow}");
        }
        let left = [
            "a\n\"q\"\n",
            "a,b\n1\n",
            "a,b\n1,2,3\n",
            "a\n1\n\n2\n",
            "a\ntrue\n",
            "a\nNaN\n",
            "a\n1e5\n",
            "a\n.5\n",
            "a\n5.\n",
            "a\n+5\n",
            "a\n2020-01-01\n",
            "a\n1234567890123456789\n",
            "a,a\n1,2\n",
            "a\n\n",
            "\u{feff}a\n1\n",
            "a,b\n,1\n",
        ];
        for text in left {
            assert!(read(text.as_bytes()).is_none(), "fast path should leave {text:?} to polars");
        }
    }

    /// Many chunks (the file is larger than one chunk): rows stay in order.
    #[test]
    fn chunks_keep_row_order() {
        let mut text = String::from("i,v,s\n");
        for i in 0..200_000 {
            text.push_str(&format!("{i},{}.5,s{}\n", i % 97, i % 13));
        }
        let fast = read(text.as_bytes()).expect("plain");
        let slow = polars_read(&text);
        assert_eq!(fast.schema(), slow.schema());
        assert!(fast.equals_missing(&slow));
    }
    /// The column polars reads, as `read_columns` gives it (numbers as f64, text
    /// dictionary-coded in order of first appearance, the first empty field's row).
    fn as_polars_types(frame: &DataFrame, name: &str) -> PlainColumn {
        let column = frame.column(name).expect("the column");
        let first_empty = (0..column.len()).find(|&i| column.get(i).is_ok_and(|v| v.is_null()));
        if column.dtype().is_primitive_numeric() || column.dtype().is_bool() {
            let cast = column.cast(&DataType::Float64).expect("numbers");
            let values = cast.f64().expect("f64").iter().map(|v| v.unwrap_or(f64::NAN)).collect();
            return PlainColumn::Numbers { values, first_empty };
        }
        let (mut labels, mut codes) = (Vec::<String>::new(), Vec::new());
        for v in column.str().expect("text").iter() {
            codes.push(match v {
                None => u32::MAX,
                Some(v) => match labels.iter().position(|l| l == v) {
                    Some(i) => i as u32,
                    None => {
                        labels.push(v.to_string());
                        labels.len() as u32 - 1
                    }
                },
            });
        }
        PlainColumn::Text { labels, codes, first_empty }
    }

    /// Columns equal, NaN for NaN, and a zero's sign compared.
    fn same(a: &PlainColumn, b: &PlainColumn) -> bool {
        match (a, b) {
            (
                PlainColumn::Numbers { values: va, first_empty: fa },
                PlainColumn::Numbers { values: vb, first_empty: fb },
            ) => {
                fa == fb
                    && va.len() == vb.len()
                    && va.iter().zip(vb).all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
            }
            _ => a == b,
        }
    }

    /// `read_columns` gives every column as polars types and reads it, for the files the frame
    /// path takes; it leaves what that path leaves (but for a column never asked for).
    #[test]
    fn selected_columns_are_typed_and_read_as_polars_does() {
        let more = [
            "i,f\n-0,-0.0\n3,0.5\n",
            "d\n0.1234567890123456789\n12345678901234.5\n-98765.4321\n007\n",
            // what the frame path leaves to polars, typed directly here as polars types it:
            // quoted names and text (R's write.csv, with its row-name column), booleans, exponents
            // (pandas' small values), NaN and infinities, a byte-order mark, quoted commas
            "\"\",\"g\",\"y\"\n\"1\",\"a\",1.5\n\"2\",\"b,c\",-2\n",
            "t,y\ntrue,1\nFalse,2\n,3\nTRUE,4\n",
            "y,z\n1e-05,3\n-2.5E+3,4\n0.125,5e2\n",
            "y\nNaN\n1\ninf\n-inf\n",
            "\u{feff}a,b\n1,x\n2,y\n",
            "t,mixed\ntrue,1\nfalse,true\n",
        ];
        for text in TAKEN.into_iter().chain(more) {
            let frame = polars_read(text);
            let names: Vec<String> = frame.get_column_names().iter().map(|c| c.to_string()).collect();
            let wanted: Vec<&str> = names.iter().map(String::as_str).collect();
            let read = read_columns(text.as_bytes(), &wanted).unwrap_or_else(|| panic!("taken: {text:?}"));
            assert_eq!(read.names, names);
            assert_eq!(read.rows, frame.height());
            for (name, column) in &read.columns {
                let expected = as_polars_types(&frame, name);
                assert!(same(column, &expected), "{text:?} column {name}: {column:?} against {expected:?}");
            }
        }
        for text in [
            "a,b\n1\n",
            "a,b\n1,2,3\n",
            "a\n1\n\n2\n",
            "a,a\n1,2\n",
            "a,b\n,1\n",
            "a\n\"q\"\"r\"\n",
            "a\nq\"r\n",
            "a\n\"two\nlines\"\n",
            "a,b\n\"q\"x,1\n",
        ] {
            assert!(read_columns(text.as_bytes(), &["a"]).is_none(), "should leave {text:?} to polars");
        }
        // numbers polars' inference calls text are numbers to the direct typing
        let read = read_columns(b"a\n+5\n.5\n5.\n", &["a"]).expect("taken");
        assert_eq!(read.columns[0].1, PlainColumn::Numbers { values: vec![5.0, 0.5, 5.0], first_empty: None });
        // a column not asked for is neither typed nor read
        let read = read_columns(b"a,b\n1,true\n2,1e5\n", &["a", "missing"]).expect("taken");
        assert_eq!(read.columns.len(), 1);
        assert_eq!(read.columns[0].1, PlainColumn::Numbers { values: vec![1.0, 2.0], first_empty: None });
    }

    /// Over many chunks: a column of numbers that turns to text in a later chunk (and in the
    /// middle of one) is text throughout, as polars reads it; labels keep their first-seen order.
    #[test]
    fn a_column_that_turns_to_text_is_read_again_as_labels() {
        let mut text = String::from("v,mixed,site\n");
        for i in 0..150_000 {
            let mixed = if i == 120_001 { "late".to_string() } else { (i % 7).to_string() };
            text.push_str(&format!("{}.25,{mixed},s{}\n", i % 101, (i / 1000) % 13));
        }
        let frame = polars_read(&text);
        let read = read_columns(text.as_bytes(), &["site", "mixed", "v"]).expect("plain");
        assert_eq!(read.columns.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(), ["site", "mixed", "v"]);
        for (name, column) in &read.columns {
            assert!(same(column, &as_polars_types(&frame, name)), "column {name}");
        }
        let PlainColumn::Text { labels, .. } = &read.columns[1].1 else { panic!("text") };
        assert_eq!(labels[..3], ["0", "1", "2"]);
    }

    /// The fused one-pass typing and parsing equals typing ([`type_of`]) then parsing
    /// ([`number`]), field by field, on random short fields of digits, signs, points and
    /// exponents, and on the words it knows.
    #[test]
    fn one_pass_typing_equals_typing_then_parsing() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1du64);
        let alphabet = b"0123456789012345678901234567890123456789.-e+";
        let mut fields: Vec<Vec<u8>> = ["true", "FALSE", "nan", "inf", "-inf", "x1", "", "-", ".", "1.", ".5", "-0"]
            .iter()
            .map(|w| w.as_bytes().to_vec())
            .collect();
        for _ in 0..200_000 {
            let len = 1 + (next() % 20) as usize;
            fields.push((0..len).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]).collect());
        }
        for field in &fields {
            let (kind, value) = kind_and_value(field);
            let expected_kind = type_of(field);
            assert_eq!(kind, expected_kind, "{:?}", String::from_utf8_lossy(field));
            let expected = match kind {
                Kind::Int | Kind::Float => number(field),
                Kind::Bool => f64::from(u8::from(field.eq_ignore_ascii_case(b"true"))),
                _ => f64::NAN,
            };
            assert!(
                value.to_bits() == expected.to_bits() || (value.is_nan() && expected.is_nan()),
                "{:?}: {value} against {expected}",
                String::from_utf8_lossy(field)
            );
        }
    }

    /// Clinger's fast path gives the standard library's value, digit for digit.
    #[test]
    fn short_decimals_parse_as_the_standard_library_does() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15u64);
        for _ in 0..200_000 {
            let digits = 1 + (next() % 17) as usize;
            let body: String = (0..digits).map(|_| char::from(b'0' + (next() % 10) as u8)).collect();
            let point = (next() % (digits as u64 + 1)) as usize;
            let mut text = if point == 0 || point == digits {
                body.clone()
            } else {
                format!("{}.{}", &body[..point], &body[point..])
            };
            if next().is_multiple_of(2) {
                text.insert(0, '-');
            }
            let expected: f64 = text.parse().expect("a decimal");
            assert_eq!(number(text.as_bytes()).to_bits(), expected.to_bits(), "{text}");
        }
    }

    /// Full-precision decimals (16 to 19 digits, as pandas and R write doubles) read by the
    /// split quotient equal the standard library's correctly rounded value, bit for bit,
    /// including decimals placed on and next to the midpoints between two f64s (where the
    /// split quotient gives up and the standard library decides).
    #[test]
    fn long_decimals_parse_as_the_standard_library_does() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1du64);
        let mut fast = 0;
        let mut check = |text: String| {
            let expected: f64 = text.parse().expect("a decimal");
            let decimal = Decimal::of(text.as_bytes());
            if decimal.count <= 19 {
                fast += usize::from(long_decimal(decimal.mantissa, decimal.fraction).is_some());
            }
            assert_eq!(number(text.as_bytes()).to_bits(), expected.to_bits(), "{text}");
        };
        for _ in 0..300_000 {
            let digits = 16 + (next() % 4) as usize;
            let body: String = (0..digits).map(|_| char::from(b'0' + (next() % 10) as u8)).collect();
            let point = (next() % (digits as u64 + 1)) as usize;
            let mut text =
                if point == digits { body.clone() } else { format!("{}.{}", &body[..point], &body[point..]) };
            if next().is_multiple_of(2) {
                text.insert(0, '-');
            }
            check(text);
        }
        // the shortest round-trip text of random doubles (as pandas writes them)
        for _ in 0..100_000 {
            let x = f64::from_bits(0x3f00_0000_0000_0000 + next() % 0x0900_0000_0000_0000);
            check(format!("{x}"));
        }
        // exact midpoints between neighbouring doubles of 2^50 to 2^54 (16 to 19 digits: odd
        // integers, and x.5, x.25, x.125 above the integers), and their neighbours in the last
        // digit: the hardest cases for the rounding
        for _ in 0..50_000 {
            let shift = (next() % 4) as i32; // the spacing is 2^(shift - 2) ... 2
            let m = (1u64 << 52) | (next() & ((1u64 << 52) - 1));
            // the midpoint (2m + 1) * 2^(shift - 3), written exactly
            let numerator = 2 * u128::from(m) + 1;
            let text = match shift {
                3 => format!("{numerator}"),
                _ => {
                    let places = (3 - shift) as usize;
                    let denominator = 1u128 << places;
                    let whole = numerator / denominator;
                    let rest = (numerator % denominator) * 10u128.pow(places as u32) / denominator;
                    format!("{whole}.{rest:0places$}")
                }
            };
            for delta in [-1i128, 0, 1] {
                let digits: String = text.chars().filter(char::is_ascii_digit).collect();
                let value = digits.parse::<i128>().expect("digits") + delta;
                let point = text.find('.').map(|at| text.len() - at - 1);
                let body = value.to_string();
                check(match point {
                    Some(places) => format!("{}.{}", &body[..body.len() - places], &body[body.len() - places..]),
                    None => body,
                });
            }
        }
        assert!(fast > 250_000, "the split quotient decided only {fast} of the long decimals");
    }

    #[test]
    fn eight_bytes_at_a_time_agree_with_byte_by_byte() {
        // bytes next to the digits and the comma in value, and ones that differ only in the
        // high nibble or bit, where a word-wide test could go wrong
        let bytes = [b'0', b'5', b'9', b'/', b':', b'.', b',', b'-', 0x00, 0xff, 0xb5, 0xac, 0x8a, b'\n', b'a', b'"'];
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        for round in 0..200_000 {
            // mostly digits, so that all-digit words are common
            let pick =
                |r: u64| if !r.is_multiple_of(4) { b'0' + (r / 4 % 10) as u8 } else { bytes[(r / 4 % 16) as usize] };
            let len = (next() % 24) as usize;
            let line: Vec<u8> = (0..len).map(|_| pick(next())).collect();
            if len >= 8 {
                let word = eight(&line, 0);
                let naive =
                    line[..8].iter().try_fold(0u64, |v, &b| b.is_ascii_digit().then(|| v * 10 + u64::from(b - b'0')));
                assert_eq!(eight_digits(word), naive, "{line:?}");
            }
            let from = if len == 0 { 0 } else { round % len };
            let naive = line[from..].iter().position(|&b| b == b',' || b == b'\n').map_or(len, |i| from + i);
            assert_eq!(delimiter(&line, from), naive, "{line:?} from {from}");
        }
    }

    #[test]
    fn lines_split_as_read_equal_lines_split_one_by_one() {
        // quote-free chunks with empty fields, carriage returns, blank and ragged lines
        let bytes = [b'1', b'2', b'.', b'-', b'x', b'\r', b' '];
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let slots = [Some(0), None, Some(1)];
        let mut refused = 0;
        for _ in 0..100_000 {
            let mut chunk = Vec::new();
            let lines = 1 + next() % 4;
            for line in 0..lines {
                // mostly three fields; now and then two, four or a blank line
                let fields = match next() % 20 {
                    0 => 0,
                    1 => 2,
                    2 => 4,
                    _ => 3,
                };
                for f in 0..fields {
                    if f > 0 {
                        chunk.push(b',');
                    }
                    (0..next() % 12).for_each(|_| chunk.push(bytes[(next() % bytes.len() as u64) as usize]));
                }
                if next().is_multiple_of(4) {
                    chunk.push(b'\r');
                }
                // the chunk's last line may end without a newline
                if line + 1 < lines || !next().is_multiple_of(3) {
                    chunk.push(b'\n');
                }
            }
            let (mut a, mut b) = (Vec::new(), Vec::new());
            let fast = each_unquoted_field(&chunk, 3, &slots, |s, r, at, f| {
                a.push((s, r, at, f.to_vec()));
                Some(())
            });
            let slow = each_field_by_line(&chunk, 3, &slots, |s, r, at, f| {
                b.push((s, r, at, f.to_vec()));
                Some(())
            });
            assert_eq!(fast, slow, "{chunk:?}");
            if fast.is_some() {
                assert_eq!(a, b, "{chunk:?}");
            }
            refused += usize::from(fast.is_none());
        }
        // both outcomes were tried
        assert!((10_000..90_000).contains(&refused), "{refused}");
    }
}
