//! The text rules on what people paste: common and newer leak shapes go; placeholders, prose,
//! evidence and clean Kubernetes messages stay; malformed input never panics; a second pass
//! changes nothing.

use super::*;

#[test]
fn text_rules_cover_common_leaks() {
    let cases = [
        ("curl -H 'Authorization: Bearer abc' https://r", "abc"),
        (
            "curl --header \"Authorization: token abc\" https://r",
            "abc",
        ),
        (
            r#"{\"Authorization\": \"Basic Zm9vOmJhcg==\"}"#,
            "Zm9vOmJhcg",
        ),
        ("  Cookie: sid=1234", "sid=1234"),
        (
            "export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
            "AKIAIOSFODNN7EXAMPLE",
        ),
        (
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI",
        ),
        ("mysql -u root --password=hunter2 -h db", "hunter2"),
        ("PGPASSWORD=Pg-Pa55word psql", "Pg-Pa55word"),
        (
            "curl https://api.example.com/?access_token=tok123abc&page=2",
            "tok123abc",
        ),
        (
            "git clone https://x-access-token:ghs_16C7e42F292c6912E7710c838347Ae178B4a@github.com/o/r",
            "ghs_16C7e42F",
        ),
        (
            "token ghp_abcdefghijklmnopqrstuvwxyz0123456789 leaked",
            "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        ),
        ("{\"password\": \"p@ss w0rd\"}", "p@ss"),
        ("client_secret: 7f3c9a1e", "7f3c9a1e"),
        (
            "id_token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "dozjgNryP4J3jVmNHl0w5N",
        ),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7\n-----END RSA PRIVATE KEY-----\n",
            "MIIEowIBAAKCAQEA7",
        ),
        (
            "Authorization: AWS4-HMAC-SHA256 Credential=AKIA/2024/us-east-1/s3/aws4_request, Signature=fe5f80f77d5fa3beca038a248ff027",
            "fe5f80f77d5",
        ),
    ];
    for (input, secret) in cases {
        let out = text(input);
        assert!(!out.contains(secret), "{input:?} -> {out:?}");
        assert!(out.contains(REDACTED), "{input:?} -> {out:?}");
    }
}

#[test]
fn clean_text_and_kubernetes_messages_are_untouched() {
    for input in [
        "Failed to pull image \"org/private:1.0\": failed to pull and unpack image \"docker.io/org/private:1.0\": failed to resolve reference \"docker.io/org/private:1.0\": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed",
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient memory. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.",
        "Failed to pull image \"registry.example.com/shop/api:1.4.2\": rpc error: code = Unknown desc = failed to authorize: failed to fetch anonymous token: unexpected status: 401 Unauthorized",
        "MountVolume.SetUp failed for volume \"creds\" : secret \"api-creds\" not found",
        "Error: secret \"regcred\" not found; imagePullSecrets: regcred",
        "sha256:4b2a1c0f3e5d6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b",
        "Www-Authenticate: Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\"",
        "ssh://git@github.com/org/repo.git",
    ] {
        assert_eq!(text(input), input);
    }
    let clean =
        br#"{"kind":"Event","reason":"FailedScheduling","message":"0/3 nodes are available"}"#;
    assert_eq!(
        bytes(clean, "application/json"),
        clean.to_vec(),
        "clean JSON keeps its bytes"
    );
}

#[test]
fn malformed_or_binary_input_never_panics_and_still_gets_text_rules() {
    let out = bytes(b"{\"password\": \"hunter2\", broken", "application/json");
    assert!(!String::from_utf8_lossy(&out).contains("hunter2"));
    let out = bytes(
        b"\xff\xfe password=hunter2 \x00\x01",
        "application/octet-stream",
    );
    assert!(!String::from_utf8_lossy(&out).contains("hunter2"));
    let _ = bytes(&[0xffu8; 64], "application/json");
    let _ = text("");
    let ndjson = b"{\"token\":\"abc\"}\n{\"msg\":\"ok\"}\n";
    let out = String::from_utf8(bytes(ndjson, "application/x-ndjson")).unwrap();
    assert!(!out.contains("abc") && out.contains("ok"), "{out}");
}

#[test]
fn redaction_is_idempotent() {
    let once = bytes(POD_WITH_ENV.as_bytes(), "application/json");
    let twice = bytes(&once, "application/json");
    assert_eq!(once, twice);
    let t1 = text(PROBE_TRANSCRIPT).into_owned();
    assert_eq!(text(&t1), t1);
}

