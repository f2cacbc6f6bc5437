//! Screenshots and displays (`/computeruse/screenshot/...`,
//! `/computeruse/display/...`).

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde::{Deserialize, Serialize};
use ureq::http::Method;

use super::geometry::{Point, Rect};
use crate::error::{Error, Result};
use crate::telemetry::traced;
use crate::toolbox::choice::choice_enum;
use crate::toolbox::Toolbox;
use crate::transport::{Answer, Request};

choice_enum! {
    /// The encoding of a compressed screenshot.
    ImageFormat {
        /// PNG: lossless.
        Png = "png",
        /// JPEG: lossy, smaller; see [`CompressedOptions::quality`].
        Jpeg = "jpeg",
    }
}

/// Options of [`Screenshots::take_full_screen`] and
/// [`Screenshots::take_region`]: PNG at full size.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct ScreenshotOptions {
    show_cursor: bool,
}

impl ScreenshotOptions {
    /// Without the pointer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Draws the pointer into the image (default: not).
    pub fn show_cursor(mut self, show: bool) -> Self {
        self.show_cursor = show;
        self
    }
}

/// Options of [`Screenshots::take_compressed`] and
/// [`Screenshots::take_compressed_region`]. Unset values are the
/// toolbox's defaults: PNG, quality 85, scale 1.
///
/// ```
/// use daytona::toolbox::{CompressedOptions, ImageFormat};
///
/// let options = CompressedOptions::new()
///     .format(ImageFormat::Jpeg)
///     .quality(70)
///     .scale(0.5)
///     .show_cursor(true);
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct CompressedOptions {
    show_cursor: bool,
    format: Option<ImageFormat>,
    quality: Option<u8>,
    scale: Option<f64>,
}

impl CompressedOptions {
    /// The toolbox's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Draws the pointer into the image (default: not).
    pub fn show_cursor(mut self, show: bool) -> Self {
        self.show_cursor = show;
        self
    }

    /// The encoding (default PNG).
    pub fn format(mut self, format: ImageFormat) -> Self {
        self.format = Some(format);
        self
    }

    /// The JPEG quality, 1 (smallest) to 100 (best); PNG ignores it.
    pub fn quality(mut self, quality: u8) -> Self {
        self.quality = Some(quality);
        self
    }

    /// Scales the image down by this factor, 0.1 to 1.
    pub fn scale(mut self, scale: f64) -> Self {
        self.scale = Some(scale);
        self
    }

    fn check(&self) -> Result<()> {
        if let Some(q) = self.quality {
            if !(1..=100).contains(&q) {
                return Err(Error::validation(
                    "quality",
                    format!("must be 1 to 100, got {q}"),
                ));
            }
        }
        if let Some(s) = self.scale {
            if !(0.1..=1.0).contains(&s) {
                return Err(Error::validation(
                    "scale",
                    format!("must be 0.1 to 1, got {s}"),
                ));
            }
        }
        Ok(())
    }
}

/// A screenshot: the image's bytes, decoded (PNG or JPEG, ready to write
/// to a file or hand to an image decoder), and where the pointer was.
#[derive(Clone, PartialEq, Eq)]
pub struct Screenshot {
    data: Vec<u8>,
    cursor: Option<Point>,
}

impl std::fmt::Debug for Screenshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Screenshot")
            .field("format", &self.format())
            .field("size", &self.size())
            .field("cursor", &self.cursor)
            .finish()
    }
}

impl Screenshot {
    /// The encoded image.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// The encoded image, taken out.
    pub fn into_bytes(self) -> Vec<u8> {
        self.data
    }

    /// The size of the encoded image in bytes.
    pub fn size(&self) -> u64 {
        self.data.len() as u64
    }

    /// The format of the image, read from its first bytes; `None` when
    /// they are neither PNG's nor JPEG's.
    pub fn format(&self) -> Option<ImageFormat> {
        if self.data.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageFormat::Png)
        } else if self.data.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageFormat::Jpeg)
        } else {
            None
        }
    }

    /// Where the pointer was, in screen pixels, when the toolbox says. It
    /// reports `(0, 0)` unless the pointer was asked for; after a scale
    /// the position is scaled too.
    pub fn cursor(&self) -> Option<Point> {
        self.cursor
    }
}

/// `ScreenshotResponse`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ScreenshotAnswer {
    #[serde(default)]
    screenshot: String,
    #[serde(default)]
    cursor_position: Option<Point>,
}

/// Standard base64, with or without its padding.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

impl ScreenshotAnswer {
    fn decode(self, operation: &str) -> Result<Screenshot> {
        let text = self.screenshot.trim();
        // A data URL's payload, if the toolbox ever sends one.
        let text = match text.split_once(";base64,") {
            Some((head, payload)) if head.starts_with("data:") => payload,
            _ => text,
        };
        let decoded = if text.bytes().any(|b| b.is_ascii_whitespace()) {
            let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
            BASE64.decode(compact)
        } else {
            BASE64.decode(text)
        };
        let data = decoded.map_err(|e| Error::Decode {
            operation: operation.to_string(),
            message: format!("the screenshot is not base64: {e}"),
            excerpt: text.chars().take(40).collect(),
        })?;
        if data.is_empty() {
            return Err(Error::Decode {
                operation: operation.to_string(),
                message: "the screenshot is empty".to_string(),
                excerpt: String::new(),
            });
        }
        Ok(Screenshot {
            data,
            cursor: self.cursor_position,
        })
    }
}

