//! The evaluation's figures, each drawn once by generic code and rendered twice: SVG (inline in
//! report.html) and PNG (for documents). Text uses the bundled DejaVu Sans (no system font
//! lookup), colours the Okabe-Ito palette (safe for colour-blind readers). Every figure has a
//! title, axis units and a source note; a suppressed count is never drawn or labelled.
//!
//! Each figure is a function of the evaluation's result types ([`figures`] makes all of them);
//! nothing here computes a statistic.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use swp_evaluation::results::{
    ArmYearRow, Balance, CaseloadDistribution, Curve, EffectRow, MonthlyRow, PowerResult, SpecRow, SpecificationCurve,
    SpendingRow, SurvivalResult, ValueForMoney,
};
use swp_evaluation::vocab::{EstimateType, Outcome};
use swp_evaluation::Published;

/// Okabe-Ito: vermillion (pilot).
pub const PILOT: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
/// Okabe-Ito: blue (controls).
pub const CONTROL: RGBColor = RGBColor(0x00, 0x72, 0xB2);
/// Okabe-Ito: sky blue.
pub const SKY: RGBColor = RGBColor(0x56, 0xB4, 0xE9);
/// Okabe-Ito: orange.
pub const ORANGE: RGBColor = RGBColor(0xE6, 0x9F, 0x00);
/// Okabe-Ito: bluish green.
pub const GREEN: RGBColor = RGBColor(0x00, 0x9E, 0x73);
/// Okabe-Ito: reddish purple.
pub const PURPLE: RGBColor = RGBColor(0xCC, 0x79, 0xA7);
/// Okabe-Ito: yellow.
pub const YELLOW: RGBColor = RGBColor(0xF0, 0xE4, 0x42);
const GREY: RGBColor = RGBColor(0x99, 0x99, 0x99);
const DARK: RGBColor = RGBColor(0x22, 0x22, 0x22);
/// One colour per pilot site, in site order.
const SITE_COLOURS: [RGBColor; 7] = [PILOT, GREEN, PURPLE, ORANGE, SKY, CONTROL, YELLOW];

const FONT: &str = "sans-serif";
static DEJAVU: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");

/// Registers the bundled font once (plotters' ab_glyph text looks fonts up by family name).
fn fonts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // the bundled file is a valid TrueType font; a failure would only lose text
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU);
    });
}

/// A drawn figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// File stem, e.g. `love_plot`.
    pub name: String,
    /// Title.
    pub title: String,
    /// Alternative text for readers who cannot see it.
    pub alt: String,
    /// SVG document.
    pub svg: String,
    /// PNG bytes.
    pub png: Vec<u8>,
}

/// A figure failed to draw.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not draw {figure}: {message}")]
pub struct ChartError {
    /// Which figure.
    pub figure: String,
    /// What went wrong.
    pub message: String,
}

type DrawResult = Result<(), String>;

/// Something drawable at a fixed size.
trait Draw {
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult;
}

fn e<E: std::fmt::Display>(err: E) -> String {
    err.to_string()
}

fn render(name: &str, title: &str, alt: String, fig: &impl Draw) -> Result<Figure, ChartError> {
    fonts();
    let fail = |message: String| ChartError { figure: name.to_string(), message };
    let (w, h) = fig.size();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        fig.draw(&root).map_err(fail)?;
        root.present().map_err(|x| fail(e(x)))?;
    }
    let mut buffer = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (w, h)).into_drawing_area();
        fig.draw(&root).map_err(fail)?;
        root.present().map_err(|x| fail(e(x)))?;
    }
    let mut png_bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png_bytes, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Best);
        let mut writer = encoder.write_header().map_err(|x| fail(x.to_string()))?;
        writer.write_image_data(&buffer).map_err(|x| fail(x.to_string()))?;
    }
    Ok(Figure { name: name.to_string(), title: title.to_string(), alt, svg, png: png_bytes })
}

fn text_style(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font()).color(&DARK)
}

/// Title at the top, source note at the bottom; returns the area between them.
fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    source: &str,
) -> Result<DrawingArea<DB, Shift>, String> {
    root.fill(&WHITE).map_err(e)?;
    let (w, h) = root.dim_in_pixel();
    root.draw(&Text::new(title.to_string(), (16, 12), text_style(22.0))).map_err(e)?;
    root.draw(&Text::new(source.to_string(), (16, h as i32 - 22), text_style(13.0).color(&GREY))).map_err(e)?;
    let _ = w;
    Ok(root.margin(46, 34, 10, 20))
}

/// A number for a label: no decimals from 100, one from 10, else two.
pub(crate) fn fmt(x: f64) -> String {
    if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

fn fmt_p(p: Option<f64>) -> String {
    match p {
        None => "-".into(),
        Some(p) if p < 0.001 => "<0.001".into(),
        Some(p) => format!("{p:.3}"),
    }
}

/// The series legend every chart uses: white box, grey border.
fn legend<'a, DB: DrawingBackend + 'a, CT: plotters::coord::CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
    size: f64,
) -> DrawResult {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(GREY)
        .label_font(text_style(size))
        .draw()
        .map_err(e)
}

