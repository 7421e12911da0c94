//! The embedded store: one SQLite database (rusqlite, bundled, WAL) in a data directory.
//!
//! Owns the schema (versioned migrations under `migrations/`, applied in order and recorded
//! in `PRAGMA user_version`), batched inserts of normalized events, alerts, incidents with
//! the reason for each membership, entities and the audit log, and retention by age and size.
//! An insert call returns only after its transaction committed: what it acknowledged is on
//! disk (WAL, `synchronous=NORMAL` survives a process crash; `FULL` with
//! [`Durability::Full`] survives a power loss). Failures are [`StoreError`]s that say what
//! happened (locked, corrupt, disk full), never panics.
//!
//! Depends on nothing internal but JSON values: agents and the CLI call it, not the reverse.

pub mod rules;

use rusqlite::{Connection, ErrorCode, OptionalExtension, params};
use serde_json::{Map, Value as Json};
use std::path::{Path, PathBuf};
use std::time::Duration;

mod response;
pub use response::{ActionRecord, ApprovalRecord, RunRecord};

/// The migrations, in order; migration *i* brings the schema to version *i + 1*.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_init.sql"),
    include_str!("migrations/002_entity_time_indexes.sql"),
    include_str!("migrations/003_rules.sql"),
    include_str!("migrations/004_response.sql"),
];

/// The database file name inside the data directory.
pub const DB_FILE: &str = "soc.db";

/// What can go wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store at {path} is locked by another process (waited {waited_ms} ms)")]
    Locked { path: PathBuf, waited_ms: u64 },
    #[error("the store at {path} is corrupt or not a database: {detail}")]
    Corrupt { path: PathBuf, detail: String },
    #[error("the disk holding {path} is full: nothing from this batch was stored")]
    DiskFull { path: PathBuf },
    #[error(
        "the store at {path} has schema version {found}, newer than this program knows ({known})"
    )]
    NewerSchema {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("cannot create the data directory {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("store error at {path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("event {index} of the batch is not a JSON object")]
    NotAnObject { index: usize },
}

/// How hard a commit works to be durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=NORMAL` in WAL mode: a committed batch survives a process crash.
    #[default]
    Normal,
    /// `synchronous=FULL`: a committed batch also survives a power loss.
    Full,
}

/// Store options.
/// When an entity was first and last seen (epoch ms) and in how many alerts.
pub type EntitySeen = (Option<i64>, Option<i64>, i64);

#[derive(Debug, Clone)]
pub struct Options {
    pub durability: Durability,
    /// How long a writer waits for another writer before [`StoreError::Locked`].
    pub busy_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            durability: Durability::Normal,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

/// An open store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    options: Options,
}

/// The indexed columns taken from an ECS event (flattened dotted keys or nested objects).
/// The first field present wins.
const COLUMNS: &[(&str, &[&str])] = &[
    ("source_ip", &["source.ip", "client.ip"]),
    ("destination_ip", &["destination.ip", "server.ip"]),
    (
        "host",
        &["host.name", "host.hostname", "observer.hostname", "host.ip"],
    ),
    ("user", &["user.name", "user.id", "cloud.account.id"]),
    ("process_entity", &["process.entity_id", "process.pid"]),
    (
        "file_hash",
        &[
            "file.hash.sha256",
            "file.hash.sha1",
            "file.hash.md5",
            "process.hash.sha256",
        ],
    ),
    (
        "url_domain",
        &["url.domain", "destination.domain", "dns.question.name"],
    ),
    (
        "product",
        &[
            "observer.product",
            "event.module",
            "event.provider",
            "event.dataset",
        ],
    ),
];

/// A stored alert (the JSON document is the whole alert).
#[derive(Debug, Clone)]
pub struct AlertRow<'a> {
    pub id: &'a str,
    pub ts_ms: Option<i64>,
    pub rule_id: &'a str,
    pub rule_title: &'a str,
    pub level: &'a str,
    pub event_id: Option<i64>,
    pub doc: &'a Json,
}

/// A stored incident and why each alert belongs to it.
#[derive(Debug, Clone)]
pub struct IncidentRow<'a> {
    pub id: &'a str,
    pub first_ts_ms: Option<i64>,
    pub last_ts_ms: Option<i64>,
    pub doc: &'a Json,
    /// (alert id, reason)
    pub members: Vec<(&'a str, String)>,
}

