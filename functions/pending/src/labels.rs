//! Interned labels: every label key and value of the snapshot's nodes and bound pods gets a
//! small integer id at indexing, and each object's labels become a short sorted run of
//! `(key, value)` ids in one shared array.
//!
//! Why: checking one pod against 5,000 nodes and the pods bound to them is dominated by
//! label lookups, and a `BTreeMap<String, String>` per object means several cache misses and
//! string comparisons per lookup. With ids, a lookup scans a few adjacent integers and a
//! selector is compiled once per pod ([`CompiledLabelSelector`], [`CompiledNodeSelector`]).
//! The compiled forms give exactly the answers of the string matchers in
//! [`crate::selectors`] (a unit test checks them side by side); a key or value that no
//! indexed object carries simply has no id, which is how "no node has it" is decided.

use std::collections::HashMap;

use k8s_openapi::api::core::v1::{NodeSelector, NodeSelectorRequirement, NodeSelectorTerm};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::selectors::{Labels, requirement_matches};

/// An interned string (label key or value).
pub type Sym = u32;

/// One object's labels: a run of [`LabelTable`]'s pairs, sorted by key id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LabelSet {
    start: u32,
    len: u32,
}

/// The interner and the label sets of every indexed object.
#[derive(Debug, Default)]
pub struct LabelTable<'a> {
    ids: HashMap<&'a str, Sym>,
    strs: Vec<&'a str>,
    pairs: Vec<(Sym, Sym)>,
}

impl<'a> LabelTable<'a> {
    fn intern(&mut self, s: &'a str) -> Sym {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = Sym::try_from(self.strs.len()).unwrap_or(Sym::MAX);
        self.strs.push(s);
        self.ids.insert(s, id);
        id
    }

    /// Stores `labels` and returns their set.
    pub fn add(&mut self, labels: &'a Labels) -> LabelSet {
        let start = self.pairs.len();
        for (k, v) in labels {
            let pair = (self.intern(k), self.intern(v));
            self.pairs.push(pair);
        }
        self.pairs[start..].sort_unstable_by_key(|p| p.0);
        LabelSet {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            len: u32::try_from(labels.len()).unwrap_or(0),
        }
    }

    /// The id of `s`, when some indexed object carries it as a key or value.
    pub fn id(&self, s: &str) -> Option<Sym> {
        self.ids.get(s).copied()
    }

    /// The string of an id.
    pub fn str(&self, id: Sym) -> &'a str {
        self.strs.get(id as usize).copied().unwrap_or("")
    }

    /// The value id of `key` in `set`.
    pub fn get(&self, set: LabelSet, key: Sym) -> Option<Sym> {
        let start = set.start as usize;
        let run = self.pairs.get(start..start + set.len as usize)?;
        if run.len() <= 16 {
            run.iter().find(|p| p.0 == key).map(|p| p.1)
        } else {
            run.binary_search_by_key(&key, |p| p.0)
                .ok()
                .map(|i| run[i].1)
        }
    }

    /// The value id of `key` in `set`, where `key` is `None` when no indexed object carries
    /// that key (then nothing has a value for it).
    pub fn lookup(&self, set: LabelSet, key: Option<Sym>) -> Option<Sym> {
        key.and_then(|k| self.get(set, k))
    }
}

/// A set-based operator on interned values.
#[derive(Debug, Clone)]
enum Op {
    In(Vec<Sym>),
    NotIn(Vec<Sym>),
    Exists,
    DoesNotExist,
    /// `Gt`/`Lt` (and anything else): compared on the strings, rare enough not to compile.
    Raw,
    /// Can never match (unknown operator).
    Never,
}

impl Op {
    fn new(table: &LabelTable<'_>, operator: &str, values: &[String], numeric_ok: bool) -> Self {
        let ids = || values.iter().filter_map(|v| table.id(v)).collect();
        match operator {
            "In" => Op::In(ids()),
            "NotIn" => Op::NotIn(ids()),
            "Exists" => Op::Exists,
            "DoesNotExist" => Op::DoesNotExist,
            "Gt" | "Lt" if numeric_ok => Op::Raw,
            _ => Op::Never,
        }
    }

    fn matches(&self, value: Option<Sym>) -> Option<bool> {
        Some(match self {
            Op::In(ids) => value.is_some_and(|v| ids.contains(&v)),
            Op::NotIn(ids) => value.is_none_or(|v| !ids.contains(&v)),
            Op::Exists => value.is_some(),
            Op::DoesNotExist => value.is_none(),
            Op::Never => false,
            Op::Raw => return None,
        })
    }
}

/// A compiled `LabelSelector` (pod affinity terms, topology spread).
#[derive(Debug, Clone)]
pub struct CompiledLabelSelector {
    /// `None`: matches nothing (absent selector, or a required pair no object carries).
    reqs: Option<Vec<(Option<Sym>, Op)>>,
}