/// A dashed line from a to b in data coordinates.
fn dashes<X: Copy, Y: Copy>(
    from: (f64, f64),
    to: (f64, f64),
    n: usize,
    map: impl Fn(f64, f64) -> (X, Y),
) -> Vec<Vec<(X, Y)>> {
    (0..n)
        .filter(|k| k % 2 == 0)
        .map(|k| {
            let t0 = k as f64 / n as f64;
            let t1 = (k + 1) as f64 / n as f64;
            let p = |t: f64| map(from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t);
            vec![p(t0), p(t1)]
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Love plot

struct LovePlot<'a> {
    balance: &'a Balance,
    source: &'a str,
}

impl Draw for LovePlot<'_> {
    fn size(&self) -> (u32, u32) {
        (900, 160 + 26 * self.balance.balance.len() as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let area = frame(root, "Covariate balance before and after matching", self.source)?;
        let rows = &self.balance.balance;
        let n = rows.len();
        let max = rows
            .iter()
            .flat_map(|r| [r.smd_before.abs(), r.smd_after.abs()])
            .filter(|v| v.is_finite())
            .fold(0.15f64, f64::max)
            * 1.1;
        let names: Vec<String> = rows.iter().map(|r| r.covariate.clone()).collect();
        let mut chart = ChartBuilder::on(&area)
            .margin_right(20)
            .x_label_area_size(46)
            .y_label_area_size(250)
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
            .label("before matching")
            .legend(|(x, y)| Circle::new((x + 10, y), 6, ORANGE.stroke_width(2)));
        chart
            .draw_series(
                rows.iter()
                    .enumerate()
                    .filter(|(_, r)| r.smd_after.is_finite())
                    .map(|(i, r)| Circle::new((r.smd_after.abs(), y(i)), 6, CONTROL.filled())),
            )
            .map_err(e)?
            .label("after matching")
            .legend(|(x, y)| Circle::new((x + 10, y), 6, CONTROL.filled()));
        legend(&mut chart, SeriesLabelPosition::LowerRight, 14.0)?;
        Ok(())
    }
}

/// Love plot: |SMD| of every covariate before and after matching, with the 0.1 line.
pub fn love_plot(balance: &Balance, source: &str) -> Result<Figure, ChartError> {
    let worst =
        balance.balance.iter().filter(|r| r.covariate != "distance").map(|r| r.smd_after.abs()).fold(0.0f64, f64::max);
    let alt = format!(
        "Dot plot of the absolute standardised mean difference of {} covariates before (orange circles) and after (blue dots) matching, with a dashed line at 0.1; after matching the largest is {:.3}.",
        balance.balance.len(),
        worst
    );
    render("love_plot", "Covariate balance before and after matching", alt, &LovePlot { balance, source })
}

// ---------------------------------------------------------------------------------------
// Forest plot

struct Forest<'a> {
    ratios: Vec<&'a EffectRow>,
    differences: Vec<&'a EffectRow>,
    source: &'a str,
}

fn label(r: &EffectRow) -> String {
    format!("{} — {}", r.outcome.as_str().replace('_', " "), r.estimate_type.as_str().replace('_', " "))
}

fn right_text(r: &EffectRow) -> String {
    match (r.estimate, r.ci_low, r.ci_high) {
        (Some(est), Some(lo), Some(hi)) => {
            let holm = r.p_holm.map_or(String::new(), |p| format!("  Holm p {}", fmt_p(Some(p))));
            format!("{} [{}, {}]  p {}{holm}", fmt(est), fmt(lo), fmt(hi), fmt_p(r.p_value))
        }
        _ => "suppressed or not estimable".into(),
    }
}

impl Forest<'_> {
    fn panel<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, rows: &[&EffectRow], log: bool) -> DrawResult {
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
        let desc = if log { "ratio (log scale); 1 = no difference" } else { "difference (pilot - control); 0 = none" };
        let null = if log { 1.0 } else { 0.0 };
        let y = -0.5f64..(n as f64 - 0.5);
        if log {
            let mut chart = ChartBuilder::on(&plot)
                .x_label_area_size(46)
                .build_cartesian_2d((lo * 0.9..hi * 1.1).log_scale(), y)
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
        (1200, 190 + 34 * (self.ratios.len() + self.differences.len()) as u32 + 60)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let area = frame(root, "Effects of the pilots (matched children, 95% CIs, CR2 on site)", self.source)?;
        let total = (self.ratios.len() + self.differences.len()).max(1) as f64;
        let h = area.dim_in_pixel().1 as f64;
        let split = (h * (self.ratios.len() as f64 + 1.0) / (total + 2.0)) as u32;
        let (top, bottom) = area.split_vertically(split.max(60));
        self.panel(&top, &self.ratios, true)?;
        self.panel(&bottom, &self.differences, false)?;
        Ok(())
    }
}

/// Forest plot: every estimate with its 95% interval (ratios on a log scale, differences on
/// their own), primary rows in vermillion, p and Holm-adjusted p beside each.
pub fn forest_plot(effects: &[EffectRow], source: &str) -> Result<Figure, ChartError> {
    let is_ratio = |r: &&EffectRow| r.estimate_type.is_ratio();
    let ratios: Vec<&EffectRow> = effects.iter().filter(is_ratio).collect();
    let differences: Vec<&EffectRow> =
        effects.iter().filter(|r| !is_ratio(r) && r.estimate_type != EstimateType::HedgesG).collect();
    let primary: Vec<String> = effects
        .iter()
        .filter(|r| r.primary)
        .map(|r| {
            format!(
                "{} {} {}",
                r.outcome.as_str().replace('_', " "),
                r.estimate_type.as_str().replace('_', " "),
                r.estimate.map_or("suppressed".into(), fmt)
            )
        })
        .collect();
    let alt = format!(
        "Forest plot of {} estimates with 95% confidence intervals; ratios on a log scale above, differences below. Primary: {}.",
        ratios.len() + differences.len(),
        primary.join("; ")
    );
    render("forest_plot", "Effects of the pilots", alt, &Forest { ratios, differences, source })
}

// ---------------------------------------------------------------------------------------
// Kaplan-Meier

