/**
 * `Talos`: one node's local agent API through the client generated from its OpenAPI
 * document (`src/generated/schema.ts`, with openapi-fetch). Each method is one typed
 * operation plus `ok`, which turns any answer that is not the documented success into
 * the typed error for its `kind` (errors.ts).
 */
import createClient, { type Client } from "openapi-fetch";
import WebSocket from "ws";

import {
  errorFor,
  NodeUnreachableError,
  TalosError,
} from "./errors.js";
import type { components, paths } from "./generated/schema.js";
import { endpoint, type Endpoint } from "./home.js";
import { unixSocketFetch } from "./transport.js";

type Schemas = components["schemas"];
export type NodeInfo = Schemas["NodeInfo"];
export type Capability = Schemas["Capability"];
export type Call = Schemas["Call"];
export type InvokeResult = Schemas["InvokeResult"];
export type Issued = Schemas["Issued"];
export type RevokeResult = Schemas["Revoked"];
export type Head = Schemas["Head"];
export type Checkpoint = Schemas["Checkpoint"];
export type InclusionProof = Schemas["InclusionProof"];
export type AuditEvent = Schemas["Event"];
export type WireMessage = Schemas["Message"];
export type Answer = Schemas["Answer"];
export type ReportFiled = Schemas["ReportFiled"];
export type Reputation = Schemas["Reputation"];
type Problem = Schemas["Problem"];
export type ApprovalAsk = Schemas["ApprovalAsk"];
export type ApprovalGiven = Schemas["ApprovalGiven"];
/** What a misbehaviour report says happened (crates/reputation/FORMAT.md). */
export type ReportKind = Schemas["FileReport"]["kind"];

/** A message from the inbox, its body decoded. */
export interface Message {
  /** Its inbox index (read from `index + 1` to get what follows). */
  readonly index: number;
  /** The sender's DID. */
  readonly from: string;
  /** The sender's sequence number. */
  readonly seq: number;
  /** The group (hex id) for a group message. */
  readonly group?: string | undefined;
  /** The body. */
  readonly data: Uint8Array;
  /** The body as UTF-8 text. */
  readonly text: string;
}

/** A page of the inbox and the index to read from next. */
export interface Inbox {
  readonly messages: Message[];
  readonly next: number;
}

/** A capability chain (tokens, root first), or what issue/delegate returned. */
export type ChainLike = readonly string[] | Pick<Issued, "chain">;

/** What a handler gets: the call as the node hands it over. */
export type CallHandler = (call: Call) => unknown;

export interface ConnectOptions {
  /** The node's home; else `$TALOS_HOME`, else `~/.talos`. */
  home?: string;
}

export interface InvokeOptions {
  /** The callee's DID. */
  to: string;
  resource: string;
  action: string;
  args?: Record<string, unknown>;
  /** The capability chain that authorizes the call (root first), or an `Issued`. */
  chain: ChainLike;
  /** With `atMs`: retry a call as the same call (a second run is refused as a replay). */
  nonce?: string;
  atMs?: number;
  /** The caller's W3C trace context. */
  traceparent?: string;
  signal?: AbortSignal;
}

export interface ServeOptions {
  /** Stops serving: the long-polls are aborted and calls in flight are answered first. */
  signal?: AbortSignal;
  /** How long one long-poll waits (ms, the node caps it at 60 s). */
  waitMs?: number;
  /** Told about an answer the node refused (default: console.warn). */
  onError?: (err: unknown, call: Call) => void;
}

/** How many call ids one `serve()` remembers having taken (the node holds at most 1,024 calls). */
const MAX_TAKEN = 8192;

/** The node accepts an agent's own failure kind when it is 1-32 of [a-z_]... */
const KIND = /^[a-z_]{1,32}$/;

/**
 * ...and not one of the node's own kinds: its refusals and its own failures (docs/api.md,
 * "Kinds an agent may not give"). The node refuses an answer that names one, so a caller
 * never takes an agent's failure for a refusal; such a kind is sent as `agent_error`.
 */
