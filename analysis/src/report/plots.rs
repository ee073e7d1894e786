//! Drawing with plotters' SVG backend into strings: phase bars with 95 % confidence
//! intervals, and a run's timeline panels with the migration phases shaded.

use super::series::Panel;
use crate::error::AnalysisError;
use crate::judge::Window;
use crate::stats::Stats;
use plotters::prelude::*;

/// Colours of preoperation, downtime, postoperation, total (bars) and the phase shading.
pub const PHASE_COLORS: [RGBColor; 4] = [
    RGBColor(230, 171, 2),
    RGBColor(217, 72, 1),
    RGBColor(117, 112, 179),
    RGBColor(102, 102, 102),
];
const COOLDOWN: RGBColor = RGBColor(150, 190, 230);
const LINE: RGBColor = RGBColor(31, 119, 180);
const STALL: RGBColor = RGBColor(214, 39, 40);

/// The largest magnitude an axis shows (seconds, ms, kbit/s...: 1e12 s is 30,000
/// years). plotters' tick computation never ends on an infinite or astronomically
/// wide range (a `downtime_ms` of 1e155 in a summary made `report` spin forever: its
/// variance overflows to infinity), and it maps a value far outside the axis to a
/// pixel with an overflowing `i32` addition; so every axis is bounded and every value
/// drawn is first brought onto its axis ([`Axis::clip`]): beyond it, at its edge.
const AXIS_LIMIT: f64 = 1e12;

/// A finite, non-empty axis range within [`AXIS_LIMIT`].
#[derive(Debug, Clone, Copy)]
struct Axis {
    lo: f64,
    hi: f64,
}

impl Axis {
    fn new(lo: f64, hi: f64) -> Self {
        let bound = |v: f64| {
            if v.is_nan() {
                0.0
            } else {
                v.clamp(-AXIS_LIMIT, AXIS_LIMIT)
            }
        };
        let (lo, hi) = (bound(lo), bound(hi));
        let hi = if hi > lo { hi } else { lo + 1.0 };
        Self { lo, hi }
    }

    /// `v` on the axis (NaN at its low end).
    fn clip(self, v: f64) -> f64 {
        if v.is_nan() {
            self.lo
        } else {
            v.clamp(self.lo, self.hi)
        }
    }
}

fn plot_err(what: &str) -> impl Fn(String) -> AnalysisError + '_ {
    move |detail| AnalysisError::Plot {
        what: what.to_string(),
        detail,
    }
}

/// One group of bars: its label and the stats of each phase (None: no value).
pub type BarGroup = (String, Vec<Option<Stats>>);

/// Width in pixels of a bar chart with `groups` clusters of the four phases.
pub fn bars_width(groups: usize) -> u32 {
    (160 + 180 * groups as u32).clamp(480, 1300)
}

/// Clustered bars (one cluster per group, one bar per series, coloured by
/// [`PHASE_COLORS`]; the key is the report's HTML) with 95 % CI whiskers; values in
/// seconds.
pub fn phase_bars(
    title: &str,
    series: &[&str],
    groups: &[BarGroup],
) -> Result<String, AnalysisError> {
    bars(title, series.len(), &PHASE_COLORS, groups, Scale::Linear)
}

/// The y axis of [`bars`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// From 0.
    Linear,
    /// Decades, so that milliseconds and minutes show in one plot.
    Log,
}

/// Colours of up to eight series (flavor x mode in the study's figures).
pub const SERIES_COLORS: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(174, 199, 232),
    RGBColor(255, 127, 14),
    RGBColor(255, 187, 120),
    RGBColor(44, 160, 44),
    RGBColor(152, 223, 138),
    RGBColor(214, 39, 40),
    RGBColor(255, 152, 150),
];

