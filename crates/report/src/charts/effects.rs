//! Figures of the effects: the forest plot and the Kaplan-Meier curves.

use super::*;
use plotters::coord::combinators::BindKeyPoints;
use swp_evaluation::vocab::Kind;

/// One panel of the forest plot: rows that share a scale.
struct Panel<'a> {
    rows: Vec<&'a EffectRow>,
    /// Ratios on a log axis (else differences on a linear one).
    log: bool,
    /// The axis' description.
    desc: String,
}

struct Forest<'a> {
    panels: Vec<Panel<'a>>,
    source: &'a str,
}

fn label(r: &EffectRow) -> String {
    format!("{} — {}", r.outcome.label(), r.estimate_type.label())
}

/// The estimate, its interval and its p-value: on a primary row with randomisation inference
/// the randomisation p (the test whose size is controlled with few sites, which the report's
/// words follow) and Holm's, else the CR2 (Cox: robust) p.
fn right_text(r: &EffectRow) -> String {
    match (r.estimate, r.ci_low, r.ci_high) {
        (Some(est), Some(lo), Some(hi)) => {
            let holm = r.p_holm.map_or(String::new(), |p| format!("  Holm p {}", fmt_p(Some(p))));
            let p = match r.ri_p_value {
                Some(ri) => format!("RI p {}", fmt_p(Some(ri))),
                None => format!("p {}", fmt_p(r.p_value)),
            };
            format!("{} [{}, {}]  {p}{holm}", fmt(est), fmt(lo), fmt(hi))
        }
        _ => "suppressed or not estimable".into(),
    }
}

impl Forest<'_> {
    fn panel<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, panel: &Panel<'_>) -> DrawResult {
        let (rows, log) = (&panel.rows, panel.log);
        if rows.is_empty() {
            return Ok(());
        }
        let n = rows.len();
        let (lo, hi) = rows
            .iter()
            .filter_map(|r| r.ci_low.zip(r.ci_high))
            .fold(if log { (0.8f64, 1.25f64) } else { (-0.05f64, 0.05f64) }, |(a, b), (l, h)| (a.min(l), b.max(h)));
        let (left, rest) = area.split_horizontally(330);
        let (plot, right) = rest.split_horizontally(rest.dim_in_pixel().0.saturating_sub(330));
        let row_px = |i: usize| {
            let h = plot.dim_in_pixel().1 as f64 - 46.0;
            (h * (i as f64 + 0.5) / n as f64) as i32
        };
        for (i, r) in rows.iter().enumerate() {
            left.draw(&Text::new(label(r), (4, row_px(i)), text_style(14.0).pos(Pos::new(HPos::Left, VPos::Center))))
                .map_err(e)?;
            right
                .draw(&Text::new(
                    right_text(r),
                    (8, row_px(i)),
                    text_style(13.0).pos(Pos::new(HPos::Left, VPos::Center)),
                ))
                .map_err(e)?;
        }
        let desc = panel.desc.as_str();
        let null = if log { 1.0 } else { 0.0 };
        let y = -0.5f64..(n as f64 - 0.5);
        if log {
            // ticks where people read ratios, within the axis
            let (from, to) = (lo * 0.9, hi * 1.1);
            let ticks: Vec<f64> =
                [0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 5.0].into_iter().filter(|t| (from..=to).contains(t)).collect();
            let mut chart = ChartBuilder::on(&plot)
                .x_label_area_size(46)
                .build_cartesian_2d((from..to).log_scale().with_key_points(ticks), y)
                .map_err(e)?;
            forest_rows(&mut chart, rows, desc, null, |est| (est / 1.02, est * 1.02))?;
        } else {
            let pad = (hi - lo) * 0.08;
            let half = (hi - lo + 2.0 * pad) * 0.006;
            let mut chart = ChartBuilder::on(&plot)
                .x_label_area_size(46)
                .build_cartesian_2d((lo - pad)..(hi + pad), y)
                .map_err(e)?;
            forest_rows(&mut chart, rows, desc, null, |est| (est - half, est + half))?;
        }
        Ok(())
    }
}

