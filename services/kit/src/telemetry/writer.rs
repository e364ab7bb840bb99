//! A log writer that never blocks a request: lines go through a bounded channel to one
//! thread that writes them to stdout in batches (one `write` for everything queued).
//!
//! A blocking `println!` per request costs a system call on the worker thread, and stalls it
//! whenever the reader of stdout (a container runtime, a terminal) is slow. When the queue
//! is full, lines are dropped and counted rather than stalling the service; the count is
//! reported on stderr.

use std::{
    io::Write as _,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
        mpsc::{self, Receiver, SyncSender, TrySendError},
    },
};

use tracing_subscriber::fmt::MakeWriter;

/// Lines held before new ones are dropped.
const QUEUE_LINES: usize = 16 * 1024;

/// What the writer thread receives.
enum Message {
    /// A formatted line.
    Line(Vec<u8>),
    /// Write everything before this, then answer.
    Flush(mpsc::Sender<()>),
}

/// Hands each log line to the writer thread.
#[derive(Clone)]
pub struct NonBlocking {
    sender: SyncSender<Message>,
    dropped: Arc<AtomicU64>,
}

/// Flushes what is queued when dropped (at shutdown).
pub struct WriterGuard {
    sender: SyncSender<Message>,
}

impl Drop for WriterGuard {
    fn drop(&mut self) {
        let (ack, done) = mpsc::channel();
        if self.sender.send(Message::Flush(ack)).is_ok() {
            let _ = done.recv_timeout(std::time::Duration::from_secs(2));
        }
    }
}

fn write_batches(receiver: Receiver<Message>, dropped: Arc<AtomicU64>) {
    let mut batch = Vec::with_capacity(64 * 1024);
    while let Ok(first) = receiver.recv() {
        let mut acks = Vec::new();
        let mut next = Some(first);
        while let Some(message) = next {
            match message {
                Message::Line(line) => batch.extend_from_slice(&line),
                Message::Flush(ack) => acks.push(ack),
            }
            next = if batch.len() < 256 * 1024 { receiver.try_recv().ok() } else { None };
        }
        let lost = dropped.swap(0, Ordering::Relaxed);
        if lost > 0 {
            eprintln!("telemetry: {lost} log lines dropped (stdout too slow)");
        }
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(&batch).and_then(|()| stdout.flush());
        batch.clear();
        for ack in acks {
            let _ = ack.send(());
        }
    }
}

/// The writer and the guard that flushes it; `None` if the thread cannot start.
pub fn stdout() -> Option<(NonBlocking, WriterGuard)> {
    let (sender, receiver) = mpsc::sync_channel(QUEUE_LINES);
    let dropped = Arc::new(AtomicU64::new(0));
    let thread_dropped = dropped.clone();
    std::thread::Builder::new()
        .name("log-writer".into())
        .spawn(move || write_batches(receiver, thread_dropped))
        .ok()?;
    Some((NonBlocking { sender: sender.clone(), dropped }, WriterGuard { sender }))
}

/// One log line being formatted; sent to the thread when the formatter is done with it.
pub struct Line {
    buffer: Vec<u8>,
    target: NonBlocking,
}

impl std::io::Write for Line {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        if self.buffer.is_empty() {
            return;
        }
        let line = std::mem::take(&mut self.buffer);
        if let Err(TrySendError::Full(_)) = self.target.sender.try_send(Message::Line(line)) {
            self.target.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl<'a> MakeWriter<'a> for NonBlocking {
    type Writer = Line;
    fn make_writer(&'a self) -> Line {
        Line { buffer: Vec::with_capacity(256), target: self.clone() }
    }
}
