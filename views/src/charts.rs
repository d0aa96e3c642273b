//! Server-rendered SVG charts: horizontal bars (one or more bars a row, an optional mark per row)
//! and a step chart of values over time. Each is `role="img"` with a title and a description
//! naming every figure; pages show the same figures as a table beside it.

use maud::{html, Markup};

/// One bar: its value (for its length), the words drawn beside it, and its CSS class.
#[derive(Debug, Clone)]
pub struct Bar {
    pub value: f64,
    pub text: String,
    pub class: &'static str,
}

/// One row of bars under a label, with an optional mark (a threshold) across it.
#[derive(Debug, Clone)]
pub struct BarRow {
    pub label: String,
    pub bars: Vec<Bar>,
    pub mark: Option<f64>,
}

/// A horizontal bar chart. `id` names the title and description (`{id}-title`, `{id}-desc`).
#[derive(Debug, Clone)]
pub struct BarChart<'a> {
    pub id: &'a str,
    /// Extra classes of the `svg` (besides `chart`).
    pub class: &'a str,
    pub title: &'a str,
    pub description: String,
    pub rows: &'a [BarRow],
    pub label_width: u32,
    pub bar_width: u32,
    /// The height of one bar; rows are as tall as their bars and 8 more.
    pub bar_height: u32,
    /// Words at both ends of an axis under the bars (`0 weeks` … `12 weeks`), if any.
    pub axis: Option<(String, String)>,
    /// The largest value the axis reaches; by default the largest bar or mark.
    pub max: Option<f64>,
}

impl BarChart<'_> {
    fn max(&self) -> f64 {
        self.max.unwrap_or_else(|| {
            self.rows
                .iter()
                .flat_map(|r| r.bars.iter().map(|b| b.value).chain(r.mark))
                .fold(0.0_f64, f64::max)
        })
    }
}

fn px(v: f64) -> String {
    format!("{v:.1}")
}

/// The chart as SVG.
pub fn bar_chart(chart: &BarChart) -> Markup {
    let max = chart.max();
    let bar_width = f64::from(chart.bar_width);
    let scale = |v: f64| -> f64 {
        if max <= 0.0 || !v.is_finite() {
            0.0
        } else {
            (v.max(0.0) / max).min(1.0) * bar_width
        }
    };
    let bars_a_row = chart.rows.iter().map(|r| r.bars.len()).max().unwrap_or(1);
    let bars_a_row = u32::try_from(bars_a_row.max(1)).unwrap_or(1);
    let row_height = bars_a_row * (chart.bar_height + 4) + 8;
    let rows = u32::try_from(chart.rows.len()).unwrap_or(0);
    let axis_height = if chart.axis.is_some() { 26 } else { 0 };
    let height = row_height * rows + 8 + axis_height;
    let width = chart.label_width + chart.bar_width + 130;
    let left = f64::from(chart.label_width);
    let class = format!("chart {}", chart.class);
    html! {
        svg class=(class.trim()) role="img" aria-labelledby={ (chart.id) "-title " (chart.id) "-desc" }
            viewBox={ "0 0 " (width) " " (height) } width=(width) height=(height)
            xmlns="http://www.w3.org/2000/svg" {
            title id={ (chart.id) "-title" } { (chart.title) }
            desc id={ (chart.id) "-desc" } { (chart.description) }
            @for (i, row) in chart.rows.iter().enumerate() {
                @let y = u32::try_from(i).unwrap_or(0) * row_height + 4;
                text x="0" y=(y + (row_height - 8) / 2 + 5) { (row.label) }
                @for (j, bar) in row.bars.iter().enumerate() {
                    @let top = y + u32::try_from(j).unwrap_or(0) * (chart.bar_height + 4);
                    @let w = scale(bar.value);
                    rect class={ "bar " (bar.class) } x=(chart.label_width) y=(top)
                        width=(px(w)) height=(chart.bar_height) {}
                    text x=(px(left + w + 6.0)) y=(top + chart.bar_height / 2 + 5) { (bar.text) }
                }
                @if let Some(mark) = row.mark {
                    @let x = left + scale(mark);
                    line.threshold x1=(px(x)) y1=(y.saturating_sub(2)) x2=(px(x)) y2=(y + row_height - 6) {}
                }
            }
            @if let Some((low, high)) = &chart.axis {
                @let base = height - axis_height;
                line.axis x1=(chart.label_width) y1=(base + 2) x2=(chart.label_width + chart.bar_width) y2=(base + 2) {}
                text x=(chart.label_width) y=(height - 6) { (low) }
                text x=(chart.label_width + chart.bar_width) y=(height - 6) text-anchor="end" { (high) }
            }
        }
    }
}

/// One point of a step chart: its label on the horizontal axis, its value and the words for it.
#[derive(Debug, Clone)]
pub struct Point {
    pub label: String,
    pub value: f64,
    pub text: String,
}

/// A step chart of one series over time (each value holds until the next), with a zero line
/// when values go below zero.
#[derive(Debug, Clone)]
pub struct StepChart<'a> {
    pub id: &'a str,
    pub class: &'a str,
    pub title: &'a str,
    pub description: String,
    pub points: &'a [Point],
    /// Words for the top and bottom of the vertical axis are worked out from the values with
    /// this: `format(value)`.
    pub axis_text: fn(f64) -> String,
}

