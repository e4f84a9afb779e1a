// The pages that ask for a stream name (index.html's "watch a stream",
// studio.html's "new stream") check it in the browser with an HTML
// `pattern`, a copy of the server's rule: signaling.ValidStream in
// shared/signaling (names.go: streamName = token{min, max: MaxStream},
// token.MatchString's allowed bytes). This test reads that rule from the
// Go source and checks that each input accepts exactly the names it does,
// on a table of names: every character from U+0000 to U+00FF and a few
// beyond, alone and inside a valid name, and the lengths around the bounds.
//
//     node --test frontend/test/
//
// When names.go changes shape, the parse below fails: update it with it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const SIGNALING = new URL('../../shared/signaling/', import.meta.url);
const FRONTEND = new URL('../', import.meta.url);

/** The inputs that take a stream name: page and id. */
const INPUTS = [
  ['index.html', 'join-stream'],
  ['studio.html', 'new-name'],
];

/**
 * signaling.ValidStream, read from the Go source.
 * @returns {{min: number, max: number, allowed: (byte: number) => boolean, valid: (name: string) => boolean}}
 */
function goRule() {
  const names = readFileSync(new URL('names.go', SIGNALING), 'utf8');
  const message = readFileSync(new URL('message.go', SIGNALING), 'utf8');
  assert.match(message, /func ValidStream\(name string\) bool \{ return streamName\.MatchString\(name\) \}/,
    'message.go: ValidStream is no longer streamName.MatchString');
  const consts = Object.fromEntries([...names.matchAll(/\bconst (\w+) = (\d+)\b/g)].map((m) => [m[1], Number(m[2])]));
  const tok = names.match(/\bstreamName\s*=\s*token\{min:\s*(\w+),\s*max:\s*(\w+)\}/);
  assert.ok(tok, 'names.go: no `streamName = token{min: …, max: …}`');
  const num = (/** @type {string} */ s) => {
    const n = /^\d+$/.test(s) ? Number(s) : consts[s];
    assert.ok(Number.isInteger(n), `names.go: cannot read ${s}`);
    return n;
  };
  const [min, max] = [num(tok[1]), num(tok[2])];
  assert.equal(max, consts.MaxStream, 'streamName.max is MaxStream');

  // func (t token) MatchString: the length check, then one `case …:` of
  // allowed bytes, then `default: return false`.
  const body = names.match(/func \(t token\) MatchString\(s string\) bool \{([\s\S]*?)\n\}/)?.[1];
  assert.ok(body, 'names.go: no func (t token) MatchString');
  assert.match(body, /if len\(s\) < t\.min \|\| len\(s\) > t\.max \{\s*return false\s*\}/, 'names.go: MatchString length check changed');
  const cases = [...body.matchAll(/^\s*case (.*):\s*$/gm)];
  assert.equal(cases.length, 1, 'names.go: want one case of allowed bytes in MatchString');
  assert.match(body, /case .*:\s*default:\s*return false\s*\}/, 'names.go: want `default: return false` after the case');
  const clauseText = cases[0][1].replace(/^c := s\[i\];\s*/, '');
  /** @type {[number, number][]} */
  const ranges = [];
  for (const part of clauseText.split(',').map((p) => p.trim())) {
    let m;
    if ((m = part.match(/^'(.)' <= c && c <= '(.)'$/))) ranges.push([m[1].charCodeAt(0), m[2].charCodeAt(0)]);
    else if ((m = part.match(/^c == '(.)'$/))) ranges.push([m[1].charCodeAt(0), m[1].charCodeAt(0)]);
    else assert.fail(`names.go: cannot read the condition ${JSON.stringify(part)}`);
  }
  const allowed = (/** @type {number} */ b) => ranges.some(([lo, hi]) => lo <= b && b <= hi);
  const valid = (/** @type {string} */ name) => {
    const bytes = new TextEncoder().encode(name); // Go's len and s[i]: UTF-8 bytes
    return bytes.length >= min && bytes.length <= max && bytes.every(allowed);
  };
  return { min, max, allowed, valid };
}

/**
 * What the browser lets through for a text input with these attributes:
 * `required` refuses "", `maxlength` counts UTF-16 units, and `pattern`
 * (compiled with the v flag, anchored; not checked on an empty value)
 * must match the whole value.
 * @param {string} html @param {string} id
 */
function htmlRule(html, id) {
  const tag = html.match(new RegExp(`<input\\b[^>]*\\sid="${id}"[^>]*>`))?.[0];
  assert.ok(tag, `no <input id="${id}">`);
  const attr = (/** @type {string} */ n) => tag.match(new RegExp(`\\s${n}="([^"]*)"`))?.[1] ?? null;
  const required = /\srequired[\s>]/.test(tag);
  const maxlength = attr('maxlength') === null ? Infinity : Number(attr('maxlength'));
  const pattern = attr('pattern');
  assert.ok(pattern !== null, `<input id="${id}"> has no pattern`);
  const re = new RegExp(`^(?:${pattern.replaceAll('&amp;', '&')})$`, 'v');
  return {
    required, maxlength, pattern,
    accepts: (/** @type {string} */ v) => (v === '' ? !required : v.length <= maxlength && re.test(v)),
  };
}

/** @param {{min: number, max: number}} rule @returns {string[]} */
function table({ min, max }) {
  const names = ['demo', 'my-show_2', 'A-Z_a-z_0-9', '-', '_', 'a b', 'a.b', 'a/b', '../x', 'x.html', 'demo\n', ' demo'];
  const odd = ['\u0100', '\u0130', '\u212a', '\u017f', '\u0660', '\uff21', '\u{1f41f}', '\u200b', '\ufeff', '\ud800'];
  for (let c = 0; c <= 0xff; c++) odd.push(String.fromCharCode(c));
  for (const c of odd) names.push(c, `a${c}b`, `${c}demo`);
  for (const n of [0, 1, min - 1, min, min + 1, max - 1, max, max + 1, 2 * max]) {
    if (n >= 0) names.push('a'.repeat(n), 'Z9'.repeat(n).slice(0, n));
  }
  names.push('é'.repeat(Math.floor(max / 2)), `${'a'.repeat(max - 1)}é`); // bytes vs UTF-16 units
  return [...new Set(names)];
}

test('the Go rule reads as expected: 1 to 64 of A-Z a-z 0-9 _ -', () => {
  const go = goRule();
  assert.ok(go.min === 1 && go.max >= 1);
  assert.ok(go.valid('demo') && go.valid('a'.repeat(go.max)) && !go.valid('a'.repeat(go.max + 1)) && !go.valid('a b'));
});

for (const [page, id] of INPUTS) {
  test(`${page} #${id} accepts the stream names signaling.ValidStream accepts`, () => {
    const go = goRule();
    const html = htmlRule(readFileSync(new URL(page, FRONTEND), 'utf8'), id);
    assert.ok(html.required || go.min === 0, `${page} #${id}: an empty name passes (pattern is not checked on "")`);
    assert.equal(html.maxlength, go.max, `${page} #${id}: maxlength is not MaxStream`);
    const wrong = table(go).filter((n) => html.accepts(n) !== go.valid(n));
    assert.deepEqual(wrong.map((n) => `${JSON.stringify(n)}: Go ${go.valid(n)}, page ${html.accepts(n)}`), [],
      `${page} #${id} pattern="${html.pattern}" disagrees with names.go`);
  });
}