struct KmPlot<'a> {
    result: &'a SurvivalResult,
    source: &'a str,
    window_days: f64,
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
        let title = format!("Kaplan-Meier: {}", self.result.outcome.as_str().replace('_', " "));
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
        let test = format!(
            "{}: chi-square {} (1 df), p {}",
            if self.result.test == "log_rank" { "log-rank test" } else { "robust score test" },
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
pub fn km_plot(result: &SurvivalResult, window_days: f64, source: &str) -> Result<Figure, ChartError> {
    let name = format!("km_{}", result.outcome);
    let med = |c: &Curve| c.median.map_or("not reached".to_string(), |m| format!("{m:.0} days"));
    let alt = format!(
        "Kaplan-Meier curves of {} for pilot (vermillion) and matched control (blue) children over {:.0} days with 95% bands; median pilot {}, control {}; p = {}.",
        result.outcome.as_str().replace('_', " "),
        window_days,
        med(&result.treated),
        med(&result.control),
        fmt_p(result.p_value)
    );
    render(
        &name,
        &format!("Kaplan-Meier: {}", result.outcome.as_str().replace('_', " ")),
        alt,
        &KmPlot { result, source, window_days },
    )
}

// ---------------------------------------------------------------------------------------
// Trends

struct Trends<'a> {
    monthly: &'a [MonthlyRow],
    go_lives: &'a [(String, String)],
    source: &'a str,
}

impl Trends<'_> {
    fn months(&self) -> Vec<String> {
        let mut m: Vec<String> = self.monthly.iter().map(|r| r.month.clone()).collect();
        m.sort();
        m.dedup();
        m
    }

    fn panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        value: impl Fn(&MonthlyRow) -> Option<f64>,
        desc: &str,
        title: &str,
    ) -> DrawResult {
        let months = self.months();
        let n = months.len().max(2);
        let max = self.monthly.iter().filter_map(&value).fold(0.0f64, f64::max).max(1e-9) * 1.1;
        let mut chart = ChartBuilder::on(area)
            .caption(title, text_style(16.0))
            .x_label_area_size(40)
            .y_label_area_size(70)
            .margin_right(20)
            .build_cartesian_2d(0f64..(n - 1) as f64, 0f64..max)
            .map_err(e)?;
        chart
            .configure_mesh()
            .y_desc(desc)
            .x_labels(n.min(12))
            .x_label_formatter(&|x| months.get(x.round() as usize).cloned().unwrap_or_default())
            .label_style(text_style(12.0))
            .axis_desc_style(text_style(13.0))
            .light_line_style(RGBColor(0xEE, 0xEE, 0xEE))
            .draw()
            .map_err(e)?;
        let idx = |m: &str| months.iter().position(|x| x == m).map(|i| i as f64);
        let mut sites: Vec<(&str, &str)> = self.monthly.iter().map(|r| (r.site.as_str(), r.arm.as_str())).collect();
        sites.dedup();
        sites.sort_by_key(|(s, a)| (*a != "pilot", s.to_string()));
        sites.dedup();
        let mut pilot_k = 0;
        for (site, arm) in &sites {
            let points: Vec<(f64, f64)> = self
                .monthly
                .iter()
                .filter(|r| r.site == *site)
                .filter_map(|r| Some((idx(&r.month)?, value(r)?)))
                .collect();
            if *arm == "pilot" {
                let colour = SITE_COLOURS[pilot_k % SITE_COLOURS.len()];
                pilot_k += 1;
                chart
                    .draw_series(std::iter::once(PathElement::new(points, colour.stroke_width(3))))
                    .map_err(e)?
                    .label(site.to_string())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3)));
                if let Some((_, live)) = self.go_lives.iter().find(|(s, _)| s == site) {
                    if let Some(x) = idx(&live[..7]) {
                        for seg in dashes((x, 0.0), (x, max), 24, |a, b| (a, b)) {
                            chart
                                .draw_series(std::iter::once(PathElement::new(seg, colour.stroke_width(2))))
                                .map_err(e)?;
                        }
                    }
                }
            } else {
                chart
                    .draw_series(std::iter::once(PathElement::new(points, GREY.mix(0.5).stroke_width(1))))
                    .map_err(e)?;
            }
        }
        chart
            .draw_series(std::iter::once(PathElement::new(Vec::<(f64, f64)>::new(), GREY.stroke_width(1))))
            .map_err(e)?
            .label("control sites")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], GREY.stroke_width(1)));
        legend(&mut chart, SeriesLabelPosition::UpperRight, 13.0)?;
        Ok(())
    }
}

impl Draw for Trends<'_> {
    fn size(&self) -> (u32, u32) {
        (1200, 860)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let area = frame(root, "Caseloads and turnover by site and month (dashed: pilot go-live)", self.source)?;
        let (top, bottom) = area.split_vertically(area.dim_in_pixel().1 / 2);
        self.panel(&top, |r| r.caseload, "children per case holder", "Mean caseload at the month's end")?;
        self.panel(
            &bottom,
            |r| r.turnover_12m,
            "FTE leaving in 12 months / FTE in post",
            "Turnover: own staff leaving in the last 12 months",
        )?;
        Ok(())
    }
}

/// Caseload and turnover per site by month, each pilot's go-live marked.
pub fn trends(monthly: &[MonthlyRow], go_lives: &[(String, String)], source: &str) -> Result<Figure, ChartError> {
    let alt = format!(
        "Two line charts by month: mean caseload per case-holding worker and monthly turnover of own staff, one line per site ({} pilot sites in colour with dashed go-live lines, control sites in grey).",
        go_lives.len()
    );
    render("trends", "Caseloads and turnover by site and month", alt, &Trends { monthly, go_lives, source })
}

// ---------------------------------------------------------------------------------------
// Caseload distribution

struct Distribution<'a> {
    d: &'a CaseloadDistribution,
    source: &'a str,
}

