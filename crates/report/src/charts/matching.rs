//! Figures of the matching: the love plot (balance before and after) and the sample flow.

use super::*;

struct LovePlot<'a> {
    balance: &'a Balance,
    source: &'a str,
}

impl Draw for LovePlot<'_> {
    fn size(&self) -> (u32, u32) {
        (900, 160 + 26 * self.balance.balance.len() as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let title = format!("Covariate balance before and after {}", comparison(self.balance));
        let area = frame(root, &title, self.source)?;
        let rows = &self.balance.balance;
        let n = rows.len();
        let max = rows
            .iter()
            .flat_map(|r| [r.smd_before.abs(), r.smd_after.abs()])
            .filter(|v| v.is_finite())
            .fold(0.15f64, f64::max)
            * 1.1;
        let names: Vec<String> = rows.iter().map(|r| crate::labels::covariate(&r.covariate)).collect();
        let mut chart = ChartBuilder::on(&area)
            .margin_right(20)
            .x_label_area_size(46)
            .y_label_area_size(330)
            .build_cartesian_2d(0f64..max, -0.5f64..(n as f64 - 0.5))
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("absolute standardised mean difference (|SMD|, treated SD)")
            .y_labels(n)
            .y_label_formatter(&|y| {
                let i = y.round();
                if (y - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
                    names[n - 1 - i as usize].clone()
                } else {
                    String::new()
                }
            })
            .label_style(text_style(14.0))
            .axis_desc_style(text_style(15.0))
            .light_line_style(WHITE)
            .draw()
            .map_err(e)?;
        for seg in dashes((0.1, -0.5), (0.1, n as f64 - 0.5), 40, |x, y| (x, y)) {
            chart.draw_series(std::iter::once(PathElement::new(seg, GREY.stroke_width(2)))).map_err(e)?;
        }
        let y = |i: usize| (n - 1 - i) as f64;
        chart
            .draw_series(
                rows.iter()
                    .enumerate()
                    .filter(|(_, r)| r.smd_before.is_finite())
                    .map(|(i, r)| Circle::new((r.smd_before.abs(), y(i)), 6, ORANGE.stroke_width(2))),
            )
            .map_err(e)?
            .label(format!("before {}", comparison(self.balance)))
            .legend(|(x, y)| Circle::new((x + 10, y), 6, ORANGE.stroke_width(2)));
        chart
            .draw_series(
                rows.iter()
                    .enumerate()
                    .filter(|(_, r)| r.smd_after.is_finite())
                    .map(|(i, r)| Circle::new((r.smd_after.abs(), y(i)), 6, CONTROL.filled())),
            )
            .map_err(e)?
            .label(format!("after {}", comparison(self.balance)))
            .legend(|(x, y)| Circle::new((x + 10, y), 6, CONTROL.filled()));
        legend(&mut chart, SeriesLabelPosition::LowerRight, 14.0)?;
        Ok(())
    }
}

/// How the comparison group was formed: "weighting" when the balance has effective sample
/// sizes (balancing weights in place of matching), else "matching".
pub fn comparison(balance: &Balance) -> &'static str {
    if balance.weighted() {
        "weighting"
    } else {
        "matching"
    }
}

/// Love plot: |SMD| of every covariate before and after matching (or weighting), with the 0.1
/// line.
pub fn love_plot(balance: &Balance, source: &str) -> Result<Figure, ChartError> {
    let worst =
        balance.balance.iter().filter(|r| r.covariate != "distance").map(|r| r.smd_after.abs()).fold(0.0f64, f64::max);
    let word = comparison(balance);
    let alt = format!(
        "Dot plot of the absolute standardised mean difference of {} covariates before (orange circles) and after (blue dots) {word}, with a dashed line at 0.1; after {word} the largest is {:.3}.",
        balance.balance.len(),
        worst
    );
    let title = format!("Covariate balance before and after {word}");
    render("love_plot", &title, alt, &LovePlot { balance, source })
}

// ---------------------------------------------------------------------------------------
// Forest plot