export const NODE_KINDS: ReadonlySet<string> = new Set([
  "ok", "rate_limited", "busy", "not_holder", "not_attested", "over_budget", "low_reputation", "denied",
  "pending", "not_approved",
  "unavailable",
  "agent_timeout", "unanswered",
  "bad_alg", "bad_header", "bad_signature", "bad_typ", "broken_chain", "empty_chain", "expired",
  "invocation_mismatch", "malformed_claims", "malformed_jws", "not_authorized", "not_yet_valid",
  "replay", "revoked", "too_deep", "too_large", "unknown_kid", "untrusted_root", "widening",
  "wrong_audience",
  // the node's API kinds (error::OWN_KINDS): a PeerUnreachableError re-thrown, say
  "bad_request", "unauthorized", "not_found", "peer_not_found", "no_chain", "peer_unreachable",
  "net", "anchor", "audit_failing", "stopping", "internal", "unknown_group", "not_creator",
  "group_conflict", "group_limit", "handshake_failed", "delivery", "bad_card",
]);

function chainOf(c: ChainLike): string[] {
  return Array.isArray(c) ? [...(c as readonly string[])] : [...(c as Pick<Issued, "chain">).chain];
}

function b64(data: Uint8Array | string): string {
  return (typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data)).toString("base64");
}

/** A message as the node sends it, with its body decoded. */
export function decodeMessage(m: WireMessage): Message {
  const data = new Uint8Array(Buffer.from(m.data ?? "", "base64"));
  return {
    index: m.index ?? 0,
    from: m.from ?? "",
    seq: m.seq ?? 0,
    group: m.group,
    data,
    text: Buffer.from(data).toString("utf8"),
  };
}

/**
 * A handler's outcome as the answer the node takes: its result, or (thrown) its message
 * with its `kind` when that is a valid kind (`agent_error` otherwise).
 */
export function answerFor(outcome: { result: unknown } | { thrown: unknown }): Answer {
  if ("thrown" in outcome) {
    const e = outcome.thrown;
    const kind = typeof e === "object" && e !== null ? (e as { kind?: unknown }).kind : undefined;
    const message =
      e instanceof Error ? e.message || e.name : typeof e === "string" ? e : JSON.stringify(e) ?? String(e);
    return {
      error: message || "the handler failed",
      kind: typeof kind === "string" && KIND.test(kind) && !NODE_KINDS.has(kind) ? kind : "agent_error",
    };
  }
  // A handler that returns nothing answers `null`.
  return { result: outcome.result === undefined ? null : outcome.result };
}

function isAbort(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as { name?: unknown }).name === "AbortError";
}

/** The generated client's answer: its data, or the typed error for the problem. */
async function ok<T>(
  where: string,
  p: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let r: { data?: T; error?: unknown; response: Response };
  try {
    r = await p;
  } catch (e) {
    if (isAbort(e)) throw e;
    throw new NodeUnreachableError("node_unreachable", 0, `${where}: ${String(e)} (is \`talos up\` running?)`, {}, {
      cause: e,
    });
  }
  if (!r.response.ok) throw errorFor(r.response.status, r.error);
  // 202 is a call held for approval (`pending`): its body is a problem document.
  if (r.response.status === 202) throw errorFor(202, r.data);
  return r.data as T;
}

/** A client of one node's API. */
export class Talos {
  /** Where the node's API is, and its token. */
  readonly endpoint: Endpoint;
  /** The generated client itself (every operation of the OpenAPI document, typed). */
  readonly api: Client<paths>;
  private readonly handlers = new Map<string, CallHandler>();

  constructor(ep: Endpoint) {
    this.endpoint = ep;
    this.api = createClient<paths>({
      baseUrl: ep.baseUrl,
      headers: { Authorization: `Bearer ${ep.token}` },
      ...(ep.socketPath ? { fetch: unixSocketFetch(ep.socketPath) } : {}),
    });
  }

  /** The node whose home is `home`, else `$TALOS_HOME`, else `~/.talos`. */
  static connect(opts: ConnectOptions = {}): Talos {
    return new Talos(endpoint(opts.home));
  }

  private get where(): string {
    return this.endpoint.socketPath ?? this.endpoint.baseUrl;
  }

