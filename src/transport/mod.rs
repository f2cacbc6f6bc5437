//! The transport: every request of the crate, to the API, to a sandbox's
//! toolbox or to the object store, is described by a [`Request`] and sent
//! by [`Transport::execute`], which adds the headers, applies the time
//! limits, retries what may be retried, maps non-2xx answers to
//! [`crate::Error::Api`] and logs one line per attempt.
//!
//! - `request`: the description of a request (method, URL, body, limits);
//! - `run`: sending it, with the attempts and their limits;
//! - `answer`: reading and decoding what comes back (JSON, listing pages);
//! - `proxy`: the proxies of the environment, one per scheme of target;
//! - `redirect`: which redirects are followed (same origin only);
//! - `retry`: the delays between attempts;
//! - `status`: what an answer or a failure means (error mapping, whether
//!   to send again), for HTTP requests and WebSocket upgrades alike;
//! - `tls`: the TLS trust of every connection;
//! - `ws`: WebSocket connections (followed logs, PTY, code interpreter);
//! - `date`, `page`, `poll`: calendar dates, pages, waits.

mod answer;
#[cfg(any(feature = "images", feature = "testing"))]
pub(crate) mod date;
pub(crate) mod page;
pub(crate) mod poll;
mod proxy;
mod redirect;
pub(crate) mod request;
pub(crate) mod retry;
mod run;
pub(crate) mod status;
pub(crate) mod tls;
#[cfg(feature = "websocket")]
pub(crate) mod ws;

pub(crate) use answer::decode;
pub(crate) use answer::drain;
pub(crate) use request::{Answer, Request};
pub(crate) use run::Transport;
pub use run::API_VERSION;
#[cfg(feature = "websocket")]
pub(crate) use run::SOURCE;
#[cfg(feature = "websocket")]
pub(crate) use run::{is_loopback, Attempt, USER_AGENT};
