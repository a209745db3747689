//! Descriptive figures: caseload and turnover trends with the go-lives, the caseload distribution, placement moves by arm and year, and one metric by period (`metrics --chart`).

use super::*;

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
