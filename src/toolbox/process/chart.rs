//! Charts of a `code_run` (`Chart`, `ChartElement`), decoded so that an odd
//! chart never fails the whole result: a field of an unexpected shape is
//! left empty, keys this crate does not know are kept in `extra`, and an
//! unknown chart type is [`ChartKind::Other`].

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::{lenient, objects};
use crate::models::enums::string_enum;

string_enum! {
    /// The type of a chart (`Chart.type`).
    #[derive(Default)]
    ChartKind {
        /// Lines.
        Line = "line",
        /// Points.
        Scatter = "scatter",
        /// Bars.
        Bar = "bar",
        /// A pie.
        Pie = "pie",
        /// Box plots.
        BoxAndWhisker = "box_and_whisker",
        /// Several charts in one figure: its elements are the charts.
        Composite = "composite_chart",
        /// A figure the toolbox could not classify (the default).
        #[default]
        Unknown = "unknown",
    }
}

/// A chart drawn by code run with [`super::Process::code_run`] (`Chart`).
///
/// Which fields are set depends on [`kind`](Self::kind): the axes for line,
/// scatter, bar and box charts; only the elements for a pie.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Chart {
    /// The type of chart.
    #[serde(rename = "type", default, deserialize_with = "lenient")]
    pub kind: ChartKind,
    /// The title.
    #[serde(default, deserialize_with = "lenient")]
    pub title: Option<String>,
    /// The whole figure as a base64-encoded PNG.
    #[serde(default, deserialize_with = "lenient")]
    pub png: Option<String>,
    /// The label of the x axis.
    #[serde(default, deserialize_with = "lenient")]
    pub x_label: Option<String>,
    /// The label of the y axis.
    #[serde(default, deserialize_with = "lenient")]
    pub y_label: Option<String>,
    /// The positions of the x axis ticks.
    #[serde(default, deserialize_with = "lenient")]
    pub x_ticks: Vec<f64>,
    /// The positions of the y axis ticks.
    #[serde(default, deserialize_with = "lenient")]
    pub y_ticks: Vec<f64>,
    /// The labels of the x axis ticks.
    #[serde(default, deserialize_with = "lenient")]
    pub x_tick_labels: Vec<String>,
    /// The labels of the y axis ticks.
    #[serde(default, deserialize_with = "lenient")]
    pub y_tick_labels: Vec<String>,
    /// The scale of the x axis (`linear`, `log`, `datetime`, ...).
    #[serde(default, deserialize_with = "lenient")]
    pub x_scale: Option<String>,
    /// The scale of the y axis.
    #[serde(default, deserialize_with = "lenient")]
    pub y_scale: Option<String>,
    /// The lines, points, bars, slices or boxes; the charts of a
    /// [`ChartKind::Composite`].
    #[serde(default, deserialize_with = "objects")]
    pub elements: Vec<ChartElement>,
    /// Fields this version of the SDK does not know, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A line, set of points, bar, pie slice or box of a [`Chart`], or a chart
