//! What blocks a node: one [`Block`] per reason, with its class and wording.

use lastmile_events::Class;
use serde::Serialize;

/// One reason a node cannot take the pod.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Block {
    /// `spec.unschedulable` (cordoned).
    Unschedulable,
    /// A taint no toleration covers.
    Taint {
        /// The taint's key (`dedicated`, `node.kubernetes.io/not-ready`).
        key: String,
        /// Its value; empty when the taint has none.
        value: String,
        /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
        effect: String,
    },
    /// A `nodeSelector` pair the node lacks.
    NodeSelector {
        /// Label key.
        key: String,
        /// Wanted value.
        value: String,
    },
    /// Required node affinity matches no term.
    NodeAffinity,
    /// A requested host port is taken.
    HostPort {
        /// The port.
        port: i32,
    },
    /// Not enough of a resource (details in [`NodeCheck::short`](super::NodeCheck::short)).
    Insufficient {
        /// Resource name.
        resource: String,
    },
    /// A bound PV's node affinity excludes the node.
    VolumeNodeAffinity {
        /// The PV.
        pv: String,
    },
    /// The pod's required anti-affinity: a matching pod runs in this topology domain.
    AntiAffinity {
        /// Topology key.
        topology_key: String,
    },
    /// The pod's required affinity: no matching pod in this domain.
    Affinity {
        /// Topology key.
        topology_key: String,
    },
    /// An existing pod's required anti-affinity excludes this pod here.
    ExistingAntiAffinity {
        /// Topology key.
        topology_key: String,
    },
    /// A DoNotSchedule topology spread constraint would be violated.
    TopologySpread {
        /// Topology key.
        topology_key: String,
        /// The node lacks the topology label altogether.
        missing_label: bool,
    },
}

impl Block {
    /// The taxonomy class.
    pub fn class(&self) -> Class {
        match self {
            Block::Unschedulable => Class::UnschedulableNodes,
            Block::Taint { .. } => Class::UntoleratedTaint,
            Block::NodeSelector { .. } | Block::NodeAffinity => Class::NodeAffinity,
            Block::HostPort { .. } => Class::HostPorts,
            Block::Insufficient { .. } => Class::InsufficientResources,
            Block::VolumeNodeAffinity { .. } => Class::VolumeBinding,
            Block::AntiAffinity { .. }
            | Block::Affinity { .. }
            | Block::ExistingAntiAffinity { .. }
            | Block::TopologySpread { .. } => Class::PodAffinity,
        }
    }

    /// Scheduler-style wording.
    pub fn describe(&self) -> String {
        match self {
            Block::Unschedulable => "cordoned (spec.unschedulable)".into(),
            Block::Taint { key, value, effect } => {
                format!(
                    "untolerated taint {}",
                    crate::selectors::taint_shown(key, value, effect)
                )
            }
            Block::NodeSelector { key, value } => {
                format!("nodeSelector {key}={value} does not match")
            }
            Block::NodeAffinity => "required node affinity does not match".into(),
            Block::HostPort { port } => format!("host port {port} already in use"),
            Block::Insufficient { resource } => format!("insufficient {resource}"),
            Block::VolumeNodeAffinity { pv } => {
                format!("PersistentVolume {pv}'s node affinity excludes it")
            }
            Block::AntiAffinity { topology_key } => {
                format!("pod anti-affinity ({topology_key}): a matching pod already runs there")
            }
            Block::Affinity { topology_key } => {
                format!("pod affinity ({topology_key}): no matching pod there")
            }
            Block::ExistingAntiAffinity { topology_key } => {
                format!("an existing pod's anti-affinity ({topology_key}) excludes it")
            }
            Block::TopologySpread {
                topology_key,
                missing_label: true,
            } => format!("topology spread: node lacks label {topology_key}"),
            Block::TopologySpread { topology_key, .. } => {
                format!("topology spread on {topology_key} would exceed maxSkew")
            }
        }
    }

    /// True for blocks that say "the pod was never meant for this node".
    pub fn is_scope(&self) -> bool {
        match self {
            Block::NodeSelector { .. } | Block::NodeAffinity => true,
            Block::Taint { key, .. } => crate::messages::reasons::is_control_plane_taint(key),
            _ => false,
        }
    }
}
