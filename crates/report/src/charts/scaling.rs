//! The benchmarks' scaling curves (log-log, one panel per command).

use super::*;

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
