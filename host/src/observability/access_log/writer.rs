//! The writer thread: it takes the whole batch of lines the event tasks
//! gathered and writes it in one go, so a slow disk never holds up a
//! connection.

use std::io::Write;
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

use super::{BATCH_INTERVAL, Batch, Shared};

/// The writer thread: waits [`BATCH_INTERVAL`] for lines to gather (less when
/// asked to flush), takes the whole batch, writes it in one go and answers
/// the flush requests made before it. With nothing to write it sleeps until a
/// line or a flush wakes it. Ends with the last handle.
pub(super) fn write_batches(shared: &Arc<Shared>, out: Box<dyn Write + Send>) {
    let mut out = Output::new(out);
    let mut writing = Vec::new();
    let mut flushed = Vec::new();
    loop {
        {
            let mut batch = shared.batch();
            if batch.lines.is_empty() && batch.flushes.is_empty() {
                if Arc::strong_count(shared) == 1 {
                    return;
                }
                batch.asleep = true;
                // Woken by a line or a flush; looks for the last handle now and then.
                let mut batch = wait(shared, batch, Duration::from_secs(1));
                batch.asleep = false;
                continue;
            }
            if batch.flushes.is_empty() {
                batch = wait(shared, batch, BATCH_INTERVAL);
            }
            std::mem::swap(&mut writing, &mut batch.lines);
            flushed.append(&mut batch.flushes);
        }
        if !writing.is_empty() {
            out.write_batch(&writing);
        }
        writing.clear();
        // A burst can leave a huge buffer behind; keep a reasonable one: room
        // for a busy gateway's batch (2,000 JSON lines of about 650 bytes in
        // 5 ms), which would otherwise be reallocated every time.
        writing.shrink_to(2 * 1024 * 1024);
        for done in flushed.drain(..) {
            let _ = done.send(());
        }
    }
}

/// The writer's output, and what its last failures left behind.
struct Output {
    out: Box<dyn Write + Send>,
    /// Batches that could not be written (in full) since the last one that was.
    failures: u64,
    /// The last failed write stopped in the middle of a line.
    torn: bool,
}

impl Output {
    fn new(out: Box<dyn Write + Send>) -> Self {
        Output {
            out,
            failures: 0,
            torn: false,
        }
    }

    /// Writes one batch of whole lines. A failure (a full disk, a closed pipe)
    /// loses the batch and is logged on the 1st, 2nd, 4th, 8th… failure in a
    /// row, not once per batch; a line the failure cut short is ended before
    /// the next batch, so the lines after it are whole.
    fn write_batch(&mut self, lines: &[u8]) {
        let written = if self.torn {
            self.write_all(b"\n")
        } else {
            Ok(())
        }
        .and_then(|()| self.write_all(lines))
        .and_then(|()| self.out.flush());
        match written {
            Ok(()) if self.failures > 0 => {
                tracing::info!(
                    failures = self.failures,
                    "the access log is written again; the lines of the failed batches are lost"
                );
                self.failures = 0;
            }
            Ok(()) => {}
            Err(error) => {
                self.failures += 1;
                if self.failures.is_power_of_two() {
                    tracing::warn!(
                        %error,
                        failures = self.failures,
                        "cannot write the access log; the lines of the failed batches are lost"
                    );
                }
            }
        }
    }

    /// `write_all`, remembering whether a failure left a line unfinished.
    fn write_all(&mut self, mut bytes: &[u8]) -> std::io::Result<()> {
        while !bytes.is_empty() {
            match self.out.write(bytes) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(written) => {
                    self.torn = bytes[written - 1] != b'\n';
                    bytes = &bytes[written..];
                }
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
        Ok(())
    }
}

/// Waits on the writer's condition variable at most `timeout`.
fn wait<'a>(
    shared: &Shared,
    batch: MutexGuard<'a, Batch>,
    timeout: Duration,
) -> MutexGuard<'a, Batch> {
    shared
        .wake
        .wait_timeout(batch, timeout)
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .0
}
