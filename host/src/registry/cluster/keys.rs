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
//! | `wsgate:group-nodes:{group}` | hash | node → 1 while the node has members, so fan-out skips the others |
//! | `wsgate:sweep:{node}` | string, expires | which node is forgetting a dead node |
//! | `wsgate:tags` | hash | tag → node: every connection id ends in the tag of the process that holds it |
//! | `wsgate:epoch` | string | when this Redis first saw a node: its absence means Redis lost its data |
//! | `wsgate:settling` | string, expires | set for one node expiry once Redis lost its data, while live nodes register again |
//!
//! Sessions parked between nodes add the keys of [`super::handoff::scripts`],
//! which also holds the scripts that route a request, a group send and a
//! broadcast (each must know a connection may be parked).
//!
//! A node's connections count as gone once its heartbeat key has expired:
//! the node fences itself before that (see `lease`), so no live connection is
//! ever reported gone. While `wsgate:settling` exists, an unknown id or a
//! node without a heartbeat is unknown, not gone: after Redis lost its data,
//! live nodes need up to one heartbeat to register again.

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
/// Prefix of a connection's hash.
pub const CONNECTION_PREFIX: &str = "wsgate:conn:";
/// Which node each process tag belongs to.
pub const TAGS: &str = "wsgate:tags";
/// When this Redis first saw a node.
pub const EPOCH: &str = "wsgate:epoch";
/// Present while live nodes register again after Redis lost its data.
pub const SETTLING: &str = "wsgate:settling";
/// Id → the node a connection moved to, or `parked`.
pub const MOVED: &str = "wsgate:moved";
/// Parked ids, by when they end.
pub const PARKED: &str = "wsgate:parked";
/// The pseudo-node in a group's nodes while the group has parked members.
pub const PARKED_NODE: &str = "#parked";
/// Prefix of a parked session's hash.
pub const PARK_PREFIX: &str = "wsgate:park:";
/// Prefix of a parked session's frames (only the scripts build these keys).
#[cfg(test)]
pub const PARK_FRAMES_PREFIX: &str = "wsgate:park-frames:";
/// Prefix of a resume token's parked id (only the scripts build these keys).
#[cfg(test)]
pub const RESUME_PREFIX: &str = "wsgate:resume:";
/// Prefix of a group's parked members.
pub const GROUP_PARKED_PREFIX: &str = "wsgate:group-parked:";
/// Prefix of a node's connection ids.
pub const NODE_CONNECTIONS_PREFIX: &str = "wsgate:node-conns:";
/// Prefix of the groups a node has members in.
pub const NODE_GROUPS_PREFIX: &str = "wsgate:node-groups:";

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
    format!("{CONNECTION_PREFIX}{id}")
}

/// A node's connection ids.
pub fn node_connections(node: &str) -> String {
    format!("{NODE_CONNECTIONS_PREFIX}{node}")
}

/// The groups a node has members in.
pub fn node_groups(node: &str) -> String {
    format!("{NODE_GROUPS_PREFIX}{node}")
}

/// A parked session's hash.
pub fn park(id: &ConnectionId) -> String {
    format!("{PARK_PREFIX}{id}")
}

/// A group's parked members.
pub fn group_parked(group: &str) -> String {
    format!("{GROUP_PARKED_PREFIX}{group}")
}

/// A group's members.
pub fn group_members(group: &str) -> String {
    format!("{GROUP_MEMBERS_PREFIX}{group}")
}

/// A group's member count per node.
pub fn group_nodes(group: &str) -> String {
    format!("{GROUP_NODES_PREFIX}{group}")
}

/// The lock a node takes to forget a dead node.
pub fn sweep(node: &str) -> String {
    format!("wsgate:sweep:{node}")
}

/// An `EVAL` of `script` with `keys`; add the arguments with `.arg`.
pub fn eval(script: &str, keys: &[&str]) -> redis::Cmd {
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(script).arg(keys.len()).arg(keys);
    cmd
}

