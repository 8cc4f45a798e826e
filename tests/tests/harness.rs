//! The harness itself: DECNET's Python bus carries an event from the Python
//! publisher to the Python subscriber; temporary databases come and go.

use std::time::Duration;

use decnet_e2e::bus::PyBus;
use decnet_e2e::db::TestDb;
use decnet_e2e::py::{publish, Subscriber};
use decnet_e2e::{env, fixtures, require};
use serde_json::json;

#[test]
fn python_bus_round_trip_and_restart() {
    let python = require!(
        env::bus_python(),
        "DECNET_BUS_PYTHON (python with decnet==1.0.0 + orjson)"
    );
    let mut bus = match PyBus::start(&python) {
        Ok(b) => b,
        Err(e) => panic!("{e}"),
    };
    let out = bus.dir().join("sub.jsonl");
    let sub = match Subscriber::start(&python, bus.socket(), "attacker.>", out) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    let ev = json!({"topic":"attacker.session.ended","type":"session.ended","payload":{"session_id":"s1"}});
    let sent = match publish(&python, bus.socket(), &[ev.clone(), ev], 0) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(sent.len(), 2);
    let got = sub.wait_for(2, Duration::from_secs(10), Duration::from_millis(200));
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0]["topic"], "attacker.session.ended");
    assert_eq!(got[0]["type"], "session.ended");
    assert_eq!(got[0]["payload"]["session_id"], "s1");

    // Crash and restart: the subscriber helper resubscribes by itself.
    if let Err(e) = bus.restart() {
        panic!("{e}");
    }
    if let Err(e) = sub.wait_ready(Duration::from_secs(10)) {
        panic!("{e}");
    }
    let ev = json!({"topic":"attacker.x","type":"x","payload":{"n":3}});
    if let Err(e) = publish(&python, bus.socket(), &[ev], 0) {
        panic!("{e}");
    }
    let got = sub.wait_for(3, Duration::from_secs(10), Duration::from_millis(200));
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[2]["payload"]["n"], 3);
}

#[test]
fn calibration_corpus_is_laid_out_like_decnet() {
    let corpus = require!(fixtures::calibration(), "the shared calibration corpus");
    assert_eq!(corpus.sessions.len(), 15);
    assert_eq!(corpus.reference_total(), 429);
    for s in &corpus.sessions {
        assert!(s.shard_path.starts_with(corpus.root()));
        assert!(s.shard_path.is_file());
        assert!(s
            .evidence_ref()
            .starts_with(&format!("shard:{}/ssh/sessions-2026-05-02.jsonl#", s.decky)));
    }
}

#[test]
fn temporary_server_databases_are_created_and_dropped() {
    for (name, db) in [
        ("MariaDB", TestDb::mysql()),
        ("PostgreSQL", TestDb::postgres()),
    ] {
        let db = require!(db, name);
        assert!(db.url.contains("/e2e_"), "{}", db.url);
        assert!(db.toml().contains("schema = \"own\""));
        // No tables yet: the daemon creates them in `own` mode.
        assert!(db.observations().is_empty());
    }
}
