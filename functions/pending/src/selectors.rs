//! The scheduler's matching rules: tolerations against taints, node selector terms
//! (`In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt`, `Lt`, `matchFields`) and label selectors.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Taint, Toleration,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

/// Node labels (empty when the node has none).
pub type Labels = BTreeMap<String, String>;

/// A taint as `kubectl taint` writes it: `key=value:Effect`, or `key:Effect` when it has no
/// value.
pub fn taint_shown(key: &str, value: &str, effect: &str) -> String {
    if value.is_empty() {
        format!("{key}:{effect}")
    } else {
        format!("{key}={value}:{effect}")
    }
}

/// True when the taint keeps pods off the node (`NoSchedule`, `NoExecute`);
/// `PreferNoSchedule` only lowers the score.
pub fn taint_blocks(taint: &Taint) -> bool {
    matches!(taint.effect.as_str(), "NoSchedule" | "NoExecute")
}

/// Kubernetes' `Toleration.ToleratesTaint`.
pub fn tolerates(t: &Toleration, taint: &Taint) -> bool {
    if let Some(effect) = t.effect.as_deref().filter(|e| !e.is_empty())
        && effect != taint.effect
    {
        return false;
    }
    let key = t.key.as_deref().unwrap_or("");
    let op = t.operator.as_deref().unwrap_or("Equal");
    match op {
        "Exists" => key.is_empty() || key == taint.key,
        "Equal" | "" => {
            key == taint.key
                && t.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
        _ => false,
    }
}

/// The first blocking taint no toleration covers.
pub fn untolerated<'t>(taints: &'t [Taint], tolerations: &[Toleration]) -> Option<&'t Taint> {
    taints
        .iter()
        .find(|taint| taint_blocks(taint) && !tolerations.iter().any(|t| tolerates(t, taint)))
}

/// One `matchExpressions` / `matchFields` requirement against a value lookup.
pub fn requirement_matches(req: &NodeSelectorRequirement, value: Option<&str>) -> bool {
    let values = req.values.as_deref().unwrap_or(&[]);
    match req.operator.as_str() {
        "In" => value.is_some_and(|v| values.iter().any(|x| x == v)),
        "NotIn" => value.is_none_or(|v| !values.iter().any(|x| x == v)),
        "Exists" => value.is_some(),
        "DoesNotExist" => value.is_none(),
        "Gt" | "Lt" => {
            let (Some(v), Some(bound)) = (
                value.and_then(|v| v.parse::<i64>().ok()),
                values.first().and_then(|b| b.parse::<i64>().ok()),
            ) else {
                return false;
            };
            if req.operator == "Gt" {
                v > bound
            } else {
                v < bound
            }
        }
        _ => false,
    }
}

/// A node selector term: every expression and field must match; an empty term matches nothing.
pub fn term_matches(term: &NodeSelectorTerm, labels: &Labels, node_name: &str) -> bool {
    let exprs = term.match_expressions.as_deref().unwrap_or(&[]);
    let fields = term.match_fields.as_deref().unwrap_or(&[]);
    if exprs.is_empty() && fields.is_empty() {
        return false;
    }
    exprs
        .iter()
        .all(|r| requirement_matches(r, labels.get(&r.key).map(String::as_str)))
        && fields.iter().all(|r| {
            let v = if r.key == "metadata.name" {
                Some(node_name)
            } else {
                None
            };
            requirement_matches(r, v)
        })
}

/// Required node affinity: any term matches.
pub fn node_selector_matches(sel: &NodeSelector, labels: &Labels, node_name: &str) -> bool {
    sel.node_selector_terms
        .iter()
        .any(|t| term_matches(t, labels, node_name))
}

/// `spec.nodeSelector`: every pair must be a node label.
pub fn node_selector_map_matches(sel: &BTreeMap<String, String>, labels: &Labels) -> bool {
    sel.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// The first `nodeSelector` key the node lacks or has with another value.
pub fn first_selector_mismatch<'s>(
    sel: &'s BTreeMap<String, String>,
    labels: &Labels,
) -> Option<(&'s str, &'s str)> {
    sel.iter()
        .find(|(k, v)| labels.get(*k) != Some(*v))
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

/// A metav1 label selector; `None` (null) matches nothing, an empty one everything.
pub fn label_selector_matches(sel: Option<&LabelSelector>, labels: &Labels) -> bool {
    let Some(sel) = sel else { return false };
    let ok_labels = sel
        .match_labels
        .as_ref()
        .is_none_or(|m| m.iter().all(|(k, v)| labels.get(k) == Some(v)));
    ok_labels
        && sel
            .match_expressions
            .as_deref()
            .unwrap_or(&[])
            .iter()
            .all(|r| {
                let value = labels.get(&r.key).map(String::as_str);
                let values = r.values.as_deref().unwrap_or(&[]);
                match r.operator.as_str() {
                    "In" => value.is_some_and(|v| values.iter().any(|x| x == v)),
                    "NotIn" => value.is_none_or(|v| !values.iter().any(|x| x == v)),
                    "Exists" => value.is_some(),
                    "DoesNotExist" => value.is_none(),
                    _ => false,
                }
            })
}

#[cfg(test)]
mod tests;
