//! Points and rectangles on the screen, in pixels.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The largest coordinate or size sent: the toolbox hands them to X11,
/// whose coordinates are 16-bit.
const MAX_COORDINATE: i64 = 32_767;

/// A point on the screen, in pixels from its top-left corner
/// (`Position`, `MousePositionResponse`).
///
/// `(x, y)` tuples convert into it, so `mouse.move_to((100, 200))` works.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Point {
    /// Pixels from the left edge.
    #[serde(default, deserialize_with = "crate::models::number::int")]
    pub x: i64,
    /// Pixels from the top edge.
    #[serde(default, deserialize_with = "crate::models::number::int")]
    pub y: i64,
}

impl Point {
    /// The point `(x, y)`.
    pub fn new(x: i64, y: i64) -> Self {
        Point { x, y }
    }

    /// Checks that both coordinates are on a screen: 0 to 32767.
    pub(crate) fn check(self, field: &str) -> Result<Self> {
        check_coordinate(&format!("{field}.x"), self.x)?;
        check_coordinate(&format!("{field}.y"), self.y)?;
        Ok(self)
    }
}

impl From<(i64, i64)> for Point {
    fn from((x, y): (i64, i64)) -> Self {
        Point { x, y }
    }
}

/// A rectangle on the screen: its top-left corner and its size, in pixels
/// (`AccessibilityBounds`; the region of a screenshot; the bounds of a
/// display or a window).
///
/// ```
/// use daytona::toolbox::Rect;
///
/// // 300 wide and 200 high, from (10, 20).
/// let region = Rect::new(10, 20, 300, 200);
/// assert_eq!((region.x, region.y, region.width, region.height), (10, 20, 300, 200));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rect {
    /// The left edge.
    #[serde(default, deserialize_with = "crate::models::number::int")]
    pub x: i64,
    /// The top edge.
    #[serde(default, deserialize_with = "crate::models::number::int")]
    pub y: i64,
    /// The width.
    #[serde(default, deserialize_with = "crate::models::number::int")]
    pub width: i64,
    /// The height.
    #[serde(default, deserialize_with = "crate::models::number::int")]
    pub height: i64,
}

impl Rect {
    /// The rectangle `width` × `height` whose top-left corner is `(x, y)`.
    pub fn new(x: i64, y: i64, width: i64, height: i64) -> Self {
        Rect {
            x,
            y,
            width,
            height,
        }
    }

    /// Its top-left corner.
    pub fn origin(&self) -> Point {
        Point::new(self.x, self.y)
    }

    /// Whether `point` is inside it.
    pub fn contains(&self, point: Point) -> bool {
        point.x >= self.x
            && point.y >= self.y
            && point.x.saturating_sub(self.x) < self.width
            && point.y.saturating_sub(self.y) < self.height
    }

    /// Checks a screenshot region: a corner on the screen and a size of
    /// at least one pixel each way.
    pub(crate) fn check_region(self) -> Result<Self> {
        check_coordinate("region.x", self.x)?;
        check_coordinate("region.y", self.y)?;
        for (field, value) in [("region.width", self.width), ("region.height", self.height)] {
            if !(1..=MAX_COORDINATE).contains(&value) {
                return Err(Error::validation(
                    field,
                    format!("must be 1 to {MAX_COORDINATE} pixels, got {value}"),
                ));
            }
        }
        Ok(self)
    }
}

fn check_coordinate(field: &str, value: i64) -> Result<()> {
    if (0..=MAX_COORDINATE).contains(&value) {
        Ok(())
    } else {
        Err(Error::validation(
            field,
            format!("must be 0 to {MAX_COORDINATE}, got {value}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_and_regions_are_checked() {
        assert!(Point::new(0, 32_767).check("at").is_ok());
        let e = Point::new(5, -1).check("at").unwrap_err();
        assert!(e.to_string().contains("at.y"), "{e}");
        assert!(Rect::new(1, 2, 3, 4).check_region().is_ok());
        let e = Rect::new(1, 2, 0, 4).check_region().unwrap_err();
        assert!(e.to_string().contains("region.width"), "{e}");
        let e = Rect::new(1, 2, 3, -4).check_region().unwrap_err();
        assert!(e.to_string().contains("region.height"), "{e}");
        let e = Rect::new(-1, 2, 3, 4).check_region().unwrap_err();
        assert!(e.to_string().contains("region.x"), "{e}");
    }

    #[test]
    fn contains() {
        let r = Rect::new(10, 20, 30, 40);
        assert!(r.contains(Point::new(10, 20)));
        assert!(r.contains(Point::new(39, 59)));
        assert!(!r.contains(Point::new(40, 20)));
        assert!(!r.contains(Point::new(10, 60)));
        assert_eq!(r.origin(), Point::new(10, 20));
    }
}
