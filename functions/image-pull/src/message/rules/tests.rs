#![allow(clippy::unwrap_used)]

use crate::message::Cause;
use crate::message::tests::cause;

/// Docker's old registry answer `Tag <tag> not found in repository <repo>` names no image or
/// pull word (a pod infra container, a build's base image), yet is a registry's not-found.
#[test]
fn tag_not_found_in_repository_is_about_a_pull_without_pull_words() {
    assert_eq!(
        cause("Error: Tag 3.9-edge not found in repository docker.io/acme/base-builder"),
        Cause::TagNotFound
    );
    assert_eq!(
        cause(
            "Failed to start the build container: tag nightly-2024 not found in repository quay.io/team/runner"
        ),
        Cause::TagNotFound
    );
}

/// A git or package repository missing a file is not a registry's answer.
#[test]
fn a_file_not_found_in_a_git_repository_is_not_a_pull() {
    assert_eq!(
        cause("error: pathspec 'docs/setup.md' did not match: file not found in the repository"),
        Cause::Unspecified
    );
}
