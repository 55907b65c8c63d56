//! The build function against recorded CI output.

use lastmile_contract::{Context, compliance};
use lastmile_events::{Class, Incident};
use lastmile_intake::incident_from_text;

use super::*;

fn run(text: &str) -> Outcome {
    let incident = incident_from_text(text);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(handle(&incident, &Context::offline())).unwrap()
}

fn classes(out: &Outcome) -> Vec<&Class> {
    out.diagnoses.iter().map(|d| &d.class).collect()
}

#[test]
fn checksum_mismatch_in_a_github_actions_log() {
    let out = run(include_str!("../tests/fixtures/gha-checksum-mismatch.log"));
    let d = &out.diagnoses[0];
    assert_eq!(d.class, Class::BuildChecksumMismatch);
    assert!(d.definitive);
    assert!(
        d.summary.contains("github.com/acme/ledger@v1.9.4"),
        "{}",
        d.summary
    );
    assert!(
        d.evidence
            .iter()
            .any(|e| e == "downloaded: h1:Qk5n1c8V3p1yJ0cZ0Jq2m7cJtG8y2Wd1mB6pB2F5E6s="),
        "{:#?}",
        d.evidence
    );
    assert!(d.evidence.iter().any(|e| e.starts_with("go.sum: h1:7w1c")));
    assert_eq!(
        d.remediation[0].command.as_deref(),
        Some("curl -s https://sum.golang.org/lookup/github.com/acme/ledger@v1.9.4")
    );
    // A single build's download lines are not drift.
    assert!(
        !classes(&out).contains(&&Class::BuildDependencyDrift),
        "{:?}",
        classes(&out)
    );
}

#[test]
fn go_mod_checksum_mismatch_names_the_module() {
    let out = run(
        "go: github.com/acme/lib@v1.0.0: verifying go.mod: github.com/acme/lib@v1.0.0/go.mod: checksum mismatch\n\tdownloaded: h1:aaa=\n\tgo.sum:     h1:bbb=\n",
    );
    let d = &out.diagnoses[0];
    assert_eq!(d.class, Class::BuildChecksumMismatch);
    assert!(
        d.summary.contains("github.com/acme/lib@v1.0.0"),
        "{}",
        d.summary
    );
}

#[test]
fn sumdb_lookup_failure_is_a_checksum_verification_failure() {
    let out = run(
        "go: github.com/acme/internal-sdk@v0.4.1: verifying module: github.com/acme/internal-sdk@v0.4.1: reading https://sum.golang.org/lookup/github.com/acme/internal-sdk@v0.4.1: 404 Not Found\n\tserver response: not found: github.com/acme/internal-sdk@v0.4.1: invalid version: git ls-remote -q origin: exit status 128",
    );
    assert_eq!(*classes(&out)[0], Class::BuildChecksumMismatch);
    assert!(out.diagnoses[0].summary.contains("checksum database"));
}

#[test]
fn missing_go_sum_entry_suggests_tidy_and_gos_own_command() {
    let out = run(
        "main.go:9:2: missing go.sum entry for module providing package github.com/spf13/cobra (imported by github.com/acme/cli/cmd); to add:\n\tgo get github.com/acme/cli/cmd\n",
    );
    let d = &out.diagnoses[0];
    assert_eq!(d.class, Class::BuildMissingGoSum);
    assert_eq!(
        d.remediation[0].command.as_deref(),
        Some("go mod tidy && git diff --exit-code go.mod go.sum")
    );
    assert_eq!(
        d.remediation[1].command.as_deref(),
        Some("go get github.com/acme/cli/cmd")
    );
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("github.com/spf13/cobra"))
    );
}

#[test]
fn updates_to_go_mod_needed_is_an_untidy_module() {
    for text in [
        "#14 2.113 go: updates to go.mod needed; to update it:\n#14 2.113 \tgo mod tidy",
        "go: github.com/acme/api imports\n\tgithub.com/acme/lib: updates to go.sum needed, disabled by -mod=readonly",
        "$ go mod tidy && git diff --exit-code go.mod go.sum\ndiff --git a/go.sum b/go.sum\nindex 3e1f..9a2c 100644\n",
    ] {
        assert_eq!(
            classes(&run(text)).first().copied(),
            Some(&Class::BuildGoModDirty),
            "{text}"
        );
    }
}

