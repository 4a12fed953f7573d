//! A handler's stdout and stderr, turned into log lines tagged with the route
//! and connection of the event being handled.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// The longest line kept; the rest of an overlong line is dropped.
const MAX_LINE: usize = 16 * 1024;

/// Which event a handler instance is working on, for tagging its output.
#[derive(Clone, Debug, Default)]
pub struct LogTags(Arc<Mutex<Tags>>);

#[derive(Debug, Default)]
struct Tags {
    plugin: String,
    route: String,
    connection: String,
}

impl LogTags {
    /// Tags for the instances of `plugin`.
    pub fn new(plugin: &str) -> Self {
        let tags = Tags {
            plugin: plugin.to_owned(),
            ..Tags::default()
        };
        LogTags(Arc::new(Mutex::new(tags)))
    }

    /// Records the event now being handled.
    pub fn set_event(&self, route: &str, connection: &str) {
        let mut tags = self.0.lock().expect("log tags lock");
        tags.route.clear();
        tags.route.push_str(route);
        tags.connection.clear();
        tags.connection.push_str(connection);
    }

    /// Calls `f` with the route of the event being handled.
    pub fn with_route<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        f(&self.0.lock().expect("log tags lock").route)
    }

    /// Logs a warning about what the handler asked the host to do, tagged
    /// like its output.
    pub fn warn(&self, message: &str) {
        let tags = self.0.lock().expect("log tags lock");
        tracing::warn!(plugin = %tags.plugin, route = %tags.route,
            connection = %tags.connection, "{message}");
    }

    fn emit(&self, stream: Stream, line: &[u8]) {
        let tags = self.0.lock().expect("log tags lock");
        let line = String::from_utf8_lossy(line);
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            return;
        }
        match stream {
            Stream::Stdout => tracing::info!(
                target: "wsgate::guest", plugin = %tags.plugin, route = %tags.route,
                connection = %tags.connection, "{line}"
            ),
            Stream::Stderr => tracing::warn!(
                target: "wsgate::guest", plugin = %tags.plugin, route = %tags.route,
                connection = %tags.connection, "{line}"
            ),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Stream {
    Stdout,
    Stderr,
}

/// A guest output stream (stdout or stderr) that logs whole lines.
#[derive(Clone, Debug)]
pub struct GuestOutput {
    tags: LogTags,
    stream: Stream,
}

impl GuestOutput {
    /// The guest's stdout, logged at info level.
    pub fn stdout(tags: LogTags) -> Self {
        GuestOutput {
            tags,
            stream: Stream::Stdout,
        }
    }

    /// The guest's stderr, logged at warn level.
    pub fn stderr(tags: LogTags) -> Self {
        GuestOutput {
            tags,
            stream: Stream::Stderr,
        }
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(LineWriter {
            output: self.clone(),
            line: Vec::new(),
        })
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(LineWriter {
            output: self.clone(),
            line: Vec::new(),
        })
    }
}

/// Buffers output until a newline, then logs the line.
struct LineWriter {
    output: GuestOutput,
    line: Vec<u8>,
}

impl LineWriter {
    fn push(&mut self, mut bytes: &[u8]) {
        while let Some(end) = bytes.iter().position(|&b| b == b'\n') {
            self.keep(&bytes[..end]);
            self.flush_line();
            bytes = &bytes[end + 1..];
        }
        self.keep(bytes);
    }

    fn keep(&mut self, bytes: &[u8]) {
        let room = MAX_LINE.saturating_sub(self.line.len());
        self.line.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn flush_line(&mut self) {
        self.output.tags.emit(self.output.stream, &self.line);
        self.line.clear();
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if !self.line.is_empty() {
            self.flush_line();
        }
    }
}

impl OutputStream for LineWriter {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(MAX_LINE)
    }
}

#[async_trait::async_trait]
impl Pollable for LineWriter {
    async fn ready(&mut self) {}
}

impl AsyncWrite for LineWriter {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.push(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}
