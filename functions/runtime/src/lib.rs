//! The `runtime` family (issue 12): pods that are scheduled and pulled but never become
//! Ready.
