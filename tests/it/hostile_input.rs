//! Big and hostile input through the real `lastmile` binary (issue 14): the 64 MiB limit,
//! wrongly typed fields, control characters from a JSON document, and a replay directory
//! full of bad files, a symlink loop and a copy. Nothing is cut, dropped or repeated
//! silently; every bad file costs itself only.
//!
//! Escaping of control characters in pasted *text* is pinned in `secrets.rs`
//! (`explain_escapes_terminal_control_characters_in_human_output`).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use lastmile_events::CloudEvent;
use lastmile_tests::bin::lastmile_bin;

/// What `explain` and `replay` read at most, per input.
const LIMIT: usize = 64 * 1024 * 1024;

fn lastmile(args: &[&str]) -> anyhow::Result<Output> {
    Ok(Command::new(lastmile_bin()?)
        .args(args)
        .env_remove("NATS_URL")
        .output()?)
}

fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../events/examples/{name}"))
}

/// A recorded Pending Job document followed by whitespace up to `len` bytes: valid JSON of
/// exactly that size.
fn padded_document(len: usize) -> anyhow::Result<Vec<u8>> {
    let mut doc = std::fs::read(example("pending-job-insufficient-cpu.json"))?;
    anyhow::ensure!(doc.len() < len);
    doc.resize(len, b' ');
    Ok(doc)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn explain_refuses_input_one_byte_over_64_mib_in_one_line_and_reads_it_at_the_limit()
-> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let at = dir.path().join("at-limit.json");
    std::fs::write(&at, padded_document(LIMIT)?)?;
    let out = lastmile(&["explain", &at.to_string_lossy(), "--format", "json"])?;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(
        report["diagnoses"][0]["class"], "scheduling.insufficient_resources",
        "{report}"
    );

    // Over the limit, from a file and from a pipe: refused, not cut and read as text.
    let over = dir.path().join("over-limit.json");
    std::fs::write(&over, padded_document(LIMIT + 1)?)?;
    let from_file = lastmile(&["explain", &over.to_string_lossy()])?;
    let mut child = Command::new(lastmile_bin()?)
        .args(["explain", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdin"))?;
    let bytes = padded_document(LIMIT + 1)?;
    let writer = std::thread::spawn(move || {
        // The reader stops one byte past the limit; a broken pipe after that is expected.
        let _ = stdin.write_all(&bytes);
    });
    let from_pipe = child.wait_with_output()?;
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("writer panicked"))?;
    for (what, out) in [("over-limit.json", from_file), ("stdin", from_pipe)] {
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
        assert!(
            out.stdout.is_empty(),
            "{what}: diagnosed anyway: {}",
            text(&out.stdout)
        );
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(what), "{stderr}");
        assert!(stderr.contains("larger than 64 MiB"), "{stderr}");
        assert!(
            stderr.contains("-n NS") && stderr.contains("jq"),
            "no filtering hint: {stderr}"
        );
    }
    Ok(())
}

#[test]
fn wrongly_typed_fields_cost_the_field_and_the_output_says_so() -> anyhow::Result<()> {
    let event = |name: &str, patch: serde_json::Value| {
        let mut e = serde_json::json!({
            "apiVersion": "v1", "kind": "Event",
            "metadata": {"name": name, "namespace": "ci"},
            "involvedObject": {"kind": "Pod", "namespace": "ci", "name": "migrate-x7k2p"},
            "reason": "FailedScheduling", "type": "Warning", "count": 4,
            "message": "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
            "lastTimestamp": "2026-03-03T10:07:11Z",
        });
        if let (Some(e), Some(patch)) = (e.as_object_mut(), patch.as_object()) {
            e.extend(patch.clone());
        }
        e
    };
    let doc = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [
        event("a", serde_json::json!({"count": "five"})),
        event("b", serde_json::json!({"reason": 42})),
        event("c", serde_json::json!({"lastTimestamp": "yesterday"})),
    ]});
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("typed.json");
    std::fs::write(&path, serde_json::to_vec(&doc)?)?;
    let path = path.to_string_lossy().into_owned();

    let out = lastmile(&["explain", &path])?;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains("scheduling.insufficient_resources"),
        "the events still count: {stdout}"
    );
    assert!(!stdout.contains("no Warning event"), "{stdout}");
    assert!(stdout.contains("3 part(s) could not be read"), "{stdout}");
    for field in ["count", "reason", "lastTimestamp"] {
        assert!(
            stdout
                .lines()
                .any(|l| l.contains("ignored: ") && l.contains(field)),
            "{field} not named as ignored: {stdout}"
        );
    }

    let out = lastmile(&["explain", &path, "--format", "json"])?;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    assert_eq!(report["ignored_count"], 3, "{report}");
    assert_eq!(
        report["diagnoses"][0]["class"],
        "scheduling.insufficient_resources"
    );
    Ok(())
}

