//! The child processes tests start (the gateway, `redis-server`, Node): killed
//! when dropped, so a test that panics leaves none behind.

use std::path::Path;
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, ExitStatus};
use std::time::Duration;

use crate::eventually_blocking;

/// A child process, killed when dropped (a test that panics leaves none behind).
pub(crate) struct Process {
    child: Child,
    /// The program's file name, for messages.
    name: String,
}

impl Process {
    /// Starts `command`, panicking with `what` if it cannot.
    pub(crate) fn spawn(mut command: Command, what: &str) -> Process {
        let name = Path::new(command.get_program())
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        Process {
            child: command.spawn().expect(what),
            name,
        }
    }

    /// The process id.
    pub(crate) fn id(&self) -> u32 {
        self.child.id()
    }

    /// The process's stderr, if it was piped and not taken yet.
    pub(crate) fn take_stderr(&mut self) -> Option<ChildStderr> {
        self.child.stderr.take()
    }

    /// The process's stdout, if it was piped and not taken yet.
    pub(crate) fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    /// The process's stdin, if it was piped and not taken yet.
    pub(crate) fn take_stdin(&mut self) -> Option<ChildStdin> {
        self.child.stdin.take()
    }

    /// Sends the process a signal (e.g. `libc::SIGTERM`).
    pub(crate) fn signal(&self, signal: i32) {
        // SAFETY: kill has no memory-safety preconditions.
        let result = unsafe { libc::kill(self.child.id() as i32, signal) };
        assert_eq!(result, 0, "kill {} failed", self.name);
    }

    /// Waits for the process to exit, at most `timeout`.
    pub(crate) fn wait_exit(&mut self, what: &str, timeout: Duration) -> ExitStatus {
        eventually_blocking(what, timeout, || {
            self.child
                .try_wait()
                .unwrap_or_else(|error| panic!("wait for {}: {error}", self.name))
                .ok_or("still running")
        })
    }
}

impl Process {
    /// Whether the process has exited.
    pub(crate) fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
