//! What a wait on a sandbox ends on: the state a change leads to, the
//! states that fail it at once, and how a wait tells that a change which
//! ends where it began (a resize, a snapshot) has happened.
//!
//! A wait never ends because the state merely is not the busy one: the
//! answer to `POST /pause` may still say `started`, and a wait "while
//! `pausing`" would end at once. It ends on the target state. Every wait
//! has a deadline ([`limit`]).

use std::time::Duration;

use crate::check;
use crate::error::Result;
use crate::models::{SandboxInfo, SandboxState};
use crate::params::Resize;
use crate::transport::poll::Deadline;

/// A wait on a sandbox.
pub(crate) struct Goal {
    /// For messages: `to start`, `to pause`, ...
    pub(crate) what: &'static str,
    /// The states that end the wait.
    target: fn(&SandboxState) -> bool,
    /// A 404 means `destroyed`, and `destroyed` ends the wait.
    pub(crate) gone_is_done: bool,
    /// The change may be asked of a sandbox in `error` or `build_failed`
    /// (start, recover, stop, delete, archive): that state is tolerated
    /// until the sandbox shows another one.
    from_failure: bool,
    /// The change ends in the state it began from (resize, snapshot): the
    /// target counts once the sandbox was seen changing (another state, a
    /// newer `updatedAt`) or shows the resources of `resize`.
    round_trip: bool,
    /// The resources a resize asked for.
    resize: Option<Resize>,
}

/// The deadline of an operation limited to `timeout`: more than zero
/// ([`crate::WAIT_FOREVER`] for no limit), else a validation error.
pub(crate) fn limit(timeout: Duration) -> Result<Deadline> {
    check::timeout(timeout)?;
    Ok(Deadline::after(timeout))
}

fn started(s: &SandboxState) -> bool {
    *s == SandboxState::Started
}

/// Not running: `stopped`, `archived` (stopped, its files moved to the
/// object store) or `destroyed`.
fn stopped(s: &SandboxState) -> bool {
    matches!(
        s,
        SandboxState::Stopped | SandboxState::Archived | SandboxState::Destroyed
    )
}

fn at_rest(s: &SandboxState) -> bool {
    matches!(s, SandboxState::Started | SandboxState::Stopped)
}

impl Goal {
    const fn new(what: &'static str, target: fn(&SandboxState) -> bool) -> Self {
        Goal {
            what,
            target,
            gone_is_done: false,
            from_failure: false,
            round_trip: false,
            resize: None,
        }
    }

    /// Until `started` (a new sandbox, a fork, [`crate::Sandbox::wait_until_started`]).
    pub(crate) const STARTED: Goal = Goal::new("to start", started);

    /// Until `started`, for `start` and `recover`, which may be asked of a
    /// sandbox in `error`.
    pub(crate) const RESTARTED: Goal = Goal {
        from_failure: true,
        ..Goal::STARTED
    };

    /// Until it leaves `pending_build` (its build log can then be read).
    pub(crate) const BUILD_STARTED: Goal = Goal::new("to leave pending_build", |s| {
        *s != SandboxState::PendingBuild
    });

    /// Until `stopped`, `archived`, `destroyed` or gone.
    pub(crate) const STOPPED: Goal = Goal {
        gone_is_done: true,
        ..Goal::new("to stop", stopped)
    };

    /// Until `stopped`, `archived`, `destroyed` or gone, for `stop`, which
    /// may be asked of a sandbox in `error`.
    pub(crate) const STOPPING: Goal = Goal {
        from_failure: true,
        ..Goal::STOPPED
    };

    /// Until `destroyed` or gone.
    pub(crate) const DELETED: Goal = Goal {
        gone_is_done: true,
        from_failure: true,
        ..Goal::new("to be deleted", |s| *s == SandboxState::Destroyed)
    };

    /// Until `paused`.
    pub(crate) const PAUSED: Goal = Goal::new("to pause", |s| *s == SandboxState::Paused);

    /// Until `archived`.
    pub(crate) const ARCHIVED: Goal = Goal {
        from_failure: true,
        ..Goal::new("to be archived", |s| *s == SandboxState::Archived)
    };

    /// Until its own snapshot is taken: back to `started` or `stopped`
    /// after it was seen changing.
    pub(crate) const SNAPSHOT: Goal = Goal {
        round_trip: true,
        ..Goal::new("to finish snapshotting", at_rest)
    };

    /// Until resized: back to `started` or `stopped` after it was seen
    /// changing, or showing the resources asked for.
    pub(crate) fn resized(resize: Resize) -> Goal {
        Goal {
            round_trip: true,
            resize: Some(resize),
            ..Goal::new("to finish resizing", at_rest)
        }
    }
}

/// What a check of the sandbox found.
#[derive(Debug, PartialEq)]
pub(crate) enum Seen {
    /// The wait is over.
    Done,
    /// Not yet.
    Pending,
    /// It reached this state, which fails the wait.
    Failed(SandboxState),
}

/// A wait in progress: its goal and what it has seen so far.
pub(crate) struct Progress<'g> {
    goal: &'g Goal,
    /// The state and `updatedAt` when the change was asked for.
    from: (Option<SandboxState>, Option<String>),
    /// Whether the sandbox has been seen in another state than `from`.
    left: bool,
    /// Whether a round trip has been seen under way.
    moved: bool,
}

