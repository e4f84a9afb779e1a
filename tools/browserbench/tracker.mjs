// @ts-check
/**
 * A local WebTorrent tracker (bittorrent-tracker's server, WebSocket only)
 * for p2p-media-loader's peers: the benchmark has no internet. Prints
 * "listening" on stdout once ready, and runs until killed.
 *
 *   node tracker.mjs --port 8000
 */
import { parseArgs } from 'node:util';
import Server from 'bittorrent-tracker/server';

const { values } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' } }, strict: true });
const server = new Server({ udp: false, http: false, ws: true, stats: false });
server.on('error', (err) => {
  process.stderr.write(`tracker: ${err instanceof Error ? err.message : err}\n`);
  process.exit(1);
});
server.on('warning', (err) => process.stderr.write(`tracker warning: ${err instanceof Error ? err.message : err}\n`));
server.listen(Number(values.port), values.host, () => process.stdout.write('listening\n'));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
