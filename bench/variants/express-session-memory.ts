/** express-session with its default MemoryStore: the session in process memory, a signed id in the cookie. */
import { expressSessionVariant } from "./express-session-common.js";
import type { VariantFactory } from "../routes.js";

export const expressSessionMemory: VariantFactory = () => expressSessionVariant(undefined);
