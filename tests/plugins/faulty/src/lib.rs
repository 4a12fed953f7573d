//! Faulty: a route handler that fails on demand, to test the sandbox.
//!
//! Text messages: `panic` panics, `loop` never returns, `bomb` allocates until
//! the memory cap traps it, `error` returns an error; anything else is answered
//! with `ok:<text>`.

use std::hint::black_box;

use wsgate_sdk::{Error, Handler, Message, Payload};

struct Faulty;

impl Handler for Faulty {
    fn on_message(message: Message) -> Result<Option<Payload>, Error> {
        match message.text().unwrap_or_default() {
            "panic" => panic!("faulty handler panicked"),
            "loop" => loop {
                black_box(());
            },
            "bomb" => {
                let mut hoard = Vec::new();
                loop {
                    hoard.push(black_box(vec![1u8; 1 << 20]));
                }
            }
            "error" => Err("faulty handler refused".into()),
            text => Ok(Some(format!("ok:{text}").into())),
        }
    }
}

wsgate_sdk::export!(Faulty);