#[test]
fn two_builds_with_different_deps_and_hashes() {
    let out = run(include_str!("../tests/fixtures/two-builds-version-m.txt"));
    let cs = classes(&out);
    assert!(cs.contains(&&Class::BuildDependencyDrift), "{cs:?}");
    assert!(cs.contains(&&Class::BuildNotReproducible), "{cs:?}");
    let drift = out
        .diagnoses
        .iter()
        .find(|d| d.class == Class::BuildDependencyDrift)
        .unwrap();
    assert_eq!(
        drift.evidence,
        vec!["github.com/acme/ledger: v1.9.4 vs v1.10.0".to_owned()]
    );
    let repro = out
        .diagnoses
        .iter()
        .find(|d| d.class == Class::BuildNotReproducible)
        .unwrap();
    assert!(
        repro
            .evidence
            .iter()
            .any(|e| e.starts_with("ledger-api: sha256 5c1f0a7e")),
        "{:#?}",
        repro.evidence
    );
    assert!(
        repro
            .evidence
            .iter()
            .any(|e| e == "build setting vcs.modified differs: false vs true"),
        "{:#?}",
        repro.evidence
    );
}

#[test]
fn go_sum_listing_many_versions_is_not_drift() {
    let out = run(
        "github.com/acme/lib v1.2.0 h1:abc=\ngithub.com/acme/lib v1.2.0/go.mod h1:def=\ngithub.com/acme/lib v1.3.0/go.mod h1:ghi=\n",
    );
    assert!(out.diagnoses.is_empty(), "{:#?}", out.diagnoses);
}

#[test]
fn docker_build_with_huge_context_and_leaked_vendor_dir() {
    let out = run(include_str!("../tests/fixtures/docker-build-context.log"));
    let cs = classes(&out);
    // The toolchain's own complaint comes first; the leak that caused it is reported too.
    assert_eq!(*cs[0], Class::BuildGoModDirty, "{cs:?}");
    assert!(cs.contains(&&Class::BuildContextLeak), "{cs:?}");
    let leak = out
        .diagnoses
        .iter()
        .find(|d| d.class == Class::BuildContextLeak)
        .unwrap();
    assert!(
        leak.evidence.iter().any(|e| e.contains("1.21GB")),
        "{:#?}",
        leak.evidence
    );
    assert!(leak.evidence.iter().any(|e| e.contains("COPY . .")));
}

#[test]
fn copy_all_alone_is_not_a_leak() {
    let out = run("FROM golang:1.24\nWORKDIR /src\nCOPY . .\nRUN go build ./...\n");
    assert!(out.diagnoses.is_empty(), "{:#?}", out.diagnoses);
}

#[test]
fn kubernetes_failures_are_not_build_failures() {
    for text in [
        "Warning  FailedScheduling  2m  default-scheduler  0/3 nodes are available: 3 Insufficient cpu.",
        "Failed to pull image \"ghcr.io/acme/api:v2\": rpc error: code = NotFound desc = failed to pull and unpack image: not found",
        "Warning  DeadlineExceeded  job-controller  Job was active longer than specified deadline",
    ] {
        assert!(run(text).diagnoses.is_empty(), "{text}");
    }
}

#[test]
fn complies_with_the_function_spec() {
    let samples: Vec<Incident> = [
        include_str!("../tests/fixtures/gha-checksum-mismatch.log"),
        include_str!("../tests/fixtures/two-builds-version-m.txt"),
        include_str!("../tests/fixtures/docker-build-context.log"),
    ]
    .into_iter()
    .map(incident_from_text)
    .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(compliance::check(&FUNCTION, &samples, &Context::offline()));
}

#[test]
fn every_pattern_compiles() {
    crate::gomod::compile_all();
    crate::drift::compile_all();
    crate::context::compile_all();
    crate::pinned::compile_all();
}

