//! Pinned dependency hashes that stop matching, told by other tools and in other words.

use lastmile_events::{Class, Subject};

use super::diagnose;

fn class(text: &str) -> Option<Class> {
    diagnose(text, &Subject::default()).map(|d| d.class)
}

/// A pin left behind by a dependency change, in Nix's older format, Bazel's and Homebrew's.
#[test]
fn a_pin_left_behind_by_a_dependency_change_is_a_checksum_mismatch() {
    for text in [
        "After bumping cobra, the build says: output path '/nix/store/abc-foo-vendor' has sha256 hash '0abc' when '1def' was expected",
        "We bumped the archive to v2.1 in WORKSPACE. Error: Checksum was 7d0b9c but wanted 3a1f2e",
        "==> Downloading https://example.org/x-1.2.tar.gz\nError: SHA256 mismatch\nExpected: 12ab\n  Actual: 34cd",
        "renovate updated go.sum but the vendorHash in default.nix is now out of date",
    ] {
        assert_eq!(class(text), Some(Class::BuildChecksumMismatch), "{text}");
    }
}

/// The same source hashing differently on another machine, architecture or compiler.
#[test]
fn a_pin_that_differs_between_builders_is_not_reproducible() {
    for text in [
        "error: hash mismatch in fixed-output derivation '/nix/store/q-foo-go-modules.drv'\n on x86_64 it builds fine, the hash differs between platforms (aarch64-darwin gets another value)",
        "cargoHash mismatch, but only on the CI runners; my laptop gets the pinned value for the same commit. Seems non-deterministic.",
        "Checksum was 7d0b9c but wanted 3a1f2e - since the Go 1.21 upgrade the generated archive is different.",
        "the vendorHash is wrong on every other build: it flips between two values",
        "Checksum was 8a1b but wanted 9c2d; the same commit passes on the linux runners but fails on the macOS builders.",
    ] {
        assert_eq!(class(text), Some(Class::BuildNotReproducible), "{text}");
    }
}

/// Hashes mentioned without a mismatch are not a finding.
#[test]
fn a_pinned_hash_that_matches_is_nothing() {
    for text in [
        "vendorHash = \"sha256-abc\"; builds fine on all machines",
        "the sha256 of the tarball is listed in the release notes",
    ] {
        assert_eq!(class(text), None, "{text}");
    }
}