impl Draw for Distribution<'_> {
    fn size(&self) -> (u32, u32) {
        (1000, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let title = format!("Caseloads of case-holding workers on {}", self.d.date);
        let area = frame(root, &title, self.source)?;
        let bins: Vec<String> = {
            let mut b: Vec<String> = Vec::new();
            for x in &self.d.bins {
                if !b.contains(&x.bin) {
                    b.push(x.bin.clone());
                }
            }
            b
        };
        let max = self.d.bins.iter().filter_map(|b| b.share).fold(0.1f64, f64::max) * 1.15;
        let mut chart = ChartBuilder::on(&area)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .margin_right(20)
            .build_cartesian_2d(0f64..bins.len() as f64, 0f64..max)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("children held (caseload)")
            .y_desc("share of the arm's case holders")
            .x_labels(bins.len() * 2 + 1)
            .x_label_formatter(&|x| {
                let i = (x - 0.5).round();
                if (x - 0.5 - i).abs() < 1e-6 && i >= 0.0 {
                    bins.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .disable_x_mesh()
            .label_style(text_style(14.0))
            .axis_desc_style(text_style(15.0))
            .draw()
            .map_err(e)?;
        for (k, (arm, colour)) in [("pilot", PILOT), ("control", CONTROL)].iter().enumerate() {
            let bars: Vec<Rectangle<(f64, f64)>> = self
                .d
                .bins
                .iter()
                .filter(|b| b.arm == *arm)
                .filter_map(|b| {
                    let i = bins.iter().position(|x| *x == b.bin)? as f64;
                    let x0 = i + 0.1 + 0.4 * k as f64;
                    Some(Rectangle::new([(x0, 0.0), (x0 + 0.38, b.share?)], colour.filled()))
                })
                .collect();
            let label = if *arm == "pilot" { "pilot sites" } else { "control sites" };
            let c = *colour;
            chart
                .draw_series(bars)
                .map_err(e)?
                .label(label)
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], c.filled()));
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight, 14.0)?;
        Ok(())
    }
}

/// The caseload distribution by arm (bars of suppressed counts are left out).
pub fn caseload_distribution(d: &CaseloadDistribution, source: &str) -> Result<Figure, ChartError> {
    let alt = format!(
        "Grouped bar chart of the share of case-holding workers by caseload band on {}, pilot sites (vermillion) beside control sites (blue); bands with fewer than the disclosure threshold are not drawn.",
        d.date
    );
    render("caseload_distribution", "Caseloads of case-holding workers", alt, &Distribution { d, source })
}

// ---------------------------------------------------------------------------------------
// Rates by arm and year

struct ArmYears<'a> {
    rows: &'a [ArmYearRow],
    source: &'a str,
}

impl ArmYears<'_> {
    fn panel<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, metric: &str, title: &str) -> DrawResult {
        let years: Vec<String> = {
            let mut y: Vec<String> = self.rows.iter().filter(|r| r.metric == metric).map(|r| r.year.clone()).collect();
            y.dedup();
            y
        };
        let n = years.len().max(2);
        let max = self.rows.iter().filter(|r| r.metric == metric).filter_map(|r| r.value).fold(0.1f64, f64::max) * 1.15;
        let mut chart = ChartBuilder::on(area)
            .caption(title, text_style(16.0))
            .x_label_area_size(40)
            .y_label_area_size(70)
            .margin_right(20)
            .build_cartesian_2d(-0.3f64..(n as f64 - 0.7), 0f64..max)
            .map_err(e)?;
        chart
            .configure_mesh()
            .y_desc("per child-year")
            .x_desc("financial year")
            .x_labels(n)
            .x_label_formatter(&|x| {
                let i = x.round();
                let every = if n > 6 { 2 } else { 1 };
                if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize).is_multiple_of(every) {
                    years.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .label_style(text_style(13.0))
            .axis_desc_style(text_style(14.0))
            .light_line_style(RGBColor(0xEE, 0xEE, 0xEE))
            .draw()
            .map_err(e)?;
        for (arm, colour) in [("pilot", PILOT), ("control", CONTROL)] {
            let points: Vec<(f64, f64)> = self
                .rows
                .iter()
                .filter(|r| r.metric == metric && r.arm == arm)
                .filter_map(|r| Some((years.iter().position(|y| *y == r.year)? as f64, r.value?)))
                .collect();
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(3)))
                .map_err(e)?
                .label(if arm == "pilot" { "pilot sites" } else { "control sites" })
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3)));
            chart.draw_series(points.iter().map(|p| Circle::new(*p, 5, colour.filled()))).map_err(e)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight, 13.0)?;
        Ok(())
    }
}

impl Draw for ArmYears<'_> {
    fn size(&self) -> (u32, u32) {
        (1100, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let area = frame(root, "Placement moves and social-worker changes per child-year, by arm", self.source)?;
        let (left, right) = area.split_horizontally(area.dim_in_pixel().0 / 2);
        self.panel(&left, "placement_moves_per_child_year", "Placement moves")?;
        self.panel(&right, "sw_changes_per_child_year", "Social-worker changes")?;
        Ok(())
    }
}

/// Placement moves (and social-worker changes) per child-year by arm and financial year.
pub fn placement_moves(rows: &[ArmYearRow], source: &str) -> Result<Figure, ChartError> {
    let alt = "Two line charts by financial year: placement moves and social-worker changes per child-year at pilot sites (vermillion) and control sites (blue).".to_string();
    render(
        "placement_moves",
        "Placement moves and social-worker changes per child-year",
        alt,
        &ArmYears { rows, source },
    )
}

// ---------------------------------------------------------------------------------------
// Sample flow

