// lib/early.js names the stream as lib/stream-name.js's streamFromLocation
// does. It cannot import it: early.js is a classic script that the watch
// pages run first in their <head>, so that the two requests the first frame
// waits on go out before any module is fetched; an import (static in a
// module, or import() here) would wait for stream-name.js to arrive, and
// modules ran 300-800 ms later on a busy machine. So it keeps a copy, and
// this test runs both on a table of addresses: early.js must request the
// init and media URLs of the stream streamFromLocation finds, and nothing
// when it finds none.
//
//     node --test frontend/test/

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import { streamFromLocation, initURL, mediaURL } from '../lib/stream-name.js';

const early = new vm.Script(readFileSync(new URL('../lib/early.js', import.meta.url), 'utf8'), { filename: 'lib/early.js' });

/** @param {URL} loc @returns {string[]} the URLs early.js fetched */
function runEarly(loc) {
  const fetched = [];
  const ctx = vm.createContext({
    location: loc,
    URLSearchParams,
    fetch: (/** @type {string} */ url) => {
      fetched.push(url);
      return Promise.resolve({});
    },
  });
  early.runInContext(ctx);
  assert.deepEqual(Object.keys(ctx.shoalEarly ?? {}), fetched, 'shoalEarly holds what was fetched');
  return fetched;
}

const addresses = [
  '/watch/demo',
  '/watch/demo/',
  '/embed/demo?autoplay=0&muted=1&chat=on',
  '/watch/my-show_2',
  '/viewer.html',
  '/embed.html',
  '/',
  '/viewer.html?stream=demo',
  '/viewer.html?stream=+demo+',
  '/viewer.html?stream=%20demo%20',
  '/viewer.html?stream=',
  '/viewer.html?stream=%20',
  '/watch/demo?stream=other',
  '/watch/demo?stream=',
  '/watch/demo?stream=%20',
  '/viewer.html?stream=x.html',
  '/viewer.html?stream=a%2541', // ?stream= is decoded once, by URLSearchParams
  '/viewer.html?stream=%25',
  '/viewer.html?stream=a%2Fb',
  '/viewer.html?stream=%E2%82%AC',
  '/watch/x.html',
  '/watch/a%20b',
  '/watch/a%2Fb',
  '/watch/%E2%82%AC',
  '/watch/%2541',
  '/watch/%',
  '/watch/%ZZ',
  '/watch/%E2%82',
  '/watch//demo//',
  '/a/b/c',
];

for (const a of addresses) {
  test(`early.js and streamFromLocation agree on ${a}`, () => {
    const loc = new URL(a, 'https://shoal.example');
    const stream = streamFromLocation(loc);
    assert.deepEqual(runEarly(loc), stream === '' ? [] : [initURL(stream), mediaURL(stream)], `streamFromLocation: ${JSON.stringify(stream)}`);
  });
}
