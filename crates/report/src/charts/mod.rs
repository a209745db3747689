//! The evaluation's figures, each drawn once by generic code and rendered twice: SVG (inline in
//! report.html) and PNG (for documents). Text uses the bundled DejaVu Sans (no system font
//! lookup), colours the Okabe-Ito palette (safe for colour-blind readers). Every figure has a
//! title, axis units and a source note; a suppressed count is never drawn or labelled.
//!
//! Each figure is a function of the evaluation's result types ([`figures`] makes all of them);
//! nothing here computes a statistic.

mod did;
mod effects;
pub(crate) mod matching;
mod robustness;
mod scaling;
mod trends;
mod value;

pub use did::{event_study, EventPoint, EventStudy};
pub use effects::{forest_plot, km_plot};
pub use matching::{love_plot, sample_flow};
pub use robustness::{power_curves, specification_curve};
pub use scaling::{scaling_curves, ScalingPanel, ScalingSeries};
pub use trends::{caseload_distribution, metric_chart, placement_moves, trends, MetricSeries, Point};
pub use value::{ce_plane, ceac, cost_trends};

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
static DEJAVU: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");

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
        encoder.set_compression(png::Compression::Default);
        let mut writer = encoder.write_header().map_err(|x| fail(x.to_string()))?;
        writer.write_image_data(&buffer).map_err(|x| fail(x.to_string()))?;
    }
    Ok(Figure { name: name.to_string(), title: title.to_string(), alt, svg, png: png_bytes })
}

fn text_style(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font()).color(&DARK)
}

/// Title at the top, source note at the bottom (wrapped at words to the figure's width, its
/// last line where a one-line note sits); returns the area between them.
fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    source: &str,
) -> Result<DrawingArea<DB, Shift>, String> {
    root.fill(&WHITE).map_err(e)?;
    let (w, h) = root.dim_in_pixel();
    root.draw(&Text::new(title.to_string(), (16, 12), text_style(22.0))).map_err(e)?;
    let style = text_style(13.0).color(&GREY);
    let width = |text: &str| root.estimate_text_size(text, &style).map(|(x, _)| x).map_err(e);
    let lines = wrap(source, w.saturating_sub(32), width)?;
    const LINE: i32 = 17;
    let first = h as i32 - 22 - LINE * (lines.len() as i32 - 1);
    for (i, line) in lines.iter().enumerate() {
        root.draw(&Text::new(line.clone(), (16, first + LINE * i as i32), style.clone())).map_err(e)?;
    }
    Ok(root.margin(46, 34 + LINE as u32 * (lines.len().max(1) as u32 - 1), 10, 20))
}

/// `text` in lines no wider than `max` (by `width`), broken between words; a single word
/// wider than `max` keeps a line of its own.
fn wrap(text: &str, max: u32, width: impl Fn(&str) -> Result<u32, String>) -> Result<Vec<String>, String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let candidate = if line.is_empty() { word.to_string() } else { format!("{line} {word}") };
        if line.is_empty() || width(&candidate)? <= max {
            line = candidate;
        } else {
            lines.push(std::mem::replace(&mut line, word.to_string()));
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    Ok(lines)
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
    crate::format::p_value(p, crate::format::PStyle::Figure)
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

/// The source note of every figure.
pub fn source_note(results: &Published) -> String {
    let d = &results.design;
    let data = d.dataset_name.clone().unwrap_or_else(|| "dataset".into());
    let synthetic = if d.synthetic { " — synthetic data, no real children" } else { "" };
    format!("Source: swp-eval {}, {data}{synthetic}; {}.", env!("CARGO_PKG_VERSION"), d.index_text())
}

/// Every figure of the evaluation, in the order the report shows them.
///
/// # Errors
/// A figure that fails to draw.
pub fn figures(results: &Published) -> Result<Vec<Figure>, ChartError> {
    use rayon::prelude::*;
    let source = &source_note(results);
    let d = &results.design;
    let window = d.longest_follow_up_days();
    let go_lives = &d.go_lives;
    // each figure drawn (SVG and PNG) on its own, in parallel, collected in this order
    type Job<'a> = Box<dyn Fn() -> Result<Figure, ChartError> + Send + Sync + 'a>;
    let mut jobs: Vec<Job<'_>> = vec![
        Box::new(move || sample_flow(results, source)),
        Box::new(move || love_plot(&results.balance, source)),
        Box::new(move || forest_plot(&results.effects, source)),
    ];
    let few_sites = d.treated_sites.len() < 10;
    for s in &results.survival {
        jobs.push(Box::new(move || km_plot(s, window, few_sites, source)));
    }
    jobs.push(Box::new(move || trends(&results.monthly, go_lives, source)));
    jobs.push(Box::new(move || caseload_distribution(&results.caseload_distribution, source)));
    jobs.push(Box::new(move || placement_moves(&results.arm_years, source)));
    for study in event_studies(results) {
        jobs.push(Box::new(move || event_study(&study, source)));
    }
    if let Some(curve) = &results.specification_curve {
        // an outcome no specification could estimate has no curve to draw
        for summary in curve.summary.iter().filter(|s| s.estimated > 0) {
            jobs.push(Box::new(move || specification_curve(curve, summary.outcome, source)));
        }
    }
    if let Some(power) = &results.power {
        if !power.rows.is_empty() {
            jobs.push(Box::new(move || power_curves(power, source)));
        }
    }
    if let Some(v) = &results.value_for_money {
        if !v.replicates.is_empty() {
            jobs.push(Box::new(move || ce_plane(v, source)));
            jobs.push(Box::new(move || ceac(v, source)));
        }
        if !v.spending.is_empty() {
            jobs.push(Box::new(move || cost_trends(&v.spending, source)));
        }
    }
    jobs.par_iter().map(|job| job()).collect()
}

