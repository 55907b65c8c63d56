//! Image build contexts that carry more than the build needs (`COPY . .` without a fitting
//! `.dockerignore`): secrets, `.git`, local `vendor/` or `go.work` end up in the image or
//! change the build.

use std::sync::LazyLock;

use lastmile_events::{Class, Diagnosis, Subject};
use regex::Regex;

use crate::{diagnosis, line_at, step};

/// A copy of the whole context: a Dockerfile line (or BuildKit's `#7 [3/5] COPY . .`), or the
/// instruction quoted inline in prose (`` `COPY . /opt/app` ``). Group 1 is the destination.
static COPY_ALL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?im)(?:^(?:\s*#?\d*\s*(?:\[[^\]]*\]\s*)?)|`)(?:COPY|ADD)\s+(?:--\S+\s+)*\.\s+([^\s`]+)",
    )
    .expect("the build patterns are valid regexes")
});
static NO_IGNORE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:no|missing|without(?: a)?) \.dockerignore|\.dockerignore(?: file)? (?:is )?(?:missing|not found|does not exist)")
.expect("the build patterns are valid regexes")
});
static SECRETS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)(?:^|[\s/`'"(])(\.env(?:\.\w+)?|\.git/|\.npmrc|\.netrc|id_rsa|id_ed25519|[\w.-]+\.pem|[\w.-]+\.key|\.aws/credentials|kubeconfig|\.docker/config\.json)(?:[\s:`'"),]|$)"#)
.expect("the build patterns are valid regexes")
});
static CONTEXT_SIZE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"transferring context: (\d+(?:\.\d+)?)\s*([KMG]i?B)")
        .expect("the build patterns are valid regexes")
});
static LEAKED_GO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"go: inconsistent vendoring|go\.work|cannot load module .* listed in go\.work")
        .expect("the build patterns are valid regexes")
});

/// Text about what an image build's context holds.
static CONTEXT_TOPIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\.?\bdockerignore\b|\bbuild context\b|\bcontext (?:that |which )?(?:is |was |gets |got )?(?:sent|transferred|uploaded) to (?:the )?(?:docker )?(?:daemon|builder|engine)\b")
        .expect("the build patterns are valid regexes")
});

