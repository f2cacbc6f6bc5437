//! Keeping the credential out of the HTTP and WebSocket libraries.
//!
//! At trace level, ureq (through `ureq-proto`) hex-dumps every request head
//! it writes and tungstenite prints the WebSocket upgrade request: both
//! would put `Authorization: Bearer <credential>` in the application's logs.
//! So those libraries are only ever given a mask of the same length
//! (`Bearer ****...`), and the credential is put in its place in the bytes
//! of the request head as they go to the socket: below the libraries that
//! log, above TLS. Nothing else of the traffic is touched.

use std::fmt;
use std::sync::Arc;

use ureq::unversioned::transport::{Buffers, ConnectionDetails, Connector, NextTimeout, Transport};

/// What the header name and value start with, as written on the wire
/// (header names are lowercase in the `http` crate; compared without case).
const PREFIX: &[u8] = b"\r\nauthorization: Bearer ";

/// The credential and the mask that stands for it.
pub(crate) struct Mask {
    secret: Vec<u8>,
    masked: Vec<u8>,
}

impl fmt::Debug for Mask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Mask(<redacted>)")
    }
}

impl Mask {
    /// A mask of `secret` (which must be a valid header value: the
    /// configuration checks it).
    pub(crate) fn new(secret: &str) -> Self {
        Mask {
            secret: secret.as_bytes().to_vec(),
            masked: vec![b'*'; secret.len()],
        }
    }

    /// The `Authorization` value the HTTP libraries are given.
    pub(crate) fn bearer(&self) -> String {
        format!("Bearer {}", String::from_utf8_lossy(&self.masked))
    }

    /// When `bytes` start with a request head, puts the credential in place
    /// of the mask in its `Authorization` line; returns whether it did.
    pub(crate) fn unmask(&self, bytes: &mut [u8]) -> bool {
        if !starts_request(bytes) {
            return false;
        }
        let line = PREFIX.len() + self.masked.len() + 2;
        let mut done = false;
        // One pass, from CR to CR (a match starts with CRLF; this runs on
        // every request), up to the blank line that ends the head.
        let mut from = 0;
        while let Some(i) = next(bytes, b'\r', from) {
            if bytes[i..].starts_with(b"\r\n\r\n") {
                break;
            }
            let end = i + line;
            if end <= bytes.len() {
                let at = &bytes[i..end];
                if at[..PREFIX.len()].eq_ignore_ascii_case(PREFIX)
                    && at[PREFIX.len()..line - 2] == self.masked[..]
                    && &at[line - 2..] == b"\r\n"
                {
                    bytes[i + PREFIX.len()..end - 2].copy_from_slice(&self.secret);
                    done = true;
                    // Its CRLF may begin the blank line.
                    if bytes[end - 2..].starts_with(b"\r\n\r\n") {
                        break;
                    }
                    from = end;
                    continue;
                }
            }
            from = i + 1;
        }
        done
    }
}

/// `METHOD ` at the start: the first bytes of a request head.
fn starts_request(bytes: &[u8]) -> bool {
    let method = bytes.iter().take(16).take_while(|b| b.is_ascii_uppercase());
    let n = method.count();
    n > 0 && bytes.get(n) == Some(&b' ')
}

/// The first `byte` of `hay` at or after `from`.
fn next(hay: &[u8], byte: u8, from: usize) -> Option<usize> {
    let p = hay.get(from..)?.iter().position(|&b| b == byte)?;
    Some(from + p)
}

/// The last link of ureq's connector chain: wraps each connection (plain
/// or TLS) so that request heads are unmasked as they are sent.
#[derive(Debug)]
pub(crate) struct Unmasking(pub(crate) Arc<Mask>);

impl Connector<Box<dyn Transport>> for Unmasking {
    type Out = UnmaskingTransport;

    fn connect(
        &self,
        _: &ConnectionDetails,
        chained: Option<Box<dyn Transport>>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        Ok(chained.map(|inner| UnmaskingTransport {
            inner,
            mask: self.0.clone(),
        }))
    }
}

/// A connection whose outgoing request heads get the credential.
#[derive(Debug)]
pub(crate) struct UnmaskingTransport {
    inner: Box<dyn Transport>,
    mask: Arc<Mask>,
}

impl Transport for UnmaskingTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        self.inner.buffers()
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let output = self.inner.buffers().output();
        let end = amount.min(output.len());
        self.mask.unmask(&mut output[..end]);
        self.inner.transmit_output(amount, timeout)
    }

    fn maybe_await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.inner.maybe_await_input(timeout)
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.inner.await_input(timeout)
    }

    fn is_open(&mut self) -> bool {
        self.inner.is_open()
    }

    fn is_tls(&self) -> bool {
        self.inner.is_tls()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_authorization_line_of_a_request_head_is_unmasked() {
        let mask = Mask::new("s3cr3t");
        assert_eq!(mask.bearer(), "Bearer ******");
        let mut head = b"GET /x HTTP/1.1\r\nhost: h\r\nauthorization: Bearer ******\r\n\r\nauthorization: Bearer ******\r\n".to_vec();
        assert!(mask.unmask(&mut head));
        assert_eq!(
            head,
            b"GET /x HTTP/1.1\r\nhost: h\r\nauthorization: Bearer s3cr3t\r\n\r\nauthorization: Bearer ******\r\n"
        );
        // Not a request head (a body), a longer mask, another header.
        for text in [
            &b"{\"a\": 1}\r\nauthorization: Bearer ******\r\n\r\n"[..],
            b"GET / HTTP/1.1\r\nauthorization: Bearer *******\r\n\r\n",
            b"GET / HTTP/1.1\r\nx-authorization: Bearer ******\r\n\r\n",
            b"get / HTTP/1.1\r\nauthorization: Bearer ******\r\n\r\n",
        ] {
            let mut bytes = text.to_vec();
            assert!(
                !mask.unmask(&mut bytes),
                "{}",
                String::from_utf8_lossy(text)
            );
            assert_eq!(bytes, text);
        }
        let mut upper = b"POST / HTTP/1.1\r\nAuthorization: Bearer ******\r\n\r\n".to_vec();
        assert!(mask.unmask(&mut upper));
        assert!(!format!("{mask:?}").contains("s3cr3t"));
    }
}
