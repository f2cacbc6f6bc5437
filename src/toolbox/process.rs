//! Commands, code and sessions (`/process/...`).

use super::Toolbox;

/// Runs commands and code in a sandbox: [`crate::Sandbox::process`].
pub struct Process<'s> {
    #[allow(dead_code)]
    tb: Toolbox<'s>,
}

impl<'s> Process<'s> {
    pub(crate) fn new(tb: Toolbox<'s>) -> Self {
        Process { tb }
    }
}
