//! The task that owns the socket: connect (with backoff), greet, replay
//! subscriptions, read and write concurrently, and start over when the
//! connection is lost — until shutdown.

use std::sync::Arc;
use std::time::Instant;

use bytes::BytesMut;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;
use tokio_util::codec::{Encoder, FramedRead};
use tokio_util::sync::CancellationToken;

use crate::client::{bump, fan_out, ConnectionState, Shared};
use crate::codec::{BusCodec, CodecError, Frame, Verb};
use crate::event::Event;

/// Write in chunks of about this size so one huge batch is not one huge buffer.
const WRITE_CHUNK: usize = 64 * 1024;

/// Why a connection ended.
#[derive(Debug)]
enum End {
    /// We sent BYE (or gave up flushing) because of shutdown.
    Shutdown,
    /// The server closed the socket or sent BYE.
    ServerClosed,
    /// Reading or writing failed.
    Failed(CodecError),
}

pub(crate) async fn run(shared: Arc<Shared>, cancel: CancellationToken) {
    let policy = shared.config.reconnect.clone();
    let mut delays = policy.delays();
    let mut ever_connected = false;
    'outer: loop {
        let stream = loop {
            let attempt = tokio::select! {
                r = UnixStream::connect(&shared.config.socket) => r,
                () = cancel.cancelled() => break 'outer,
            };
            match attempt {
                Ok(s) => break s,
                Err(e) => {
                    bump(&shared.counters.connect_failures, 1);
                    tracing::debug!(socket = %shared.config.socket.display(), error = %e, "bus connect failed");
                    let delay = delays.next().unwrap_or(policy.max_delay);
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = cancel.cancelled() => break 'outer,
                    }
                }
            }
        };
        prime(&shared);
        if ever_connected {
            bump(&shared.counters.reconnects, 1);
            tracing::info!(socket = %shared.config.socket.display(), "bus reconnected");
        } else {
            tracing::debug!(socket = %shared.config.socket.display(), "bus connected");
        }
        ever_connected = true;
        shared.conn_state.send_replace(ConnectionState::Connected);

        let started = Instant::now();
        let end = session(&shared, stream, &cancel).await;
        teardown(&shared);
        if cancel.is_cancelled() || matches!(end, End::Shutdown) {
            break;
        }
        match &end {
            End::Failed(e) => {
                tracing::warn!(error = %e, loses_framing = e.loses_framing(), "bus connection lost; reconnecting");
            }
            _ => tracing::warn!("bus closed the connection; reconnecting"),
        }
        shared
            .conn_state
            .send_replace(ConnectionState::Reconnecting);
        if started.elapsed() >= policy.stable_after {
            // A connection that lived: try again at once, with a fresh backoff.
            delays = policy.delays();
        } else {
            let delay = delays.next().unwrap_or(policy.max_delay);
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = cancel.cancelled() => break,
            }
        }
    }
    close_all(&shared);
}

/// Queues HELLO and one SUB per active pattern as the first frames of a new
/// connection, and marks the state connected, in one critical section so a
/// concurrent subscribe is neither lost nor sent twice.
fn prime(shared: &Shared) {
    let mut st = shared.lock();
    st.control.clear();
    if let Ok(hello) = Frame::empty(Verb::Hello, &shared.config.client_name) {
        st.control.push_back(hello);
    } else {
        tracing::warn!("bus client name does not fit a header line; HELLO skipped");
    }
    let subs: Vec<Frame> = st
        .pattern_refs
        .keys()
        .filter_map(|p| p.sub_frame())
        .collect();
    st.control.extend(subs);
    st.connected = true;
    drop(st);
    shared.wake.notify_one();
}

/// Marks the state disconnected and drops whatever was queued for the lost
/// socket (counted): publishes are never held for a future connection.
fn teardown(shared: &Shared) {
    let mut st = shared.lock();
    st.connected = false;
    st.control.clear();
    let lost = st.outbound.len() as u64;
    st.outbound.clear();
    drop(st);
    bump(&shared.counters.publish_dropped_disconnected, lost);
}

/// Ends every subscription and publishes the Closed state.
fn close_all(shared: &Shared) {
    let mut st = shared.lock();
    st.closed = true;
    st.connected = false;
    for sub in st.subs.values() {
        sub.queue.close();
    }
    drop(st);
    shared.conn_state.send_replace(ConnectionState::Closed);
}

async fn session(shared: &Shared, stream: UnixStream, cancel: &CancellationToken) -> End {
    let (rd, wr) = stream.into_split();
    let close_timeout = shared.config.close_timeout;
    tokio::select! {
        end = read_loop(shared, rd) => end,
        end = write_loop(shared, wr, cancel) => end,
        () = async {
            cancel.cancelled().await;
            tokio::time::sleep(close_timeout).await;
        } => {
            tracing::warn!("bus flush at shutdown timed out");
            End::Shutdown
        }
    }
}

async fn read_loop(shared: &Shared, rd: OwnedReadHalf) -> End {
    let mut frames = FramedRead::new(rd, BusCodec::new());
    loop {
        let frame = match frames.next().await {
            None => return End::ServerClosed,
            Some(Err(e)) => return End::Failed(e),
            Some(Ok(f)) => f,
        };
        match frame.verb() {
            Verb::Evt => {
                bump(&shared.counters.events_received, 1);
                match frame.json_body() {
                    Ok(body) => fan_out(shared, &Event::from_wire(frame.args(), body)),
                    Err(e) => {
                        // Does not lose framing: skip this event, keep the
                        // connection (the reference would close it).
                        bump(&shared.counters.events_malformed, 1);
                        tracing::debug!(error = %e, "bus: skipping malformed EVT body");
                    }
                }
            }
            Verb::Bye => return End::ServerClosed,
            other => tracing::debug!(verb = %other, "bus: ignoring unexpected verb from server"),
        }
    }
}

fn take_batch(shared: &Shared) -> (Vec<Frame>, u64) {
    let mut st = shared.lock();
    let published = st.outbound.len() as u64;
    let mut batch: Vec<Frame> = st.control.drain(..).collect();
    batch.extend(st.outbound.drain(..));
    (batch, published)
}

async fn write_loop(shared: &Shared, mut wr: OwnedWriteHalf, cancel: &CancellationToken) -> End {
    let mut codec = BusCodec::new();
    let mut buf = BytesMut::new();
    loop {
        let (batch, published) = take_batch(shared);
        if batch.is_empty() {
            if cancel.is_cancelled() {
                // Everything queued is written; say goodbye.
                if let Ok(bye) = Frame::empty(Verb::Bye, "") {
                    buf.clear();
                    if codec.encode(&bye, &mut buf).is_ok() {
                        let _ = wr.write_all(&buf).await;
                    }
                }
                let _ = wr.shutdown().await;
                return End::Shutdown;
            }
            tokio::select! {
                () = shared.wake.notified() => {}
                () = cancel.cancelled() => {}
            }
            continue;
        }
        // Frames are never cut: cancellation is only observed between batches.
        for frame in &batch {
            if let Err(e) = codec.encode(frame, &mut buf) {
                // Frames are validated when built, so this is a bug, not input.
                tracing::error!(error = %e, "bus: refusing to write an invalid frame");
                continue;
            }
            if buf.len() >= WRITE_CHUNK {
                if let Err(e) = wr.write_all(&buf).await {
                    return End::Failed(CodecError::Io(e));
                }
                buf.clear();
            }
        }
        if !buf.is_empty() {
            if let Err(e) = wr.write_all(&buf).await {
                return End::Failed(CodecError::Io(e));
            }
            buf.clear();
        }
        bump(&shared.counters.published, published);
    }
}
