//! This node's inbox: what other nodes publish for its connections, carried
//! out one delivery at a time, in the order Redis received them.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use super::delivery::{Ask, Delivery, Envelope};
use super::requests::Answer;
use super::{ClusterRegistry, handoff, keys};
use crate::clock::now_ms;

/// The pause before subscribing again after Redis was lost.
const RESUBSCRIBE_AFTER: Duration = Duration::from_millis(500);

/// Listens until the process ends, subscribing again whenever Redis returns.
pub(super) async fn run(registry: Arc<ClusterRegistry>) {
    let mut announced_loss = false;
    loop {
        match listen(&registry).await {
            Ok(()) => {
                tracing::warn!("cluster: the inbox subscription ended; subscribing again");
                announced_loss = false;
            }
            Err(error) if !announced_loss => {
                tracing::warn!(%error, "cluster: cannot subscribe to this node's inbox; retrying");
                announced_loss = true;
            }
            Err(_) => {}
        }
        tokio::time::sleep(RESUBSCRIBE_AFTER).await;
    }
}

/// Subscribes to this node's inbox and the broadcast channel and carries out
/// deliveries until the subscription ends.
async fn listen(registry: &Arc<ClusterRegistry>) -> redis::RedisResult<()> {
    let mut pubsub = registry.client.get_async_pubsub().await?;
    pubsub.subscribe(keys::inbox(registry.node())).await?;
    pubsub.subscribe(keys::BROADCAST).await?;
    // Notices sent while this node was not listening are lost.
    registry.relearn_groups();
    tracing::info!(node = %registry.node(), "cluster: listening on this node's inbox");
    let mut messages = pubsub.on_message();
    while let Some(message) = messages.next().await {
        match serde_json::from_slice::<Envelope>(message.get_payload_bytes()) {
            Ok(envelope) => carry_out(registry, envelope).await,
            Err(error) => tracing::warn!(%error, "cluster: ignored a malformed delivery"),
        }
    }
    Ok(())
}

/// Carries out one delivery, and answers it if it is a request.
async fn carry_out(registry: &Arc<ClusterRegistry>, envelope: Envelope) {
    let Envelope { ask, delivery } = envelope;
    match delivery {
        Delivery::Reply { request, outcome } => registry.pending.answer(request, outcome),
        Delivery::Presence {
            node,
            group,
            present,
        } if node != registry.node() => registry.fanout.presence(&node, &group, present),
        Delivery::Resync { node } if node != registry.node() => registry.relearn_groups(),
        Delivery::Presence { .. } | Delivery::Resync { .. } => {}
        Delivery::Parked { id } => handoff::park::seal(registry, &id.into()).await,
        Delivery::Claimed { claim } => handoff::claim::at_marker(registry, claim).await,
        Delivery::Park { id, token } => {
            // Parking waits for its marker on this inbox: not on its task.
            let registry = Arc::clone(registry);
            tokio::spawn(async move {
                let outcome = handoff::park::hand_over(&registry, &id.into(), &token).await;
                if let Some(ask) = ask {
                    answer(&registry, ask, outcome);
                }
            });
        }
        delivery => {
            if let Some(ask) = &ask
                && now_ms() > ask.accept_by
            {
                // The caller has answered 503, or is about to: not done.
                tracing::debug!(
                    request = ask.request,
                    "cluster: dropped a request that came too late"
                );
                return;
            }
            registry.metrics.cluster_delivery();
            let outcome = delivery.apply(registry).await;
            match ask {
                Some(ask) => answer(registry, ask, outcome),
                None => {
                    if let Err(error) = outcome {
                        tracing::debug!(%error, "a delivery from another node did not reach its connection");
                    }
                }
            }
        }
    }
}

/// Sends the outcome of a request to the node that asked, without holding
/// up the inbox.
fn answer(registry: &ClusterRegistry, ask: Ask, outcome: Answer) {
    let reply = Envelope::told(Delivery::Reply {
        request: ask.request,
        outcome,
    });
    let publish = redis::Cmd::publish(keys::inbox(&ask.reply_to), reply.encode());
    let link = Arc::clone(&registry.link);
    tokio::spawn(async move {
        let _ = link.query::<()>(publish).await;
    });
}
