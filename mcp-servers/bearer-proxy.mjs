// A loopback HTTP forwarder for the MCP conformance suite, which cannot send a bearer
// token: it forwards every request to TARGET (talos mcp serve --http) with
// `Authorization: Bearer $TALOS_TOKEN`. A Host or Origin naming this forwarder is
// rewritten to name the target (as if the client had called it directly); any other
// Host or Origin passes through untouched, so the target's DNS-rebinding checks still
// see what the suite sends. Prints {"url": ...} once listening.
import http from 'node:http';

const target = new URL(process.env.TARGET);
const token = process.env.TALOS_TOKEN;
const server = http.createServer((req, res) => {
  const me = `${server.address().port}`;
  const rename = (v) => v && v.replace(new RegExp(`^(https?://)?(127\\.0\\.0\\.1|localhost):${me}$`), `$1$2:${target.port}`);
  const headers = { ...req.headers, authorization: `Bearer ${token}` };
  if (headers.host) headers.host = rename(headers.host);
  if (headers.origin) headers.origin = rename(headers.origin);
  const up = http.request(
    { host: target.hostname, port: target.port, method: req.method, path: req.url, headers },
    (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    },
  );
  up.on('error', (e) => {
    res.writeHead(502);
    res.end(String(e));
  });
  req.pipe(up);
});
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ url: `http://127.0.0.1:${server.address().port}${target.pathname}` }));
});