#[test]
fn new_text_rules_cover_the_shapes_people_paste() {
    let cases = [
        (
            "docker login -u ci -p s3cr3tPa55 registry.example.com",
            "s3cr3tPa55",
        ),
        (
            "echo x | docker login --username ci --password hunter2xyz ghcr.io",
            "hunter2xyz",
        ),
        ("mysql -uroot -pS3cretRoot -h db", "S3cretRoot"),
        (
            "curl -u admin:Adm1nPa55 https://nexus.example.com",
            "Adm1nPa55",
        ),
        (
            "request failed: Authorization: Bearer abc123 (401)",
            "abc123",
        ),
        (
            "the proxy sent Authorization: Basic cm9ib3Q6aHVudGVyMg== upstream",
            "cm9ib3Q6aHVudGVyMg",
        ),
        (
            "using basic cm9ib3Q6aHVudGVyMg== for the mirror",
            "cm9ib3Q6aHVudGVyMg",
        ),
        ("redis://:r3disPw@cache:6379/0", "r3disPw"),
        ("amqp://guest:Gu3stPw@rabbit:5672/", "Gu3stPw"),
        ("postgres://app:p@ss@db:5432/app", "ss@db"),
        (
            "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=QUJDREVGR0g=;EndpointSuffix=core.windows.net",
            "QUJDREVGR0g",
        ),
        (
            "https://x.blob.core.windows.net/c?sv=2022-11-02&sp=r&sig=AbCdEf0123%3D",
            "AbCdEf0123",
        ),
        (
            "{\"private_key_id\": \"0123456789abcdef0123\"}",
            "0123456789abcdef",
        ),
        ("env DB_PASSWORD: Pg-Pa55word-x applied", "Pg-Pa55word-x"),
        ("glpat-AbCdEfGhIjKlMnOpQrSt", "AbCdEfGhIjKlMnOpQrSt"),
        (
            "xoxb-12345678901-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
            "AbCdEfGhIjKl",
        ),
        (
            "AKIAIOSFODNN7EXAMPLE,wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI",
        ),
        (
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
            "b3BlbnNzaC1rZXktdjEAAAAA",
        ),
        (
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBGX\n-----END PGP PRIVATE KEY BLOCK-----",
            "lQOYBGX",
        ),
        (
            "https://hooks.slack.com/services/T000/B000/XXXXabcd1234",
            "XXXXabcd1234",
        ),
    ];
    for (input, secret) in cases {
        let out = text(input);
        assert!(!out.contains(secret), "{input:?} -> {out:?}");
        assert!(out.contains(REDACTED), "{input:?} -> {out:?}");
    }
}

#[test]
fn placeholders_prose_and_evidence_stay_readable() {
    for input in [
        "kubectl create secret docker-registry regcred --namespace shop --docker-server=r.example.com --docker-username=<user> --docker-password=<password-or-token> --dry-run=client -o yaml | kubectl apply -f -",
        "echo \"$CI_REGISTRY_PASSWORD\" | docker login -u \"$CI_REGISTRY_USER\" --password-stdin $CI_REGISTRY",
        "PGPASSWORD=$DB_PASSWORD psql -h db",
        "      DB_PASSWORD:  <set to the key 'password' in secret 'db'>  Optional: false",
        "automountServiceAccountToken: false",
        "unable to retrieve auth token: invalid username/password: unauthorized: incorrect username or password",
        "Www-Authenticate: Bearer realm=\"https://auth.example.com/token\",service=\"r\",error=\"invalid_token\"",
        "the registry requires a Bearer token",
        "basic checks passed",
        "pg_isready -h db -p 5432",
        "docker run -p 8080:80 -u 1000:1000 nginx",
        "PWD=/workspace/app",
        "verifying github.com/go-swagger/go-swagger@v0.31.0: checksum mismatch\n\tdownloaded: h1:s/T8gKzyNAUMFMyTWew6Vz3+rpT2MYKQD6ez1FlkRrs=\n\tgo.sum:     h1:H8eOYQnY2u7vNKWDNykv2xJP3pBhRG/R+SOCAmKrLlc=",
        "docker://registry.example.com:5000/shop/api@sha256:4b2a1c0f3e5d6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b",
        "pod uid 3f1c9a7e-2b4d-4e8f-9a1b-0c2d3e4f5a6b",
    ] {
        assert_eq!(text(input), input);
    }
}