/// of a composite one (`ChartElement`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChartElement {
    /// The label (series name, bar or slice label).
    #[serde(default, deserialize_with = "lenient")]
    pub label: Option<String>,
    /// The group of a bar.
    #[serde(default, deserialize_with = "lenient")]
    pub group: Option<String>,
    /// The value of a bar, as sent.
    #[serde(default, deserialize_with = "text")]
    pub value: Option<String>,
    /// The `(x, y)` points of a line or scatter series.
    #[serde(default, deserialize_with = "lenient")]
    pub points: Vec<(f64, f64)>,
    /// The angle of a pie slice, in degrees.
    #[serde(default, deserialize_with = "lenient")]
    pub angle: Option<f64>,
    /// The radius of a pie slice.
    #[serde(default, deserialize_with = "lenient")]
    pub radius: Option<f64>,
    /// The lower whisker of a box.
    #[serde(default, deserialize_with = "lenient")]
    pub min: Option<f64>,
    /// The first quartile of a box.
    #[serde(default, deserialize_with = "lenient")]
    pub first_quartile: Option<f64>,
    /// The median of a box.
    #[serde(default, deserialize_with = "lenient")]
    pub median: Option<f64>,
    /// The third quartile of a box.
    #[serde(default, deserialize_with = "lenient")]
    pub third_quartile: Option<f64>,
    /// The upper whisker of a box.
    #[serde(default, deserialize_with = "lenient")]
    pub max: Option<f64>,
    /// The outliers of a box.
    #[serde(default, deserialize_with = "lenient")]
    pub outliers: Vec<f64>,
    /// The type of a chart inside a composite chart.
    #[serde(rename = "type", default, deserialize_with = "lenient")]
    pub kind: Option<ChartKind>,
    /// The title of a chart inside a composite chart.
    #[serde(default, deserialize_with = "lenient")]
    pub title: Option<String>,
    /// A chart inside a composite chart as a base64-encoded PNG.
    #[serde(default, deserialize_with = "lenient")]
    pub png: Option<String>,
    /// The x axis label of a chart inside a composite chart.
    #[serde(default, deserialize_with = "lenient")]
    pub x_label: Option<String>,
    /// The y axis label of a chart inside a composite chart.
    #[serde(default, deserialize_with = "lenient")]
    pub y_label: Option<String>,
    /// Fields this version of the SDK does not know, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A string, or a number as text.
fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decode(v: Value) -> Vec<Chart> {
        #[derive(Deserialize)]
        struct W {
            #[serde(deserialize_with = "crate::toolbox::process::objects")]
            charts: Vec<Chart>,
        }
        serde_json::from_value::<W>(json!({ "charts": v }))
            .unwrap()
            .charts
    }

    #[test]
    fn a_line_chart_decodes_with_its_points() {
        let charts = decode(json!([{
            "type": "line", "title": "t", "png": "iVBOR", "x_label": "x",
            "x_ticks": [0, 1.5], "x_tick_labels": ["0", "1.5"], "x_scale": "linear",
            "elements": [{"label": "sin", "points": [[0, 0], [1.5, 0.99]]}]
        }]));
        let c = &charts[0];
        assert_eq!(c.kind, ChartKind::Line);
        assert_eq!(c.title.as_deref(), Some("t"));
        assert_eq!(c.x_ticks, vec![0.0, 1.5]);
        assert_eq!(c.elements[0].points, vec![(0.0, 0.0), (1.5, 0.99)]);
        assert!(c.extra.is_empty());
    }

    #[test]
    fn odd_charts_never_fail_the_result() {
        let charts = decode(json!([
            {"type": "heatmap", "cells": [[1]], "title": 5, "x_ticks": ["a"]},
            "not a chart",
            {"type": 7, "elements": [{"value": 3.5, "points": [[1, 2, 3]]}, null]},
            {}
        ]));
        assert_eq!(charts.len(), 3);
        assert_eq!(charts[0].kind, ChartKind::Other("heatmap".into()));
        assert_eq!(charts[0].extra["cells"], json!([[1]]));
        assert_eq!(charts[0].title, None);
        assert!(charts[0].x_ticks.is_empty());
        assert_eq!(charts[1].kind, ChartKind::Unknown);
        assert_eq!(charts[1].elements.len(), 1);
        assert_eq!(charts[1].elements[0].value.as_deref(), Some("3.5"));
        assert!(charts[1].elements[0].points.is_empty());
        assert_eq!(charts[2], Chart::default());
        assert!(decode(json!({"type": "line"})).is_empty());
        assert!(decode(Value::Null).is_empty());
    }

    #[test]
    fn composite_charts_keep_their_sub_charts() {
        let charts = decode(json!([{"type": "composite_chart", "elements": [
            {"type": "bar", "title": "a", "x_label": "k"},
            {"type": "pie", "title": "b"}
        ]}]));
        assert_eq!(charts[0].kind, ChartKind::Composite);
        let kinds: Vec<_> = charts[0].elements.iter().map(|e| e.kind.clone()).collect();
        assert_eq!(kinds, vec![Some(ChartKind::Bar), Some(ChartKind::Pie)]);
    }
}
