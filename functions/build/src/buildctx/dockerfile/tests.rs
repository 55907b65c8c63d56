use super::*;

#[test]
fn multi_stage_sources_without_stage_copies() {
    let df = "# syntax=docker/dockerfile:1\nFROM golang:1.22 AS build\nWORKDIR /src\nCOPY go.mod go.sum ./\nRUN go mod download\ncopy --chown=1000:1000 \\\n    . .\nRUN go build -o /out/app ./cmd/app\n\nFROM gcr.io/distroless/static\nCOPY --from=build /out/app /app\nADD [\"config/app.yaml\", \"/etc/app/\"]\nADD https://example.com/ca.pem /etc/ssl/\nCOPY <<EOF /etc/motd\nhello\nEOF\n";
    assert_eq!(
        context_sources(df),
        ["go.mod", "go.sum", ".", "config/app.yaml"]
    );
}
