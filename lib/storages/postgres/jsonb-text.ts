/**
 * Session values to and from the text of `jsonb` objects. jsonb holds any JSON except two
 * kinds of string: one with the NUL character, and one with half of a UTF-16 surrogate pair
 * (a cut emoji). Those are refused here, naming the key, before any SQL is sent: otherwise
 * the database's own error would reach the user.
 */
import { SessionValueNotSerializableError } from "../../errors.js";
import type { SessionSnapshot } from "../../session-changes.js";

/**
 * The jsonb object `{ key: value, ... }` for entries whose values are JSON text as
 * `JSON.stringify` writes it. Built as text: no object is made, so `__proto__` is a key like any other.
 *
 * @throws SessionValueNotSerializableError for a key or value jsonb cannot hold.
 *
 * @example
 * jsonbObjectOf([["user", '{"id":1}'], ["__proto__", '"x"']]); // '{"user":{"id":1},"__proto__":"x"}'
 */
export function jsonbObjectOf(entries: Iterable<[string, string]>): string {
  let text = "";
  for (const [key, json] of entries) {
    const quotedKey = JSON.stringify(key);
    refuseWhatJsonbCannotHold(key, quotedKey, json);
    text += `${text === "" ? "" : ","}${quotedKey}:${json}`;
  }
  return `{${text}}`;
}

/**
 * The jsonb object `{ key: true, ... }` that marks `keys` as flashes.
 *
 * @example
 * flashMarksOf(["message"]); // '{"message":true}'
 */
export function flashMarksOf(keys: Iterable<string>): string {
  let text = "";
  for (const key of keys) {
    const quotedKey = JSON.stringify(key);
    refuseWhatJsonbCannotHold(key, quotedKey, "true");
    text += `${text === "" ? "" : ","}${quotedKey}:true`;
  }
  return `{${text}}`;
}

/**
 * The snapshot of a row: each key's value as JSON text the way `JSON.stringify` writes it
 * (jsonb has its own spacing and key order), which is what change detection compares.
 *
 * @example
 * snapshotOfRow('{"user": {"id": 1}}', '{}'); // { content: Map { "user" => '{"id":1}' }, flashedKeys: Set {} }
 */
export function snapshotOfRow(dataText: string, flashedText: string): SessionSnapshot {
  const data = JSON.parse(dataText) as Record<string, unknown>;
  const content = new Map<string, string>();
  // Object.entries, not data[key]: a "__proto__" key is an own property here, and stays one.
  for (const [key, value] of Object.entries(data)) content.set(key, JSON.stringify(value));
  const flashedKeys = new Set(Object.keys(JSON.parse(flashedText) as Record<string, unknown>).filter((key) => content.has(key)));
  return { content, flashedKeys };
}

function refuseWhatJsonbCannotHold(key: string, quotedKey: string, json: string): void {
  // Both show up in JSON.stringify's output only as \u escapes, which nearly no value has.
  if (!quotedKey.includes("\\u") && !json.includes("\\u")) return;
  const keyProblem = unstorableEscapeIn(quotedKey);
  if (keyProblem) throw new SessionValueNotSerializableError(key, key, `its key holds ${keyProblem}`);
  if (!unstorableEscapeIn(json)) return;
  const found = findUnstorableString(JSON.parse(json), []);
  const path = (found?.path ?? []).reduce<string>((path, next) => (typeof next === "number" ? `${path}[${next}]` : `${path}.${next}`), key);
  throw new SessionValueNotSerializableError(key, path, found?.problem ?? "it holds text that PostgreSQL's jsonb cannot store");
}

const nulProblem = "the NUL character (\\u0000), which PostgreSQL's jsonb cannot store; remove it or encode the text (e.g. base64)";
const surrogateProblem =
  "half of a UTF-16 surrogate pair (a cut emoji?), which PostgreSQL's jsonb cannot store; cut strings by code point, not by code unit";

/** What jsonb refuses in the first escape jsonb refuses in JSON text written by `JSON.stringify`, if any. */
function unstorableEscapeIn(json: string): string | undefined {
  for (let index = json.indexOf("\\"); index !== -1; ) {
    if (json[index + 1] !== "u") {
      index = json.indexOf("\\", index + 2); // \" \\ \n ...: the escaped character is skipped with it
      continue;
    }
    const code = Number.parseInt(json.slice(index + 2, index + 6), 16);
    if (code === 0) return nulProblem;
    // JSON.stringify writes whole surrogate pairs as they are: an escaped one is alone.
    if (code >= 0xd800 && code <= 0xdfff) return surrogateProblem;
    index = json.indexOf("\\", index + 6);
  }
  return undefined;
}

const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Where in `value` the first string (value or property name) jsonb cannot store is, and why. */
function findUnstorableString(value: unknown, path: (string | number)[]): { path: (string | number)[]; problem: string } | undefined {
  const problemOf = (text: string) => (text.includes("\u0000") ? nulProblem : loneSurrogate.test(text) ? surrogateProblem : undefined);
  if (typeof value === "string") {
    const problem = problemOf(value);
    return problem ? { path, problem: `it holds ${problem}` } : undefined;
  }
  if (value === null || typeof value !== "object") return undefined;
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((item, index) => [index, item]) : Object.entries(value);
  for (const [name, item] of entries) {
    const keyProblem = typeof name === "string" ? problemOf(name) : null;
    if (keyProblem) return { path: [...path, name], problem: `the property name holds ${keyProblem}` };
    const found = findUnstorableString(item, [...path, name]);
    if (found) return found;
  }
  return undefined;
}
