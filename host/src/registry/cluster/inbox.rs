//! This node's inbox: what other nodes publish for its connections, carried
//! out one delivery at a time, in the order Redis received them.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use super::delivery::{Delivery, FollowUp};
use super::{ClusterRegistry, keys};

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
async fn listen(registry: &ClusterRegistry) -> redis::RedisResult<()> {
    let mut pubsub = registry.client.get_async_pubsub().await?;
    pubsub.subscribe(keys::inbox(registry.node())).await?;
    pubsub.subscribe(keys::BROADCAST).await?;
    tracing::info!(node = %registry.node(), "cluster: listening on this node's inbox");
    let mut messages = pubsub.on_message();
    while let Some(message) = messages.next().await {
        let delivery = match serde_json::from_slice::<Delivery>(message.get_payload_bytes()) {
            Ok(delivery) => delivery,
            Err(error) => {
                tracing::warn!(%error, "cluster: ignored a malformed delivery");
                continue;
            }
        };
        registry.metrics.cluster_delivery();
        if let FollowUp::Unjoin { group, id } =
            delivery.apply(&registry.local, registry.node()).await
        {
            let mut redis = registry.redis.clone();
            let leave = keys::membership(keys::LEAVE, &group, &id, registry.node());
            if let Err(error) = leave.query_async::<()>(&mut redis).await {
                tracing::debug!(%error, "cluster: could not undo a join of a closed connection");
            }
        }
    }
    Ok(())
}
