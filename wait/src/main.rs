//! `lastmile-wait`: waits for init-container dependencies with a deadline (issue 11).

fn main() {}
