//! The scripts that move a session between nodes, and every other script
//! that must know a connection may be parked: routing a request, a group
//! send and a broadcast. Each runs atomically in Redis, so each delivery is
//! decided in one order with the parks and claims: before a park it reaches
//! the node that holds the connection, after it the parked session's frames,
//! after a claim the claiming node.
//!
//! | key | type | holds |
//! |---|---|---|
//! | `wsgate:moved` | hash | id → the node holding a connection that moved, or `parked`: overrides the id's tag |
//! | `wsgate:parked` | sorted set | parked ids by when they end: the window's end, 0 once ended |
//! | `wsgate:park:{id}` | hash, expires | `token`, `meta` (JSON), `groups` (JSON), `nextSeq`, `acked`, `ready`, `bytes`, `maxFrames`, `maxBytes`, `ended` |
//! | `wsgate:park-frames:{id}` | list | `n` + a numbered frame (the snapshot), `r` + a [`super::super::delivery::Frame`] (sent while parked) |
//! | `wsgate:resume:{token}` | string, expires | the id parked under the resume token |
//! | `wsgate:group-parked:{group}` | set | the group's parked members; while any, `#parked` is in the group's nodes |
//!
//! The key names are written into the scripts; a test checks each against
//! the constants of [`super::super::keys`].

use std::sync::LazyLock;

/// The functions the scripts share: taking a parked member out of a group's
/// parked set, and appending an entry to a parked session's frames within
/// its bounds (past them the session ends, and the entry is refused).
const PRELUDE: &str = r"
local function unlist_parked(group, id)
  local parked = 'wsgate:group-parked:' .. group
  redis.call('SREM', parked, id)
  if redis.call('SCARD', parked) == 0 then
    redis.call('HDEL', 'wsgate:group-nodes:' .. group, '#parked')
  end
end
local function append(id, entry)
  local park = 'wsgate:park:' .. id
  local state = redis.call('HMGET', park, 'ended', 'bytes', 'maxFrames', 'maxBytes')
  if state[1] or not state[3] then return -1 end
  local frames = 'wsgate:park-frames:' .. id
  local size = string.len(entry)
  if redis.call('LLEN', frames) >= tonumber(state[3])
      or tonumber(state[2]) + size > tonumber(state[4]) then
    redis.call('HSET', park, 'ended', 'overflow')
    redis.call('ZADD', 'wsgate:parked', 0, id)
    redis.call('DEL', frames)
    return -1
  end
  redis.call('RPUSH', frames, entry)
  redis.call('HINCRBY', park, 'bytes', size)
  return 1
end
";

/// Routes a request to the node that holds a connection: the one it moved
/// to, else the one whose tag the id ends in, if alive and not this one
/// (unless the connection moved here, when this node's inbox orders it
/// behind the claim). A send to a parked connection is appended to its
/// frames; any other request for one is left to the caller. KEYS: `TAGS`,
/// `SETTLING`, `EPOCH`, `MOVED`. ARGV: this node, the heartbeat prefix, the
/// inbox prefix, the request, the id's tag, the id, the entry of a send
/// (empty for another request). Answers -3 when appended, -2 when parked
/// and not a send, -1 when gone, 0 when the node is unknown now (Redis is
/// settling after it lost its data) or not listening, else how many
/// subscribers heard it.
const ROUTE_BODY: &str = r"
local moved = redis.call('HGET', KEYS[4], ARGV[6])
if moved == 'parked' then
  if ARGV[7] == '' then return -2 end
  if append(ARGV[6], ARGV[7]) == 1 then return -3 end
  return -1
end
local node = moved or redis.call('HGET', KEYS[1], ARGV[5])
if node and redis.call('EXISTS', ARGV[2] .. node) == 1 then
  if node == ARGV[1] and not moved then return -1 end
  return redis.call('PUBLISH', ARGV[3] .. node, ARGV[4])
end
if redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[3]) == 0 then
  return 0
end
return -1
";

/// Sends to a group's members on other nodes and to its parked members.
/// KEYS: the group's nodes, the group's parked members, `MOVED`. ARGV: this
/// node, `1` to publish to this node too, the delivery, the entry, the id
/// left out (or empty).
const GROUP_BODY: &str = r"
for _, node in ipairs(redis.call('HKEYS', KEYS[1])) do
  if node ~= '#parked' and (node ~= ARGV[1] or ARGV[2] == '1') then
    redis.call('PUBLISH', 'wsgate:inbox:' .. node, ARGV[3])
  end
