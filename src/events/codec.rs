//! The packets of Engine.IO v4 carrying Socket.IO v5, as text frames of a
//! WebSocket (the only transport used here, so there is no payload
//! batching and no binary attachment is ever needed).
//!
//! Engine.IO v4 (`socket.io-protocol`'s `engine.io-protocol/v4`): a packet
//! is one type digit followed by its data:
//! `0` open (JSON: `sid`, `upgrades`, `pingInterval`, `pingTimeout` in
//! milliseconds, `maxPayload` in bytes), `1` close, `2` ping, `3` pong,
//! `4` message, `5` upgrade, `6` noop. In v4 the server pings every
//! `pingInterval` and the client answers each ping with a pong; a client
//! that hears nothing for `pingInterval + pingTimeout` treats the
//! connection as dead.
//!
//! Socket.IO v5 (`socket.io-protocol/v5`) rides in a message: one type
//! digit (`0` CONNECT, `1` DISCONNECT, `2` EVENT, `3` ACK, `4`
//! CONNECT_ERROR, `5` BINARY_EVENT, `6` BINARY_ACK), for binary packets
//! the attachment count and `-`, then the namespace and `,` unless it is
//! `/`, then an acknowledgement id (digits), then JSON. The client joins
//! a namespace with CONNECT carrying its auth object (`40{"token":"…"}`);
//! the server answers CONNECT with `{"sid":…}` or CONNECT_ERROR with
//! `{"message":…}`. An EVENT's JSON is an array: the event name, then its
//! arguments (`42["sandbox.state.updated",{…}]`).

use std::time::Duration;

use serde_json::Value;

/// A packet the server sent.
#[derive(Debug, PartialEq)]
pub(crate) enum Packet {
    /// The Engine.IO handshake.
    Open(Open),
    /// The server closes the Engine.IO session.
    Close,
    /// A ping (to be answered with [`PONG`]).
    Ping,
    /// Engine.IO packets without meaning here (pong, upgrade, noop).
    Ignored,
    /// A Socket.IO packet of the main namespace.
    Message(Message),
}

/// The Engine.IO handshake's settings.
#[derive(Debug, PartialEq)]
pub(crate) struct Open {
    /// How often the server pings.
    pub(crate) ping_interval: Duration,
    /// How long after a missed ping the connection counts as dead.
    pub(crate) ping_timeout: Duration,
    /// The largest packet the server accepts, in bytes.
    pub(crate) max_payload: u64,
}

/// A Socket.IO packet of the main namespace.
#[derive(Debug, PartialEq)]
pub(crate) enum Message {
    /// The namespace connection is accepted.
    Connected,
    /// The server refused the namespace connection, with its message.
    Refused(String),
    /// The server left the namespace.
    Disconnect,
    /// An event: its name and first argument.
    Event(String, Value),
    /// Acknowledgements, binary packets, other namespaces.
    Ignored,
}