struct Flow<'a> {
    rows: &'a [swp_evaluation::results::FlowRow],
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
        let area = frame(root, "Sample flow: from every child at the sites to the matched cohort", self.source)?;
        let (w, _) = area.dim_in_pixel();
        let col_w = (w as i32 - 40) / 2;
        for (k, (arm, colour, head)) in
            [("treated", PILOT, "Pilot sites"), ("control", CONTROL, "Control sites")].iter().enumerate()
        {
            let x0 = 10 + k as i32 * (col_w + 20);
            let rows: Vec<_> = self.rows.iter().filter(|r| r.arm == *arm).collect();
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
    let arm =
        |a: &str| results.sample_flow.iter().rfind(|r| r.arm == a).map_or("c".to_string(), |r| count_text(r.remaining));
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
        &Flow { rows: &results.sample_flow, matched: (n.matched_treated, n.matched_control), source },
    )
}

/// A point of a [`MetricSeries`]: period start and value.
pub type Point = (String, Option<f64>);

/// One metric by period, per group (what `swp-eval metrics --chart` draws). Points are
/// (period start `YYYY-MM-DD`, value; None where suppressed or undefined).
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSeries {
    /// Metric name.
    pub metric: String,
    /// Groups and their points, in period order.
    pub groups: Vec<(String, Vec<Point>)>,
}

struct MetricChart<'a> {
    series: &'a MetricSeries,
    source: &'a str,
}

impl Draw for MetricChart<'_> {
    fn size(&self) -> (u32, u32) {
        (1100, 600)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let title = format!("{} by period", self.series.metric.replace('_', " "));
        let area = frame(root, &title, self.source)?;
        let mut periods: Vec<&str> =
            self.series.groups.iter().flat_map(|(_, p)| p.iter().map(|(x, _)| x.as_str())).collect();
        periods.sort_unstable();
        periods.dedup();
        let n = periods.len().max(2);
        let max = self.series.groups.iter().flat_map(|(_, p)| p.iter().filter_map(|(_, v)| *v)).fold(1e-9f64, f64::max)
            * 1.15;
        let mut chart = ChartBuilder::on(&area)
            .x_label_area_size(44)
            .y_label_area_size(70)
            .margin_right(20)
            .build_cartesian_2d(-0.3f64..(n as f64 - 0.7), 0f64..max)
            .map_err(e)?;
        let every = n.div_ceil(10);
        chart
            .configure_mesh()
            .x_desc("period starting")
            .y_desc(self.series.metric.replace('_', " "))
            .x_labels(n)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize).is_multiple_of(every) {
                    periods.get(i as usize).map(|p| p.to_string()).unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .label_style(text_style(13.0))
            .axis_desc_style(text_style(14.0))
            .light_line_style(RGBColor(0xEE, 0xEE, 0xEE))
            .draw()
            .map_err(e)?;
        let many = self.series.groups.len() > SITE_COLOURS.len();
        for (k, (group, points)) in self.series.groups.iter().enumerate() {
            let colour = if many { GREY } else { SITE_COLOURS[k % SITE_COLOURS.len()] };
            let xy: Vec<(f64, f64)> =
                points.iter().filter_map(|(p, v)| Some((periods.iter().position(|x| x == p)? as f64, (*v)?))).collect();
            let series = chart.draw_series(LineSeries::new(xy.clone(), colour.stroke_width(2))).map_err(e)?;
            if !many {
                series
                    .label(group.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
            }
            chart.draw_series(xy.iter().map(|p| Circle::new(*p, 3, colour.filled()))).map_err(e)?;
        }
        if !many {
            legend(&mut chart, SeriesLabelPosition::UpperRight, 13.0)?;
        }
        Ok(())
    }
}

/// A metric by period, one line per group (more groups than colours: grey lines, no legend).
pub fn metric_chart(series: &MetricSeries, source: &str) -> Result<Figure, ChartError> {
    let alt =
        format!("Line chart of {} by period for {} group(s).", series.metric.replace('_', " "), series.groups.len());
    let name = format!("metric_{}", series.metric);
    render(&name, &series.metric, alt, &MetricChart { series, source })
}

// ---------------------------------------------------------------------------------------
// Scaling curves (benchmarks)

/// How one implementation's time grows with the size of the work: (size, seconds) points and the
/// slope of log(seconds) on log(size) fitted to them (1: linear; n log n reads a little above 1).
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingSeries {
    /// Implementation, e.g. `swp-eval` or `R MatchIt`.
    pub name: String,
    /// (size, seconds), in size order.
    pub points: Vec<(f64, f64)>,
    /// Fitted log-log slope.
    pub slope: f64,
}

/// One task's curves: time against size on log-log axes.
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingPanel {
    /// Task, e.g. `matching`.
    pub title: String,
    /// What the size counts, e.g. `rows` or `children`.
    pub unit: String,
    /// One curve per implementation.
    pub series: Vec<ScalingSeries>,
}

struct Scaling<'a> {
    panels: &'a [ScalingPanel],
    source: &'a str,
}

/// Axis bounds of positive values, widened to whole powers of ten around them.
fn log_bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) =
        values.filter(|v| *v > 0.0 && v.is_finite()).fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
    if lo > hi {
        return (1.0, 10.0);
    }
    (10f64.powf(lo.log10().floor()), 10f64.powf(hi.log10().ceil().max(lo.log10().floor() + 1.0)))
}

/// Powers of ten as labels: 1e-3 s as 0.001, 1e6 rows as 1,000,000.
fn power_label(x: f64) -> String {
    if x >= 1.0 {
        let digits = format!("{x:.0}");
        let mut out = String::new();
        for (i, ch) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(ch);
        }
        out
    } else {
        format!("{x}")
    }
}