end
if ARGV[2] == '1' and redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  redis.call('PUBLISH', 'wsgate:inbox:' .. ARGV[1], ARGV[3])
end
local parked = redis.call('SMEMBERS', KEYS[2])
for _, id in ipairs(parked) do
  if id ~= ARGV[5] and redis.call('HGET', KEYS[3], id) == 'parked' then append(id, ARGV[4]) end
end
if #parked == 0 then redis.call('HDEL', KEYS[1], '#parked') end
return 1
";

/// Publishes a broadcast to every node and appends it to every parked
/// session. KEYS: `PARKED`, `MOVED`. ARGV: the delivery, the entry, the id
/// left out (or empty).
const BROADCAST_BODY: &str = r"
redis.call('PUBLISH', 'wsgate:broadcast', ARGV[1])
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if id ~= ARGV[3] and redis.call('HGET', KEYS[2], id) == 'parked' then append(id, ARGV[2]) end
end
return 1
";

/// Parks a connection: from now on sends to it are appended to its frames,
/// its groups list it as parked, and its resume token finds it; the marker
/// tells the parking node, in the order of its inbox, to seal the session
/// and write its snapshot. ARGV: the id, the parking node, the token, the
/// meta (JSON), the groups (JSON array), when it ends (ms), the most frames,
/// the most bytes, the marker, how long the keys live (ms), the deadline
/// (ms since the Unix epoch). Answers 0, parking nothing, past the deadline:
/// the node gave up waiting for this script by then (Redis hung) and ended
/// the session itself, `$disconnect` included.
const PARK_BODY: &str = r"
local id, node = ARGV[1], ARGV[2]
local time = redis.call('TIME')
if tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) > tonumber(ARGV[11]) then
  return 0
end
local park = 'wsgate:park:' .. id
redis.call('DEL', park, 'wsgate:park-frames:' .. id)
redis.call('HSET', park, 'token', ARGV[3], 'meta', ARGV[4], 'groups', ARGV[5], 'ready', '0',
  'bytes', '0', 'maxFrames', ARGV[7], 'maxBytes', ARGV[8])
redis.call('PEXPIRE', park, ARGV[10])
redis.call('SET', 'wsgate:resume:' .. ARGV[3], id, 'PX', ARGV[10])
redis.call('HSET', 'wsgate:moved', id, 'parked')
redis.call('ZADD', 'wsgate:parked', ARGV[6], id)
if redis.call('EXISTS', 'wsgate:conn:' .. id) == 1 then
  redis.call('HSET', 'wsgate:conn:' .. id, 'node', 'parked')
end
redis.call('SREM', 'wsgate:node-conns:' .. node, id)
for _, group in ipairs(cjson.decode(ARGV[5])) do
  redis.call('SADD', 'wsgate:group-parked:' .. group, id)
  redis.call('HSET', 'wsgate:group-nodes:' .. group, '#parked', 1)
end
redis.call('PUBLISH', 'wsgate:inbox:' .. node, ARGV[9])
return 1
";

/// Writes a sealed session's numbering and frames (ahead of anything
/// appended since the park) and makes it claimable; lists it as parked
/// again, should a registration written since have listed it as its
/// node's. ARGV: the id, the next
/// number, the last acknowledged, the frames' bytes, how long the keys live
/// (ms), then the frames in order. Answers 0 if the park is gone.
const SNAPSHOT_BODY: &str = r"
local park = 'wsgate:park:' .. ARGV[1]
if redis.call('EXISTS', park) == 0 then return 0 end
local frames = 'wsgate:park-frames:' .. ARGV[1]
for i = #ARGV, 6, -1 do redis.call('LPUSH', frames, ARGV[i]) end
redis.call('HSET', park, 'nextSeq', ARGV[2], 'acked', ARGV[3], 'ready', '1')
redis.call('HINCRBY', park, 'bytes', ARGV[4])
redis.call('PEXPIRE', frames, ARGV[5])
if redis.call('EXISTS', 'wsgate:conn:' .. ARGV[1]) == 1 then
  redis.call('HSET', 'wsgate:conn:' .. ARGV[1], 'node', 'parked')
end
return 1
";

