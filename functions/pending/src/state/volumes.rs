//! Volume causes: missing claims, missing storage classes, claims nothing provisions.
//! (A bound volume whose zone excludes the nodes is a node block, see `nodes`.)

use lastmile_events::{Class, Remediation};

use super::Cause;
use crate::fit::PodNeeds;
use crate::index::SnapshotIndex;
use crate::remedy::jq_str;

pub(super) fn volume_causes(needs: &PodNeeds<'_>, index: &SnapshotIndex<'_>) -> Vec<Cause> {
    let mut out = Vec::new();
    let have_storage_state = !index.snapshot.pvcs.is_empty()
        || !index.snapshot.storage_classes.is_empty()
        || !index.snapshot.pvs.is_empty();
    if !have_storage_state {
        return out;
    }
    for v in needs.spec.volumes.iter().flatten() {
        let claim = match (&v.persistent_volume_claim, &v.ephemeral) {
            (Some(c), _) => c.claim_name.clone(),
            (None, Some(_)) => format!("{}-{}", needs.name, v.name),
            _ => continue,
        };
        let Some(pvc) = index.pvc(&needs.namespace, &claim) else {
            if v.persistent_volume_claim.is_some() {
                let mut c = Cause::new(
                    Class::VolumeBinding,
                    0.9,
                    format!("PersistentVolumeClaim {claim} does not exist"),
                    true,
                );
                c.evidence.push(format!(
                    "volume {} → persistentvolumeclaim \"{claim}\" not found in {}",
                    v.name, needs.namespace
                ));
                out.push(c);
            }
            continue;
        };
        let phase = pvc
            .status
            .as_ref()
            .and_then(|s| s.phase.as_deref())
            .unwrap_or("Pending");
        if phase == "Bound" {
            continue;
        }
        let spec = pvc.spec.as_ref();
        let sc_name = spec.and_then(|s| s.storage_class_name.clone()).or_else(|| {
            index
                .default_storage_class()
                .and_then(|s| s.metadata.name.clone())
        });
        match sc_name.as_deref() {
            Some("") | None => {
                let mut c = Cause::new(
                    Class::VolumeBinding,
                    0.85,
                    format!(
                        "PVC {claim} is Pending with no StorageClass, and no PersistentVolume is available to bind it"
                    ),
                    true,
                );
                c.evidence.push(format!(
                    "pvc/{claim}: phase {phase}, storageClassName unset and no default StorageClass"
                ));
                c.remediation.push(Remediation { description: "set a StorageClass on the claim (or mark one as default), or create a matching PersistentVolume".into(), command: Some("kubectl get storageclass".into()) });
                out.push(c);
            }
            Some(sc) => {
                match index.storage_class(sc) {
                    None => {
                        let mut c = Cause::new(
                            Class::VolumeBinding,
                            0.93,
                            format!("PVC {claim} asks for StorageClass {sc}, which does not exist"),
                            true,
                        );
                        c.evidence.push(format!("pvc/{claim}: phase {phase}, storageClassName {sc}; storageclasses: [{}]", index.snapshot.storage_classes.iter().filter_map(|s| s.metadata.name.as_deref()).collect::<Vec<_>>().join(", ")));
                        let default = index
                            .default_storage_class()
                            .and_then(|s| s.metadata.name.clone());
                        c.remediation.push(Remediation {
                        description: format!(
                            "recreate the claim with an existing StorageClass{} (storageClassName is immutable)",
                            default.as_deref().map(|d| format!(" such as the default {d}")).unwrap_or_default()
                        ),
                        command: Some(format!(
                            "kubectl get pvc {claim} -n {ns} -o json | jq '.spec.storageClassName = {} | del(.metadata.resourceVersion, .metadata.uid, .status)' | kubectl replace --force -f -",
                            jq_str(default.as_deref().unwrap_or("<class>")),
                            ns = needs.namespace
                        )),
                    });
                        out.push(c);
                    }
                    Some(class) => {
                        let wffc =
                            class.volume_binding_mode.as_deref() == Some("WaitForFirstConsumer");
                        let static_only = class.provisioner == "kubernetes.io/no-provisioner";
                        if static_only {
                            let available = index.all_pvs().iter().any(|pv| {
                                pv.spec
                                    .as_ref()
                                    .and_then(|s| s.storage_class_name.as_deref())
                                    == Some(sc)
                                    && pv.status.as_ref().and_then(|s| s.phase.as_deref())
                                        == Some("Available")
                            });
                            if !available {
                                let mut c = Cause::new(
                                    Class::VolumeBinding,
                                    0.88,
                                    format!(
                                        "PVC {claim} uses StorageClass {sc} (no provisioner) and no Available PersistentVolume of that class exists"
                                    ),
                                    true,
                                );
                                c.evidence.push(format!("storageclass/{sc}: provisioner kubernetes.io/no-provisioner; 0 Available PVs"));
                                c.remediation.push(Remediation { description: format!("create a PersistentVolume with storageClassName {sc} that satisfies the claim"), command: Some(format!("kubectl get pv -o wide | grep {sc}")) });
                                out.push(c);
                            }
                        } else if !wffc {
                            let mut c = Cause::new(
                                Class::VolumeBinding,
                                0.8,
                                format!(
                                    "PVC {claim} (StorageClass {sc}, Immediate binding) is still unbound: the provisioner {} has not created its volume",
                                    class.provisioner
                                ),
                                false,
                            );
                            c.evidence.push(format!("pvc/{claim}: phase {phase}"));
                            c.remediation.push(Remediation { description: "check the claim's ProvisioningFailed events and the CSI provisioner's logs".into(), command: Some(format!("kubectl describe pvc {claim} -n {}", needs.namespace)) });
                            out.push(c);
                        }
                    }
                }
            }
        }
    }
    out
}
