//! Figures of "How robust is this?": the specification curves and the power curves.

use super::*;

struct SpecCurve<'a> {
    outcome: &'a str,
    estimate_type: &'a str,
    /// Estimated specifications sorted by estimate.
    rows: Vec<&'a SpecRow>,
    /// Choice rows: label and, per sorted specification, whether it made that choice.
    choices: Vec<(String, Vec<bool>)>,
    source: &'a str,
}

/// Dimensions of a specification's choices.
const DIMENSIONS: usize = 9;

/// The choices a specification made, as (dimension, value) labels.
fn spec_choices(r: &SpecRow) -> [(&'static str, String); DIMENSIONS] {
    [
        ("index", r.index.replace('_', " ")),
        ("caliper", r.caliper.map_or("none".to_string(), |c| format!("{c} SD"))),
        ("ratio", format!("{}:1", r.ratio)),
        ("replacement", if r.replace { "with" } else { "without" }.to_string()),
        ("distance", r.distance.as_str().replace('-', " ")),
        ("controls", r.controls.clone()),
        ("follow-up", format!("{} months", r.follow_up_months)),
        ("min. in care", format!("{} months", r.min_months_in_care)),
        (
            "estimation",
            match r.estimation.as_str() {
                "matching_adjusted" => "matching, adjusted",
                "matching" => "matching, unadjusted",
                "ps_weighting" => "propensity weights",
                other => other,
            }
            .to_string(),
        ),
    ]
}

impl Draw for SpecCurve<'_> {
    fn size(&self) -> (u32, u32) {
        (1100, 420 + 18 * self.choices.len() as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let ratio = self.estimate_type != "risk_difference";
        let title = format!("Specification curve: {} ({})", self.outcome, self.estimate_type.replace('_', " "));
        let area = frame(root, &title, self.source)?;
        let (_, h) = area.dim_in_pixel();
        let (top, bottom) = area.split_vertically(h - 18 * self.choices.len() as u32 - 40);
        let n = self.rows.len();
        let t = |x: f64| if ratio { x.ln() } else { x };
        let mut bounds: Vec<f64> = self
            .rows
            .iter()
            .flat_map(|r| [r.estimate, r.ci_low, r.ci_high])
            .flatten()
            .filter(|x| x.is_finite() && (!ratio || *x > 0.0))
            .map(t)
            .collect();
        bounds.sort_by(f64::total_cmp);
        let null = t(if ratio { 1.0 } else { 0.0 });
        let trim = bounds.len() / 50;
        let lo = bounds.get(trim).copied().unwrap_or(null).min(null);
        let hi = bounds.len().checked_sub(1 + trim).and_then(|i| bounds.get(i)).copied().unwrap_or(null).max(null);
        let pad = (hi - lo).max(1e-6) * 0.06;
        let (lo, hi) = (lo - pad, hi + pad);
        let clamp = |x: f64| t(x).clamp(lo, hi);
        let mut chart = ChartBuilder::on(&top)
            .margin_right(20)
            .x_label_area_size(0)
            .y_label_area_size(180)
            .build_cartesian_2d(0f64..n as f64, lo..hi)
            .map_err(e)?;
        let y_desc = format!("{}{}", self.estimate_type.replace('_', " "), if ratio { " (log scale)" } else { "" });
        chart
            .configure_mesh()
            .y_desc(y_desc)
            .y_label_formatter(&|y| fmt(if ratio { y.exp() } else { *y }))
            .disable_x_mesh()
            .max_light_lines(1)
            .label_style(text_style(14.0))
            .axis_desc_style(text_style(15.0))
            .draw()
            .map_err(e)?;
        // the 95% intervals as one band, the null as a dashed line
        let band: Vec<(f64, f64)> = self
            .rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| Some((i as f64 + 0.5, clamp(r.ci_high?))))
            .chain(self.rows.iter().enumerate().rev().filter_map(|(i, r)| Some((i as f64 + 0.5, clamp(r.ci_low?)))))
            .collect();
        chart
            .draw_series(std::iter::once(Polygon::new(band, SKY.mix(0.35).filled())))
            .map_err(e)?
            .label("95% interval")
            .legend(|(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], SKY.mix(0.35).filled()));
        for seg in dashes((0.0, null), (n as f64, null), 60, |x, y| (x, y)) {
            chart.draw_series(std::iter::once(PathElement::new(seg, GREY.stroke_width(2)))).map_err(e)?;
        }
        let significant = |r: &SpecRow| r.p_value.is_some_and(|p| p < 0.05);
        for (label, colour, pick) in [("significant at 5%", PILOT, true), ("not significant", GREY, false)] {
            chart
                .draw_series(
                    self.rows.iter().enumerate().filter(|(_, r)| significant(r) == pick).filter_map(|(i, r)| {
                        Some(Circle::new((i as f64 + 0.5, clamp(r.estimate?)), 2, colour.filled()))
                    }),
                )
                .map_err(e)?
                .label(label)
                .legend(move |(x, y)| Circle::new((x + 8, y), 4, colour.filled()));
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft, 13.0)?;

        // the choices below, one row per choice, runs of adjacent specifications merged
        let k = self.choices.len();
        let mut panel = ChartBuilder::on(&bottom)
            .margin_right(20)
            .x_label_area_size(36)
            .y_label_area_size(180)
            .build_cartesian_2d(0f64..n as f64, -0.5f64..(k as f64 - 0.5))
            .map_err(e)?;
        let labels: Vec<String> = self.choices.iter().map(|(l, _)| l.clone()).collect();
        panel
            .configure_mesh()
            .x_desc(format!("{n} specifications, sorted by estimate"))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_labels(k)
            .y_label_formatter(&|y| {
                let i = y.round();
                if (y - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < k {
                    labels[k - 1 - i as usize].clone()
                } else {
                    String::new()
                }
            })
            .disable_mesh()
            .label_style(text_style(12.0))
            .axis_desc_style(text_style(15.0))
            .draw()
            .map_err(e)?;
        let mut marks = Vec::new();
        for (row, (_, made)) in self.choices.iter().enumerate() {
            let y = (k - 1 - row) as f64;
            let mut i = 0;
            while i < n {
                if made[i] {
                    let start = i;
                    while i < n && made[i] {
                        i += 1;
                    }
                    marks.push(Rectangle::new([(start as f64, y - 0.32), (i as f64, y + 0.32)], DARK.filled()));
                } else {
                    i += 1;
                }
            }
        }
        panel.draw_series(marks).map_err(e)?;
        Ok(())
    }
}