/// What a retention pass removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retained {
    pub deleted_by_age: u64,
    pub deleted_by_size: u64,
}

impl Store {
    /// Opens (creating if needed) the store in `dir`, applying pending migrations.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(dir, Options::default())
    }

    /// [`Store::open`] with options.
    pub fn open_with(dir: &Path, options: Options) -> Result<Store, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = dir.join(DB_FILE);
        let conn = Connection::open(&path).map_err(|e| classify(&path, e, &options))?;
        let mut store = Store {
            conn,
            path,
            options,
        };
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        classify(&self.path, e, &self.options)
    }

    fn configure(&mut self) -> Result<(), StoreError> {
        self.conn
            .busy_timeout(self.options.busy_timeout)
            .map_err(|e| self.err(e))?;
        // Reading the journal mode is the first real access: a file that is not a database fails here.
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Corrupt {
                path: self.path.clone(),
                detail: format!("cannot switch to WAL journal (mode is {mode})"),
            });
        }
        let sync = match self.options.durability {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        };
        self.conn
            .execute_batch(&format!(
                "PRAGMA synchronous={sync}; PRAGMA foreign_keys=ON;"
            ))
            .map_err(|e| self.err(e))
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let found = self.schema_version()?;
        let known = MIGRATIONS.len() as i64;
        if found > known {
            return Err(StoreError::NewerSchema {
                path: self.path.clone(),
                found,
                known,
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            let tx = self
                .conn
                .transaction()
                .map_err(|e| classify(&self.path, e, &self.options))?;
            tx.execute_batch(sql)
                .map_err(|e| classify(&self.path, e, &self.options))?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)
                .map_err(|e| classify(&self.path, e, &self.options))?;
            tx.commit()
                .map_err(|e| classify(&self.path, e, &self.options))?;
        }
        Ok(())
    }

    /// Stores a batch of normalized events in one transaction and returns their ids, in order.
    /// Either the whole batch is stored (and acknowledged by `Ok`) or none of it is.
    pub fn insert_events(&mut self, events: &[Json]) -> Result<Vec<i64>, StoreError> {
        for (index, e) in events.iter().enumerate() {
            if !e.is_object() {
                return Err(StoreError::NotAnObject { index });
            }
        }
        let now = now_ms();
        let path = self.path.clone();
        let opts = self.options.clone();
        let err = |e| classify(&path, e, &opts);
        let tx = self.conn.transaction().map_err(err)?;
        let mut ids = Vec::with_capacity(events.len());
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO events (ts, ingested, source_ip, destination_ip, host, user,
                     process_entity, file_hash, url_domain, product, size, doc)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                )
                .map_err(err)?;
            for e in events {
                let obj = e.as_object().expect("checked above");
                let doc = e.to_string();
                let cols: Vec<Option<String>> = COLUMNS
                    .iter()
                    .map(|(_, keys)| first_text(obj, keys))
                    .collect();
                stmt.execute(params![
                    event_time_ms(obj),
                    now,
                    cols[0],
                    cols[1],
                    cols[2],
                    cols[3],
                    cols[4],
                    cols[5],
                    cols[6],
                    cols[7],
                    doc.len() as i64,
                    doc
                ])
                .map_err(err)?;
                ids.push(tx.last_insert_rowid());
            }
        }
        tx.commit().map_err(err)?;
        Ok(ids)
    }

    /// Number of stored events.
    pub fn count_events(&self) -> Result<u64, StoreError> {
        self.conn
            .query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// Events whose indexed `column` (one of `source_ip`, `destination_ip`, `host`, `user`,
    /// `process_entity`, `file_hash`, `url_domain`, `product`) equals `value`, within the
    /// optional time range `[from_ms, to_ms]`, oldest first, at most `limit`.
    pub fn events_by(
        &self,
        column: &str,
        value: &str,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
        limit: usize,
    ) -> Result<Vec<(i64, Json)>, StoreError> {
        let Some((col, _)) = COLUMNS.iter().find(|(c, _)| *c == column) else {
            return Err(StoreError::Sqlite {
                path: self.path.clone(),
                source: rusqlite::Error::InvalidColumnName(column.to_string()),
            });
        };
        let sql = format!(
            "SELECT id, doc FROM events WHERE {col} = ?1 AND (?2 IS NULL OR ts >= ?2)
             AND (?3 IS NULL OR ts <= ?3) ORDER BY ts, id LIMIT ?4"
        );
        self.query_docs(&sql, params![value, from_ms, to_ms, limit as i64])
    }

    /// Events in the time range `[from_ms, to_ms]`, oldest first, at most `limit`.
    pub fn events_between(
        &self,
        from_ms: i64,
        to_ms: i64,
        limit: usize,
    ) -> Result<Vec<(i64, Json)>, StoreError> {
        self.query_docs(
            "SELECT id, doc FROM events WHERE ts >= ?1 AND ts <= ?2 ORDER BY ts, id LIMIT ?3",
            params![from_ms, to_ms, limit as i64],
        )
    }

    /// All events in id order (ingest order), `limit` at a time after `after_id`.
    pub fn events_after(
        &self,
        after_id: i64,
        limit: usize,
    ) -> Result<Vec<(i64, Json)>, StoreError> {
        self.query_docs(
            "SELECT id, doc FROM events WHERE id > ?1 ORDER BY id LIMIT ?2",
            params![after_id, limit as i64],
        )
    }

    fn query_docs(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<(i64, Json)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params, |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, doc) = row.map_err(|e| self.err(e))?;
            let json = serde_json::from_str(&doc).map_err(|e| StoreError::Corrupt {
                path: self.path.clone(),
                detail: format!("event {id} does not hold JSON: {e}"),
            })?;
            out.push((id, json));
        }
        Ok(out)
    }

    /// Stores alerts (one transaction); an alert id already stored is replaced.
    pub fn insert_alerts(&mut self, alerts: &[AlertRow<'_>]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let opts = self.options.clone();
        let err = |e| classify(&path, e, &opts);
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO alerts (id, ts, rule_id, rule_title, level, event_id, doc)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(err)?;
            for a in alerts {
                stmt.execute(params![
                    a.id,
                    a.ts_ms,
                    a.rule_id,
                    a.rule_title,
                    a.level,
                    a.event_id,
                    a.doc.to_string()
                ])
                .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// All alerts, oldest first.
    pub fn alerts(&self) -> Result<Vec<Json>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, doc FROM alerts ORDER BY ts, id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, doc) = row.map_err(|e| self.err(e))?;
            out.push(serde_json::from_str(&doc).map_err(|e| StoreError::Corrupt {
                path: self.path.clone(),
                detail: format!("alert {id} does not hold JSON: {e}"),
            })?);
        }
        Ok(out)
    }

    /// Stores incidents with their membership (one transaction). An incident id already
    /// stored is replaced together with its membership.
    pub fn insert_incidents(&mut self, incidents: &[IncidentRow<'_>]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let opts = self.options.clone();
        let err = |e| classify(&path, e, &opts);
        let tx = self.conn.transaction().map_err(err)?;
        for inc in incidents {
            tx.execute(
                "DELETE FROM incident_alerts WHERE incident_id = ?1",
                params![inc.id],
            )
            .map_err(err)?;
            tx.execute(
                "INSERT OR REPLACE INTO incidents (id, first_ts, last_ts, doc) VALUES (?1, ?2, ?3, ?4)",
                params![inc.id, inc.first_ts_ms, inc.last_ts_ms, inc.doc.to_string()],
            )
            .map_err(err)?;
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO incident_alerts (incident_id, alert_id, reason) VALUES (?1, ?2, ?3)",
                )
                .map_err(err)?;
            for (alert, reason) in &inc.members {
                stmt.execute(params![inc.id, alert, reason]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// The membership of one incident: (alert id, reason), in alert id order.
    pub fn incident_members(&self, incident: &str) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT alert_id, reason FROM incident_alerts WHERE incident_id = ?1 ORDER BY alert_id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![incident], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Records that an entity was seen in an alert at `ts_ms` (upsert: first/last time, count).
    pub fn touch_entities(&mut self, seen: &[(&str, &str, Option<i64>)]) -> Result<(), StoreError> {
        let path = self.path.clone();
        let opts = self.options.clone();
        let err = |e| classify(&path, e, &opts);
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO entities (kind, value, first_ts, last_ts, alerts) VALUES (?1, ?2, ?3, ?3, 1)
                     ON CONFLICT (kind, value) DO UPDATE SET
                       first_ts = min(coalesce(first_ts, excluded.first_ts), coalesce(excluded.first_ts, first_ts)),
                       last_ts = max(coalesce(last_ts, excluded.last_ts), coalesce(excluded.last_ts, last_ts)),
                       alerts = alerts + 1",
                )
                .map_err(err)?;
            for (kind, value, ts) in seen {
                stmt.execute(params![kind, value, ts]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// An entity's first and last time and alert count, if known.
    pub fn entity(&self, kind: &str, value: &str) -> Result<Option<EntitySeen>, StoreError> {
        self.conn
            .query_row(
                "SELECT first_ts, last_ts, alerts FROM entities WHERE kind = ?1 AND value = ?2",
                params![kind, value],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Appends to the audit log.
    pub fn audit(&mut self, actor: &str, action: &str, detail: &Json) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO audit_log (ts, actor, action, detail) VALUES (?1, ?2, ?3, ?4)",
                params![now_ms(), actor, action, detail.to_string()],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// The audit log, oldest first: (ts, actor, action, detail).
    pub fn audit_log(&self) -> Result<Vec<(i64, String, String, Json)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT ts, actor, action, detail FROM audit_log ORDER BY id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get::<_, String>(3)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (ts, actor, action, detail) = row.map_err(|e| self.err(e))?;
            out.push((
                ts,
                actor,
                action,
                serde_json::from_str(&detail).unwrap_or(Json::String(detail)),
            ));
        }
        Ok(out)
    }

    /// Retention: removes events older than `max_age_ms` before `now_ms` (by event time, or
    /// ingest time for events without one), then the oldest events until the stored
    /// documents take at most `max_bytes`. Alerts keep their copy of the event.
    pub fn retain(
        &mut self,
        now_ms: i64,
        max_age_ms: Option<i64>,
        max_bytes: Option<u64>,
    ) -> Result<Retained, StoreError> {
        let path = self.path.clone();
        let opts = self.options.clone();
        let err = |e| classify(&path, e, &opts);
        let tx = self.conn.transaction().map_err(err)?;
        let mut out = Retained::default();
        if let Some(age) = max_age_ms {
            out.deleted_by_age = tx
                .execute(
                    "DELETE FROM events WHERE coalesce(ts, ingested) < ?1",
                    params![now_ms - age],
                )
                .map_err(err)? as u64;
        }
        if let Some(max) = max_bytes {
            let total: i64 = tx
                .query_row("SELECT coalesce(sum(size), 0) FROM events", [], |r| {
                    r.get(0)
                })
                .map_err(err)?;
            if total as u64 > max {
                // Find the id below which everything goes: oldest first by id (ingest order).
                let excess = total - max as i64;
                let cut: Option<i64> = tx
                    .query_row(
                        "SELECT id FROM (SELECT id, sum(size) OVER (ORDER BY id) AS run FROM events)
                         WHERE run >= ?1 ORDER BY id LIMIT 1",
                        params![excess],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(err)?;
                if let Some(cut) = cut {
                    out.deleted_by_size = tx
                        .execute("DELETE FROM events WHERE id <= ?1", params![cut])
                        .map_err(err)? as u64;
                }
            }
        }
        tx.commit().map_err(err)?;
        Ok(out)
    }
}

/// Turns a SQLite error into what a person needs to know.
fn classify(path: &Path, e: rusqlite::Error, options: &Options) -> StoreError {
    let path = path.to_path_buf();
    if let rusqlite::Error::SqliteFailure(f, ref msg) = e {
        match f.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => {
                return StoreError::Locked {
                    path,
                    waited_ms: options.busy_timeout.as_millis() as u64,
                };
            }
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => {
                return StoreError::Corrupt {
                    path,
                    detail: msg.clone().unwrap_or_else(|| f.to_string()),
                };
            }
            ErrorCode::DiskFull => return StoreError::DiskFull { path },
            _ => {}
        }
    }
    StoreError::Sqlite { path, source: e }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Looks a dotted name up in an object holding flattened keys, nested objects, or both.
pub fn lookup<'a>(obj: &'a Map<String, Json>, name: &str) -> Option<&'a Json> {
    if let Some(v) = obj.get(name) {
        return Some(v);
    }
    // Try every split point: `a.b.c` as `a` → `b.c`, `a.b` → `c`.
    let mut start = 0;
    while let Some(dot) = name[start..].find('.') {
        let head = &name[..start + dot];
        if let Some(Json::Object(inner)) = obj.get(head)
            && let Some(v) = lookup(inner, &name[start + dot + 1..])
        {
            return Some(v);
        }
        start += dot + 1;
    }
    None
}

/// The value of one indexed column (`host`, `source_ip`, …) as the store would index it.
pub fn indexed_value(obj: &Map<String, Json>, column: &str) -> Option<String> {
    let (_, keys) = COLUMNS.iter().find(|(c, _)| *c == column)?;
    first_text(obj, keys)
}

fn first_text(obj: &Map<String, Json>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match lookup(obj, k)? {
        Json::String(s) if !s.is_empty() => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Array(items) => items.first().and_then(|v| v.as_str()).map(str::to_string),
        _ => None,
    })
}

/// The event time in Unix milliseconds: `@timestamp` as RFC 3339 text or epoch milliseconds.
pub fn event_time_ms(obj: &Map<String, Json>) -> Option<i64> {
    match lookup(obj, "@timestamp")? {
        Json::String(s) => parse_time_ms(s),
        Json::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// Parses RFC 3339 (or `YYYY-MM-DD HH:MM:SS[.fff]`, taken as UTC) into Unix milliseconds.
pub fn parse_time_ms(s: &str) -> Option<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev(i: usize) -> Json {
        json!({
            "@timestamp": format!("2024-05-01T10:{:02}:00Z", i % 60),
            "source.ip": format!("10.0.0.{}", i % 5),
            "host": {"name": "web-1"},
            "user.name": "alice",
            "process.entity_id": format!("p{i}"),
            "url.domain": "example.org",
            "event.module": "nginx",
        })
    }

    #[test]
    fn migrations_are_applied_once_and_versioned() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
        drop(s);
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
        let mode: String = s
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn an_older_store_is_upgraded_in_place_keeping_its_events() {
        let dir = tempfile::tempdir().unwrap();
        {
            let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute(
                "INSERT INTO events (ts, ingested, host, size, doc) VALUES (1, 1, 'h', 2, '{}')",
                [],
            )
            .unwrap();
        }
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len() as i64);
        assert_eq!(s.count_events().unwrap(), 1);
        let idx: i64 = s
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'events_host_ts'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(idx, 1);
        assert_eq!(
            s.events_by("host", "h", Some(0), Some(5), 10)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        s.conn.pragma_update(None, "user_version", 99).unwrap();
        drop(s);
        let e = Store::open(dir.path()).err().unwrap();
        assert!(
            matches!(e, StoreError::NewerSchema { found: 99, .. }),
            "{e}"
        );
    }

    #[test]
    fn events_are_stored_with_indexed_columns_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        let batch: Vec<Json> = (0..100).map(ev).collect();
        let ids = s.insert_events(&batch).unwrap();
        assert_eq!(ids.len(), 100);
        drop(s);
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(s.count_events().unwrap(), 100);
        let by_ip = s
            .events_by("source_ip", "10.0.0.3", None, None, 1000)
            .unwrap();
        assert_eq!(by_ip.len(), 20);
        let by_host = s.events_by("host", "web-1", None, None, 1000).unwrap();
        assert_eq!(by_host.len(), 100, "nested host.name is indexed too");
        let by_proc = s.events_by("process_entity", "p7", None, None, 10).unwrap();
        assert_eq!(by_proc[0].1, batch[7]);
        let t0 = parse_time_ms("2024-05-01T10:00:00Z").unwrap();
        let window = s.events_between(t0, t0 + 4 * 60_000, 1000).unwrap();
        assert_eq!(window.len(), 10); // minutes 0..=4, twice each (i and i + 60)
        assert!(s.events_by("no_such_column", "x", None, None, 1).is_err());
    }

    #[test]
    fn a_bad_batch_stores_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        let e = s
            .insert_events(&[ev(1), json!("not an object")])
            .unwrap_err();
        assert!(matches!(e, StoreError::NotAnObject { index: 1 }));
        assert_eq!(s.count_events().unwrap(), 0);
    }

    #[test]
    fn a_locked_store_is_a_clear_error_and_loses_no_acknowledged_event() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = Store::open(dir.path()).unwrap();
        a.insert_events(&[ev(0)]).unwrap();
        let mut b = Store::open_with(
            dir.path(),
            Options {
                busy_timeout: Duration::from_millis(50),
                ..Options::default()
            },
        )
        .unwrap();
        // `a` holds the write lock in an open transaction.
        a.conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        let e = b.insert_events(&[ev(1)]).unwrap_err();
        assert!(matches!(e, StoreError::Locked { .. }), "{e}");
        assert!(e.to_string().contains("locked"));
        a.conn.execute_batch("COMMIT").unwrap();
        b.insert_events(&[ev(1)]).unwrap();
        assert_eq!(a.count_events().unwrap(), 2);
    }

    #[test]
    fn a_corrupt_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(DB_FILE), vec![0x5a; 8192]).unwrap();
        let e = Store::open(dir.path()).err().unwrap();
        assert!(matches!(e, StoreError::Corrupt { .. }), "{e}");
    }

    #[test]
    fn a_full_disk_is_a_clear_error_and_keeps_earlier_batches() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        s.insert_events(&[ev(0)]).unwrap();
        // Simulate a full disk: forbid the database from growing past its current pages.
        let pages: i64 = s
            .conn
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .unwrap();
        s.conn
            .query_row(&format!("PRAGMA max_page_count={pages}"), [], |_| Ok(()))
            .unwrap();
        let big: Vec<Json> = (0..2000)
            .map(|i| json!({"msg": "x".repeat(500), "i": i}))
            .collect();
        let e = s.insert_events(&big).unwrap_err();
        assert!(matches!(e, StoreError::DiskFull { .. }), "{e}");
        assert_eq!(s.count_events().unwrap(), 1);
    }

    #[test]
    fn alerts_incidents_membership_entities_and_audit_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        let ids = s.insert_events(&[ev(0)]).unwrap();
        let doc = json!({"id": "a1", "rule": {"id": "r"}});
        s.insert_alerts(&[AlertRow {
            id: "a1",
            ts_ms: Some(1),
            rule_id: "r",
            rule_title: "t",
            level: "high",
            event_id: Some(ids[0]),
            doc: &doc,
        }])
        .unwrap();
        assert_eq!(s.alerts().unwrap(), vec![doc.clone()]);
        let inc = json!({"id": "i1"});
        s.insert_incidents(&[IncidentRow {
            id: "i1",
            first_ts_ms: Some(1),
            last_ts_ms: Some(1),
            doc: &inc,
            members: vec![("a1", "seed".to_string())],
        }])
        .unwrap();
        assert_eq!(
            s.incident_members("i1").unwrap(),
            vec![("a1".into(), "seed".into())]
        );
        s.touch_entities(&[("host", "web-1", Some(5)), ("host", "web-1", Some(2))])
            .unwrap();
        assert_eq!(
            s.entity("host", "web-1").unwrap(),
            Some((Some(2), Some(5), 2))
        );
        s.audit("cli", "detect", &json!({"alerts": 1})).unwrap();
        assert_eq!(s.audit_log().unwrap()[0].2, "detect");
    }

    #[test]
    fn retention_by_age_and_size() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        let batch: Vec<Json> = (0..60).map(ev).collect();
        s.insert_events(&batch).unwrap();
        let t30 = parse_time_ms("2024-05-01T10:30:00Z").unwrap();
        let r = s.retain(t30, Some(0), None).unwrap();
        assert_eq!(r.deleted_by_age, 30);
        let size: i64 = s
            .conn
            .query_row("SELECT sum(size) FROM events", [], |r| r.get(0))
            .unwrap();
        let r = s.retain(t30, None, Some((size / 2) as u64)).unwrap();
        assert_eq!(r.deleted_by_size, 15);
        assert_eq!(s.count_events().unwrap(), 15);
    }
}
