/**
 * Typed errors for the node's RFC 9457 problem documents.
 *
 * The node's `kind` is the stable thing to branch on (docs/api.md), so every error class
 * is chosen from ONE table keyed by kind ({@link BY_KIND}), with a fallback by HTTP
 * status ({@link BY_STATUS}) for kinds this SDK does not name (an agent's own kinds such
 * as `sold_out`, kinds a newer node adds).
 */
import type { components } from "./generated/schema.js";

/** The problem document the node answers errors with. */
export type Problem = components["schemas"]["Problem"];

/**
 * An error answer of the node: its `kind`, HTTP `status`, `detail` and the whole problem
 * document. A refused or failed call also carries `nonce`, `atMs` and `txn`, which let the
 * caller retry it as the same call (the retry is refused as a replay, never run twice).
 */
export class TalosError extends Error {
  readonly kind: string;
  readonly status: number;
  readonly detail: string;
  readonly problem: Partial<Problem> & Record<string, unknown>;
  readonly nonce: string | undefined;
  readonly atMs: number | undefined;
  readonly txn: unknown;

  constructor(
    kind: string,
    status: number,
    detail: string,
    problem: Partial<Problem> & Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(`${kind} (${status}): ${detail}`, options);
    this.name = new.target.name;
    this.kind = kind;
    this.status = status;
    this.detail = detail;
    this.problem = problem;
    this.nonce = typeof problem.nonce === "string" ? problem.nonce : undefined;
    this.atMs = typeof problem.atMs === "number" ? problem.atMs : undefined;
    this.txn = problem.txn;
  }
}

/** The node's API did not answer at all (is `talos up` running?). Kind `node_unreachable`, status 0. */
export class NodeUnreachableError extends TalosError {}
/** 400: malformed body, query or path; out-of-range values. */
export class BadRequestError extends TalosError {}
/** 401: no API token, or a wrong one. */
export class UnauthorizedError extends TalosError {}
/** 404: no such call, proof index, record or route. */
export class NotFoundError extends TalosError {}
/** 404: no session with the peer and no directory record of it. */
export class PeerNotFoundError extends NotFoundError {}
/** 409: e.g. `no_chain`, `group_conflict`. */
export class ConflictError extends TalosError {}
/** 413: a message, answer or call over its bound. */
export class TooLargeError extends TalosError {}
/** 403/429: the callee's node refused the call (see `kind`, `nonce`, `atMs`). */
export class Refused extends TalosError {}
/** The capability does not cover this resource and action. */
export class NotAuthorizedError extends Refused {}
/** The capability (or one in its chain) was revoked. */
export class RevokedError extends Refused {}
/** The capability has expired. */
export class ExpiredError extends Refused {}
/** A call with this nonce was seen already. */
export class ReplayError extends Refused {}
/** 429: the callee's rate limit. */
export class RateLimitedError extends Refused {}
/** 403: the capability asks for an attestation credential the caller lacks. */
export class NotAttestedError extends Refused {}
/** 403: the call would take the capability's hard budget over its limit. */
export class OverBudgetError extends Refused {}
/** 403: the callee's node scores the caller below its min_reputation. */
export class LowReputationError extends Refused {}

/**
 * 202: the callee's node holds the call until its approvers approve it (`apv`);
 * `approval` is the request id. Send the same call again once it is approved.
 */
export class PendingError extends TalosError {
  get approval(): string | undefined {
    const a = this.problem["approval"];
    return typeof a === "string" ? a : undefined;
  }
}

/** 403: the call's approval request lapsed before enough approvers approved it. */
export class NotApprovedError extends Refused {}
/** 500: a fault of the node or its host. */
export class InternalError extends TalosError {}
/** 502: the peer's agent or node failed the call. An agent's own kinds land here. */
export class CallFailedError extends TalosError {}
/** The peer's agent answered with an error (`agent_error`). */
export class AgentError extends CallFailedError {}
/** The peer could not be reached. */
export class PeerUnreachableError extends CallFailedError {}
/**
 * The peer's node could not hand the call over (502), or this node's delivery, network,
 * chain or audit log is failing, or it is stopping (503).
 */
export class UnavailableError extends CallFailedError {}
/** 504: the peer's agent did not answer in time. */
export class AgentTimeoutError extends CallFailedError {}

type ErrorClass = new (
  kind: string,
  status: number,
  detail: string,
  problem?: Partial<Problem> & Record<string, unknown>,
  options?: { cause?: unknown },
) => TalosError;

/** The one table: kind → error class. Kinds not listed fall back on {@link BY_STATUS}. */
export const BY_KIND: Readonly<Record<string, ErrorClass>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, ErrorClass>, {
  bad_request: BadRequestError,
  unauthorized: UnauthorizedError,
  not_found: NotFoundError,
  peer_not_found: PeerNotFoundError,
  unknown_group: NotFoundError,
  no_chain: ConflictError,
  group_conflict: ConflictError,
  too_large: TooLargeError,
  not_authorized: NotAuthorizedError,
  revoked: RevokedError,
  expired: ExpiredError,
  replay: ReplayError,
  rate_limited: RateLimitedError,
  not_attested: NotAttestedError,
  over_budget: OverBudgetError,
  low_reputation: LowReputationError,
  pending: PendingError,
  not_approved: NotApprovedError,
  internal: InternalError,
  agent_error: AgentError,
  peer_unreachable: PeerUnreachableError,
  unavailable: UnavailableError,
  unanswered: UnavailableError,
  delivery: UnavailableError,
  net: UnavailableError,
  anchor: UnavailableError,
  audit_failing: UnavailableError,
  stopping: UnavailableError,
  agent_timeout: AgentTimeoutError,
  node_unreachable: NodeUnreachableError,
  }),
);

/** The fallback for kinds {@link BY_KIND} does not name. */
export const BY_STATUS: Readonly<Record<number, ErrorClass>> = Object.freeze({
  400: BadRequestError,
  401: UnauthorizedError,
  403: Refused,
  404: NotFoundError,
  409: ConflictError,
  413: TooLargeError,
  429: RateLimitedError,
  500: InternalError,
  502: CallFailedError,
  503: UnavailableError,
  504: AgentTimeoutError,
});

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The typed error for an error answer: `body` is the problem document (parsed, or its
 * text), or anything else a proxy or an older node may have sent.
 */
export function errorFor(status: number, body: unknown): TalosError {
  let problem: Record<string, unknown> = {};
  let text = "";
  if (isRecord(body)) {
    problem = body;
  } else if (typeof body === "string") {
    text = body;
    try {
      const parsed: unknown = JSON.parse(body);
      if (isRecord(parsed)) problem = parsed;
    } catch {
      // not JSON: the text is the detail
    }
  }
  const kind = typeof problem.kind === "string" ? problem.kind : `http_${status}`;
  const detail = typeof problem.detail === "string" ? problem.detail : text.slice(0, 500);
  const Cls = (Object.hasOwn(BY_KIND, kind) ? BY_KIND[kind] : undefined) ?? BY_STATUS[status] ?? TalosError;
  return new Cls(kind, status, detail, problem);
}
