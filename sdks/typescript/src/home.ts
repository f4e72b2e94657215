/**
 * Where a node's API is: the home's `api-addr` (written by a running node), else the
 * `api` setting of its `config.toml`, and the bearer token in `api-token`. The home is
 * the given directory, else `$TALOS_HOME`, else `~/.talos` (as the CLI resolves it).
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/**
 * How to reach one node's API: a base URL, and a Unix socket when it listens on one
 * (then the URL's host is only the Host header).
 */
export interface Endpoint {
  readonly baseUrl: string;
  readonly socketPath?: string | undefined;
  readonly token: string;
}

/** The given directory, else `$TALOS_HOME`, else `~/.talos`. */
export function resolveHome(home?: string): string {
  if (home) return home;
  const env = process.env.TALOS_HOME;
  if (env) return env;
  return join(homedir(), ".talos");
}

/** `unix` (the home's api.sock), `unix:PATH` or `host:port` → base URL and socket. */
export function parseAddr(addr: string, home: string): { baseUrl: string; socketPath?: string } {
  const a = addr.trim();
  if (a === "unix") return { baseUrl: "http://localhost", socketPath: join(home, "api.sock") };
  if (a.startsWith("unix:")) return { baseUrl: "http://localhost", socketPath: a.slice("unix:".length) };
  if (a.startsWith("http://") || a.startsWith("https://")) return { baseUrl: a.replace(/\/+$/, "") };
  return { baseUrl: `http://${a}` };
}

/** The `api` setting of a config.toml (a top-level `api = "..."` line), else `unix`. */
export function configuredApi(configToml: string): string {
  for (const line of configToml.split(/\r?\n/)) {
    if (/^\s*\[/.test(line)) break; // past the top-level keys
    const m = /^\s*api\s*=\s*(?:"([^"]*)"|'([^']*)')\s*(?:#.*)?$/.exec(line);
    if (m) return m[1] ?? m[2] ?? "unix";
  }
  return "unix";
}

/** The endpoint of the node whose home is `home` (see {@link resolveHome}). */
export function endpoint(home?: string): Endpoint {
  const h = resolveHome(home);
  let addr: string;
  try {
    addr = readFileSync(join(h, "api-addr"), "utf8");
  } catch {
    let config: string;
    try {
      config = readFileSync(join(h, "config.toml"), "utf8");
    } catch (e) {
      throw new Error(`${h} is not a talos home (no api-addr or config.toml; run \`talos init\`)`, { cause: e });
    }
    addr = configuredApi(config);
  }
  let token: string;
  try {
    token = readFileSync(join(h, "api-token"), "utf8").trim();
  } catch (e) {
    throw new Error(`no API token in ${h} (api-token; run \`talos init\`)`, { cause: e });
  }
  return { ...parseAddr(addr, h), token };
}
