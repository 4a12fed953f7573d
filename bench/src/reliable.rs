//! The client side of the gateway's reliable subprotocol, as a load needs it:
//! the session frame is skipped, numbered frames are unwrapped, and what
//! arrived is acknowledged every [`ACK_EVERY`] frames (as `clients/js` does
//! by default).

use tokio_tungstenite::tungstenite::Message;

/// The subprotocol a client offers to opt in.
pub use wsgate::connection::RELIABLE_SUBPROTOCOL as SUBPROTOCOL;

/// Frames received between two acknowledgements.
pub const ACK_EVERY: u64 = 32;

/// What one connection has received of the reliable subprotocol.
#[derive(Debug, Default)]
pub struct Receiver {
    last_seq: u64,
    acked: u64,
}

impl Receiver {
    /// The application's text in `frame`; `None` for the session frame.
    /// The loads' messages need no JSON escaping, so the text is the bytes
    /// between the quotes of `data`.
    ///
    /// # Panics
    ///
    /// If the frame is not the one after the last: the gateway lost or
    /// repeated a frame, and the measurement would be of a broken protocol.
    pub fn unwrap<'a>(&mut self, frame: &'a str) -> Option<&'a str> {
        let rest = frame.strip_prefix(r#"{"type":"message","seq":"#)?;
        let (seq, rest) = rest.split_once(',')?;
        let seq: u64 = seq.parse().ok()?;
        assert_eq!(
            seq,
            self.last_seq + 1,
            "frames come in order, once: {frame}"
        );
        self.last_seq = seq;
        rest.strip_prefix(r#""data":""#)?.strip_suffix(r#""}"#)
    }

    /// The acknowledgement to send now, if one is due.
    pub fn ack(&mut self) -> Option<Message> {
        if self.last_seq < self.acked + ACK_EVERY {
            return None;
        }
        self.acked = self.last_seq;
        Some(Message::text(format!(
            r#"{{"type":"ack","seq":{}}}"#,
            self.last_seq
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_unwrapped_and_acknowledged_every_few() {
        let mut receiver = Receiver::default();
        let session = r#"{"type":"session","connectionId":"a","resumeToken":"t","resumed":false}"#;
        assert_eq!(receiver.unwrap(session), None);
        for seq in 1..ACK_EVERY {
            let frame = format!(r#"{{"type":"message","seq":{seq},"data":"x{seq}"}}"#);
            assert_eq!(receiver.unwrap(&frame), Some(format!("x{seq}").as_str()));
            assert_eq!(receiver.ack(), None);
        }
        let frame = format!(r#"{{"type":"message","seq":{ACK_EVERY},"data":"x"}}"#);
        receiver.unwrap(&frame);
        assert_eq!(
            receiver.ack(),
            Some(Message::text(format!(
                r#"{{"type":"ack","seq":{ACK_EVERY}}}"#
            )))
        );
    }

    #[test]
    #[should_panic(expected = "frames come in order, once")]
    fn a_gap_in_the_numbers_stops_the_measurement() {
        let mut receiver = Receiver::default();
        receiver.unwrap(r#"{"type":"message","seq":2,"data":"x"}"#);
    }
}
