//! How the daemon tells others it is alive, and hears that it should stop.
//!
//! * [`notify`]: systemd's `sd_notify` protocol (READY, WATCHDOG, STOPPING,
//!   STATUS) over `$NOTIFY_SOCKET`.
//! * [`watchdog`]: WATCHDOG=1 only while the work loops make progress.
//! * [`heartbeat`]: DECNET's `system.<worker>.health` presence beacon.
//! * [`control`]: DECNET's `system.<worker>.control` stop requests.

pub mod control;
pub mod heartbeat;
pub mod notify;
pub mod watchdog;

pub use control::{parse_control, ControlAction, ControlError};
pub use heartbeat::{heartbeat_payload, HeartbeatExtra, WorkerName, WorkerNameError};
pub use notify::{Notifier, NotifyError};
pub use watchdog::{Beat, Liveness};
