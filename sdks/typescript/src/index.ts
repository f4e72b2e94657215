/**
 * `@talos/agent`: the TypeScript SDK of a talos node's local agent API.
 *
 * ```ts
 * import { Talos } from "@talos/agent";
 * const node = Talos.connect();            // $TALOS_HOME, else ~/.talos
 * node.handles("talos://booking/**", async (call) => ({ booked: call.args.flight }));
 * await node.serve({ signal });
 * ```
 */
export * from "./errors.js";
export {
  Talos,
  capability,
  decodeMessage,
  answerFor,
  type AuditEvent,
  type Answer,
  type Call,
  type CallHandler,
  type Capability,
  type ChainLike,
  type Checkpoint,
  type ConnectOptions,
  type Head,
  type Inbox,
  type InclusionProof,
  type InvokeOptions,
  type InvokeResult,
  type Issued,
  type Message,
  type NodeInfo,
  type ApprovalAsk,
  type ApprovalGiven,
  type ReportFiled,
  type ReportKind,
  type Reputation,
  type RevokeResult,
  type ServeOptions,
  type WireMessage,
} from "./client.js";
export { endpoint, parseAddr, resolveHome, configuredApi, type Endpoint } from "./home.js";
export { unixSocketFetch } from "./transport.js";
export type { components, paths, operations } from "./generated/schema.js";
