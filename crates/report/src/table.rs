//! One table rendered as CSV, JSON (an array of row objects), Markdown, LaTeX or HTML.
//!
//! Numbers are written in full (shortest round-trip form) in CSV and JSON, and to four decimals
//! in the formats people read. A suppressed cell prints `c` (JSON: null, with
//! `"suppressed": true` on its row).
//!
//! ```
//! use swp_report::table::{Cell, Format, Table};
//! let t = Table::new(vec!["group", "value"]).row(vec![Cell::text("pilot"), Cell::number(0.25)]);
//! assert_eq!(t.render(Format::Csv), "group,value\npilot,0.25\n");
//! ```

use rayon::prelude::*;

/// A cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text.
    Text(String),
    /// A number; None prints empty (JSON null).
    Number(Option<f64>),
    /// Suppressed small number.
    Suppressed,
}

impl Cell {
    /// A text cell (of anything displayed as text: a string, or a vocabulary's name).
    pub fn text(s: impl std::fmt::Display) -> Self {
        Cell::Text(s.to_string())
    }

    /// A number cell.
    pub fn number(x: f64) -> Self {
        Cell::Number(Some(x))
    }
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values (RFC 4180 quoting).
    Csv,
    /// An array of row objects.
    Json,
    /// A Markdown pipe table.
    Md,
    /// A LaTeX tabular.
    Tex,
    /// An HTML table.
    Html,
}

/// A table: column names and rows of cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows (each as long as `columns`).
    pub rows: Vec<Vec<Cell>>,
}

fn full(x: f64) -> String {
    let x = x + 0.0; // -0 (an empty f64 sum) prints as 0
    if x.is_finite() {
        format!("{x}")
    } else {
        String::new()
    }
}

