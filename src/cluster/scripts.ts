/**
 * The room's writes, as Lua scripts: each runs whole or not at all, so a
 * name is claimed and announced in one step, a line gets its number and its
 * place in the stream together, and a server taken as lost cannot write
 * (fencing: every batch checks the server's boot id first).
 *
 * Names are stored as `NODE\tSERIAL\tANNOUNCED\tNAME` under their lower-case
 * key, and what a member published of itself under the same key in `info`
 * (`SINCE\tPEER\tADDRESS\tAWAY`, see roster.ts): both go together. Stream
 * entries have the fields t (type), f (name), x (text, peer, reason or new
 * name), n (node), s (serial), q (the writer's batch), o (a line's number),
 * k (a join after a lost link: `1`; an away: `1`, back: `0`), m (more: a
 * join's info, a leave's parting words, a ban as bans.ts encodes it); a line
 * also has B (the writer's boot) and u (its number among the lines that boot
 * wrote), so that a line written twice (sent again after a reply was lost
 * with Redis's data) is delivered once.
 */
import { createHash } from "node:crypto";
import type { RedisLink, Reply } from "./link.ts";

const NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)";
const SPLIT = "^([^\\t]*)\\t([^\\t]*)\\t([^\\t]*)\\t(.*)$";

/**
 * A batch of one server's operations, in order. KEYS: log, meta, names,
 * boots, pub key, info, bans. ARGV: node, boot, batch number, stream length,
 * key prefix, then six per operation: op, a, b, serial, x, y. Returns one
 * result each, or `DUP` for a batch already applied, or the error `FENCED`.
 */
const OPS = `
local log, meta, names, boots, pubk, info, bans = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local node, boot, batch, maxlen, prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
if redis.call('HGET', boots, node) ~= boot then return redis.error_reply('FENCED this server was taken for lost') end
if tonumber(batch) <= tonumber(redis.call('GET', pubk) or '0') then return 'DUP' end
redis.call('SET', pubk, batch, 'PX', 600000)
local function add(t, f, x, s, ...)
  return redis.call('XADD', log, 'MAXLEN', '~', maxlen, '*', 't', t, 'f', f, 'x', x, 'n', node, 's', s, 'q', batch, ...)
end
local function own(v, s) local head = node .. '\\t' .. s .. '\\t' return v ~= false and v:sub(1, #head) == head end
local function holder(name)
  local v = redis.call('HGET', names, string.lower(name))
  if not v then return nil end
  local n, _, _, exact = v:match('${SPLIT}')
  return n, exact
end
local out = {}
for i = 6, #ARGV, 6 do
  local op, a, b, s, x, y = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  local la = string.lower(a)
  local r = 1
  if op == 'message' or op == 'action' then
    r = redis.call('HINCRBY', meta, 'seq', 1)
    add(op, a, x, s, 'o', r, 'u', b, 'B', boot)
  elseif op == 'lines' then
    local n = tonumber(y)
    r = redis.call('HINCRBY', meta, 'seq', n) - n + 1
    add('message', a, x, s, 'o', r, 'u', b, 'B', boot, 'c', y)
  elseif op == 'claim' then
    -- Its own already (a claim sent again after a lost link): still its own, as it stands.
    local v = redis.call('HGET', names, la)
    if v and not own(v, s) then r = 0 elseif not v then redis.call('HSET', names, la, node .. '\\t' .. s .. '\\t0\\t' .. a) end
  elseif op == 'join' then
    local v = redis.call('HGET', names, la)
    if v and not own(v, s) then r = 0 else
      redis.call('HSET', names, la, node .. '\\t' .. s .. '\\t1\\t' .. a)
      redis.call('HSET', info, la, y)
      add('join', a, x, s, 'k', b, 'm', y)
    end
  elseif op == 'leave' then
    if own(redis.call('HGET', names, la), s) then redis.call('HDEL', names, la) redis.call('HDEL', info, la) end
    if b == '1' then add('leave', a, x, s, 'm', y) end
  elseif op == 'rename' then
    local lb = string.lower(b)
    local v = redis.call('HGET', names, lb)
    if v and la ~= lb then r = 0 else
      local held = redis.call('HGET', info, la)
      if own(redis.call('HGET', names, la), s) then
        redis.call('HDEL', names, la)
        redis.call('HDEL', info, la)
        if held then redis.call('HSET', info, lb, held) end
      end
      redis.call('HSET', names, lb, node .. '\\t' .. s .. '\\t' .. x .. '\\t' .. b)
      if x == '1' then add('rename', a, b, s) end
    end
  elseif op == 'away' then
    if own(redis.call('HGET', names, la), s) then
      redis.call('HSET', info, la, y)
      add('away', a, x, s, 'k', b)
    else r = 0 end
  elseif op == 'topic' then
    if x == '' then redis.call('HDEL', meta, 'topic', 'topicBy', 'topicAt')
    else redis.call('HSET', meta, 'topic', x, 'topicBy', a, 'topicAt', b) end
    add('topic', a, x, s)
  elseif op == 'ban' then
    local all = redis.call('HGETALL', bans)
    for j = 1, #all, 2 do
      local untl = all[j + 1]:match('^([^\\t]*)')
      if untl ~= '' and tonumber(untl) <= tonumber(b) then redis.call('HDEL', bans, all[j]) end
    end
    redis.call('HSET', bans, a, y)
    add('ban', a, x, s, 'm', y)
  elseif op == 'unban' then
    r = redis.call('HDEL', bans, a)
    if r == 1 then add('unban', a, '', s) end
  elseif op == 'tell' or op == 'kick' or op == 'mute' then
    local n, exact = holder(a)
    if not n then r = 0 else
      redis.call('XADD', prefix .. 'inbox:' .. n, 'MAXLEN', '~', 1000, '*', 't', op, 'f', b, 'to', exact, 'x', x)
      r = exact
    end
  end
  out[#out + 1] = r
end
return out
`;

