-- Schema version 4 (investigation and response): stored investigations, response actions
-- with their parameters, every approval or rejection (who, when, why) and every execution
-- attempt with its outcome. Nothing runs without a row in `approvals` whose decision is
-- 'approved'; refused, rejected and failed attempts are rows too.
CREATE TABLE investigations (
    incident_id TEXT PRIMARY KEY,
    ts          INTEGER NOT NULL,       -- when it was written, Unix milliseconds
    verdict     TEXT NOT NULL,
    doc         TEXT NOT NULL           -- the whole investigation, JSON
);

CREATE TABLE actions (
    id          TEXT PRIMARY KEY,       -- stable: hash of incident, playbook and parameters
    incident_id TEXT NOT NULL,
    phase       TEXT NOT NULL,          -- contain, eradicate, recover, harden, whitelist, onboard
    playbook    TEXT NOT NULL,
    params      TEXT NOT NULL,          -- JSON object
    status      TEXT NOT NULL DEFAULT 'pending',  -- pending, approved, rejected, done, failed
    created     INTEGER NOT NULL,
    doc         TEXT NOT NULL           -- the recommendation, JSON
);
CREATE INDEX actions_incident ON actions(incident_id);

CREATE TABLE approvals (
    id          INTEGER PRIMARY KEY,
    action_id   TEXT NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    decision    TEXT NOT NULL,          -- approved, rejected
    by_whom     TEXT NOT NULL,
    ts          INTEGER NOT NULL,
    reason      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX approvals_action ON approvals(action_id);

CREATE TABLE action_runs (
    id          INTEGER PRIMARY KEY,
    action_id   TEXT NOT NULL REFERENCES actions(id) ON DELETE CASCADE,
    ts          INTEGER NOT NULL,
    backend     TEXT NOT NULL,
    outcome     TEXT NOT NULL,          -- done, failed, refused
    detail      TEXT NOT NULL           -- JSON
);
CREATE INDEX action_runs_action ON action_runs(action_id);