const STEP_WIDTH: f64 = 56.0;
const PLOT_HEIGHT: f64 = 180.0;
const LEFT: f64 = 90.0;
const TOP: f64 = 12.0;

/// The chart as SVG.
pub fn step_chart(chart: &StepChart) -> Markup {
    let values = chart.points.iter().map(|p| p.value);
    let high = values.clone().fold(0.0_f64, f64::max);
    let low = values.fold(0.0_f64, f64::min);
    let span = if high - low > 0.0 { high - low } else { 1.0 };
    let y_of = |v: f64| TOP + (high - v) / span * PLOT_HEIGHT;
    let count = chart.points.len().max(1);
    let plot_width = STEP_WIDTH * count as f64;
    let width = LEFT + plot_width + 20.0;
    let height = TOP + PLOT_HEIGHT + 40.0;
    let mut path = String::new();
    for (i, p) in chart.points.iter().enumerate() {
        let x0 = LEFT + STEP_WIDTH * i as f64;
        let y = y_of(p.value);
        if i == 0 {
            path.push_str(&format!("M{} {}", px(x0), px(y)));
        } else {
            path.push_str(&format!(" L{} {}", px(x0), px(y)));
        }
        path.push_str(&format!(" L{} {}", px(x0 + STEP_WIDTH), px(y)));
    }
    let class = format!("chart {}", chart.class);
    html! {
        svg class=(class.trim()) role="img" aria-labelledby={ (chart.id) "-title " (chart.id) "-desc" }
            viewBox={ "0 0 " (px(width)) " " (px(height)) } width=(px(width)) height=(px(height))
            xmlns="http://www.w3.org/2000/svg" {
            title id={ (chart.id) "-title" } { (chart.title) }
            desc id={ (chart.id) "-desc" } { (chart.description) }
            line.axis x1=(px(LEFT)) y1=(px(TOP)) x2=(px(LEFT)) y2=(px(TOP + PLOT_HEIGHT)) {}
            line.axis x1=(px(LEFT)) y1=(px(y_of(0.0))) x2=(px(LEFT + plot_width)) y2=(px(y_of(0.0))) {}
            text x=(px(LEFT - 6.0)) y=(px(TOP + 5.0)) text-anchor="end" { ((chart.axis_text)(high)) }
            text x=(px(LEFT - 6.0)) y=(px(TOP + PLOT_HEIGHT + 5.0)) text-anchor="end" { ((chart.axis_text)(low)) }
            @if !chart.points.is_empty() {
                path.line d=(path) {}
            }
            @for (i, p) in chart.points.iter().enumerate() {
                @let x = LEFT + STEP_WIDTH * i as f64 + STEP_WIDTH / 2.0;
                circle.point cx=(px(x)) cy=(px(y_of(p.value))) r="3" {}
                text x=(px(x)) y=(px(TOP + PLOT_HEIGHT + 22.0)) text-anchor="middle" { (p.label) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_scaled_to_the_largest_and_described() {
        let rows = vec![
            BarRow {
                label: "Personal care".into(),
                bars: vec![Bar {
                    value: 100.0,
                    text: "£100.00".into(),
                    class: "planned",
                }],
                mark: None,
            },
            BarRow {
                label: "Respite <b>".into(),
                bars: vec![Bar {
                    value: 50.0,
                    text: "£50.00".into(),
                    class: "planned",
                }],
                mark: Some(25.0),
            },
        ];
        let svg = bar_chart(&BarChart {
            id: "c",
            class: "",
            title: "Planned",
            description: "Personal care £100.00; Respite £50.00.".into(),
            rows: &rows,
            label_width: 200,
            bar_width: 400,
            bar_height: 20,
            axis: None,
            max: None,
        })
        .into_string();
        assert!(svg.contains(r#"role="img""#), "{svg}");
        assert!(svg.contains(r#"aria-labelledby="c-title c-desc""#), "{svg}");
        assert!(svg.contains(r#"width="400.0""#), "{svg}");
        assert!(svg.contains(r#"width="200.0""#), "{svg}");
        assert!(svg.contains("Respite &lt;b&gt;"), "{svg}");
        assert!(
            svg.contains(r#"x1="300.0""#),
            "the mark at 25 of 100: {svg}"
        );
    }

    #[test]
    fn steps_hold_each_value_until_the_next() {
        let points = vec![
            Point {
                label: "Jan".into(),
                value: 10.0,
                text: "£10".into(),
            },
            Point {
                label: "Feb".into(),
                value: -10.0,
                text: "−£10".into(),
            },
        ];
        let svg = step_chart(&StepChart {
            id: "s",
            class: "",
            title: "Balance",
            description: "Jan £10, Feb −£10".into(),
            points: &points,
            axis_text: |v| format!("{v:.0}"),
        })
        .into_string();
        // 10 at the top (y 12), −10 at the bottom (y 192), zero half way.
        assert!(
            svg.contains(r#"d="M90.0 12.0 L146.0 12.0 L146.0 192.0 L202.0 192.0""#),
            "{svg}"
        );
        assert!(svg.contains(r#"y1="102.0""#), "{svg}");
        assert!(svg.contains(">Feb</text>"), "{svg}");
    }
}