/// Screenshots of a sandbox's desktop: [`super::ComputerUse::screenshot`].
///
/// The plain forms give PNG at full size; the compressed forms take a
/// format, a JPEG quality and a scale. A region is a [`Rect`]: its
/// top-left corner, then its width and height.
///
/// ```no_run
/// use daytona::toolbox::{CompressedOptions, ImageFormat, Rect, ScreenshotOptions};
/// # let daytona = daytona::Daytona::from_env()?;
/// # let sandbox = daytona.get("my-sandbox")?;
///
/// let screenshots = sandbox.computer_use().screenshot();
/// let full = screenshots.take_full_screen(ScreenshotOptions::new().show_cursor(true))?;
/// println!("{} bytes, pointer at {:?}", full.size(), full.cursor());
///
/// // 300 × 200 pixels from (10, 20), as a half-size JPEG.
/// let region = Rect::new(10, 20, 300, 200);
/// let small = screenshots.take_compressed_region(
///     region,
///     CompressedOptions::new().format(ImageFormat::Jpeg).quality(60).scale(0.5),
/// )?;
/// std::fs::write("region.jpg", small.bytes()).expect("writable");
/// # Ok::<(), daytona::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct Screenshots<'s> {
    tb: Toolbox<'s>,
}

sandbox_debug!(Screenshots);

impl<'s> Screenshots<'s> {
    pub(super) fn new(tb: Toolbox<'s>) -> Self {
        Screenshots { tb }
    }

    fn take(&self, req: Request<'static>) -> Result<Screenshot> {
        let operation = req.operation().to_string();
        let answer: ScreenshotAnswer = self.tb.transport().json(req.answer(Answer::Text))?;
        answer.decode(&operation)
    }

    fn request(&self, segments: &[&str], region: Option<Rect>) -> Result<Request<'static>> {
        let mut path = vec!["computeruse", "screenshot"];
        path.extend_from_slice(segments);
        let mut req = self.tb.request(Method::GET, &path)?;
        if let Some(r) = region {
            req = req
                .query("x", r.x.to_string())
                .query("y", r.y.to_string())
                .query("width", r.width.to_string())
                .query("height", r.height.to_string());
        }
        Ok(req)
    }

    fn compressed(
        &self,
        segments: &[&str],
        region: Option<Rect>,
        options: &CompressedOptions,
    ) -> Result<Screenshot> {
        options.check()?;
        let req = self
            .request(segments, region)?
            .query("showCursor", options.show_cursor.to_string())
            .query_opt("format", options.format)
            .query_opt("quality", options.quality)
            .query_opt("scale", options.scale);
        self.take(req)
    }

    /// The whole screen as PNG (`GET /computeruse/screenshot`).
    pub fn take_full_screen(&self, options: ScreenshotOptions) -> Result<Screenshot> {
        traced(self.tb.tracing(), "Screenshot.takeFullScreen", || {
            let req = self
                .request(&[], None)?
                .query("showCursor", options.show_cursor.to_string());
            self.take(req)
        })
    }

    /// The part of the screen inside `region` as PNG
    /// (`GET /computeruse/screenshot/region`).
    pub fn take_region(&self, region: Rect, options: ScreenshotOptions) -> Result<Screenshot> {
        traced(self.tb.tracing(), "Screenshot.takeRegion", || {
            let region = region.check_region()?;
            let req = self
                .request(&["region"], Some(region))?
                .query("showCursor", options.show_cursor.to_string());
            self.take(req)
        })
    }

    /// The whole screen, encoded as `options` say
    /// (`GET /computeruse/screenshot/compressed`).
    pub fn take_compressed(&self, options: CompressedOptions) -> Result<Screenshot> {
        traced(self.tb.tracing(), "Screenshot.takeCompressed", || {
            self.compressed(&["compressed"], None, &options)
        })
    }

    /// The part of the screen inside `region`, encoded as `options` say
    /// (`GET /computeruse/screenshot/region/compressed`).
    pub fn take_compressed_region(
        &self,
        region: Rect,
        options: CompressedOptions,
    ) -> Result<Screenshot> {
        traced(self.tb.tracing(), "Screenshot.takeCompressedRegion", || {
            let region = region.check_region()?;
            self.compressed(&["region", "compressed"], Some(region), &options)
        })
    }
}

/// A display (`DisplayInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DisplayInfo {
    /// Its number.
    #[serde(default, deserialize_with = "crate::models::number::int")]
    pub id: i64,
    /// Where it is and its size.
    #[serde(flatten)]
    pub bounds: Rect,
    /// Whether it is the active one.
    #[serde(default)]
    pub is_active: bool,
}

