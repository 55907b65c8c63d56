//! Fake secrets of every shape the policy covers, generated from a seed: the fixtures of the
//! table and property tests here and of the end-to-end tests of every output path. They
//! have the formats of real credentials and are random, so no real secret is ever pasted
//! into a test.

use base64::Engine as _;

/// A kind of secret people paste.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `AKIA…` access key id, sometimes followed by its secret key (`id,secret`).
    AwsAccessKeyId,
    /// `aws_secret_access_key = …` (the credentials file).
    AwsSecretKeyIni,
    /// `AWS_SECRET_ACCESS_KEY=…` (an environment dump).
    AwsSecretKeyEnv,
    /// A GCP service-account key file (`private_key_id`, `private_key`).
    GcpServiceAccount,
    /// An Azure storage connection string (`AccountKey=…`).
    AzureConnectionString,
    /// An Azure shared access signature (`SharedAccessSignature=…`, `sig=…`).
    AzureSas,
    /// `Authorization: Bearer …` in the middle of a line (curl, a proxy log).
    BearerHeader,
    /// A short bearer token anywhere (`Bearer abc123`).
    BearerShort,
    /// `Authorization: Basic …` in the middle of a line.
    BasicHeader,
    /// A JSON Web Token.
    Jwt,
    /// `scheme://user:password@host` for any scheme.
    UrlUserinfo,
    /// `--password …`, `--password=…`, `mysql -p…`, `curl -u user:…`.
    PasswordFlag,
    /// `docker login -p …` (and podman, helm registry, …).
    DockerLoginP,
    /// `KEY=value` where the key names a secret.
    SecretKeyValue,
    /// `KEY: value` where the key names a secret.
    SecretKeyColon,
    /// A PEM private key block.
    PemPrivateKey,
    /// A GitHub token (`ghp_`, `gho_`, `ghs_`, `github_pat_`).
    GitHubToken,
    /// A GitLab token (`glpat-`).
    GitLabToken,
    /// A Slack token (`xoxb-`, `xoxp-`, …).
    SlackToken,
    /// A base64 `.dockerconfigjson` blob.
    DockerConfigJson,
}

impl Shape {
    /// Every shape.
    pub const ALL: &'static [Shape] = &[
        Shape::AwsAccessKeyId,
        Shape::AwsSecretKeyIni,
        Shape::AwsSecretKeyEnv,
        Shape::GcpServiceAccount,
        Shape::AzureConnectionString,
        Shape::AzureSas,
        Shape::BearerHeader,
        Shape::BearerShort,
        Shape::BasicHeader,
        Shape::Jwt,
        Shape::UrlUserinfo,
        Shape::PasswordFlag,
        Shape::DockerLoginP,
        Shape::SecretKeyValue,
        Shape::SecretKeyColon,
        Shape::PemPrivateKey,
        Shape::GitHubToken,
        Shape::GitLabToken,
        Shape::SlackToken,
        Shape::DockerConfigJson,
    ];
}

/// One generated secret as it would be pasted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// Its shape.
    pub shape: Shape,
    /// The text as pasted (may span lines, e.g. a PEM block or a key file).
    pub text: String,
    /// The parts that must never come out (each at least 6 characters).
    pub secrets: Vec<String>,
}

/// Every shape once, from `seed`.
pub fn all(seed: u64) -> Vec<Sample> {
    Shape::ALL
        .iter()
        .enumerate()
        .map(|(i, shape)| sample(*shape, seed.wrapping_add(i as u64 * 7919)))
        .collect()
}

