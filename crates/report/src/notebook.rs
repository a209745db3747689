//! `notebook.ipynb` (nbformat 4.5): the narrative, the tables, the figures as embedded outputs,
//! and code cells that load the Parquet outputs with polars (or pandas), so an analyst can go on
//! from where the report stops. Keys are written in sorted order and nothing depends on the
//! clock, so the bytes are the same on every run.

use crate::charts::Figure;
use crate::evaluation as tables;
use crate::html::{caveats, finding};
use crate::table::Format;
use serde_json::{json, Value};
use swp_evaluation::Published;

/// Base64 (RFC 4648, with padding).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Notebook source: a list of lines, each but the last ending in a newline.
fn lines(text: &str) -> Value {
    let parts: Vec<&str> = text.split_inclusive('\n').collect();
    json!(parts)
}

struct Cells {
    cells: Vec<Value>,
}

impl Cells {
    fn id(&self) -> String {
        format!("cell-{:03}", self.cells.len() + 1)
    }

    fn markdown(&mut self, text: &str) {
        let id = self.id();
        self.cells.push(json!({"cell_type": "markdown", "id": id, "metadata": {}, "source": lines(text)}));
    }

    fn code(&mut self, text: &str, outputs: Vec<Value>) {
        let id = self.id();
        self.cells.push(json!({
            "cell_type": "code", "id": id, "metadata": {}, "execution_count": null,
            "outputs": outputs, "source": lines(text)
        }));
    }
}

fn figure_output(f: &Figure) -> Value {
    json!({
        "output_type": "display_data",
        "metadata": {},
        "data": {"image/png": base64(&f.png), "text/plain": [format!("<{}: {}>", f.name, f.alt)]}
    })
}

fn table_output(html: String, text: String) -> Value {
    json!({"output_type": "display_data", "metadata": {}, "data": {"text/html": lines(&html), "text/plain": lines(&text)}})
}

const LOADER: &str = "# The tables of this report, loaded from its Parquet files (tables/ beside the notebook).
from pathlib import Path

HERE = Path('tables')
try:
    import polars as pl

    def load(name):
        return pl.read_parquet(HERE / f'{name}.parquet')
except ImportError:
    import pandas as pd

    def load(name):
        try:
            return pd.read_parquet(HERE / f'{name}.parquet')
        except ImportError:  # no Parquet engine: the CSV copies hold the same table
            return pd.read_csv(HERE / f'{name}.csv')

effects = load('effects')
balance = load('balance')
sample_flow = load('sample_flow')
site_did = load('site_did')
site_panel = load('site_panel')
by_model = load('by_model')
sensitivity = load('sensitivity')
missing_values = load('missing_values')
print({name: table.shape for name, table in [('effects', effects), ('balance', balance), ('sample_flow', sample_flow), ('site_did', site_did), ('site_panel', site_panel), ('by_model', by_model)]})
";