impl CompiledLabelSelector {
    /// Compiles `sel` against `table`. An absent selector matches nothing, as in
    /// [`crate::selectors::label_selector_matches`].
    pub fn new(sel: Option<&LabelSelector>, table: &LabelTable<'_>) -> Self {
        let Some(sel) = sel else {
            return Self { reqs: None };
        };
        let mut reqs = Vec::new();
        for (k, v) in sel.match_labels.iter().flatten() {
            match (table.id(k), table.id(v)) {
                (Some(k), Some(v)) => reqs.push((Some(k), Op::In(vec![v]))),
                _ => return Self { reqs: None },
            }
        }
        for r in sel.match_expressions.iter().flatten() {
            let values = r.values.as_deref().unwrap_or(&[]);
            reqs.push((table.id(&r.key), Op::new(table, &r.operator, values, false)));
        }
        Self { reqs: Some(reqs) }
    }

    /// True when the labels in `set` match.
    pub fn matches(&self, table: &LabelTable<'_>, set: LabelSet) -> bool {
        let Some(reqs) = &self.reqs else {
            return false;
        };
        reqs.iter()
            .all(|(k, op)| op.matches(table.lookup(set, *k)).unwrap_or(false))
    }
}

/// A compiled required `NodeSelector` (node affinity, a PV's node affinity).
#[derive(Debug, Clone)]
pub struct CompiledNodeSelector<'s> {
    terms: Vec<CompiledTerm<'s>>,
}

#[derive(Debug, Clone)]
struct CompiledTerm<'s> {
    exprs: Vec<(Option<Sym>, Op, &'s NodeSelectorRequirement)>,
    fields: &'s [NodeSelectorRequirement],
}

impl<'s> CompiledNodeSelector<'s> {
    /// Compiles `sel` against `table`.
    pub fn new(sel: &'s NodeSelector, table: &LabelTable<'_>) -> Self {
        let terms = sel
            .node_selector_terms
            .iter()
            .filter_map(|t: &'s NodeSelectorTerm| {
                let exprs = t.match_expressions.as_deref().unwrap_or(&[]);
                let fields = t.match_fields.as_deref().unwrap_or(&[]);
                // An empty term matches nothing.
                if exprs.is_empty() && fields.is_empty() {
                    return None;
                }
                Some(CompiledTerm {
                    exprs: exprs
                        .iter()
                        .map(|r| {
                            let values = r.values.as_deref().unwrap_or(&[]);
                            (
                                table.id(&r.key),
                                Op::new(table, &r.operator, values, true),
                                r,
                            )
                        })
                        .collect(),
                    fields,
                })
            })
            .collect();
        Self { terms }
    }

    /// True when a node with labels `set` and name `node_name` matches some term.
    pub fn matches(&self, table: &LabelTable<'_>, set: LabelSet, node_name: &str) -> bool {
        self.terms.iter().any(|t| {
            t.exprs.iter().all(|(k, op, raw)| {
                let value = table.lookup(set, *k);
                op.matches(value)
                    .unwrap_or_else(|| requirement_matches(raw, value.map(|v| table.str(v))))
            }) && t.fields.iter().all(|r| {
                let v = (r.key == "metadata.name").then_some(node_name);
                requirement_matches(r, v)
            })
        })
    }
}

/// A `nodeSelector` pair as written, with its ids when some object carries both.
type SelectorPair<'s> = (&'s str, &'s str, Option<(Sym, Sym)>);

/// A compiled `nodeSelector` map.
#[derive(Debug, Clone)]
pub struct CompiledSelectorMap<'s> {
    pairs: Vec<SelectorPair<'s>>,
}

impl<'s> CompiledSelectorMap<'s> {
    /// Compiles `sel` against `table`.
    pub fn new(
        sel: &'s std::collections::BTreeMap<String, String>,
        table: &LabelTable<'_>,
    ) -> Self {
        Self {
            pairs: sel
                .iter()
                .map(|(k, v)| {
                    let ids = table.id(k).zip(table.id(v));
                    (k.as_str(), v.as_str(), ids)
                })
                .collect(),
        }
    }

    /// The first pair the labels in `set` lack, as
    /// [`crate::selectors::first_selector_mismatch`] reports it.
    pub fn first_mismatch(
        &self,
        table: &LabelTable<'_>,
        set: LabelSet,
    ) -> Option<(&'s str, &'s str)> {
        self.pairs
            .iter()
            .find(|(_, _, ids)| match ids {
                Some((k, v)) => table.get(set, *k) != Some(*v),
                None => true,
            })
            .map(|(k, v, _)| (*k, *v))
    }
}

#[cfg(test)]
mod tests;
