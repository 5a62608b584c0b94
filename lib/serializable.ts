import { SessionValueNotSerializableError } from "./errors.js";

/**
 * The JSON values a cookie session can hold (`Serializable` of Remastered's sessions API).
 *
 * @example
 * const user: Serializable = { id: 1, name: "Ada", roles: ["admin"], lastSeen: new Date().toISOString() };
 */
export type Serializable =
  | string
  | number
  | boolean
  | null
  | Serializable[]
  | { [key: string]: Serializable };

/**
 * Deeper values are refused: no real form or record nests this far, and a body parsed
 * from a hostile request can nest thousands of levels (JSON.stringify then overflows the stack).
 */
export const maxValueDepth = 100;
/** Values (array items, object properties) in one session value at most: the check stops there. */
export const maxValueCount = 100_000;

/**
 * Throws `SessionValueNotSerializableError` naming `key` unless `value` is `Serializable`
 * and within the depth and size bounds. JSON.stringify would not fail on most of what is
 * refused: it drops or rewrites it, and the user would read back something else.
 *
 * The walk is linear and bounded: each value is visited once, and it stops at the first
 * problem, at `maxValueDepth` levels or after `maxValueCount` values.
 */
export function assertSerializable(key: string, value: unknown): void {
  const problem = new SerializableCheck().find(value);
  if (problem) throw new SessionValueNotSerializableError(key, pathOf(key, problem.keys), problem.reason);
}

/** `value` as JSON, after `assertSerializable`: what storages that keep JSON write for one key. */
export function serializeSessionValue(key: string, value: unknown): string {
  assertSerializable(key, value);
  return JSON.stringify(value);
}

type Problem = { keys: (string | number)[]; reason: string };

/** One walk over one value; its stacks are kept so that a path is built only when something is wrong. */
class SerializableCheck {
  /** The objects being visited, outermost first: a value found among them is a cycle. */
  readonly #ancestors: object[] = [];
  /** The property names and array indexes leading to the value being visited. */
  readonly #keys: (string | number)[] = [];
  #count = 0;

  find(value: unknown): Problem | undefined {
    if (++this.#count > maxValueCount) return this.#problem(`it holds more than ${maxValueCount} values`);
    switch (typeof value) {
      case "string":
      case "boolean":
        return undefined;
      case "number":
        return Number.isFinite(value) ? undefined : this.#problem(`${value} is not a finite number`);
      case "undefined":
        return this.#problem("it is undefined (use unset() to remove a key)");
      case "object":
        return value === null ? undefined : this.#findInObject(value);
      default:
        return this.#problem(`a ${typeof value} is not JSON`);
    }
  }

  #findInObject(value: object): Problem | undefined {
    if (this.#ancestors.length >= maxValueDepth) return this.#problem(`it is nested more than ${maxValueDepth} levels deep`);
    if (this.#ancestors.includes(value)) return this.#problem("it contains a circular reference");
    if (!Array.isArray(value)) {
      const prototype = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) {
        return this.#problem(`a ${(value as object).constructor?.name ?? "class instance"} is not a plain object`);
      }
    }
    this.#ancestors.push(value);
    const problem = Array.isArray(value) ? this.#findInArray(value) : this.#findInProperties(value as Record<string, unknown>);
    this.#ancestors.pop();
    return problem;
  }

  #findInArray(array: unknown[]): Problem | undefined {
    for (let index = 0; index < array.length; index++) {
      const problem = this.#findAt(index, array[index]);
      if (problem) return problem;
    }
    return undefined;
  }

  #findInProperties(object: Record<string, unknown>): Problem | undefined {
    for (const key of Object.keys(object)) {
      const problem = this.#findAt(key, object[key]);
      if (problem) return problem;
    }
    return undefined;
  }

  #findAt(key: string | number, value: unknown): Problem | undefined {
    this.#keys.push(key);
    const problem = this.find(value);
    this.#keys.pop();
    return problem;
  }

  #problem(reason: string): Problem {
    return { keys: [...this.#keys], reason };
  }
}

/** `user.roles[0]`: the session key, then each property and index down to the refused value. */
function pathOf(key: string, keys: (string | number)[]): string {
  return keys.reduce<string>((path, next) => (typeof next === "number" ? `${path}[${next}]` : `${path}.${next}`), key);
}
