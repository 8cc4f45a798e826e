//! Client behaviour against an in-process fake server (tokio UnixListener):
//! greeting, PUB body shape, local fan-out, drop-oldest, reconnect and
//! resubscribe, shutdown. Every wait is bounded.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use decnet_bus::{
    spawn, BusCodec, BusConfig, BusHandle, CodecError, ConnectionState, Frame, PublishError,
    Published, ReconnectPolicy, Verb,
};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::codec::{FramedRead, FramedWrite};
use tokio_util::sync::CancellationToken;

const LIMIT: Duration = Duration::from_secs(5);

async fn within<T>(what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(LIMIT, fut)
        .await
        .unwrap_or_else(|_| panic!("timed out: {what}"))
}

struct Server {
    _dir: tempfile::TempDir,
    path: PathBuf,
    listener: Option<UnixListener>,
}

impl Server {
    fn new() -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bus.sock");
        let listener = Some(UnixListener::bind(&path).expect("bind"));
        Server {
            _dir: dir,
            path,
            listener,
        }
    }

    fn unbound() -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bus.sock");
        Server {
            _dir: dir,
            path,
            listener: None,
        }
    }

    fn bind(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        self.listener = Some(UnixListener::bind(&self.path).expect("bind"));
    }

    fn unbind(&mut self) {
        self.listener = None;
        let _ = std::fs::remove_file(&self.path);
    }

    async fn accept(&self) -> Conn {
        let listener = self.listener.as_ref().expect("server is bound");
        let (stream, _) = within("accept", listener.accept()).await.expect("accept");
        Conn::new(stream)
    }

    fn config(&self) -> BusConfig {
        let mut c = BusConfig::new(self.path.clone(), "test-client");
        c.reconnect = ReconnectPolicy {
            min_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(100),
            ..ReconnectPolicy::default()
        };
        c.close_timeout = Duration::from_millis(500);
        c
    }
}

struct Conn {
    rd: FramedRead<OwnedReadHalf, BusCodec>,
    wr: FramedWrite<OwnedWriteHalf, BusCodec>,
}

impl Conn {
    fn new(stream: UnixStream) -> Conn {
        let (rd, wr) = stream.into_split();
        Conn {
            rd: FramedRead::new(rd, BusCodec::new()),
            wr: FramedWrite::new(wr, BusCodec::new()),
        }
    }

    async fn next(&mut self) -> Frame {
        within("frame from client", self.rd.next())
            .await
            .expect("client closed")
            .expect("client sent a bad frame")
    }

    async fn end(&mut self) -> Option<Result<Frame, CodecError>> {
        within("client close", self.rd.next()).await
    }

    async fn send(&mut self, f: Frame) {
        within("send", self.wr.send(f)).await.expect("send");
    }

    async fn evt(&mut self, topic: &str, body: serde_json::Value) {
        let body = Bytes::from(serde_json::to_vec(&body).expect("json"));
        self.send(Frame::new(Verb::Evt, topic, body).expect("frame"))
            .await;
    }

    async fn raw(&mut self, bytes: &[u8]) {
        within("raw", self.wr.get_mut().write_all(bytes))
            .await
            .expect("raw write");
    }
}

fn args(f: &Frame) -> (Verb, &str) {
    (f.verb(), f.args())
}

async fn connected(bus: &BusHandle) {
    assert!(bus.wait_connected(LIMIT).await, "client did not connect");
}

