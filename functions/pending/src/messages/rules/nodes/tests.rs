use super::*;

use crate::messages::run_rule;

fn run(text: &str) -> Vec<Finding> {
    run_rule(device_allocate, text)
}

/// A device or extended resource the kubelet could not allocate, in several tools' words.
#[test]
fn a_device_the_kubelet_cannot_allocate_is_no_room() {
    for text in [
        "Pod was rejected: Node didn't have enough resource: amd.com/gpu, requested: 1, used: 2, capacity: 2",
        "kubelet: failed to allocate device plugin resource for pod \"x\": rdma/hca_shared_devices_a",
        "Status: Failed  Reason: UnexpectedAdmissionError  Message: Pod Allocate failed due to no healthy devices present",
        "Warning  UnexpectedAdmissionError  kubelet  Allocate failed: Requested: 2, Available: 0 for habana.ai/gaudi",
        "the inference pod is rejected: cannot allocate unregistered device xilinx.com/fpga-u250",
    ] {
        let out = run(text);
        assert_eq!(out.len(), 1, "{text}");
        assert_eq!(out[0].class, Class::InsufficientResources, "{text}");
    }
}

/// Precision: an IP address pool or a memory allocation is not a device.
#[test]
fn address_and_memory_allocation_failures_are_not_devices() {
    for text in [
        "failed to allocate for range 0: no IP addresses available in range set: 10.244.1.1-10.244.1.254",
        "runtime: failed to allocate 64MB of memory",
        "UnexpectedAdmissionError: Pod Update plugin resources failed due to failed to write checkpoint file: no space left on device",
    ] {
        assert!(run(text).is_empty(), "{text}");
    }
}
