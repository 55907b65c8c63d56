//! Context leaks told in prose, in other words than the rules were first written for.

use lastmile_events::{Class, Subject};

use super::diagnose;

fn class(text: &str) -> Option<Class> {
    diagnose(text, &Subject::default()).map(|d| d.class)
}

/// A repository without a .dockerignore (quoted or not, in several phrasings) whose whole
/// directory, .git or .env files then go into the build context.
#[test]
fn a_missing_dockerignore_with_what_the_context_then_carries_is_a_leak() {
    for text in [
        "The project doesn't have a '.dockerignore', so docker build sends the entire project folder as context, .env included.",
        "Our repo lacks a `.dockerignore`: the whole repository is sent to the daemon, including .git/ and the local .env.",
        "`.dockerignore` is absent; the entire working copy gets uploaded to the builder (target/, .git/).",
        "The image is 2GB because node_modules and the .git directory are copied into it; we don't have a .dockerignore.",
    ] {
        assert_eq!(class(text), Some(Class::BuildContextLeak), "{text}");
    }
    assert_eq!(
        class("We have a .dockerignore that excludes .git/ and the build is small."),
        None
    );
}

/// A secret file found in the built image by a scanner, in prose or in Trivy's own output.
#[test]
fn a_secret_file_a_scanner_finds_in_the_image_is_a_leak() {
    for text in [
        "Trivy reports a secret in our image: /app/.env (AWS access key).",
        "app:1.4.2 (alpine 3.19)\n/srv/app/.npmrc (secrets)\nTotal: 1 (HIGH: 1, CRITICAL: 0)",
    ] {
        assert_eq!(class(text), Some(Class::BuildContextLeak), "{text}");
    }
    assert_eq!(class("No secrets were found in the image."), None);
}

/// Secret-bearing files named by kind (env files, keys, tokens) said to be copied into the
/// image, without a file name or the Dockerfile line; an image pull secret is another subject.
#[test]
fn secrets_said_to_be_copied_into_the_image_are_a_leak() {
    for text in [
        "Our API keys get baked into the Docker image because the compose build copies the repo.",
        "Security review: private keys end up in the image layers of the backend service.",
        "The production image contains secrets from the local dotenv files.",
        "Anyone who pulls the image has our AWS credentials: docker history shows them.",
    ] {
        assert_eq!(class(text), Some(Class::BuildContextLeak), "{text}");
    }
    for text in [
        "We added registry credentials to the image pull secret and it still fails.",
        "Secrets are mounted at runtime, nothing is copied into the image.",
    ] {
        assert_eq!(class(text), None, "{text}");
    }
}

/// Secret files named in Markdown code spans (`` `.env` ``) beside a quoted `COPY . .`.
#[test]
fn quoted_secret_files_beside_a_quoted_copy_of_the_context_are_a_leak() {
    let text = "Nothing keeps the context small: there is no ignore file for the build context, and `COPY . .` takes `.env` and `id_rsa` with it.";
    assert_eq!(class(text), Some(Class::BuildContextLeak));
}

/// A .dockerignore proposed or added as the fix for what the context carried (dependency
/// trees, .git): it was missing. An ignore entry added for harmless files is no leak.
#[test]
fn a_dockerignore_proposed_as_the_fix_for_what_the_context_carries_is_a_leak() {
    for text in [
        "Every image build uploads 1.1 GB; we should create a .dockerignore so node_modules stays out.",
        "Adding a `.dockerignore` fixed the slow builds: the .git/ history was being sent each time.",
    ] {
        assert_eq!(class(text), Some(Class::BuildContextLeak), "{text}");
    }
    assert_eq!(
        class("We added a .dockerignore entry for the docs folder."),
        None
    );
}

/// A .dockerignore said to be needed (or its creation left out of a guide), with the
/// dependency tree the copy then brings in, even beside a pasted `COPY . .` that shows no
/// sign of a leak by itself.
#[test]
fn a_dockerignore_said_to_be_needed_for_the_dependency_tree_is_a_leak() {
    for text in [
        "The Dockerfile in the README does `COPY . .` after `npm ci`, but skips creating a __.dockerignore__ listing node-modules, so the host's copy lands on top.",
        "You need a `.dockerignore` here, otherwise the local node_modules directory gets sent along with the sources.",
        "A .dockerignore is necessary in this template, otherwise the whole project folder is copied, node_modules included.",
    ] {
        assert_eq!(class(text), Some(Class::BuildContextLeak), "{text}");
    }
    for text in [
        "The .dockerignore is required by our lint step and it already lists node_modules.",
        "`COPY . .` then `RUN npm ci`; the build context is 3 MB and the .dockerignore excludes node_modules.",
    ] {
        assert_eq!(class(text), None, "{text}");
    }
}
