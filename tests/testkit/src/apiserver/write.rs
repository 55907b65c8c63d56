//! Writes: `PATCH` of one object (the three patch types, `dryRun=All`, resourceVersion
//! conflicts) and `POST` to a collection (e.g. the Events a client records).

use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::patch::{self, Kind};
use super::{Shared, Write, meta_str, parse_object_path, parse_path, status, store};

fn answer(code: StatusCode, body: Value) -> Response {
    (code, axum::Json(body)).into_response()
}

fn failure(code: StatusCode, reason: &str, message: &str) -> Response {
    answer(code, status(code.as_u16(), reason, message))
}

/// Serves a PATCH or POST; `None` when `method` is not a write this server knows.
pub(super) fn handle(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    content_type: &str,
    body: &[u8],
) -> Option<Response> {
    if method != Method::PATCH && method != Method::POST {
        return None;
    }
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let dry_run = uri
        .query()
        .unwrap_or("")
        .split('&')
        .any(|kv| kv == "dryRun=All");
    {
        let Ok(mut objects) = shared.objects.lock() else {
            return Some(StatusCode::INTERNAL_SERVER_ERROR.into_response());
        };
        objects.requests.push(uri.to_string());
        objects.writes.push(Write {
            method: method.to_string(),
            uri: uri.to_string(),
            content_type: content_type.to_owned(),
            body: parsed.clone().unwrap_or(Value::Null),
        });
        if objects
            .forbidden
            .iter()
            .any(|p| uri.path().starts_with(p.as_str()))
        {
            return Some(failure(
                StatusCode::FORBIDDEN,
                "Forbidden",
                &format!("{method} {} is forbidden", uri.path()),
            ));
        }
    }
    let Some(body) = parsed else {
        return Some(failure(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the request body is not JSON",
        ));
    };
    Some(if method == Method::PATCH {
        patch_object(shared, uri, content_type, &body, dry_run)
    } else {
        create(shared, uri, body, dry_run)
    })
}

fn patch_object(
    shared: &Shared,
    uri: &Uri,
    content_type: &str,
    body: &Value,
    dry_run: bool,
) -> Response {
    let Some((resource, ns, name)) = parse_object_path(uri.path()) else {
        return failure(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "PATCH needs a single-object path",
        );
    };
    let Some(kind) = Kind::of(content_type) else {
        return failure(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            &format!("the body of the request was in an unknown format: {content_type}"),
        );
    };
    let plural = resource.rsplit('/').next().unwrap_or("").to_owned();
    let Ok(objects) = shared.objects.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Some(current) = objects
        .by_resource
        .get(&resource)
        .and_then(|m| m.get(&(ns.clone(), name.clone())))
        .cloned()
    else {
        return failure(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("{plural} \"{name}\" not found"),
        );
    };
    drop(objects);
    let patched = match patch::apply(kind, &current, body) {
        Ok(p) => p,
        Err(e) => return failure(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", &e.0),
    };
    for field in ["name", "namespace"] {
        if meta_str(&patched, field) != meta_str(&current, field) {
            return failure(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid",
                &format!("metadata.{field}: field is immutable"),
            );
        }
    }
    // The patched object's resourceVersion is the precondition (as the real server's
    // update after a patch): a patch that names another version than the stored one
    // conflicts.
    let stored_rv = meta_str(&current, "resourceVersion");
    let sent_rv = meta_str(&patched, "resourceVersion");
    if sent_rv != stored_rv {
        let group = resource
            .strip_prefix("/apis/")
            .and_then(|r| r.split('/').next())
            .map(|g| format!(".{g}"))
            .unwrap_or_default();
        return failure(
            StatusCode::CONFLICT,
            "Conflict",
            &format!(
                "Operation cannot be fulfilled on {plural}{group} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
            ),
        );
    }
    if dry_run {
        return answer(StatusCode::OK, patched);
    }
    match store(shared, patched) {
        Ok((_, stored)) => answer(StatusCode::OK, stored),
        Err(e) => failure(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", &e.to_string()),
    }
}

fn create(shared: &Shared, uri: &Uri, mut object: Value, dry_run: bool) -> Response {
    let Some((resource, Some(ns))) = parse_path(uri.path()) else {
        return failure(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "POST needs a namespaced collection path",
        );
    };
    if !object.is_object() {
        return failure(StatusCode::BAD_REQUEST, "BadRequest", "not an object");
    }
    if meta_str(&object, "namespace").is_empty() {
        object["metadata"]["namespace"] = json!(ns);
    } else if meta_str(&object, "namespace") != ns {
        return failure(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the namespace of the object does not match the namespace of the request",
        );
    }
    if meta_str(&object, "name").is_empty() {
        let prefix = meta_str(&object, "generateName").to_owned();
        if prefix.is_empty() {
            return failure(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid",
                "metadata.name: Required value: name or generateName is required",
            );
        }
        let n = shared.objects.lock().map(|o| o.rv + 1).unwrap_or(0);
        object["metadata"]["name"] = json!(format!("{prefix}{n:05x}"));
    }
    let name = meta_str(&object, "name").to_owned();
    let exists = shared.objects.lock().is_ok_and(|o| {
        o.by_resource
            .get(&resource)
            .is_some_and(|m| m.contains_key(&(ns.clone(), name.clone())))
    });
    let plural = resource.rsplit('/').next().unwrap_or("");
    if exists {
        return failure(
            StatusCode::CONFLICT,
            "AlreadyExists",
            &format!("{plural} \"{name}\" already exists"),
        );
    }
    if dry_run {
        return answer(StatusCode::CREATED, object);
    }
    match store(shared, object) {
        Ok((_, stored)) => answer(StatusCode::CREATED, stored),
        Err(e) => failure(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", &e.to_string()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
