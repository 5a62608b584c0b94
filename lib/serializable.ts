/** The JSON values a cookie session can hold (the seed's `Serializable`). */
export type Serializable =
  | string
  | number
  | boolean
  | null
  | Serializable[]
  | { [key: string]: Serializable };

/**
 * Why `value` is not `Serializable`, as `{ path, reason }`, or `undefined` when it is.
 * JSON.stringify would not fail on most of these: it drops or rewrites them, and the
 * user would read back something else. We refuse instead of losing data quietly.
 */
export function findNotSerializable(
  value: unknown,
  path: string,
  ancestors: object[] = [],
): { path: string; reason: string } | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value) ? undefined : { path, reason: `${value} is not a finite number` };
    case "undefined":
      return { path, reason: "it is undefined (use unset() to remove a key)" };
    case "object":
      break;
    default:
      return { path, reason: `a ${typeof value} is not JSON` };
  }
  if (value === null) return undefined;
  if (ancestors.includes(value)) return { path, reason: "it contains a circular reference" };
  const nested = [...ancestors, value];
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const found = findNotSerializable(value[index], `${path}[${index}]`, nested);
      if (found) return found;
    }
    return undefined;
  }
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    const kind = (value as object).constructor?.name ?? "class instance";
    return { path, reason: `a ${kind} is not a plain object` };
  }
  for (const [key, nestedValue] of Object.entries(value)) {
    const found = findNotSerializable(nestedValue, `${path}.${key}`, nested);
    if (found) return found;
  }
  return undefined;
}
