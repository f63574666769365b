/**
 * Every built-in timing and limit that is not part of the config file, named, in one place
 * (what the config file sets has its default in schemas/bots.schema.json). Code and doc
 * comments refer to these names instead of repeating the numbers. Imports nothing.
 */

/** How long in-flight replies get to finish on shutdown (and a removed or restarted bot on
 * reload), in ms. */
export const DEFAULT_SHUTDOWN_DEADLINE_MS = 10_000;
/** Time aborted replies get to unwind after the shutdown deadline, in ms. */
export const ABORT_GRACE_MS = 2_000;
/** The first part of ABORT_GRACE_MS, in ms: at the deadline the model requests (and the Bot API
 * calls begun before it) are aborted, and replies cut off may still post `replies.cutOff`
 * until this much later; then every Bot API call is aborted and the rest is for unwinding. */
export const CUT_OFF_GRACE_MS = 1_500;

/** Longest wait for getMe when a bot starts, before it is retried, in ms. */
export const DEFAULT_INIT_TIMEOUT_MS = 15_000;
/** First wait before restarting a bot's polling after a 409 or a network failure, in ms;
 * doubles each time up to DEFAULT_RETRY_MAX_MS. */
export const DEFAULT_RETRY_INITIAL_MS = 1_000;
/** Longest wait between restarts of a bot's polling, in ms. */
export const DEFAULT_RETRY_MAX_MS = 60_000;
/** A runner that polled this long before failing was healthy: the backoff starts over, in ms. */
export const HEALTHY_RUN_MS = 60_000;
/** Long-poll timeout of getUpdates, in seconds. */
export const DEFAULT_POLL_TIMEOUT_SECONDS = 30;
/** How often "typing…" is re-sent while the model works, in ms (Telegram shows it ~5 s). */
export const DEFAULT_TYPING_INTERVAL_MS = 4_000;
/** Deadline of `botfleet check --online`'s getMe per bot, in ms. */
export const TOKEN_CHECK_TIMEOUT_MS = 10_000;
/** Quick retries of a Bot API call that failed on the network, after the first try. */
export const NETWORK_RETRY_ATTEMPTS = 3;
/** First wait before such a retry, in ms; doubles each time. */
export const NETWORK_RETRY_INITIAL_MS = 500;
/** Retries of a Bot API call answered 429 or 5xx (by @grammyjs/auto-retry). */
export const API_RETRY_ATTEMPTS = 5;
/** Longest retry_after such a retry waits, in seconds; a longer one fails the call. */
export const API_RETRY_MAX_DELAY_SECONDS = 60;

/** Quiet time after a config file change before it is read, and between the reads that must
 * agree, in ms. */
export const DEFAULT_RELOAD_DEBOUNCE_MS = 200;
/** Most reads of a config file that is still changing before it is loaded anyway. */
export const RELOAD_SETTLE_TRIES = 10;
/** Most YAML alias expansions in a config file (guards against "billion laughs"). */
export const MAX_YAML_ALIAS_COUNT = 100;

/** Deadline of one storage call, in ms; a late call fails with a retryable StoreError. */
export const DEFAULT_OPERATION_TIMEOUT_MS = 3_000;
/** Deadline for connecting to storage and the start-up round trip, in ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** First pause between Redis reconnect attempts, in ms; doubles up to the max below. */
export const RECONNECT_BASE_DELAY_MS = 100;
/** Longest pause between Redis reconnect attempts after a lost connection, in ms. */
export const DEFAULT_RECONNECT_MAX_DELAY_MS = 2_000;

/** Deadline of /readyz's storage round trip, in ms; past it storage counts as unreachable. */
export const READY_STORAGE_TIMEOUT_MS = 1_000;
/** How long /readyz reuses a storage round trip's result, in ms (scrapes stay cheap). */
export const READY_STORAGE_CACHE_MS = 1_000;
/** Deadline of `botfleet health`'s request to /readyz, in ms. */
export const HEALTH_CHECK_TIMEOUT_MS = 5_000;
/** Most intermediate updates (edits, drafts) of streamed replies one bot starts per second,
 * over all its chats (Telegram allows a bot about 30 messages per second); an update past it
 * is skipped and its text goes into the next one. Final texts always go. */
export const STREAM_UPDATES_PER_SECOND = 25;

/** How often a held SQLite store lock file is touched (store-lock.ts). */
export const STORE_LOCK_TOUCH_MS = 10_000;
/** A SQLite store lock untouched this long is stale, whoever wrote it. */
export const STORE_LOCK_STALE_MS = 30_000;

/** A replica's lease on a bot lasts this long unless renewed (replicas.ts). */
export const LEASE_TTL_MS = 6_000;
/** A replica journals the updates it fetches in Redis for this long (after the last batch)… */
export const JOURNAL_TTL_MS = 120_000;
/** …at most this many per bot (the newest): a safety bound, as the journal holds only updates
 * not yet handled (each write removes the handled ones), which the fleet limit keeps far fewer. */
export const JOURNAL_MAX_UPDATES = 1_000;
/** How often a replica renews each lease it holds. */
export const LEASE_RENEW_MS = 2_000;
/** How often a replica renews what is due, announces itself, and rebalances. */
export const LEASE_TICK_MS = 1_000;
/** A held bot whose lease was last renewed this long ago stops polling (well before the TTL):
 * another replica may take it once the TTL ran out. */
export const LEASE_SAFE_MS = 4_000;

/** window.summary: most turns past `window.maxTurns` kept while they wait for a summary (when
 * summaries fail again and again); beyond, the oldest are dropped, each time with a warning. */
export const UNSUMMARISED_TURNS_LIMIT = 50;

/** Fleet-wide limit (fleet-limit.ts): most runs (answers being made) at once over every bot of
 * the process. A run mostly waits for the model, so runs at once = answers per second × model
 * time: 256 keeps a 1 s model at about this 2-core machine's ceiling (300-400 answers/s) and one
 * bot's `telegram.maxConcurrentUpdates` default (100, bench scenario 3: 100 chats, 1 s model)
 * whole. Measured with bench scenario 2 (50 bots × 30 msg/s, 50 ms model): peak RSS 784 MB
 * before (50 × 100 runs, 50 × 1000 waiting) and 248 MB with 256; 64 gave about the same (227 MB):
 * what remains is garbage between major GCs (heap used swings ~35 → ~125 MB), not held updates. */
export const FLEET_MAX_RUNNING = 256;
/** Fleet-wide limit: most updates fetched and waiting for their conversation's turn over every
 * bot; while reached, no bot fetches (a fetch asks for at most an even share of it per bot,
 * so 6 per poll with 50 bots, 100 for one bot alone). As many as the runs: enough to start the
 * next runs at once, small next to what 50 bots held before (up to 50 × 1,000). */
export const FLEET_MAX_WAITING = 256;
