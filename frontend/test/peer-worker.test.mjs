// The wasm peer's worker (frontend/lib/peer-worker.js), loaded into a
// node:vm context that stands in for a dedicated worker's global scope: its
// RTCPeerConnection stand-in must pass calls to the page in order, and
// must not make pion's Go goroutine wait for the page's answer where
// nothing needs it (descriptions set, candidates added).
//
//     node --test frontend/test/

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

const source = readFileSync(new URL('../lib/peer-worker.js', import.meta.url), 'utf8');

/** A worker scope running peer-worker.js; `posted` is what it sent the page. */
function workerScope() {
  /** @type {any[]} */
  const posted = [];
  const scope = /** @type {any} */ ({ posted, console, Promise, JSON, DOMException, Uint8Array, setTimeout });
  scope.self = scope;
  scope.postMessage = (/** @type {any} */ m) => posted.push(m);
  vm.createContext(scope);
  vm.runInContext(source, scope);
  /** Delivers a message from the page. @param {any} data */
  scope.fromPage = (data) => scope.onmessage({ data });
  return scope;
}

/** Lets promise callbacks run. */
const settle = () => new Promise((r) => setImmediate(r));

test('descriptions and candidates go to the page without waiting for it', async () => {
  const w = workerScope();
  const pc = new w.RTCPeerConnection({ iceServers: [] });
  let done = 0;
  pc.setRemoteDescription({ type: 'offer', sdp: 'v=0 offer' }).then(() => done++);
  const answer = pc.createAnswer();
  pc.addIceCandidate({ candidate: 'candidate:1', sdpMid: '0' }).then(() => done++);
  await settle();
  assert.equal(done, 2, 'setRemoteDescription and addIceCandidate resolve before the page answers');
  const calls = w.posted.filter((m) => m.op === 'call').map((m) => m.method);
  assert.deepEqual(calls, ['setRemoteDescription', 'createAnswer', 'addIceCandidate'], 'the page gets the calls in order');
  assert.equal(pc.remoteDescription.sdp, 'v=0 offer');

  // createAnswer still waits: its SDP comes from the page.
  let answered = null;
  answer.then((/** @type {any} */ a) => { answered = a; });
  await settle();
  assert.equal(answered, null);
  const req = w.posted.find((m) => m.method === 'createAnswer').req;
  w.fromPage({ t: 'rtc', op: 'reply', req, ok: true, value: { type: 'answer', sdp: 'v=0 answer' } });
  await settle();
  assert.deepEqual(answered, { type: 'answer', sdp: 'v=0 answer' });
});

test('a description the page refuses fails the connection', async () => {
  const w = workerScope();
  const pc = new w.RTCPeerConnection({});
  /** @type {string[]} */
  const states = [];
  pc.onconnectionstatechange = () => states.push(pc.connectionState);
  const warn = console.warn;
  console.warn = () => {};
  try {
    await pc.setRemoteDescription({ type: 'answer', sdp: 'garbage' });
    const cand = w.posted.findLast((m) => m.method === 'setRemoteDescription');
    await pc.addIceCandidate({ candidate: 'bad' });
    const bad = w.posted.findLast((m) => m.method === 'addIceCandidate');
    w.fromPage({ t: 'rtc', op: 'reply', req: bad.req, ok: false, error: 'bad candidate' });
    assert.deepEqual(states, [], 'a refused candidate is ignored');
    w.fromPage({ t: 'rtc', op: 'reply', req: cand.req, ok: false, error: 'Failed to parse SessionDescription' });
    assert.deepEqual(states, ['failed']);
  } finally {
    console.warn = warn;
  }
});

test('a connection closed meanwhile does not fail again', async () => {
  const w = workerScope();
  const pc = new w.RTCPeerConnection({});
  /** @type {string[]} */
  const states = [];
  pc.onconnectionstatechange = () => states.push(pc.connectionState);
  await pc.setLocalDescription({ type: 'offer', sdp: 'v=0' });
  const req = w.posted.findLast((m) => m.method === 'setLocalDescription').req;
  pc.close();
  w.fromPage({ t: 'rtc', op: 'reply', req, ok: false, error: 'closed' });
  assert.deepEqual(states, []);
});
