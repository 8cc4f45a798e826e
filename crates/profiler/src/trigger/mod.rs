//! What starts a session's profiling: the bus subscription ([`bus`]) and the
//! poll cursor over `logs` ([`poll`], the catch-up). Both feed the same
//! [`crate::handler::Handler`].

pub mod bus;
pub mod deferred;
pub mod poll;