#[test]
fn control_characters_inside_a_json_document_are_escaped_in_human_output() -> anyhow::Result<()> {
    let hostile = "\u{1b}[2J\u{1b}]0;owned\u{7}image \"app\u{0}:1\" not found\r\u{202e}";
    let doc = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": [{
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "e\u{1b}[31m", "namespace": "ci"},
        "involvedObject": {"kind": "Pod", "namespace": "ci", "name": "api\u{1b}[8m-0"},
        "reason": "Failed", "type": "Warning", "count": 1,
        "message": format!("Failed to pull image: {hostile}"),
        "lastTimestamp": "2026-03-03T10:07:11Z",
    }]});
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("ansi.json");
    std::fs::write(&path, serde_json::to_vec(&doc)?)?;
    let out = lastmile(&["explain", &path.to_string_lossy()])?;
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !stdout.contains(['\u{1b}', '\u{7}', '\u{0}', '\r', '\u{202e}']),
        "raw control characters reached the terminal: {stdout:?}"
    );
    assert!(stdout.contains("\\x1b"), "escaped, not dropped: {stdout}");
    Ok(())
}

/// A replay directory as a user's recordings folder ends up: two good recordings, a copy
/// of one, every kind of bad file, and a symlink back to the top.
struct ReplayDir {
    dir: tempfile::TempDir,
    bad: Vec<&'static str>,
}

impl ReplayDir {
    fn new() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let root = dir.path();
        let sub = root.join("nested");
        std::fs::create_dir(&sub)?;
        std::fs::copy(
            example("job-deadline-exceeded.json"),
            root.join("a-job.json"),
        )?;
        std::fs::copy(
            example("imagepull-auth-401.json"),
            sub.join("b-imagepull.json"),
        )?;
        std::fs::copy(
            example("job-deadline-exceeded.json"),
            sub.join("c-copy.json"),
        )?;
        std::os::unix::fs::symlink(root, sub.join("loop"))?;

