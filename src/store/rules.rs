//! Saved normalization rules and their version history (migration 003). Every version is a
//! whole `soc test` package: rule text, sample lines, expected output, clock and framing.
//! A change never overwrites: it adds the next version, and the old ones stay readable.

use super::{Store, StoreError, now_ms};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// The content of one version of a rule (what a `soc test` package holds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleContent {
    pub spl: String,
    /// Sample lines, one event each (or multi-line records framed by `first_line`).
    pub samples: Vec<String>,
    /// The expected output events, in order.
    pub expected: Vec<Json>,
    /// RFC 3339 clock the samples run with.
    pub now: String,
    /// Multi-line framing regex.
    pub first_line: Option<String>,
    pub description: String,
}

/// A stored rule at one version.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredRule {
    pub id: i64,
    pub name: String,
    pub version: i64,
    /// Unix milliseconds.
    pub created: i64,
    pub updated: i64,
    #[serde(flatten)]
    pub content: RuleContent,
}

/// One line of a rule's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleVersion {
    pub version: i64,
    pub created: i64,
    pub spl: String,
    pub description: String,
}

/// What can go wrong with a rule operation besides the store itself.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("a rule named `{0}` already exists")]
    NameTaken(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Creates a rule at version 1. A name already in use is [`RuleError::NameTaken`].
    pub fn create_rule(
        &mut self,
        name: &str,
        content: &RuleContent,
    ) -> Result<StoredRule, RuleError> {
        let now = now_ms();
        let (path, options) = (self.path.clone(), self.options.clone());
        let err = |e| super::classify(&path, e, &options);
        let tx = self.conn.transaction().map_err(err)?;
        let taken: Option<i64> = tx
            .query_row("SELECT id FROM rules WHERE name = ?1", [name], |r| r.get(0))
            .optional()
            .map_err(err)?;
        if taken.is_some() {
            return Err(RuleError::NameTaken(name.to_string()));
        }
        tx.execute(
            "INSERT INTO rules (name, created, updated, version) VALUES (?1, ?2, ?2, 1)",
            params![name, now],
        )
        .map_err(err)?;
        let id = tx.last_insert_rowid();
        insert_version(&tx, id, 1, now, content).map_err(err)?;
        tx.commit().map_err(err)?;
        self.rule(id, None)?.ok_or_else(|| {
            RuleError::Store(StoreError::Corrupt {
                path: self.path.clone(),
                detail: format!("rule {id} vanished after it was created"),
            })
        })
    }

    /// Adds the next version of a rule; `None` when there is no such rule.
    pub fn update_rule(
        &mut self,
        id: i64,
        content: &RuleContent,
    ) -> Result<Option<StoredRule>, StoreError> {
        let now = now_ms();
        let (path, options) = (self.path.clone(), self.options.clone());
        let err = |e| super::classify(&path, e, &options);
        let tx = self.conn.transaction().map_err(err)?;
        let current: Option<i64> = tx
            .query_row("SELECT version FROM rules WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(err)?;
        let Some(current) = current else {
            return Ok(None);
        };
        insert_version(&tx, id, current + 1, now, content).map_err(err)?;
        tx.execute(
            "UPDATE rules SET version = ?2, updated = ?3 WHERE id = ?1",
            params![id, current + 1, now],
        )
        .map_err(err)?;
        tx.commit().map_err(err)?;
        self.rule(id, None)
    }

    /// A rule at a version (the latest when `None`).
    pub fn rule(&self, id: i64, version: Option<i64>) -> Result<Option<StoredRule>, StoreError> {
        self.conn
            .query_row(
                "SELECT r.id, r.name, v.version, r.created, v.created, v.spl, v.samples, v.expected,
                        v.now, v.first_line, v.description
                 FROM rules r JOIN rule_versions v ON v.rule_id = r.id
                 WHERE r.id = ?1 AND v.version = coalesce(?2, r.version)",
                params![id, version],
                row_to_rule,
            )
            .optional()
            .map_err(|e| self.err_of(e))
    }

    /// Every rule at its latest version, by name.
    pub fn rules(&self) -> Result<Vec<StoredRule>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT r.id, r.name, v.version, r.created, v.created, v.spl, v.samples, v.expected,
                        v.now, v.first_line, v.description
                 FROM rules r JOIN rule_versions v ON v.rule_id = r.id AND v.version = r.version
                 ORDER BY r.name",
            )
            .map_err(|e| self.err_of(e))?;
        let rows = stmt
            .query_map([], row_to_rule)
            .map_err(|e| self.err_of(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err_of(e))?;
        Ok(rows)
    }

    /// The version history of a rule, oldest first (empty when there is no such rule).
    pub fn rule_versions(&self, id: i64) -> Result<Vec<RuleVersion>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT version, created, spl, description FROM rule_versions
                 WHERE rule_id = ?1 ORDER BY version",
            )
            .map_err(|e| self.err_of(e))?;
        let rows = stmt
            .query_map([id], |r| {
                Ok(RuleVersion {
                    version: r.get(0)?,
                    created: r.get(1)?,
                    spl: r.get(2)?,
                    description: r.get(3)?,
                })
            })
            .map_err(|e| self.err_of(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.err_of(e))?;
        Ok(rows)
    }

    /// Deletes a rule and its history; false when there was no such rule.
    pub fn delete_rule(&mut self, id: i64) -> Result<bool, StoreError> {
        let n = self
            .conn
            .execute("DELETE FROM rules WHERE id = ?1", [id])
            .map_err(|e| self.err_of(e))?;
        Ok(n > 0)
    }

    fn err_of(&self, e: rusqlite::Error) -> StoreError {
        super::classify(&self.path, e, &self.options)
    }
}