/// The notebook as JSON text.
pub fn notebook(results: &Published, figures: &[Figure]) -> String {
    let d = &results.design;
    let mut c = Cells { cells: Vec::new() };
    let mut intro = String::from("# Evaluation of the Social Work Practice pilots\n\n");
    intro += &format!(
        "{}: pilot sites {} against {} sites, {}.\n\n",
        d.dataset_name.as_deref().unwrap_or("dataset"),
        d.treated_sites.join(", "),
        d.controls,
        d.index_text()
    );
    if d.stacks.len() > 1 {
        intro += "A stacked design for staggered go-lives: each pilot is a stack of its own, indexed on its go-live, with the control sites' children eligible on the same day; matching runs within each stack and the effect models give every stack its own baseline, with standard errors clustered on site. Randomisation inference reassigns the pilot label and go-live dates among the sites.\n\n";
    }
    if d.synthetic {
        intro += "**Synthetic data**: generated with known effects, no real children.\n\n";
    }
    intro += "## Summary of findings\n\n";
    for r in results.effects.iter().filter(|r| r.primary) {
        intro += &format!("- {}\n", finding(r, results.design.multiplicity));
    }
    c.markdown(intro.trim_end());
    c.markdown("## Load the tables\n\nEvery table of the report is here as Parquet (and CSV). The cells below show the report's own figures; the code goes on from the tables.");
    c.code(LOADER.trim_end(), Vec::new());
    let fig = |name: &str| figures.iter().find(|f| f.name == name);
    let sections: [(&str, &str, Vec<&str>, Option<&str>); 7] = [
        ("## Sample flow", "sample_flow", vec!["sample_flow"], Some("sample_flow")),
        ("## Balance before and after matching", "balance", vec!["love_plot"], Some("balance")),
        ("## Missing values (each its own level, never guessed)", "missing_values", vec![], Some("missing_values")),
        ("## Effects", "effects", vec!["forest_plot"], Some("effects")),
        (
            "## Site-level results",
            "site_did",
            vec![
                "trends",
                "caseload_distribution",
                "placement_moves",
                "event_study_turnover_rate",
                "event_study_caseload_per_fte",
                "event_study_sickness_absence_rate",
                "event_study_agency_rate",
            ],
            Some("site_did"),
        ),
        ("## Results by SWP model", "by_model", vec![], Some("by_model")),
        ("## How robust is this? (E-values, Rosenbaum bounds)", "sensitivity", vec![], Some("sensitivity")),
    ];
    let all_tables = tables::all(results);
    for (title, variable, figure_names, table) in sections {
        c.markdown(title);
        for name in figure_names {
            if let Some(f) = fig(name) {
                c.code(
                    &format!(
                        "# {}\nfrom IPython.display import Image\nImage(filename='figures/{}.png')",
                        f.title, f.name
                    ),
                    vec![figure_output(f)],
                );
            }
        }
        if variable == "effects" {
            for s in &results.survival {
                if let Some(f) = fig(&format!("km_{}", s.outcome)) {
                    c.code(
                        &format!(
                            "# {}\nfrom IPython.display import Image\nImage(filename='figures/{}.png')",
                            f.title, f.name
                        ),
                        vec![figure_output(f)],
                    );
                }
            }
        }
        if let Some(t) = table.and_then(|name| all_tables.iter().find(|(n, _)| *n == name)) {
            c.code(variable, vec![table_output(t.1.render(Format::Html), t.1.render(Format::Md))]);
        }
    }
    let figure_cell = |c: &mut Cells, f: &Figure| {
        c.code(
            &format!("# {}\nfrom IPython.display import Image\nImage(filename='figures/{}.png')", f.title, f.name),
            vec![figure_output(f)],
        );
    };
    let table_cell = |c: &mut Cells, name: &str| {
        if let Some((_, t)) = all_tables.iter().find(|(n, _)| *n == name) {
            c.code(
                &format!("{name} = load('{name}')\n{name}"),
                vec![table_output(t.render(Format::Html), t.render(Format::Md))],
            );
        }
    };
    if let Some(curve) = &results.specification_curve {
        c.markdown("## Would other reasonable choices change the answer? (specification curve)\n\nThe primary estimates over every combination of the config's grid of choices; `specification_curve.json` has every specification.");
        table_cell(&mut c, "specification_summary");
        for s in &curve.summary {
            if let Some(f) = fig(&format!("specification_curve_{}", s.outcome)) {
                figure_cell(&mut c, f);
            }
        }
    }
    if let Some(power) = &results.power {
        c.markdown(&format!(
            "## With this few sites, what could the evaluation have detected? (power)\n\n{}.",
            power.method
        ));
        table_cell(&mut c, "power_summary");
        if let Some(f) = fig("power_curves") {
            figure_cell(&mut c, f);
        }
    }
    if let Some(v) = &results.value_for_money {
        let mut text = format!(
            "## Value for money\n\nEach matched child's care over the follow-up window costed bottom up (placements by group and provider, social-worker time, changes of social worker), prices of {}{}; the incremental cost per child-year against the events avoided, with a bootstrap over sites within arm (`value_for_money.json`).",
            v.unit_costs.price_year,
            if v.unit_costs.illustrative { ", partly illustrative" } else { "" }
        );
        for w in &v.warnings {
            text += &format!("\n\n**{w}**");
        }
        c.markdown(&text);
        table_cell(&mut c, "value_for_money");
        table_cell(&mut c, "cost_components");
        for name in ["ce_plane", "ceac"] {
            if let Some(f) = fig(name) {
                figure_cell(&mut c, f);
            }
        }
        table_cell(&mut c, "cost_by_model");
        if !v.spending.is_empty() {
            table_cell(&mut c, "site_spending");
            if let Some(f) = fig("cost_trends") {
                figure_cell(&mut c, f);
            }
        }
        if !v.payments.is_empty() {
            table_cell(&mut c, "outcome_payments");
        }
    }
    c.markdown("## Going further\n\nFor example, the primary estimates only:");
    c.code(
        "primary = effects.filter(effects['p_holm'].is_not_null()) if hasattr(effects, 'filter') and 'polars' in type(effects).__module__ else effects[effects['p_holm'].notna()]\nprimary",
        Vec::new(),
    );
    let mut notes = String::from("## Caveats\n\n");
    for cav in caveats(results) {
        notes += &format!("- {cav}\n");
    }
    c.markdown(notes.trim_end());
    let nb = json!({
        "cells": c.cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"}
        },
        "nbformat": 4,
        "nbformat_minor": 5
    });
    serde_json::to_string_pretty(&nb).expect("a notebook serialises") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_test_vectors() {
        // RFC 4648 section 10
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }
}