fn readable(x: f64) -> String {
    let x = x + 0.0; // -0 (an empty f64 sum) prints as 0
    if x.fract() == 0.0 && x.abs() < 1e15 {
        return format!("{x:.0}");
    }
    let s = format!("{x:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Appends a cell as [`csv_field`] of its full text would (numbers, whose text has no comma,
/// quote or line break, need no quoting).
fn push_csv_cell(out: &mut String, cell: &Cell) {
    use std::fmt::Write;
    match cell {
        Cell::Text(s) if s.contains([',', '"', '\n', '\r']) => out.push_str(&csv_field(s)),
        Cell::Text(s) => out.push_str(s),
        Cell::Number(Some(x)) => {
            let x = x + 0.0; // as in `full`
            if x.is_finite() {
                write!(out, "{x}").expect("writing to a String cannot fail");
            }
        }
        Cell::Number(None) => {}
        Cell::Suppressed => out.push('c'),
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn tex_escape(s: &str) -> String {
    let mut out = String::new();
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(ch);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            _ => out.push(ch),
        }
    }
    out
}

/// A markdown table cell: `|` escaped, line breaks as spaces.
fn md_escape(s: &str) -> String {
    s.replace('|', "\\|").replace(['\r', '\n'], " ")
}

impl Table {
    /// A table with these columns and no rows.
    pub fn new(columns: Vec<&str>) -> Self {
        Table { columns: columns.into_iter().map(str::to_string).collect(), rows: Vec::new() }
    }

    /// Adds a row.
    pub fn row(mut self, cells: Vec<Cell>) -> Self {
        self.rows.push(cells);
        self
    }

    fn cell_text(cell: &Cell, readable_numbers: bool) -> String {
        match cell {
            Cell::Text(s) => s.clone(),
            Cell::Number(Some(x)) => {
                if readable_numbers {
                    readable(*x)
                } else {
                    full(*x)
                }
            }
            Cell::Number(None) => String::new(),
            Cell::Suppressed => "c".to_string(),
        }
    }

    /// The JSON key that flags a row with a suppressed cell: `suppressed`, unless a column
    /// already has that name (then `row_suppressed`, and so on), so no column is overwritten.
    fn suppressed_key(&self) -> String {
        let mut key = "suppressed".to_string();
        while self.columns.contains(&key) {
            key.insert_str(0, "row_");
        }
        key
    }

    /// The table in `format`.
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Csv => {
                let mut out = self.columns.iter().map(|c| csv_field(c)).collect::<Vec<_>>().join(",") + "\n";
                // blocks of rows written in place side by side, joined in order: a national
                // metrics table has hundreds of thousands of cells
                let blocks: Vec<String> = self
                    .rows
                    .par_chunks(4096)
                    .map(|rows| {
                        let mut block = String::new();
                        for row in rows {
                            for (k, cell) in row.iter().enumerate() {
                                if k > 0 {
                                    block.push(',');
                                }
                                push_csv_cell(&mut block, cell);
                            }
                            block.push('\n');
                        }
                        block
                    })
                    .collect();
                out.reserve(blocks.iter().map(String::len).sum());
                for block in blocks {
                    out.push_str(&block);
                }
                out
            }
            Format::Json => {
                let rows: Vec<serde_json::Value> = self
                    .rows
                    .iter()
                    .map(|row| {
                        let mut object = serde_json::Map::new();
                        for (name, cell) in self.columns.iter().zip(row) {
                            let value = match cell {
                                Cell::Text(s) => serde_json::Value::String(s.clone()),
                                Cell::Number(Some(x)) => serde_json::Number::from_f64(*x + 0.0)
                                    .map_or(serde_json::Value::Null, serde_json::Value::Number),
                                Cell::Number(None) | Cell::Suppressed => serde_json::Value::Null,
                            };
                            object.insert(name.clone(), value);
                        }
                        if row.contains(&Cell::Suppressed) {
                            object.insert(self.suppressed_key(), serde_json::Value::Bool(true));
                        }
                        serde_json::Value::Object(object)
                    })
                    .collect();
                serde_json::to_string_pretty(&rows).expect("serialisable") + "\n"
            }
            Format::Md => {
                let header: Vec<String> = self.columns.iter().map(|c| md_escape(c)).collect();
                let mut out = format!("| {} |\n", header.join(" | "));
                out += &format!("|{}\n", self.columns.iter().map(|_| "---|").collect::<String>());
                for row in &self.rows {
                    let cells: Vec<String> = row.iter().map(|c| md_escape(&Self::cell_text(c, true))).collect();
                    out += &format!("| {} |\n", cells.join(" | "));
                }
                out
            }
            Format::Tex => {
                // booktabs rules (\usepackage{booktabs})
                let mut out = format!("\\begin{{tabular}}{{{}}}\n\\toprule\n", "l".repeat(self.columns.len()));
                out += &format!(
                    "{} \\\\\n\\midrule\n",
                    self.columns.iter().map(|c| tex_escape(c)).collect::<Vec<_>>().join(" & ")
                );
                for row in &self.rows {
                    let cells: Vec<String> = row.iter().map(|c| tex_escape(&Self::cell_text(c, true))).collect();
                    out += &format!("{} \\\\\n", cells.join(" & "));
                }
                out + "\\bottomrule\n\\end{tabular}\n"
            }
            Format::Html => {
                let mut out = String::from("<table>\n<thead><tr>");
                for c in &self.columns {
                    out += &format!("<th>{}</th>", html_escape(c));
                }
                out += "</tr></thead>\n<tbody>\n";
                for row in &self.rows {
                    out += "<tr>";
                    for c in row {
                        out += &format!("<td>{}</td>", html_escape(&Self::cell_text(c, true)));
                    }
                    out += "</tr>\n";
                }
                out + "</tbody>\n</table>\n"
            }
        }
    }
}

/// One column of a table of `R` rows: its header and the cell a row gives it.
pub struct Column<R: ?Sized> {
    /// Header.
    pub name: &'static str,
    /// The row's cell.
    pub cell: fn(&R) -> Cell,
}

impl<R: ?Sized> Clone for Column<R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R: ?Sized> Copy for Column<R> {}

/// A row type described as table columns, once, beside its cells.
pub trait Tabular: Sized + 'static {
    /// The columns in order.
    const COLUMNS: &'static [Column<Self>];
}

/// The table of `rows` under their type's columns.
pub fn table_of<R: Tabular>(rows: &[R]) -> Table {
    Table::of(R::COLUMNS, rows)
}

