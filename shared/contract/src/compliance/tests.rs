use std::time::Duration;

use lastmile_events::IncidentFamily;

use super::*;
use crate::{FunctionSpec, HandleFuture, Outcome};

static SLOW: FunctionSpec = FunctionSpec {
    name: "slow",
    description: "blocks its thread past the deadline without ever yielding",
    families: &[IncidentFamily::Pending],
    deadline: Duration::from_millis(20),
    max_evidence_bytes: 1024,
};

fn busy_handler<'a>(_: &'a Incident, _: &'a Context) -> HandleFuture<'a> {
    Box::pin(async {
        // CPU-bound: completes on its first poll, 3x past the deadline.
        let until = std::time::Instant::now() + Duration::from_millis(60);
        while std::time::Instant::now() < until {
            std::hint::spin_loop();
        }
        Ok(Outcome::default())
    })
}

#[tokio::test]
#[should_panic(expected = "exceeded its deadline")]
async fn a_cpu_bound_handler_past_its_deadline_fails_the_check() {
    let function = Function {
        spec: &SLOW,
        handle: busy_handler,
    };
    check(&function, &[], &Context::offline()).await;
}
