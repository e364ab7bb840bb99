//! A fake Kubernetes API server for reconcile tests (tests only).
//!
//! Built on `tower_test::mock` like kube-rs/controller-rs `src/fixtures.rs`, but instead of a
//! fixed script of expected requests it keeps objects in memory and answers GET, LIST, PATCH
//! (server-side apply, merge), POST and DELETE, so a test states what the API holds before a
//! reconcile and asserts on what was requested and stored after it. Failures can be injected.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use serde_json::{Value, json};

/// One request the fake received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub query: String,
    pub content_type: String,
    pub body: Value,
}

#[derive(Default)]
struct State {
    objects: BTreeMap<String, Value>,
    requests: Vec<Recorded>,
    /// (method, path fragment, HTTP status): matching requests fail.
    failures: Vec<(Method, String, u16)>,
    /// (method, path fragment): matching requests are never answered, as over a connection
    /// to an API server that stopped responding.
    hangs: Vec<(Method, String)>,
    /// Whether applied Deployments and StatefulSets report all replicas ready.
    workloads_ready: bool,
    /// Whether their status lags one generation behind (the workload controller has not yet
    /// seen the latest spec), as right after a real apply that changed it.
    status_lags: bool,
    next_version: u64,
}

/// Handle to the fake's state; the server task answers requests until the client is dropped.
#[derive(Clone, Default)]
pub struct FakeApiServer(Arc<Mutex<State>>);

