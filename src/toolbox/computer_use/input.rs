//! The mouse and the keyboard (`/computeruse/mouse/...`,
//! `/computeruse/keyboard/...`).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use ureq::http::Method;

use super::geometry::Point;
use crate::check::non_empty;
use crate::error::{Error, Result};
use crate::telemetry::traced;
use crate::toolbox::choice::choice_enum;
use crate::toolbox::Toolbox;

choice_enum! {
    /// A mouse button.
    MouseButton {
        /// The left (primary) button.
        Left = "left",
        /// The right (context menu) button.
        Right = "right",
        /// The middle button (the wheel).
        Middle = "middle",
    }
}

choice_enum! {
    /// Which way the wheel turns.
    ScrollDirection {
        /// Towards the top of the page.
        Up = "up",
        /// Towards the bottom of the page.
        Down = "down",
    }
}

choice_enum! {
    /// A key held while another is pressed.
    Modifier {
        /// Control.
        Ctrl = "ctrl",
        /// Alt.
        Alt = "alt",
        /// Shift.
        Shift = "shift",
        /// Command (the Super or Windows key on Linux).
        Cmd = "cmd",
    }
}

/// The mouse of a sandbox's desktop: [`super::ComputerUse::mouse`].
///
/// Coordinates are pixels from the top-left corner of the screen, 0 to
/// 32767; anything else is rejected before any request. Moves, clicks and
/// drags return where the pointer is afterwards, as the toolbox reports
/// it; [`scroll`](Self::scroll) returns whether the toolbox reports
/// success.
///
/// ```no_run
/// use daytona::toolbox::{MouseButton, Point, ScrollDirection};
/// # let daytona = daytona::Daytona::from_env()?;
/// # let sandbox = daytona.get("my-sandbox")?;
///
/// let mouse = sandbox.computer_use().mouse();
/// mouse.move_to((100, 200))?;
/// mouse.double_click(Point::new(100, 200), MouseButton::Left)?;
/// mouse.drag((100, 200), (400, 300), MouseButton::Left)?;
/// mouse.scroll((400, 300), ScrollDirection::Down, 3)?;
/// println!("now at {:?}", mouse.position()?);
/// # Ok::<(), daytona::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct Mouse<'s> {
    tb: Toolbox<'s>,
}

sandbox_debug!(Mouse);

/// `MouseClickRequest`.
#[derive(Serialize)]
struct ClickBody {
    x: i64,
    y: i64,
    button: MouseButton,
    double: bool,
}

/// `MouseDragRequest`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DragBody {
    start_x: i64,
    start_y: i64,
    end_x: i64,
    end_y: i64,
    button: MouseButton,
}

/// `MouseScrollRequest`.
#[derive(Serialize)]
struct ScrollBody {
    x: i64,
    y: i64,
    direction: ScrollDirection,
    amount: u32,
}

/// `ScrollResponse`.
#[derive(Deserialize)]
struct ScrollAnswer {
    #[serde(default)]
    success: bool,
}

impl<'s> Mouse<'s> {
    pub(super) fn new(tb: Toolbox<'s>) -> Self {
        Mouse { tb }
    }

    fn post<T: serde::de::DeserializeOwned>(&self, what: &str, body: &impl Serialize) -> Result<T> {
        self.tb.transport().json(
            self.tb
                .request(Method::POST, &["computeruse", "mouse", what])?
                .json(body),
        )
    }

    /// Where the pointer is (`GET /computeruse/mouse/position`).
    pub fn position(&self) -> Result<Point> {
        traced(self.tb.tracing(), "Mouse.getPosition", || {
            self.tb.transport().json(
                self.tb
                    .request(Method::GET, &["computeruse", "mouse", "position"])?,
            )
        })
    }

    /// Moves the pointer to `to` (`POST /computeruse/mouse/move`).
    pub fn move_to(&self, to: impl Into<Point>) -> Result<Point> {
        traced(self.tb.tracing(), "Mouse.move", || {
            let to = to.into().check("to")?;
            self.post("move", &to)
        })
    }

    /// Clicks `button` once at `at` (`POST /computeruse/mouse/click`).
    pub fn click(&self, at: impl Into<Point>, button: MouseButton) -> Result<Point> {
        traced(self.tb.tracing(), "Mouse.click", || {
            self.click_at(at.into(), button, false)
        })
    }

    /// Double-clicks `button` at `at` (`POST /computeruse/mouse/click`).
    pub fn double_click(&self, at: impl Into<Point>, button: MouseButton) -> Result<Point> {
        traced(self.tb.tracing(), "Mouse.doubleClick", || {
            self.click_at(at.into(), button, true)
        })
    }

    fn click_at(&self, at: Point, button: MouseButton, double: bool) -> Result<Point> {
        let at = at.check("at")?;
        let body = ClickBody {
            x: at.x,
            y: at.y,
            button,
            double,
        };
        self.post("click", &body)
    }

    /// Presses `button` at `from`, moves to `to` and releases it there
    /// (`POST /computeruse/mouse/drag`).
    pub fn drag(
        &self,
        from: impl Into<Point>,
        to: impl Into<Point>,
        button: MouseButton,
    ) -> Result<Point> {
        traced(self.tb.tracing(), "Mouse.drag", || {
            let from = from.into().check("from")?;
            let to = to.into().check("to")?;
            let body = DragBody {
                start_x: from.x,
                start_y: from.y,
                end_x: to.x,
                end_y: to.y,
                button,
            };
            self.post("drag", &body)
        })
    }

