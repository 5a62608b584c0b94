/**
 * `createTable: true`: the table and its index, created if missing, once per storage, before
 * its first statement.
 */
import type { PostgresQueryable } from "./pool-connection.js";
import type { SessionTable } from "./session-table.js";

/**
 * Creates the table if it is missing; `done` once it has succeeded.
 *
 * @example
 * if (!creation.done) await creation.ensure();
 */
export type TableCreation = {
  readonly done: boolean;
  ensure(): Promise<void>;
};

/**
 * The creation of `table`, run on a connection by `onConnection`: the first caller runs it,
 * callers meanwhile wait for the same run, and after a failure (the database was down) the
 * next caller tries again.
 *
 * Several app servers starting at once take turns: the statements run in one transaction
 * holding an advisory lock, because two concurrent `CREATE TABLE IF NOT EXISTS` can still
 * fail (both see no table, one then hits a duplicate catalog entry).
 *
 * @example
 * const creation = tableCreation(table, (work) => onPoolConnection(pool, 2000, work));
 * await creation.ensure();
 */
export function tableCreation(table: SessionTable, onConnection: (work: (connection: PostgresQueryable) => Promise<void>) => Promise<void>): TableCreation {
  let done = false;
  let running: Promise<void> | undefined;
  const create = async (connection: PostgresQueryable) => {
    await connection.query({ text: "BEGIN" });
    await connection.query({ text: "SELECT pg_advisory_xact_lock($1::bigint)", values: [table.creationLockKey] });
    for (const text of table.definition) await connection.query({ text });
    await connection.query({ text: "COMMIT" });
  };
  return {
    get done() {
      return done;
    },
    ensure() {
      running ??= onConnection(create).then(
        () => {
          done = true;
        },
        (error: unknown) => {
          running = undefined;
          throw error;
        },
      );
      return running;
    },
  };
}