/// A missing .dockerignore told in words, without the Dockerfile line: said absent, or one
/// proposed, said needed or said added as the fix ("we can add a `dockerignore`", "after
/// adding .dockerignore", "create a .dockerignore", "a .dockerignore file is required so …"),
/// the name possibly inside Markdown emphasis (`_**.dockerignore**_`).
static IGNORE_ABSENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(?:add|adds|added|adding|create|creates|created|creating|introduc\w*|need|needs|needed|requires?|required)\s+(?:an?\s+|the\s+|one\s+)?[`'"*_]*\.?dockerignore(?:\b|_)|\b(?:no|missing|without|lacks?|lacking|(?:does not|doesn't|did not|didn't|do not|don't) (?:have|contain|include|ship|use)|(?:has|have)(?: not|n't)(?: got)?)(?: an?| the| any)?\s+[`'"*_]*\.?dockerignore(?:\b|_)|\.?dockerignore[`'"*_]*(?: file)? (?:is |was )?(?:missing|absent|not found|not present|does not exist|doesn't exist)|\.?dockerignore[`'"*_]*(?: file)? (?:is|was|would be|seems|becomes) (?:\w+ )?(?:required|needed|necessary|essential|mandatory)\b[^.\n]{0,20}?\b(?:so|to|otherwise|or else|because|since)\b"#)
        .expect("the build patterns are valid regexes")
});
/// What such a build then copies: everything, host node_modules, .git, .env files.
static COPIES_TOO_MUCH: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\bcop(?:y|ies|ied|ying) (?:everything|all (?:the )?files|the (?:whole|entire) (?:context|directory|folder|repo\w*|project|tree))|\b(?:the )?(?:whole|entire) (?:directory|folder|repo\w*|project|tree|working copy)\b[^.\n]{0,30}?\b(?:is |gets |was )?(?:sent|copied|uploaded|transferred|included)\b|(?:\b|_)node[_-]modules(?:\b|_)|\.git/|(?:^|[\s`'"(])\.env\b"#)
        .expect("the build patterns are valid regexes")
});

/// A build context's size told beside the word for it: `Sending build context to Docker
/// daemon  1.2GB`, BuildKit's `transferring context: 540MB`, "the build context carries
/// bin/ and obj/ (~614 MB)". Group 1 the number, 2 the unit's first letter.
static CONTEXT_SIZE_TOLD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:build context|transferring context|sending context|context (?:that |which )?(?:is |was |gets |got )?(?:sent|transferred|uploaded) to (?:the )?(?:docker )?(?:daemon|builder|engine))\b[^\n]{0,80}?\b(\d+(?:\.\d+)?)\s*([KMG])i?B\b")
        .expect("the build patterns are valid regexes")
});
/// A build context said to be too large in words (`the build context is ballooning`,
/// `a huge build context`).
static CONTEXT_BLOATED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bbuild context\b[^.\n]{0,40}?\b(?:balloon\w*|huge|bloated|enormous|too (?:big|large)|grows?|growing|gigabytes)\b|\b(?:huge|bloated|enormous|oversized|giant)\b[^.\n]{0,20}?\bbuild context\b")
        .expect("the build patterns are valid regexes")
});
/// Ignore patterns said not to take effect (`nothing below it is excluded`, `the pattern is
/// not honoured`, `.dockerignore does not exclude node_modules`).
static NOT_EXCLUDED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:not|n't|never)\s+(?:be(?:ing)?\s+|get(?:ting)?\s+)?(?:excluded|ignored|honou?red|respected|applied)\b|\bnothing\b[^.\n]{0,40}?\bis excluded\b|\bdo(?:es)?(?: not|n't) exclude\b")
        .expect("the build patterns are valid regexes")
});
/// What a leaking context brings along: dependency trees and build output.
static ARTEFACT_DIRS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[\s`'(,*])(?:(?:node_modules|\.git|\.venv|__pycache__)\b|(?:bin|obj|target|dist|build|out|vendor)/)")
        .expect("the build patterns are valid regexes")
});

/// A context that carries too much, told by its size (100 MB or more beside the words for a
/// build context) or by ignore patterns said not to exclude build output or dependencies.
fn told_oversized(text: &str, subject: &Subject) -> Option<Diagnosis> {
    if !CONTEXT_TOPIC.is_match(text) && !text.contains("transferring context") {
        return None;
    }
    let large = CONTEXT_SIZE_TOLD.captures_iter(text).find(|c| {
        let n: f64 = c
            .get(1)
            .and_then(|m| m.as_str().parse().ok())
            .unwrap_or(0.0);
        let mb = match c.get(2).map_or("", |m| m.as_str()) {
            "G" | "g" => n * 1024.0,
            "M" | "m" => n,
            _ => n / 1024.0,
        };
        mb >= 100.0
    });
    let artefacts = ARTEFACT_DIRS.find(text);
    let (m, confidence) = if let Some(c) = large {
        (c.get(0)?, 0.55)
    } else if let (Some(m), Some(_)) = (
        CONTEXT_BLOATED.find(text).or_else(|| {
            NOT_EXCLUDED
                .find(text)
                .filter(|_| text.contains(".dockerignore"))
        }),
        artefacts,
    ) {
        (m, 0.5)
    } else {
        return None;
    };
    let mut evidence = vec![line_at(text, m.start(), m.end())];
    if let Some(a) = artefacts {
        evidence.push(line_at(text, a.start(), a.end()));
    }
    Some(diagnosis(
        Class::BuildContextLeak,
        confidence,
        "The image build's context carries far more than the build needs (dependency trees, build output, .git): the .dockerignore is missing or its patterns do not exclude them (in .dockerignore `*` and `dir/` match at the top level only; use `**/bin`, `**/node_modules`).".to_owned(),
        subject,
        evidence,
        vec![step(
            "See what the context holds, then exclude it at every depth.",
            "printf '**/node_modules\\n**/bin\\n**/obj\\n.git\\n' >> .dockerignore && docker build --no-cache --progress=plain . 2>&1 | grep 'transferring context'",
        )],
        false,
    ))
}

/// A file the image must not carry said to end up in it (`copies the whole .git folder into
/// the Docker image`, `.env included in the image`), in either order, or found there by a
/// secret scanner (`a secret in our image: /app/.env`, Trivy's `/app/.env (secrets)`).
static IN_IMAGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?:\.git\b|\.env\b|\.npmrc\b|\.netrc\b|\bid_(?:rsa|ed25519)\b|\.aws/credentials\b|\.docker/config\.json\b)[^.\n]{0,80}?\b(?:in|into|inside|to)\s+(?:the |a |an |our |your |every |each )?(?:final |resulting |built |production |runtime )?(?:docker |container |oci )?image\b|\bimages?\b[^.\n]{0,40}?\b(?:contains?|includes?|ships?|carr(?:y|ies))\b[^.\n]{0,40}?(?:\.git\b|\.env\b|\.npmrc\b|\.netrc\b|\bid_(?:rsa|ed25519)\b)|\b(?:secrets?|credentials?|private keys?|tokens?|passwords?)\b[^.\n]{0,30}?\b(?:in|inside)\s+(?:the |our |your |a |an )?(?:docker |container )?image(?: layers?)?\b[^\n]{0,20}?(?:\.git\b|\.env\b|\.npmrc\b|\.netrc\b|\bid_(?:rsa|ed25519)\b|\.aws/credentials\b)|(?m:^\s*\S*/(?:\.env(?:\.\w+)?|\.npmrc|\.netrc|\.git/config|id_rsa|id_ed25519|\.aws/credentials)\s+\(secrets?\))")
        .expect("the build patterns are valid regexes")
});

