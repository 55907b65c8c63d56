//! A Kubernetes API server stand-in that speaks the real list/watch protocol.
//!
//! A real API server cannot run here, so this serves recorded objects (JSON as `kubectl get
//! -o json` prints it) over the same HTTP protocol kube-rs and client-go use:
//!
//! * `GET /api/v1/pods`, `/api/v1/namespaces/{ns}/pods`, `/apis/{group}/{version}/…`: a List
//!   with `metadata.resourceVersion`; `labelSelector` (equality terms) is honoured, and `limit` /
//!   `continue` page through it.
//! * `?watch=1&resourceVersion=N`: a chunked stream of `{"type": "ADDED" | "MODIFIED" |
//!   "DELETED" | "BOOKMARK" | "ERROR", "object": …}` lines, one per change after `N`,
//!   then live changes; BOOKMARK only when `allowWatchBookmarks=true`.
//! * after [`FakeApiServer::compact`], a watch from an older resourceVersion gets the real
//!   `410 Gone` watch event (`Status`, reason `Expired`), as after etcd compaction.
//! * `GET /api/v1/namespaces/{ns}/{plural}/{name}` (and cluster-scoped `/api/v1/{plural}/{name}`):
//!   the object, or the real `404 NotFound` `Status`; paths given to [`FakeApiServer::forbid`]
//!   get the real `403 Forbidden` `Status` instead, as RBAC refusals do.
//! * `PATCH` of one object with the three patch types (`application/strategic-merge-patch+json`,
//!   `application/merge-patch+json`, `application/json-patch+json`; semantics and limits in
//!   [`patch`]): the patched object's `metadata.resourceVersion` must be the stored one, else
//!   the real `409 Conflict` `Status` (a client sends the version it read as its
//!   precondition); `?dryRun=All` validates and returns the patched object without storing
//!   it or bumping the resourceVersion. A patch that cannot apply gets `422 Invalid`.
//! * `POST` to a namespaced collection creates the object (`generateName` honoured, `409
//!   AlreadyExists` for a taken name), so the Events a client records can be read back.
//!   [`FakeApiServer::writes`] lists every write with its content type and body, in order.
//! * [`FakeApiServer::restart`] drops every connection, refuses new ones for a moment, and
//!   listens again on the same port with the same objects, like an API-server rollout.
//!
//! Every object gets a fresh `metadata.resourceVersion` from one counter, as etcd's
//! revision does. The server stops on `Drop`.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::bail;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::Response;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::{broadcast, watch};

mod control;
pub mod patch;
mod read;
mod write;

/// Where a kind is served: (path prefix, plural, namespaced).
fn route_of(api_version: &str, kind: &str) -> Option<(String, &'static str, bool)> {
    let prefix = if api_version == "v1" {
        "/api/v1".to_owned()
    } else {
        format!("/apis/{api_version}")
    };
    let (plural, namespaced) = match kind {
        "Pod" => ("pods", true),
        "Event" => ("events", true),
        "Job" => ("jobs", true),
        "Node" => ("nodes", false),
        "ResourceQuota" => ("resourcequotas", true),
        "LimitRange" => ("limitranges", true),
        "PersistentVolumeClaim" => ("persistentvolumeclaims", true),
        "PersistentVolume" => ("persistentvolumes", false),
        "StorageClass" => ("storageclasses", false),
        "Namespace" => ("namespaces", false),
        "Secret" => ("secrets", true),
        "Service" => ("services", true),
        "EndpointSlice" => ("endpointslices", true),
        "ServiceAccount" => ("serviceaccounts", true),
        "ConfigMap" => ("configmaps", true),
        "Deployment" => ("deployments", true),
        "StatefulSet" => ("statefulsets", true),
        "DaemonSet" => ("daemonsets", true),
        "ReplicaSet" => ("replicasets", true),
        _ => return None,
    };
    Some((prefix, plural, namespaced))
}

#[derive(Debug, Clone)]
struct Change {
    rv: u64,
    /// `prefix/plural`, e.g. `/api/v1/pods`.
    resource: String,
    ty: &'static str,
    object: Value,
}

#[derive(Debug, Default)]
struct Objects {
    rv: u64,
    /// Watches older than this get 410 Gone.
    floor: u64,
    /// resource → (namespace, name) → object.
    by_resource: HashMap<String, BTreeMap<(String, String), Value>>,
    log: Vec<Change>,
    requests: Vec<String>,
    /// The last list served per resource, as (path, item count).
    lists: Vec<(String, usize)>,
    /// Path prefixes answered with 403 Forbidden (see [`FakeApiServer::forbid`]).
    forbidden: Vec<String>,
    /// Lists of paths containing the needle answer only after the delay (see
    /// [`FakeApiServer::slow_lists`]).
    slow: Vec<(String, Duration)>,
    /// Every PATCH and POST, in order.
    writes: Vec<Write>,
    /// Single-object paths whose next GET is followed by a write of the object (see
    /// [`FakeApiServer::touch_after_next_get`]).
    touch_after_get: Vec<String>,
}

/// One write request as the server received it (see [`FakeApiServer::writes`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    /// `PATCH` or `POST`.
    pub method: String,
    /// Path and query, e.g. `/apis/batch/v1/namespaces/ci/jobs/migrate?dryRun=All`.
    pub uri: String,
    /// The `Content-Type` header (the patch type of a PATCH).
    pub content_type: String,
    /// The body, `null` when it was not JSON.
    pub body: Value,
}

impl Write {
    /// True for a `dryRun=All` request.
    pub fn is_dry_run(&self) -> bool {
        self.uri.contains("dryRun=All")
    }
}

