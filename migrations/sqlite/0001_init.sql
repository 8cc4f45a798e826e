-- Standalone (`own` schema mode) tables, with DECNET's columns
-- (contracts.md §5; DECNET's Alembic baseline 4a914b1d62a0). Every statement
-- is idempotent: a table that already exists is left untouched.
CREATE TABLE IF NOT EXISTS attackers (
	uuid VARCHAR NOT NULL,
	ip VARCHAR NOT NULL,
	identity_id VARCHAR,
	first_seen DATETIME NOT NULL,
	last_seen DATETIME NOT NULL,
	event_count INTEGER NOT NULL DEFAULT 0,
	service_count INTEGER NOT NULL DEFAULT 0,
	decky_count INTEGER NOT NULL DEFAULT 0,
	services TEXT NOT NULL DEFAULT '[]',
	deckies TEXT NOT NULL DEFAULT '[]',
	traversal_path TEXT,
	is_traversal BOOLEAN NOT NULL DEFAULT 0,
	bounty_count INTEGER NOT NULL DEFAULT 0,
	credential_count INTEGER NOT NULL DEFAULT 0,
	fingerprints TEXT NOT NULL DEFAULT '[]',
	commands TEXT NOT NULL DEFAULT '[]',
	rotation_count INTEGER NOT NULL DEFAULT 0,
	ipv6_leak_count INTEGER NOT NULL DEFAULT 0,
	updated_at DATETIME NOT NULL,
	PRIMARY KEY (uuid)
);
CREATE INDEX IF NOT EXISTS ix_attackers_ip ON attackers (ip);
CREATE TABLE IF NOT EXISTS observations (
	id VARCHAR NOT NULL,
	identity_ref VARCHAR,
	primitive VARCHAR NOT NULL,
	value JSON NOT NULL,
	confidence FLOAT NOT NULL,
	window_start_ts FLOAT NOT NULL,
	window_end_ts FLOAT NOT NULL,
	source VARCHAR NOT NULL,
	evidence_ref VARCHAR NOT NULL,
	envelope_v INTEGER NOT NULL,
	ts FLOAT NOT NULL,
	attacker_uuid VARCHAR NOT NULL,
	PRIMARY KEY (id),
	CONSTRAINT uq_observations_evidence_primitive UNIQUE (evidence_ref, primitive),
	FOREIGN KEY(attacker_uuid) REFERENCES attackers (uuid)
);
CREATE INDEX IF NOT EXISTS ix_observations_attacker_primitive_ts ON observations (attacker_uuid, primitive, ts);
CREATE INDEX IF NOT EXISTS ix_observations_attacker_uuid ON observations (attacker_uuid);
CREATE INDEX IF NOT EXISTS ix_observations_primitive ON observations (primitive);
CREATE INDEX IF NOT EXISTS ix_observations_primitive_ts ON observations (primitive, ts);
CREATE INDEX IF NOT EXISTS ix_observations_ts ON observations (ts);
CREATE TABLE IF NOT EXISTS logs (
	id INTEGER NOT NULL,
	timestamp DATETIME NOT NULL,
	decky VARCHAR NOT NULL,
	service VARCHAR NOT NULL,
	event_type VARCHAR NOT NULL,
	attacker_ip VARCHAR NOT NULL,
	raw_line TEXT NOT NULL,
	fields TEXT NOT NULL,
	msg TEXT,
	trace_id VARCHAR,
	span_id VARCHAR,
	PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS ix_logs_attacker_ip ON logs (attacker_ip);
CREATE INDEX IF NOT EXISTS ix_logs_decky ON logs (decky);
CREATE INDEX IF NOT EXISTS ix_logs_event_type ON logs (event_type);
CREATE INDEX IF NOT EXISTS ix_logs_service ON logs (service);
CREATE INDEX IF NOT EXISTS ix_logs_timestamp ON logs (timestamp);
CREATE TABLE IF NOT EXISTS state (
	"key" VARCHAR NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY ("key")
);