impl Draw for Scaling<'_> {
    fn size(&self) -> (u32, u32) {
        (1100, 120 + 380 * self.panels.len().div_ceil(2) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let area = frame(root, "Time against size (log-log), with fitted slopes", self.source)?;
        let rows = self.panels.len().div_ceil(2);
        let cells = area.split_evenly((rows, 2));
        for (cell, panel) in cells.iter().zip(self.panels) {
            let points = || panel.series.iter().flat_map(|s| s.points.iter());
            let (x0, x1) = log_bounds(points().map(|p| p.0));
            let (y0, y1) = log_bounds(points().map(|p| p.1));
            // room below the lowest point for the legend: a decade for every two of its rows
            let y0 = y0 / 10f64.powi((panel.series.len() as i32 + 1) / 2);
            let mut chart = ChartBuilder::on(cell)
                .caption(&panel.title, text_style(16.0))
                .margin(8)
                .margin_right(24)
                .x_label_area_size(40)
                .y_label_area_size(64)
                .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())
                .map_err(e)?;
            chart
                .configure_mesh()
                .x_desc(panel.unit.clone())
                .y_desc("seconds")
                .x_label_formatter(&|x| power_label(*x))
                .y_label_formatter(&|y| power_label(*y))
                .label_style(text_style(12.0))
                .axis_desc_style(text_style(14.0))
                .light_line_style(RGBColor(0xEE, 0xEE, 0xEE))
                .draw()
                .map_err(e)?;
            for (k, s) in panel.series.iter().enumerate() {
                let colour = SITE_COLOURS[k % SITE_COLOURS.len()];
                chart
                    .draw_series(LineSeries::new(s.points.clone(), colour.stroke_width(3)))
                    .map_err(e)?
                    .label(format!("{} (slope {:.2})", s.name, s.slope))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(3)));
                chart.draw_series(s.points.iter().map(|&p| Circle::new(p, 4, colour.filled()))).map_err(e)?;
            }
            legend(&mut chart, SeriesLabelPosition::LowerRight, 12.0)?;
        }
        Ok(())
    }
}

/// Scaling curves of the benchmarks (`benches/run.sh`): one log-log panel per task, one line per
/// implementation, its fitted slope in the legend.
pub fn scaling_curves(panels: &[ScalingPanel], source: &str) -> Result<Figure, ChartError> {
    let described: Vec<String> = panels
        .iter()
        .map(|p| {
            let slopes: Vec<String> = p.series.iter().map(|s| format!("{} {:.2}", s.name, s.slope)).collect();
            format!("{}: {}", p.title, slopes.join(", "))
        })
        .collect();
    let alt = format!("Log-log charts of seconds against size with fitted slopes. {}.", described.join("; "));
    render("scaling", "Time against size", alt, &Scaling { panels, source })
}

// ---------------------------------------------------------------------------------------
// Specification curve

struct SpecCurve<'a> {
    outcome: &'a str,
    estimate_type: &'a str,
    /// Estimated specifications sorted by estimate.
    rows: Vec<&'a SpecRow>,
    /// Choice rows: label and, per sorted specification, whether it made that choice.
    choices: Vec<(String, Vec<bool>)>,
    source: &'a str,
}

