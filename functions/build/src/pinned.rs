//! A hash pinned in the build recipe for fetched dependencies (a Nix fixed-output
//! derivation's `vendorHash`/`outputHash`, a Bazel `sha256`, a Homebrew formula's checksum,
//! a requirements file's `--hash`) not matching what the build fetched.
//!
//! Two kinds share the one error: the pin is stale (the dependencies changed and nobody
//! refreshed the hash: a checksum mismatch), or the fetched output itself differs between
//! builders, platforms or toolchain versions for the same source (not reproducible). The
//! error says which hashes; the words around it say which kind.

use std::sync::LazyLock;

use lastmile_events::{Class, Diagnosis, Subject};
use regex::Regex;

use crate::{diagnosis, line_at, step};

/// The tools' own mismatch reports: Nix (`hash mismatch in fixed-output derivation`, the
/// older `has sha256 hash X when Y was expected`, `specified:`/`got:`), Bazel (`Checksum was
/// X but wanted Y`), Homebrew (`SHA256 mismatch`), pip (`DO NOT MATCH THE HASHES`).
static PIN_MISMATCH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)hash mismatch in fixed-output derivation|fixed-output derivation\b[^\n]{0,80}\bhash mismatch|output path\s+\S+\s+has \w+ hash \S+ when \S+ was expected|(?m:^\s*specified:\s+(?:sha\d+[-:]|\S{40,})[^\n]*\n\s*got:\s+\S+)|\bchecksum was \S+ but wanted \S+|\bsha-?256 mismatch\b|do not match the hashes from the requirements file|\b(?:vendor|cargo|npmDeps|output|pnpmDeps|yarn|mvn)Hash\b(?:[^.\n]|\.\S){0,40}?\b(?:mismatch|wrong|out of date|outdated|stale|incorrect|no longer match\w*|doesn't match|does not match)")
        .expect("the build patterns are valid regexes")
});
/// The same pinned source giving another hash elsewhere: another builder, machine, platform
/// or toolchain version ("passes on the linux runners but fails on the macOS builders"); a
/// forced rebuild (`--rebuild`, `--check`); or said in words to be nondeterministic or to
/// flip between values.
static VARIES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\s--(?:rebuild|check)\b|\b(?:remote|other|another|different|second|each|every|some) (?:\w+ )?(?:builders?|build (?:machines?|hosts?|servers?)|machines?|hosts?|runners?|platforms?|architectures?|arch(?:es)?|systems?)\b|\b(?:differ\w*|different|chang\w*|vary|varies)\b[^.\n]{0,40}?\b(?:per|between|across|depending on(?: the)?|on each|on every) (?:\w+ )?(?:builders?|machines?|hosts?|runners?|platforms?|architectures?|systems?|(?:go|golang|rust|node|compiler|toolchain) versions?|toolchains?|runs?|rebuilds?)\b|\b(?:go|golang|rustc?|node(?:js)?|npm|cargo) ?v?\d+\.\d+\b[^.\n]{0,80}?\b(?:chang\w*|different|differs?)\b|\btoolchain (?:upgrade|bump|update|change)\b|\bnon-?deterministic\b|\bnot (?:\w+ )?(?:deterministic|reproducib\w*)\b|\b(?:flips?|alternates?|flaps?) between\b|\bsame (?:source|rev(?:ision)?|commit|inputs?|lock ?file)\b[^.\n]{0,60}?\bdifferent (?:hash|output)|\bon (?:the |my |our |one |some )?(?:[\w-]+ )?(?:builders?|machines?|hosts?|runners?|laptops?|platforms?|arch\w*)\b[^.\n]{0,40}?\b(?:but|while|whereas)\b[^.\n]{0,40}?\bon (?:the |my |our |another |other |some )?(?:[\w-]+ )?(?:builders?|machines?|hosts?|runners?|laptops?|platforms?|arch\w*)\b")
        .expect("the build patterns are valid regexes")
});

/// The pinned-hash finding in `text`, if any.
pub(crate) fn diagnose(text: &str, subject: &Subject) -> Option<Diagnosis> {
    let found = PIN_MISMATCH.find(text)?;
    let mut evidence = vec![line_at(text, found.start(), found.end())];
    let varies = VARIES.find(text);
    if let Some(v) = varies {
        evidence.push(line_at(text, v.start(), v.end()));
    }
    let remediation = vec![
        step(
            "Build the dependency output again on another machine and compare the hashes: the same hash everywhere means the pin is stale, a different one means the fetch is not reproducible.",
            "nix build .#<package>.goModules --rebuild -L",
        ),
        step(
            "Refresh the pinned hash from a clean build (set it to the empty/fake hash, build, copy the 'got' value) and commit it with the dependency change.",
            "nix build .#<package> 2>&1 | grep -A2 'hash mismatch'",
        ),
    ];
    Some(match varies {
        Some(_) => diagnosis(
            Class::BuildNotReproducible,
            0.85,
            "The fetched dependencies' output for the same pinned source hashes differently between builders, platforms or toolchain versions, so the recorded hash matches only some builds; make the fetch deterministic (pin the toolchain, drop non-deterministic hooks) rather than swapping the hash.".into(),
            subject,
            evidence,
            remediation,
            false,
        ),
        None => diagnosis(
            Class::BuildChecksumMismatch,
            0.85,
            "The hash recorded in the build recipe for the fetched dependencies no longer matches what the build fetched: the dependencies changed (a go.mod/lock bump, a moved tag) without the pinned hash being refreshed.".into(),
            subject,
            evidence,
            remediation,
            true,
        ),
    })
}

#[cfg(test)]
mod tests;

/// Forces every pattern of this module (a typo must fail a test, not turn a rule off).
#[cfg(test)]
pub(crate) fn compile_all() {
    for p in [&PIN_MISMATCH, &VARIES] {
        LazyLock::force(p);
    }
}