/// Undoes a park whose session had ended before it could be sealed. ARGV:
/// the id. Answers 0 if it is not a park awaiting its snapshot.
const UNPARK_BODY: &str = r"
local id = ARGV[1]
if redis.call('HGET', 'wsgate:moved', id) ~= 'parked' then return 0 end
local park = 'wsgate:park:' .. id
local state = redis.call('HMGET', park, 'ready', 'token', 'groups')
if state[1] == '1' then return 0 end
redis.call('HDEL', 'wsgate:moved', id)
redis.call('ZREM', 'wsgate:parked', id)
if state[2] then redis.call('DEL', 'wsgate:resume:' .. state[2]) end
if state[3] then
  for _, group in ipairs(cjson.decode(state[3])) do unlist_parked(group, id) end
end
redis.call('DEL', park, 'wsgate:park-frames:' .. id)
return 1
";

/// Claims the session parked under a token for this node, if it can be
/// resumed after the client's last frame: the connection moves here, joins
/// its groups here, and the marker tells this node, in the order of its
/// inbox, to make it reachable. ARGV: the token, this node, the client's
/// last frame, the marker. Answers `{0}` for no such session (or one that
/// ended), `{1}` while its snapshot is not written yet, `{2}` when the last
/// frame is not one it can replay from, else `{3, id, meta, groups,
/// nextSeq, acked, frames}`.
const CLAIM_BODY: &str = r"
local id = redis.call('GET', 'wsgate:resume:' .. ARGV[1])
if not id or redis.call('HGET', 'wsgate:moved', id) ~= 'parked' then return {0} end
local park = 'wsgate:park:' .. id
local state = redis.call('HMGET', park, 'ready', 'ended', 'acked', 'meta', 'groups', 'nextSeq')
if state[2] or not state[4] then return {0} end
if state[1] ~= '1' then return {1} end
local frames = 'wsgate:park-frames:' .. id
local acked, last = tonumber(state[3]), tonumber(ARGV[3])
if last < acked or last > acked + redis.call('LLEN', frames) then return {2} end
local kept = redis.call('LRANGE', frames, 0, -1)
local node = ARGV[2]
redis.call('HSET', 'wsgate:moved', id, node)
redis.call('ZREM', 'wsgate:parked', id)
redis.call('DEL', park, frames, 'wsgate:resume:' .. ARGV[1])
if redis.call('EXISTS', 'wsgate:conn:' .. id) == 1 then
  redis.call('HSET', 'wsgate:conn:' .. id, 'node', node)
end
redis.call('SADD', 'wsgate:node-conns:' .. node, id)
for _, group in ipairs(cjson.decode(state[5])) do
  unlist_parked(group, id)
  redis.call('HSET', 'wsgate:group-nodes:' .. group, node, 1)
  redis.call('SADD', 'wsgate:node-groups:' .. node, group)
end
redis.call('PUBLISH', 'wsgate:inbox:' .. node, ARGV[4])
return {3, id, state[4], state[5], state[6], state[3], kept}
";

