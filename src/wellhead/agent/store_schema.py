"""The agent's SQLite outbox: its tables (ticks, reports, observations, proposals, co-signatures, submissions,
disagreements, evidence files) and schema version."""

SCHEMA_VERSION = 4
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS ticks (
    ts INTEGER PRIMARY KEY, gpus INTEGER NOT NULL, data BLOB, meter_power REAL, meter_wh INTEGER,
    mining_wh INTEGER, generator_wh INTEGER
);
CREATE TABLE IF NOT EXISTS reports (
    asset_id INTEGER NOT NULL, epoch INTEGER NOT NULL, status TEXT NOT NULL,
    report TEXT, measurement TEXT, evidence_hash TEXT,
    attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL DEFAULT 0, last_error TEXT,
    created_at REAL NOT NULL, updated_at REAL NOT NULL,
    PRIMARY KEY (asset_id, epoch)
);
CREATE INDEX IF NOT EXISTS reports_status ON reports (status, epoch);
CREATE TABLE IF NOT EXISTS observations (
    asset_id INTEGER NOT NULL, epoch INTEGER NOT NULL, observer INTEGER NOT NULL, signer TEXT NOT NULL,
    claim TEXT NOT NULL, signature TEXT NOT NULL, received_at REAL NOT NULL,
    PRIMARY KEY (asset_id, epoch, observer)
);
CREATE TABLE IF NOT EXISTS proposals (
    asset_id INTEGER NOT NULL, epoch INTEGER NOT NULL, digest TEXT NOT NULL, report TEXT NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (asset_id, epoch, digest)
);
CREATE TABLE IF NOT EXISTS cosignatures (
    asset_id INTEGER NOT NULL, epoch INTEGER NOT NULL, digest TEXT NOT NULL, signer TEXT NOT NULL,
    signature TEXT NOT NULL, received_at REAL NOT NULL,
    PRIMARY KEY (asset_id, epoch, digest, signer)
);
CREATE TABLE IF NOT EXISTS submissions (
    tx_hash TEXT PRIMARY KEY, asset_id INTEGER NOT NULL, epoch INTEGER NOT NULL, nonce INTEGER NOT NULL,
    sender TEXT NOT NULL, raw TEXT NOT NULL, sent_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS evidence (
    digest TEXT PRIMARY KEY, epoch INTEGER NOT NULL, epoch_end INTEGER NOT NULL, created_at REAL NOT NULL,
    uploaded_at REAL, removed_at REAL
);
CREATE INDEX IF NOT EXISTS evidence_pending ON evidence (uploaded_at, epoch);
CREATE TABLE IF NOT EXISTS disagreements (
    asset_id INTEGER NOT NULL, epoch INTEGER NOT NULL, field TEXT NOT NULL,
    ours INTEGER NOT NULL, theirs INTEGER NOT NULL, recorded_at REAL NOT NULL,
    PRIMARY KEY (asset_id, epoch, field)
);
"""
