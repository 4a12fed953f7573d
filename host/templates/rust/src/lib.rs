//! {{name}}: a wsgate route handler that greets every text message and
//! echoes binary ones.

use wsgate_sdk::{Accept, ConnectRequest, Error, Handler, Message, Payload, Reject, RequestContext};

struct Greeter;

impl Handler for Greeter {
    fn on_connect(ctx: &RequestContext, _request: &ConnectRequest) -> Result<Accept, Reject> {
        // stdout and stderr go to the gateway's log, tagged with route and connection.
        println!("{} connected", ctx.connection_id());
        Ok(Accept::new())
    }

    fn on_message(_ctx: &RequestContext, message: Message) -> Result<Option<Payload>, Error> {
        let reply = match message.text() {
            Some(text) => format!("hello, {text}").into(),
            None => message.into_payload(),
        };
        Ok(Some(reply))
    }
}

wsgate_sdk::export!(Greeter);