    /// Turns the wheel `amount` notches (1 or more) in `direction` with
    /// the pointer at `at` (`POST /computeruse/mouse/scroll`). Returns
    /// whether the toolbox reports success.
    pub fn scroll(
        &self,
        at: impl Into<Point>,
        direction: ScrollDirection,
        amount: u32,
    ) -> Result<bool> {
        traced(self.tb.tracing(), "Mouse.scroll", || {
            let at = at.into().check("at")?;
            if amount == 0 {
                return Err(Error::validation("amount", "must be at least 1 notch"));
            }
            let body = ScrollBody {
                x: at.x,
                y: at.y,
                direction,
                amount,
            };
            let answer: ScrollAnswer = self.post("scroll", &body)?;
            Ok(answer.success)
        })
    }
}

/// The keyboard of a sandbox's desktop: [`super::ComputerUse::keyboard`].
///
/// Key names are those of X11 keysyms as the toolbox takes them (`a`,
/// `Return`, `Tab`, `Escape`, `F5`, `Up`, ...).
///
/// ```no_run
/// use std::time::Duration;
/// use daytona::toolbox::Modifier;
/// # let daytona = daytona::Daytona::from_env()?;
/// # let sandbox = daytona.get("my-sandbox")?;
///
/// let keyboard = sandbox.computer_use().keyboard();
/// keyboard.type_text("print('hello')")?;
/// keyboard.type_text_with_delay("slowly", Duration::from_millis(50))?;
/// keyboard.press("Return")?;
/// keyboard.press_with("t", &[Modifier::Ctrl, Modifier::Shift])?;
/// keyboard.hotkey("ctrl+s")?;
/// # Ok::<(), daytona::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct Keyboard<'s> {
    tb: Toolbox<'s>,
}

sandbox_debug!(Keyboard);

/// `KeyboardTypeRequest`.
#[derive(Serialize)]
struct TypeBody<'a> {
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    delay: Option<u64>,
}

/// `KeyboardPressRequest`.
#[derive(Serialize)]
struct PressBody<'a> {
    key: &'a str,
    modifiers: &'a [Modifier],
}

/// The longest pause between two keystrokes.
const MAX_KEY_DELAY: Duration = Duration::from_secs(10);

impl<'s> Keyboard<'s> {
    pub(super) fn new(tb: Toolbox<'s>) -> Self {
        Keyboard { tb }
    }

    fn post(&self, what: &str, body: &impl Serialize, timeout: Option<Duration>) -> Result<()> {
        let mut req = self
            .tb
            .request(Method::POST, &["computeruse", "keyboard", what])?
            .json(body);
        if let Some(timeout) = timeout {
            req = req.timeout(timeout);
        }
        self.tb.transport().empty(req)
    }

    /// Types `text` as fast as the desktop takes it
    /// (`POST /computeruse/keyboard/type`).
    pub fn type_text(&self, text: &str) -> Result<()> {
        traced(self.tb.tracing(), "Keyboard.type", || {
            check_text(text)?;
            self.post("type", &TypeBody { text, delay: None }, None)
        })
    }

    /// Types `text` with a pause of `delay` (whole milliseconds, at most
    /// 10 s) between keystrokes (`POST /computeruse/keyboard/type`). The
    /// request may take twice the typing time (characters × delay) plus the
    /// client's command margin
    /// ([`DaytonaConfig::command_timeout_margin`](crate::DaytonaConfig::command_timeout_margin)).
    pub fn type_text_with_delay(&self, text: &str, delay: Duration) -> Result<()> {
        traced(self.tb.tracing(), "Keyboard.type", || {
            check_text(text)?;
            if delay > MAX_KEY_DELAY {
                return Err(Error::validation(
                    "delay",
                    format!("must be at most {MAX_KEY_DELAY:?} between keystrokes, got {delay:?}"),
                ));
            }
            let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
            let keystrokes = u32::try_from(text.chars().count()).unwrap_or(u32::MAX);
            let typing = delay.saturating_mul(keystrokes).saturating_mul(2);
            let limit = typing.saturating_add(self.tb.transport().command_timeout_margin());
            let body = TypeBody {
                text,
                delay: Some(millis),
            };
            self.post("type", &body, (!typing.is_zero()).then_some(limit))
        })
    }

    /// Presses and releases `key` (`POST /computeruse/keyboard/key`).
    pub fn press(&self, key: &str) -> Result<()> {
        self.press_with(key, &[])
    }

    /// Presses `key` while holding `modifiers`
    /// (`POST /computeruse/keyboard/key`).
    pub fn press_with(&self, key: &str, modifiers: &[Modifier]) -> Result<()> {
        traced(self.tb.tracing(), "Keyboard.press", || {
            non_empty("key", key)?;
            self.post("key", &PressBody { key, modifiers }, None)
        })
    }

    /// Presses a key combination written as the toolbox takes it, such as
    /// `"ctrl+c"` or `"ctrl+shift+t"` (`POST /computeruse/keyboard/hotkey`).
    pub fn hotkey(&self, keys: &str) -> Result<()> {
        traced(self.tb.tracing(), "Keyboard.hotkey", || {
            non_empty("keys", keys)?;
            if keys.split('+').any(|k| k.trim().is_empty()) && keys.trim() != "+" {
                return Err(Error::validation(
                    "keys",
                    format!("{keys:?} has an empty key between `+` signs"),
                ));
            }
            self.post("hotkey", &serde_json::json!({ "keys": keys }), None)
        })
    }
}

fn check_text(text: &str) -> Result<()> {
    if text.is_empty() {
        Err(Error::validation("text", "must not be empty"))
    } else {
        Ok(())
    }
}
