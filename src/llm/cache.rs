//! The disk cache of validated model answers: one JSON file per question, named by the
//! xxh64 of (model, system prompt, user prompt, canonical schema). Only answers that passed
//! the schema are stored, and a stored answer is checked against the schema again when it
//! is read, so a corrupt, truncated or hand-edited file is a miss, never a wrong answer.
//! Writes go to a temporary file that is renamed into place, so a reader never sees half a
//! file. The cache is best effort: a failed write loses the entry, not the answer.
//! Depends on `llm::schema` only.

use super::ChatRequest;
use super::schema::validate;
use serde_json::{Map, Value};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// A directory of cached answers.
#[derive(Debug, Clone)]
pub(crate) struct Cache {
    dir: PathBuf,
}

impl Cache {
    pub(crate) fn new(dir: PathBuf) -> Cache {
        Cache { dir }
    }

    /// The cached answer to `request` from `model`, if a valid one is stored.
    pub(crate) fn get(&self, model: &str, request: &ChatRequest) -> Option<Value> {
        let text = std::fs::read(self.path(model, request)).ok()?;
        let value: Value = serde_json::from_slice(&text).ok()?;
        validate(&request.schema, &value).ok()?;
        Some(value)
    }

    /// Stores `answer`; errors are ignored (the cache only saves time).
    pub(crate) fn put(&self, model: &str, request: &ChatRequest, answer: &Value) {
        let _ = self.try_put(model, request, answer);
    }

    fn try_put(&self, model: &str, request: &ChatRequest, answer: &Value) -> std::io::Result<()> {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        std::fs::create_dir_all(&self.dir)?;
        let path = self.path(model, request);
        let tmp = self.dir.join(format!(
            ".{}.{}.{}.tmp",
            key(model, request),
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let bytes = serde_json::to_vec(answer).map_err(std::io::Error::other)?;
        if let Err(e) = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, &path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(())
    }

    fn path(&self, model: &str, request: &ChatRequest) -> PathBuf {
        self.dir.join(format!("{}.json", key(model, request)))
    }
}

/// The cache key: xxh64 (seed 0) of a JSON array of the model, the two prompts and the
/// schema with its object keys sorted, as 16 lowercase hex digits. A JSON array keeps the
/// parts apart (no "ab"+"c" == "a"+"bc"), and sorting keys makes two spellings of one schema
/// share an entry.
pub(crate) fn key(model: &str, request: &ChatRequest) -> String {
    let parts = Value::Array(vec![
        Value::String(model.to_owned()),
        Value::String(request.system.clone()),
        Value::String(request.user.clone()),
        canonical(&request.schema),
    ]);
    format!(
        "{:016x}",
        xxhash_rust::xxh64::xxh64(parts.to_string().as_bytes(), 0)
    )
}

/// `value` with every object's keys in sorted order (serde_json keeps insertion order here).
fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut sorted = Map::with_capacity(map.len());
            for k in keys {
                sorted.insert(k.clone(), canonical(&map[k]));
            }
            Value::Object(sorted)
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(user: &str, schema: Value) -> ChatRequest {
        ChatRequest {
            system: "sys".into(),
            user: user.into(),
            schema_name: "answer".into(),
            schema,
        }
    }

    #[test]
    fn key_ignores_schema_key_order_but_not_content() {
        let a = request("u", json!({"type": "object", "required": ["x"]}));
        let b = request("u", json!({"required": ["x"], "type": "object"}));
        let c = request("v", json!({"type": "object", "required": ["x"]}));
        assert_eq!(key("m", &a), key("m", &b));
        assert_ne!(key("m", &a), key("m", &c));
        assert_ne!(key("m", &a), key("n", &a));
        assert_eq!(key("m", &a).len(), 16);
    }

    #[test]
    fn round_trip_and_corrupt_files_miss() {
        let dir = std::env::temp_dir().join(format!("soc-llm-cache-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cache = Cache::new(dir.clone());
        let req = request(
            "u",
            json!({"type": "object", "properties": {"a": {"type": "integer"}}}),
        );
        assert_eq!(cache.get("m", &req), None);
        cache.put("m", &req, &json!({"a": 1}));
        assert_eq!(cache.get("m", &req), Some(json!({"a": 1})));
        let file = dir.join(format!("{}.json", key("m", &req)));
        for corrupt in [&b"{\"a\": "[..], b"\xff\xfe", b"{\"a\": \"one\"}"] {
            std::fs::write(&file, corrupt).unwrap();
            assert_eq!(cache.get("m", &req), None);
        }
        let leftovers: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
