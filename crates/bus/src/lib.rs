//! DECNET bus client.
//!
//! DECNET's bus is a host-local UNIX socket speaking frames of a verb line, a
//! big-endian length and a JSON object body (contracts §1). This crate holds:
//!
//! * [`codec`]: the frame codec (tokio-util `Decoder`/`Encoder`), with typed
//!   errors split into "connection broken" and "this frame only";
//! * [`pattern`]: NATS-style topic matching exactly as the reference server,
//!   and validation of topics we publish;
//! * [`client`]: cloneable handles over one socket-owning task, with local
//!   fan-out, bounded drop-oldest queues and drop counters;
//! * [`reconnect`]: the backoff policy (the Python client never reconnects);
//! * [`socket_path`]: the socket path resolution DECNET uses.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use decnet_bus::{spawn, BusConfig};
//! use tokio_util::sync::CancellationToken;
//!
//! let shutdown = CancellationToken::new();
//! let bus = spawn(BusConfig::new(decnet_bus::socket_path::resolve(), "profiler"), shutdown.clone());
//! let mut sub = bus.subscribe("attacker.session.ended")?;
//! bus.publish("system.profiler.health", "health", &serde_json::json!({"worker": "profiler"}))?;
//! if let Some(event) = sub.recv().await {
//!     println!("{} {}", event.topic, event.event_type);
//! }
//! bus.close().await;
//! # Ok(()) }
//! ```

pub mod client;
pub mod codec;
mod connection;
pub mod event;
pub mod pattern;
mod queue;
pub mod reconnect;
pub mod socket_path;

pub use client::{
    pub_frame, pub_frame_json_text, spawn, BusConfig, BusHandle, BusStats, ConnectionState,
    PublishError, Published, Subscription,
};
pub use codec::{
    BusCodec, CodecError, Frame, Verb, MAX_BODY_BYTES, MAX_FRAME_BYTES, MAX_HEADER_BYTES,
};
pub use event::Event;
pub use pattern::{matches, Pattern, Topic, TopicError};
pub use reconnect::ReconnectPolicy;
