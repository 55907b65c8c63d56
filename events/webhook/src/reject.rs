//! Why a delivery was refused, with the HTTP status that says so.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// A refused delivery: status and a reason the sender can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {reason}")]
pub struct Reject {
    /// 400 malformed, 401 unsigned, 403 forged, 409 replayed, 413 oversized, 503 bus down.
    pub status: StatusCode,
    /// The reason, returned as `{"error": …}`.
    pub reason: String,
}

impl Reject {
    /// No signature or token: 401.
    pub fn unsigned(reason: String) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            reason,
        }
    }
    /// Wrong signature or token: 403.
    pub fn forged(reason: String) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            reason,
        }
    }
    /// Delivery id seen before: 409.
    pub fn replayed(id: &str) -> Self {
        Self {
            status: StatusCode::CONFLICT,
            reason: format!("delivery {id} was already received"),
        }
    }
    /// Body larger than the limit: 413.
    pub fn oversized(limit: usize) -> Self {
        Self {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            reason: format!("payload larger than {limit} bytes"),
        }
    }
    /// Not the JSON this endpoint expects: 400.
    pub fn malformed(reason: String) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            reason,
        }
    }
    /// The bus did not take it; the sender should retry: 503.
    pub fn unavailable(reason: String) -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            reason,
        }
    }
}

impl IntoResponse for Reject {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(serde_json::json!({"error": self.reason})),
        )
            .into_response()
    }
}