/// The specification curve of one primary outcome: every estimated specification's estimate
/// and 95% interval sorted by estimate (significant ones marked), and below it the choices each
/// specification made. Dimensions with one value in the grid are left out.
pub fn specification_curve(curve: &SpecificationCurve, outcome: Outcome, source: &str) -> Result<Figure, ChartError> {
    let mut rows: Vec<&SpecRow> = curve.rows.iter().filter(|r| r.outcome == outcome && r.estimate.is_some()).collect();
    rows.sort_by(|a, b| a.estimate.unwrap_or(0.0).total_cmp(&b.estimate.unwrap_or(0.0)).then(a.spec.cmp(&b.spec)));
    let all: Vec<&SpecRow> = curve.rows.iter().filter(|r| r.outcome == outcome).collect();
    let made_by_all: Vec<[(&'static str, String); DIMENSIONS]> = all.iter().map(|r| spec_choices(r)).collect();
    let made_by_row: Vec<[(&'static str, String); DIMENSIONS]> = rows.iter().map(|r| spec_choices(r)).collect();
    let mut choices: Vec<(String, Vec<bool>)> = Vec::new();
    for d in 0..DIMENSIONS {
        let mut values: Vec<&(&'static str, String)> = Vec::new();
        for made in &made_by_all {
            if !values.contains(&&made[d]) {
                values.push(&made[d]);
            }
        }
        if values.len() < 2 {
            continue;
        }
        for (dimension, value) in values {
            let marks = made_by_row.iter().map(|m| m[d].1 == *value).collect();
            choices.push((format!("{dimension}: {value}"), marks));
        }
    }
    let estimate_type = all.first().map_or("estimate", |r| r.estimate_type.as_str());
    let summary = curve.summary.iter().find(|s| s.outcome == outcome);
    let share = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{:.0}%", 100.0 * v));
    let alt = format!(
        "Specification curve of {}: {} of {} specifications estimated, sorted by their {}; median {}; significant at 5% with fewer events among pilot children in {}, with more in {}. Below, the choices of each specification.",
        outcome.label(),
        rows.len(),
        all.len(),
        estimate_type.replace('_', " "),
        summary.and_then(|s| s.median_estimate).map_or("-".to_string(), fmt),
        share(summary.and_then(|s| s.share_significant_lower)),
        share(summary.and_then(|s| s.share_significant_higher)),
    );
    let name = format!("specification_curve_{outcome}");
    let title = format!("Specification curve: {}", outcome.label());
    render(&name, &title, alt, &SpecCurve { outcome: outcome.label(), estimate_type, rows, choices, source })
}

// ---------------------------------------------------------------------------------------
// Power curves

struct PowerCurves<'a> {
    power: &'a PowerResult,
    outcomes: Vec<Outcome>,
    source: &'a str,
}

impl Draw for PowerCurves<'_> {
    fn size(&self) -> (u32, u32) {
        (1100, 120 + 330 * self.outcomes.len().div_ceil(2) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let area = frame(root, "Power by planted effect and number of pilot sites", self.source)?;
        let rows = self.outcomes.len().div_ceil(2);
        let panels = area.split_evenly((rows, 2));
        let mut sites: Vec<usize> = self.power.rows.iter().map(|r| r.pilot_sites).collect();
        sites.sort_unstable();
        sites.dedup();
        let ratios: Vec<f64> = {
            let mut r: Vec<f64> = self.power.rows.iter().map(|r| r.ratio).collect();
            r.sort_by(f64::total_cmp);
            r.dedup();
            r
        };
        let (min, max) = (ratios.first().copied().unwrap_or(0.5), ratios.last().copied().unwrap_or(1.0));
        for (panel, outcome) in panels.iter().zip(&self.outcomes) {
            let effect =
                self.power.rows.iter().find(|r| r.outcome == *outcome).map_or("ratio", |r| r.effect_type.as_str());
            let mut chart = ChartBuilder::on(panel)
                .caption(outcome.label(), text_style(16.0))
                .margin(8)
                .margin_right(24)
                .x_label_area_size(40)
                .y_label_area_size(56)
                .build_cartesian_2d((max + 0.02)..(min - 0.02), 0f64..1f64)
                .map_err(e)?;
            chart
                .configure_mesh()
                .x_desc(format!("planted {}", effect.replace('_', " ")))
                .y_desc("power")
                .x_labels(6)
                .x_label_formatter(&|x| format!("{x:.1}"))
                .y_label_formatter(&|y| format!("{:.0}%", 100.0 * y))
                .max_light_lines(1)
                .label_style(text_style(13.0))
                .axis_desc_style(text_style(14.0))
                .draw()
                .map_err(e)?;
            for (level, colour) in [(self.power.target, DARK), (self.power.alpha, GREY)] {
                for seg in dashes((max + 0.02, level), (min - 0.02, level), 40, |x, y| (x, y)) {
                    chart.draw_series(std::iter::once(PathElement::new(seg, colour.stroke_width(1)))).map_err(e)?;
                }
            }
            for (j, &k) in sites.iter().enumerate() {
                let colour = SITE_COLOURS[j % SITE_COLOURS.len()];
                let points: Vec<(f64, f64)> = self
                    .power
                    .rows
                    .iter()
                    .filter(|r| r.outcome == *outcome && r.pilot_sites == k)
                    .filter_map(|r| Some((r.ratio, r.power?)))
                    .collect();
                let observed = if k == self.power.observed_pilot_sites { " (as evaluated)" } else { "" };
                chart
                    .draw_series(LineSeries::new(points.clone(), colour.stroke_width(3)))
                    .map_err(e)?
                    .label(format!("{k} pilot sites{observed}"))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(3)));
                chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, colour.filled()))).map_err(e)?;
            }
            legend(&mut chart, SeriesLabelPosition::LowerRight, 12.0)?;
        }
        Ok(())
    }
}