/// Secret-bearing files named by kind, said to be copied into the image ("environment files
/// are copied to the container image during build", "our API keys get baked into the Docker
/// image", "credentials end up in the image layers"), or the image said to carry them.
static SECRETS_SAID_IN_IMAGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:env(?:ironment)?(?:[- ]variable)? files?|dotenv files?|\.envs?/?|secrets?(?: files?)?|credentials?(?: files?)?|private keys?|ssh keys?|api keys?|(?:access )?tokens?|passwords?|certificates?|keystores?)\b[^.\n]{0,30}?\b(?:copied|baked|included|added|shipped|leaked|bundled|packaged|embedded|end(?:s|ed)? up|land(?:s|ed)?)\b[^.\n]{0,20}?\b(?:in|into|to|inside|within)\s+(?:the |a |an |our |your |every |each |all )?(?:[\w-]+ )?(?:docker |container |oci )?(?:images?|image layers?|layers)\b|\b(?:docker |container )?images?\b[^.\n]{0,30}?\b(?:contains?|includes?|ships?|carr(?:y|ies)|bundles?|has|have|had|holds?|exposes?|leaks?)\b[^.\n]{0,20}?\b(?:env(?:ironment)? files|dotenv files|secrets?|credentials|private keys?|ssh keys?|api keys?)\b")
        .expect("the build patterns are valid regexes")
});
/// Words after the image that make it another subject: an image pull secret, a registry.
static IMAGE_PULL_AFTER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(?:pull|registry|repository|repo)\b")
        .expect("the build patterns are valid regexes")
});

/// A secret-bearing file told to be copied into the image, without the Dockerfile line.
fn told_in_image(text: &str, subject: &Subject) -> Option<Diagnosis> {
    let m = IN_IMAGE.find(text).or_else(|| {
        SECRETS_SAID_IN_IMAGE
            .find_iter(text)
            .find(|m| !IMAGE_PULL_AFTER.is_match(&text[m.end()..]))
    })?;
    Some(diagnosis(
        Class::BuildContextLeak,
        0.6,
        "The image build copies files from the context that must not ship in an image (.git with its config and history, .env, credentials): exclude them with a .dockerignore and copy only what the build needs.".to_owned(),
        subject,
        vec![line_at(text, m.start(), m.end())],
        vec![step(
            "Exclude what must never reach the image, then check the image no longer carries it.",
            "printf '.git\\n.env*\\n.npmrc\\n.netrc\\n*.pem\\n*.key\\n' >> .dockerignore",
        )],
        false,
    ))
}

/// The leak told in prose (people describe it instead of pasting the Dockerfile): no
/// .dockerignore, and what the copy then brings in.
fn told(text: &str, subject: &Subject) -> Option<Diagnosis> {
    let (Some(absent), Some(what)) = (IGNORE_ABSENT.find(text), COPIES_TOO_MUCH.find(text)) else {
        return told_in_image(text, subject).or_else(|| told_oversized(text, subject));
    };
    Some(diagnosis(
        Class::BuildContextLeak,
        0.55,
        "The image build has no .dockerignore, so copying the context brings in files the build should not see (host node_modules, .git, .env): add a .dockerignore and copy only what is needed.".to_owned(),
        subject,
        vec![
            line_at(text, absent.start(), absent.end()),
            line_at(text, what.start(), what.end()),
        ],
        vec![step(
            "Exclude what must never reach the image or the build.",
            "printf 'node_modules\\n.git\\n.env*\\n' >> .dockerignore",
        )],
        false,
    ))
}