fn insert_version(
    tx: &rusqlite::Transaction<'_>,
    id: i64,
    version: i64,
    now: i64,
    c: &RuleContent,
) -> rusqlite::Result<usize> {
    tx.execute(
        "INSERT INTO rule_versions (rule_id, version, created, spl, samples, expected, now, first_line, description)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            id,
            version,
            now,
            c.spl,
            Json::from(c.samples.clone()).to_string(),
            Json::from(c.expected.clone()).to_string(),
            c.now,
            c.first_line,
            c.description
        ],
    )
}

fn row_to_rule(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRule> {
    let json_col = |i: usize| -> rusqlite::Result<Json> {
        let text: String = r.get(i)?;
        serde_json::from_str(&text).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    };
    let samples = match json_col(6)? {
        Json::Array(a) => a
            .into_iter()
            .map(|v| v.as_str().unwrap_or_default().to_string())
            .collect(),
        _ => Vec::new(),
    };
    let expected = match json_col(7)? {
        Json::Array(a) => a,
        _ => Vec::new(),
    };
    Ok(StoredRule {
        id: r.get(0)?,
        name: r.get(1)?,
        version: r.get(2)?,
        created: r.get(3)?,
        updated: r.get(4)?,
        content: RuleContent {
            spl: r.get(5)?,
            samples,
            expected,
            now: r.get(8)?,
            first_line: r.get(9)?,
            description: r.get(10)?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(spl: &str) -> RuleContent {
        RuleContent {
            spl: spl.into(),
            samples: vec!["a b".into()],
            expected: vec![serde_json::json!({"content": "a b"})],
            now: "2024-01-01T00:00:00Z".into(),
            first_line: None,
            description: String::new(),
        }
    }

    #[test]
    fn versions_accumulate_and_old_ones_stay_readable() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path()).unwrap();
        let r = s
            .create_rule("nginx", &content("* | extend a = 1"))
            .unwrap();
        assert_eq!(r.version, 1);
        assert!(matches!(
            s.create_rule("nginx", &content("*")),
            Err(RuleError::NameTaken(_))
        ));
        let r2 = s
            .update_rule(r.id, &content("* | extend a = 2"))
            .unwrap()
            .unwrap();
        assert_eq!(r2.version, 2);
        assert_eq!(
            s.rule(r.id, Some(1)).unwrap().unwrap().content.spl,
            "* | extend a = 1"
        );
        assert_eq!(
            s.rule(r.id, None).unwrap().unwrap().content.spl,
            "* | extend a = 2"
        );
        assert_eq!(s.rule_versions(r.id).unwrap().len(), 2);
        assert_eq!(s.rules().unwrap().len(), 1);
        assert!(s.update_rule(999, &content("*")).unwrap().is_none());
        assert!(s.delete_rule(r.id).unwrap());
        assert!(s.rule(r.id, None).unwrap().is_none());
        assert!(s.rule_versions(r.id).unwrap().is_empty());
        assert!(!s.delete_rule(r.id).unwrap());
    }
}