/// Why a text frame is not a packet.
#[derive(Debug, PartialEq)]
pub(crate) struct Malformed(pub(crate) &'static str);

/// The client's answer to a ping.
pub(crate) const PONG: &str = "3";

/// The client's `CONNECT` to the main namespace with its auth object.
pub(crate) fn connect(token: &str) -> String {
    format!("40{}", serde_json::json!({ "token": token }))
}

/// Reads one packet from a text frame.
pub(crate) fn decode(frame: &[u8]) -> Result<Packet, Malformed> {
    let Some((&kind, rest)) = frame.split_first() else {
        return Err(Malformed("an empty packet"));
    };
    match kind {
        b'0' => open(rest).map(Packet::Open),
        b'1' => Ok(Packet::Close),
        b'2' => Ok(Packet::Ping),
        b'3' | b'5' | b'6' => Ok(Packet::Ignored),
        b'4' => message(rest).map(Packet::Message),
        _ => Err(Malformed("an unknown Engine.IO packet type")),
    }
}

/// A duration in milliseconds from the handshake, within sane bounds.
fn millis(value: &Value, field: &'static str) -> Result<Duration, Malformed> {
    let ms = value
        .get(field)
        .and_then(Value::as_u64)
        .ok_or(Malformed("an open packet without its timing"))?;
    // Zero would spin; more than a day is no heartbeat at all.
    if ms == 0 || ms > 86_400_000 {
        return Err(Malformed("an open packet with an unusable timing"));
    }
    Ok(Duration::from_millis(ms))
}

fn open(rest: &[u8]) -> Result<Open, Malformed> {
    let value: Value =
        serde_json::from_slice(rest).map_err(|_| Malformed("an open packet that is not JSON"))?;
    if !value.get("sid").is_some_and(Value::is_string) {
        return Err(Malformed("an open packet without a session id"));
    }
    Ok(Open {
        ping_interval: millis(&value, "pingInterval")?,
        ping_timeout: millis(&value, "pingTimeout")?,
        max_payload: value
            .get("maxPayload")
            .and_then(Value::as_u64)
            .unwrap_or(1_000_000),
    })
}

fn message(rest: &[u8]) -> Result<Message, Malformed> {
    let Some((&kind, mut rest)) = rest.split_first() else {
        return Err(Malformed("an empty Socket.IO packet"));
    };
    if matches!(kind, b'3' | b'5' | b'6') {
        return Ok(Message::Ignored);
    }
    if rest.first() == Some(&b'/') {
        let end = memchr::memchr(b',', rest).unwrap_or(rest.len());
        if &rest[..end] != b"/" {
            return Ok(Message::Ignored);
        }
        rest = rest.get(end + 1..).unwrap_or_default();
    }
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let json = &rest[digits..];
    let data = || -> Result<Value, Malformed> {
        serde_json::from_slice(json).map_err(|_| Malformed("a Socket.IO packet that is not JSON"))
    };
    match kind {
        b'0' => match data()? {
            Value::Object(o) if o.get("sid").is_some_and(Value::is_string) => {
                Ok(Message::Connected)
            }
            _ => Err(Malformed("a CONNECT answer without a session id")),
        },
        b'1' => Ok(Message::Disconnect),
        b'2' => match data()? {
            Value::Array(mut args) if args.first().is_some_and(Value::is_string) => {
                let first = if args.len() > 1 {
                    args.swap_remove(1)
                } else {
                    Value::Null
                };
                match args.swap_remove(0) {
                    Value::String(name) => Ok(Message::Event(name, first)),
                    _ => Err(Malformed("an EVENT without a name")),
                }
            }
            _ => Err(Malformed("an EVENT that is not a named array")),
        },
        b'4' => {
            let reason = match data() {
                Ok(Value::Object(o)) => o
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("refused")
                    .to_string(),
                _ => "refused".to_string(),
            };
            Ok(Message::Refused(reason))
        }
        _ => Err(Malformed("an unknown Socket.IO packet type")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handshake_and_its_answers() {
        let open = decode(
            br#"0{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
        );
        assert_eq!(
            open,
            Ok(Packet::Open(Open {
                ping_interval: Duration::from_secs(25),
                ping_timeout: Duration::from_secs(20),
                max_payload: 1_000_000,
            }))
        );
        assert_eq!(connect("k\"1"), r#"40{"token":"k\"1"}"#);
        assert_eq!(
            decode(br#"40{"sid":"x"}"#),
            Ok(Packet::Message(Message::Connected))
        );
        assert_eq!(
            decode(br#"44{"message":"Unauthorized"}"#),
            Ok(Packet::Message(Message::Refused("Unauthorized".into())))
        );
        assert_eq!(decode(b"2"), Ok(Packet::Ping));
        assert_eq!(decode(b"3probe"), Ok(Packet::Ignored));
        assert_eq!(decode(b"1"), Ok(Packet::Close));
        assert_eq!(decode(b"41"), Ok(Packet::Message(Message::Disconnect)));
    }

    #[test]
    fn events_namespaces_and_ack_ids() {
        let event = Packet::Message(Message::Event(
            "sandbox.created".into(),
            serde_json::json!({"id": "s"}),
        ));
        assert_eq!(decode(br#"42["sandbox.created",{"id":"s"}]"#), Ok(event));
        // With an ack id, and in the main namespace named explicitly.
        assert!(matches!(
            decode(br#"42/,7["e",1]"#),
            Ok(Packet::Message(Message::Event(n, v))) if n == "e" && v == 1
        ));
        assert!(matches!(
            decode(br#"4212["e"]"#),
            Ok(Packet::Message(Message::Event(n, Value::Null))) if n == "e"
        ));
        assert_eq!(
            decode(br#"42/admin,["e",1]"#),
            Ok(Packet::Message(Message::Ignored))
        );
        assert_eq!(
            decode(br#"451-["e",{"_placeholder":true,"num":0}]"#),
            Ok(Packet::Message(Message::Ignored))
        );
    }

    #[test]
    fn garbage_is_an_error() {
        for bad in [
            &b""[..],
            b"9",
            b"0{}",
            b"0not json",
            br#"0{"sid":"a","pingInterval":0,"pingTimeout":1}"#,
            br#"0{"sid":"a","pingInterval":-5,"pingTimeout":1}"#,
            b"4",
            b"49",
            b"42",
            b"42{}",
            b"42[1]",
            br#"40{"nosid":1}"#,
        ] {
            assert!(decode(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }
}
