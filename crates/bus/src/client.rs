//! The client: cheap cloneable [`BusHandle`]s in front of one task that owns
//! the socket (the private `connection` module).
//!
//! Delivery is at-most-once, like DECNET's bus. Nothing here ever blocks a
//! publisher: publishes go into a bounded drop-oldest queue, and a publish
//! while disconnected is dropped and counted rather than queued.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;
use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;

use crate::codec::{CodecError, Frame, Verb};
use crate::event::Event;
use crate::pattern::{Pattern, Topic, TopicError};
use crate::queue::{DropOldest, Pushed};
use crate::reconnect::ReconnectPolicy;

/// Depth of the reference's queues (contracts §1.6), used for ours too.
pub const DEFAULT_QUEUE_CAPACITY: usize = 1024;

/// Everything the client needs to know.
#[derive(Debug, Clone)]
pub struct BusConfig {
    /// Socket path; see [`crate::socket_path::resolve`].
    pub socket: PathBuf,
    /// Sent with HELLO; the server only logs it.
    pub client_name: String,
    /// Publishes waiting for the socket; beyond this the oldest is dropped.
    pub outbound_capacity: usize,
    /// Events waiting in each subscription; beyond this the oldest is dropped.
    pub subscription_capacity: usize,
    /// Backoff between connection attempts.
    pub reconnect: ReconnectPolicy,
    /// Bound on the final flush and BYE at shutdown.
    pub close_timeout: Duration,
}

impl BusConfig {
    /// Defaults for everything but the socket and the name.
    pub fn new(socket: impl Into<PathBuf>, client_name: impl Into<String>) -> BusConfig {
        BusConfig {
            socket: socket.into(),
            client_name: client_name.into(),
            outbound_capacity: DEFAULT_QUEUE_CAPACITY,
            subscription_capacity: DEFAULT_QUEUE_CAPACITY,
            reconnect: ReconnectPolicy::default(),
            close_timeout: Duration::from_secs(2),
        }
    }
}

/// Where the connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// Never connected yet (the bus may be absent at start).
    Connecting,
    /// HELLO and every SUB were queued on a live socket.
    Connected,
    /// The connection was lost; retrying with backoff.
    Reconnecting,
    /// Shut down; subscriptions have ended.
    Closed,
}

/// Counters a caller can read at any time ([`BusHandle::stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BusStats {
    /// PUB frames written to the socket.
    pub published: u64,
    /// Publishes dropped because the outbound queue was full (oldest first).
    pub publish_dropped_full: u64,
    /// Publishes dropped because the bus was not connected (or shutting
    /// down), including ones queued when the connection was lost.
    pub publish_dropped_disconnected: u64,
    /// EVT frames received.
    pub events_received: u64,
    /// Events dropped because a subscription's queue was full.
    pub events_dropped: u64,
    /// EVT frames whose body was not a JSON object (skipped).
    pub events_malformed: u64,
    /// Successful connections after the first one.
    pub reconnects: u64,
    /// Failed connection attempts.
    pub connect_failures: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) published: AtomicU64,
    pub(crate) publish_dropped_full: AtomicU64,
    pub(crate) publish_dropped_disconnected: AtomicU64,
    pub(crate) events_received: AtomicU64,
    pub(crate) events_dropped: AtomicU64,
    pub(crate) events_malformed: AtomicU64,
    pub(crate) reconnects: AtomicU64,
    pub(crate) connect_failures: AtomicU64,
}

pub(crate) fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}

impl Counters {
    fn snapshot(&self) -> BusStats {
        let r = |c: &AtomicU64| c.load(Ordering::Relaxed);
        BusStats {
            published: r(&self.published),
            publish_dropped_full: r(&self.publish_dropped_full),
            publish_dropped_disconnected: r(&self.publish_dropped_disconnected),
            events_received: r(&self.events_received),
            events_dropped: r(&self.events_dropped),
            events_malformed: r(&self.events_malformed),
            reconnects: r(&self.reconnects),
            connect_failures: r(&self.connect_failures),
        }
    }
}

#[derive(Debug)]
pub(crate) struct SubEntry {
    pub(crate) pattern: Pattern,
    pub(crate) queue: Arc<DropOldest<Event>>,
}