struct Flow<'a> {
    /// The pooled rows (with one index date, the only rows).
    rows: Vec<&'a swp_evaluation::results::FlowRow>,
    /// Stacks pooled (1 with one index date).
    stacks: usize,
    matched: (Option<u64>, Option<u64>),
    source: &'a str,
}

fn count_text(x: Option<u64>) -> String {
    x.map_or("c".to_string(), |v| v.to_string())
}

impl Draw for Flow<'_> {
    fn size(&self) -> (u32, u32) {
        let steps = self.rows.iter().filter(|r| r.arm == "treated").count() as u32;
        (1200, 110 + 80 * (steps + 1))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let title = if self.stacks > 1 {
            format!(
                "Sample flow, summed over the {} stacks (a control child counts once per stack it is in)",
                self.stacks
            )
        } else {
            "Sample flow: from every child at the sites to the matched cohort".to_string()
        };
        let area = frame(root, &title, self.source)?;
        let (w, _) = area.dim_in_pixel();
        let col_w = (w as i32 - 40) / 2;
        for (k, (arm, colour, head)) in
            [("treated", PILOT, "Pilot sites"), ("control", CONTROL, "Control sites")].iter().enumerate()
        {
            let x0 = 10 + k as i32 * (col_w + 20);
            let rows: Vec<_> = self.rows.iter().filter(|r| r.arm == *arm).collect();
            let head = if self.stacks > 1 && k == 0 { "Pilot sites (each in its own stack)" } else { head };
            let box_h = 58;
            let mut y = 10;
            for (i, r) in rows.iter().enumerate() {
                let text = if r.step == 0 {
                    format!("{head}: {} children", count_text(r.remaining))
                } else {
                    format!("{}: {} remain", r.rule, count_text(r.remaining))
                };
                area.draw(&Rectangle::new([(x0, y), (x0 + col_w, y + box_h)], colour.mix(0.10).filled())).map_err(e)?;
                area.draw(&Rectangle::new([(x0, y), (x0 + col_w, y + box_h)], colour.stroke_width(2))).map_err(e)?;
                area.draw(&Text::new(text, (x0 + 10, y + 12), text_style(14.0))).map_err(e)?;
                if r.step > 0 {
                    let removed = format!("removed {}", r.removed.map_or("c".to_string(), |v| v.to_string()));
                    area.draw(&Text::new(removed, (x0 + 10, y + 34), text_style(13.0).color(&GREY))).map_err(e)?;
                }
                if i + 1 < rows.len() {
                    let mid = x0 + col_w / 2;
                    area.draw(&PathElement::new(vec![(mid, y + box_h), (mid, y + box_h + 22)], DARK.stroke_width(2)))
                        .map_err(e)?;
                }
                y += box_h + 22;
            }
            let matched = if k == 0 { self.matched.0 } else { self.matched.1 };
            area.draw(&Rectangle::new([(x0, y), (x0 + col_w, y + box_h)], colour.filled())).map_err(e)?;
            area.draw(&Text::new(
                format!("matched: {} children", count_text(matched)),
                (x0 + 10, y + 20),
                text_style(16.0).color(&WHITE),
            ))
            .map_err(e)?;
        }
        Ok(())
    }
}

/// The sample flow as a diagram (suppressed counts shown as `c`).
pub fn sample_flow(results: &Published, source: &str) -> Result<Figure, ChartError> {
    let n = &results.balance.n;
    let rows: Vec<_> = results.sample_flow.iter().filter(|r| r.stack.is_none()).collect();
    let stacks = results.design.stacks.len().max(1);
    let arm = |a: &str| rows.iter().rfind(|r| r.arm == a).map_or("c".to_string(), |r| count_text(r.remaining));
    let alt = format!(
        "Flow diagram of the eligibility rules for pilot and control children: {} pilot and {} control children eligible; {} and {} matched.",
        arm("treated"),
        arm("control"),
        count_text(n.matched_treated),
        count_text(n.matched_control)
    );
    render(
        "sample_flow",
        "Sample flow",
        alt,
        &Flow { rows, stacks, matched: (n.matched_treated, n.matched_control), source },
    )
}
