//! Figures of value for money: the cost-effectiveness plane, the acceptability curve and site spending by arm.

use super::*;

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
