//! The HTTP API in-process: `router(state)` driven with `tower::ServiceExt::oneshot`, every
//! route, the error shapes (diagnostics with spans and line/column, opaque 5xx, 401), the
//! bearer token, request ids, metrics, streamed normalization and the OpenAPI snapshot.

use agentic_soc::server::{self, AppState, Config, Limits};
use agentic_soc::store::Store;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value as Json, json};
use tower::ServiceExt;

pub struct TestServer {
    pub state: AppState,
    pub _dir: tempfile::TempDir,
}

pub fn test_state(token: Option<&str>) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let state = AppState::new(Config {
        store,
        llm: None,
        token: token.map(str::to_string),
        limits: Limits {
            body_bytes: 1 << 20,
            ..Limits::default()
        },
        scratch: dir.path().join("tmp"),
    });
    TestServer { state, _dir: dir }
}

async fn call(s: &TestServer, method: &str, uri: &str, body: Option<Json>) -> (StatusCode, Json) {
    let (status, _, bytes) = raw(s, method, uri, body.map(|b| b.to_string()), None).await;
    let json = if bytes.is_empty() {
        Json::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(&bytes).into()))
    };
    (status, json)
}

async fn raw(
    s: &TestServer,
    method: &str,
    uri: &str,
    body: Option<String>,
    token: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = Request::builder().method(method).uri(uri);
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = req
        .body(body.map(Body::from).unwrap_or_else(Body::empty))
        .unwrap();
    let resp = server::router(s.state.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), 64 << 20)
        .await
        .unwrap()
        .to_vec();
    (status, headers, bytes)
}

const KV: &str = "src=10.0.0.1 dst=10.0.0.2 dpt=443 act=deny user=bob\nsrc=10.0.0.3 dst=10.0.0.4 dpt=80 act=allow user=amy\n";

