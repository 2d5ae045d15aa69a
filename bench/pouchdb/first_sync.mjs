// The first-sync benchmark's peer: the same records in pouchdb-server on
// loopback, replicated to an empty pouchdb-node (LevelDB) database, timed.
// Usage: node first_sync.mjs RECORDS.json WORKDIR   (prints "replicated_ms N")
import { spawn } from "node:child_process";
import { readFileSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import PouchDB from "pouchdb-node";

const [records, work] = process.argv.slice(2);
const here = dirname(fileURLToPath(import.meta.url));

function freePort() {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(url) {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`pouchdb-server did not answer at ${url}`);
}

const serverDir = join(work, "pouchdb-server");
mkdirSync(serverDir, { recursive: true });
const port = await freePort();
const server = spawn(
  join(here, "node_modules", ".bin", "pouchdb-server"),
  ["--host", "127.0.0.1", "--port", String(port), "--dir", serverDir, "--config", join(serverDir, "config.json")],
  // pouchdb-server writes its log.txt into its working directory.
  { stdio: "ignore", cwd: serverDir },
);
try {
  const base = `http://127.0.0.1:${port}`;
  await waitFor(base);
  const remote = new PouchDB(`${base}/tickets`);
  const docs = JSON.parse(readFileSync(records, "utf8"));
  for (let i = 0; i < docs.length; i += 500) {
    await remote.bulkDocs(docs.slice(i, i + 500));
  }
  const local = new PouchDB(join(work, "pouchdb-device"));
  const started = performance.now();
  const result = await PouchDB.replicate(remote, local);
  const elapsed = performance.now() - started;
  if (result.docs_written !== docs.length) {
    throw new Error(`replicated ${result.docs_written} of ${docs.length}`);
  }
  console.log(`replicated_ms ${elapsed.toFixed(0)}`);
  await local.close();
} finally {
  server.kill();
}