/// Go's own report that two toolchains select different versions is drift.
#[test]
fn go_would_select_a_different_version_is_drift() {
    let out = run(
        "  github.com/urfave/cli/v2 imports\n  \tgithub.com/cpuguy83/go-md2man/v2/md2man loaded from github.com/cpuguy83/go-md2man/v2@v2.0.0-20190314233015-f79a8a8ca69d,\n  \tbut go 1.16 would select v2.0.0\n\nTo upgrade to the versions selected by go 1.16:\n\tgo mod tidy -go=1.16 && go mod tidy -go=1.17",
    );
    assert_eq!(classes(&out)[0], &Class::BuildDependencyDrift);
    assert!(
        out.diagnoses[0].summary.contains("go-md2man"),
        "{}",
        out.diagnoses[0].summary
    );
}

/// A missing .dockerignore described in prose, with what the copy then brings in.
#[test]
fn a_context_leak_told_in_prose() {
    let out = run(
        "Without the dockerignore, docker will copy everything including the node_modules, which breaks native modules.",
    );
    assert_eq!(classes(&out)[0], &Class::BuildContextLeak);
    // Mentioning .dockerignore alone is no leak.
    assert!(
        run("I added a .dockerignore file and the build is fine")
            .diagnoses
            .is_empty()
    );
}

/// Go 1.13+ puts the module first (`m@v: verifying module: checksum mismatch`), often after
/// an importing file's position, and compares with the checksum database rather than go.sum.
#[test]
fn checksum_mismatch_against_the_checksum_database_in_the_newer_wording() {
    for (text, target) in [
        (
            "$ go mod download\nexample.com/acme/widgets@v1.4.2: verifying module: checksum mismatch\n\tdownloaded: h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\tsum.golang.org: h1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=\n\nSECURITY ERROR\nThis download does NOT match the one reported by the checksum server.\nThe bits may have been replaced on the origin server, or an attacker may\nhave intercepted the download attempt.\n",
            "example.com/acme/widgets@v1.4.2",
        ),
        (
            "internal/store/db.go:12:2: github.com/acme/orm/v3@v3.0.1: verifying module: checksum mismatch\n        downloaded: h1:cccc=\n        sum.golang.google.cn: h1:dddd=\nSECURITY ERROR\n",
            "github.com/acme/orm/v3@v3.0.1",
        ),
        (
            "go: github.com/acme/lib@v0.2.0: verifying go.mod: checksum mismatch\n\tdownloaded: h1:eeee=\n\tsum.golang.org: h1:ffff=\n",
            "github.com/acme/lib@v0.2.0",
        ),
    ] {
        let out = run(text);
        let d = &out.diagnoses[0];
        assert_eq!(d.class, Class::BuildChecksumMismatch, "{text}");
        assert!(d.summary.contains(target), "{}", d.summary);
        assert!(d.summary.contains("checksum database"), "{}", d.summary);
        assert!(
            d.evidence.iter().any(|e| e.starts_with("sum.golang.")),
            "{:#?}",
            d.evidence
        );
    }
    // The go.sum comparison keeps its own explanation.
    let d = &run("github.com/acme/lib@v1.0.0: verifying module: checksum mismatch\n\tdownloaded: h1:aaa=\n\tgo.sum:     h1:bbb=\n\nSECURITY ERROR\nThis download does NOT match an earlier download recorded in go.sum.\n").diagnoses[0];
    assert_eq!(d.class, Class::BuildChecksumMismatch);
    assert!(d.summary.contains("hash in go.sum"), "{}", d.summary);
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("does NOT match an earlier download recorded in go.sum")),
        "{:#?}",
        d.evidence
    );
}

/// A vendored build that lacks a package go.mod needs: the vendor tree is incomplete.
#[test]
fn incomplete_vendor_tree_is_go_mod_dirty() {
    for text in [
        "vendor/github.com/acme/cache/ring.go:9:2: cannot find module providing package github.com/acme/errs: import lookup disabled by -mod=vendor\n\t(Go version in go.mod is at least 1.14 and vendor directory exists.)",
        "cmd/api/main.go:5:2: cannot find package \"github.com/acme/log\" in vendor tree",
        "go: package golang.org/x/sync/errgroup is not in vendor/modules.txt",
    ] {
        let out = run(text);
        assert_eq!(classes(&out)[0], &Class::BuildGoModDirty, "{text}");
        assert!(out.diagnoses[0].summary.contains("vendor"), "{text}");
    }
}

