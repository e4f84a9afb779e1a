// Each page's <link rel="modulepreload"> list is a hand copy of its entry
// module's import graph (viewer.html, embed.html: the whole graph at once,
// not one level per round trip). This test keeps the copies honest: for
// every frontend/*.html page with such links, the hrefs must be exactly the
// modules its `<script type="module" src>` entry reaches, the entry itself
// left out.
//
//     node --test frontend/test/
//
// Followed: static `import … from './x.js'`, `import './x.js'` and
// `export … from './x.js'`, and dynamic `import('./x.js')` with a literal
// specifier (lib/shoal.js loads lib/rtc-host.js so as the peer starts: it
// is preloaded on purpose). Not followed: workers (`new Worker(url)`:
// lib/peer-worker.js is a classic worker script that the worker fetches
// itself; a modulepreload would fetch it as a module for nothing), and
// `import('…')` in JSDoc types (comments are stripped first).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';

/** The site's root: /lib/x.js is frontend/lib/x.js (frontend/embed.go). */
const ROOT = new URL('../', import.meta.url);

/** @param {string} tag @param {string} name */
function attr(tag, name) {
  const m = tag.match(new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i'));
  return m ? (m[1] ?? m[2] ?? m[3]) : null;
}

/** @param {string} html @returns {{preloads: string[], entries: string[]}} site paths */
function pageModules(html) {
  html = html.replace(/<!--[\s\S]*?-->/g, '');
  const preloads = [];
  const entries = [];
  for (const [tag] of html.matchAll(/<link\b[^>]*>/gi)) {
    if (attr(tag, 'rel')?.toLowerCase() === 'modulepreload') preloads.push(attr(tag, 'href'));
  }
  for (const [tag] of html.matchAll(/<script\b[^>]*>/gi)) {
    if (attr(tag, 'type') === 'module' && attr(tag, 'src')) entries.push(attr(tag, 'src'));
  }
  return { preloads, entries };
}

/** Source without comments (the frontend has no '/*' or '//' in strings but URLs' "://"). @param {string} src */
function stripComments(src) {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:\\])\/\/.*$/gm, '$1');
}

/** @param {string} src @returns {string[]} the specifiers src imports */
function specifiers(src) {
  src = stripComments(src);
  const out = [];
  for (const m of src.matchAll(/^\s*(?:import|export)\b[^'"`;]*?\bfrom\s*(['"])(.+?)\1/gm)) out.push(m[2]);
  for (const m of src.matchAll(/^\s*import\s*(['"])(.+?)\1/gm)) out.push(m[2]);
  for (const m of src.matchAll(/\bimport\s*\(\s*(['"])(.+?)\1\s*\)/g)) out.push(m[2]);
  return out;
}

/** @param {string} entry a site path, /viewer.js @returns {Set<string>} the site paths it reaches, itself included */
function graph(entry) {
  const seen = new Set();
  const walk = (/** @type {URL} */ url) => {
    const path = '/' + url.href.slice(ROOT.href.length);
    if (seen.has(path)) return;
    seen.add(path);
    for (const spec of specifiers(readFileSync(url, 'utf8'))) {
      assert.match(spec, /^\.{1,2}\//, `${path} imports ${spec}: only relative imports are expected`);
      walk(new URL(spec, url));
    }
  };
  walk(new URL('.' + entry, ROOT));
  return seen;
}

test('specifiers: static and literal dynamic imports, not JSDoc types or comments', () => {
  const src = [
    "import { a } from './a.js';",
    'import {',
    '  b,',
    "} from './b.js';",
    "import './c.js';",
    "export { d } from './d.js';",
    "/** @typedef {import('./typeonly.js').T} T */",
    "// import { e } from './commented.js';",
    "const w = new Worker(new URL('./worker.js', import.meta.url));",
    "const u = 'https://example.com/x'; const { f } = await import('./f.js');",
  ].join('\n');
  assert.deepEqual(specifiers(src).sort(), ['./a.js', './b.js', './c.js', './d.js', './f.js']);
});

const pages = readdirSync(ROOT).filter((f) => f.endsWith('.html'));
const withPreloads = pages.filter((f) => pageModules(readFileSync(new URL(f, ROOT), 'utf8')).preloads.length > 0);

test('the watch pages list modulepreloads', () => {
  for (const p of ['viewer.html', 'embed.html']) assert.ok(withPreloads.includes(p), `${p} has no modulepreload links`);
});

for (const page of withPreloads) {
  test(`${page}: modulepreload links = the entry's import graph`, () => {
    const { preloads, entries } = pageModules(readFileSync(new URL(page, ROOT), 'utf8'));
    assert.equal(entries.length, 1, `${page}: want one <script type="module" src>, have ${entries.join(', ')}`);
    const want = graph(entries[0]);
    want.delete(entries[0]);
    assert.equal(new Set(preloads).size, preloads.length, `${page}: a module listed twice`);
    const have = new Set(preloads);
    const missing = [...want].filter((p) => !have.has(p)).sort();
    const extra = [...have].filter((p) => !want.has(p)).sort();
    assert.deepEqual({ missing, extra }, { missing: [], extra: [] }, `${page}: its modulepreload list and ${entries[0]}'s imports differ`);
  });
}

// The watch pages name the wasm peer and wasm_exec.js in meta tags, which
// the server rewrites to their fingerprinted URLs (signal/static) and
// lib/shoal.js's servedURL reads; they do not prefetch them: the peer
// loads at the first frame, and a prefetch made the browser decode it
// twice (docs/BENCHMARKS.md, session 8).
for (const page of ['viewer.html', 'embed.html']) {
  test(`${page}: names the peer for the server to fingerprint, fetches it no earlier than the page's script`, () => {
    const html = readFileSync(new URL(page, ROOT), 'utf8');
    const metas = Object.fromEntries([...html.matchAll(/<meta\b[^>]*>/gi)].map((m) => [attr(m[0], 'name'), attr(m[0], 'content')]));
    assert.equal(metas['shoal-wasm'], '/wasm/shoal.wasm');
    assert.equal(metas['shoal-wasm-exec'], '/wasm/wasm_exec.js');
    const links = [...html.matchAll(/<link\b[^>]*>/gi)].map((m) => m[0]).filter((t) => /\/wasm\//.test(attr(t, 'href') ?? ''));
    assert.deepEqual(links, [], `${page} links the peer`);
  });
}
