#!/usr/bin/env node
// Starts @vercel/cosmosdb-server, the Cosmos DB stand-in of the store contract tests.
//
//   node launch.js --port 0 --cert cert.pem --key key.pem [--host 127.0.0.1]
//
// Prints one line `{"port": N}` on stdout once it listens (port 0 picks a free one), then
// serves until stdin closes or it gets SIGTERM/SIGINT, so it never outlives the test run.
//
// Fixes for gaps of the package (1.0.1), applied before its routes are built:
// - its bundled certificate has expired: the caller passes its own (--cert, --key);
// - reading a missing item crashes its handler (500): answer 404 NotFound as Cosmos does;
// - a transactional batch from the Python SDK carries the partition key in the
//   x-ms-documentdb-partitionkey header, not in each operation: copy it into each
//   operation, and make an atomic batch all-or-nothing (on failure, restore the
//   partition's previous documents and answer 424 for the others, as Cosmos does);
// - the account read names the server's own address as the only region, and the Cosmos SDK
//   sends every later request there: name the address the client used (its Host header), as
//   a Cosmos account names its own endpoint, so a client that reaches the stand-in through a
//   relay keeps using the relay.
// Gaps left as they are, documented in docs/store.md: TTL is stored but never enforced,
// and `partition_key=` on queries is ignored (arcwave filters the key in WHERE anyway).
"use strict";

const fs = require("fs");
const path = require("path");

const PKG = path.join(__dirname, "node_modules", "@vercel", "cosmosdb-server", "lib");
const PK_HEADER = "x-ms-documentdb-partitionkey";

function parseArgs(argv) {
  const args = { port: 0, host: "127.0.0.1", cert: null, key: null };
  for (let i = 0; i < argv.length; i += 1) {
    const name = argv[i];
    const value = argv[i + 1];
    if (name === "--port") args.port = parseInt(value, 10);
    else if (name === "--host") args.host = value;
    else if (name === "--cert") args.cert = value;
    else if (name === "--key") args.key = value;
    else fail(`unknown argument '${name}'`);
    i += 1;
  }
  if (!args.cert || !args.key) fail("--cert and --key are required (PEM files)");
  if (!Number.isInteger(args.port) || args.port < 0) fail("--port must be a number >= 0");
  return args;
}

function fail(message) {
  process.stderr.write(`launch.js: ${message}\n`);
  process.exit(2);
}

function notFound(res) {
  res.statusCode = 404;
  return {
    code: "NotFound",
    message: "Entity with the specified id does not exist in the system.",
  };
}

function parsedKey(header, fallback) {
  const { parsePartitionKey } = require(path.join(PKG, "utils", "get-partition-from-header"));
  return parsePartitionKey(header, fallback);
}

function patchReadDocument() {
  const mod = require(path.join(PKG, "handler", "read-document"));
  const original = mod.default;
  mod.default = (account, req, res, params) => {
    const collection = account.database(params.dbId).collection(params.collId);
    const header = req.headers[PK_HEADER];
    if (collection.read() && header !== undefined) {
      let key;
      try {
        key = parsedKey(header, params.docId);
      } catch (err) {
        res.statusCode = 400;
        return { code: "BadRequest", message: err.message };
      }
      if (!collection.document(params.docId, key).read()) return notFound(res);
    }
    return original(account, req, res, params);
  };
}

function patchBatch() {
  const mod = require(path.join(PKG, "handler", "batch-documents"));
  const original = mod.default;
  mod.default = async (account, req, res, params) => {
    const header = req.headers[PK_HEADER];
    const collection = account.database(params.dbId).collection(params.collId);
    const raw = await readBody(req);
    let operations;
    try {
      operations = JSON.parse(raw);
    } catch (err) {
      res.statusCode = 400;
      return { code: "BadRequest", message: "batch body is not JSON" };
    }
    if (Array.isArray(operations) && header !== undefined) {
      operations = operations.map((op) =>
        op && op.partitionKey === undefined ? { ...op, partitionKey: header } : op,
      );
    }
    const atomic = String(req.headers["x-ms-cosmos-batch-atomic"]).toLowerCase() === "true";
    const snapshot = atomic && collection.read() ? snapshotOf(collection, operations) : null;
    const replay = replayable(req, JSON.stringify(operations));
    const results = await original(account, replay, res, params);
    if (snapshot && Array.isArray(results) && results.some((r) => r.statusCode >= 400)) {
      restore(collection, snapshot);
      res.statusCode = 207;
      return results.map((r) =>
        r.statusCode >= 400 ? r : { statusCode: 424, requestCharge: 0 },
      );
    }
    return results;
  };
}

// The documents an atomic batch may touch, as they were before it ran.
function snapshotOf(collection, operations) {
  if (!Array.isArray(operations)) return null;
  const saved = [];
  for (const op of operations) {
    const id = op && (op.id || (op.resourceBody && op.resourceBody.id));
    if (!id || op.partitionKey === undefined) continue;
    let key;
    try {
      key = parsedKey(op.partitionKey, id);
    } catch (err) {
      continue;
    }
    const before = collection.document(id, key).read();
    saved.push({ id, key, before: before ? { ...before } : null });
  }
  return saved;
}

function restore(collection, snapshot) {
  for (const { id, key, before } of snapshot.slice().reverse()) {
    const now = collection.document(id, key).read();
    if (now) collection.documents.delete(id, key);
    if (before) collection.documents._set(before);
  }
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

// A stand-in for the consumed request, so the package's handler can read the body again.
function replayable(req, body) {
  const { Readable } = require("stream");
  const stream = Readable.from([Buffer.from(body, "utf8")]);
  stream.headers = { ...req.headers, "content-length": String(Buffer.byteLength(body)) };
  stream.method = req.method;
  stream.url = req.url;
  return stream;
}

function patchReadMeta() {
  const mod = require(path.join(PKG, "handler", "read-meta"));
  const original = mod.default;
  mod.default = (account, req, res, params) => {
    const body = original(account, req, res, params);
    const here = `https://${req.headers.host}/`;
    const relocate = (locations) =>
      (locations || []).map((l) => ({ ...l, databaseAccountEndpoint: here }));
    return {
      ...body,
      writableLocations: relocate(body.writableLocations),
      readableLocations: relocate(body.readableLocations),
    };
  };
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(PKG)) fail(`${PKG} is missing: run 'npm ci' in ${__dirname}`);
  patchReadDocument();
  patchBatch();
  patchReadMeta();
  const { createHttpsServer } = require(PKG);
  const server = createHttpsServer({
    cert: fs.readFileSync(args.cert),
    key: fs.readFileSync(args.key),
    minVersion: "TLSv1.2",
    keepAlive: true,
  });
  server.on("error", (err) => fail(err.message));
  server.listen(args.port, args.host, () => {
    process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.stdin.on("end", stop);
  process.stdin.resume();
}

main();
