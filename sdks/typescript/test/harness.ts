/**
 * Real `talos up` processes for the end-to-end tests: temp homes, the ready line read
 * from stdout (then stdout kept drained), killed at teardown. Waits poll for progress
 * under a generous overall deadline; nothing sleeps a fixed time to wait for state.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from "node:child_process";
import { existsSync, openSync, closeSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";

import { Talos } from "../src/index.js";

export const PASS = "typescript-sdk-test-passphrase";
export const TCP0 = "/ip4/127.0.0.1/tcp/0";

/** `$TALOS_BIN`, else the debug build under `$CARGO_TARGET_DIR` (default `~/.cache/talos-target`). */
export function talosBin(): string {
  if (process.env.TALOS_BIN) return process.env.TALOS_BIN;
  const target = process.env.CARGO_TARGET_DIR || join(homedir(), ".cache", "talos-target");
  return join(target, "debug", "talos");
}

/** Why the e2e tests cannot run here (no binary), or undefined. Fails instead with TALOS_E2E=require. */
export function skipReason(): string | undefined {
  const b = talosBin();
  if (existsSync(b)) return undefined;
  if (process.env.TALOS_E2E === "require") throw new Error(`no talos binary at ${b} (set TALOS_BIN)`);
  return `no talos binary at ${b} (set TALOS_BIN, or build it)`;
}

/** `check()` until it returns something other than undefined/null/false, else fail. */
export async function poll<T>(what: string, check: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await check();
    if (got !== undefined && got !== null && got !== false) return got as T;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50); // the pace of polling, not a wait for state
  }
}

export function nodeEnv(): NodeJS.ProcessEnv {
  return { ...process.env, TALOS_PASSPHRASE: PASS, RUST_LOG: "info,libp2p_kad=warn" };
}

/** One `talos --home HOME ARGS...` run to completion. */
export function talos(home: string, args: string[], stdin?: string): SpawnSyncReturns<string> {
  return spawnSync(talosBin(), ["--home", home, ...args], {
    input: stdin,
    encoding: "utf8",
    env: nodeEnv(),
    timeout: 120_000,
  });
}

export interface Ready {
  event: string;
  did: string;
  peerId: string;
  listen: string[];
  api: string;
  [k: string]: unknown;
}

export class NodeProc {
  constructor(
    readonly home: string,
    readonly proc: ChildProcess,
    readonly ready: Ready,
  ) {}

  get did(): string {
    return this.ready.did;
  }
  get peerId(): string {
    return this.ready.peerId;
  }
  get addr(): string {
    const a = this.ready.listen[0];
    if (!a) throw new Error("the node listens nowhere");
    return a;
  }

  client(): Talos {
    return Talos.connect({ home: this.home });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise((resolve) => this.proc.once("exit", resolve));
      this.proc.kill("SIGKILL");
      await exited;
    }
  }
}

/** `talos init` (no mDNS, the network on loopback TCP, the API on `api`) and `talos up`. */
export async function startNode(root: string, name: string, opts: { bootstrap?: string; api?: string } = {}): Promise<NodeProc> {
  const home = join(root, name);
  const flags = ["--mdns", "false", "--api", opts.api ?? "127.0.0.1:0", "--listen", TCP0];
  if (opts.bootstrap) flags.push("--bootstrap", opts.bootstrap);
  const init = talos(home, ["init", ...flags]);
  if (init.status !== 0) throw new Error(`init failed: ${init.stderr}`);
  const log = openSync(join(home, "node.log"), "a");
  const proc = spawn(talosBin(), ["--home", home, "up"], {
    stdio: ["ignore", "pipe", log],
    env: nodeEnv(),
  });
  closeSync(log);
  // Every line is read, so the node never blocks on a full pipe.
  const lines = createInterface({ input: proc.stdout! });
  const first = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line from ${home} in 90 s`)), 90_000);
    lines.once("line", (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`talos up exited early (${code}):\n${readFileSync(join(home, "node.log"), "utf8").slice(-3000)}`));
    });
  });
  let line: string;
  try {
    line = await first;
  } catch (e) {
    proc.kill("SIGKILL");
    throw e;
  }
  lines.on("line", () => undefined);
  const ready = JSON.parse(line) as Ready;
  if (ready.event !== "ready") throw new Error(`not a ready line: ${line}`);
  return new NodeProc(home, proc, ready);
}

/** Whether `a` lists `b` among its connected peers. */
export async function connected(a: NodeProc, b: NodeProc): Promise<boolean> {
  const r = await a.client().api.GET("/v1/peers");
  const list = (r.data as { connected?: string[] } | undefined)?.connected ?? [];
  return list.includes(b.peerId);
}

/**
 * A (the caller, API on loopback TCP) and B (the callee, bootstrapped from A, API on its
 * home's Unix socket, the node's default), connected to each other.
 */
export async function startPair(root: string): Promise<[NodeProc, NodeProc]> {
  const a = await startNode(root, "a");
  let b: NodeProc;
  try {
    b = await startNode(root, "b", { bootstrap: a.addr, api: "unix" });
  } catch (e) {
    await a.stop();
    throw e;
  }
  await poll("A and B to connect", async () => (await connected(a, b)) && (await connected(b, a)));
  return [a, b];
}