/// Mutable state shared by handles and the connection task. One lock, held
/// briefly, so "is it connected" and "queue this" are decided together.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) connected: bool,
    pub(crate) closed: bool,
    /// SUB/UNSUB frames; written before publishes.
    pub(crate) control: VecDeque<Frame>,
    /// PUB frames.
    pub(crate) outbound: VecDeque<Frame>,
    pub(crate) subs: HashMap<u64, SubEntry>,
    /// How many local subscriptions use each pattern: SUB on 0→1, UNSUB on 1→0.
    pub(crate) pattern_refs: HashMap<Pattern, usize>,
    next_id: u64,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: BusConfig,
    pub(crate) state: Mutex<State>,
    /// Wakes the writer when control or outbound frames were queued.
    pub(crate) wake: Notify,
    pub(crate) counters: Counters,
    pub(crate) conn_state: watch::Sender<ConnectionState>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // Every critical section leaves State consistent, so a poisoned lock
        // is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Why a publish was refused. Nothing reached the wire.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The topic is not a valid publish topic.
    #[error("invalid publish topic: {0}")]
    Topic(#[from] TopicError),
    /// The payload does not serialize to a JSON object (DECNET consumers
    /// reject anything else).
    #[error("payload must serialize to a JSON object")]
    PayloadNotObject,
    /// The payload could not be serialized, or its JSON text is invalid.
    #[error("payload could not be serialized or parsed: {0}")]
    Serialize(#[from] serde_json::Error),
    /// The frame would break a protocol limit (body over 1 MiB, ...).
    #[error("publish refused: {0}")]
    Frame(#[from] CodecError),
}

/// What happened to an accepted publish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// Queued for the socket.
    Queued,
    /// Queued; the oldest queued publish was dropped to make room.
    QueuedDroppedOldest,
    /// Dropped: not connected. Counted in `publish_dropped_disconnected`.
    DroppedDisconnected,
}

/// Builds the PUB body the server expects: `{"type":..,"payload":..}`.
/// A bare payload would be accepted by the server and delivered as `{}`,
/// so the API never lets a caller write the body.
pub fn pub_frame<P: Serialize + ?Sized>(
    topic: &str,
    event_type: &str,
    payload: &P,
) -> Result<Frame, PublishError> {
    let payload = serde_json::to_vec(payload)?;
    // serde_json writes an object as `{...}` with no leading whitespace.
    if payload.first() != Some(&b'{') {
        return Err(PublishError::PayloadNotObject);
    }
    build_pub(topic, event_type, &payload)
}

/// Like [`pub_frame`] for a payload given as JSON text, which is embedded
/// as written (after checking it is one JSON object), so key order and
/// number spelling survive exactly, as with DECNET's `scripts/bus/pub.py`.
pub fn pub_frame_json_text(
    topic: &str,
    event_type: &str,
    payload_json: &str,
) -> Result<Frame, PublishError> {
    let text = payload_json.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\r'));
    if !text.starts_with('{') {
        return Err(PublishError::PayloadNotObject);
    }
    // Validates the whole text is exactly one JSON object.
    serde_json::from_str::<serde::de::IgnoredAny>(text)?;
    build_pub(topic, event_type, text.as_bytes())
}

fn build_pub(topic: &str, event_type: &str, payload: &[u8]) -> Result<Frame, PublishError> {
    let topic = Topic::new(topic)?;
    let event_type = serde_json::to_vec(event_type)?;
    let mut body = BytesMut::with_capacity(payload.len() + event_type.len() + 22);
    body.put_slice(b"{\"type\":");
    body.put_slice(&event_type);
    body.put_slice(b",\"payload\":");
    body.put_slice(payload);
    body.put_u8(b'}');
    let body: Bytes = body.freeze();
    Ok(Frame::with_object_body(Verb::Pub, topic.as_str(), body)?)
}

/// A cheap, cloneable handle on the bus. All clones share one connection.
#[derive(Debug, Clone)]
pub struct BusHandle {
    pub(crate) shared: Arc<Shared>,
    pub(crate) shutdown: CancellationToken,
}

/// Starts the client task and returns a handle at once; the task connects in
/// the background, retries forever, and stops when `shutdown` is cancelled
/// (after flushing queued frames and sending BYE, bounded by
/// `close_timeout`). Must be called inside a tokio runtime.
pub fn spawn(config: BusConfig, shutdown: CancellationToken) -> BusHandle {
    let (conn_state, _) = watch::channel(ConnectionState::Connecting);
    let shared = Arc::new(Shared {
        config,
        state: Mutex::new(State::default()),
        wake: Notify::new(),
        counters: Counters::default(),
        conn_state,
    });
    tokio::spawn(crate::connection::run(shared.clone(), shutdown.clone()));
    BusHandle { shared, shutdown }
}

impl BusHandle {
    /// Publishes `payload` (any value that serializes to a JSON object) on
    /// `topic` with the given event type. Never blocks.
    pub fn publish<P: Serialize + ?Sized>(
        &self,
        topic: &str,
        event_type: &str,
        payload: &P,
    ) -> Result<Published, PublishError> {
        let frame = pub_frame(topic, event_type, payload)?;
        Ok(self.enqueue(frame))
    }

    /// Publishes a payload given as JSON text (must be one JSON object),
    /// embedded as written. Never blocks.
    pub fn publish_json_text(
        &self,
        topic: &str,
        event_type: &str,
        payload_json: &str,
    ) -> Result<Published, PublishError> {
        let frame = pub_frame_json_text(topic, event_type, payload_json)?;
        Ok(self.enqueue(frame))
    }

    fn enqueue(&self, frame: Frame) -> Published {
        let counters = &self.shared.counters;
        let outcome = {
            let mut st = self.shared.lock();
            if !st.connected || st.closed || self.shutdown.is_cancelled() {
                bump(&counters.publish_dropped_disconnected, 1);
                return Published::DroppedDisconnected;
            }
            let outcome = if st.outbound.len() >= self.shared.config.outbound_capacity.max(1) {
                st.outbound.pop_front();
                bump(&counters.publish_dropped_full, 1);
                Published::QueuedDroppedOldest
            } else {
                Published::Queued
            };
            st.outbound.push_back(frame);
            outcome
        };
        self.shared.wake.notify_one();
        outcome
    }

    /// Subscribes to `pattern`. Every local subscription whose pattern
    /// matches an event gets its own copy. The server has no SUB ack, so
    /// events published before it processes the SUB are not seen.
    pub fn subscribe(&self, pattern: &str) -> Result<Subscription, TopicError> {
        let pattern = Pattern::new(pattern)?;
        let queue = Arc::new(DropOldest::new(self.shared.config.subscription_capacity));
        let id = {
            let mut st = self.shared.lock();
            if st.closed {
                queue.close();
            }
            let id = st.next_id;
            st.next_id += 1;
            st.subs.insert(
                id,
                SubEntry {
                    pattern: pattern.clone(),
                    queue: queue.clone(),
                },
            );
            let refs = st.pattern_refs.entry(pattern.clone()).or_insert(0);
            *refs += 1;
            if *refs == 1 && st.connected {
                if let Some(f) = pattern.sub_frame() {
                    st.control.push_back(f);
                }
            }
            id
        };
        self.shared.wake.notify_one();
        Ok(Subscription {
            id,
            pattern,
            queue,
            shared: self.shared.clone(),
        })
    }

    /// Current connection state.
    pub fn state(&self) -> ConnectionState {
        *self.shared.conn_state.borrow()
    }

    /// A receiver that sees every state change.
    pub fn watch_state(&self) -> watch::Receiver<ConnectionState> {
        self.shared.conn_state.subscribe()
    }

    /// Waits until connected; false on timeout or once closed.
    pub async fn wait_connected(&self, timeout: Duration) -> bool {
        let mut rx = self.watch_state();
        let wait = async {
            rx.wait_for(|s| matches!(s, ConnectionState::Connected | ConnectionState::Closed))
                .await
                .map(|s| *s == ConnectionState::Connected)
                .unwrap_or(false)
        };
        tokio::time::timeout(timeout, wait).await.unwrap_or(false)
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> BusStats {
        self.shared.counters.snapshot()
    }

    /// Requests shutdown (same as cancelling the token given to [`spawn`]).
    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }

    /// Waits until the client task has finished.
    pub async fn closed(&self) {
        let mut rx = self.watch_state();
        // An error means the task is gone, which is closed too.
        let _ = rx.wait_for(|s| *s == ConnectionState::Closed).await;
    }

    /// Shuts down: flushes queued frames, sends BYE, closes the socket.
    pub async fn close(&self) {
        self.shutdown();
        self.closed().await;
    }
}

/// A stream of events matching one pattern. Dropping it unsubscribes
/// (UNSUB is sent when no other local subscription uses the pattern).
#[derive(Debug)]
pub struct Subscription {
    id: u64,
    pattern: Pattern,
    queue: Arc<DropOldest<Event>>,
    shared: Arc<Shared>,
}

impl Subscription {
    /// Next event; `None` once the bus has shut down and the queue is drained.
    pub async fn recv(&mut self) -> Option<Event> {
        self.queue.pop().await
    }

    /// Next event if one is waiting.
    pub fn try_recv(&mut self) -> Option<Event> {
        self.queue.try_pop()
    }

    /// Events dropped from this subscription because its queue was full.
    pub fn dropped(&self) -> u64 {
        self.queue.dropped()
    }

    /// The pattern.
    pub fn pattern(&self) -> &Pattern {
        &self.pattern
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        {
            let mut st = self.shared.lock();
            st.subs.remove(&self.id);
            let last = match st.pattern_refs.get_mut(&self.pattern) {
                Some(refs) => {
                    *refs = refs.saturating_sub(1);
                    *refs == 0
                }
                None => false,
            };
            if last {
                st.pattern_refs.remove(&self.pattern);
                if st.connected {
                    if let Some(f) = self.pattern.unsub_frame() {
                        st.control.push_back(f);
                    }
                }
            }
        }
        self.queue.close();
        self.shared.wake.notify_one();
    }
}

/// Delivers one event to every matching local subscription.
pub(crate) fn fan_out(shared: &Shared, event: &Event) {
    let st = shared.lock();
    for sub in st.subs.values() {
        if sub.pattern.matches(&event.topic)
            && sub.queue.push(event.clone()) == Pushed::DroppedOldest
        {
            bump(&shared.counters.events_dropped, 1);
        }
    }
}
