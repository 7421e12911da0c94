//! `POST /v1/normalize`: NDJSON (or raw lines) streamed in, normalized NDJSON streamed out, in
//! input order, for moderate volumes (bounded by the body limit; archives go to
//! `soc normalize`). A failed event is written in its place as
//! `{"__failed__": {"line", "code", "message"}}` (the `soc test` convention), so nothing is
//! lost silently; a body that breaks off ends the stream with `{"__error__": ...}`.

use crate::event::{Event, Text};
use crate::server::error::ApiError;
use crate::server::{AppState, blocking};
use crate::spl::{self, PlanOptions};
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;

/// Output is sent in pieces of about this size.
const CHUNK: usize = 64 << 10;

/// Which rule, and how input lines become events.
#[derive(Debug, Deserialize, IntoParams)]
pub struct NormalizeQuery {
    /// A saved rule's id (its latest version).
    pub rule: Option<i64>,
    /// Or the SPL text itself.
    pub spl: Option<String>,
    /// `line` (default: each line is `{"content": line}`) or `ndjson` (each line a JSON object).
    pub input_format: Option<String>,
    /// Every value as text, the way SLS stores it.
    #[serde(default)]
    pub text_values: bool,
    /// The clock for `now()`, RFC 3339.
    pub now: Option<String>,
}

/// Normalizes the body (one event per line) with a saved rule or SPL text, streaming NDJSON.
#[utoipa::path(post, path = "/v1/normalize", tag = "normalize", params(NormalizeQuery),
    request_body(content = String, content_type = "application/x-ndjson", description = "One event per line"),
    responses((status = 200, description = "One JSON object per output event, in input order", content_type = "application/x-ndjson"),
              (status = 400, description = "Bad request", body = crate::server::openapi::Errors),
              (status = 404, description = "No such rule", body = crate::server::openapi::Errors),
              (status = 422, description = "The rule does not compile", body = crate::server::openapi::Errors)))]
pub async fn normalize(
    State(state): State<AppState>,
    Query(q): Query<NormalizeQuery>,
    body: Body,
) -> Result<Response, ApiError> {
    let ndjson = match q.input_format.as_deref() {
        None | Some("line") => false,
        Some("ndjson") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "input_format is `line` or `ndjson`, not `{other}`"
            )));
        }
    };
    let (spl_text, rule_now) = match (q.rule, q.spl) {
        (Some(id), None) => {
            let r = state
                .with_store(move |s| {
                    s.rule(id, None)?
                        .ok_or_else(|| ApiError::NotFound(format!("no rule {id}")))
                })
                .await?;
            (r.content.spl, Some(r.content.now))
        }
        (None, Some(text)) => (text, None),
        _ => {
            return Err(ApiError::BadRequest(
                "give exactly one of `rule` (a saved rule id) or `spl` (the rule text)".into(),
            ));
        }
    };
    let now = crate::server::routes::spl::clock(q.now.as_deref().or(rule_now.as_deref()))?;
    let text_values = q.text_values;
    let plan = {
        let src = spl_text.clone();
        blocking(move || {
            let plan = spl::compile_with(&src, &PlanOptions::default())
                .map_err(|d| ApiError::diagnostics(&src, d))?;
            if plan.has_aggregates() {
                return Err(ApiError::BadRequest(
                    "rules with stats/sort/limit need every event at once: use /v1/spl/run".into(),
                ));
            }
            Ok(plan)
        })
        .await?
    };

    let (in_tx, mut in_rx) = tokio::sync::mpsc::channel::<Result<Bytes, String>>(4);
    let (out_tx, out_rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let item = chunk.map_err(|e| e.to_string());
            let stop = item.is_err();
            if in_tx.send(item).await.is_err() || stop {
                break;
            }
        }
    });
    let _worker = tokio::task::spawn_blocking(move || {
        let mut runner = spl::Runner::new(&plan);
        if let Some(t) = now {
            runner = runner.with_clock(t);
        }
        let mut out = String::with_capacity(CHUNK * 2);
        let mut rows = Vec::new();
        let mut carry: Vec<u8> = Vec::new();
        let mut line_no = 0usize;
        let send = |out: &mut String| -> bool {
            let bytes = Bytes::from(std::mem::take(out));
            out_tx.blocking_send(Ok(bytes)).is_ok()
        };
        let mut process = |line: &[u8], out: &mut String, line_no: usize| {
            let mut line = line;
            if line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            if line_no == 1 && line.starts_with(&[0xEF, 0xBB, 0xBF]) {
                line = &line[3..];
            }
            let text = String::from_utf8_lossy(line);
            let event = if ndjson {
                if text.trim().is_empty() {
                    return;
                }
                match serde_json::from_str::<serde_json::Value>(&text) {
                    Ok(serde_json::Value::Object(o)) => Event::from_json_object(o),
                    _ => {
                        let rec = json!({"__failed__": {"line": line_no, "code": "not_json", "message": "the input line is not a JSON object"}});
                        out.push_str(&rec.to_string());
                        out.push('\n');
                        return;
                    }
                }
            } else {
                runner.line_event(Text::from(text.as_ref()))
            };
            rows.clear();
            match runner.run_event(event, &mut rows) {
                Ok(()) => {
                    for (tag, e) in rows.drain(..) {
                        match tag {
                            Some(tag) => {
                                let mut with_tag = Event::with_capacity(e.len() + 1);
                                with_tag.set_str("__dataset__", crate::event::Value::str(&tag));
                                for (n, v) in e.fields() {
                                    with_tag.set(n, v.clone());
                                }
                                with_tag.write_ndjson(out, text_values);
                            }
                            None => e.write_ndjson(out, text_values),
                        }
                    }
                }
                Err(d) => {
                    let rec = json!({"__failed__": {"line": line_no, "code": d.code, "message": d.message}});
                    out.push_str(&rec.to_string());
                    out.push('\n');
                }
            }
        };
        while let Some(item) = in_rx.blocking_recv() {
            let chunk = match item {
                Ok(c) => c,
                Err(e) => {
                    let rec = json!({"__error__": {"after_line": line_no, "message": format!("the request body broke off: {e}")}});
                    out.push_str(&rec.to_string());
                    out.push('\n');
                    let _ = send(&mut out);
                    return;
                }
            };
            let mut rest: &[u8] = &chunk;
            while let Some(pos) = memchr::memchr(b'\n', rest) {
                line_no += 1;
                if carry.is_empty() {
                    process(&rest[..pos], &mut out, line_no);
                } else {
                    carry.extend_from_slice(&rest[..pos]);
                    let line = std::mem::take(&mut carry);
                    process(&line, &mut out, line_no);
                }
                rest = &rest[pos + 1..];
            }
            carry.extend_from_slice(rest);
            if out.len() >= CHUNK && !send(&mut out) {
                return;
            }
        }
        if !carry.is_empty() {
            line_no += 1;
            process(&carry, &mut out, line_no);
        }
        if !out.is_empty() {
            let _ = send(&mut out);
        }
    });
    let stream = futures_util::stream::unfold(out_rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(stream),
    )
        .into_response())
}
