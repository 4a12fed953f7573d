//! Faulty: a route handler that fails on demand, to test the sandbox.
//!
//! Text messages: `panic` panics, `loop` never returns, `bomb` allocates until
//! the memory cap traps it, `error` returns an error, `hold:N:MS` takes N MiB,
//! says `holding N MiB` on stdout and keeps them MS milliseconds before
//! answering `held:N`; anything else is answered with `ok:<text>`.

use std::hint::black_box;
use std::time::Duration;

use wsgate_sdk::{Error, Handler, Message, Payload, RequestContext};

struct Faulty;

impl Handler for Faulty {
    fn on_message(_ctx: &RequestContext, message: Message) -> Result<Option<Payload>, Error> {
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
            text if text.starts_with("hold:") => hold(&text["hold:".len()..]),
            text => Ok(Some(format!("ok:{text}").into())),
        }
    }
}

/// `N:MS`: holds N MiB for MS milliseconds.
fn hold(spec: &str) -> Result<Option<Payload>, Error> {
    let (mib, millis) = spec.split_once(':').ok_or("hold:N:MS")?;
    let mib: usize = mib.parse().map_err(|_| "hold: N is a number of MiB")?;
    let millis: u64 = millis.parse().map_err(|_| "hold: MS is a number")?;
    let hoard = black_box(vec![1u8; mib << 20]);
    println!("holding {mib} MiB");
    std::thread::sleep(Duration::from_millis(millis));
    drop(hoard);
    Ok(Some(format!("held:{mib}").into()))
}

wsgate_sdk::export!(Faulty);