impl Table {
    /// The table of `rows` under `columns`.
    pub fn of<R, B: std::borrow::Borrow<R>>(columns: &[Column<R>], rows: impl IntoIterator<Item = B>) -> Table {
        let mut t = Table::new(columns.iter().map(|c| c.name).collect());
        for row in rows {
            let row = row.borrow();
            t = t.row(columns.iter().map(|c| (c.cell)(row)).collect());
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table of many blocks of rows renders as its rows one after another, in order.
    #[test]
    fn csv_of_many_rows_keeps_their_order() {
        let mut table = Table::new(vec!["k", "x"]);
        let mut want = String::from("k,x\n");
        for k in 0..10_000 {
            table = table.row(vec![Cell::text(format!("r{k}")), Cell::number(k as f64 / 8.0)]);
            want.push_str(&format!("r{k},{}\n", k as f64 / 8.0));
        }
        assert_eq!(table.render(Format::Csv), want);
    }

    fn sample() -> Table {
        Table::new(vec!["group", "value", "note"])
            .row(vec![Cell::text("a,b"), Cell::number(1.0 / 3.0), Cell::text("x_y & z")])
            .row(vec![Cell::text("c"), Cell::Suppressed, Cell::Number(None)])
    }

    #[test]
    fn negative_zero_prints_as_zero() {
        let t = Table::new(vec!["x"]).row(vec![Cell::number(-0.0)]);
        assert_eq!(t.render(Format::Csv), "x\n0\n");
        assert_eq!(t.render(Format::Md), "| x |\n|---|\n| 0 |\n");
        let json: serde_json::Value = serde_json::from_str(&t.render(Format::Json)).unwrap();
        assert!(json[0]["x"].as_f64().unwrap().is_sign_positive());
    }

    /// CSV cells are quoted only when their text needs it (RFC 4180: comma, quote, line break;
    /// quotes doubled); a number that is not finite is an empty cell.
    #[test]
    fn csv_quotes_only_the_text_that_needs_it() {
        let t = Table::new(vec!["a", "b", "c", "d"]).row(vec![
            Cell::text("say \"hi\""),
            Cell::text("two\nlines"),
            Cell::number(f64::INFINITY),
            Cell::number(-1.5e-7),
        ]);
        assert_eq!(t.render(Format::Csv), "a,b,c,d\n\"say \"\"hi\"\"\",\"two\nlines\",,-0.00000015\n");
    }

    #[test]
    fn every_format_renders_the_same_cells() {
        let t = sample();
        assert_eq!(t.render(Format::Csv), "group,value,note\n\"a,b\",0.3333333333333333,x_y & z\nc,c,\n");
        assert_eq!(
            t.render(Format::Md),
            "| group | value | note |\n|---|---|---|\n| a,b | 0.3333 | x_y & z |\n| c | c |  |\n"
        );
        assert!(t.render(Format::Tex).contains("a,b & 0.3333 & x\\_y \\& z \\\\"));
        assert!(t.render(Format::Html).contains("<td>x_y &amp; z</td>"));
        let json: serde_json::Value = serde_json::from_str(&t.render(Format::Json)).unwrap();
        assert_eq!(json[0]["value"], 1.0 / 3.0);
        assert_eq!(json[1]["value"], serde_json::Value::Null);
        assert_eq!(json[1]["suppressed"], true);
        assert!(json[0].get("suppressed").is_none());
    }

    /// Regressions: a `|` in a column name would split the markdown header; a user column
    /// named `suppressed` was overwritten by the JSON row flag.
    #[test]
    fn markdown_headers_are_escaped_and_a_suppressed_column_is_kept() {
        let t = Table::new(vec!["a|b", "suppressed"]).row(vec![Cell::Suppressed, Cell::text("yes\nno")]);
        let md = t.render(Format::Md);
        assert_eq!(md, "| a\\|b | suppressed |\n|---|---|\n| c | yes no |\n");
        let json: serde_json::Value = serde_json::from_str(&t.render(Format::Json)).unwrap();
        assert_eq!(json[0]["suppressed"], "yes\nno");
        assert_eq!(json[0]["row_suppressed"], true);
    }
}
