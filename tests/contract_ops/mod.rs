//! The operations a contract round drives, by side: `impl Suite` blocks
//! that `Suite::round` calls in turn.

mod api;
mod toolbox;
