//! The runtime lastmile functions share.