/// The choices a specification made, as (dimension, value) labels.
fn spec_choices(r: &SpecRow) -> [(&'static str, String); 7] {
    [
        ("caliper", r.caliper.map_or("none".to_string(), |c| format!("{c} SD"))),
        ("ratio", format!("{}:1", r.ratio)),
        ("replacement", if r.replace { "with" } else { "without" }.to_string()),
        ("distance", r.distance.as_str().replace('-', " ")),
        ("controls", r.controls.clone()),
        ("follow-up", format!("{} months", r.follow_up_months)),
        ("min. in care", format!("{} months", r.min_months_in_care)),
    ]
}

impl Draw for SpecCurve<'_> {
    fn size(&self) -> (u32, u32) {
        (1100, 420 + 18 * self.choices.len() as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let ratio = self.estimate_type != "risk_difference";
        let title = format!(
            "Specification curve: {} ({})",
            self.outcome.replace('_', " "),
            self.estimate_type.replace('_', " ")
        );
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
    let made_by_all: Vec<[(&'static str, String); 7]> = all.iter().map(|r| spec_choices(r)).collect();
    let made_by_row: Vec<[(&'static str, String); 7]> = rows.iter().map(|r| spec_choices(r)).collect();
    let mut choices: Vec<(String, Vec<bool>)> = Vec::new();
    for d in 0..7 {
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
        outcome.as_str().replace('_', " "),
        rows.len(),
        all.len(),
        estimate_type.replace('_', " "),
        summary.and_then(|s| s.median_estimate).map_or("-".to_string(), fmt),
        share(summary.and_then(|s| s.share_significant_lower)),
        share(summary.and_then(|s| s.share_significant_higher)),
    );
    let name = format!("specification_curve_{outcome}");
    let title = format!("Specification curve: {}", outcome.as_str().replace('_', " "));
    render(&name, &title, alt, &SpecCurve { outcome: outcome.as_str(), estimate_type, rows, choices, source })
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
                .caption(outcome.as_str().replace('_', " "), text_style(16.0))
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
        .map(|m| {
            format!("{} {}", m.outcome.as_str().replace('_', " "), m.ratio.map_or("beyond the grid".to_string(), fmt))
        })
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

/// Pounds with thousands separators (`-£1,125`).
pub fn pounds(x: f64) -> String {
    let v = x.abs().round() as i64;
    let digits = v.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{}£{out}", if x < 0.0 { "-" } else { "" })
}

struct CePlane<'a> {
    v: &'a ValueForMoney,
    source: &'a str,
}

impl Draw for CePlane<'_> {
    fn size(&self) -> (u32, u32) {
        (1100, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let area = frame(
            root,
            "Cost-effectiveness plane: incremental cost against events avoided, per child-year",
            self.source,
        )?;
        let (left, right) = area.split_horizontally(area.dim_in_pixel().0 / 2);
        for (panel, (k, title)) in
            [left, right].iter().zip([(1usize, "Placement moves avoided"), (2, "Social-worker changes avoided")])
        {
            let icer = self.v.icers.iter().find(|i| i.outcome == if k == 1 { "placement_moves" } else { "sw_changes" });
            let xs = self.v.replicates.iter().map(|r| r[k]).chain(icer.map(|i| i.events_avoided));
            let ys = self.v.replicates.iter().map(|r| r[0]).chain(icer.map(|i| i.delta_cost));
            let xm = xs.fold(0.05f64, |m, x| m.max(x.abs())) * 1.1;
            let ym = ys.fold(100.0f64, |m, y| m.max(y.abs())) * 1.1;
            let mut chart = ChartBuilder::on(panel)
                .caption(title, text_style(16.0))
                .margin(8)
                .margin_right(24)
                .x_label_area_size(40)
                .y_label_area_size(80)
                .build_cartesian_2d(-xm..xm, -ym..ym)
                .map_err(e)?;
            chart
                .configure_mesh()
                .x_desc("events avoided per child-year (pilot better to the right)")
                .y_desc("incremental cost per child-year")
                .y_label_formatter(&|y| pounds(*y))
                .x_labels(6)
                .max_light_lines(1)
                .label_style(text_style(13.0))
                .axis_desc_style(text_style(14.0))
                .draw()
                .map_err(e)?;
            for seg in [vec![(-xm, 0.0), (xm, 0.0)], vec![(0.0, -ym), (0.0, ym)]] {
                chart.draw_series(std::iter::once(PathElement::new(seg, DARK.stroke_width(1)))).map_err(e)?;
            }
            chart
                .draw_series(self.v.replicates.iter().map(|r| Circle::new((r[k], r[0]), 2, CONTROL.mix(0.35).filled())))
                .map_err(e)?
                .label("bootstrap replicate (sites resampled within arm)")
                .legend(|(x, y)| Circle::new((x + 9, y), 3, CONTROL.filled()));
            if let Some(i) = icer {
                chart
                    .draw_series(std::iter::once(Circle::new((i.events_avoided, i.delta_cost), 7, PILOT.filled())))
                    .map_err(e)?
                    .label("estimate")
                    .legend(|(x, y)| Circle::new((x + 9, y), 5, PILOT.filled()));
            }
            legend(&mut chart, SeriesLabelPosition::UpperLeft, 12.0)?;
        }
        Ok(())
    }
}

/// The cost-effectiveness plane: the bootstrap replicates and the estimate of incremental cost
/// against events avoided, per placement move and per social-worker change.
pub fn ce_plane(v: &ValueForMoney, source: &str) -> Result<Figure, ChartError> {
    let mut parts = Vec::new();
    for i in &v.icers {
        parts.push(format!(
            "{}: incremental cost {} per child-year, {:.3} events avoided, {:.0}% of replicates avoid events at a saving and {:.0}% at a cost",
            i.outcome.replace('_', " "),
            pounds(i.delta_cost),
            i.events_avoided,
            100.0 * i.quadrants.effective_cheaper,
            100.0 * i.quadrants.effective_dearer
        ));
    }
    let alt =
        format!("Cost-effectiveness planes from {} bootstrap replicates. {}.", v.replicates.len(), parts.join("; "));
    render("ce_plane", "Cost-effectiveness plane", alt, &CePlane { v, source })
}

struct Ceac<'a> {
    v: &'a ValueForMoney,
    source: &'a str,
}

impl Draw for Ceac<'_> {
    fn size(&self) -> (u32, u32) {
        (1100, 520)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let area = frame(
            root,
            "Probability the pilots are cost-effective, by willingness to pay per event avoided",
            self.source,
        )?;
        let max = self.v.ceac.iter().map(|p| p.willingness_to_pay).fold(1.0f64, f64::max);
        let mut chart = ChartBuilder::on(&area)
            .margin(8)
            .margin_right(30)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..max, 0f64..1f64)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("willingness to pay per event avoided")
            .y_desc("probability cost-effective")
            .x_label_formatter(&|x| pounds(*x))
            .y_label_formatter(&|y| format!("{:.0}%", 100.0 * y))
            .max_light_lines(1)
            .label_style(text_style(13.0))
            .axis_desc_style(text_style(14.0))
            .draw()
            .map_err(e)?;
        for (label, colour, pick) in
            [("per placement move avoided", PILOT, 0usize), ("per social-worker change avoided", CONTROL, 1usize)]
        {
            let points: Vec<(f64, f64)> = self
                .v
                .ceac
                .iter()
                .map(|p| (p.willingness_to_pay, if pick == 0 { p.placement_moves } else { p.sw_changes }))
                .collect();
            chart
                .draw_series(LineSeries::new(points, colour.stroke_width(3)))
                .map_err(e)?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3)));
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight, 13.0)?;
        Ok(())
    }
}

/// The cost-effectiveness acceptability curves.
pub fn ceac(v: &ValueForMoney, source: &str) -> Result<Figure, ChartError> {
    let at = |p: &swp_evaluation::results::CeacPoint| {
        format!("{:.0}% and {:.0}%", 100.0 * p.placement_moves, 100.0 * p.sw_changes)
    };
    let alt = format!(
        "Acceptability curves: the share of bootstrap replicates in which the pilots are cost-effective, against willingness to pay per event avoided; at no willingness to pay {}, at the largest ({}) {} (per placement move and per social-worker change avoided).",
        v.ceac.first().map(at).unwrap_or_default(),
        v.ceac.last().map_or(String::new(), |p| pounds(p.willingness_to_pay)),
        v.ceac.last().map(at).unwrap_or_default()
    );
    render("ceac", "Cost-effectiveness acceptability curves", alt, &Ceac { v, source })
}

struct CostTrends<'a> {
    rows: &'a [SpendingRow],
    source: &'a str,
}

