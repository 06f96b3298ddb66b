/**
 * What a social post says, as pure functions (DESIGN "Buy by hashtag"): which hashtags it
 * carries, how a hashtag and a handle compare, the confirm hashtag derived from a buy hashtag,
 * handle verification codes, and the redaction of card numbers before a post is stored. No I/O,
 * no clock; the one source of randomness (verification codes) can be injected.
 *
 * Matching is on normal forms: NFKC (full-width `＃ＢｕｙＸ` is `#BuyX`, ligatures split), then a
 * case fold (see foldCase). Offers should keep `normalizeHashtag(hashtag)` beside the display form
 * so that the database compares what these functions compare.
 */
import { randomInt } from 'node:crypto';
import { cardNumberSpans } from '../cards/card-number.js';

export type SocialPlatform = 'X' | 'INSTAGRAM';

/** Characters a hashtag is made of: Unicode letters, digits, combining marks and `_`. */
const TAG_CHAR = String.raw`\p{L}\p{N}\p{M}_`;

/**
 * A `#` (after NFKC, `＃` and `﹟` are `#`) not glued to a word character on its left, then the
 * longest run of tag characters: the tag ends at the first other character (punctuation, space,
 * emoji, another `#`). Not preceded by `&` either, so HTML entities (`&#39;`) are not tags.
 */
const HASHTAG = new RegExp(String.raw`(?<![${TAG_CHAR}&])#([${TAG_CHAR}]+)`, 'gu');

/** Links: a `#` inside one is a page fragment (`https://shop.example/#BuyGiftCard25`), not a tag. */
const URL = /\bhttps?:\/\/\S+/giu;

const WHOLE_TAG = new RegExp(String.raw`^[${TAG_CHAR}]+$`, 'u');

/**
 * Case fold for matching, close to Unicode full case folding: lower, upper, then lower case
 * again maps `ß` and `ẞ` to `ss` and `ΟΔΟΣ`, `οδοσ`, `οδος` to one form, which lower case alone
 * does not (the first lower case is for capitals like `ẞ` whose upper case is themselves).
 * Turkish dotted `İ` and dotless `ı` fold to a plain `i`, so that `#BUYKİNDLE` typed on a
 * Turkish keyboard matches `#BuyKindle` (a lenient choice: it also merges `ı` and `i`). The
 * result is NFKC again because some lower-case letters have compatibility forms (`ǅ` → `ǆ` → `dž`).
 * `toLocaleLowerCase('und')` would be the same as `toLowerCase()`: the root locale has no
 * special rules, and a post's language is not known anyway.
 */
function foldCase(s: string): string {
  return s.replace(/[İı]/gu, 'i').toLowerCase().toUpperCase().toLowerCase().normalize('NFKC');
}

/**
 * The normal form of a hashtag, without its leading `#`: `#BuyGiftCard25`, `buygiftcard25` and
 * `＃ＢｕｙＧｉｆｔＣａｒｄ２５` are all `buygiftcard25`. Nothing else is removed, so a string
 * that is not a hashtag stays one that no post can match (see isValidHashtag).
 */
