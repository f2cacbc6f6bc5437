//! Following a session command's log over WebSocket
//! (`.../command/{cid}/logs?follow=true`), as the toolbox does: binary
//! frames of the log's bytes, in which `01 01 01` switches to stdout and
//! `02 02 02` to stderr; what was written before comes first; a normal
//! close (1000) once the command has ended and all was sent. The
//! entrypoint (there is none) closes at once.

use std::sync::Arc;
use std::time::Duration;

use super::pty::started;
use super::Session;
use crate::testing::server::{Outcome, Request};
use crate::testing::ws::{self, Polled, Ws};
use crate::testing::{error, lock, Shared};

/// How often the log is checked for more.
const POLL: Duration = Duration::from_millis(10);

/// `GET /process/session/{sid}/command/{cid}/logs?follow=true`, and
/// `GET /process/session/entrypoint/logs?follow=true` (`command` None).
pub(crate) fn connect(
    shared: &Arc<Shared>,
    req: &Request,
    sandbox: &str,
    session: &str,
    command: Option<&str>,
) -> Outcome {
    let sb = match started(shared, sandbox) {
        Ok(sb) => sb,
        Err(r) => return Outcome::Respond(r),
    };
    let Some(command) = command else {
        return ws::upgrade(req, |mut socket| ws::close(&mut socket, 1000, ""));
    };
    let found = {
        let mut world = shared.world();
        world
            .sandbox(&sb.id)
            .and_then(|i| world.sandboxes[i].sessions.get(session).cloned())
    };
    let Some(found) = found else {
        return Outcome::Respond(error(404, &format!("session {session} not found")));
    };
    if !lock(&found).iter().any(|c| c.id == command) {
        return Outcome::Respond(error(404, &format!("command {command} not found")));
    }
    let command = command.to_string();
    ws::upgrade(req, move |socket| follow(&found, &command, socket))
}

/// Sends the log as it grows; closes normally once the command has ended
/// and everything was sent, or stops when the client goes.
fn follow(session: &Session, command: &str, mut socket: Ws) {
    let mut sent = 0;
    loop {
        let (more, ended) = {
            let commands = lock(session);
            match commands.iter().find(|c| c.id == command) {
                Some(c) => (c.log.get(sent..).unwrap_or_default().to_vec(), c.ended()),
                // The session was deleted with its commands.
                None => (Vec::new(), true),
            }
        };
        if !more.is_empty() {
            if !ws::send_binary(&mut socket, &more) {
                return;
            }
            sent += more.len();
        }
        if ended && more.is_empty() {
            ws::close(&mut socket, 1000, "");
            return;
        }
        if matches!(ws::poll(&mut socket, POLL), Polled::Gone) {
            return;
        }
    }
}
