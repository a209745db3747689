//! Writing outputs: atomically (temp file in the same directory, then rename), so a failed
//! run never leaves a half-written file.

use anyhow::Context;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use swp_eval::report::table::Format;

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("could not create {}", dir.display()))?;
    let mut tmp =
        tempfile::NamedTempFile::new_in(dir).with_context(|| format!("could not write in {}", dir.display()))?;
    tmp.write_all(bytes).with_context(|| format!("could not write {}", path.display()))?;
    tmp.persist(path).map_err(|e| e.error).with_context(|| format!("could not write {}", path.display()))?;
    Ok(())
}

/// Prints `text` on stdout. A closed pipe (`swp-eval ... | head`) ends the output quietly
/// instead of failing.
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("could not write to stdout"),
    }
}

/// Table format flag, shared by every command that prints a table.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum TableFormat {
    /// Comma-separated values.
    Csv,
    /// An array of row objects.
    Json,
    /// Markdown.
    Md,
    /// LaTeX.
    Tex,
    /// HTML.
    Html,
}

/// The format to print: the flag's, else md on a terminal and csv otherwise (docs/cli.md).
pub fn resolve_format(flag: Option<TableFormat>, out: Option<&PathBuf>) -> Format {
    match flag {
        Some(TableFormat::Csv) => Format::Csv,
        Some(TableFormat::Json) => Format::Json,
        Some(TableFormat::Md) => Format::Md,
        Some(TableFormat::Tex) => Format::Tex,
        Some(TableFormat::Html) => Format::Html,
        None if out.is_none() && std::io::stdout().is_terminal() => Format::Md,
        None => Format::Csv,
    }
}

/// Writes `text` to `out` atomically, or prints it.
pub fn emit(text: &str, out: Option<&PathBuf>) -> anyhow::Result<()> {
    match out {
        Some(path) => write_atomic(path, text.as_bytes()),
        None => print_stdout(text),
    }
}

/// Writes the evaluation's child-level cohort table (child ids inside) to `path`, as Parquet
/// when it ends in `.parquet`, else CSV, atomically. Only on an explicit request
/// (`report --cohort-out`, `match DIR --matched-out`).
pub fn write_cohort(table: &swp_eval::evaluation::results::CohortTable, path: &Path) -> anyhow::Result<()> {
    use polars::prelude::{Column, DataFrame, PlSmallStr};
    let n_text = table.text.len();
    let columns: Vec<Column> = table
        .columns
        .iter()
        .enumerate()
        .map(|(j, name)| {
            if j < n_text {
                Column::new(PlSmallStr::from(name.as_str()), table.text[j].clone())
            } else {
                Column::new(PlSmallStr::from(name.as_str()), table.numbers[j - n_text].clone())
            }
        })
        .collect();
    let mut frame = DataFrame::new(table.text.first().map_or(0, Vec::len), columns).context("cohort table")?;
    write_frame(&mut frame, path)
}

/// Writes `frame` to `path` atomically: Parquet when the name ends in .parquet, else CSV.
pub fn write_frame(frame: &mut polars::prelude::DataFrame, path: &Path) -> anyhow::Result<()> {
    use polars::prelude::{CsvWriter, ParquetWriter, SerWriter};
    let mut bytes = Vec::new();
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("parquet")) {
        ParquetWriter::new(&mut bytes).finish(frame).map(|_| ())
    } else {
        CsvWriter::new(&mut bytes).finish(frame)
    }
    .with_context(|| format!("cannot write {}", path.display()))?;
    write_atomic(path, &bytes)
}
