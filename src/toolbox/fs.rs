//! Files (`/files/...`).

use super::Toolbox;

/// Reads and writes files in a sandbox: [`crate::Sandbox::fs`].
pub struct FileSystem<'s> {
    #[allow(dead_code)]
    tb: Toolbox<'s>,
}

impl<'s> FileSystem<'s> {
    pub(crate) fn new(tb: Toolbox<'s>) -> Self {
        FileSystem { tb }
    }
}
