//! `decnet-bus`: publish to and watch DECNET's bus from a shell, like
//! DECNET's `scripts/bus/{pub,sub}.py`, with the socket resolved the same way
//! as DECNET and an error that names the path when it cannot connect.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use decnet_bus::{spawn, BusConfig, BusHandle, ConnectionState, Event, Published};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Parser)]
#[command(
    name = "decnet-bus",
    version,
    about = "Publish to or subscribe on DECNET's bus"
)]
struct Cli {
    /// Bus socket. Default: $DECNET_BUS_SOCKET, else /run/decnet/bus.sock
    /// when /run/decnet is writable, else ~/.decnet/bus.sock.
    #[arg(long, global = true, value_name = "PATH")]
    socket: Option<PathBuf>,
    /// Seconds to wait for the bus before giving up.
    #[arg(long, global = true, default_value_t = 5.0, value_name = "SECS")]
    connect_timeout: f64,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print every event matching PATTERN as one JSON line
    /// (topic, type, id, ts, payload). Reconnects if the bus restarts.
    Sub {
        /// NATS-style pattern: `*` one token, `>` the rest (e.g. `attacker.>`).
        pattern: String,
        /// Exit after this many events.
        #[arg(long, value_name = "N")]
        count: Option<u64>,
    },
    /// Publish one event.
    Pub {
        /// Topic, e.g. `system.profiler.health`.
        topic: String,
        /// Payload: a JSON object.
        #[arg(default_value = "{}")]
        json: String,
        /// Event type (the envelope's `type`).
        #[arg(long = "type", default_value = "", value_name = "T")]
        event_type: String,
    },
}

/// One output line of `sub`; field order is part of the interface.
#[derive(Serialize)]
struct Line<'a> {
    topic: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
    id: &'a str,
    ts: f64,
    payload: &'a serde_json::Value,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("decnet-bus: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("decnet-bus: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn connect(
    socket: PathBuf,
    name: &str,
    timeout: Duration,
) -> Result<(BusHandle, CancellationToken)> {
    let shutdown = CancellationToken::new();
    let bus = spawn(BusConfig::new(socket.clone(), name), shutdown.clone());
    if !bus.wait_connected(timeout).await {
        bus.close().await;
        bail!(
            "cannot connect to the bus at {} within {:.1} s (is `decnet bus` running, and is this the socket it listens on? set --socket or DECNET_BUS_SOCKET)",
            socket.display(),
            timeout.as_secs_f64()
        );
    }
    Ok((bus, shutdown))
}

async fn run(cli: Cli) -> Result<()> {
    let socket = cli.socket.unwrap_or_else(decnet_bus::socket_path::resolve);
    let timeout = Duration::try_from_secs_f64(cli.connect_timeout)
        .context("--connect-timeout must be a non-negative number of seconds")?;
    match cli.command {
        Command::Pub {
            topic,
            json,
            event_type,
        } => {
            // Checked before connecting; the text is then sent as written,
            // so key order survives like with DECNET's pub.py.
            let payload: serde_json::Value =
                serde_json::from_str(&json).context("payload is not valid JSON")?;
            if !payload.is_object() {
                bail!("payload must be a JSON object");
            }
            decnet_bus::pub_frame_json_text(&topic, &event_type, &json)
                .context("publish refused")?;
            let (bus, _shutdown) = connect(socket.clone(), "decnet-bus-pub", timeout).await?;
            let outcome = bus
                .publish_json_text(&topic, &event_type, &json)
                .context("publish refused")?;
            bus.close().await;
            let stats = bus.stats();
            if outcome == Published::DroppedDisconnected || stats.published == 0 {
                bail!(
                    "the bus at {} went away before the event was written",
                    socket.display()
                );
            }
            Ok(())
        }
        Command::Sub { pattern, count } => {
            decnet_bus::Pattern::new(&pattern).context("invalid pattern")?;
            let (bus, shutdown) = connect(socket.clone(), "decnet-bus-sub", timeout).await?;
            let mut sub = bus.subscribe(&pattern).context("invalid pattern")?;
            eprintln!(
                "decnet-bus: subscribed to {pattern} on {}",
                socket.display()
            );
            let mut states = bus.watch_state();
            let mut seen = 0u64;
            let result = loop {
                if count.is_some_and(|n| seen >= n) {
                    break Ok(());
                }
                let event = tokio::select! {
                    e = sub.recv() => e,
                    _ = tokio::signal::ctrl_c() => break Ok(()),
                    changed = states.changed() => {
                        if changed.is_ok() {
                            note_state(*states.borrow_and_update(), &socket);
                        }
                        continue;
                    }
                };
                let Some(event) = event else { break Ok(()) };
                if let Err(e) = print_event(&event) {
                    break Err(e);
                }
                seen += 1;
            };
            drop(sub);
            shutdown.cancel();
            bus.closed().await;
            result
        }
    }
}

/// Tells the operator on stderr when the bus goes away and comes back.
fn note_state(state: ConnectionState, socket: &std::path::Path) {
    match state {
        ConnectionState::Reconnecting => {
            eprintln!(
                "decnet-bus: lost the bus at {}, reconnecting",
                socket.display()
            );
        }
        ConnectionState::Connected => {
            eprintln!(
                "decnet-bus: reconnected to {}, subscription restored",
                socket.display()
            );
        }
        ConnectionState::Connecting | ConnectionState::Closed => {}
    }
}

fn print_event(event: &Event) -> Result<()> {
    let line = Line {
        topic: &event.topic,
        event_type: &event.event_type,
        id: &event.id,
        ts: event.ts,
        payload: &event.payload,
    };
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, &line).context("cannot encode the event")?;
    out.write_all(b"\n").context("cannot write to stdout")?;
    out.flush().context("cannot write to stdout")?;
    Ok(())
}
