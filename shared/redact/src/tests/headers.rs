//! A registry probe's HTTP transcript, as text and as JSON: header values go, the challenge
//! stays.

use super::*;

#[test]
fn probe_transcript_headers_are_redacted_challenge_kept() {
    let out = text(PROBE_TRANSCRIPT).into_owned();
    assert_absent(
        &out,
        &[
            "cm9ib3Q6Z2gwc3QtUHVsbC1Ub2tlbg",
            "8f14e45fceea167a5a36dedd4bea2543",
            "eyJpc3MiOiJhdXRo",
            "c2lnbmF0dXJlLWJ5dGVz",
        ],
    );
    assert!(out.contains("Authorization: Basic [REDACTED]\r\n"), "{out}");
    assert!(
        out.contains("Authorization: Bearer [REDACTED]\r\n"),
        "{out}"
    );
    assert!(out.contains("Cookie: [REDACTED]\r\n"), "{out}");
    assert!(
        out.contains("Www-Authenticate: Bearer realm=\"https://auth.example.com/token\""),
        "{out}"
    );
    assert!(out.contains("HTTP/1.1 401 Unauthorized"));
    assert!(out.contains("scope=repository:shop/api:pull"));
}

#[test]
fn probe_transcript_as_json_redacts_header_values() {
    let doc = json!({
        "request": {
            "method": "GET",
            "url": "https://ci-bot:glpat-AbCdEfGhIjKlMnOpQrSt@gitlab.example.com/api/v4/projects",
            "headers": {"Authorization": "Bearer short", "X-Hub-Signature-256": "sha256=9f86d081884c7d659a2feaa0c55ad015", "Accept": "*/*"},
            "headerList": [["authorization", "Basic Zm9vOmJhcg=="], ["accept", "*/*"]],
            "har": [{"name": "Proxy-Authorization", "value": "Basic Zm9vOmJhcg=="}, {"name": "Accept", "value": "*/*"}]
        },
        "response": {"status": 401, "headers": {"Set-Cookie": "sid=abc123; HttpOnly"}}
    });
    let out = String::from_utf8(bytes(
        &serde_json::to_vec(&doc).unwrap(),
        "application/json; charset=utf-8",
    ))
    .unwrap();
    assert_absent(
        &out,
        &[
            "short",
            "9f86d081884c7d659a2feaa0c55ad015",
            "Zm9vOmJhcg",
            "abc123",
            "glpat-AbCd",
        ],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["request"]["headers"]["Accept"], "*/*");
    assert_eq!(v["request"]["headerList"][1][1], "*/*");
    assert_eq!(v["request"]["har"][1]["value"], "*/*");
    assert_eq!(v["response"]["status"], 401);
    assert_eq!(
        v["request"]["url"],
        "https://[REDACTED]@gitlab.example.com/api/v4/projects"
    );
}