#[tokio::test]
async fn health_is_open_and_reports_the_configuration() {
    let s = test_state(None);
    let (st, j) = call(&s, "GET", "/v1/health", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(j["status"], "ok");
    assert_eq!(j["llm"], Json::Null);
    assert_eq!(j["auth"], false);
}

#[tokio::test]
async fn the_token_guards_every_v1_route_but_health() {
    let s = test_state(Some("s3cret"));
    let (st, _, _) = raw(&s, "GET", "/v1/health", None, None).await;
    assert_eq!(st, StatusCode::OK);
    for (m, uri) in [
        ("GET", "/v1/rules"),
        ("GET", "/v1/spl/functions"),
        ("GET", "/v1/metrics"),
        ("GET", "/v1/openapi.json"),
        ("POST", "/v1/normalize?spl=*"),
    ] {
        let (st, h, body) = raw(&s, m, uri, None, None).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(h[header::WWW_AUTHENTICATE], "Bearer");
        let j: Json = serde_json::from_slice(&body).unwrap();
        assert_eq!(j["errors"][0]["code"], "unauthorized");
        let (st, _, _) = raw(&s, m, uri, None, Some("wrong")).await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{uri}");
    }
    let (st, _, _) = raw(&s, "GET", "/v1/rules", None, Some("s3cret")).await;
    assert_eq!(st, StatusCode::OK);
    // The web UI itself is public (it asks for the token).
    let (st, _, _) = raw(&s, "GET", "/", None, None).await;
    assert_eq!(st, StatusCode::OK);
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let s = test_state(None);
    let (_, h1, _) = raw(&s, "GET", "/v1/health", None, None).await;
    let (_, h2, _) = raw(&s, "GET", "/v1/nope", None, None).await;
    let (a, b) = (
        h1["x-request-id"].to_str().unwrap(),
        h2["x-request-id"].to_str().unwrap(),
    );
    assert!(!a.is_empty() && a != b, "{a} {b}");
}

#[tokio::test]
async fn suggest_returns_the_rule_fields_preview_and_layers() {
    let s = test_state(None);
    let (st, j) = call(
        &s,
        "POST",
        "/v1/suggest",
        Some(json!({"text": KV, "reference_time": "2024-05-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{j}");
    assert!(
        j["spl"].as_str().unwrap().contains("destination.port"),
        "{j}"
    );
    assert_eq!(j["samples"].as_array().unwrap().len(), 2);
    assert_eq!(j["reference_time"], "2024-05-01T00:00:00Z");
    assert!(!j["layers"].as_array().unwrap().is_empty());
    let user = j["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["source"] == "user")
        .unwrap();
    assert_eq!(user["target"], "user.name");
    assert!(user["reason"].as_str().unwrap().len() > 5);
    assert_eq!(j["preview"][0]["user.name"], "bob");
}

#[tokio::test]
async fn suggest_names_the_product_it_recognized() {
    let s = test_state(None);
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/rules/fortigate/sample.log"
    ))
    .unwrap();
    let (st, j) = call(&s, "POST", "/v1/suggest", Some(json!({"text": text}))).await;
    assert_eq!(st, StatusCode::OK, "{j}");
    assert_eq!(j["product"]["vendor"], "Fortinet", "{}", j["product"]);
    let (_, j) = call(&s, "POST", "/v1/suggest", Some(json!({"text": KV}))).await;
    assert_eq!(j["product"], Json::Null);
}

#[tokio::test]
async fn suggest_overrides_change_the_rule() {
    let s = test_state(None);
    let body = json!({"text": KV, "overrides": [{"source": "user", "target": "user.id"}, {"source": "act", "target": null}]});
    let (st, j) = call(&s, "POST", "/v1/suggest", Some(body)).await;
    assert_eq!(st, StatusCode::OK, "{j}");
    let spl = j["spl"].as_str().unwrap();
    assert!(spl.contains("\"user.id\""), "{spl}");
    assert_eq!(j["preview"][0]["user.id"], "bob");
    assert!(j["preview"][0].get("user.name").is_none(), "{j}");
}

#[tokio::test]
async fn suggest_errors_are_4xx_with_diagnostics() {
    let s = test_state(None);
    let (st, j) = call(&s, "POST", "/v1/suggest", Some(json!({"text": "   \n"}))).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{j}");
    assert!(
        j["errors"][0]["code"].as_str().unwrap().starts_with('E'),
        "{j}"
    );
    assert!(j["errors"][0]["rendered"].is_string());
    let (st, j) = call(&s, "POST", "/v1/suggest", Some(json!({"txt": KV}))).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{j}");
    assert_eq!(j["errors"][0]["code"], "bad_request");
    assert!(
        j["errors"][0]["message"].as_str().unwrap().contains("text"),
        "{j}"
    );
    let (st, _, _) = raw(&s, "POST", "/v1/suggest", Some("{not json".into()), None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, j) = call(
        &s,
        "POST",
        "/v1/suggest",
        Some(json!({"text": KV, "reference_time": "yesterday"})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{j}");
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let s = test_state(None);
    let big = json!({"text": "x".repeat(2 << 20)}).to_string();
    let (st, _, _) = raw(&s, "POST", "/v1/suggest", Some(big), None).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn spl_check_reports_spans_with_line_and_column() {
    let s = test_state(None);
    let (st, j) = call(
        &s,
        "POST",
        "/v1/spl/check",
        Some(json!({"rule": "* | extend a = 1"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{j}");
    assert_eq!(j["valid"], true);
    let rule = "* | extend a = 1\n  | extend m = regexp_extrat(a, '\\d')";
    let (st, j) = call(&s, "POST", "/v1/spl/check", Some(json!({"rule": rule}))).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{j}");
    let e = &j["errors"][0];
    assert_eq!(e["code"], "E200");
    assert_eq!(e["line"], 2);
    assert_eq!(e["column"], 16);
    let span = &e["labels"][0]["span"];
    assert_eq!(
        &rule[span["start"].as_u64().unwrap() as usize..span["end"].as_u64().unwrap() as usize],
        "regexp_extrat"
    );
    assert!(
        e["rendered"]
            .as_str()
            .unwrap()
            .contains("did you mean `regexp_extract`"),
        "{e}"
    );
    let (st, j) = call(
        &s,
        "POST",
        "/v1/spl/check",
        Some(json!({"rule": "* | extend a = "})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{j}");
    assert_eq!(j["errors"][0]["code"], "E100");
}

#[tokio::test]
async fn spl_fmt_prints_canonical_form() {
    let s = test_state(None);
    let (st, j) = call(
        &s,
        "POST",
        "/v1/spl/fmt",
        Some(json!({"rule": "* | where a='x' | extend b=1"})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{j}");
    assert_eq!(j["rule"], "* | where a = 'x'\n  | extend b = 1\n");
    let (st, _) = call(
        &s,
        "POST",
        "/v1/spl/fmt",
        Some(json!({"rule": "* | extend ("})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn spl_run_gives_outputs_failures_and_drops() {
    let s = test_state(None);
    let body = json!({
        "rule": "* | where content <> 'skip' | extend n = cast(content as BIGINT), t = now()",
        "events": ["12", "skip", "abc", {"content": "7"}],
        "now": "2024-02-03T04:05:06Z",
        "strict": true,
    });
    let (st, j) = call(&s, "POST", "/v1/spl/run", Some(body)).await;
    assert_eq!(st, StatusCode::OK, "{j}");
    assert_eq!(j["outputs"][0]["event"]["n"], 12);
    assert_eq!(j["outputs"][0]["event"]["t"], "2024-02-03T04:05:06Z");
    assert_eq!(j["outputs"][1]["origin"], 3);
    assert_eq!(j["dropped"], 1);
    assert_eq!(j["failures"][0]["origin"], 2);
    assert_eq!(j["failures"][0]["error"]["code"], "E301");
    let (st, j) = call(
        &s,
        "POST",
        "/v1/spl/run",
        Some(json!({"rule": "*", "events": [1]})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{j}");
    let (st, _) = call(
        &s,
        "POST",
        "/v1/spl/run",
        Some(json!({"rule": "* | nope", "events": []})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn spl_functions_come_from_the_registry() {
    let s = test_state(None);
    let (st, j) = call(&s, "GET", "/v1/spl/functions", None).await;
    assert_eq!(st, StatusCode::OK);
    let fns = j.as_array().unwrap();
    assert_eq!(fns.len(), agentic_soc::spl::functions::names().count());
    let f = fns.iter().find(|f| f["name"] == "regexp_extract").unwrap();
    assert!(
        f["signature"]
            .as_str()
            .unwrap()
            .starts_with("regexp_extract(")
    );
    assert!(!f["examples"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn ecs_fields_list_the_catalogue() {
    let s = test_state(None);
    let (st, j) = call(&s, "GET", "/v1/ecs/fields", None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        j.as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "source.ip" && f["type"] == "ip")
    );
}

#[tokio::test]
async fn rules_crud_with_versions_and_tests() {
    let s = test_state(None);
    let rule = "* | parse-regexp content, '^(\\S+) (\\S+)' as a, b";
    let body = json!({"name": "two-words", "spl": rule, "samples": ["x y", "p q"]});
    let (st, j) = call(&s, "POST", "/v1/rules", Some(body.clone())).await;
    assert_eq!(st, StatusCode::CREATED, "{j}");
    let id = j["id"].as_i64().unwrap();
    assert_eq!(j["version"], 1);
    assert_eq!(j["expected"][0]["a"], "x");
    assert_eq!(j["now"], "2024-01-01T00:00:00Z");
    let (st, j) = call(&s, "POST", "/v1/rules", Some(body)).await;
    assert_eq!(st, StatusCode::CONFLICT, "{j}");
    let (st, j) = call(&s, "POST", &format!("/v1/rules/{id}/test"), None).await;
    assert_eq!(st, StatusCode::OK, "{j}");
    assert_eq!(j["passed"], true, "{j}");
    assert_eq!(j["events"], 2);

    // A new version keeping the old expectation fails its test, with the field diff.
    let (st, j) = call(&s, "PUT", &format!("/v1/rules/{id}"), Some(json!({"spl": "* | parse-regexp content, '^(\\S+) (\\S+)' as a, c", "expected": [{"content": "x y", "a": "x", "b": "y"}, {"content": "p q", "a": "p", "b": "q"}]}))).await;
    assert_eq!(st, StatusCode::OK, "{j}");
    assert_eq!(j["version"], 2);
    let (_, j) = call(&s, "POST", &format!("/v1/rules/{id}/test"), None).await;
    assert_eq!(j["passed"], false, "{j}");
    assert_eq!(j["diffs"][0]["kind"], "fields");
    let changes: Vec<&str> = j["diffs"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["change"].as_str().unwrap())
        .collect();
    assert!(
        changes.contains(&"missing") && changes.contains(&"extra"),
        "{j}"
    );
    // Version 1 still passes.
    let (_, j) = call(&s, "POST", &format!("/v1/rules/{id}/test?version=1"), None).await;
    assert_eq!(j["passed"], true, "{j}");
    let (_, j) = call(&s, "GET", &format!("/v1/rules/{id}?version=1"), None).await;
    assert_eq!(j["spl"], rule);
    let (_, j) = call(&s, "GET", &format!("/v1/rules/{id}/versions"), None).await;
    assert_eq!(j.as_array().unwrap().len(), 2);
    let (_, j) = call(&s, "GET", "/v1/rules", None).await;
    assert_eq!(j[0]["version"], 2);

    // A rule that does not compile is refused with its diagnostics.
    let (st, j) = call(
        &s,
        "PUT",
        &format!("/v1/rules/{id}"),
        Some(json!({"spl": "* | extend ("})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{j}");
    assert!(j["errors"][0]["line"].is_number());
    let (st, _) = call(
        &s,
        "POST",
        "/v1/rules",
        Some(json!({"name": "", "spl": "*", "samples": ["a"]})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = call(
        &s,
        "POST",
        "/v1/rules",
        Some(json!({"name": "no-samples", "spl": "*", "samples": []})),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    let (st, _) = call(&s, "DELETE", &format!("/v1/rules/{id}"), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    for (m, uri) in [
        ("GET", format!("/v1/rules/{id}")),
        ("DELETE", format!("/v1/rules/{id}")),
        ("POST", format!("/v1/rules/{id}/test")),
        ("GET", format!("/v1/rules/{id}/versions")),
    ] {
        let (st, j) = call(&s, m, &uri, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(j["errors"][0]["code"], "not_found");
    }
    let (st, _) = call(
        &s,
        "PUT",
        &format!("/v1/rules/{id}"),
        Some(json!({"spl": "*"})),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn normalize_streams_ndjson_in_input_order_and_keeps_failures() {
    let s = test_state(None);
    let mut body = String::new();
    for i in 0..5000 {
        body.push_str(&format!("{i} user{i}\n"));
    }
    body.push_str("oops x\n12 last");
    let uri = "/v1/normalize?spl=*%20%7C%20parse-regexp%20content%2C%20%27%5E(%5CS%2B)%20(%5CS%2B)%27%20as%20n%2C%20u%20%7C%20extend%20n%20%3D%20cast(n%20as%20BIGINT)";
    let (st, h, out) = raw(&s, "POST", uri, Some(body), None).await;
    assert_eq!(st, StatusCode::OK, "{}", String::from_utf8_lossy(&out));
    assert_eq!(h[header::CONTENT_TYPE], "application/x-ndjson");
    let lines: Vec<Json> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5002);
    assert_eq!(lines[0]["n"], 0);
    assert_eq!(lines[4999]["u"], "user4999");
    assert_eq!(lines[5000]["__failed__"]["line"], 5001);
    assert_eq!(lines[5000]["__failed__"]["code"], "E301");
    assert_eq!(lines[5001]["n"], 12);
}

#[tokio::test]
async fn normalize_with_a_saved_rule_and_ndjson_input() {
    let s = test_state(None);
    let (_, j) = call(
        &s,
        "POST",
        "/v1/rules",
        Some(json!({"name": "up", "spl": "* | extend u = upper(name)", "samples": ["x"]})),
    )
    .await;
    let id = j["id"].as_i64().unwrap();
    let (st, _, out) = raw(
        &s,
        "POST",
        &format!("/v1/normalize?rule={id}&input_format=ndjson"),
        Some("{\"name\":\"ab\"}\n\nnot json\n".into()),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[0].contains("\"u\":\"AB\""), "{text}");
    assert!(lines[1].contains("not_json"), "{text}");
    let (st, _, _) = raw(&s, "POST", "/v1/normalize?rule=999", Some("a".into()), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _, _) = raw(&s, "POST", "/v1/normalize", Some("a".into()), None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _, _) = raw(
        &s,
        "POST",
        "/v1/normalize?spl=*%20%7C%20stats%20c%20%3D%20count(*)",
        Some("a".into()),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _, _) = raw(
        &s,
        "POST",
        "/v1/normalize?spl=*%20%7C%20nope",
        Some("a".into()),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let s = test_state(None);
    call(&s, "GET", "/v1/health", None).await;
    call(
        &s,
        "POST",
        "/v1/spl/check",
        Some(json!({"rule": "* | nope"})),
    )
    .await;
    let (st, h, body) = raw(&s, "GET", "/v1/metrics", None, None).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        h[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.contains(
            "soc_http_requests_total{method=\"GET\",route=\"/v1/health\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains("route=\"/v1/spl/check\",status=\"422\"} 1"),
        "{text}"
    );
    assert!(
        text.contains(
            "soc_http_request_duration_seconds_bucket{route=\"/v1/health\",le=\"+Inf\"} 1"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn unknown_routes_are_404_json_and_the_ui_is_served() {
    let s = test_state(None);
    let (st, j) = call(&s, "GET", "/v1/nothing", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(j["errors"][0]["code"], "not_found");
    for (uri, ty) in [
        ("/", "text/html"),
        ("/app.js", "text/javascript"),
        ("/app.css", "text/css"),
    ] {
        let (st, h, body) = raw(&s, "GET", uri, None, None).await;
        assert_eq!(st, StatusCode::OK);
        assert!(h[header::CONTENT_TYPE].to_str().unwrap().starts_with(ty));
        let text = String::from_utf8(body).unwrap();
        assert!(
            !text.contains("http://") && !text.contains("https://"),
            "{uri} must not load anything from the network"
        );
    }
}

#[tokio::test]
async fn an_internal_error_is_opaque() {
    // A scratch folder that cannot be created makes the rule test fail inside the server.
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let state = AppState::new(Config {
        store: Store::open(dir.path()).unwrap(),
        llm: None,
        token: None,
        limits: Limits::default(),
        scratch: blocker.join("sub"),
    });
    let s = TestServer { state, _dir: dir };
    let (st, j) = call(
        &s,
        "POST",
        "/v1/rules",
        Some(json!({"name": "a", "spl": "*", "samples": ["x"]})),
    )
    .await;
    assert_eq!(st, StatusCode::INTERNAL_SERVER_ERROR, "{j}");
    assert_eq!(j["errors"][0]["code"], "internal");
    assert!(
        !j.to_string().contains("not a directory")
            && !j.to_string().contains(&*blocker.to_string_lossy()),
        "{j}"
    );
}

#[tokio::test]
async fn openapi_document_matches_the_snapshot() {
    let s = test_state(None);
    let (st, j) = call(&s, "GET", "/v1/openapi.json", None).await;
    assert_eq!(st, StatusCode::OK);
    let paths: Vec<&String> = j["paths"].as_object().unwrap().keys().collect();
    for p in [
        "/v1/health",
        "/v1/suggest",
        "/v1/spl/check",
        "/v1/spl/fmt",
        "/v1/spl/run",
        "/v1/spl/functions",
        "/v1/rules",
        "/v1/rules/{id}",
        "/v1/rules/{id}/test",
        "/v1/rules/{id}/versions",
        "/v1/normalize",
        "/v1/metrics",
        "/v1/ecs/fields",
        "/v1/openapi.json",
    ] {
        assert!(
            paths.iter().any(|x| x.as_str() == p),
            "{p} missing from {paths:?}"
        );
    }
    insta::assert_json_snapshot!("openapi", j);
}

#[tokio::test]
async fn serve_answers_on_a_socket_and_shuts_down_gracefully() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = test_state(None);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
    let handle = tokio::spawn(server::serve(
        s.state.clone(),
        "127.0.0.1:0".parse().unwrap(),
        move |a| {
            let _ = addr_tx.send(a);
        },
        async {
            let _ = stop_rx.await;
        },
    ));
    let addr = addr_rx.await.unwrap();
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(b"GET /v1/health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut reply = String::new();
    conn.read_to_string(&mut reply).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("\"status\":\"ok\""), "{reply}");
    stop_tx.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), handle)
        .await
        .expect("the server stops after the shutdown signal")
        .unwrap()
        .unwrap();
}
