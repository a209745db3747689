//! The event study of a staggered difference-in-differences: effects by event time with their
//! intervals, pre-treatment periods included (`did --chart` and the report's site level).

use super::*;

/// One event time of an [`EventStudy`].
#[derive(Debug, Clone, PartialEq)]
pub struct EventPoint {
    /// Event time e = t - g.
    pub event: i64,
    /// The effect at e.
    pub att: f64,
    /// Lower end of its interval (None: no standard error, e.g. the universal base).
    pub low: Option<f64>,
    /// Upper end.
    pub high: Option<f64>,
}

/// An event study to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct EventStudy {
    /// File stem, e.g. `event_study_turnover_rate`.
    pub name: String,
    /// Title.
    pub title: String,
    /// The y axis (what the effect is on).
    pub y_label: String,
    /// The event times, increasing.
    pub points: Vec<EventPoint>,
    /// Anticipation periods: event times -δ..-1 are drawn apart, neither before nor after.
    pub anticipation: i64,
    /// What the legend calls those periods.
    pub anticipation_label: String,
    /// The pre-trend Wald test: statistic, df, p.
    pub pretrend: Option<(f64, usize, f64)>,
}

struct Draws<'a> {
    study: &'a EventStudy,
    source: &'a str,
}

impl Draw for Draws<'_> {
    fn size(&self) -> (u32, u32) {
        (1000, 600)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let s = self.study;
        let area = frame(root, &s.title, self.source)?;
        let lo_e = s.points.iter().map(|p| p.event).min().unwrap_or(-1).min(-1) as f64 - 0.6;
        let hi_e = s.points.iter().map(|p| p.event).max().unwrap_or(0).max(0) as f64 + 0.6;
        let values = s.points.iter().flat_map(|p| [Some(p.att), p.low, p.high]).flatten();
        let (mut lo, mut hi) = values.fold((0.0f64, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
        let pad = ((hi - lo) * 0.08).max(1e-9);
        lo -= pad;
        hi += pad;
        let mut chart = ChartBuilder::on(&area)
            .x_label_area_size(44)
            .y_label_area_size(80)
            .margin_right(20)
            .margin_top(10)
            .build_cartesian_2d(lo_e..hi_e, lo..hi)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("event time e = period - first treated period")
            .y_desc(s.y_label.as_str())
            .x_labels(((hi_e - lo_e) as usize + 1).min(16))
            .x_label_formatter(&|x| {
                let r = x.round();
                if (x - r).abs() < 1e-6 {
                    format!("{r:.0}")
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|y| fmt(*y))
            .label_style(text_style(13.0))
            .axis_desc_style(text_style(14.0))
            .light_line_style(RGBColor(0xEE, 0xEE, 0xEE))
            .draw()
            .map_err(e)?;
        chart
            .draw_series(std::iter::once(PathElement::new(vec![(lo_e, 0.0), (hi_e, 0.0)], DARK.stroke_width(1))))
            .map_err(e)?;
        // the last period wholly before treatment: e = -1, or -1 - δ with anticipation
        let base = -1.0 - s.anticipation as f64;
        for seg in dashes((base, lo), (base, hi), 30, |a, b| (a, b)) {
            chart.draw_series(std::iter::once(PathElement::new(seg, GREY.stroke_width(2)))).map_err(e)?;
        }
        // 0 before treatment, 1 anticipation, 2 after
        let phase = |p: &EventPoint| {
            if p.event >= 0 {
                2
            } else if p.event >= -s.anticipation {
                1
            } else {
                0
            }
        };
        let phases = [
            (0, CONTROL, "before treatment (pre-trend)"),
            (1, PURPLE, s.anticipation_label.as_str()),
            (2, PILOT, "after treatment"),
        ];
        for (which, colour, label) in phases {
            let points: Vec<&EventPoint> = s.points.iter().filter(|p| phase(p) == which).collect();
            if points.is_empty() {
                continue;
            }
            for p in &points {
                if let (Some(l), Some(h)) = (p.low, p.high) {
                    let x = p.event as f64;
                    chart
                        .draw_series(std::iter::once(PathElement::new(vec![(x, l), (x, h)], colour.stroke_width(2))))
                        .map_err(e)?;
                }
            }
            chart
                .draw_series(points.iter().map(|p| Circle::new((p.event as f64, p.att), 5, colour.filled())))
                .map_err(e)?
                .label(label)
                .legend(move |(x, y)| Circle::new((x + 10, y), 5, colour.filled()));
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft, 13.0)?;
        let note = match s.pretrend {
            Some((w, df, p)) => {
                let p = fmt_p(Some(p));
                let p = p.strip_prefix('<').map_or(format!("p = {p}"), |rest| format!("p < {rest}"));
                format!("Pre-trend test: chi-square {} on {df} df, {p}", fmt(w))
            }
            None => "Pre-trend test: no pre-treatment event time to test".to_string(),
        };
        let (w, _) = area.dim_in_pixel();
        area.draw(&Text::new(note, (w as i32 - 420, 4), text_style(13.0))).map_err(e)?;
        Ok(())
    }
}

/// Effects by event time with 95% intervals (pre-treatment in blue, anticipation in purple,
/// after in vermillion), a line at 0 and a dashed line at the last period wholly before
/// treatment (e = -1, or -1 - δ with δ periods of anticipation).
pub fn event_study(study: &EventStudy, source: &str) -> Result<Figure, ChartError> {
    let pre = study.points.iter().filter(|p| p.event < -study.anticipation).count();
    let alt = format!(
        "Event study of {}: the estimated effect at each of {} event times ({pre} before treatment) with 95% intervals, against a line at zero.",
        study.y_label,
        study.points.len()
    );
    render(&study.name, &study.title, alt, &Draws { study, source })
}