struct Shared {
    objects: Mutex<Objects>,
    changes: broadcast::Sender<Change>,
    /// Flips to true to end every open watch (restart).
    closing: watch::Sender<bool>,
}

/// A running fake API server. See the module docs.
pub struct FakeApiServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    dir: TempDir,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for FakeApiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeApiServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj.pointer(&format!("/metadata/{field}"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn labels_match(obj: &Value, selector: Option<&str>) -> bool {
    let Some(sel) = selector.filter(|s| !s.is_empty()) else {
        return true;
    };
    sel.split(',').all(|term| {
        let (k, v, negate) = match term.split_once("!=") {
            Some((k, v)) => (k, v, true),
            None => match term.split_once('=') {
                Some((k, v)) => (k, v.trim_start_matches('='), false),
                None => {
                    return obj
                        .pointer("/metadata/labels")
                        .and_then(|l| l.get(term.trim()))
                        .is_some();
                }
            },
        };
        let actual = obj
            .pointer("/metadata/labels")
            .and_then(|l| l.get(k.trim()))
            .and_then(Value::as_str);
        (actual == Some(v.trim())) != negate
    })
}

impl FakeApiServer {
    /// Starts on a free loopback port.
    pub async fn start() -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("lastmile-apiserver-")
            .tempdir()?;
        let (changes, _) = broadcast::channel(200_000);
        let (closing, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            objects: Mutex::new(Objects {
                rv: 100,
                ..Default::default()
            }),
            changes,
            closing,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let mut server = Self {
            shared,
            addr,
            dir,
            task: None,
        };
        server.serve(listener);
        Ok(server)
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(self.shared.clone());
        let mut closing = self.shared.closing.subscribe();
        self.task = Some(tokio::spawn(async move {
            let stop = async move {
                let _ = closing.wait_for(|c| *c).await;
            };
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(stop)
                .await;
        }));
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Writes a kubeconfig pointing at this server (no credentials) and returns its path.
    pub fn kubeconfig(&self) -> anyhow::Result<PathBuf> {
        let path = self.dir.path().join("kubeconfig");
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: {}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: nobody\n    namespace: default\ncurrent-context: fake\nusers:\n- name: nobody\n  user: {{}}\n",
            self.url()
        );
        std::fs::write(&path, text)?;
        Ok(path)
    }
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        self.shared.closing.send_replace(true);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Creates or updates an object (ADDED / MODIFIED) with a new resourceVersion; returns the
/// version and the object as stored.
fn store(shared: &Shared, mut object: Value) -> anyhow::Result<(u64, Value)> {
    let api_version = object["apiVersion"].as_str().unwrap_or("v1").to_owned();
    let kind = object["kind"].as_str().unwrap_or_default().to_owned();
    let Some((prefix, plural, namespaced)) = route_of(&api_version, &kind) else {
        bail!("the fake API server does not serve {api_version}/{kind}")
    };
    let ns = if namespaced {
        meta_str(&object, "namespace").to_owned()
    } else {
        String::new()
    };
    let name = meta_str(&object, "name").to_owned();
    if name.is_empty() {
        bail!("object without metadata.name");
    }
    let mut objects = shared
        .objects
        .lock()
        .map_err(|_| anyhow::anyhow!("state poisoned"))?;
    objects.rv += 1;
    let rv = objects.rv;
    object["metadata"]["resourceVersion"] = json!(rv.to_string());
    let resource = format!("{prefix}/{plural}");
    let map = objects.by_resource.entry(resource.clone()).or_default();
    let ty = if map.insert((ns, name), object.clone()).is_some() {
        "MODIFIED"
    } else {
        "ADDED"
    };
    let change = Change {
        rv,
        resource,
        ty,
        object: object.clone(),
    };
    objects.log.push(change.clone());
    drop(objects);
    let _ = shared.changes.send(change);
    Ok((rv, object))
}

/// `(resource, namespace, name)` from a single-object path: `/api/v1/namespaces/{ns}/{plural}/{name}`
/// or, cluster-scoped, `/api/v1/{plural}/{name}` (and the same under `/apis/{group}/{version}`).
fn parse_object_path(path: &str) -> Option<(String, String, String)> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (prefix_len, rest) = match *segs.first()? {
        "api" => (2, segs.get(2..)?),
        "apis" => (3, segs.get(3..)?),
        _ => return None,
    };
    let prefix = format!("/{}", segs[..prefix_len].join("/"));
    match rest {
        ["namespaces", ns, plural, name] => Some((
            format!("{prefix}/{plural}"),
            (*ns).to_owned(),
            (*name).to_owned(),
        )),
        [plural, name] => Some((
            format!("{prefix}/{plural}"),
            String::new(),
            (*name).to_owned(),
        )),
        _ => None,
    }
}

/// `(resource, namespace filter)` from a request path.
fn parse_path(path: &str) -> Option<(String, Option<String>)> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (prefix_len, rest) = match *segs.first()? {
        "api" => (2, segs.get(2..)?),
        "apis" => (3, segs.get(3..)?),
        _ => return None,
    };
    let prefix = format!("/{}", segs[..prefix_len].join("/"));
    match rest {
        [plural] => Some((format!("{prefix}/{plural}"), None)),
        ["namespaces", ns, plural] => Some((format!("{prefix}/{plural}"), Some((*ns).to_owned()))),
        _ => None,
    }
}

fn status(code: u16, reason: &str, message: &str) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code})
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Some(response) = write::handle(&shared, &method, &uri, content_type, &body) {
        return response;
    }
    if let Some(response) = read::single_object(&shared, &uri) {
        return response;
    }
    read::list_or_watch(shared, &uri, &q).await
}

#[cfg(test)]
mod tests;
