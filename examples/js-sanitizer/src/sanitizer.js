// The `emails` sanitizer, in JavaScript: replaces e-mail addresses with
// `[email redacted]`, in prompts (input) and in generated text (output).
//
// It implements the `sanitizer` world of wit/plugin.wit. componentize-js maps the WIT
// to JavaScript like this:
//
// - the exported interface `sanitizer-api` is the exported object `sanitizerApi`;
// - its functions are methods, its resource `session` is the class `Session`;
// - `result<T, E>`: return T, or throw E (a `plugin-error` variant);
// - a variant is `{ tag, val }`, an enum a string, an `option<u64>` a BigInt or
//   `undefined`, a `tuple<string, string>` a two-element array.
//
// Build: `npm run build` (writes dist/emails.wasm); check: `airlock plugin test
// dist/emails.wasm`.

const NAME = 'emails';
const VERSION = '0.1.0';
const REPLACEMENT = '[email redacted]';

// An address never contains white space, so a match never spans it: a stream may
// release everything up to its last white space and get what a whole text gets.
const ADDRESS = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;

const encoder = new TextEncoder();

/** The UTF-8 length of a JavaScript string: findings count bytes, as the WIT says. */
function utf8Length(text) {
  return encoder.encode(text).length;
}

/**
 * The rule, on a whole text (or on a piece that ends at white space).
 * `base` is the byte offset of `text` in the whole input.
 */
function rewrite(text, base) {
  const findings = [];
  let bytesBefore = base;
  let last = 0;
  const out = text.replace(ADDRESS, (match, at) => {
    bytesBefore += utf8Length(text.slice(last, at));
    last = at;
    findings.push({
      rule: 'email-address',
      message: 'an e-mail address was redacted',
      offset: BigInt(bytesBefore),
    });
    return REPLACEMENT;
  });
  return { text: out, findings };
}

/** The plugin-error an unknown option is. */
function invalidOptions(context) {
  if (context.options.length > 0) {
    const names = context.options.map(([name]) => `\`${name}\``).join(', ');
    return { tag: 'invalid-request', val: `${NAME} takes no options (got ${names})` };
  }
  return undefined;
}

export const sanitizerApi = {
  manifest() {
    return {
      name: NAME,
      version: VERSION,
      description: 'Redacts e-mail addresses (a JavaScript example)',
      stages: ['input', 'output'],
      contentTypes: ['text/plain'],
      options: [],
    };
  },

  sanitize(content, context) {
    const error = invalidOptions(context);
    if (error) {
      throw error;
    }
    const { text, findings } = rewrite(content, 0);
    if (findings.length === 0) {
      return { tag: 'pass' };
    }
    return { tag: 'rewritten', val: { text, findings } };
  },

  // One streaming session: text up to the last white space is final and released;
  // the rest is held until more arrives or the stream ends.
  Session: class Session {
    constructor(context) {
      this.error = invalidOptions(context);
      this.held = '';
      this.released = 0; // bytes of input already released
      this.findings = [];
      this.finished = false;
    }

    push(chunk) {
      this.check();
      this.held += chunk;
      const cut = lastWhiteSpace(this.held);
      if (cut < 0) {
        return '';
      }
      const ready = this.held.slice(0, cut + 1);
      this.held = this.held.slice(cut + 1);
      return this.release(ready);
    }

    finish() {
      this.check();
      this.finished = true;
      const tail = this.release(this.held);
      this.held = '';
      return { tail, findings: this.findings, blocked: undefined };
    }

    check() {
      if (this.error) {
        throw this.error;
      }
      if (this.finished) {
        throw { tag: 'invalid-request', val: 'the stream has already finished' };
      }
    }

    release(piece) {
      const { text, findings } = rewrite(piece, this.released);
      this.released += utf8Length(piece);
      this.findings.push(...findings);
      return text;
    }
  },
};

/** The index of the last white-space character in `text`, or -1. */
function lastWhiteSpace(text) {
  for (let i = text.length - 1; i >= 0; i--) {
    if (/\s/.test(text[i])) {
      return i;
    }
  }
  return -1;
}
