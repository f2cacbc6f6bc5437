//! Git (`/git/...`).

use super::Toolbox;

/// Runs git operations in a sandbox: [`crate::Sandbox::git`].
pub struct Git<'s> {
    #[allow(dead_code)]
    tb: Toolbox<'s>,
}

impl<'s> Git<'s> {
    pub(crate) fn new(tb: Toolbox<'s>) -> Self {
        Git { tb }
    }
}
