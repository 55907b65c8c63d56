#![allow(clippy::unwrap_used)]

use super::*;

#[tokio::test]
async fn work_runs_off_the_calling_thread_and_returns_its_result() {
    let writer = Writer::default();
    let caller = std::thread::current().id();
    let (name, id) = writer
        .run(|| {
            let me = std::thread::current();
            Ok((me.name().map(str::to_owned), me.id()))
        })
        .await
        .unwrap();
    assert_eq!(name.as_deref(), Some("lastmile-evidence"));
    assert_ne!(id, caller);
    // The same thread serves every later write.
    let again = writer
        .run(|| Ok(std::thread::current().id()))
        .await
        .unwrap();
    assert_eq!(again, id);
}

#[tokio::test]
async fn a_panicking_write_is_that_writes_error_and_the_thread_goes_on() {
    let writer = Writer::default();
    let err = writer
        .run::<(), _>(|| panic!("disk on fire"))
        .await
        .unwrap_err();
    assert!(err.is_retryable());
    assert!(err.to_string().contains("disk on fire"), "{err}");
    assert_eq!(writer.run(|| Ok(7)).await.unwrap(), 7);
}

#[tokio::test]
async fn an_error_of_the_work_is_returned_as_it_is() {
    let writer = Writer::default();
    let err = writer
        .run::<(), _>(|| Err(EvidenceError::Rejected("bad key".into())))
        .await
        .unwrap_err();
    assert!(matches!(err, EvidenceError::Rejected(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_callers_each_get_their_own_result() {
    let writer = std::sync::Arc::new(Writer::default());
    let runs = (0..200u32).map(|i| {
        let writer = writer.clone();
        tokio::spawn(async move { writer.run(move || Ok(i * 2)).await.unwrap() })
    });
    let results = futures::future::join_all(runs).await;
    for (i, r) in results.into_iter().enumerate() {
        assert_eq!(r.unwrap(), i as u32 * 2);
    }
}
