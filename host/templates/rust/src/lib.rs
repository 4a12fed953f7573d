//! {{name}}: a wsgate route handler that greets every text message and
//! echoes binary ones.

use wsgate_sdk::{Accept, ConnectRequest, Error, Handler, Message, Payload, Reject};

struct Greeter;

impl Handler for Greeter {
    fn on_connect(request: ConnectRequest) -> Result<Accept, Reject> {
        // stdout and stderr go to the gateway's log, tagged with route and connection.
        println!("{} connected", request.context().connection_id());
        Ok(Accept::new())
    }

    fn on_message(message: Message) -> Result<Option<Payload>, Error> {
        let reply = match message.text() {
            Some(text) => format!("hello, {text}").into(),
            None => message.into_payload(),
        };
        Ok(Some(reply))
    }
}

wsgate_sdk::export!(Greeter);
