-- Schema version 3: normalization rules with their version history. Each version is a whole
-- `soc test` package: the rule text, its sample lines, the expected output and the clock.
CREATE TABLE rules (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created     INTEGER NOT NULL,       -- Unix milliseconds
    updated     INTEGER NOT NULL,
    version     INTEGER NOT NULL        -- the current (latest) version
);

CREATE TABLE rule_versions (
    rule_id     INTEGER NOT NULL REFERENCES rules(id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,       -- 1, 2, ...
    created     INTEGER NOT NULL,
    spl         TEXT NOT NULL,
    samples     TEXT NOT NULL,          -- JSON array of sample lines (one event each)
    expected    TEXT NOT NULL,          -- JSON array of the expected output events
    now         TEXT NOT NULL,          -- RFC 3339 clock the samples run with
    first_line  TEXT,                   -- multi-line framing regex, when the samples need one
    description TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (rule_id, version)
);
