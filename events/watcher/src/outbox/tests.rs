use super::*;
use async_trait::async_trait;
use std::sync::atomic::AtomicBool;

/// A bus that is down until told otherwise and records what it stored. (The real NATS
/// outage is exercised end to end in tests/it/watcher.rs.)
#[derive(Default)]
struct Flaky {
    up: AtomicBool,
    stored: Mutex<Vec<Message>>,
}

#[async_trait]
impl Publisher for Flaky {
    async fn publish(&self, message: Message) -> Result<(), BusError> {
        if !self.up.load(Ordering::SeqCst) {
            return Err(BusError::Unavailable("connection refused".into()));
        }
        if message.subject.contains("forbidden") {
            return Err(BusError::Rejected("permissions violation".into()));
        }
        self.stored.lock().unwrap().push(message);
        Ok(())
    }
}

fn msg(subject: &str, body: &str) -> Message {
    Message {
        subject: subject.into(),
        payload: body.as_bytes().to_vec().into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn outage_keeps_latest_per_key_drops_oldest_beyond_capacity_then_delivers_in_order() {
    let bus = Arc::new(Flaky::default());
    let cfg = OutboxConfig {
        capacity: 3,
        backoff_min: Duration::from_millis(5),
        backoff_max: Duration::from_millis(20),
        ..Default::default()
    };
    let (out, task) = Outbox::start(bus.clone(), cfg);
    out.push(Some("a".into()), msg("s.a", "a1"));
    // Wait until the sender has met the outage at least once.
    for _ in 0..500 {
        if out.stats().retries.load(Ordering::Relaxed) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    out.push(Some("a".into()), msg("s.a", "a2"));
    out.push(None, msg("s.b", "b"));
    out.push(None, msg("s.c", "c"));
    out.push(None, msg("s.d", "d"));
    out.push(None, msg("lastmile.forbidden", "x"));
    bus.up.store(true, Ordering::SeqCst);
    out.close();
    task.await.unwrap();
    let stored: Vec<String> = bus
        .stored
        .lock()
        .unwrap()
        .iter()
        .map(|m| String::from_utf8_lossy(&m.payload).into_owned())
        .collect();
    // The queue held 3: a (then coalesced or in flight), b, c, d → the oldest were dropped.
    assert!(
        stored.ends_with(&["c".to_string(), "d".to_string()]),
        "{stored:?}"
    );
    let (published, dropped, rejected, retries, _) = out.stats().snapshot();
    assert_eq!(published as usize, stored.len());
    assert!(dropped >= 1);
    assert_eq!(rejected, 1);
    assert!(retries >= 1);
}

#[tokio::test]
async fn deferred_bodies_are_rendered_at_send_time_and_render_errors_are_dropped() {
    use std::sync::atomic::AtomicUsize;
    let bus = Arc::new(Flaky::default());
    let cfg = OutboxConfig {
        backoff_min: Duration::from_millis(5),
        backoff_max: Duration::from_millis(20),
        ..Default::default()
    };
    let (out, task) = Outbox::start(bus.clone(), cfg);
    let renders = Arc::new(AtomicUsize::new(0));
    let deferred = |body: &'static str, renders: Arc<AtomicUsize>| -> Render {
        Arc::new(move || {
            renders.fetch_add(1, Ordering::SeqCst);
            Ok(body.as_bytes().to_vec().into())
        })
    };
    out.push_deferred(
        Some("k".into()),
        msg("s.k", ""),
        deferred("k1", renders.clone()),
    );
    out.push_deferred(
        Some("k".into()),
        msg("s.k", ""),
        deferred("k2", renders.clone()),
    );
    out.push_deferred(
        None,
        msg("s.bad", ""),
        Arc::new(|| Err("snapshot too large".to_owned())),
    );
    out.push(None, msg("s.plain", "plain"));
    bus.up.store(true, Ordering::SeqCst);
    out.close();
    task.await.unwrap();
    let stored: Vec<(String, String)> = bus
        .stored
        .lock()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m.subject.clone(),
                String::from_utf8_lossy(&m.payload).into_owned(),
            )
        })
        .collect();
    assert_eq!(stored.last(), Some(&("s.plain".into(), "plain".into())));
    assert!(stored.contains(&("s.k".into(), "k2".into())), "{stored:?}");
    assert!(!stored.iter().any(|(s, _)| s == "s.bad"), "{stored:?}");
    assert!(renders.load(Ordering::SeqCst) >= 1);
    assert_eq!(out.stats().snapshot().2, 1);
}