impl Draw for CostTrends<'_> {
    fn size(&self) -> (u32, u32) {
        (1100, 520)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let area = frame(root, "Site spending per child-year looked after, by arm and financial year", self.source)?;
        let mut years: Vec<String> = self.rows.iter().map(|r| r.financial_year.clone()).collect();
        years.dedup();
        let n = years.len().max(2);
        let max = self.rows.iter().filter_map(|r| r.cost_per_child_year).fold(1.0f64, f64::max) * 1.15;
        let mut chart = ChartBuilder::on(&area)
            .margin(8)
            .margin_right(30)
            .x_label_area_size(44)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.3f64..(n as f64 - 0.7), 0f64..max)
            .map_err(e)?;
        chart
            .configure_mesh()
            .y_desc("spending per child-year")
            .x_desc("financial year")
            .x_labels(n)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    years.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|y| pounds(*y))
            .label_style(text_style(13.0))
            .axis_desc_style(text_style(14.0))
            .light_line_style(RGBColor(0xEE, 0xEE, 0xEE))
            .draw()
            .map_err(e)?;
        for (arm, colour) in [("pilot", PILOT), ("host", ORANGE), ("comparison", CONTROL)] {
            let points: Vec<(f64, f64)> = self
                .rows
                .iter()
                .filter(|r| r.arm == arm)
                .filter_map(|r| {
                    Some((years.iter().position(|y| *y == r.financial_year)? as f64, r.cost_per_child_year?))
                })
                .collect();
            if points.is_empty() {
                continue;
            }
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(3)))
                .map_err(e)?
                .label(format!("{arm} sites"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3)));
            chart.draw_series(points.iter().map(|p| Circle::new(*p, 5, colour.filled()))).map_err(e)?;
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight, 13.0)?;
        Ok(())
    }
}

/// Site spending per child-year by arm and financial year.
pub fn cost_trends(rows: &[SpendingRow], source: &str) -> Result<Figure, ChartError> {
    let alt = "Line chart by financial year: what pilot, host and comparison sites spent (costs table) per child-year looked after.".to_string();
    render("cost_trends", "Site spending per child-year by arm", alt, &CostTrends { rows, source })
}

/// The source note of every figure.
pub fn source_note(results: &Published) -> String {
    let d = &results.design;
    let data = d.dataset_name.clone().unwrap_or_else(|| "dataset".into());
    let synthetic = if d.synthetic { " — synthetic data, no real children" } else { "" };
    format!(
        "Source: swp-eval {}, {data}{synthetic}; index date {}, follow-up to {}.",
        env!("CARGO_PKG_VERSION"),
        d.index_date,
        d.follow_up_to
    )
}

/// Every figure of the evaluation, in the order the report shows them.
///
/// # Errors
/// A figure that fails to draw.
pub fn figures(results: &Published) -> Result<Vec<Figure>, ChartError> {
    let source = source_note(results);
    let d = &results.design;
    let window = d.follow_up_days;
    let go_lives = &d.go_lives;
    let mut out = vec![
        sample_flow(results, &source)?,
        love_plot(&results.balance, &source)?,
        forest_plot(&results.effects, &source)?,
    ];
    for s in &results.survival {
        out.push(km_plot(s, window, &source)?);
    }
    out.push(trends(&results.monthly, go_lives, &source)?);
    out.push(caseload_distribution(&results.caseload_distribution, &source)?);
    out.push(placement_moves(&results.arm_years, &source)?);
    if let Some(curve) = &results.specification_curve {
        // an outcome no specification could estimate has no curve to draw
        for summary in curve.summary.iter().filter(|s| s.estimated > 0) {
            out.push(specification_curve(curve, summary.outcome, &source)?);
        }
    }
    if let Some(power) = &results.power {
        if !power.rows.is_empty() {
            out.push(power_curves(power, &source)?);
        }
    }
    if let Some(v) = &results.value_for_money {
        if !v.replicates.is_empty() {
            out.push(ce_plane(v, &source)?);
            out.push(ceac(v, &source)?);
        }
        if !v.spending.is_empty() {
            out.push(cost_trends(&v.spending, &source)?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(at_risk: Vec<Option<f64>>) -> Curve {
        Curve {
            time: vec![10.0, 20.0, 30.0],
            survival: vec![0.9, 0.8, 0.6],
            lower: vec![Some(0.8), Some(0.7), Some(0.45)],
            upper: vec![Some(1.0), Some(0.9), Some(0.75)],
            median: None,
            at_risk_times: vec![1.0, 183.0],
            at_risk,
        }
    }

    #[test]
    fn km_plot_shows_suppressed_numbers_at_risk_as_c_and_is_deterministic() {
        let result = SurvivalResult {
            outcome: Outcome::TimeToSwChange,
            treated: curve(vec![Some(40.0), None]),
            control: curve(vec![Some(41.0), Some(17.0)]),
            test: "log_rank",
            chi_square: Some(1.5),
            p_value: Some(0.22),
        };
        let a = km_plot(&result, 365.0, "Source: test").unwrap();
        let b = km_plot(&result, 365.0, "Source: test").unwrap();
        assert_eq!(a, b, "same input, same bytes");
        assert!(a.svg.contains("\nc\n") && a.svg.contains("\n40\n") && a.svg.contains("\n17\n"));
        assert!(a.svg.contains("Source: test") && a.svg.contains("days since the index date"));
        assert_eq!(&a.png[..8], b"\x89PNG\r\n\x1a\n");
        assert!(a.alt.contains("not reached"));
    }

    /// A specification curve with no estimated specification draws an empty chart, not a panic.
    #[test]
    fn a_specification_curve_without_estimates_draws() {
        let curve = SpecificationCurve { rows: Vec::new(), summary: Vec::new() };
        let f = specification_curve(&curve, Outcome::SwChanges, "Source: test").unwrap();
        assert!(f.svg.contains("0 specifications"));
    }
}
