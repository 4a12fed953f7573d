//! The session's unit tests: numbering, resumes, overflows and handoffs.

use super::*;

fn limits(buffer: usize) -> ResumeLimits {
    ResumeLimits {
        buffer,
        ..ResumeLimits::default()
    }
}

fn seqs(session: &Session, id: &ConnectionId, count: usize) -> Vec<String> {
    let mut sent = Vec::new();
    for n in 0..count {
        let message = Message::text(format!("m{n}"));
        session
            .sequence(id, message, |frame| {
                sent.push(frame.into_text().unwrap().as_str().to_owned());
                Ok(())
            })
            .unwrap();
    }
    sent
}

#[test]
fn frames_are_numbered_from_one_and_control_frames_are_not() {
    let id = ConnectionId::from("c");
    let session = Session::new(&id, limits(8));
    assert_eq!(
        seqs(&session, &id, 2),
        [
            r#"{"type":"message","seq":1,"data":"m0"}"#,
            r#"{"type":"message","seq":2,"data":"m1"}"#
        ]
    );
    let mut passed = None;
    let ping = Message::Ping(Default::default());
    session
        .sequence(&id, ping.clone(), |frame| {
            passed = Some(frame);
            Ok(())
        })
        .unwrap();
    assert_eq!(passed, Some(ping));
    let binary = frame::wrap(3, &Message::binary(vec![0, 1, 255])).unwrap();
    assert_eq!(
        binary.into_text().unwrap().as_str(),
        r#"{"type":"message","seq":3,"binary":"AAH/"}"#
    );
}

#[test]
fn a_resume_is_honoured_only_from_a_frame_it_can_replay() {
    let id = ConnectionId::from("c");
    let session = Session::new(&id, limits(8));
    seqs(&session, &id, 4);
    session.acknowledge(2);
    assert!(session.detach());
    let resume = |last_seq| Resume {
        // A request that can never be upgraded: only the number matters here.
        upgrade: hyper::upgrade::on(http::Request::new(())),
        last_seq,
    };
    assert!(session.hand_over(resume(1)).is_err(), "frame 2 is gone");
    assert!(
        session.hand_over(resume(5)).is_err(),
        "frame 5 was never sent"
    );
    assert!(session.hand_over(resume(2)).is_ok());
    let queue = OutboundQueue::new(1, 1);
    session.attach(&id, 3, &queue);
    assert_eq!(queue.len(), 2, "the greeting and frame 4");
}

#[test]
fn an_overflow_ends_resumability_and_refuses_sends_while_detached() {
    let id = ConnectionId::from("c");
    let session = Session::new(&id, limits(2));
    assert!(session.detach());
    seqs(&session, &id, 2);
    let third = session.sequence(&id, Message::text("x"), |_| Ok(()));
    assert_eq!(third, Err(SendError::Gone));
    assert!(!session.is_resumable());
    let waker = futures_util::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(matches!(session.poll_resume(&mut cx), Poll::Ready(None)));
}

#[test]
fn a_sealed_session_numbers_nothing_more_and_is_restored_with_its_tail_after_it() {
    let id = ConnectionId::from("c");
    let session = Session::new(&id, limits(8));
    seqs(&session, &id, 3);
    session.acknowledge(1);
    let snapshot = session.seal().expect("a live session seals");
    assert_eq!((snapshot.next_seq, snapshot.acked), (4, 1));
    assert_eq!(snapshot.frames.len(), 2, "frames 2 and 3");
    assert!(session.seal().is_none(), "sealed once");
    assert_eq!(
        session.sequence(&id, Message::text("late"), |_| Ok(())),
        Err(SendError::Gone)
    );
    assert!(session.end(), "its end belongs to the node that resumes it");

    let restored = Session::restore(snapshot, vec![Message::text("meanwhile")], limits(8));
    let queue = OutboundQueue::new(8, 1 << 20);
    restored.attach(&id, 2, &queue);
    assert_eq!(
        queue.len(),
        3,
        "the greeting, frame 3, and 4 sent meanwhile"
    );
    let mut sent = Vec::new();
    restored
        .sequence(&id, Message::text("next"), |frame| {
            sent.push(frame);
            Ok(())
        })
        .unwrap();
    assert_eq!(
        sent[0].to_text().unwrap(),
        r#"{"type":"message","seq":5,"data":"next"}"#
    );
}

#[test]
fn an_ended_session_does_not_seal() {
    let session = Session::new(&ConnectionId::from("c"), limits(8));
    assert!(!session.end());
    assert!(session.seal().is_none());
}
