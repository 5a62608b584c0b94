/**
 * Deleting expired rows: in batches (each statement short, whatever the backlog), by one app
 * server at a time (an advisory lock), on demand (`prune()`, e.g. from a cron job) and in the
 * background on a jittered interval.
 */
import type { PostgresResult, PostgresStatement } from "./pool-connection.js";
import { statement, type SessionTable } from "./session-table.js";

/** Rows one statement deletes at most: a long backlog is pruned in short steps (a few ms each), never in one long transaction. */
export const pruneBatchSize = 5_000;

/**
 * Deletes the rows of `table` that expired by `now`, batch after batch, and resolves to how
 * many. Each batch takes the table's prune lock for its own short transaction; when another
 * app server holds it, that batch deletes nothing and pruning stops here (the other one is at it).
 *
 * @example
 * const deleted = await pruneExpiredRows(table, (statement) => pool.query(statement), Date.now());
 */
export async function pruneExpiredRows(
  table: SessionTable,
  query: (statement: PostgresStatement) => Promise<PostgresResult>,
  now: number,
): Promise<number> {
  let deleted = 0;
  for (;;) {
    const { rowCount } = await query(statement(table.pruneBatch, [new Date(now), table.pruneLockKey, pruneBatchSize]));
    deleted += rowCount ?? 0;
    if ((rowCount ?? 0) < pruneBatchSize) return deleted;
  }
}

/**
 * A background pruning that runs until stopped.
 *
 * @example
 * const pruning: BackgroundPruning = startBackgroundPruning(prune, 300);
 * await pruning.stop();
 */
export type BackgroundPruning = {
  /** Stops the timer, and waits for a prune that is running. */
  stop(): Promise<void>;
};

/**
 * Runs `prune` every `intervalSeconds`, each wait drawn between half and one and a half of
 * it: app servers started together (a deploy) drift apart instead of pruning in step. The
 * timer is `unref`ed: it never keeps the process alive. A failure is reported as a process
 * warning (`SessionPruneWarning`) and the next run tries again.
 *
 * @example
 * const pruning = startBackgroundPruning(() => storage.prune(), 300);
 * process.on("SIGTERM", () => pruning.stop());
 */
export function startBackgroundPruning(prune: () => Promise<unknown>, intervalSeconds: number, random: () => number = Math.random): BackgroundPruning {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const schedule = () => {
    timer = setTimeout(run, intervalSeconds * 1000 * (0.5 + random()));
    timer.unref();
  };
  const run = () => {
    running = prune()
      .then(
        () => undefined,
        (error: unknown) => {
          process.emitWarning(`Pruning expired sessions failed; the next run tries again: ${error instanceof Error ? error.message : String(error)}`, {
            type: "SessionPruneWarning",
            code: (error as { code?: string } | undefined)?.code,
          });
        },
      )
      .finally(() => {
        running = undefined;
        if (!stopped) schedule();
      });
  };

  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
