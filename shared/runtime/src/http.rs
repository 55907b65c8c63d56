//! The real [`RegistryHttp`]: reqwest on rustls, verifying TLS against the system roots plus
//! optional extra CA certificates, never following redirects, with a per-request timeout and a
//! body cap.
//!
//! Why it exists as its own client rather than a shared `reqwest::Client`: the image-pull
//! function must see failures the way a node does, so every transport failure is mapped to a
//! precise [`TransportErrorKind`] (DNS, refused, timeout, TLS, plain HTTP on a TLS port) by
//! walking the error's source chain down to the `io::Error` / `rustls::Error` that caused it,
//! instead of guessing from one top-level message.

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::time::Duration;

use async_trait::async_trait;
use lastmile_contract::{
    HttpExchange, HttpRequest, HttpResponse, RegistryHttp, TransportError, TransportErrorKind,
};

/// Default body cap: manifests, indexes, error documents and token answers are small.
pub const DEFAULT_MAX_BODY: usize = 4 << 20;

/// How to build the client.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Extra trusted CA certificates, PEM (a bundle may hold several).
    pub extra_ca_pems: Vec<Vec<u8>>,
    /// Bodies are truncated to this many bytes.
    pub max_body: usize,
    /// TCP connect timeout (each request also has its own overall timeout).
    pub connect_timeout: Duration,
    /// `User-Agent`.
    pub user_agent: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            extra_ca_pems: Vec::new(),
            max_body: DEFAULT_MAX_BODY,
            connect_timeout: Duration::from_secs(10),
            user_agent: concat!("lastmile/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// The client could not be built. Permanent: the configuration must change.
#[derive(Debug, thiserror::Error)]
pub enum HttpConfigError {
    /// A CA file did not parse as PEM certificates.
    #[error("extra CA certificate #{index} is not a PEM certificate bundle: {reason}")]
    BadCa {
        /// Position in `extra_ca_pems`.
        index: usize,
        /// Parser message.
        reason: String,
    },
    /// reqwest refused the configuration.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// [`RegistryHttp`] over reqwest + rustls.
#[derive(Debug, Clone)]
pub struct ReqwestRegistryHttp {
    client: reqwest::Client,
    max_body: usize,
}

impl ReqwestRegistryHttp {
    /// Builds the client once; clone it freely (the connection pool is shared).
    pub fn new(config: &HttpConfig) -> Result<Self, HttpConfigError> {
        let mut certs = Vec::new();
        for (index, pem) in config.extra_ca_pems.iter().enumerate() {
            let bundle =
                reqwest::Certificate::from_pem_bundle(pem).map_err(|e| HttpConfigError::BadCa {
                    index,
                    reason: e.to_string(),
                })?;
            if bundle.is_empty() {
                return Err(HttpConfigError::BadCa {
                    index,
                    reason: "no certificate found".into(),
                });
            }
            certs.extend(bundle);
        }
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .user_agent(config.user_agent.clone())
            .tls_certs_merge(certs)
            .build()
            .map_err(|e| HttpConfigError::Client(error_chain(&e)))?;
        Ok(Self {
            client,
            max_body: config.max_body,
        })
    }
}

#[async_trait]
impl RegistryHttp for ReqwestRegistryHttp {
    async fn send(&self, request: HttpRequest) -> HttpExchange {
        let method =
            reqwest::Method::from_bytes(request.method.as_bytes()).map_err(|_| TransportError {
                kind: TransportErrorKind::Other,
                detail: format!("invalid method {:?}", request.method),
            })?;
        let mut builder = self
            .client
            .request(method, &request.url)
            .timeout(request.timeout);
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if !request.body.is_empty() {
            builder = builder.body(request.body.clone());
        }
        let mut response = builder.send().await.map_err(|e| transport_error(&e))?;
        let status = response.status().as_u16();
        let mut headers: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in response.headers() {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            headers
                .entry(name.as_str().to_ascii_lowercase())
                .and_modify(|v| {
                    v.push_str(", ");
                    v.push_str(&value);
                })
                .or_insert(value);
        }
        let mut body = Vec::new();
        while body.len() < self.max_body {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = self.max_body - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                Ok(None) => break,
                Err(e) => return Err(transport_error(&e)),
            }
        }
        Ok(HttpResponse {
            status,
            headers,
            body,
        })
    }
}

/// The error's chain as one line, outermost first.
fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if parts.last() != Some(&s) {
            parts.push(s);
        }
        cur = e.source();
    }
    parts.join(": ")
}

/// Maps a reqwest error to a transport error by walking the source chain.
pub fn transport_error(err: &reqwest::Error) -> TransportError {
    TransportError {
        kind: classify(err),
        detail: error_chain(err),
    }
}

fn classify(err: &reqwest::Error) -> TransportErrorKind {
    let mut kind = None;
    for e in links(err) {
        if let Some(k) = kind_of(e) {
            // A TLS cause is final; otherwise the innermost specific cause wins.
            if matches!(k, TransportErrorKind::Tls | TransportErrorKind::NotTls) {
                return k;
            }
            kind = Some(k);
        }
    }
    match kind {
        Some(k) => k,
        None if err.is_timeout() => TransportErrorKind::Timeout,
        None => TransportErrorKind::Other,
    }
}

/// Every error in the chain, outermost first, including the errors wrapped inside
/// `io::Error`s: `io::Error::source()` skips the wrapped error itself, and hyper/tokio-rustls
/// nest `io::Error(Other, io::Error(InvalidData, rustls::Error))`.
pub(crate) fn links<'a>(err: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out = Vec::new();
    let mut cur = Some(err);
    while let Some(e) = cur {
        out.push(e);
        let mut inner = e;
        while let Some(io) = inner.downcast_ref::<std::io::Error>()
            && let Some(wrapped) = io.get_ref()
        {
            let wrapped: &(dyn StdError + 'static) = wrapped;
            out.push(wrapped);
            inner = wrapped;
        }
        cur = e.source();
    }
    out
}

fn kind_of(e: &(dyn StdError + 'static)) -> Option<TransportErrorKind> {
    if let Some(tls) = e.downcast_ref::<rustls::Error>() {
        return Some(match tls {
            rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => {
                TransportErrorKind::NotTls
            }
            _ => TransportErrorKind::Tls,
        });
    }
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        use std::io::ErrorKind as K;
        match io.kind() {
            K::ConnectionRefused | K::ConnectionReset | K::ConnectionAborted => {
                return Some(TransportErrorKind::Refused);
            }
            K::TimedOut => return Some(TransportErrorKind::Timeout),
            _ => {}
        }
    }
    let text = e.to_string().to_ascii_lowercase();
    if text.starts_with("dns error")
        || text.contains("failed to lookup address")
        || text.contains("name or service not known")
    {
        return Some(TransportErrorKind::Dns);
    }
    if text.contains("invalid http version") || text.contains("invalid http response") {
        // An HTTPS server answered a plain-HTTP request (the reverse is a rustls InvalidMessage).
        return Some(TransportErrorKind::NotTls);
    }
    if text.contains("timed out") || text == "operation timed out" {
        return Some(TransportErrorKind::Timeout);
    }
    None
}

#[cfg(test)]
mod tests;
