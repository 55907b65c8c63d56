//! What an init container waits for: read by `lastmile_events::facts::waits`, shared with
//! `lastmile-lint`, so a live pod and a manifest are read the same way.

pub(crate) use lastmile_events::facts::waits::{Dependency, answered, unresolved, waited_on};