/// The axis, the line of no effect and each row's interval and box (`box_of(estimate)` gives
/// the box's left and right edges), on a linear or a log axis.
fn forest_rows<'a, DB: DrawingBackend + 'a, X>(
    chart: &mut ChartContext<
        'a,
        DB,
        plotters::coord::cartesian::Cartesian2d<X, plotters::coord::types::RangedCoordf64>,
    >,
    rows: &[&EffectRow],
    desc: &str,
    null: f64,
    box_of: impl Fn(f64) -> (f64, f64),
) -> DrawResult
where
    X: plotters::coord::ranged1d::Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    let n = rows.len();
    let y_of = |i: usize| (n - 1 - i) as f64;
    chart
        .configure_mesh()
        .x_desc(desc)
        .disable_y_axis()
        .disable_y_mesh()
        .x_labels(6)
        .x_label_formatter(&|x| fmt(*x))
        .label_style(text_style(13.0))
        .axis_desc_style(text_style(14.0))
        .draw()
        .map_err(e)?;
    for seg in dashes((null, -0.5), (null, n as f64 - 0.5), 30, |x, y| (x, y)) {
        chart.draw_series(std::iter::once(PathElement::new(seg, GREY.stroke_width(2)))).map_err(e)?;
    }
    for (i, r) in rows.iter().enumerate() {
        if let (Some(est), Some(l), Some(h)) = (r.estimate, r.ci_low, r.ci_high) {
            let colour = if r.primary { PILOT } else { CONTROL };
            let (left, right) = box_of(est);
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(l, y_of(i)), (h, y_of(i))],
                    colour.stroke_width(3),
                )))
                .map_err(e)?;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(left, y_of(i) - 0.18), (right, y_of(i) + 0.18)],
                    colour.filled(),
                )))
                .map_err(e)?;
        }
    }
    Ok(())
}

impl Draw for Forest<'_> {
    fn size(&self) -> (u32, u32) {
        let rows: usize = self.panels.iter().map(|p| p.rows.len()).sum();
        (1200, 100 + 34 * rows as u32 + PANEL_EXTRA * self.panels.len() as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let mut area = frame(
            root,
            "Effects of the pilots (matched children, 95% CIs, CR2 on site; RI p: randomisation inference)",
            self.source,
        )?;
        // each panel as tall as its rows plus its axis, the space shared in that proportion
        let weight = |p: &Panel<'_>| 34.0 * p.rows.len() as f64 + f64::from(PANEL_EXTRA);
        let mut left: f64 = self.panels.iter().map(weight).sum();
        for (k, panel) in self.panels.iter().enumerate() {
            if k + 1 == self.panels.len() {
                self.panel(&area, panel)?;
                break;
            }
            let h = f64::from(area.dim_in_pixel().1);
            let (this, rest) = area.split_vertically(((h * weight(panel) / left.max(1.0)) as u32).max(60));
            self.panel(&this, panel)?;
            left -= weight(panel);
            area = rest;
        }
        Ok(())
    }
}

/// Pixels of a panel besides its rows (its axis and a margin).
const PANEL_EXTRA: u32 = 80;

/// Forest plot: every estimate with its 95% interval, one panel per scale (ratios on a log
/// scale; rate and risk differences; each outcome measure in its own units; costs in pounds),
/// primary rows in vermillion, p and Holm-adjusted p beside each.
pub fn forest_plot(effects: &[EffectRow], source: &str) -> Result<Figure, ChartError> {
    let is_ratio = |r: &&EffectRow| r.estimate_type.is_ratio();
    let ratios: Vec<&EffectRow> = effects.iter().filter(is_ratio).collect();
    let differences: Vec<&EffectRow> =
        effects.iter().filter(|r| !is_ratio(r) && r.estimate_type != EstimateType::HedgesG).collect();
    let n_estimates = ratios.len() + differences.len();
    let mut panels = vec![Panel { rows: ratios, log: true, desc: "ratio (log scale); 1 = no difference".into() }];
    let of_kind = |k: Kind| differences.iter().copied().filter(|r| r.kind == k).collect::<Vec<_>>();
    let mut rates = of_kind(Kind::Count);
    rates.extend(of_kind(Kind::Binary));
    panels.push(Panel {
        rows: rates,
        log: false,
        desc: "difference (pilot - control): events per child-year, or a risk; 0 = none".into(),
    });
    let mut measures: Vec<&str> = Vec::new();
    for r in differences.iter().filter(|r| r.kind == Kind::Measure) {
        if !measures.contains(&r.outcome.as_str()) {
            measures.push(r.outcome.as_str());
        }
    }
    for m in measures {
        panels.push(Panel {
            rows: differences.iter().copied().filter(|r| r.outcome.as_str() == m).collect(),
            log: false,
            desc: format!("difference in {} (its own units); 0 = none", m.replace('_', " ")),
        });
    }
    panels.push(Panel {
        rows: of_kind(Kind::Cost),
        log: false,
        desc: "difference in cost per child-year (GBP); 0 = none".into(),
    });
    panels.retain(|p| !p.rows.is_empty());
    let primary: Vec<String> = effects
        .iter()
        .filter(|r| r.primary)
        .map(|r| {
            format!("{} {} {}", r.outcome.label(), r.estimate_type.label(), r.estimate.map_or("suppressed".into(), fmt))
        })
        .collect();
    let alt = format!(
        "Forest plot of {} estimates with 95% confidence intervals, one panel per scale: ratios on a log scale, then differences (rates and risks, each outcome measure, costs). Primary: {}.",
        n_estimates,
        primary.join("; ")
    );
    render("forest_plot", "Effects of the pilots", alt, &Forest { panels, source })
}

// ---------------------------------------------------------------------------------------
// Kaplan-Meier

struct KmPlot<'a> {
    result: &'a SurvivalResult,
    source: &'a str,
    window_days: f64,
    few_sites: bool,
}