impl FakeApiServer {
    /// A kube `Client` talking to a new fake (default namespace `shops`).
    pub fn start() -> (kube::Client, FakeApiServer) {
        let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
        let fake = FakeApiServer::default();
        let server = fake.clone();
        tokio::spawn(async move {
            // Replies to hung requests are kept, not dropped: a dropped one would fail the call.
            let mut unanswered = Vec::new();
            while let Some((request, respond)) = handle.next_request().await {
                if server.hangs(&request) {
                    unanswered.push(respond);
                    continue;
                }
                let response = server.answer(request).await;
                respond.send_response(response);
            }
        });
        (kube::Client::new(service, "shops"), fake)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Stores an object at its API path.
    pub fn insert(&self, path: &str, object: Value) {
        let mut state = self.state();
        state.next_version += 1;
        let mut object = object;
        object["metadata"]["resourceVersion"] = json!(state.next_version.to_string());
        state.objects.insert(path.to_string(), object);
    }

    /// The object stored at a path.
    pub fn get(&self, path: &str) -> Option<Value> {
        self.state().objects.get(path).cloned()
    }

    /// Paths of every stored object under a collection path.
    pub fn paths_under(&self, collection: &str) -> Vec<String> {
        let prefix = format!("{collection}/");
        self.state().objects.keys().filter(|k| k.starts_with(&prefix)).cloned().collect()
    }

    /// Makes requests with this method whose path contains `fragment` fail with `status`.
    pub fn fail(&self, method: Method, fragment: &str, status: u16) {
        self.state().failures.push((method, fragment.to_string(), status));
    }

    /// Makes requests with this method whose path contains `fragment` wait forever.
    pub fn hang(&self, method: Method, fragment: &str) {
        self.state().hangs.push((method, fragment.to_string()));
    }

    fn hangs(&self, request: &Request<Body>) -> bool {
        let path = request.uri().path();
        self.state().hangs.iter().any(|(m, f)| m == request.method() && path.contains(f.as_str()))
    }

    /// Whether applied workloads report their replicas ready.
    pub fn set_workloads_ready(&self, ready: bool) {
        self.state().workloads_ready = ready;
    }

    /// Whether workload status describes the previous generation instead of the current one.
    pub fn set_status_lags(&self, lags: bool) {
        self.state().status_lags = lags;
    }

    /// Every request so far, then forgets them.
    pub fn take_requests(&self) -> Vec<Recorded> {
        std::mem::take(&mut self.state().requests)
    }

    async fn answer(&self, request: Request<Body>) -> Response<Body> {
        let method = request.method().clone();
        let path = request.uri().path().to_string();
        let query = request.uri().query().unwrap_or_default().to_string();
        let content_type = request
            .headers()
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let bytes = request.into_body().collect_bytes().await.unwrap_or_default();
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let mut state = self.state();
        state.requests.push(Recorded {
            method: method.clone(),
            path: path.clone(),
            query: query.clone(),
            content_type: content_type.clone(),
            body: body.clone(),
        });
        if let Some((_, _, code)) = state.failures.iter().find(|(m, f, _)| *m == method && path.contains(f.as_str())) {
            return status(*code, "injected failure");
        }
        match method {
            Method::GET => match state.objects.get(&path) {
                Some(object) => ok(object.clone()),
                None if is_collection(&path) => list(&state, &path, &query),
                None => status(404, "not found"),
            },
            Method::POST => {
                let name = body["metadata"]["name"].as_str().unwrap_or("unnamed").to_string();
                let object_path = format!("{path}/{name}");
                if !path.ends_with("/events") && state.objects.contains_key(&object_path) {
                    return status(409, "already exists");
                }
                state.next_version += 1;
                let mut created = body;
                created["metadata"]["resourceVersion"] = json!(state.next_version.to_string());
                state.objects.insert(object_path, created.clone());
                respond(StatusCode::CREATED, created)
            }
            Method::DELETE => match state.objects.remove(&path) {
                Some(object) => ok(object),
                None => status(404, "not found"),
            },
            Method::PATCH => patch(&mut state, &path, &content_type, body),
            _ => status(405, "method not allowed"),
        }
    }
}

/// `/api/v1/namespaces/ns/kind` and `/apis/g/v/namespaces/ns/kind` are collections.
fn is_collection(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.first() {
        Some(&"api") => segments.len() == 5,
        Some(&"apis") => segments.len() == 6,
        _ => false,
    }
}

fn list(state: &State, path: &str, query: &str) -> Response<Body> {
    let selector: Vec<(String, String)> = query
        .split('&')
        .filter_map(|pair| pair.strip_prefix("labelSelector="))
        .flat_map(|encoded| percent_decode(encoded).split(',').map(str::to_string).collect::<Vec<_>>())
        .filter_map(|term| term.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
    let prefix = format!("{path}/");
    let items: Vec<Value> = state
        .objects
        .iter()
        .filter(|(k, _)| k.starts_with(&prefix) && !k[prefix.len()..].contains('/'))
        .map(|(_, v)| v.clone())
        .filter(|v| selector.iter().all(|(k, want)| v["metadata"]["labels"][k].as_str() == Some(want)))
        .collect();
    ok(json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": "1"}, "items": items}))
}

/// Decodes the `%XX` escapes and `+` of a query value.
fn percent_decode(encoded: &str) -> String {
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(byte) => {
                        out.push(byte);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn patch(state: &mut State, path: &str, content_type: &str, body: Value) -> Response<Body> {
    let (object_path, subresource) = match path.strip_suffix("/status") {
        Some(base) => (base.to_string(), true),
        None => (path.to_string(), false),
    };
    let existing = state.objects.get(&object_path).cloned();
    let mut next = match (content_type, existing.clone()) {
        (ct, Some(current)) if subresource && ct.starts_with("application/apply-patch") => {
            let mut updated = current;
            updated["status"] = body["status"].clone();
            updated
        }
        (_, None) if subresource => return status(404, "not found"),
        (ct, current) if ct.starts_with("application/apply-patch") => {
            let mut applied = body;
            if let Some(current) = current {
                for key in ["uid", "creationTimestamp", "finalizers"] {
                    if !current["metadata"][key].is_null() {
                        applied["metadata"][key] = current["metadata"][key].clone();
                    }
                }
            }
            applied
        }
        (ct, Some(mut current)) if ct.starts_with("application/merge-patch") => {
            if let (Some(want), Some(have)) =
                (body["metadata"]["resourceVersion"].as_str(), current["metadata"]["resourceVersion"].as_str())
                && want != have
            {
                return status(409, "the object has been modified");
            }
            merge(&mut current, &body);
            current
        }
        (_, None) => return status(404, "not found"),
        _ => return status(415, "unsupported patch type"),
    };
    if state.workloads_ready && path.contains("/postgresql.cnpg.io/") {
        next["status"] = json!({"instances": next["spec"]["instances"], "readyInstances": next["spec"]["instances"]});
    }
    if path.contains("/deployments/") || path.contains("/statefulsets/") {
        // Like the API server: `generation` counts spec changes.
        let previous = existing.as_ref().map(|e| e["metadata"]["generation"].as_i64().unwrap_or(1));
        let generation = match (&existing, previous) {
            (Some(e), Some(g)) if e["spec"] == next["spec"] => g,
            (_, Some(g)) => g + 1,
            (None, _) | (_, None) => 1,
        };
        next["metadata"]["generation"] = json!(generation);
        if state.workloads_ready {
            let replicas = next["spec"]["replicas"].clone();
            let seen = if state.status_lags { generation - 1 } else { generation };
            next["status"] = json!({"replicas": replicas, "readyReplicas": replicas, "updatedReplicas": replicas, "observedGeneration": seen});
        }
    }
    // Like the API server: an apply that changes nothing keeps the resourceVersion.
    let mut unchanged = existing.clone().unwrap_or(Value::Null);
    unchanged["metadata"]["resourceVersion"] = Value::Null;
    next["metadata"]["resourceVersion"] = Value::Null;
    if next == unchanged {
        next["metadata"]["resourceVersion"] =
            existing.map(|e| e["metadata"]["resourceVersion"].clone()).unwrap_or(Value::Null);
    } else {
        state.next_version += 1;
        next["metadata"]["resourceVersion"] = json!(state.next_version.to_string());
    }
    state.objects.insert(object_path, next.clone());
    ok(next)
}

/// JSON merge patch (RFC 7386).
fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    target.remove(key);
                } else {
                    merge(target.entry(key.clone()).or_insert(Value::Null), value);
                }
            }
        }
        (target, patch) => *target = patch.clone(),
    }
}

fn respond(code: StatusCode, body: Value) -> Response<Body> {
    let mut response = Response::new(Body::from(serde_json::to_vec(&body).unwrap_or_default()));
    *response.status_mut() = code;
    response
}

fn ok(body: Value) -> Response<Body> {
    respond(StatusCode::OK, body)
}

fn status(code: u16, message: &str) -> Response<Body> {
    let reason = match code {
        404 => "NotFound",
        409 => "Conflict",
        422 => "Invalid",
        _ => "InternalError",
    };
    let body = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "reason": reason, "code": code});
    respond(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), body)
}