/// Clustered bars of `n_series` series coloured by `colors` (in turn) on a `scale`
/// axis, with 95 % CI whiskers; values in seconds.
pub fn bars(
    title: &str,
    n_series: usize,
    colors: &[RGBColor],
    groups: &[BarGroup],
    scale: Scale,
) -> Result<String, AnalysisError> {
    let err = plot_err(title);
    let mut svg = String::new();
    let width = bars_width(groups.len());
    {
        let root = SVGBackend::with_string(&mut svg, (width, 300)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let values = || groups.iter().flat_map(|g| g.1.iter().flatten());
        let top = values()
            .map(|s| s.ci_high() / 1000.0)
            .fold(0.0f64, f64::max)
            .clamp(1e-3, AXIS_LIMIT);
        // On a log axis y is log10(seconds), from the decade below half the smallest
        // mean (so that the shortest bar keeps some height).
        let floor = (values()
            .map(|s| s.mean / 1000.0)
            .filter(|v| *v > 0.0)
            .fold(top, f64::min)
            / 2.0)
            .log10()
            .floor();
        let (ylo, yhi) = match scale {
            Scale::Linear => (0.0, top * 1.1),
            Scale::Log => (floor, top.log10().ceil().max(floor + 1.0)),
        };
        let axis = Axis::new(ylo, yhi);
        let (ylo, yhi) = (axis.lo, axis.hi);
        let y = |v: f64| {
            axis.clip(match scale {
                Scale::Linear => v,
                Scale::Log => v.max(10f64.powf(floor)).log10(),
            })
        };
        let n = groups.len().max(1) as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5f64..n - 0.5, ylo..yhi)
            .map_err(|e| err(e.to_string()))?;
        let decade = |v: &f64| format!("{}", 10f64.powf(*v));
        let blank = |_: &f64| String::new();
        let mut mesh = chart.configure_mesh();
        mesh.disable_x_mesh()
            .x_labels(0)
            .x_label_formatter(&blank)
            .y_desc(match scale {
                Scale::Linear => "seconds (mean, 95 % CI)",
                Scale::Log => "seconds, log scale (mean, 95 % CI)",
            });
        if scale == Scale::Log {
            mesh.y_labels((yhi - ylo) as usize + 1)
                .y_label_formatter(&decade);
        }
        mesh.draw().map_err(|e| err(e.to_string()))?;
        let k = n_series.max(1) as f64;
        let bw = 0.8 / k;
        for (gi, (_, stats)) in groups.iter().enumerate() {
            for (si, st) in stats.iter().enumerate() {
                let Some(st) = st else { continue };
                let color = colors[si % colors.len()];
                let x0 = gi as f64 - 0.4 + si as f64 * bw;
                let (x1, xm) = (x0 + bw * 0.9, x0 + bw * 0.45);
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(x0, ylo), (x1, y(st.mean / 1000.0))],
                        color.filled(),
                    )))
                    .map_err(|e| err(e.to_string()))?;
                if st.ci95.is_some() {
                    let (lo, hi) = (
                        y(st.ci_low().max(0.0) / 1000.0).max(ylo),
                        y(st.ci_high() / 1000.0),
                    );
                    let cap = bw * 0.2;
                    let whisker = vec![
                        PathElement::new(vec![(xm, lo), (xm, hi)], BLACK.stroke_width(1)),
                        PathElement::new(
                            vec![(xm - cap, lo), (xm + cap, lo)],
                            BLACK.stroke_width(1),
                        ),
                        PathElement::new(
                            vec![(xm - cap, hi), (xm + cap, hi)],
                            BLACK.stroke_width(1),
                        ),
                    ];
                    chart.draw_series(whisker).map_err(|e| err(e.to_string()))?;
                }
            }
        }
        for (gi, (label, _)) in groups.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(gi as f64, ylo));
            let style = ("sans-serif", 13).into_font().color(&BLACK).pos(
                plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Center,
                    plotters::style::text_anchor::VPos::Top,
                ),
            );
            root.draw(&Text::new(label.clone(), (px, py + 8), style))
                .map_err(|e| err(e.to_string()))?;
        }
        root.present().map_err(|e| err(e.to_string()))?;
    }
    Ok(svg)
}

