/**
 * The fetch the generated client uses: the platform's fetch over TCP, or one over a Unix
 * socket (node:http with `socketPath`; the platform's fetch cannot dial a socket), so the
 * node's default API address (`unix`, the home's api.sock) works without native code.
 */
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";

/** A fetch that sends every request to the HTTP server on the Unix socket `socketPath`. */
export function unixSocketFetch(socketPath: string): (input: Request) => Promise<Response> {
  return async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const body = req.body ? Buffer.from(await req.arrayBuffer()) : undefined;
    const headers: Record<string, string> = {};
    req.headers.forEach((v, k) => {
      headers[k] = v;
    });
    if (body) headers["content-length"] = String(body.length);
    return new Promise<Response>((resolve, reject) => {
      const r = httpRequest(
        { socketPath, method: req.method, path: url.pathname + url.search, headers, signal: req.signal },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const status = res.statusCode ?? 500;
            const nullBody = status === 204 || status === 205 || status === 304 || req.method === "HEAD";
            resolve(
              new Response(nullBody ? null : Buffer.concat(chunks), {
                status,
                statusText: res.statusMessage ?? "",
                headers: toHeaders(res.headers),
              }),
            );
          });
        },
      );
      r.on("error", reject);
      // A body over the node's limit (80 KiB) is answered 413 and the connection closed
      // while this may still be writing: then the write's EPIPE can come first, and the
      // request fails as NodeUnreachableError instead of TooLargeError (fetch over TCP
      // reads the 413).
      r.end(body);
    });
  };
}

function toHeaders(h: IncomingHttpHeaders): Headers {
  const out = new Headers();
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    for (const one of Array.isArray(v) ? v : [v]) out.append(k, one);
  }
  return out;
}