export function normalizeHashtag(tag: string): string {
  // Every leading `#`: in a post, `##BuyX` carries the tag `BuyX` (the second `#` starts it).
  return foldCase(tag.normalize('NFKC').replace(/^#+/u, ''));
}

/**
 * Whether `tag` (with or without `#`) is something a post can carry as one whole hashtag: after
 * normalisation, one or more letters, digits, combining marks or `_`. An offer's hashtags should
 * pass this; `#Buy Gift` or `#half½` (NFKC turns `½` into `1⁄2`) would never match a post.
 */
export function isValidHashtag(tag: string): boolean {
  return WHOLE_TAG.test(normalizeHashtag(tag));
}

/**
 * The hashtags of a post's text, normalised (normalizeHashtag), in order of first appearance,
 * each once. `#BuyGiftCard25.` and `(#BuyGiftCard25)` carry `buygiftcard25`; `#BuyGiftCard250`
 * does not; `a#tag`, `&#39;` and fragments inside links are not tags.
 */
export function extractHashtags(text: string): string[] {
  const plain = text.normalize('NFKC').replace(URL, ' ');
  const tags = new Set<string>();
  for (const m of plain.matchAll(HASHTAG)) tags.add(foldCase(m[1]!));
  return [...tags];
}

/** Whether the text carries `tag` (with or without `#`) as a whole hashtag. */
export function hasHashtag(text: string, tag: string): boolean {
  const wanted = normalizeHashtag(tag);
  return wanted !== '' && extractHashtags(text).includes(wanted);
}

// The confirm hashtag a buy hashtag derives is the offers module's rule; matching posts uses it.
export { confirmHashtagFor } from '../offers/offers.rules.js';

/**
 * The normal form of a social handle: trimmed, NFKC (full-width `＠ｊａｃｋ` is `@jack`), one
 * leading `@` dropped, lower case. Platforms compare handles case-insensitively.
 */
export function normalizeHandle(handle: string): string {
  const nfkc = handle.normalize('NFKC').trim();
  return (nfkc.startsWith('@') ? nfkc.slice(1) : nfkc).toLowerCase();
}

/** Each platform's own handle rules, on the normal form. */
const HANDLE_RULES: Record<SocialPlatform, RegExp> = {
  // X: 1–15 letters, digits or underscores.
  X: /^[a-z0-9_]{1,15}$/,
  // Instagram: 1–30 letters, digits, dots or underscores; no dot at either end, never two in a row.
  INSTAGRAM: /^(?!\.)(?!.*\.\.)(?!.*\.$)[a-z0-9._]{1,30}$/,
};

/** Whether `handle` (as a person types it: `@Jack`, ` jack `) is a handle the platform allows. */
export function isValidHandle(platform: SocialPlatform, handle: string): boolean {
  return HANDLE_RULES[platform].test(normalizeHandle(handle));
}

/**
 * Verification codes, e.g. `HB-7K4Q9M`: six characters a person reads off a screen and types
 * into a post, from an alphabet without the look-alikes 0/O and 1/I/L (31 symbols: about 8.9e8
 * codes, and each is only good for one handle for 30 minutes).
 */
export const VERIFICATION_CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const CODE_LENGTH = 6;

/**
 * A fresh code. `pick(n)` returns a uniform integer in [0, n): `crypto.randomInt` by default;
 * tests pass their own.
 */
export function generateVerificationCode(pick: (n: number) => number = (n) => randomInt(n)): string {
  let code = 'HB-';
  for (let i = 0; i < CODE_LENGTH; i++) code += VERIFICATION_CODE_ALPHABET[pick(VERIFICATION_CODE_ALPHABET.length)]!;
  return code;
}

/**
 * `HB`, an optional dash (any of the dashes phones substitute for `-`), six code characters, not
 * glued to a letter or digit on either side. Case-insensitive, so `hb-7k4q9m` counts; with no
 * dash it still counts, because some apps turn a typed code into a hashtag (`#HB7K4Q9M`).
 */
const CODE = new RegExp(
  String.raw`(?<![\p{L}\p{N}_])HB[-\u2010-\u2015\u2212]?([${VERIFICATION_CODE_ALPHABET}]{${CODE_LENGTH}})(?![\p{L}\p{N}\p{M}_])`,
  'giu',
);

/** Every verification code in a post's text, as `HB-XXXXXX` in upper case, in order, each once. */
export function findVerificationCodes(text: string): string[] {
  const codes = new Set<string>();
  for (const m of text.normalize('NFKC').matchAll(CODE)) codes.add(`HB-${m[1]!.toUpperCase()}`);
  return [...codes];
}

/** What replaces a card number in a stored post: nothing of the number, not even its last four. */
export const POST_CARD_REDACTED = '[redacted]';

/**
 * A post's text with every card number replaced by `[redacted]`, and how many there were. Posts
 * are what people type, so a card number in one is removed, never refused. Detection is the card
 * store's (cardNumberSpans: Luhn-valid 13–19 digits, grouped or not, uuids and hex digests left
 * alone), the same that keeps card numbers out of logs and inputs.
 */
export function redactCardNumbers(text: string): { text: string; redacted: number } {
  const parts: string[] = [];
  let copied = 0;
  let redacted = 0;
  for (const [from, to] of cardNumberSpans(text)) {
    parts.push(text.slice(copied, from), POST_CARD_REDACTED);
    copied = to;
    redacted++;
  }
  if (redacted === 0) return { text, redacted };
  parts.push(text.slice(copied));
  return { text: parts.join(''), redacted };
}