/// Renews a node's heartbeat and answers its previous value (none: Redis
/// lost it, or the node was declared dead). A Redis without an epoch gets
/// one; a node that held a lease before the epoch began finds that Redis lost
/// its data, and makes the cluster settle for one expiry. KEYS: the
/// heartbeat, [`NODES`], [`EPOCH`], [`SETTLING`], [`TAGS`]. ARGV: the node,
/// now (ms), the expiry (ms), when the node last renewed (ms; 0: never), the
/// process's tag.
pub const BEAT: &str = r"
local previous = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[5], ARGV[5], ARGV[1])
redis.call('SET', KEYS[3], ARGV[2], 'NX')
local renewed = tonumber(ARGV[4])
if not previous and renewed > 0 and tonumber(redis.call('GET', KEYS[3])) > renewed then
  redis.call('SET', KEYS[4], ARGV[2], 'PX', ARGV[3])
end
return previous
";

/// The keys [`super::handoff::scripts::ROUTE`] reads.
pub const ROUTE_KEYS: [&str; 4] = [TAGS, SETTLING, EPOCH, MOVED];

/// A page of a lexical sorted set of connection ids (every connection, or a
/// group's members) without the ids of nodes whose heartbeat has expired, so
/// a listing leaves a connection out exactly when lookups answer 410. Scans
/// at most a budget of ids. KEYS: the set. ARGV: the start (`-` or `(id`),
/// the limit, the heartbeat prefix, the connection hash prefix, the budget.
/// A parked connection is listed, like one its node holds.
/// Answers the live ids (up to limit + 1) and the last id scanned if the
/// budget ran out first (else an empty string).
pub const LIST: &str = r"
local out, alive = {}, {parked = true}
local start, limit, budget = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[5])
local last = ''
while #out <= limit and budget > 0 do
  local batch = redis.call('ZRANGEBYLEX', KEYS[1], start, '+', 'LIMIT', 0, math.min(budget, 200))
  if #batch == 0 then return {out, ''} end
  for _, id in ipairs(batch) do
    budget = budget - 1
    last = id
    local node = redis.call('HGET', ARGV[4] .. id, 'node')
    if node then
      if alive[node] == nil then
        alive[node] = redis.call('EXISTS', ARGV[3] .. node) == 1
      end
      if alive[node] then
        out[#out + 1] = id
        if #out > limit then return {out, ''} end
      end
    end
  end
  start = '(' .. last
end
if #out > limit then return {out, ''} end
return {out, last}
";

/// Forgets up to ARGV[2] connections of a node, unless its heartbeat exists
/// (it came back, and registers itself), but not one that moved from it
/// (parked or claimed: a late registration may have listed it here again).
/// KEYS: the heartbeat, the node's connections, the node's groups,
/// [`CONNECTIONS`], [`MOVED`]. ARGV: the connection hash prefix, the count,
/// the group members prefix, the node. Answers how many it forgot,
/// -1 if the node is alive.
pub const FORGET: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local ids = redis.call('SPOP', KEYS[2], ARGV[2])
if #ids == 0 then return 0 end
local groups = redis.call('SMEMBERS', KEYS[3])
for _, id in ipairs(ids) do
  local moved = redis.call('HGET', KEYS[5], id)
  if not moved or moved == ARGV[4] then
    redis.call('DEL', ARGV[1] .. id)
    redis.call('ZREM', KEYS[4], id)
    redis.call('HDEL', KEYS[5], id)
    for _, group in ipairs(groups) do
      redis.call('ZREM', ARGV[3] .. group, id)
    end
  end
end
return #ids
";

/// Drops a node's group presence, tags and bookkeeping once its connections
/// are forgotten, unless its heartbeat exists. KEYS: the heartbeat, the
/// node's groups, the node's connections, [`NODES`], [`TAGS`]. ARGV: the
/// node, the group nodes prefix. Answers -1 if the node is alive, else 1.
pub const FORGET_NODE: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
for _, group in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  redis.call('HDEL', ARGV[2] .. group, ARGV[1])
end
local tags = redis.call('HGETALL', KEYS[5])
for i = 1, #tags, 2 do
  if tags[i + 1] == ARGV[1] then redis.call('HDEL', KEYS[5], tags[i]) end
end
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('SREM', KEYS[4], ARGV[1])
return 1
";

/// Prefix of a group's members.
pub const GROUP_MEMBERS_PREFIX: &str = "wsgate:group-members:";
/// Prefix of a group's nodes.
pub const GROUP_NODES_PREFIX: &str = "wsgate:group-nodes:";

/// Updates a connection's activity if it is still registered. KEYS: its hash.
/// ARGV: `lastActiveAt`, `context`.
pub const REFRESH: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'lastActiveAt', ARGV[1], 'context', ARGV[2])
end
return 1
";