        std::fs::write(root.join("empty.json"), b"")?;
        std::fs::write(root.join("not-json.json"), b"Warning BackOff pod/api-0\n")?;
        let whole = std::fs::read(example("pending-job-insufficient-cpu.json"))?;
        std::fs::write(root.join("truncated.json"), &whole[..whole.len() / 2])?;
        std::fs::write(
            root.join("binary.json"),
            [
                0x7f, b'E', b'L', b'F', 0, 0xff, 0xfe, 0x1b, b'[', b'2', b'J', 0x80,
            ],
        )?;
        // A CloudEvent incident without its `time`.
        let incident = lastmile_intake::incidents_from_json(&std::fs::read(example(
            "job-deadline-exceeded.json",
        ))?)?
        .remove(0);
        let event = CloudEvent::new("ev-1", "/test", None, incident.last_seen, incident);
        let mut value: serde_json::Value = serde_json::from_slice(&event.to_vec()?)?;
        value
            .as_object_mut()
            .and_then(|m| m.remove("time"))
            .ok_or_else(|| anyhow::anyhow!("the CloudEvent had no time"))?;
        std::fs::write(root.join("no-time.json"), serde_json::to_vec(&value)?)?;
        // Unreadable: as root every permission check passes, so a symlink to nothing.
        std::os::unix::fs::symlink(root.join("gone.json"), root.join("dangling.json"))?;
        // Over the limit (sparse: nothing is written, and nothing should be read).
        std::fs::File::create(sub.join("huge.json"))?.set_len(LIMIT as u64 + 1)?;
        Ok(Self {
            dir,
            bad: vec![
                "empty.json",
                "not-json.json",
                "truncated.json",
                "binary.json",
                "no-time.json",
                "dangling.json",
                "huge.json",
            ],
        })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

#[test]
fn replay_reports_each_bad_file_once_diagnoses_the_rest_and_fails_at_the_end() -> anyhow::Result<()>
{
    let recordings = ReplayDir::new()?;
    let evidence = tempfile::tempdir()?;
    let out = lastmile(&[
        "replay",
        &recordings.path().to_string_lossy(),
        "--format",
        "json",
        "--evidence-dir",
        &evidence.path().to_string_lossy(),
    ])?;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");

    // The good recordings are diagnosed, the copy only once.
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let classes: Vec<&str> = report["diagnoses"]
        .as_array()
        .ok_or_else(|| anyhow::anyhow!("no diagnoses: {report}"))?
        .iter()
        .filter_map(|d| d["class"].as_str())
        .collect();
    assert!(classes.contains(&"image.auth"), "{classes:?}");
    assert_eq!(
        classes
            .iter()
            .filter(|c| **c == "job.deadline_exceeded")
            .count(),
        1,
        "the copy was diagnosed again: {classes:?}"
    );

    // Every bad file: exactly one line, naming it, with its cause once.
    let lines: Vec<&str> = stderr.lines().collect();
    for name in &recordings.bad {
        let about: Vec<&&str> = lines.iter().filter(|l| l.contains(*name)).collect();
        assert_eq!(about.len(), 1, "{name}: {about:?}\n{stderr}");
        let line = about[0];
        let cause = line.rsplit(": ").next().unwrap_or_default();
        assert_eq!(line.matches(cause).count(), 1, "cause repeated: {line}");
    }
    // What is said after the file's name.
    let reason = |name: &str| {
        lines
            .iter()
            .find_map(|l| l.split_once(&format!("{name}: ")).map(|(_, r)| r))
            .unwrap_or_default()
    };
    assert_eq!(reason("empty.json"), "empty file", "{stderr}");
    assert!(reason("not-json.json").contains("not JSON"), "{stderr}");
    assert!(reason("truncated.json").contains("EOF"), "{stderr}");
    assert!(reason("binary.json").contains("not JSON"), "{stderr}");
    assert!(reason("no-time.json").contains("time"), "{stderr}");
    assert!(reason("dangling.json").contains("symlink"), "{stderr}");
    assert!(
        reason("huge.json").starts_with("larger than 64 MiB"),
        "{stderr}"
    );
    assert!(
        !stderr.contains('\u{1b}'),
        "raw escape from binary.json: {stderr:?}"
    );
    // The copy and the loop are each said once; the loop is not followed.
    assert_eq!(
        lines.iter().filter(|l| l.contains("c-copy.json")).count(),
        1,
        "{stderr}"
    );
    assert!(
        reason("c-copy.json").starts_with("repeats")
            && reason("c-copy.json").contains("a-job.json"),
        "{stderr}"
    );
    let loops: Vec<&&str> = lines.iter().filter(|l| l.contains("loop")).collect();
    assert_eq!(loops.len(), 1, "{stderr}");
    assert!(
        !stderr.contains("nested/loop/"),
        "followed the loop: {stderr}"
    );
    // The summary closes stderr.
    assert_eq!(
        lines.last().copied(),
        Some("lastmile: 10 file(s), 2 diagnosed, 7 failed, 1 duplicate(s)"),
        "{stderr}"
    );
    Ok(())
}

#[test]
fn replay_of_good_files_only_exits_0_with_the_summary() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    std::fs::copy(
        example("job-deadline-exceeded.json"),
        dir.path().join("a.json"),
    )?;
    let evidence = tempfile::tempdir()?;
    let out = lastmile(&[
        "replay",
        &dir.path().to_string_lossy(),
        "--evidence-dir",
        &evidence.path().to_string_lossy(),
    ])?;
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(text(&out.stdout).contains("job.deadline_exceeded"));
    assert!(
        stderr.contains("1 file(s), 1 diagnosed, 0 failed, 0 duplicate(s)"),
        "{stderr}"
    );
    Ok(())
}