  // --- node -----------------------------------------------------------------------
  /** This node's DID, PeerId and listen addresses. */
  node(): Promise<NodeInfo> {
    return ok(this.where, this.api.GET("/v1/node"));
  }

  // --- messages -------------------------------------------------------------------
  /** Sends `data` to the agent `to`; its seq once the node stored it durably. */
  async send(to: string, data: Uint8Array | string): Promise<number> {
    const r = await ok(this.where, this.api.POST("/v1/messages", { body: { to, data: b64(data) } }));
    return r.seq;
  }

  /** Messages from inbox index `from` on; waits up to `waitMs` for the first. */
  async read(opts: { from?: number; max?: number; waitMs?: number; signal?: AbortSignal } = {}): Promise<Inbox> {
    const r = await ok(
      this.where,
      this.api.GET("/v1/messages", {
        params: { query: { from: opts.from ?? 0, max: opts.max, waitMs: opts.waitMs } },
        signal: opts.signal,
      }),
    );
    return { messages: r.messages.map(decodeMessage), next: r.next };
  }

  /** Deletes every inbox entry up to index `through`; how many went. */
  async ack(through: number): Promise<number> {
    const r = await ok(this.where, this.api.POST("/v1/messages/ack", { body: { through } }));
    return r.deleted;
  }

  /**
   * Every message from inbox index `from` on, as it arrives (a WebSocket). Ends when the
   * node closes the stream or `signal` aborts; breaking out of the loop closes it.
   */
  stream(opts: { from?: number; signal?: AbortSignal } = {}): AsyncGenerator<Message, void, undefined> {
    return streamMessages(this.endpoint, opts.from ?? 0, opts.signal);
  }

  // --- calls ----------------------------------------------------------------------
  /**
   * Calls agent `to` under the capability `chain` (root first). Throws the typed refusal
   * or failure (`NotAuthorizedError`, `RevokedError`, `AgentError`, ...) when it fails.
   */
  invoke(o: InvokeOptions): Promise<InvokeResult> {
    // `ok` throws a PendingError for the 202 (a call held for approval), so what is
    // left is the 200's result.
    return ok<InvokeResult | Problem>(
      this.where,
      this.api.POST("/v1/invoke", {
        body: {
          to: o.to,
          resource: o.resource,
          action: o.action,
          args: o.args ?? {},
          chain: chainOf(o.chain),
          nonce: o.nonce,
          atMs: o.atMs,
          traceparent: o.traceparent,
        },
        signal: o.signal,
      }),
    ) as Promise<InvokeResult>;
  }

  /** Calls waiting for this agent with an id past `after`, and the next cursor. */
  async calls(
    opts: { after?: number; waitMs?: number; resource?: string; max?: number; signal?: AbortSignal } = {},
  ): Promise<{ calls: Call[]; next: number }> {
    return ok(
      this.where,
      this.api.GET("/v1/calls", {
        params: { query: { after: opts.after ?? 0, waitMs: opts.waitMs, resource: opts.resource, max: opts.max } },
        signal: opts.signal,
      }),
    );
  }

  /** Answers call `id`: `{result}`, or `{error, kind?}` to fail it. */
  async answer(id: number, answer: Answer): Promise<void> {
    await ok(this.where, this.api.POST("/v1/calls/{id}", { params: { path: { id } }, body: answer }));
  }

  /**
   * Registers `handler` for calls whose resource `pattern` matches (`talos://booking/**`):
   * {@link serve} hands each such call to it and answers with what it returns (or
   * resolves to). A thrown error becomes `{"error": message, "kind": err.kind ?? "agent_error"}`.
   */
  handles(pattern: string, handler: CallHandler): this {
    // A pattern registered again replaces its handler. When patterns overlap, a call
    // goes to whichever pattern's long-poll sees it first.
    this.handlers.set(pattern, handler);
    return this;
  }

