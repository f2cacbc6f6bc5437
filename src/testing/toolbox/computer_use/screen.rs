//! Screenshots of the simulated screen: real images of the size asked,
//! with the toolbox's checks and its way of reporting the pointer.

use base64::Engine;
use serde_json::json;

use super::super::super::error;
use super::super::super::server::{Request, Response};
use super::image;
use crate::toolbox::{Point, Rect};

/// A query integer, `default` when absent.
pub(super) fn param_int(req: &Request, name: &str, default: Option<i64>) -> Result<i64, Response> {
    match (req.param(name), default) {
        (Some(v), _) => v.parse().map_err(|_| {
            error(
                400,
                &format!("invalid query parameter {name}: must be an integer"),
            )
        }),
        (None, Some(d)) => Ok(d),
        (None, None) => Err(error(
            400,
            &format!("missing required query parameter: {name}"),
        )),
    }
}

/// `/screenshot`, `/screenshot/region`, `/screenshot/compressed`,
/// `/screenshot/region/compressed`.
pub(super) fn screenshot(
    screen: (u32, u32),
    cursor: Point,
    req: &Request,
    shape: &[&str],
) -> Response {
    let (region, compressed) = match shape {
        [] => (false, false),
        ["region"] => (true, false),
        ["compressed"] => (false, true),
        ["region", "compressed"] => (true, true),
        _ => return error(404, "no such screenshot"),
    };
    match take(screen, cursor, req, region, compressed) {
        Ok(r) | Err(r) => r,
    }
}

fn take(
    screen: (u32, u32),
    cursor: Point,
    req: &Request,
    region: bool,
    compressed: bool,
) -> Result<Response, Response> {
    let show = match req.param("showCursor").or_else(|| req.param("show_cursor")) {
        None => false,
        Some(v) => v
            .parse::<bool>()
            .map_err(|_| error(400, "invalid query parameter showCursor: must be a boolean"))?,
    };
    let (sw, sh) = (i64::from(screen.0), i64::from(screen.1));
    let area = if region {
        let r = Rect::new(
            param_int(req, "x", None)?,
            param_int(req, "y", None)?,
            param_int(req, "width", None)?,
            param_int(req, "height", None)?,
        );
        if r.width <= 0 || r.height <= 0 {
            return Err(error(
                400,
                "invalid screenshot region: width and height must be greater than zero",
            ));
        }
        let fits = r.x >= 0
            && r.y >= 0
            && r.x.saturating_add(r.width) <= sw
            && r.y.saturating_add(r.height) <= sh;
        if !fits {
            return Err(error(
                400,
                &format!(
                    "failed to capture screenshot region x={} y={} width={} height={}: \
                     outside the {sw}x{sh} screen",
                    r.x, r.y, r.width, r.height
                ),
            ));
        }
        r
    } else {
        Rect::new(0, 0, sw, sh)
    };
    let (jpeg, scale) = if compressed {
        let jpeg = match req.param("format").unwrap_or("png") {
            "png" => false,
            "jpeg" => true,
            other => return Err(error(400, &format!("unsupported format {other:?}"))),
        };
        let quality = param_int(req, "quality", Some(85))?;
        if !(1..=100).contains(&quality) {
            return Err(error(
                400,
                "invalid query parameter quality: must be between 1 and 100",
            ));
        }
        let scale: f64 = match req.param("scale") {
            None => 1.0,
            Some(s) => s
                .parse()
                .map_err(|_| error(400, "invalid query parameter scale: must be a number"))?,
        };
        if !(0.1..=1.0).contains(&scale) {
            return Err(error(
                400,
                "invalid query parameter scale: must be between 0.1 and 1.0",
            ));
        }
        (jpeg, scale)
    } else {
        (false, 1.0)
    };
    // Within 1..=MAX_SCREEN: the area is on the screen and scale <= 1.
    let scaled = |v: i64| ((v as f64 * scale) as u32).max(1);
    let (w, h) = (scaled(area.width), scaled(area.height));
    let relative = (
        ((cursor.x - area.x) as f64 * scale) as i64,
        ((cursor.y - area.y) as f64 * scale) as i64,
    );
    let drawn = (show && area.contains(cursor)).then_some(relative);
    let bytes = if jpeg {
        image::jpeg(w as u16, h as u16)
    } else {
        image::png(w, h, drawn)
    };
    let mut answer = json!({
        "screenshot": base64::engine::general_purpose::STANDARD.encode(&bytes),
    });
    // Where the toolbox says the pointer is, its quirks included.
    let reported = match (compressed, show) {
        (false, true) => Some(cursor),
        (false, false) => Some(area.origin()),
        (true, true) => Some(Point::new(area.x + relative.0, area.y + relative.1)),
        (true, false) => None,
    };
    if let Some(p) = reported {
        answer["cursorPosition"] = json!({ "x": p.x, "y": p.y });
    }
    if compressed {
        answer["sizeBytes"] = json!(bytes.len());
    }
    Ok(Response::json(200, &answer))
}
