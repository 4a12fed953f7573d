//! Where the cluster keeps its state in Redis, and the few scripts that must
//! read and write it atomically.
//!
//! | key | type | holds |
//! |---|---|---|
//! | `wsgate:node:{node}` | string, expires | the node's heartbeat; gone = node dead |
//! | `wsgate:nodes` | set | every node id seen, for the dead-node sweep |
//! | `wsgate:inbox:{node}` | pub/sub channel | deliveries for the node's connections |
//! | `wsgate:broadcast` | pub/sub channel | broadcasts, to every node |
//! | `wsgate:conn:{id}` | hash | `node`, `connectedAt`, `lastActiveAt`, `sourceIp`, `userAgent`, `context` |
//! | `wsgate:conns` | sorted set (lexical) | every connection id, for the paginated listing |
//! | `wsgate:node-conns:{node}` | set | the node's connection ids, for cleanup |
//! | `wsgate:node-groups:{node}` | set | groups in which the node has members |
//! | `wsgate:group-members:{group}` | sorted set (lexical) | the group's members |
//! | `wsgate:group-nodes:{group}` | hash | node → member count, so fan-out skips nodes without members |
//! | `wsgate:sweep:{node}` | string, expires | which node is forgetting a dead node |

use crate::connection::ConnectionId;

/// Every connection id, lexically ordered.
pub const CONNECTIONS: &str = "wsgate:conns";
/// Every node id seen.
pub const NODES: &str = "wsgate:nodes";
/// The channel every node hears broadcasts on.
pub const BROADCAST: &str = "wsgate:broadcast";
/// Prefix of a node's heartbeat key.
pub const NODE_PREFIX: &str = "wsgate:node:";
/// Prefix of a node's inbox channel.
pub const INBOX_PREFIX: &str = "wsgate:inbox:";

/// A node's heartbeat key.
pub fn node(node: &str) -> String {
    format!("{NODE_PREFIX}{node}")
}

/// A node's inbox channel.
pub fn inbox(node: &str) -> String {
    format!("{INBOX_PREFIX}{node}")
}

/// A connection's hash.
pub fn connection(id: &ConnectionId) -> String {
    format!("wsgate:conn:{id}")
}

/// A node's connection ids.
pub fn node_connections(node: &str) -> String {
    format!("wsgate:node-conns:{node}")
}

/// The groups a node has members in.
pub fn node_groups(node: &str) -> String {
    format!("wsgate:node-groups:{node}")
}

/// A group's members.
pub fn group_members(group: &str) -> String {
    format!("wsgate:group-members:{group}")
}

/// A group's member count per node.
pub fn group_nodes(group: &str) -> String {
    format!("wsgate:group-nodes:{group}")
}

/// The lock a node takes to forget a dead node.
pub fn sweep(node: &str) -> String {
    format!("wsgate:sweep:{node}")
}

/// Publishes a delivery to the node that holds a connection, if that node is
/// alive and is not this one. KEYS: the connection's hash. ARGV: this node,
/// the heartbeat key prefix, the inbox prefix, the delivery. Answers -1 when
/// the connection is gone, else how many subscribers heard it (0: the node is
/// not listening).
pub const ROUTE: &str = r"
local node = redis.call('HGET', KEYS[1], 'node')
if not node or node == ARGV[1] or redis.call('EXISTS', ARGV[2] .. node) == 0 then
  return -1
end
return redis.call('PUBLISH', ARGV[3] .. node, ARGV[4])
";

/// A connection's hash if its node is alive. KEYS: the hash. ARGV: the
/// heartbeat key prefix.
pub const INFO: &str = r"
local node = redis.call('HGET', KEYS[1], 'node')
if not node or redis.call('EXISTS', ARGV[1] .. node) == 0 then
  return false
end
return redis.call('HGETALL', KEYS[1])
";

/// Adds a member, counting it for its node. KEYS: group members, group nodes,
/// node groups. ARGV: connection id, node, group.
pub const JOIN: &str = r"
if redis.call('ZADD', KEYS[1], 0, ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
  redis.call('SADD', KEYS[3], ARGV[3])
end
return 1
";

/// Removes a member; a node left without members in the group is dropped from
/// its fan-out. Same KEYS and ARGV as [`JOIN`].
pub const LEAVE: &str = r"
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  if redis.call('HINCRBY', KEYS[2], ARGV[2], -1) <= 0 then
    redis.call('HDEL', KEYS[2], ARGV[2])
    redis.call('SREM', KEYS[3], ARGV[3])
  end
end
return 1
";

/// An `EVAL` of `script` with `keys`; add the arguments with `.arg`.
pub fn eval(script: &str, keys: &[&str]) -> redis::Cmd {
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(script).arg(keys.len()).arg(keys);
    cmd
}

/// The `EVAL` of [`JOIN`] or [`LEAVE`] for `id`, held by `node`, in `group`.
pub fn membership(script: &str, group: &str, id: &ConnectionId, node: &str) -> redis::Cmd {
    let keys = [group_members(group), group_nodes(group), node_groups(node)];
    let mut cmd = eval(script, &keys.each_ref().map(String::as_str));
    cmd.arg(id.as_str()).arg(node).arg(group);
    cmd
}

/// Updates a connection's activity if it is still registered. KEYS: its hash.
/// ARGV: `lastActiveAt`, `context`.
pub const REFRESH: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'lastActiveAt', ARGV[1], 'context', ARGV[2])
end
return 1
";