/// An open window (`WindowInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WindowInfo {
    /// Its X11 window id.
    #[serde(default, deserialize_with = "crate::models::number::int")]
    pub id: i64,
    /// Its title.
    #[serde(default)]
    pub title: String,
    /// Where it is and its size.
    #[serde(flatten)]
    pub bounds: Rect,
    /// Whether it has the focus.
    #[serde(default)]
    pub is_active: bool,
}

impl WindowInfo {
    /// A window without the focus (for tests and the simulator).
    pub fn new(id: i64, title: impl Into<String>, bounds: Rect) -> Self {
        WindowInfo {
            id,
            title: title.into(),
            bounds,
            is_active: false,
        }
    }

    /// Whether it has the focus.
    #[must_use]
    pub fn active(mut self, active: bool) -> Self {
        self.is_active = active;
        self
    }
}

/// `DisplayInfoResponse`.
#[derive(Deserialize)]
struct Displays {
    #[serde(default, deserialize_with = "crate::models::null_as_default")]
    displays: Vec<DisplayInfo>,
}

/// `WindowsResponse`.
#[derive(Deserialize)]
struct Windows {
    #[serde(default, deserialize_with = "crate::models::null_as_default")]
    windows: Vec<WindowInfo>,
}

/// The displays and windows of a sandbox's desktop:
/// [`super::ComputerUse::display`].
///
/// ```no_run
/// # let daytona = daytona::Daytona::from_env()?;
/// # let sandbox = daytona.get("my-sandbox")?;
/// let display = sandbox.computer_use().display();
/// for d in display.info()? {
///     println!("display {}: {}x{}", d.id, d.bounds.width, d.bounds.height);
/// }
/// for w in display.windows()? {
///     println!("{:?} at {:?}", w.title, w.bounds.origin());
/// }
/// # Ok::<(), daytona::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct Display<'s> {
    tb: Toolbox<'s>,
}

sandbox_debug!(Display);

impl<'s> Display<'s> {
    pub(super) fn new(tb: Toolbox<'s>) -> Self {
        Display { tb }
    }

    /// The displays (`GET /computeruse/display/info`).
    pub fn info(&self) -> Result<Vec<DisplayInfo>> {
        traced(self.tb.tracing(), "Display.getInfo", || {
            let answer: Displays = self.tb.transport().json(
                self.tb
                    .request(Method::GET, &["computeruse", "display", "info"])?,
            )?;
            Ok(answer.displays)
        })
    }

    /// The open windows (`GET /computeruse/display/windows`).
    pub fn windows(&self) -> Result<Vec<WindowInfo>> {
        traced(self.tb.tracing(), "Display.getWindows", || {
            let answer: Windows = self.tb.transport().json(
                self.tb
                    .request(Method::GET, &["computeruse", "display", "windows"])?,
            )?;
            Ok(answer.windows)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(screenshot: &str) -> ScreenshotAnswer {
        ScreenshotAnswer {
            screenshot: screenshot.to_string(),
            cursor_position: None,
        }
    }

    #[test]
    fn base64_forms() {
        let png = b"\x89PNG\r\n\x1a\nrest";
        let encoded = base64::engine::general_purpose::STANDARD.encode(png);
        let shot = answer(&encoded).decode("GET /s").unwrap();
        assert_eq!(shot.bytes(), png);
        assert_eq!(shot.format(), Some(ImageFormat::Png));
        assert_eq!(shot.size(), png.len() as u64);
        let unpadded = encoded.trim_end_matches('=');
        assert_eq!(answer(unpadded).decode("GET /s").unwrap().bytes(), png);
        let wrapped = format!("data:image/png;base64,{}\n{}", &encoded[..8], &encoded[8..]);
        assert_eq!(answer(&wrapped).decode("GET /s").unwrap().bytes(), png);
        let jpeg = base64::engine::general_purpose::STANDARD.encode([0xFF, 0xD8, 0xFF, 0xE0]);
        assert_eq!(
            answer(&jpeg).decode("GET /s").unwrap().format(),
            Some(ImageFormat::Jpeg)
        );
    }

    #[test]
    fn bad_base64_is_a_decode_error() {
        for bad in ["not base64!", "", "   "] {
            match answer(bad).decode("GET /computeruse/screenshot") {
                Err(Error::Decode { operation, .. }) => {
                    assert_eq!(operation, "GET /computeruse/screenshot")
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn options_are_checked() {
        assert!(CompressedOptions::new()
            .quality(1)
            .scale(0.1)
            .check()
            .is_ok());
        assert!(CompressedOptions::new()
            .quality(100)
            .scale(1.0)
            .check()
            .is_ok());
        for (options, field) in [
            (CompressedOptions::new().quality(0), "quality"),
            (CompressedOptions::new().quality(101), "quality"),
            (CompressedOptions::new().scale(0.05), "scale"),
            (CompressedOptions::new().scale(1.5), "scale"),
            (CompressedOptions::new().scale(f64::NAN), "scale"),
        ] {
            let e = options.check().unwrap_err();
            assert!(
                matches!(&e, Error::Validation { field: f, .. } if f == field),
                "{e}"
            );
        }
    }
}
