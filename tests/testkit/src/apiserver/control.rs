//! What a test does to a running server: seed objects and read them back, delete, inspect
//! the requests and writes served, and inject the faults of a real cluster (a racing
//! writer, compaction, bookmarks, RBAC refusals, slow lists, a restart).

use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::{Change, FakeApiServer, Write, route_of, store};

impl FakeApiServer {
    /// Creates or updates an object (ADDED / MODIFIED), stamping a new resourceVersion.
    pub fn apply(&self, object: Value) -> anyhow::Result<u64> {
        store(&self.shared, object).map(|(rv, _)| rv)
    }

    /// The stored object, if any (`namespace` is ignored for cluster-scoped kinds).
    pub fn get(&self, api_version: &str, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        let (prefix, plural, namespaced) = route_of(api_version, kind)?;
        let ns = if namespaced { namespace } else { "" };
        let objects = self.shared.objects.lock().ok()?;
        objects
            .by_resource
            .get(&format!("{prefix}/{plural}"))?
            .get(&(ns.to_owned(), name.to_owned()))
            .cloned()
    }

    /// Every stored object of a kind in `namespace` (all namespaces when empty).
    pub fn list(&self, api_version: &str, kind: &str, namespace: &str) -> Vec<Value> {
        let Some((prefix, plural, _)) = route_of(api_version, kind) else {
            return Vec::new();
        };
        let Ok(objects) = self.shared.objects.lock() else {
            return Vec::new();
        };
        objects
            .by_resource
            .get(&format!("{prefix}/{plural}"))
            .map(|m| {
                m.iter()
                    .filter(|((ns, _), _)| namespace.is_empty() || ns == namespace)
                    .map(|(_, o)| o.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// After the next GET of `path` (e.g. `/apis/batch/v1/namespaces/ci/jobs/migrate`) is
    /// answered, another writer changes the object (an annotation, a new resourceVersion):
    /// the race between a client's read and its write, on demand.
    pub fn touch_after_next_get(&self, path: &str) {
        if let Ok(mut o) = self.shared.objects.lock() {
            o.touch_after_get.push(path.to_owned());
        }
    }

    /// Every PATCH and POST served so far, in order.
    pub fn writes(&self) -> Vec<Write> {
        self.shared
            .objects
            .lock()
            .map(|o| o.writes.clone())
            .unwrap_or_default()
    }

    /// Applies every item of a `kubectl get -o json` List (or one object).
    pub fn apply_all(&self, list_or_object: Value) -> anyhow::Result<()> {
        match list_or_object.get("items").and_then(Value::as_array) {
            Some(items) => items
                .iter()
                .try_for_each(|i| self.apply(i.clone()).map(|_| ())),
            None => self.apply(list_or_object).map(|_| ()),
        }
    }

    /// Deletes an object (DELETED); `namespace` is ignored for cluster-scoped kinds.
    pub fn delete(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> anyhow::Result<()> {
        let (prefix, plural, namespaced) = route_of(api_version, kind).context("unknown kind")?;
        let ns = if namespaced {
            namespace.to_owned()
        } else {
            String::new()
        };
        let mut objects = self
            .shared
            .objects
            .lock()
            .map_err(|_| anyhow::anyhow!("state poisoned"))?;
        objects.rv += 1;
        let rv = objects.rv;
        let resource = format!("{prefix}/{plural}");
        let Some(mut object) = objects
            .by_resource
            .get_mut(&resource)
            .and_then(|m| m.remove(&(ns, name.to_owned())))
        else {
            bail!("{kind} {namespace}/{name} does not exist")
        };
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        let change = Change {
            rv,
            resource,
            ty: "DELETED",
            object,
        };
        objects.log.push(change.clone());
        drop(objects);
        let _ = self.shared.changes.send(change);
        Ok(())
    }

    /// Forgets the change history, as etcd compaction does: watches from any earlier
    /// resourceVersion now get `410 Gone` and clients must relist.
    pub fn compact(&self) {
        if let Ok(mut o) = self.shared.objects.lock() {
            o.floor = o.rv;
            o.log.clear();
        }
    }

    /// Sends a BOOKMARK with the current resourceVersion to watches that allow bookmarks.
    pub fn bookmark(&self) {
        let rv = self.shared.objects.lock().map(|o| o.rv).unwrap_or(0);
        let _ = self.shared.changes.send(Change {
            rv,
            resource: "*".into(),
            ty: "BOOKMARK",
            object: Value::Null,
        });
    }

    /// Request paths (with query) served so far.
    pub fn requests(&self) -> Vec<String> {
        self.shared
            .objects
            .lock()
            .map(|o| o.requests.clone())
            .unwrap_or_default()
    }

    /// How many list (not watch) requests were served for paths containing `needle`.
    pub fn list_count(&self, needle: &str) -> usize {
        self.shared
            .objects
            .lock()
            .map(|o| o.lists.iter().filter(|(p, _)| p.contains(needle)).count())
            .unwrap_or(0)
    }

    /// Answers every request whose path starts with `path_prefix` (e.g.
    /// `/api/v1/namespaces/ci/secrets/locked`) with the API server's 403 `Status`, as when
    /// the client's RBAC does not allow it.
    pub fn forbid(&self, path_prefix: &str) {
        if let Ok(mut o) = self.shared.objects.lock() {
            o.forbidden.push(path_prefix.to_owned());
        }
    }

    /// Makes list (not watch) requests whose path contains `needle` (e.g. `/nodes`) answer
    /// only after `delay`, as a large list on a busy API server does.
    pub fn slow_lists(&self, needle: &str, delay: Duration) {
        if let Ok(mut o) = self.shared.objects.lock() {
            o.slow.push((needle.to_owned(), delay));
        }
    }

    /// Ends every connection, stays down for `down`, then listens again on the same port.
    pub async fn restart(&mut self, down: Duration) -> anyhow::Result<()> {
        self.shared.closing.send_replace(true);
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
        tokio::time::sleep(down).await;
        self.shared.closing.send_replace(false);
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .context("re-binding the API server port")?;
        self.serve(listener);
        Ok(())
    }
}
