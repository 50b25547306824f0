/**
 * User tokens (shared/auth/user-token.ts): what verifies and what does not, rotation, constant-time secret
 * comparison, and the minting snippets of docs/security.md run as written (Node and Python) — a site that
 * copies them gets tokens the edge and the origin accept.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchesAnySecret, secretsEqual } from '../../shared/auth/constant-time.ts';
import { MAX_TOKEN_LIFETIME_SECONDS, signUserToken, tokenSecrets, verifyUserToken } from '../../shared/auth/user-token.ts';
import { identifyVisitor } from '../../edge/src/identity.ts';
import { root, tempDir } from '../nightly/helpers.ts';

const SECRET = 'unit-test-secret-0123456789abcdef-xyz';
const OLD = 'the-previous-secret-0123456789abcdefgh';
const now = Date.now();
const inSeconds = (s: number): number => Math.floor(now / 1000) + s;

describe('user tokens', () => {
  it('verify for their user until they expire, with the current or the previous secret', async () => {
    const token = await signUserToken(SECRET, 'u1', inSeconds(600));
    expect(await verifyUserToken([SECRET], 'u1', token, now)).toEqual({ ok: true, userId: 'u1', expiresAt: inSeconds(600) });
    expect((await verifyUserToken([SECRET, OLD], 'u1', await signUserToken(OLD, 'u1', inSeconds(60)), now)).ok).toBe(true);
    expect(await verifyUserToken([SECRET], 'u1', token, (inSeconds(600) + 1) * 1000)).toEqual({ ok: false, reason: 'expired' });
  });

  it('refuse another user, a forged or tampered token, a too long-lived one, garbage, and no secret at all', async () => {
    const token = await signUserToken(SECRET, 'u1', inSeconds(600));
    expect(await verifyUserToken([SECRET], 'u2', token, now)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(await verifyUserToken([SECRET], 'u1', await signUserToken('another-secret-0123456789abcdefghijk', 'u1', inSeconds(600)), now)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(await verifyUserToken([SECRET], 'u1', token.replace(/\.(\d+)\./, (_, e: string) => `.${Number(e) + 1}.`), now)).toEqual({ ok: false, reason: 'bad-signature' });
    expect(await verifyUserToken([SECRET], 'u1', await signUserToken(SECRET, 'u1', inSeconds(MAX_TOKEN_LIFETIME_SECONDS + 60)), now)).toEqual({ ok: false, reason: 'too-long-lived' });
    expect(await verifyUserToken([SECRET], 'u1', undefined, now)).toEqual({ ok: false, reason: 'missing' });
    expect(await verifyUserToken([], 'u1', token, now)).toEqual({ ok: false, reason: 'not-configured' });
    // The id separator cannot be smuggled: "u1|9" with exp e is not "u1" with exp "9|e".
    expect((await verifyUserToken([SECRET], 'u1|9', token, now)).ok).toBe(false);
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (garbage) => {
        expect((await verifyUserToken([SECRET], 'u1', garbage, now)).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('refuse secrets shorter than 32 characters at configuration time', () => {
    expect(() => tokenSecrets('short', undefined)).toThrow(/32/);
    expect(tokenSecrets(SECRET, '')).toEqual([SECRET]);
    expect(tokenSecrets(undefined, undefined)).toEqual([]);
  });

  it('compare operator secrets without a shortcut on the first different byte or on length', async () => {
    expect(await secretsEqual('a'.repeat(40), 'a'.repeat(40))).toBe(true);
    expect(await secretsEqual('a'.repeat(40), 'a'.repeat(39))).toBe(false);
    expect(await matchesAnySecret('k2-0123456789', ['k1-0123456789', 'k2-0123456789'])).toBe(true);
    expect(await matchesAnySecret(undefined, ['k1'])).toBe(false);
  });
});

describe('the edge identifies a visitor', () => {
  const config = { userTokenSecrets: [SECRET], allowedOrigins: ['https://shop.example'] };
  it('as the user only with a valid token from an allowed page or without an Origin', async () => {
    const token = await signUserToken(SECRET, 'u1', inSeconds(600));
    expect(await identifyVisitor({ user: 'u1', token, origin: undefined }, config, now)).toEqual({ kind: 'user', userId: 'u1' });
    expect(await identifyVisitor({ user: 'u1', token, origin: 'https://shop.example' }, config, now)).toEqual({ kind: 'user', userId: 'u1' });
    expect(await identifyVisitor({ user: 'u1', token, origin: 'https://evil.example' }, config, now)).toEqual({ kind: 'anonymous', because: 'origin-not-allowed' });
    expect(await identifyVisitor({ user: 'u1', token, origin: 'null' }, config, now)).toEqual({ kind: 'anonymous', because: 'origin-not-allowed' });
    expect(await identifyVisitor({ user: 'u1', token: undefined, origin: undefined }, { ...config, userTokenSecrets: [] }, now)).toEqual({ kind: 'anonymous', because: 'user-tokens-not-configured' });
    expect(await identifyVisitor({ user: undefined, token, origin: undefined }, config, now)).toEqual({ kind: 'anonymous', because: null });
  });
});

/** The fenced block of `language` under the "Minting tokens" heading of docs/security.md. */
function docSnippet(language: string): string {
  const doc = readFileSync(join(root, 'docs', 'security.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### Minting tokens'));
  const match = section.match(new RegExp('```' + language + '\\n([\\s\\S]*?)```'));
  if (!match?.[1]) throw new Error(`no ${language} snippet in docs/security.md`);
  return match[1];
}

describe('docs/security.md minting snippets', () => {
  it('Node: the token verifies for its user', async () => {
    const dir = await tempDir('token-node');
    const file = join(dir, 'mint.mjs');
    writeFileSync(file, `${docSnippet('js')}\nprocess.stdout.write(userToken(process.argv[2], process.argv[3]));\n`);
    const token = execFileSync(join(root, 'node_modules', '.bin', 'node'), [file, SECRET, 'shopper-42'], { encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });
    expect(await verifyUserToken([SECRET], 'shopper-42', token, Date.now())).toMatchObject({ ok: true, userId: 'shopper-42' });
    expect((await verifyUserToken([SECRET], 'shopper-43', token, Date.now())).ok).toBe(false);
  });

  it('Python: the token verifies for its user', async () => {
    const code = `${docSnippet('python')}\nimport sys\nsys.stdout.write(user_token(sys.argv[1], sys.argv[2]))\n`;
    const token = execFileSync('/usr/bin/python3', ['-c', code, SECRET, 'shopper-42'], { encoding: 'utf8' });
    expect(await verifyUserToken([SECRET], 'shopper-42', token, Date.now())).toMatchObject({ ok: true, userId: 'shopper-42' });
  });
});
