//! A token issuer signing ES256 JWTs ([`TokenIssuer`]) and registries behind it.

use super::*;

/// A user of the token issuer.
#[derive(Debug, Clone)]
pub struct TokenUser {
    /// The user name the issuer accepts in Basic auth.
    pub name: String,
    /// Its password, checked by the issuer with Basic auth.
    pub password: String,
    /// Repositories (exact names, or `*`) and the actions granted on them.
    pub grants: Vec<(String, Vec<String>)>,
}

/// A registry behind a [`TokenIssuer`] for `users` (anonymous requests get `anonymous`
/// grants), and a pusher whose token may push and pull every repository in `push_to`.
pub async fn token_registry(
    users: Vec<TokenUser>,
    anonymous: Vec<(String, Vec<String>)>,
    push_to: &[&str],
) -> anyhow::Result<(Arc<TokenIssuer>, Registry, Pusher)> {
    let issuer = Arc::new(TokenIssuer::start(users, anonymous).await?);
    let reg = Registry::start(RegistryAuth::Token(issuer.clone()), None).await?;
    let both: &[&str] = &["pull", "push"];
    let access: Vec<(&str, &[&str])> = push_to.iter().map(|r| (*r, both)).collect();
    let token = issuer.mint("ci", &access)?;
    let push = Pusher::new(&reg.base_url(), Some(format!("Bearer {token}")), None)?;
    Ok((issuer, reg, push))
}

/// A token server the registry trusts (distribution's `auth.token`), signing ES256 JWTs with
/// the signing certificate in the `x5c` header. Served with axum on a free loopback port.
pub struct TokenIssuer {
    /// `service` the registry and tokens name.
    pub service: String,
    /// `iss` of the tokens.
    pub issuer: String,
    addr: SocketAddr,
    state: Arc<IssuerState>,
    task: tokio::task::JoinHandle<()>,
}

struct IssuerState {
    key: KeyPair,
    cert_der: Vec<u8>,
    cert_pem: String,
    users: Vec<TokenUser>,
    anonymous: Vec<(String, Vec<String>)>,
    service: String,
    issuer: String,
}

impl TokenIssuer {
    /// Starts an issuer for `users`; anonymous requests get `anonymous` grants.
    pub async fn start(
        users: Vec<TokenUser>,
        anonymous: Vec<(String, Vec<String>)>,
    ) -> anyhow::Result<Self> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "lastmile test token signer");
        let cert = params.self_signed(&key)?;
        let (service, issuer) = (
            "lastmile-test-registry".to_owned(),
            "lastmile-test-issuer".to_owned(),
        );
        let state = Arc::new(IssuerState {
            key,
            cert_der: cert.der().to_vec(),
            cert_pem: cert.pem(),
            users,
            anonymous,
            service: service.clone(),
            issuer: issuer.clone(),
        });
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let s = state.clone();
        let app = axum::Router::new().route(
            "/token",
            axum::routing::get(
                move |headers: axum::http::HeaderMap,
                      q: axum::extract::Query<BTreeMap<String, String>>| {
                    let s = s.clone();
                    async move { token_endpoint(&s, &headers, &q.0) }
                },
            ),
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            service,
            issuer,
            addr,
            state,
            task,
        })
    }

    /// The realm URL.
    pub fn realm(&self) -> String {
        format!("http://{}/token", self.addr)
    }

    /// The signing certificate, PEM (the registry's `rootcertbundle`).
    pub fn cert_pem(&self) -> String {
        self.state.cert_pem.clone()
    }

    /// A token for `sub` with `access` = [(repository, actions)], minted directly (for pushes).
    pub fn mint(&self, sub: &str, access: &[(&str, &[&str])]) -> anyhow::Result<String> {
        let access: Vec<(String, Vec<String>)> = access
            .iter()
            .map(|(r, a)| (r.to_string(), a.iter().map(|s| s.to_string()).collect()))
            .collect();
        mint(&self.state, sub, &access)
    }
}

impl Drop for TokenIssuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn token_endpoint(
    s: &IssuerState,
    headers: &axum::http::HeaderMap,
    q: &BTreeMap<String, String>,
) -> (axum::http::StatusCode, String) {
    use axum::http::StatusCode;
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let grants = match basic {
        Some(pair) => {
            let (u, p) = pair.split_once(':').unwrap_or((&pair, ""));
            match s.users.iter().find(|x| x.name == u && x.password == p) {
                Some(user) => user.grants.clone(),
                None => {
                    return (
                        StatusCode::UNAUTHORIZED,
                        r#"{"details":"invalid username or password"}"#.into(),
                    );
                }
            }
        }
        None => s.anonymous.clone(),
    };
    let sub = q.get("account").cloned().unwrap_or_default();
    let mut access = Vec::new();
    if let Some(scope) = q.get("scope") {
        // repository:<name>:<actions>
        let mut parts = scope.splitn(3, ':');
        if let (Some("repository"), Some(name), Some(actions)) =
            (parts.next(), parts.next(), parts.next())
        {
            let granted: Vec<String> = actions
                .split(',')
                .filter(|a| {
                    grants
                        .iter()
                        .any(|(r, acts)| (r == name || r == "*") && acts.iter().any(|g| g == a))
                })
                .map(str::to_owned)
                .collect();
            access.push((name.to_owned(), granted));
        }
    }
    match mint(s, &sub, &access) {
        Ok(t) => (
            StatusCode::OK,
            serde_json::json!({"token": t, "access_token": t, "expires_in": 300}).to_string(),
        ),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn mint(s: &IssuerState, sub: &str, access: &[(String, Vec<String>)]) -> anyhow::Result<String> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let header =
        serde_json::json!({"typ": "JWT", "alg": "ES256", "x5c": [STANDARD.encode(&s.cert_der)]});
    let claims = serde_json::json!({
        "iss": s.issuer, "sub": sub, "aud": s.service,
        "exp": now + 300, "nbf": now - 10, "iat": now, "jti": format!("{now}-{}", rand_suffix()),
        "access": access.iter().map(|(n, a)| serde_json::json!({"type": "repository", "name": n, "actions": a})).collect::<Vec<_>>(),
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?),
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims)?)
    );
    let der = s.key.sign(signing_input.as_bytes())?;
    let raw = ecdsa_der_to_raw(&der).context("unexpected ECDSA signature encoding")?;
    Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(raw)))
}

fn rand_suffix() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

/// ASN.1 `SEQUENCE { INTEGER r, INTEGER s }` → JWS's 64-byte `r || s`.
fn ecdsa_der_to_raw(der: &[u8]) -> Option<Vec<u8>> {
    let mut i = 2;
    if *der.first()? != 0x30 {
        return None;
    }
    if der.get(1)? & 0x80 != 0 {
        i += usize::from(der.get(1)? & 0x7f);
    }
    let mut out = Vec::with_capacity(64);
    for _ in 0..2 {
        if *der.get(i)? != 0x02 {
            return None;
        }
        let len = usize::from(*der.get(i + 1)?);
        let int = der.get(i + 2..i + 2 + len)?;
        let int = if int.len() > 32 {
            &int[int.len() - 32..]
        } else {
            int
        };
        out.extend(std::iter::repeat_n(0u8, 32 - int.len()));
        out.extend_from_slice(int);
        i += 2 + len;
    }
    Some(out)
}
