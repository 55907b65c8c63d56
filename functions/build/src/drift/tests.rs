//! Reproducibility complaints told in other words than the rules were first written for.

use lastmile_events::{Class, Subject};

use super::diagnose;

fn not_reproducible(text: &str) -> Option<f64> {
    diagnose(text, &Subject::default())
        .into_iter()
        .find(|d| d.class == Class::BuildNotReproducible)
        .map(|d| d.confidence)
}

/// Release binaries said to stop matching, or builds said to no longer be deterministic,
/// with or without the varying input named.
#[test]
fn release_hashes_that_stop_matching_are_not_reproducible() {
    for text in [
        "Our goreleaser artifacts aren't deterministic anymore: rebuilding v2.3.1 gives a new sha256.",
        "The release tarball checksums do not match the ones CI published for the same tag.",
        "The executable's hash is different from the one in the Debian package.",
        "Each time CI builds the container the sha256 of the jar changes even though it builds the same commit.",
        "We get a different digest every time we run the build.",
        "The reproducible build check fails for the arm64 tarball since the runner image changed.",
    ] {
        assert!(not_reproducible(text).is_some(), "{text}");
    }
    // Named with the input that varies (the toolchain, linker flags), the finding is firmer.
    let firm = "We compared both binaries' hashes before the release and they didn't match; the CI job uses a different golang version and passes -ldflags differently.";
    assert!(not_reproducible(firm).unwrap_or(0.0) >= 0.8, "{firm}");
    assert_eq!(
        not_reproducible("The release checksums match and the signatures verify."),
        None
    );
}

/// Per-build paths in the binary: Go's temporary work directories in a diff of two builds,
/// or build paths said to be embedded.
#[test]
fn per_build_paths_in_the_binary_are_not_reproducible() {
    for text in [
        "$ diff <(strings a/bin/app) <(strings b/bin/app)\n< /tmp/go-build118822/b001/_cgo_main.c\n> /tmp/go-build993311/b001/_cgo_main.c",
        "The absolute build paths get embedded in the binary, so two CI runners never produce the same file.",
    ] {
        assert!(not_reproducible(text).is_some(), "{text}");
    }
    for text in [
        "go build -trimpath ./... works fine in /tmp/go-build123",
        "+ cd /tmp/go-build2231/b001\n+ gcc -I . -o ./_cgo_main.o\nlink: running gcc failed",
        "the module's checksum is different from the one in go.sum",
    ] {
        assert_eq!(not_reproducible(text), None, "{text}");
    }
}

/// Unreproducible builds described in words, without two hash lines.
#[test]
fn reproducibility_failures_told_in_words() {
    for text in [
        "plain 'go build' embeds absolute source paths, producing different binaries depending on the checkout path. Verified non-reproducibility by building from two paths.",
        "I was hoping for byte-for-byte identical builds on any machine, but the build ID differs between them.",
    ] {
        assert!(not_reproducible(text).is_some(), "{text}");
    }
}

/// An artefact's hash said to change between builds, or after a commit (the VCS stamp).
#[test]
fn an_output_hash_changing_between_builds_is_not_reproducible() {
    for text in [
        "The sha256 of dist/agent.tar.gz changes on every build even though nothing in the source changed.",
        "Rebuilding after an empty git commit produces a different checksum for the binary.",
    ] {
        assert!(not_reproducible(text).is_some(), "{text}");
    }
    let pinned = "The image digest is pinned in the manifest and the build is green.";
    assert!(diagnose(pinned, &Subject::default()).is_empty());
}

#[test]
fn every_pattern_compiles() {
    super::compile_all();
    crate::unpinned::compile_all();
}

/// A self-built artefact whose hash does not match the published one, told hash-first ("the
/// sha256 of my firmware image doesn't match the release"), is a reproducibility failure; a
/// download whose checksum does not match is not two builds.
#[test]
fn a_self_built_artefact_whose_hash_misses_the_release_is_not_reproducible() {
    for text in [
        "I followed the README on Debian 12; the checksum of the resulting firmware image does not match the one on the releases page.",
        "sha256 for my locally built app-release.apk differs from the Play Store build.",
    ] {
        assert!(not_reproducible(text).is_some(), "{text}");
    }
    assert!(
        not_reproducible("The downloaded tarball's signature is valid but curl timed out halfway.")
            .is_none()
    );
}

/// Version-control information stamped into the artefact, beside a rebuild asked to start
/// from the tag: the verifier's rebuild differs because the release was built from another
/// checkout. VCS fields only listed, with no rebuild in question, are not it.
#[test]
fn a_vcs_stamp_from_another_checkout_is_not_reproducible() {
    let text = "The verification rebuild differs only in build vcs.revision; please build the release from the tag, not from a later commit on main.";
    assert!(not_reproducible(text).is_some(), "{text}");
    assert!(
        not_reproducible("go version -m shows vcs.revision and vcs.time for the binary.").is_none()
    );
}

/// Builder-specific source paths recorded in the binary: two builds' debug info or strings
/// compared side by side with a different GOROOT or checkout on each side, or the compiler
/// said to record the paths, with a bit-identical rebuild said to be out of reach.
#[test]
fn builder_paths_recorded_in_the_binary_are_not_reproducible() {
    for text in [
        "$ cmp -l <(objdump --dwarf=rawline old/app) <(objdump --dwarf=rawline new/app)\n< 3 /usr/local/go/src/runtime/proc.go\n> 3 /opt/hostedtoolcache/go/1.22.1/x64/src/runtime/proc.go",
        "readelf --debug-dump=line a b | diff\n| -  7  /home/alice/work/svc/cmd/main.go\n| +  7  /builds/ci/svc/cmd/main.go",
        "cargo and go both record absolute module paths in what they ship, so our binaries are never byte-identical across runners.",
        "The linker keeps the local checkout path in every executable, which breaks bit-for-bit identical rebuilds.",
    ] {
        assert!(not_reproducible(text).is_some(), "{text}");
    }
    for text in [
        // A code change in a diff names a source path on one side only, or moves a path
        // within the same root.
        "--- a/Dockerfile\n+++ b/Dockerfile\n- WORKDIR /go/src/app\n+ WORKDIR /go/src/app/v2",
        "diff --git a/x b/x\n-\tlog.Print(\"start\")\n+\t// see /usr/local/go/src/net/http/server.go",
        "The module path in go.mod is github.com/acme/app; go build ./... succeeds.",
    ] {
        assert_eq!(not_reproducible(text), None, "{text}");
    }
}
