//! Investigations and response actions in the store (schema 4): stored investigation
//! documents, recommended actions, the approvals and rejections recorded for them (who, when,
//! why) and every execution attempt with its outcome; plus reading incidents back.

use super::{Store, StoreError, now_ms};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::Value as Json;

/// A stored response action.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ActionRecord {
    pub id: String,
    pub incident_id: String,
    pub phase: String,
    pub playbook: String,
    pub params: Json,
    pub status: String,
    pub created: i64,
    pub doc: Json,
}

/// One approval or rejection.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ApprovalRecord {
    pub action_id: String,
    pub decision: String,
    pub by: String,
    pub ts: i64,
    pub reason: String,
}

/// One execution attempt.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunRecord {
    pub action_id: String,
    pub ts: i64,
    pub backend: String,
    pub outcome: String,
    pub detail: Json,
}

fn parse(path: &std::path::Path, what: &str, text: &str) -> Result<Json, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        path: path.to_path_buf(),
        detail: format!("{what} does not hold JSON: {e}"),
    })
}

impl Store {
    /// All incidents, oldest first.
    pub fn incidents(&self) -> Result<Vec<Json>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, doc FROM incidents ORDER BY first_ts, id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, doc) = row.map_err(|e| self.err(e))?;
            out.push(parse(&self.path, &format!("incident {id}"), &doc)?);
        }
        Ok(out)
    }

    /// Stores (replaces) the investigation of an incident.
    pub fn put_investigation(
        &mut self,
        incident: &str,
        verdict: &str,
        doc: &Json,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR REPLACE INTO investigations (incident_id, ts, verdict, doc) VALUES (?1, ?2, ?3, ?4)",
                params![incident, now_ms(), verdict, doc.to_string()],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// The stored investigation of an incident.
    pub fn investigation(&self, incident: &str) -> Result<Option<Json>, StoreError> {
        let doc: Option<String> = self
            .conn
            .query_row(
                "SELECT doc FROM investigations WHERE incident_id = ?1",
                params![incident],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        doc.map(|d| parse(&self.path, "an investigation", &d))
            .transpose()
    }

    /// Records a recommended action (kept as it is when already known: its status and
    /// history survive a new investigation).
    pub fn put_action(
        &mut self,
        id: &str,
        incident: &str,
        phase: &str,
        playbook: &str,
        params_doc: &Json,
        doc: &Json,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT OR IGNORE INTO actions (id, incident_id, phase, playbook, params, created, doc)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    id,
                    incident,
                    phase,
                    playbook,
                    params_doc.to_string(),
                    now_ms(),
                    doc.to_string()
                ],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// The actions of an incident, in creation order.
    pub fn actions(&self, incident: &str) -> Result<Vec<ActionRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, incident_id, phase, playbook, params, status, created, doc FROM actions
                 WHERE incident_id = ?1 ORDER BY created, rowid",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![incident], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, i64>(6)?,
                    r.get::<_, String>(7)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, incident_id, phase, playbook, p, status, created, doc) =
                row.map_err(|e| self.err(e))?;
            out.push(ActionRecord {
                params: parse(&self.path, &format!("action {id}"), &p)?,
                doc: parse(&self.path, &format!("action {id}"), &doc)?,
                id,
                incident_id,
                phase,
                playbook,
                status,
                created,
            });
        }
        Ok(out)
    }

    /// One action by id.
    pub fn action(&self, id: &str) -> Result<Option<ActionRecord>, StoreError> {
        let incident: Option<String> = self
            .conn
            .query_row(
                "SELECT incident_id FROM actions WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        match incident {
            Some(inc) => Ok(self.actions(&inc)?.into_iter().find(|a| a.id == id)),
            None => Ok(None),
        }
    }

    /// Records an approval or rejection and sets the action's status, in one transaction.
    pub fn decide_action(
        &mut self,
        id: &str,
        decision: &str,
        by: &str,
        reason: &str,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let opts = self.options.clone();
        let err = |e| super::classify(&path, e, &opts);
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute(
            "INSERT INTO approvals (action_id, decision, by_whom, ts, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, decision, by, now_ms(), reason],
        )
        .map_err(err)?;
        tx.execute(
            "UPDATE actions SET status = ?2 WHERE id = ?1",
            params![id, decision],
        )
        .map_err(err)?;
        tx.commit().map_err(err)
    }

    /// The approvals and rejections of an action, oldest first.
    pub fn approvals(&self, id: &str) -> Result<Vec<ApprovalRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT action_id, decision, by_whom, ts, reason FROM approvals WHERE action_id = ?1 ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![id], |r| {
                Ok(ApprovalRecord {
                    action_id: r.get(0)?,
                    decision: r.get(1)?,
                    by: r.get(2)?,
                    ts: r.get(3)?,
                    reason: r.get(4)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Records an execution attempt; `done` and `failed` also set the action's status.
    pub fn record_run(
        &mut self,
        id: &str,
        backend: &str,
        outcome: &str,
        detail: &Json,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let opts = self.options.clone();
        let err = |e| super::classify(&path, e, &opts);
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute(
            "INSERT INTO action_runs (action_id, ts, backend, outcome, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, now_ms(), backend, outcome, detail.to_string()],
        )
        .map_err(err)?;
        if outcome == "done" || outcome == "failed" {
            tx.execute(
                "UPDATE actions SET status = ?2 WHERE id = ?1",
                params![id, outcome],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    /// The execution attempts of an action, oldest first.
    pub fn runs(&self, id: &str) -> Result<Vec<RunRecord>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT action_id, ts, backend, outcome, detail FROM action_runs WHERE action_id = ?1 ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![id], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (action_id, ts, backend, outcome, detail) = row.map_err(|e| self.err(e))?;
            out.push(RunRecord {
                detail: parse(&self.path, "an action run", &detail)?,
                action_id,
                ts,
                backend,
                outcome,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn actions_approvals_and_runs_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        s.put_action(
            "A1",
            "INC-1",
            "contain",
            "block-ip",
            &json!({"ip": "1.2.3.4"}),
            &json!({}),
        )
        .unwrap();
        // A second recommendation of the same action keeps its state.
        s.decide_action("A1", "approved", "alice", "").unwrap();
        s.put_action(
            "A1",
            "INC-1",
            "contain",
            "block-ip",
            &json!({"ip": "1.2.3.4"}),
            &json!({}),
        )
        .unwrap();
        assert_eq!(s.action("A1").unwrap().unwrap().status, "approved");
        s.record_run("A1", "dry-run", "done", &json!({"ok": true}))
            .unwrap();
        assert_eq!(s.actions("INC-1").unwrap()[0].status, "done");
        assert_eq!(s.approvals("A1").unwrap()[0].by, "alice");
        assert_eq!(s.runs("A1").unwrap()[0].backend, "dry-run");
        assert!(s.action("nope").unwrap().is_none());
        s.put_investigation("INC-1", "confirmed attack", &json!({"v": 1}))
            .unwrap();
        assert_eq!(s.investigation("INC-1").unwrap(), Some(json!({"v": 1})));
    }
}