/**
 * Takes a server's name. KEYS: nodes, boots, meta. ARGV: the name wanted,
 * boot id, lease ms, `1` when the name was asked for (no suffix then), key
 * prefix. Returns {status, name, epoch, had}: `busy` when an asked-for name
 * is held by a live server; `had` 1 when this boot held it already.
 */
const REGISTER = `
${NOW}
local name, n = ARGV[1], 1
local had = 0
while true do
  local b = redis.call('HGET', KEYS[2], name)
  if not b or b == ARGV[2] then break end
  if ARGV[4] == '1' then return {'busy', name, '', 0} end
  n = n + 1
  name = ARGV[1] .. '-' .. n
end
if redis.call('HGET', KEYS[2], name) == ARGV[2] then had = 1 else redis.call('DEL', ARGV[5] .. 'inbox:' .. name) end
redis.call('HSET', KEYS[2], name, ARGV[2])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), name)
redis.call('HSETNX', KEYS[3], 'epoch', tostring(now))
return {'ok', name, redis.call('HGET', KEYS[3], 'epoch'), had}
`;

/** Renews a server's lease. KEYS: nodes, boots, its inbox. ARGV: node, boot, lease ms. 0 when it was taken for lost. */
const BEAT = `
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
${NOW}
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[3], tonumber(ARGV[3]) * 15)
return 1
`;

/**
 * Takes every server whose lease ended for lost: its names are freed and its
 * announced members leave (reason \`lost\`). KEYS: nodes, boots, names, log,
 * info. ARGV: stream length. Returns how many servers went.
 */
const REAP = `
${NOW}
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
if #dead == 0 then return 0 end
local gone = {}
for _, d in ipairs(dead) do
  redis.call('ZREM', KEYS[1], d)
  redis.call('HDEL', KEYS[2], d)
  gone[d] = true
end
local all = redis.call('HGETALL', KEYS[3])
for j = 1, #all, 2 do
  local d, s, a, name = all[j + 1]:match('${SPLIT}')
  if d and (gone[d] or redis.call('HEXISTS', KEYS[2], d) == 0) then
    redis.call('HDEL', KEYS[3], all[j])
    redis.call('HDEL', KEYS[5], all[j])
    if a == '1' then
      redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[1], '*', 't', 'leave', 'f', name, 'x', 'lost', 'n', d, 's', s, 'q', '0')
    end
  end
end
return #dead
`;

/** A server that stops: it and its names go. KEYS: nodes, boots, names, info. ARGV: node, boot. */
const UNREGISTER = `
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
local all = redis.call('HGETALL', KEYS[3])
local head = ARGV[1] .. '\\t'
for j = 1, #all, 2 do
  if all[j + 1]:sub(1, #head) == head then redis.call('HDEL', KEYS[3], all[j]) redis.call('HDEL', KEYS[4], all[j]) end
end
return 1
`;

class Script {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash("sha1").update(source).digest("hex");
  }

  /** EVALSHA, and EVAL when Redis does not have it (a restarted Redis has no scripts). */
  async run(link: RedisLink, keys: string[], args: string[]): Promise<Reply> {
    const rest = [String(keys.length), ...keys, ...args];
    try {
      return await link.call("EVALSHA", [this.sha, ...rest]);
    } catch (error) {
      if (!/NOSCRIPT/.test((error as Error).message)) throw error;
      return link.call("EVAL", [this.source, ...rest]);
    }
  }
}

export const scripts = {
  ops: new Script(OPS),
  register: new Script(REGISTER),
  beat: new Script(BEAT),
  reap: new Script(REAP),
  unregister: new Script(UNREGISTER),
};