/// A context-leak finding, when a copy-everything instruction meets a sign of a leak.
pub(crate) fn diagnose(text: &str, subject: &Subject) -> Option<Diagnosis> {
    let Some(copy) = COPY_ALL.find(text) else {
        return told(text, subject);
    };
    // A Dockerfile line is the build's own; an instruction only quoted in prose counts where
    // the text is about what the build context carries.
    let quoted_only = COPY_ALL
        .find_iter(text)
        .all(|m| m.as_str().starts_with('`'));
    if quoted_only && !CONTEXT_TOPIC.is_match(text) {
        return told(text, subject);
    }
    let mut evidence = vec![line_at(text, copy.start(), copy.end())];
    let mut score: f64 = 0.0;
    if let Some(m) = NO_IGNORE.find(text) {
        evidence.push(line_at(text, m.start(), m.end()));
        score = score.max(0.55);
    }
    let secrets: Vec<&str> = SECRETS
        .captures_iter(text)
        .filter_map(|c| c.get(1).map(|m| m.as_str()))
        .collect();
    // The secret seen at the copy's destination (`COPY . /opt/app`, then `/opt/app/.env` in
    // a listing of the image): not only in the context, but shown inside the image.
    let shipped = COPY_ALL
        .captures_iter(text)
        .filter_map(|c| c.get(1).map(|m| m.as_str().trim_end_matches('/')))
        .filter(|dest| dest.starts_with('/') && dest.len() > 1)
        .find_map(|dest| {
            secrets
                .iter()
                .map(|s| format!("{dest}/{s}"))
                .find(|path| text.contains(path.as_str()))
        });
    if let Some(path) = shipped {
        evidence.push(format!(
            "the image holds {path}, copied there from the build context"
        ));
        score = score.max(0.85);
    }
    if !secrets.is_empty() {
        let mut uniq: Vec<&str> = Vec::new();
        for s in secrets {
            if !uniq.contains(&s) {
                uniq.push(s);
            }
        }
        evidence.push(format!(
            "files that should not be in an image are in the context: {}",
            uniq.iter().take(6).copied().collect::<Vec<_>>().join(", ")
        ));
        score = score.max(0.75);
    }
    if let Some(c) = CONTEXT_SIZE.captures(text) {
        let n: f64 = c
            .get(1)
            .and_then(|m| m.as_str().parse().ok())
            .unwrap_or(0.0);
        let unit = c.get(2).map_or("", |m| m.as_str());
        let mb = match unit.chars().next() {
            Some('G') => n * 1024.0,
            Some('M') => n,
            _ => n / 1024.0,
        };
        if mb >= 100.0 {
            evidence.push(format!("the build context is {n}{unit}"));
            score = score.max(0.6);
        }
    }
    if let Some(m) = LEAKED_GO.find(text) {
        evidence.push(line_at(text, m.start(), m.end()));
        score = score.max(0.6);
    }
    if score == 0.0 {
        // No sign of a leak in the pasted lines: the prose around them may still tell it.
        return told(text, subject);
    }
    let summary = "The image build copies the whole context (`COPY . .`) and the context holds files the build should not see (secrets, .git, local vendor/ or go.work, large artefacts): add a .dockerignore and copy only what is needed.".to_owned();
    let remediation = vec![
        step(
            "Exclude what must never reach the image or the build.",
            "printf '.git\\n.env*\\n*.pem\\n*.key\\ngo.work*\\nvendor/\\nbin/\\n' >> .dockerignore",
        ),
        step(
            "Copy the module files first and then only the source directories the build needs.",
            "grep -n 'COPY \\. ' Dockerfile  # replace with: COPY go.mod go.sum ./ && RUN go mod download && COPY cmd/ cmd/ && COPY internal/ internal/",
        ),
    ];
    Some(diagnosis(
        Class::BuildContextLeak,
        score,
        summary,
        subject,
        evidence,
        remediation,
        false,
    ))
}

#[cfg(test)]
mod tests;

/// Forces every pattern of this module (a typo must fail a test, not turn a rule off).
#[cfg(test)]
pub(crate) fn compile_all() {
    for p in [
        &COPY_ALL,
        &NO_IGNORE,
        &SECRETS,
        &CONTEXT_SIZE,
        &LEAKED_GO,
        &IGNORE_ABSENT,
        &COPIES_TOO_MUCH,
        &IN_IMAGE,
        &CONTEXT_TOPIC,
        &CONTEXT_SIZE_TOLD,
        &CONTEXT_BLOATED,
        &NOT_EXCLUDED,
        &ARTEFACT_DIRS,
        &SECRETS_SAID_IN_IMAGE,
        &IMAGE_PULL_AFTER,
    ] {
        LazyLock::force(p);
    }
}