async fn wait_stat(bus: &BusHandle, what: &str, pred: impl Fn(&decnet_bus::BusStats) -> bool) {
    within(what, async {
        while !pred(&bus.stats()) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

#[tokio::test]
async fn hello_sub_pub_and_bye() {
    let server = Server::new();
    let bus = spawn(server.config(), CancellationToken::new());
    let _sub = bus.subscribe("attacker.session.ended").expect("pattern");
    let mut conn = server.accept().await;
    assert_eq!(args(&conn.next().await), (Verb::Hello, "test-client"));
    assert_eq!(
        args(&conn.next().await),
        (Verb::Sub, "attacker.session.ended")
    );
    connected(&bus).await;

    #[derive(serde::Serialize)]
    struct Obs {
        primitive: &'static str,
        value: f64,
    }
    let r = bus.publish(
        "attacker.observation.motor.x",
        "motor.x",
        &Obs {
            primitive: "motor.x",
            value: 0.5,
        },
    );
    assert_eq!(r.expect("publish"), Published::Queued);
    let f = conn.next().await;
    assert_eq!(args(&f), (Verb::Pub, "attacker.observation.motor.x"));
    assert_eq!(
        f.body().as_ref(),
        br#"{"type":"motor.x","payload":{"primitive":"motor.x","value":0.5}}"#
    );

    bus.close().await;
    assert_eq!(args(&conn.next().await), (Verb::Bye, ""));
    assert!(conn.end().await.is_none());
    assert_eq!(bus.state(), ConnectionState::Closed);
    assert_eq!(bus.stats().published, 1);
}

#[tokio::test]
async fn bad_publishes_are_refused_before_the_wire() {
    let server = Server::new();
    let bus = spawn(server.config(), CancellationToken::new());
    let mut conn = server.accept().await;
    connected(&bus).await;
    assert!(matches!(
        bus.publish("a..b", "t", &json!({})),
        Err(PublishError::Topic(_))
    ));
    assert!(matches!(
        bus.publish("a.*", "t", &json!({})),
        Err(PublishError::Topic(_))
    ));
    assert!(matches!(
        bus.publish("a b", "t", &json!({})),
        Err(PublishError::Topic(_))
    ));
    assert!(matches!(
        bus.publish("a.b", "t", &json!([1])),
        Err(PublishError::PayloadNotObject)
    ));
    assert!(matches!(
        bus.publish("a.b", "t", &"bare"),
        Err(PublishError::PayloadNotObject)
    ));
    let big = json!({ "k": "x".repeat(decnet_bus::MAX_BODY_BYTES) });
    assert!(matches!(
        bus.publish("a.b", "t", &big),
        Err(PublishError::Frame(CodecError::OutgoingBodyTooLong { .. }))
    ));
    for bad in ["[1]", "\"x\"", "{", "{} {}", "{}x", "", "null"] {
        assert!(
            bus.publish_json_text("a.b", "t", bad).is_err(),
            "{bad:?} accepted"
        );
    }
    bus.publish("a.b", "ok", &json!({})).expect("valid publish");
    bus.publish_json_text("a.b", "raw", " {\"z\": 1, \"a\": 2.50}\n")
        .expect("valid text");
    assert_eq!(args(&conn.next().await), (Verb::Hello, "test-client"));
    // Only the valid publish reached the wire.
    let f = conn.next().await;
    assert_eq!(args(&f), (Verb::Pub, "a.b"));
    assert_eq!(f.body().as_ref(), br#"{"type":"ok","payload":{}}"#);
    let f = conn.next().await;
    assert_eq!(
        f.body().as_ref(),
        br#"{"type":"raw","payload":{"z": 1, "a": 2.50}}"#
    );
    bus.close().await;
}

#[tokio::test]
async fn local_fan_out_and_pattern_refcounts() {
    let server = Server::new();
    let bus = spawn(server.config(), CancellationToken::new());
    let mut conn = server.accept().await;
    connected(&bus).await;
    assert_eq!(args(&conn.next().await).0, Verb::Hello);
    let mut all = bus.subscribe("a.>").expect("pattern");
    let mut star = bus.subscribe("a.*").expect("pattern");
    let mut star2 = bus.subscribe("a.*").expect("pattern");
    let mut other = bus.subscribe("b.>").expect("pattern");
    let subs: Vec<_> = [conn.next().await, conn.next().await, conn.next().await]
        .iter()
        .map(|f| (f.verb(), f.args().to_owned()))
        .collect();
    assert_eq!(
        subs,
        [
            (Verb::Sub, "a.>".into()),
            (Verb::Sub, "a.*".into()),
            (Verb::Sub, "b.>".into())
        ]
    );

    conn.evt(
        "a.b",
        json!({"v":1,"id":"i1","topic":"spoof","type":"t","ts":1.5,"payload":{"n":1}}),
    )
    .await;
    conn.evt("a.b.c", json!({"type":"t","payload":{"n":2}}))
        .await;
    let e = within("all 1", all.recv()).await.expect("event");
    assert_eq!(
        (e.topic.as_str(), e.event_type.as_str(), e.id.as_str(), e.ts),
        ("a.b", "t", "i1", 1.5)
    );
    assert_eq!(e.payload, json!({"n":1}));
    assert_eq!(
        within("all 2", all.recv()).await.expect("event").payload,
        json!({"n":2})
    );
    assert_eq!(
        within("star", star.recv()).await.expect("event").topic,
        "a.b"
    );
    assert_eq!(
        within("star2", star2.recv()).await.expect("event").topic,
        "a.b"
    );
    wait_stat(&bus, "2 events", |s| s.events_received == 2).await;
    assert!(star.try_recv().is_none());
    assert!(star2.try_recv().is_none());
    assert!(other.try_recv().is_none());

    // Dropping one of two "a.*" subscriptions sends nothing; the last sends UNSUB.
    drop(star2);
    drop(star);
    assert_eq!(args(&conn.next().await), (Verb::Unsub, "a.*"));
    bus.close().await;
    assert_eq!(args(&conn.next().await), (Verb::Bye, ""));
    assert!(within("closed", other.recv()).await.is_none());
}

#[tokio::test]
async fn slow_subscriber_drops_oldest() {
    let server = Server::new();
    let mut config = server.config();
    config.subscription_capacity = 4;
    let bus = spawn(config, CancellationToken::new());
    let mut sub = bus.subscribe("n").expect("pattern");
    let mut conn = server.accept().await;
    connected(&bus).await;
    for i in 0..10 {
        conn.evt("n", json!({"payload":{"i":i}})).await;
    }
    wait_stat(&bus, "10 events", |s| s.events_received == 10).await;
    let mut got = Vec::new();
    while let Some(e) = sub.try_recv() {
        got.push(e.payload["i"].as_i64().expect("i"));
    }
    assert_eq!(got, [6, 7, 8, 9]);
    assert_eq!(sub.dropped(), 6);
    assert_eq!(bus.stats().events_dropped, 6);
    bus.close().await;
}

#[tokio::test]
async fn full_outbound_queue_drops_oldest_publish() {
    let server = Server::new();
    let mut config = server.config();
    config.outbound_capacity = 2;
    let bus = spawn(config, CancellationToken::new());
    let mut conn = server.accept().await;
    connected(&bus).await;
    assert_eq!(args(&conn.next().await).0, Verb::Hello);
    // No await between publishes: the single-threaded test runtime cannot run
    // the writer in between, so the queue overflows deterministically.
    let outcomes: Vec<Published> = (0..5)
        .map(|i| bus.publish("p", "t", &json!({ "i": i })).expect("publish"))
        .collect();
    assert_eq!(outcomes[..2], [Published::Queued, Published::Queued]);
    assert!(outcomes[2..]
        .iter()
        .all(|o| *o == Published::QueuedDroppedOldest));
    for want in [3, 4] {
        let f = conn.next().await;
        let body: serde_json::Value = serde_json::from_slice(f.body()).expect("json");
        assert_eq!(body["payload"]["i"], want);
    }
    let s = bus.stats();
    assert_eq!((s.publish_dropped_full, s.published), (3, 2));
    bus.close().await;
}

#[tokio::test]
async fn absent_server_then_publish_dropped_then_connects() {
    let mut server = Server::unbound();
    let bus = spawn(server.config(), CancellationToken::new());
    let _sub = bus.subscribe("x.>").expect("pattern");
    assert_eq!(
        bus.publish("x.y", "t", &json!({})).expect("publish"),
        Published::DroppedDisconnected
    );
    assert_eq!(bus.stats().publish_dropped_disconnected, 1);
    wait_stat(&bus, "failed attempts", |s| s.connect_failures >= 2).await;
    assert_eq!(bus.state(), ConnectionState::Connecting);
    server.bind();
    let mut conn = server.accept().await;
    assert_eq!(args(&conn.next().await).0, Verb::Hello);
    assert_eq!(args(&conn.next().await), (Verb::Sub, "x.>"));
    connected(&bus).await;
    assert_eq!(bus.stats().reconnects, 0);
    bus.close().await;
}

#[tokio::test]
async fn reconnects_and_resubscribes_after_server_restart() {
    let mut server = Server::new();
    let bus = spawn(server.config(), CancellationToken::new());
    let mut states = bus.watch_state();
    let mut sub = bus.subscribe("a.>").expect("pattern");
    let _sub2 = bus.subscribe("system.*.health").expect("pattern");
    let mut conn = server.accept().await;
    connected(&bus).await;
    let mut first: Vec<String> = Vec::new();
    for _ in 0..3 {
        let f = conn.next().await;
        first.push(format!("{} {}", f.verb(), f.args()));
    }
    first[1..].sort();
    assert_eq!(
        first,
        ["HELLO test-client", "SUB a.>", "SUB system.*.health"]
    );
    conn.evt("a.1", json!({"payload":{"n":1}})).await;
    assert_eq!(
        within("before", sub.recv()).await.expect("event").payload,
        json!({"n":1})
    );

    // Kill the server: connection and listener go away.
    drop(conn);
    server.unbind();
    within(
        "reconnecting",
        states.wait_for(|s| *s == ConnectionState::Reconnecting),
    )
    .await
    .expect("state");
    assert_eq!(
        bus.publish("a.2", "t", &json!({})).expect("publish"),
        Published::DroppedDisconnected
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    server.bind();
    let mut conn = server.accept().await;
    let mut again: Vec<String> = Vec::new();
    for _ in 0..3 {
        let f = conn.next().await;
        again.push(format!("{} {}", f.verb(), f.args()));
    }
    again[1..].sort();
    assert_eq!(again, first);
    connected(&bus).await;
    conn.evt("a.3", json!({"payload":{"n":3}})).await;
    assert_eq!(
        within("after", sub.recv()).await.expect("event").payload,
        json!({"n":3})
    );
    let s = bus.stats();
    assert_eq!(s.reconnects, 1);
    assert_eq!(s.publish_dropped_disconnected, 1);
    bus.close().await;
}

#[tokio::test]
async fn malformed_body_is_skipped_but_broken_framing_reconnects() {
    let server = Server::new();
    let bus = spawn(server.config(), CancellationToken::new());
    let mut sub = bus.subscribe("t").expect("pattern");
    let mut conn = server.accept().await;
    connected(&bus).await;
    assert_eq!(args(&conn.next().await).0, Verb::Hello);
    assert_eq!(args(&conn.next().await), (Verb::Sub, "t"));
    conn.raw(b"EVT t\n\0\0\0\x03[1]").await;
    conn.raw(b"EVT t\n\0\0\0\x02{x").await;
    conn.evt("t", json!({"payload":{"ok":true}})).await;
    assert_eq!(
        within("good event", sub.recv())
            .await
            .expect("event")
            .payload,
        json!({"ok":true})
    );
    assert_eq!(bus.stats().events_malformed, 2);

    // An unknown verb breaks framing: the client drops the connection and dials again.
    conn.raw(b"NOPE\n\0\0\0\0").await;
    assert!(matches!(conn.end().await, None | Some(Err(_))));
    let mut conn2 = server.accept().await;
    assert_eq!(args(&conn2.next().await).0, Verb::Hello);
    assert_eq!(args(&conn2.next().await), (Verb::Sub, "t"));
    wait_stat(&bus, "reconnect", |s| s.reconnects == 1).await;
    bus.close().await;
}

#[tokio::test]
async fn cancellation_token_shuts_down_and_ends_subscriptions() {
    let server = Server::new();
    let token = CancellationToken::new();
    let bus = spawn(server.config(), token.child_token());
    let mut sub = bus.subscribe("t").expect("pattern");
    let mut conn = server.accept().await;
    connected(&bus).await;
    bus.publish("t", "x", &json!({"last": true}))
        .expect("publish");
    token.cancel();
    within("closed", bus.closed()).await;
    let mut tail = Vec::new();
    while let Some(Ok(f)) = within("tail", conn.rd.next()).await {
        tail.push(f.verb());
    }
    assert_eq!(tail, [Verb::Hello, Verb::Sub, Verb::Pub, Verb::Bye]);
    assert!(within("sub ends", sub.recv()).await.is_none());
    assert_eq!(
        bus.publish("t", "x", &json!({})).expect("publish"),
        Published::DroppedDisconnected
    );
    // Subscribing after close gives an ended subscription, not a hang.
    let mut late = bus.subscribe("t").expect("pattern");
    assert!(within("late sub", late.recv()).await.is_none());
}

#[tokio::test]
async fn shutdown_while_never_connected_is_prompt() {
    let server = Server::unbound();
    let bus = spawn(server.config(), CancellationToken::new());
    tokio::time::sleep(Duration::from_millis(30)).await;
    within("close", bus.close()).await;
    assert_eq!(bus.state(), ConnectionState::Closed);
}
