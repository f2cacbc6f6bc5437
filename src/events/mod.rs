//! The API's real-time state changes: the notification gateway pushes
//! `sandbox.state.updated`, `sandbox.created`, `snapshot.state.updated`,
//! `volume.state.updated`, ... over Socket.IO; a wait that hears the
//! change it waits for ends at once, and keeps polling slowly as a safety
//! net (see `transport::poll`).
//!
//! The gateway is an accelerator, never a dependency: when it cannot be
//! reached, refuses the token, drops the connection or sends garbage, the
//! waits poll on their usual schedule. Without the `websocket` feature, or
//! with [`crate::DaytonaConfig::events`] off, nothing connects.
//!
//! Wire facts (the official SDKs' `EventSubscriber`/`EventDispatcher` and
//! the API's notification gateway): the Socket.IO path is the API URL's
//! path followed by `/socket.io/` (`/api/socket.io/` for the default URL),
//! on the API's origin; WebSocket transport only (`EIO=4`,
//! `transport=websocket`); the query carries `source`, `sdkVersion` and,
//! when one is configured, `organizationId`; the API key or JWT travels in
//! the namespace connection's auth payload `{token}` only (not in the URL
//! and not in an `Authorization` header); events are emitted to the
//! organization's room, with the payload `{sandbox, oldState, newState}`
//! for `sandbox.state.updated` (`snapshot`, `volume` likewise) and the
//! object itself for `*.created`. The packet format is in `codec`.

#[cfg(feature = "websocket")]
mod codec;
#[cfg(all(test, feature = "websocket"))]
mod fuzz;
#[cfg(feature = "websocket")]
mod hub;

use std::time::Duration;

use crate::transport::poll::Listen;

/// How long the connection stays open after the last wait ended.
pub(crate) const IDLE_CLOSE: Duration = Duration::from_secs(30);

/// The event connection of a client, or nothing (events off).
pub(crate) struct Events {
    #[cfg(feature = "websocket")]
    hub: Option<hub::Hub>,
}

/// A wait's place among the listeners (nothing when events are off).
pub(crate) struct Ticket {
    #[cfg(feature = "websocket")]
    inner: Option<hub::Ticket>,
}

impl Events {
    /// Nothing connects.
    pub(crate) fn off() -> Events {
        Events {
            #[cfg(feature = "websocket")]
            hub: None,
        }
    }

    /// Events from the gateway of the API at `api_url`, authenticating
    /// with `token`; nothing connects before the first wait.
    #[cfg(feature = "websocket")]
    pub(crate) fn new(
        transport: std::sync::Arc<crate::transport::Transport>,
        api_url: &url::Url,
        token: crate::config::Secret,
        organization_id: Option<&str>,
        idle_close: Duration,
    ) -> Events {
        let mut url = api_url.clone();
        let ws = if url.scheme() == "https" { "wss" } else { "ws" };
        if url.set_scheme(ws).is_err() {
            return Events::off();
        }
        let path = format!("{}/socket.io/", url.path().trim_end_matches('/'));
        url.set_path(&path);
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("EIO", "4")
                .append_pair("transport", "websocket")
                .append_pair("source", crate::transport::SOURCE)
                .append_pair("sdkVersion", crate::transport::API_VERSION);
            if let Some(org) = organization_id {
                query.append_pair("organizationId", org);
            }
        }
        Events {
            hub: Some(hub::Hub::new(transport, url, token, idle_close)),
        }
    }

    /// Starts listening for a wait that is about to send its request (the
    /// connection opens in the background when it is not open); events
    /// heard from now on count for the wait.
    pub(crate) fn begin(&self) -> Ticket {
        Ticket {
            #[cfg(feature = "websocket")]
            inner: self.hub.as_ref().map(hub::Hub::begin),
        }
    }
}

impl Ticket {
    /// The changes of the sandbox, snapshot or volume with this id or
    /// name, for a wait to listen to; `None` when events are off.
    pub(crate) fn listen(self, key: &str) -> Option<Box<dyn Listen + Send>> {
        #[cfg(feature = "websocket")]
        if let Some(ticket) = self.inner {
            return Some(Box::new(ticket.listen(key)));
        }
        let _ = key;
        None
    }
}