fn steps(c: &Curve, end: f64, pick: impl Fn(usize) -> Option<f64>, start: f64) -> Vec<(f64, f64)> {
    let mut points = vec![(0.0, start)];
    let mut last = start;
    for (i, &t) in c.time.iter().enumerate() {
        if let Some(v) = pick(i) {
            points.push((t, last));
            points.push((t, v));
            last = v;
        }
    }
    points.push((end, last));
    points
}

impl Draw for KmPlot<'_> {
    fn size(&self) -> (u32, u32) {
        (1000, 680)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let title = format!("Kaplan-Meier: {}", self.result.outcome.label());
        let area = frame(root, &title, self.source)?;
        let (plot, table) = area.split_vertically(area.dim_in_pixel().1.saturating_sub(90));
        let mut chart = ChartBuilder::on(&plot)
            .x_label_area_size(46)
            .y_label_area_size(70)
            .margin_left(40)
            .margin_right(30)
            .build_cartesian_2d(0f64..self.window_days, 0f64..1.02f64)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("days since the index date")
            .y_desc("share without the event")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .label_style(text_style(14.0))
            .axis_desc_style(text_style(15.0))
            .light_line_style(WHITE)
            .draw()
            .map_err(e)?;
        for (curve, colour, name) in
            [(&self.result.treated, PILOT, "pilot"), (&self.result.control, CONTROL, "control")]
        {
            let upper = steps(curve, self.window_days, |i| curve.upper[i], 1.0);
            let lower = steps(curve, self.window_days, |i| curve.lower[i], 1.0);
            let mut band: Vec<(f64, f64)> = upper.clone();
            band.extend(lower.iter().rev().copied());
            chart.draw_series(std::iter::once(Polygon::new(band, colour.mix(0.15)))).map_err(e)?;
            let line = steps(curve, self.window_days, |i| Some(curve.survival[i]), 1.0);
            chart
                .draw_series(std::iter::once(PathElement::new(line, colour.stroke_width(3))))
                .map_err(e)?
                .label(format!(
                    "{name} (median {})",
                    curve.median.map_or("not reached".into(), |m| format!("{m:.0} days"))
                ))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3)));
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight, 14.0)?;
        // the number-at-risk table, aligned with the x axis
        // neither test's size is controlled with few sites (the log-rank test ignores the
        // clustering, the site-clustered score test rejects too often): said beside it
        let caveat = if self.few_sites {
            " (with few sites this test rejects too often; the report reads the hazard ratio's randomisation p)"
        } else {
            ""
        };
        let test = format!(
            "{}: chi-square {} (1 df), p {}{caveat}",
            if self.result.test == "log_rank" { "log-rank test" } else { "robust score test, clustered on site" },
            self.result.chi_square.map_or("-".into(), |c| format!("{c:.2}")),
            fmt_p(self.result.p_value)
        );
        table.draw(&Text::new("number at risk", (4, 8), text_style(13.0))).map_err(e)?;
        table.draw(&Text::new(test, (4, 70), text_style(13.0))).map_err(e)?;
        let x_px = |t: f64| chart.backend_coord(&(t, 0.0)).0 - plot.get_base_pixel().0;
        for (row, (curve, colour, name)) in
            [(&self.result.treated, PILOT, "pilot"), (&self.result.control, CONTROL, "control")].iter().enumerate()
        {
            let y = 28 + 20 * row as i32;
            table.draw(&Text::new(name.to_string(), (4, y), text_style(13.0).color(colour))).map_err(e)?;
            for (t, n) in curve.at_risk_times.iter().zip(&curve.at_risk) {
                let label = n.map_or("c".to_string(), |n| format!("{n:.0}"));
                table
                    .draw(&Text::new(label, (x_px(*t), y), text_style(13.0).pos(Pos::new(HPos::Center, VPos::Top))))
                    .map_err(e)?;
            }
        }
        Ok(())
    }
}

/// Kaplan-Meier curves by arm with 95% bands and the numbers at risk under the axis.
///
/// `few_sites`: fewer than 10 pilot sites, where the curves' test is not size-controlled (the
/// figure says so beside it).
pub fn km_plot(result: &SurvivalResult, window_days: f64, few_sites: bool, source: &str) -> Result<Figure, ChartError> {
    let name = format!("km_{}", result.outcome);
    let med = |c: &Curve| c.median.map_or("not reached".to_string(), |m| format!("{m:.0} days"));
    let alt = format!(
        "Kaplan-Meier curves of {} for pilot (vermillion) and matched control (blue) children over {:.0} days with 95% bands; median pilot {}, control {}; p = {}.",
        result.outcome.label(),
        window_days,
        med(&result.treated),
        med(&result.control),
        fmt_p(result.p_value)
    );
    render(
        &name,
        &format!("Kaplan-Meier: {}", result.outcome.label()),
        alt,
        &KmPlot { result, source, window_days, few_sites },
    )
}

// ---------------------------------------------------------------------------------------
// Trends
