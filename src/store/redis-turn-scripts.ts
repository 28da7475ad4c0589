import { createHash } from 'node:crypto';

/*
 * The conversation's line in Redis. KEYS: 1 ticket (last place handed out), 2 serving (last ticket
 * whose turn is over), 3 hb (holder's ticket; lives for one heartbeat, renewed by the holder),
 * 4 line (sorted set of tickets still waiting). ARGV: 1 ticket, 2 heartbeat ms, 3 lifetime ms of the
 * line's keys, 4 wake channel, 5 (check only) the serving value the waiter saw a heartbeat ago.
 * Every script runs atomically, so deciding and acting (take, skip, hand on) cannot interleave.
 */
const PRELUDE = `
local ticket = tonumber(ARGV[1])
-- serving, resynchronised when missing. A missing serving record with tickets taken means it was
-- evicted or expired while the line was in use; read as 0, every waiter would wait for tickets that
-- will never be released again (one dead-holder skip, a heartbeat each: ticket x 15 s). The line
-- restarts just before the holder (its heartbeat names it) or else the earliest ticket still waiting.
local function current()
  local raw = redis.call('GET', KEYS[2])
  if raw then return tonumber(raw) end
  local first = tonumber(redis.call('GET', KEYS[3]) or '0')
  if first == 0 then
    local waiting = redis.call('ZRANGE', KEYS[4], 0, 0)
    first = tonumber(waiting[1] or '0')
    if first == 0 then first = tonumber(redis.call('GET', KEYS[1]) or '0') + 1 end
  end
  redis.call('SET', KEYS[2], first - 1, 'PX', ARGV[3])
  return first - 1
end
local function take(t)
  redis.call('ZREM', KEYS[4], t)
  redis.call('SET', KEYS[3], t, 'PX', ARGV[2])
end
-- Ticket s is over: serving moves to it and past every later ticket nobody waits for any more
-- (given up at its deadline), and the waiters are told the new value.
local function settle(s)
  local top = tonumber(redis.call('GET', KEYS[1]) or '0')
  while s < top and not redis.call('ZSCORE', KEYS[4], s + 1) do s = s + 1 end
  redis.call('SET', KEYS[2], s, 'PX', ARGV[3])
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', s)
  redis.call('PUBLISH', ARGV[4], s)
  return s
end
`;

/** Takes a place; takes the turn at once when nobody is ahead. Returns {ticket, serving, 1 if held}. */
const JOIN = `${PRELUDE}
local t = redis.call('INCR', KEYS[1])
-- An evicted ticket counter restarts at 1, below tickets still in use: continue after them instead.
local floor = math.max(tonumber(redis.call('GET', KEYS[2]) or '0'), tonumber(redis.call('GET', KEYS[3]) or '0'),
  tonumber(redis.call('ZREVRANGE', KEYS[4], 0, 0)[1] or '0'))
if t <= floor then t = floor + 1; redis.call('SET', KEYS[1], t) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[4], t, t)
redis.call('PEXPIRE', KEYS[4], ARGV[3])
local s = current()
if s == t - 1 then take(t); return {t, s, 1} end
return {t, s, 0}`;

/**
 * A waiter looks again: {1, serving} when the turn is now its own (taken), {0, serving} to keep
 * waiting, {-1, serving} when the line went past it. With ARGV[5] equal to serving and no heartbeat,
 * the holder has neither renewed nor handed on for a whole heartbeat: presumed dead, skipped.
 */
const CHECK = `${PRELUDE}
local s = current()
if s >= ticket then redis.call('ZREM', KEYS[4], ticket); return {-1, s} end
if s == ticket - 1 then take(ticket); return {1, s} end
if redis.call('EXISTS', KEYS[3]) == 0 and ARGV[5] == tostring(s) then
  redis.call('ZREM', KEYS[4], s + 1)
  s = settle(s + 1)
  if s == ticket - 1 then take(ticket); return {1, s} end
end
return {0, s}`;

/** The holder renews its heartbeat, only while the turn is still its own: 1 renewed, 0 lost. */
const RENEW = `${PRELUDE}
if current() ~= ticket - 1 then return 0 end
redis.call('SET', KEYS[3], ticket, 'PX', ARGV[2])
return 1`;

/** Leaves the line: hands the turn on when it was this ticket's, or gives up the place while waiting. */
const LEAVE = `${PRELUDE}
redis.call('ZREM', KEYS[4], ticket)
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
if current() == ticket - 1 then settle(ticket) end
return 1`;

export interface TurnScript {
  source: string;
  sha: string;
}

const script = (source: string): TurnScript => ({
  source,
  sha: createHash('sha1').update(source).digest('hex'),
});

export const TURN_SCRIPTS = {
  join: script(JOIN),
  check: script(CHECK),
  renew: script(RENEW),
  leave: script(LEAVE),
};