/// One sample of `shape` from `seed` (the same seed always gives the same sample).
pub fn sample(shape: Shape, seed: u64) -> Sample {
    let mut r = Rng(seed ^ 0x9e37_79b9_7f4a_7c15);
    let (text, secrets) = match shape {
        Shape::AwsAccessKeyId => {
            let id = format!("{}{}", r.pick(&["AKIA", "ASIA"]), r.chars(UPPER_DIGITS, 16));
            if r.below(2) == 0 {
                (id.clone(), vec![id])
            } else {
                let secret = r.chars(B64, 40);
                (format!("{id},{secret}"), vec![id, secret])
            }
        }
        Shape::AwsSecretKeyIni => {
            let v = r.chars(B64, 40);
            (format!("aws_secret_access_key = {v}"), vec![v])
        }
        Shape::AwsSecretKeyEnv => {
            let v = r.chars(B64, 40);
            (format!("AWS_SECRET_ACCESS_KEY={v}"), vec![v])
        }
        Shape::GcpServiceAccount => {
            let id = r.chars(HEX, 40);
            let l1 = r.chars(B64, 64);
            let l2 = r.chars(B64, 64);
            (
                format!(
                    r#"{{"type": "service_account", "project_id": "demo-{n}", "private_key_id": "{id}", "private_key": "-----BEGIN PRIVATE KEY-----\n{l1}\n{l2}\n-----END PRIVATE KEY-----\n", "client_email": "ci@demo-{n}.iam.gserviceaccount.com"}}"#,
                    n = r.below(1000)
                ),
                vec![id, l1, l2],
            )
        }
        Shape::AzureConnectionString => {
            let key = r.chars(B64, 86);
            (
                format!(
                    "DefaultEndpointsProtocol=https;AccountName=demo{};AccountKey={key}==;EndpointSuffix=core.windows.net",
                    r.below(100)
                ),
                vec![key],
            )
        }
        Shape::AzureSas => {
            let sig = r.chars(ALNUM, 43);
            let query = format!(
                "sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-01-01T00%3A00%3A00Z&spr=https&sig={sig}%3D"
            );
            let text = if r.below(2) == 0 {
                format!("https://demo.blob.core.windows.net/builds/log.txt?{query}")
            } else {
                format!(
                    "BlobEndpoint=https://demo.blob.core.windows.net/;SharedAccessSignature={query}"
                )
            };
            (text, vec![sig])
        }
        Shape::BearerHeader => {
            let len = 6 + r.below(34) as usize;
            let t = r.chars(TOKEN68, len);
            let text = match r.below(3) {
                0 => {
                    format!("curl -sf -H \"Authorization: Bearer {t}\" https://api.example.com/v1")
                }
                1 => format!("upstream request Authorization: Bearer {t} rejected"),
                _ => format!("proxy-authorization=Bearer {t}"),
            };
            (text, vec![t])
        }
        Shape::BearerShort => {
            let t = r.word(ALNUM, 6, 4);
            (format!("Bearer {t}"), vec![t])
        }
        Shape::BasicHeader => {
            let b = base64::engine::general_purpose::STANDARD.encode(format!(
                "robot{}:{}",
                r.below(100),
                r.chars(ALNUM, 12)
            ));
            let shown = b.trim_end_matches('=').to_owned();
            let text = if r.below(2) == 0 {
                format!("sent Authorization: Basic {b} to the registry")
            } else {
                format!("wget --header='Authorization: Basic {b}' https://r.example.com/")
            };
            (text, vec![shown])
        }
        Shape::Jwt => {
            let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let header = url.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
            let payload = url.encode(format!(
                r#"{{"sub":"{}","iat":{}}}"#,
                r.chars(ALNUM, 12),
                1_700_000_000 + r.below(1_000_000)
            ));
            let sig = r.chars(B64URL, 43);
            (format!("{header}.{payload}.{sig}"), vec![payload, sig])
        }
        Shape::UrlUserinfo => {
            let scheme = r.pick(&[
                "postgres",
                "postgresql",
                "mysql",
                "redis",
                "rediss",
                "amqp",
                "amqps",
                "mongodb+srv",
                "https",
                "http",
                "ftp",
            ]);
            let pw = r.word(URL_PASSWORD, 8, 16);
            (
                format!(
                    "{scheme}://app_user:{pw}@db-{}.internal.example.com:5432/app",
                    r.below(10)
                ),
                vec![pw],
            )
        }
        Shape::PasswordFlag => {
            let pw = r.word(VALUE, 8, 16);
            let text = match r.below(5) {
                0 => format!("psql-wrapper --host db --password {pw} --db app"),
                1 => format!("vault-agent --password={pw}"),
                2 => format!("mysql -u root -p{pw} -h mysql.shop.svc"),
                3 => format!("curl -fsS -u deploy:{pw} https://nexus.example.com/"),
                _ => format!(
                    "helm repo add charts https://charts.example.com --username ci --password \"{pw}\""
                ),
            };
            (text, vec![pw])
        }
        Shape::DockerLoginP => {
            let pw = r.word(VALUE, 8, 16);
            let tool = r.pick(&[
                "docker login",
                "podman login",
                "helm registry login",
                "nerdctl login",
            ]);
            (
                format!("{tool} -u ci -p {pw} registry.example.com"),
                vec![pw],
            )
        }
        Shape::SecretKeyValue => {
            let key = r.pick(&[
                "PASSWORD",
                "DB_PASSWORD",
                "POSTGRES_PASSWORD",
                "MYSQL_ROOT_PASSWORD",
                "CLIENT_SECRET",
                "GITHUB_TOKEN",
                "NPM_TOKEN",
                "API_KEY",
                "STRIPE_API_KEY",
                "PRIVATE_KEY",
                "SECRET_KEY",
                "db.password",
                "registry_token",
            ]);
            let v = r.word(VALUE, 8, 16);
            let text = match r.below(3) {
                0 => format!("{key}={v}"),
                1 => format!("export {key}=\"{v} {v}\""),
                _ => format!("{key}='{v}'"),
            };
            (text, vec![v])
        }
        Shape::SecretKeyColon => {
            let key = r.pick(&[
                "DB_PASSWORD",
                "PASSWORD",
                "api_key",
                "client-secret",
                "githubToken",
                "SLACK_BOT_TOKEN",
                "\"password\"",
            ]);
            let v = r.word(VALUE, 8, 16);
            (format!("{key}: {v}"), vec![v])
        }
        Shape::PemPrivateKey => {
            let kind = r.pick(&["", "RSA ", "EC ", "OPENSSH ", "ENCRYPTED "]);
            let l1 = r.chars(B64, 64);
            let l2 = r.chars(B64, 64);
            (
                format!(
                    "-----BEGIN {kind}PRIVATE KEY-----\n{l1}\n{l2}\n-----END {kind}PRIVATE KEY-----"
                ),
                vec![l1, l2],
            )
        }
        Shape::GitHubToken => {
            let t = if r.below(4) == 0 {
                format!("github_pat_{}_{}", r.chars(ALNUM, 22), r.chars(ALNUM, 59))
            } else {
                format!(
                    "{}{}",
                    r.pick(&["ghp_", "gho_", "ghs_", "ghu_", "ghr_"]),
                    r.chars(ALNUM, 36)
                )
            };
            (t.clone(), vec![t])
        }
        Shape::GitLabToken => {
            let t = format!("glpat-{}", r.chars(B64URL, 20));
            (t.clone(), vec![t])
        }
        Shape::SlackToken => {
            let t = format!(
                "{}{}-{}-{}",
                r.pick(&["xoxb-", "xoxp-", "xoxa-", "xoxr-"]),
                r.chars(DIGITS, 11),
                r.chars(DIGITS, 13),
                r.chars(ALNUM, 24)
            );
            (t.clone(), vec![t])
        }
        Shape::DockerConfigJson => {
            let engine = base64::engine::general_purpose::STANDARD;
            let pw = r.chars(ALNUM, 16);
            let auth = engine.encode(format!("ci:{pw}"));
            let config = format!(
                r#"{{"auths":{{"registry.example.com":{{"username":"ci","password":"{pw}","auth":"{auth}"}}}}}}"#
            );
            let blob = engine.encode(config);
            let text = if r.below(2) == 0 {
                format!(".dockerconfigjson: {blob}")
            } else {
                blob.clone()
            };
            (text, vec![blob.trim_end_matches('=').to_owned()])
        }
    };
    Sample {
        shape,
        text,
        secrets,
    }
}

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const DIGITS: &[u8] = b"0123456789";
const HEX: &[u8] = b"0123456789abcdef";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const TOKEN68: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
/// Password characters that need no quoting in a URL's userinfo.
const URL_PASSWORD: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*-_.~";
/// Password characters of an unquoted shell word.
const VALUE: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!@#%^*_+/.";

/// splitmix64: small, deterministic, good enough to vary fixtures.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    /// Between `min` and `min + spread - 1` characters of `alphabet`.
    fn word(&mut self, alphabet: &[u8], min: usize, spread: u64) -> String {
        let n = min + self.below(spread) as usize;
        self.chars(alphabet, n)
    }

    /// `n` characters of `alphabet`; the first is alphanumeric, so a value never starts
    /// like a flag, a placeholder or a comment.
    fn chars(&mut self, alphabet: &[u8], n: usize) -> String {
        let first: Vec<u8> = alphabet
            .iter()
            .copied()
            .filter(u8::is_ascii_alphanumeric)
            .collect();
        (0..n)
            .map(|i| {
                let set = if i == 0 { &first[..] } else { alphabet };
                char::from(set[self.below(set.len() as u64) as usize])
            })
            .collect()
    }
}
