//! What starts a session's profiling: the poll cursor over `logs` (this
//! module) and, later, the bus subscription (issue 6). Both feed the same
//! [`crate::handler::Handler`].

pub mod deferred;
pub mod poll;
