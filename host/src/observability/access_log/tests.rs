//! The writer: order, flushing, and what happens when the output stalls.

use std::sync::mpsc::{Receiver, Sender, channel};

use super::*;

/// An output that hands every write to the test, and can be held shut.
struct Output {
    writes: Sender<Vec<u8>>,
    gate: Arc<Mutex<()>>,
}

impl Write for Output {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let _open = self.gate.lock().unwrap();
        let _ = self.writes.send(bytes.to_vec());
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn log(format: AccessLogFormat) -> (AccessLog, Receiver<Vec<u8>>, Arc<Mutex<()>>) {
    let (writes, written) = channel();
    let gate = Arc::new(Mutex::new(()));
    let out = Output {
        writes,
        gate: Arc::clone(&gate),
    };
    let log = AccessLog::start_writing(Box::new(out), format).unwrap();
    (log, written, gate)
}

fn swap(route_key: &str, time: u64) -> SwapRecord<'_> {
    SwapRecord {
        route_key,
        change: "swapped",
        component: Some("echo.wasm"),
        version: None,
        generation: Some(3),
        time,
    }
}

fn text(written: &Receiver<Vec<u8>>) -> String {
    String::from_utf8(written.try_iter().flatten().collect()).unwrap()
}

#[test]
fn lines_are_written_in_order_by_the_time_a_flush_returns() {
    let (log, written, _gate) = log(AccessLogFormat::Json);
    for index in 0..1000 {
        log.swap(&swap(&format!("route-{index}"), 1_748_781_005_042));
    }
    log.flush(Duration::from_secs(10));
    let text = text(&written);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1000);
    assert_eq!(
        lines[7],
        r#"{"eventType":"SWAP","routeKey":"route-7","change":"swapped","component":"echo.wasm","version":null,"generation":3,"requestTime":"01/Jun/2025:12:30:05 +0000","requestTimeEpoch":1748781005042}"#
    );
    for (index, line) in lines.iter().enumerate() {
        assert!(line.contains(&format!("\"route-{index}\"")), "{line}");
    }
}

#[test]
fn text_lines_quote_only_what_needs_it() {
    let (log, written, _gate) = log(AccessLogFormat::Text);
    log.swap(&swap("say \"hi\"", 0));
    log.swap(&swap("", 0));
    log.flush(Duration::from_secs(10));
    assert_eq!(
        text(&written),
        "eventType=SWAP routeKey=\"say \\\"hi\\\"\" change=swapped component=echo.wasm version=- generation=3 requestTime=\"01/Jan/1970:00:00:00 +0000\" requestTimeEpoch=0\n\
         eventType=SWAP routeKey=\"\" change=swapped component=echo.wasm version=- generation=3 requestTime=\"01/Jan/1970:00:00:00 +0000\" requestTimeEpoch=0\n"
    );
}

#[test]
fn a_stalled_output_drops_lines_past_the_backlog_and_counts_them() {
    let (log, written, gate) = log(AccessLogFormat::Json);
    let line_bytes = swap("r", 0).line_len();
    let held = gate.lock().unwrap();
    // The writer takes the first line and blocks writing it.
    log.swap(&swap("r", 0));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !log.shared.as_ref().unwrap().batch().lines.is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the writer never took the first line"
        );
        std::thread::yield_now();
    }
    let fits = BACKLOG / line_bytes;
    for _ in 0..fits + 10 {
        log.swap(&swap("r", 0));
    }
    assert_eq!(log.dropped(), 10);
    drop(held);
    log.flush(Duration::from_secs(30));
    assert_eq!(text(&written).lines().count(), 1 + fits);
}

/// A disk with `room` bytes left: a write past it is cut short, then fails
/// as a full disk does.
struct Disk {
    bytes: Arc<Mutex<Vec<u8>>>,
    room: Arc<Mutex<usize>>,
}

impl Write for Disk {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut room = self.room.lock().unwrap();
        if *room == 0 {
            return Err(std::io::ErrorKind::StorageFull.into());
        }
        let written = bytes.len().min(*room);
        *room -= written;
        self.bytes
            .lock()
            .unwrap()
            .extend_from_slice(&bytes[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn after_a_full_disk_cuts_a_line_short_the_next_lines_are_whole() {
    let bytes = Arc::new(Mutex::new(Vec::new()));
    let room = Arc::new(Mutex::new(100));
    let disk = Disk {
        bytes: Arc::clone(&bytes),
        room: Arc::clone(&room),
    };
    let log = AccessLog::start_writing(Box::new(disk), AccessLogFormat::Json).unwrap();
    for index in 0..3 {
        // The first batch is cut at byte 100; the others find the disk full.
        log.swap(&swap(&format!("lost-{index}"), 0));
        log.flush(Duration::from_secs(10));
    }
    *room.lock().unwrap() = usize::MAX;
    log.swap(&swap("kept", 0));
    log.flush(Duration::from_secs(10));
    let text = String::from_utf8(bytes.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0].len(), 100, "the torn line ends where the disk did");
    let kept: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(kept["routeKey"], "kept");
}

#[test]
fn an_access_log_that_is_off_writes_nothing_and_flushes_at_once() {
    let log = AccessLog::off();
    log.swap(&swap("r", 0));
    log.flush(Duration::ZERO);
    assert!(log.shared.is_none());
}

impl SwapRecord<'_> {
    fn line_len(&self) -> usize {
        let mut line = Vec::new();
        self.write_line(&AccessLogFormat::Json, &mut line);
        line.len()
    }
}

#[test]
fn a_handlers_error_text_is_kept_to_a_bound() {
    use super::record::MAX_ERROR_TEXT;
    let long = "é".repeat(MAX_ERROR_TEXT);
    let Outcome::Failed { status, message } = Outcome::failed(500, long) else {
        panic!("a failure")
    };
    assert_eq!(status, 500);
    assert!(
        message.len() <= MAX_ERROR_TEXT + '…'.len_utf8(),
        "{}",
        message.len()
    );
    assert!(message.ends_with('…'));
    let Outcome::Trapped(short) = Outcome::trapped("wasm trap".into()) else {
        panic!("a trap")
    };
    assert_eq!(short, "wasm trap");
}