/// Takes up to ARGV[2] parked sessions that ended or whose window passed
/// by ARGV[1] (ms), forgetting them. Answers `{id, meta, ended}` for each.
const SWEEP_BODY: &str = r"
local out = {}
local due = redis.call('ZRANGEBYSCORE', 'wsgate:parked', '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, id in ipairs(due) do
  redis.call('ZREM', 'wsgate:parked', id)
  if redis.call('HGET', 'wsgate:moved', id) == 'parked' then
    local park = 'wsgate:park:' .. id
    local state = redis.call('HMGET', park, 'meta', 'groups', 'ended', 'token')
    redis.call('HDEL', 'wsgate:moved', id)
    redis.call('DEL', park, 'wsgate:park-frames:' .. id, 'wsgate:conn:' .. id)
    redis.call('ZREM', 'wsgate:conns', id)
    if state[4] then redis.call('DEL', 'wsgate:resume:' .. state[4]) end
    if state[2] then
      for _, group in ipairs(cjson.decode(state[2])) do
        redis.call('ZREM', 'wsgate:group-members:' .. group, id)
        unlist_parked(group, id)
      end
    end
    out[#out + 1] = {id, state[1] or '', state[3] or ''}
  end
end
return out
";

/// Ends a parked session by a close request (its `$disconnect` comes from
/// the sweep). ARGV: the id, how it ended (JSON). Answers 1, -1 if it had
/// ended already, 0 if it is no longer parked.
const CLOSE_BODY: &str = r"
if redis.call('HGET', 'wsgate:moved', ARGV[1]) ~= 'parked' then return 0 end
local park = 'wsgate:park:' .. ARGV[1]
if redis.call('HEXISTS', park, 'ended') == 1 then return -1 end
redis.call('HSET', park, 'ended', ARGV[2])
redis.call('ZADD', 'wsgate:parked', 0, ARGV[1])
return 1
";

/// Adds a parked session to a group, or takes it out. ARGV: the id, the
/// group, `1` to join. Answers 1, -1 if it had ended, 0 if it is no longer
/// parked.
const MEMBERSHIP_BODY: &str = r"
local id, group = ARGV[1], ARGV[2]
if redis.call('HGET', 'wsgate:moved', id) ~= 'parked' then return 0 end
local park = 'wsgate:park:' .. id
local state = redis.call('HMGET', park, 'ended', 'groups')
if state[1] or not state[2] then return -1 end
local kept = {}
for _, name in ipairs(cjson.decode(state[2])) do
  if name ~= group then kept[#kept + 1] = name end
end
if ARGV[3] == '1' then
  kept[#kept + 1] = group
  redis.call('ZADD', 'wsgate:group-members:' .. group, 0, id)
  redis.call('SADD', 'wsgate:group-parked:' .. group, id)
  redis.call('HSET', 'wsgate:group-nodes:' .. group, '#parked', 1)
else
  redis.call('ZREM', 'wsgate:group-members:' .. group, id)
  unlist_parked(group, id)
end
redis.call('HSET', park, 'groups', #kept == 0 and '[]' or cjson.encode(kept))
return 1
";

/// A script: the shared functions, then `body`.
fn script(body: &str) -> String {
    format!("{PRELUDE}{body}")
}

/// See [`ROUTE_BODY`].
pub static ROUTE: LazyLock<String> = LazyLock::new(|| script(ROUTE_BODY));
/// See [`GROUP_BODY`].
pub static GROUP: LazyLock<String> = LazyLock::new(|| script(GROUP_BODY));
/// See [`BROADCAST_BODY`].
pub static BROADCAST: LazyLock<String> = LazyLock::new(|| script(BROADCAST_BODY));
/// See [`PARK_BODY`].
pub static PARK: LazyLock<String> = LazyLock::new(|| script(PARK_BODY));
/// See [`SNAPSHOT_BODY`].
pub static SNAPSHOT: LazyLock<String> = LazyLock::new(|| script(SNAPSHOT_BODY));
/// See [`UNPARK_BODY`].
pub static UNPARK: LazyLock<String> = LazyLock::new(|| script(UNPARK_BODY));
/// See [`CLAIM_BODY`].
pub static CLAIM: LazyLock<String> = LazyLock::new(|| script(CLAIM_BODY));
/// See [`SWEEP_BODY`].
pub static SWEEP: LazyLock<String> = LazyLock::new(|| script(SWEEP_BODY));
/// See [`CLOSE_BODY`].
pub static CLOSE: LazyLock<String> = LazyLock::new(|| script(CLOSE_BODY));
/// See [`MEMBERSHIP_BODY`].
pub static MEMBERSHIP: LazyLock<String> = LazyLock::new(|| script(MEMBERSHIP_BODY));

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::cluster::keys;

    #[test]
    fn every_key_a_script_names_is_one_the_keys_define() {
        let all = [
            PRELUDE,
            ROUTE_BODY,
            GROUP_BODY,
            BROADCAST_BODY,
            PARK_BODY,
            SNAPSHOT_BODY,
            UNPARK_BODY,
            CLAIM_BODY,
            SWEEP_BODY,
            CLOSE_BODY,
            MEMBERSHIP_BODY,
        ]
        .concat();
        let known = [
            keys::MOVED,
            keys::PARKED,
            keys::CONNECTIONS,
            keys::BROADCAST,
            keys::PARKED_NODE,
            keys::PARK_PREFIX,
            keys::PARK_FRAMES_PREFIX,
            keys::RESUME_PREFIX,
            keys::GROUP_PARKED_PREFIX,
            keys::GROUP_NODES_PREFIX,
            keys::GROUP_MEMBERS_PREFIX,
            keys::INBOX_PREFIX,
            keys::CONNECTION_PREFIX,
            keys::NODE_CONNECTIONS_PREFIX,
            keys::NODE_GROUPS_PREFIX,
        ];
        let mut named = 0;
        for start in ["'wsgate:", "'#"] {
            for (at, _) in all.match_indices(start) {
                let quoted = &all[at + 1..];
                let used = &quoted[..quoted.find('\'').unwrap()];
                assert!(known.contains(&used), "a key no constant names: {used}");
                named += 1;
            }
        }
        assert!(named > 40, "{named}");
    }
}