/// A run's timeline: one panel per quantity, the migration phases shaded
/// (preoperation, downtime, postoperation, cool-down), interruptions in red.
pub fn timeline(
    title: &str,
    panels: &[Panel],
    window: Option<&Window>,
) -> Result<String, AnalysisError> {
    let err = plot_err(title);
    let mut svg = String::new();
    let h = 40 + 170 * panels.len() as u32;
    {
        let root = SVGBackend::with_string(&mut svg, (1000, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(e.to_string()))?;
        let root = root
            .titled(title, ("sans-serif", 16))
            .map_err(|e| err(e.to_string()))?;
        let xmax = panels
            .iter()
            .flat_map(|p| {
                p.points
                    .iter()
                    .map(|q| q.0)
                    .chain(p.bands.iter().map(|b| b.1))
            })
            .chain(window.map(|w| w.end_ns as f64 / 1e9))
            .fold(1.0f64, f64::max);
        let x = Axis::new(0.0, xmax);
        let xmax = x.hi;
        let areas = root.split_evenly((panels.len().max(1), 1));
        for (panel, area) in panels.iter().zip(areas.iter()) {
            let (lo, hi) = panel
                .points
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                    (a.min(p.1), b.max(p.1))
                });
            let lo = if lo.is_finite() { lo.min(0.0) } else { 0.0 };
            let hi = if hi.is_finite() && hi > lo {
                hi * 1.1
            } else {
                lo + 1.0
            };
            let y = Axis::new(lo, hi);
            let (lo, hi) = (y.lo, y.hi);
            let at = |p: &(f64, f64)| (x.clip(p.0), y.clip(p.1));
            let mut chart = ChartBuilder::on(area)
                .caption(&panel.title, ("sans-serif", 13))
                .margin(6)
                .x_label_area_size(28)
                .y_label_area_size(60)
                .build_cartesian_2d(0f64..xmax, lo..hi)
                .map_err(|e| err(e.to_string()))?;
            chart
                .configure_mesh()
                .x_desc("seconds since the run's start")
                .y_desc(panel.y_desc.as_str())
                .light_line_style(WHITE.mix(0.0))
                .draw()
                .map_err(|e| err(e.to_string()))?;
            if let Some(w) = window {
                let s = |ns: Option<u64>| ns.map(|v| v as f64 / 1e9);
                let req = w.requested_ns as f64 / 1e9;
                let marks = [
                    Some(req),
                    s(w.paused_ns),
                    s(w.resumed_ns),
                    s(w.reattached_ns),
                ];
                let mut shades = Vec::new();
                for i in 0..3 {
                    if let (Some(a), Some(b)) = (marks[i], marks[i + 1]) {
                        shades.push((a, b.max(a), PHASE_COLORS[i].mix(0.3)));
                    }
                }
                let end = w.end_ns as f64 / 1e9;
                if marks[1].is_none() {
                    // never paused: the whole window is preoperation
                    shades.push((req, end, PHASE_COLORS[0].mix(0.3)));
                } else {
                    let last = marks.iter().rev().flatten().next().copied().unwrap_or(req);
                    shades.push((last, end, COOLDOWN.mix(0.2)));
                }
                chart
                    .draw_series(shades.into_iter().map(|(a, b, c)| {
                        let (a, b) = (x.clip(a), x.clip(b.max(a + xmax * 0.002)));
                        Rectangle::new([(a, lo), (b, hi)], c.filled())
                    }))
                    .map_err(|e| err(e.to_string()))?;
            }
            chart
                .draw_series(panel.bands.iter().map(|&(a, b)| {
                    let (a, b) = (x.clip(a), x.clip(b.max(a + xmax * 0.002)));
                    Rectangle::new([(a, lo), (b, hi)], STALL.mix(0.25).filled())
                }))
                .map_err(|e| err(e.to_string()))?;
            if panel.dots {
                chart
                    .draw_series(
                        panel
                            .points
                            .iter()
                            .map(|p| Circle::new(at(p), 2, LINE.filled())),
                    )
                    .map_err(|e| err(e.to_string()))?;
            } else {
                chart
                    .draw_series(LineSeries::new(
                        panel.points.iter().map(at),
                        LINE.stroke_width(2),
                    ))
                    .map_err(|e| err(e.to_string()))?;
            }
        }
        root.present().map_err(|e| err(e.to_string()))?;
    }
    Ok(svg)
}
