//! A log writer that never blocks a request: tracing-appender's non-blocking writer, whose
//! thread writes the lines to stdout, through a buffer that it flushes whenever its queue is
//! empty (so a burst of lines is one `write`, and a quiet service's last line is not held).
//!
//! A blocking `println!` per request costs a system call on the worker thread, and stalls it
//! whenever the reader of stdout (a container runtime, a terminal) is slow. When the queue
//! is full, lines are dropped (lossy mode) rather than stalling the service; the count is
//! reported on stderr at shutdown.

use std::io::{BufWriter, Stdout};

use tracing_appender::non_blocking::{ErrorCounter, NonBlocking, NonBlockingBuilder, WorkerGuard};

/// Lines held before new ones are dropped.
const QUEUE_LINES: usize = 16 * 1024;
/// The writer thread's buffer: a burst of queued lines goes out in one `write`.
const BUFFER_BYTES: usize = 256 * 1024;

/// Flushes what is queued when dropped (at shutdown), then says how many lines were lost.
pub struct WriterGuard {
    /// tracing-appender's guard: its drop waits for the queue to be written.
    flush: Option<WorkerGuard>,
    dropped: ErrorCounter,
}

impl Drop for WriterGuard {
    fn drop(&mut self) {
        drop(self.flush.take());
        let lost = self.dropped.dropped_lines();
        if lost > 0 {
            eprintln!("telemetry: {lost} log lines dropped (stdout too slow)");
        }
    }
}

/// The writer and the guard that flushes it.
pub fn stdout() -> (NonBlocking, WriterGuard) {
    let out: BufWriter<Stdout> = BufWriter::with_capacity(BUFFER_BYTES, std::io::stdout());
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(QUEUE_LINES)
        .thread_name("log-writer")
        .finish(out);
    let dropped = writer.error_counter();
    (writer, WriterGuard { flush: Some(guard), dropped })
}