/// The event study of each site metric (all pilots, Callaway and Sant'Anna's dynamic effects
/// with their pre-trend test); metrics with no event time are left out.
pub fn event_studies(results: &Published) -> Vec<EventStudy> {
    let mut out: Vec<EventStudy> = Vec::new();
    let staggered = results.site_did.iter().filter(|d| d.pilots == "all" && d.estimator == "cs");
    for d in staggered {
        let study = match out.iter_mut().find(|s| s.name == format!("event_study_{}", d.metric)) {
            Some(s) => s,
            None => {
                let what = d.metric.replace('_', " ");
                out.push(EventStudy {
                    name: format!("event_study_{}", d.metric),
                    title: format!("Event study: {what}, pilot sites against comparison sites"),
                    y_label: format!("change in {what}"),
                    points: Vec::new(),
                    anticipation: d.anticipation.unwrap_or_default(),
                    anticipation_label: "go-live year (partly under the pilot; not pooled)".into(),
                    pretrend: None,
                });
                out.last_mut().expect("just pushed")
            }
        };
        match (d.kind.as_str(), d.event, d.estimate) {
            ("dynamic", Some(event), Some(att)) => {
                study.points.push(EventPoint { event, att, low: d.ci_low, high: d.ci_high });
            }
            ("pretrend", _, Some(w)) => {
                study.pretrend = Some((w, d.df.unwrap_or_default() as usize, d.p_value.unwrap_or(f64::NAN)));
            }
            _ => {}
        }
    }
    out.retain(|s| !s.points.is_empty());
    out
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

    /// A source note wider than the figure is wrapped between words, every line within the
    /// width (by the same text measure), and no word is lost.
    #[test]
    fn a_long_source_note_wraps_within_the_figure() {
        let width = |t: &str| Ok(t.chars().count() as u32 * 7);
        let note = "Source: swp-eval 0.1.0, synthetic small (seed 2009) (anonymised); each pilot indexed on its own go-live (2009-09-01 to 2010-05-04), follow-up to 2012-05-03.";
        let lines = wrap(note, 420, width).unwrap();
        assert!(lines.len() >= 3, "{lines:?}");
        assert!(lines.iter().all(|l| width(l).unwrap() <= 420), "{lines:?}");
        assert_eq!(lines.join(" "), note);
        assert_eq!(wrap("short", 420, width).unwrap(), vec!["short".to_string()]);
        assert_eq!(wrap("", 420, width).unwrap(), vec![String::new()]);
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
        let a = km_plot(&result, 365.0, true, "Source: test").unwrap();
        let b = km_plot(&result, 365.0, true, "Source: test").unwrap();
        assert_eq!(a, b, "same input, same bytes");
        assert!(a.svg.contains("\nc\n") && a.svg.contains("\n40\n") && a.svg.contains("\n17\n"));
        assert!(a.svg.contains("Source: test") && a.svg.contains("days since the index date"));
        assert_eq!(&a.png[..8], b"\x89PNG\r\n\x1a\n");
        assert!(a.alt.contains("not reached"));
        // with few sites the curves' test carries its caveat; with many it does not
        assert!(a.svg.contains("rejects too often"));
        assert!(!km_plot(&result, 365.0, false, "Source: test").unwrap().svg.contains("rejects too often"));
    }

    /// A specification curve with no estimated specification draws an empty chart, not a panic.
    #[test]
    fn a_specification_curve_without_estimates_draws() {
        let curve = SpecificationCurve { rows: Vec::new(), summary: Vec::new() };
        let f = specification_curve(&curve, Outcome::SwChanges, "Source: test").unwrap();
        assert!(f.svg.contains("0 specifications"));
    }
}