  /**
   * Answers calls with the registered handlers until `signal` aborts: one long-poll of
   * `GET /v1/calls?resource=<pattern>` per pattern; each call's handler runs as soon as it
   * arrives. Resolves once stopped and every call in flight is answered; rejects when
   * the node cannot be reached.
   */
  async serve(opts: ServeOptions = {}): Promise<void> {
    if (this.handlers.size === 0) throw new Error("no handlers: register one with node.handles(pattern, fn)");
    const inFlight = new Set<Promise<void>>();
    // Patterns may overlap, and each loop sees every waiting call its pattern matches:
    // the first loop to see a call takes it (the ids of calls taken lately, bounded).
    const taken = new Set<number>();
    const take = (id: number): boolean => {
      if (taken.has(id)) return false;
      taken.add(id);
      if (taken.size > MAX_TAKEN) taken.delete(taken.values().next().value as number);
      return true;
    };
    const loops = [...this.handlers].map(([pattern, fn]) => this.serveOne(pattern, fn, opts, inFlight, take));
    try {
      await Promise.all(loops);
    } finally {
      await Promise.allSettled([...inFlight]);
    }
  }

  private async serveOne(
    pattern: string,
    fn: CallHandler,
    opts: ServeOptions,
    inFlight: Set<Promise<void>>,
    take: (id: number) => boolean,
  ): Promise<void> {
    const { signal } = opts;
    const onError = opts.onError ?? ((e: unknown, c: Call) => console.warn(`talos: answer to call ${c.id} refused:`, e));
    let after = 0;
    while (!signal?.aborted) {
      let got: { calls: Call[]; next: number };
      try {
        got = await this.calls({ after, waitMs: opts.waitMs ?? 30_000, resource: pattern, signal });
      } catch (e) {
        if (signal?.aborted) return;
        throw e;
      }
      after = got.next;
      for (const call of got.calls) {
        if (!take(call.id)) continue;
        const p = this.handleOne(fn, call, onError).finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
    }
  }

  private async handleOne(fn: CallHandler, call: Call, onError: (e: unknown, c: Call) => void): Promise<void> {
    let body: Answer;
    try {
      body = answerFor({ result: await fn(call) });
    } catch (thrown) {
      body = answerFor({ thrown });
    }
    try {
      await this.answer(call.id, body);
    } catch (e) {
      onError(e, call);
      // Too large or otherwise refused: say so (with the refusal's kind), so the caller
      // is not left waiting for its timeout. 404: the call is gone (answered, timed out).
      if (e instanceof TalosError && e.status !== 404 && "result" in body) {
        const failure =
          e.status > 0 ? answerFor({ thrown: e }) : { error: `the answer could not be delivered: ${e.detail}`, kind: "agent_error" };
        await this.answer(call.id, failure).catch(() => undefined);
      }
    }
  }

  // --- capabilities ---------------------------------------------------------------
  /** A root capability from this agent to `to` (`ttl` in seconds, at most a day). */
  issue(to: string, cap: Capability[], opts: { ttl?: number } = {}): Promise<Issued> {
    return ok(this.where, this.api.POST("/v1/capabilities", { body: { to, cap, ttl: opts.ttl } }));
  }

  /** Extends `parent` (a chain this agent holds) to `to`, no wider than it grants. */
  delegate(parent: ChainLike, to: string, cap: Capability[], opts: { ttl?: number } = {}): Promise<Issued> {
    return ok(
      this.where,
      this.api.POST("/v1/capabilities/delegate", { body: { parent: chainOf(parent), to, cap, ttl: opts.ttl } }),
    );
  }

  /** Revokes a capability by its `jti` (or the `Issued` itself): refused from now on. */
  revoke(jti: string | Pick<Issued, "jti">): Promise<RevokeResult> {
    const id = typeof jti === "string" ? jti : jti.jti;
    return ok(this.where, this.api.POST("/v1/capabilities/revoke", { body: { id } }));
  }

  // --- reputation -----------------------------------------------------------------
  /**
   * Signs a misbehaviour report about `subject`: kept, audited (`report_filed`) and
   * gossiped. `evidence`: leaf hashes (hex) of this agent's audit events that show it.
   */
  report(subject: string, kind: ReportKind, evidence: readonly string[] = []): Promise<ReportFiled> {
    return ok(this.where, this.api.POST("/v1/reports", { body: { subject, kind, evidence: [...evidence] } }));
  }

  /** `did`'s score (0..=1000) from the reports this node holds. */
  reputation(did: string): Promise<Reputation> {
    return ok(this.where, this.api.GET("/v1/reputation/{did}", { params: { path: { did } } }));
  }

  // --- approvals (apv) --------------------------------------------------------------
  /** The calls other nodes hold until this agent approves them. */
  async approvals(): Promise<ApprovalAsk[]> {
    return (await ok(this.where, this.api.GET("/v1/approvals"))).approvals;
  }

  /** Approves a held call: signed, audited (`approval_granted`) and handed to its holder. */
  approve(id: string): Promise<ApprovalGiven> {
    return ok(this.where, this.api.POST("/v1/approvals/{id}", { params: { path: { id } } }));
  }

  /** Declines a held call (its holder refuses it `not_approved` when it lapses). */
  async decline(id: string): Promise<void> {
    await ok(this.where, this.api.DELETE("/v1/approvals/{id}", { params: { path: { id } } }));
  }

  // --- audit ----------------------------------------------------------------------
  /** The audit log's size and root. */
  head(): Promise<Head> {
    return ok(this.where, this.api.GET("/v1/audit/head"));
  }

  /** A C2SP signed note of the log's head now, its verifier key, and the published one. */
  checkpoint(): Promise<Checkpoint> {
    return ok(this.where, this.api.GET("/v1/audit/checkpoint"));
  }

  /**
   * The RFC 9162 inclusion proof of leaf `index` (against `size`, default the current
   * size): `JSON.stringify` of it is what `talos audit verify-inclusion` reads.
   */
  proof(index: number, opts: { size?: number } = {}): Promise<InclusionProof> {
    return ok(this.where, this.api.GET("/v1/audit/proof", { params: { query: { index, size: opts.size } } }));
  }

  /** The signed events from index `from` on (at most `max`, the node caps it at 256). */
  async events(opts: { from?: number; max?: number } = {}): Promise<AuditEvent[]> {
    const r = await ok(
      this.where,
      this.api.GET("/v1/audit/events", { params: { query: { from: opts.from ?? 0, max: opts.max } } }),
    );
    return r.events;
  }
}

/** `capability("talos://booking/**", "book")`: a capability granting those actions. */
export function capability(res: string, ...act: string[]): Capability {
  return { res, act };
}

async function* streamMessages(ep: Endpoint, from: number, signal?: AbortSignal): AsyncGenerator<Message, void, undefined> {
  const path = `/v1/messages/stream?from=${from}`;
  const url = ep.socketPath
    ? `ws+unix://${ep.socketPath}:${path}`
    : `${ep.baseUrl.replace(/^http/, "ws")}${path}`;
  const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${ep.token}` } });
  const queue: Message[] = [];
  let failure: unknown;
  let ended = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  ws.on("message", (data, isBinary) => {
    try {
      const text = isBinary ? Buffer.from(data as Buffer).toString("utf8") : data.toString();
      queue.push(decodeMessage(JSON.parse(text) as WireMessage));
    } catch (e) {
      failure ??= e;
      ws.terminate();
    }
    poke();
  });
  ws.on("unexpected-response", (_req, res) => {
    // The upgrade was refused (a wrong token): the answer is a problem document.
    const chunks: Buffer[] = [];
    res.on("data", (c: Buffer) => chunks.push(c));
    res.on("end", () => {
      failure ??= errorFor(res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8"));
      ended = true;
      ws.terminate();
      poke();
    });
  });
  ws.on("error", (e) => {
    failure ??= new NodeUnreachableError("node_unreachable", 0, `${ep.socketPath ?? ep.baseUrl}: ${String(e)}`, {}, {
      cause: e,
    });
    poke();
  });
  ws.on("close", () => {
    ended = true;
    poke();
  });
  const onAbort = () => {
    ended = true;
    ws.close();
    poke();
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    for (;;) {
      if (signal?.aborted) return;
      const m = queue.shift();
      if (m) {
        yield m;
        continue;
      }
      if (failure !== undefined) throw failure;
      if (ended) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (ws.readyState === WebSocket.CONNECTING || ws.readyState === WebSocket.OPEN) ws.terminate();
  }
}