impl<'g> Progress<'g> {
    /// A wait for `goal` of a sandbox that was `from` when the change was
    /// asked for (the answer to the request, or the info before it).
    pub(crate) fn new(goal: &'g Goal, from: &SandboxInfo) -> Self {
        Progress {
            goal,
            from: (from.state.clone(), from.updated_at.clone()),
            left: false,
            moved: false,
        }
    }

    /// Judges the sandbox as it is now.
    pub(crate) fn check(&mut self, info: &SandboxInfo) -> Seen {
        let Some(state) = &info.state else {
            return Seen::Pending;
        };
        let (from_state, from_updated) = &self.from;
        if from_state.as_ref() != Some(state) {
            self.left = true;
        }
        if self.goal.round_trip {
            let newer = info.updated_at.is_some() && info.updated_at != *from_updated;
            let shows = self.goal.resize.as_ref().is_some_and(|r| r.shows_in(info));
            self.moved |= self.left || newer || shows;
        }
        let tolerated = self.goal.from_failure && !self.left && state.is_failure();
        if tolerated {
            return Seen::Pending;
        }
        if state.is_failure() || (*state == SandboxState::Destroyed && !self.goal.gone_is_done) {
            return Seen::Failed(state.clone());
        }
        if (self.goal.target)(state) && (!self.goal.round_trip || self.moved) {
            return Seen::Done;
        }
        Seen::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(state: &str, updated: &str, cpu: u32) -> SandboxInfo {
        serde_json::from_value(serde_json::json!({
            "id": "sb", "organizationId": "o", "name": "sb", "user": "u",
            "public": false, "target": "us", "cpu": cpu, "gpu": 0, "memory": 1,
            "disk": 3, "state": state, "updatedAt": updated,
            "toolboxProxyUrl": "https://proxy.example/toolbox"
        }))
        .unwrap()
    }

    /// The verdicts of a wait for `goal` from `from` over `states`
    /// (state, updatedAt, cpu).
    fn run(goal: &Goal, from: (&str, &str, u32), states: &[(&str, &str, u32)]) -> Vec<Seen> {
        let mut p = Progress::new(goal, &info(from.0, from.1, from.2));
        states
            .iter()
            .map(|(s, u, c)| p.check(&info(s, u, *c)))
            .collect()
    }

    #[test]
    fn an_old_state_in_the_answer_does_not_end_a_wait() {
        use Seen::*;
        let t0 = "2026-01-01T00:00:00Z";
        let seen = run(
            &Goal::PAUSED,
            ("started", t0, 1),
            &[("started", t0, 1), ("pausing", t0, 1), ("paused", t0, 1)],
        );
        assert_eq!(seen, [Pending, Pending, Done]);
        let seen = run(
            &Goal::ARCHIVED,
            ("stopped", t0, 1),
            &[
                ("stopped", t0, 1),
                ("archiving", t0, 1),
                ("archived", t0, 1),
            ],
        );
        assert_eq!(seen, [Pending, Pending, Done]);
    }

    #[test]
    fn a_round_trip_ends_once_it_was_seen_moving() {
        use Seen::*;
        let (t0, t1) = ("2026-01-01T00:00:00Z", "2026-01-01T00:00:05Z");
        // Seen in its busy state.
        let seen = run(
            &Goal::SNAPSHOT,
            ("started", t0, 1),
            &[
                ("started", t0, 1),
                ("snapshotting", t0, 1),
                ("started", t0, 1),
            ],
        );
        assert_eq!(seen, [Pending, Pending, Done]);
        // Over between two checks: a newer updatedAt tells.
        let seen = run(
            &Goal::SNAPSHOT,
            ("started", t0, 1),
            &[("started", t0, 1), ("started", t1, 1)],
        );
        assert_eq!(seen, [Pending, Done]);
        // A resize that already shows its resources is over.
        let goal = Goal::resized(Resize::new().cpu(2));
        assert_eq!(
            run(&goal, ("started", t0, 1), &[("started", t0, 2)]),
            [Done]
        );
        assert_eq!(
            run(
                &goal,
                ("started", t0, 1),
                &[("started", t0, 1), ("resizing", t0, 1)]
            ),
            [Pending, Pending]
        );
    }

    #[test]
    fn failures_fail_at_once_unless_the_change_began_there() {
        use Seen::*;
        let t0 = "2026-01-01T00:00:00Z";
        let err = Failed(SandboxState::Error);
        assert_eq!(
            run(&Goal::PAUSED, ("started", t0, 1), &[("error", t0, 1)]),
            [err]
        );
        // Recovering from `error`: `error` until it moves, then a failure.
        let seen = run(
            &Goal::RESTARTED,
            ("error", t0, 1),
            &[("error", t0, 1), ("starting", t0, 1), ("error", t0, 1)],
        );
        assert_eq!(seen, [Pending, Pending, Failed(SandboxState::Error)]);
        assert_eq!(
            run(&Goal::PAUSED, ("started", t0, 1), &[("destroyed", t0, 1)]),
            [Failed(SandboxState::Destroyed)]
        );
        assert_eq!(
            run(&Goal::STOPPED, ("started", t0, 1), &[("destroyed", t0, 1)]),
            [Done]
        );
    }
}
