//! The in-toto Statement v1 with a SLSA Provenance v1 predicate that `lastmile ci collect`
//! writes. Go-specific facts sit where SLSA puts them: the Go environment and each binary's
//! recorded build information in `buildDefinition.internalParameters`, the source and
//! `go.sum` (and every linked module) in `resolvedDependencies`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::ci_env::CiRun;
use crate::buildinfo::BuildInfo;

/// `_type` of an in-toto Statement v1.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// `predicateType` of SLSA Provenance v1.
pub const SLSA_PROVENANCE: &str = "https://slsa.dev/provenance/v1";
/// `buildType` of the predicate.
pub const BUILD_TYPE: &str = "https://lastmile.dev/go-build/v1";
/// Go environment variables recorded (those that change what is built).
pub const GO_ENV: &[&str] = &[
    "GOFLAGS",
    "GOTOOLCHAIN",
    "CGO_ENABLED",
    "GOOS",
    "GOARCH",
    "GOAMD64",
    "GOARM",
    "GOARM64",
    "GOEXPERIMENT",
    "GOPROXY",
    "GONOSUMDB",
    "GONOSUMCHECK",
    "GOPRIVATE",
    "GOSUMDB",
    "GOWORK",
];
/// Build settings recorded from the binaries themselves.
pub const SETTINGS: &[&str] = &[
    "-trimpath",
    "-ldflags",
    "-tags",
    "-buildmode",
    "-compiler",
    "CGO_ENABLED",
    "GOOS",
    "GOARCH",
    "GOAMD64",
    "GOARM",
    "vcs.revision",
    "vcs.modified",
];

/// An in-toto statement (only what lastmile reads is typed; the predicate stays JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// Always [`STATEMENT_TYPE`].
    #[serde(rename = "_type")]
    pub ty: String,
    /// What is attested.
    pub subject: Vec<ResourceDescriptor>,
    /// Always [`SLSA_PROVENANCE`] here.
    #[serde(rename = "predicateType")]
    pub predicate_type: String,
    /// The SLSA provenance.
    pub predicate: Value,
}

/// An in-toto resource descriptor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceDescriptor {
    /// Name (a binary's file name, an image's repository).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// URI, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// Digests by algorithm.
    #[serde(default)]
    pub digest: BTreeMap<String, String>,
}

/// One Go binary CI built.
#[derive(Debug, Clone)]
pub struct CollectedBinary {
    /// The file name it is attested under (its base name).
    pub name: String,
    /// SHA-256, hex.
    pub sha256: String,
    /// What it records.
    pub info: BuildInfo,
}

/// Everything `ci collect` gathered.
#[derive(Debug, Clone)]
pub struct CollectInput {
    /// The binaries.
    pub binaries: Vec<CollectedBinary>,
    /// `(image name, sha256 hex)` when an image was given.
    pub image: Option<(String, String)>,
    /// SHA-256 of `go.sum`, hex, when there is one.
    pub go_sum_sha256: Option<String>,
    /// The Go environment variables set ([`GO_ENV`]).
    pub go_env: BTreeMap<String, String>,
    /// The CI run.
    pub ci: CiRun,
    /// When the statement was made (RFC 3339).
    pub finished_on: String,
}

impl Statement {
    /// Builds the statement.
    pub fn build(input: &CollectInput) -> Self {
        let mut subject: Vec<ResourceDescriptor> = input
            .binaries
            .iter()
            .map(|b| ResourceDescriptor {
                name: b.name.clone(),
                uri: None,
                digest: BTreeMap::from([("sha256".to_owned(), b.sha256.clone())]),
            })
            .collect();
        if let Some((name, digest)) = &input.image {
            subject.push(ResourceDescriptor {
                name: name.clone(),
                uri: None,
                digest: BTreeMap::from([("sha256".to_owned(), digest.clone())]),
            });
        }
        let binaries: Vec<Value> = input
            .binaries
            .iter()
            .map(|b| {
                let settings: BTreeMap<&str, &str> = SETTINGS
                    .iter()
                    .filter_map(|k| b.info.setting(k).map(|v| (*k, v)))
                    .collect();
                json!({"name": b.name, "sha256": b.sha256, "settings": settings, "buildInfo": b.info})
            })
            .collect();
        let mut deps: Vec<Value> = Vec::new();
        if let Some(repo) = &input.ci.repository {
            let mut d = json!({"uri": repo});
            if let Some(c) = input.ci.run.as_ref().and_then(|r| r.commit.as_ref()) {
                d["digest"] = json!({"gitCommit": c});
            }
            deps.push(d);
        }
        if let Some(sum) = &input.go_sum_sha256 {
            deps.push(json!({"name": "go.sum", "digest": {"sha256": sum}}));
        }
        let mut seen = std::collections::BTreeSet::new();
        for b in &input.binaries {
            for m in &b.info.deps {
                let e = m.effective();
                if !seen.insert((e.path.clone(), e.version.clone())) {
                    continue;
                }
                let mut d =
                    json!({"uri": format!("pkg:golang/{}@{}", e.path, e.version), "name": e.path});
                if let Some(h1) = &e.sum {
                    d["annotations"] = json!({"goSum": h1});
                }
                deps.push(d);
            }
        }
        let run = input.ci.run.as_ref();
        let predicate = json!({
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "repository": input.ci.repository,
                    "ref": input.ci.git_ref,
                    "workflow": input.ci.workflow,
                },
                "internalParameters": {
                    "goEnv": input.go_env,
                    "binaries": binaries,
                    "ciRun": run,
                },
                "resolvedDependencies": deps,
            },
            "runDetails": {
                "builder": {"id": input.ci.builder_id},
                "metadata": {
                    "invocationId": input.ci.invocation_id,
                    "finishedOn": input.finished_on,
                },
            },
        });
        Self {
            ty: STATEMENT_TYPE.to_owned(),
            subject,
            predicate_type: SLSA_PROVENANCE.to_owned(),
            predicate,
        }
    }

    /// The attested binaries: (name, sha256, build info).
    pub fn binaries(&self) -> Vec<(String, String, BuildInfo)> {
        self.predicate["buildDefinition"]["internalParameters"]["binaries"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|b| {
                        Some((
                            b["name"].as_str()?.to_owned(),
                            b["sha256"].as_str()?.to_owned(),
                            serde_json::from_value(b["buildInfo"].clone()).ok()?,
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Checks the statement is one this reads.
    pub fn validate(&self) -> Result<(), StatementError> {
        if self.ty != STATEMENT_TYPE {
            return Err(StatementError::NotInToto(self.ty.clone()));
        }
        if self.predicate_type != SLSA_PROVENANCE {
            return Err(StatementError::NotSlsaProvenance(
                self.predicate_type.clone(),
            ));
        }
        if self.binaries().is_empty() {
            return Err(StatementError::NoGoBinary);
        }
        Ok(())
    }
}

/// Why a statement is not one lastmile can check a deploy against.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    /// `_type` is not in-toto Statement v1.
    #[error("not an in-toto Statement v1 (_type {0:?})")]
    NotInToto(String),
    /// `predicateType` is not SLSA Provenance v1.
    #[error("not a SLSA Provenance v1 predicate ({0:?})")]
    NotSlsaProvenance(String),
    /// The statement lists no Go binary with build info.
    #[error("the statement attests no Go binary")]
    NoGoBinary,
}
