//! Static checks of Kubernetes manifests before they are deployed (issue 11): the
//! init-container wait-for graph across workloads, waits without a timeout, and Job hygiene.
//! Shared by `lastmile lint` and `lastmile admission`.