/// Power curves of the primary outcomes, one panel each: the simulated power against the planted
/// ratio, one line per number of pilot sites, with the target power (dashed, dark) and alpha
/// (dashed, grey: the power at ratio 1 is the test's size).
pub fn power_curves(power: &PowerResult, source: &str) -> Result<Figure, ChartError> {
    let mut outcomes: Vec<Outcome> = Vec::new();
    for r in &power.rows {
        if !outcomes.contains(&r.outcome) {
            outcomes.push(r.outcome);
        }
    }
    let mde: Vec<String> = power
        .minimum_detectable
        .iter()
        .filter(|m| m.pilot_sites == power.observed_pilot_sites)
        .map(|m| format!("{} {}", m.outcome.label(), m.ratio.map_or("beyond the grid".to_string(), fmt)))
        .collect();
    let alt = format!(
        "Power curves from {} simulated evaluations per number of pilot sites: power against the planted ratio for each primary outcome; minimum detectable effects at {:.0}% power with {} pilot sites: {}.",
        power.simulations,
        100.0 * power.target,
        power.observed_pilot_sites,
        mde.join("; ")
    );
    render(
        "power_curves",
        "Power by planted effect and number of pilot sites",
        alt,
        &PowerCurves { power, outcomes, source },
    )
}

// ---------------------------------------------------------------------------------------
// Value for money