/// A build that rewrites go.mod, told by the reporter rather than by `-mod=readonly`.
#[test]
fn a_build_rewriting_go_mod_told_in_words() {
    for text in [
        "go.mod:\n\nrequire github.com/acme/api release-2.1\n\nRun `go build`.\n\nWhat did you expect? go.mod should not be changed",
        "Every time I run go test ./... it rewrites go.mod and CI shows a diff.",
    ] {
        let out = run(text);
        assert_eq!(classes(&out)[0], &Class::BuildGoModDirty, "{text}");
        assert!(!out.diagnoses[0].definitive, "{text}");
    }
    assert!(
        run("go build works and go.mod is fine")
            .diagnoses
            .is_empty()
    );
}

/// `.git` or credentials said to end up in the image: a context leak without the Dockerfile.
#[test]
fn secrets_or_git_copied_into_the_image_told_in_words() {
    for text in [
        "The Dockerfile copies the whole `.git` directory into the Docker image, including .git/config with a token in the remote URL.",
        "Please exclude the .git folder: it should not be included in the container image.",
        "Our production image contains .env with the database password.",
    ] {
        let out = run(text);
        assert_eq!(classes(&out)[0], &Class::BuildContextLeak, "{text}");
    }
    for text in [
        "I cloned the .git repo and built the image",
        "the image was built from a tag in the .git history",
    ] {
        assert!(run(text).diagnoses.is_empty(), "{text}");
    }
}

/// The wall-clock time stamped into the binary (`-X …=$(date …)`, GoReleaser's `{{.Date}}`)
/// beside two builds compared: the stamp is why they differ. The commit date is fine.
#[test]
fn a_wall_clock_stamp_makes_builds_unreproducible() {
    for text in [
        "builds:\n  - ldflags:\n      - -s -w -X main.version={{.Version}} -X main.date={{.Date}}\nRebuilding the v2.3.1 tag gives an archive whose checksum differs from the published one.",
        "Makefile: go build -ldflags \"-X 'github.com/acme/tool/internal/version.BuiltAt=$(date +%s)'\" ./cmd/tool\nTwo builds of the same tag on the same runner never match.",
    ] {
        let out = run(text);
        assert_eq!(classes(&out)[0], &Class::BuildNotReproducible, "{text}");
        assert!(out.diagnoses[0].summary.contains("time"), "{text}");
    }
    assert!(
        run("-X main.date={{.CommitDate}}\nboth builds differ")
            .diagnoses
            .iter()
            .all(|d| !d.summary.contains("stamps the time")),
    );
}

/// go.mod declaring one version of a module while the built binary holds another, told in
/// prose: the build resolved its own module graph.
#[test]
fn go_mod_version_differs_from_the_built_one() {
    let text = "Our go.mod requires golang.org/x/net v0.23.0.\n`go version -m ./bin/api` shows the binary was built with golang.org/x/net@v0.17.0 instead.";
    let out = run(text);
    assert_eq!(classes(&out)[0], &Class::BuildDependencyDrift, "{out:#?}");
    assert!(out.diagnoses[0].summary.contains("v0.23.0"));
    // The same version on both sides is no drift.
    let same = "go.mod requires golang.org/x/net v0.23.0 and the binary was built with golang.org/x/net@v0.23.0";
    assert!(run(same).diagnoses.is_empty(), "{same}");
}

/// `COPY . /dest` quoted inline in prose, and the secret then seen at that destination in
/// the image: the context leaked into the image.
#[test]
fn a_secret_seen_at_the_copy_destination_is_a_leak() {
    let text = "The Dockerfile does `COPY . /srv/app` and the .dockerignore only lists node_modules.\n$ docker run --rm registry.local/api:dev ls -a /srv/app\n.  ..  /srv/app/.npmrc  package.json  src";
    let out = run(text);
    assert_eq!(classes(&out)[0], &Class::BuildContextLeak, "{out:#?}");
    assert!(out.diagnoses[0].confidence >= 0.85);
    assert!(
        out.diagnoses[0]
            .evidence
            .iter()
            .any(|e| e.contains("/srv/app/.npmrc"))
    );
}

