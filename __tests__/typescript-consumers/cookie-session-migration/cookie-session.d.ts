// cookie-session's types for the time of the migration, without @types/cookie-session: that
// package adds `session` to every Express request, which clashes with ours (TS2320) under
// `skipLibCheck: false`. tsconfig.json's "paths" points "cookie-session" here.
declare module "cookie-session" {
  import type { RequestHandler } from "express";
  export type CookieSessionOptions = {
    name?: string;
    keys?: string[];
    secret?: string;
    maxAge?: number;
    sameSite?: "strict" | "lax" | "none" | boolean;
    secure?: boolean;
    httpOnly?: boolean;
    domain?: string;
    path?: string;
  };
  export default function cookieSession(options: CookieSessionOptions): RequestHandler;
}
