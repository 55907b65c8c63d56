//! The thread that does a local store's file writes.
//!
//! Evidence is written on every event's path. Handing each bundle to tokio's blocking pool
//! cost a task, a pool thread woken and a context switch each way: on the pipeline bench
//! (`cargo bench -p lastmile-tests --bench pipeline`) about 50 µs of CPU and 120 µs of
//! latency per event, more than the writes to the page cache themselves. One thread per
//! store takes the work from a channel instead; while bundles keep coming (an event storm)
//! it takes the next without sleeping. The writes stay off the async workers, so a stalled
//! disk holds up evidence, never a delivery's heartbeat or another function's work.
//!
//! The thread starts with the first write and ends when the last clone of its store is
//! dropped. A panic in one piece of work is that work's error; the thread goes on.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;
use std::sync::mpsc::{self, Sender};

use tokio::sync::oneshot;

use crate::evidence::EvidenceError;

/// One piece of work for the thread.
type Job = Box<dyn FnOnce() + Send>;

/// A store's writer thread, started on first use.
#[derive(Debug, Default)]
pub(super) struct Writer {
    jobs: OnceLock<Sender<Job>>,
}

impl Writer {
    /// Runs `work` on the writer thread and returns its result.
    pub(super) async fn run<T, F>(&self, work: F) -> Result<T, EvidenceError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, EvidenceError> + Send + 'static,
    {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move || {
            let outcome = catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|panic| {
                Err(EvidenceError::Io(std::io::Error::other(format!(
                    "the evidence write panicked: {}",
                    panic_message(panic.as_ref())
                ))))
            });
            // The caller may have stopped waiting (its event was cancelled): nothing to do.
            let _ = done.send(outcome);
        });
        self.sender()?.send(job).map_err(|_| gone())?;
        result.await.map_err(|_| gone())?
    }

    /// The channel to the thread, starting it on first use.
    fn sender(&self) -> Result<&Sender<Job>, EvidenceError> {
        if let Some(jobs) = self.jobs.get() {
            return Ok(jobs);
        }
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("lastmile-evidence".into())
            .spawn(move || {
                // Ends when every sender (every clone of the store) is gone.
                while let Ok(job) = rx.recv() {
                    job();
                }
            })
            .map_err(EvidenceError::Io)?;
        // Two first writes at once may both start a thread: the loser's sender is dropped
        // here, so its thread sees the channel closed and ends.
        Ok(self.jobs.get_or_init(|| tx))
    }
}

fn gone() -> EvidenceError {
    EvidenceError::Io(std::io::Error::other(
        "the evidence writer thread is gone (it could not be started, or it stopped)",
    ))
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

#[cfg(test)]
mod tests;