/// `COPY . .` quoted in prose counts only where the text is about the build context or its
/// .dockerignore; a Dockerfile line quoted in a sentence about something else is no leak.
#[test]
fn a_quoted_copy_counts_only_in_talk_about_the_context() {
    let about_context = "Both images are built with `COPY . .` and our .dockerignore has no pattern for the .env file, so .env is in the build context.";
    assert_eq!(classes(&run(about_context))[0], &Class::BuildContextLeak);
    let elsewhere = "The service reads its settings from .env at start; the image is built with `COPY . .` as usual.";
    assert!(
        !classes(&run(elsewhere)).contains(&&Class::BuildContextLeak),
        "{elsewhere}"
    );
}

/// The toolchain's per-module lines of an inconsistent vendor tree (go.mod and
/// vendor/modules.txt disagree), without its `go: inconsistent vendoring` heading.
#[test]
fn go_mod_and_vendor_modules_txt_disagreeing_is_a_stale_vendor_tree() {
    for text in [
        "make: *** [build] Error 1\n\tgithub.com/pkg/errors@v0.9.1: is marked as explicit in vendor/modules.txt, but not explicitly required in go.mod\n\tgithub.com/acme/log: is replaced in go.mod, but not marked as replaced in vendor/modules.txt",
        "To ignore the vendor directory, use -mod=readonly or -mod=mod.\nTo sync the vendor directory, run 'go mod vendor' to sync",
    ] {
        let out = run(text);
        assert_eq!(classes(&out)[0], &Class::BuildGoModDirty, "{text}");
        assert!(out.diagnoses[0].summary.contains("vendor"), "{text}");
    }
    assert!(
        run("We regenerated vendor/modules.txt and committed go.mod; the build passes now.")
            .diagnoses
            .is_empty()
    );
}

/// A context far larger than the build needs, told by its size or by ignore patterns that
/// do not exclude build output, with no `COPY . .` line quoted.
#[test]
fn an_oversized_build_context_told_in_words_is_a_leak() {
    for text in [
        "Sending build context to Docker daemon  1.37GB\nStep 1/9 : FROM rust:1.79",
        "Our build context keeps growing: target/ and .git end up in it because the .dockerignore lists `target` only under a subdirectory.",
        "The .dockerignore has `**/dist` but dist/ under packages/web is not excluded, so every build uploads it.",
    ] {
        let out = run(text);
        assert_eq!(classes(&out)[0], &Class::BuildContextLeak, "{text}");
    }
    for text in [
        "Sending build context to Docker daemon  3.072kB\nStep 1/9 : FROM rust:1.79",
        "The build context is small; the .dockerignore excludes node_modules and target/.",
    ] {
        assert!(run(text).diagnoses.is_empty(), "{text}");
    }
}

/// A tidy check comparing the module files before and after `go mod tidy` (diff -q, cmp)
/// and finding them different is an untidy module; the same files said to be identical, or
/// other files differing, are not.
#[test]
fn a_tidy_check_whose_before_and_after_differ_is_an_untidy_module() {
    for text in [
        "$ ./hack/verify-gomod.sh\n+ cp go.mod /tmp/go.mod.orig\n+ go mod tidy\n+ cmp go.mod /tmp/go.mod.orig\ngo.mod /tmp/go.mod.orig differ: char 412, line 17\nError: Process completed with exit code 1.",
        "Files ./go.sum and .tidy-check/go.sum differ\nmake: *** [verify-tidy] Error 1",
        "CI never caught it: the go.mod in the release branch was not tidied before tagging.",
    ] {
        assert_eq!(
            classes(&run(text)).first().copied(),
            Some(&Class::BuildGoModDirty),
            "{text}"
        );
    }
    for text in [
        "Files config.yaml and /tmp/config.yaml.before differ",
        "go.mod is tidy and go.sum is up to date",
    ] {
        assert!(run(text).diagnoses.is_empty(), "{text}");
    }
}

/// A context said to be sent to the daemon at a large size, without Docker's own line, is
/// an oversized context; a small one is not.
#[test]
fn a_large_context_told_as_sent_to_the_daemon_is_a_leak() {
    let text = "Every docker build takes ages: the context which is uploaded to the daemon weighs 870 MB, mostly node_modules.";
    assert_eq!(
        classes(&run(text)).first().copied(),
        Some(&Class::BuildContextLeak)
    );
    let small = "the context that is sent to the docker daemon is 12 kB, fine";
    assert!(run(small).diagnoses.is_empty());
}
