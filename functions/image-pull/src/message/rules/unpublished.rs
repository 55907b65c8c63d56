//! Images that were never published to a registry the node pulls from, told in words: an
//! image side-loaded into the node or a local cluster (`kind load docker-image`,
//! `minikube image load`, `k3d image import`, `ctr images import`, `docker load`, a local
//! build) and pulled anyway. With a `:latest` tag, or `imagePullPolicy: Always`, the
//! kubelet ignores the copy on the node and asks a registry, which has no such image. Or a
//! tag that is a development build's version: `git describe` output (`v1.2.0-1-g7386b49`,
//! `-dirty`) that an installer or Makefile turned into the image tag, which no release
//! pipeline published.

use std::sync::LazyLock;

use regex::Regex;

use super::judges::pull_failing;
use super::{Text, Verdict, told};
use crate::message::Cause::NotFound;

/// An image put on the node or a local cluster without a registry (lowercase text): the
/// local clusters' load commands, the runtimes' import commands, "loaded it into kind",
/// "my local image", "the image was built locally".
pub(super) static SIDE_LOADED: LazyLock<Regex> = LazyLock::new(|| {
    crate::message::re(
        r"\bkind load (?:docker-image|image-archive)\b|\bminikube (?:image load|cache add)\b|\bk3d image import\b|\b(?:ctr|nerdctl|crictl)\b[^.\n]{0,30}?\bimages? (?:import|load)\b|\bdocker (?:load|save)\b|\b(?:load(?:ed|ing)?|import(?:ed|ing)?|side-?load(?:ed|ing)?|push(?:ed|ing)?)\b[^.\n]{0,30}?\binto (?:the )?(?:kind|minikube|k3d|k3s|microk8s|nodes?|cluster)\b|\b(?:my|our|a|the) local(?:ly built)? (?:docker )?images?\b|\bimages? (?:is |was |are |were )?(?:only )?(?:built )?locally\b",
    )
});

/// An image tag that is `git describe` output (lowercase text): a version, commits since
/// it and the abbreviated commit (`:v1.2.0-1-g7386b49`, `:0.9.3-rc.1-14-gdeadbeef`), or a
/// build from a dirty work tree (`:v2.0.1-dirty`).
pub(super) static BUILD_VERSION_TAG: LazyLock<Regex> = LazyLock::new(|| {
    crate::message::re(
        r"[a-z0-9]:v?\d+(?:\.\d+){1,3}(?:-[0-9a-z.]+?)??-\d+-g[0-9a-f]{7,40}(?:-dirty)?\b|[a-z0-9]:v?\d+(?:\.\d+){1,3}[\w.-]*-dirty\b",
    )
});

/// A pull failing for an image whose tag is a development build's version: such tags are
/// rarely pushed, so the registry most likely has no such tag.
pub(super) fn build_version_tag(t: &Text<'_>) -> Option<Verdict> {
    (pull_failing(t) && BUILD_VERSION_TAG.is_match(t.spaced)).then_some(())?;
    told(NotFound, 0.45, None, "-g")
}

/// A pull failing for an image told to be side-loaded onto the node or built locally: the
/// kubelet asked a registry for it, and the registry has no such image.
pub(super) fn side_loaded_image(t: &Text<'_>) -> Option<Verdict> {
    (pull_failing(t) && SIDE_LOADED.is_match(t.spaced)).then_some(())?;
    told(NotFound, 0.5, None, "load")
}

#[cfg(test)]
mod tests;
