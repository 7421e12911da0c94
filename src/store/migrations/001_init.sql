-- Schema version 1: normalized events, alerts, incidents, membership, entities, audit log.
CREATE TABLE events (
    id              INTEGER PRIMARY KEY,
    ts              INTEGER,            -- @timestamp, Unix milliseconds (NULL when the event has none)
    ingested        INTEGER NOT NULL,   -- when the store acknowledged it, Unix milliseconds
    source_ip       TEXT,
    destination_ip  TEXT,
    host            TEXT,
    user            TEXT,
    process_entity  TEXT,
    file_hash       TEXT,
    url_domain      TEXT,
    product         TEXT,               -- observer.product / event.module / event.provider
    size            INTEGER NOT NULL,   -- bytes of `doc`, for size-based retention
    doc             TEXT NOT NULL       -- the normalized event, JSON
);
CREATE INDEX events_ts ON events(ts);
CREATE INDEX events_source_ip ON events(source_ip) WHERE source_ip IS NOT NULL;
CREATE INDEX events_destination_ip ON events(destination_ip) WHERE destination_ip IS NOT NULL;
CREATE INDEX events_host ON events(host) WHERE host IS NOT NULL;
CREATE INDEX events_user ON events(user) WHERE user IS NOT NULL;
CREATE INDEX events_process_entity ON events(process_entity) WHERE process_entity IS NOT NULL;
CREATE INDEX events_file_hash ON events(file_hash) WHERE file_hash IS NOT NULL;
CREATE INDEX events_url_domain ON events(url_domain) WHERE url_domain IS NOT NULL;
CREATE INDEX events_product ON events(product) WHERE product IS NOT NULL;

CREATE TABLE alerts (
    id          TEXT PRIMARY KEY,       -- stable alert id
    ts          INTEGER,
    rule_id     TEXT NOT NULL,
    rule_title  TEXT NOT NULL,
    level       TEXT NOT NULL,
    event_id    INTEGER REFERENCES events(id) ON DELETE SET NULL,
    doc         TEXT NOT NULL           -- the whole alert, JSON
);
CREATE INDEX alerts_ts ON alerts(ts);
CREATE INDEX alerts_rule ON alerts(rule_id);

CREATE TABLE incidents (
    id          TEXT PRIMARY KEY,
    first_ts    INTEGER,
    last_ts     INTEGER,
    status      TEXT NOT NULL DEFAULT 'open',
    doc         TEXT NOT NULL
);

-- Why each alert belongs to its incident.
CREATE TABLE incident_alerts (
    incident_id TEXT NOT NULL REFERENCES incidents(id) ON DELETE CASCADE,
    alert_id    TEXT NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    reason      TEXT NOT NULL,
    PRIMARY KEY (incident_id, alert_id)
);
CREATE INDEX incident_alerts_alert ON incident_alerts(alert_id);

CREATE TABLE entities (
    kind        TEXT NOT NULL,          -- host, user, ip, file_hash, process, cloud_identity, url_domain
    value       TEXT NOT NULL,
    first_ts    INTEGER,
    last_ts     INTEGER,
    alerts      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, value)
);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    ts          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL           -- JSON
);
