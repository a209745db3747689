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

use polars::prelude::*;
use rayon::prelude::*;

/// What one field can be.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    Empty,
    Int,
    Float,
    Text,
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
    let mut start = from;
    while start < to {
        let end = memchr::memchr(b'\n', &bytes[start..to]).map_or(to, |i| start + i);
        let line = &bytes[start..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return None; // a blank line: polars decides what it is
        }
        let mut column = 0;
        let mut field_start = start;
        let line_end = start + line.len();
        for position in memchr::memchr_iter(b',', line).map(|i| start + i).chain(std::iter::once(line_end)) {
            if column == n {
                return None;
            }
            let field = &bytes[field_start..position];
            let kind = classify(field)?;
            chunk.kinds[column] = chunk.kinds[column].max(kind);
            chunk.empty[column] |= kind == Kind::Empty;
            chunk.fields[column].push((field_start as u32, field.len() as u32));
            column += 1;
            field_start = position + 1;
        }
        if column != n {
            return None;
        }
        start = end + 1;
    }
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

/// The frame of a plain CSV, or None when polars should read it (see the module's docs).
pub(crate) fn read(bytes: &[u8]) -> Option<DataFrame> {
    if bytes.len() >= u32::MAX as usize
        || bytes.starts_with(&[0xEF, 0xBB, 0xBF])
        || memchr::memchr(b'"', bytes).is_some()
    {
        return None;
    }
    let text = std::str::from_utf8(bytes).ok()?;
    let header_end = memchr::memchr(b'\n', bytes)?;
    let header = text[..header_end].strip_suffix('\r').unwrap_or(&text[..header_end]);
    let names: Vec<&str> = header.split(',').collect();
    let mut distinct = names.clone();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() != names.len() || names.iter().any(|n| n.is_empty() || n.contains('\r')) {
        return None;
    }
    let n = names.len();
    // chunks of whole lines, several per thread
    let body = header_end + 1;
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
                // a column with no values: polars' own reading decides its type
                Kind::Empty => None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

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
        let taken = [
            "a,b,c\n1,2.5,x\n-3,4,y\n",
            "a,b,c\r\n1,2.5,x\r\n,,\r\n7,0.125,z",
            "id,site,w\n10,s0,1\n11,s1,0\n12,s0,\n",
            "y,g\n0.1,1\n-0.000001,0\n123456789012345678,1\n",
            "t,x\nabc,1\n5,2\n",
            "t\n s\n x \n",
        ];
        for text in taken {
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
}
