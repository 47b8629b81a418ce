// The rule in plain Node, before it becomes a component: `npm test`.
// (The component itself is checked by `airlock plugin test dist/emails.wasm`.)

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { sanitizerApi } from '../src/sanitizer.js';

const context = { stage: 'input', contentType: 'text/plain', options: [] };

function whole(text) {
  const verdict = sanitizerApi.sanitize(text, context);
  return verdict.tag === 'pass' ? { text, findings: [] } : verdict.val;
}

function streamed(text, size) {
  const session = new sanitizerApi.Session(context);
  let out = '';
  for (let at = 0; at < text.length; at += size) {
    out += session.push(text.slice(at, at + size));
  }
  const end = session.finish();
  return { text: out + end.tail, findings: end.findings };
}

test('an address is redacted with its byte offset', () => {
  const { text, findings } = whole('écrire à ada@example.org, merci');
  assert.equal(text, 'écrire à [email redacted], merci');
  assert.deepEqual(
    findings.map((f) => [f.rule, f.offset]),
    [['email-address', 11n]],
  );
});

test('text without addresses passes', () => {
  assert.deepEqual(sanitizerApi.sanitize('hello world', context), { tag: 'pass' });
});

test('redacting twice changes nothing more', () => {
  const once = whole('a@b.io and c.d@e.example.com').text;
  assert.equal(whole(once).text, once);
});

test('streamed equals whole, at any chunk size', () => {
  const text = 'mail ada@example.org or\tbob.smith+x@mail.example.co.uk\nnow; not@home or x@y.z ok';
  const expected = whole(text);
  for (const size of [1, 2, 3, 7, 64, 1000]) {
    assert.deepEqual(streamed(text, size), expected, `chunks of ${size}`);
  }
});

test('options are refused', () => {
  assert.throws(
    () => sanitizerApi.sanitize('x', { ...context, options: [['mode', 'x']] }),
    (error) => error.tag === 'invalid-request',
  );
});
