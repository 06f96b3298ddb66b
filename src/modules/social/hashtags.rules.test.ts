import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { containsCardNumber, luhnValid } from '../cards/card-number.js';
import {
  confirmHashtagFor,
  extractHashtags,
  findVerificationCodes,
  generateVerificationCode,
  hasHashtag,
  isValidHandle,
  isValidHashtag,
  normalizeHandle,
  normalizeHashtag,
  POST_CARD_REDACTED,
  redactCardNumbers,
  VERIFICATION_CODE_ALPHABET,
} from './hashtags.rules.js';

// Property runs are replayable: FC_SEED=<seed> npx vitest run … reproduces a failure.
const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);
console.log(`fast-check seed: ${seed}`);
const runs = { seed, numRuns: 500 };

/** Full-width forms of ASCII letters and digits, as East Asian keyboards type them. */
const fullWidth = (s: string) => s.replace(/[0-9A-Za-z]/g, (c) => String.fromCodePoint(c.codePointAt(0)! + 0xfee0));

describe('extractHashtags', () => {
  it('finds whole tags, normalised, in order', () => {
    expect(extractHashtags('Tweet #BuyKindleFireHD to start purchase. Qty ltd #Deals')).toEqual(['buykindlefirehd', 'deals']);
  });
  it('does not match #BuyGiftCard25 inside #BuyGiftCard250', () => {
    expect(extractHashtags('#BuyGiftCard250')).toEqual(['buygiftcard250']);
    expect(hasHashtag('#BuyGiftCard250', '#BuyGiftCard25')).toBe(false);
    expect(hasHashtag('#BuyGiftCard25_', '#BuyGiftCard25')).toBe(false);
  });
  it('ends a tag at punctuation, emoji or another #', () => {
    for (const text of ['#buygiftcard25.', '#BuyGiftCard25!', '(#BuyGiftCard25)', "#BuyGiftCard25's", '#BuyGiftCard25🎁', '"#BuyGiftCard25"', '#BuyGiftCard25#x'])
      expect(hasHashtag(text, '#BuyGiftCard25'), text).toBe(true);
  });
  it('matches case-insensitively', () => {
    expect(hasHashtag('#BUYGIFTCARD25', '#BuyGiftCard25')).toBe(true);
    expect(hasHashtag('#buygiftcard25', '#BuyGiftCard25')).toBe(true);
  });
  it('matches full-width forms after NFKC (＃ＢｕｙＧｉｆｔＣａｒｄ２５ is #BuyGiftCard25)', () => {
    expect(hasHashtag('＃ＢｕｙＧｉｆｔＣａｒｄ２５', '#BuyGiftCard25')).toBe(true);
    expect(hasHashtag('＃BuyGiftCard25', '#BuyGiftCard25')).toBe(true);
    expect(hasHashtag('#BuyGiftCard25', '＃ＢｕｙＧｉｆｔＣａｒｄ２５')).toBe(true);
  });
  it('matches a composed and a decomposed accent alike', () => {
    expect(hasHashtag('#Caf\u00e9', '#Cafe\u0301')).toBe(true);
    expect(extractHashtags('#Cafe\u0301 ok')).toEqual(['caf\u00e9']);
  });
  it('folds ß to ss and the Greek final sigma, as Unicode case folding does', () => {
    expect(hasHashtag('#STRASSE', '#Straße')).toBe(true);
    expect(hasHashtag('#ΟΔΟΣ', '#οδοσ')).toBe(true);
    expect(hasHashtag('#STRAẞE', '#strasse')).toBe(true);
  });
  it('folds Turkish dotted İ and dotless ı to i', () => {
    expect(hasHashtag('#BUYKİNDLE', '#BuyKindle')).toBe(true);
    expect(hasHashtag('#buykındle', '#BuyKindle')).toBe(true);
  });
  it('takes letters and digits of any script', () => {
    expect(extractHashtags('#東京2026 and #مرحبا٣ and #Ünïcödé')).toEqual(['東京2026', 'مرحبا٣', 'ünïcödé']);
  });
  it('does not take a # glued to a letter, digit or _ on its left (a#tag)', () => {
    expect(extractHashtags('a#tag 1#tag _#tag é#tag')).toEqual([]);
  });
  it('does not take HTML entities (&#39;) as tags', () => {
    expect(extractHashtags('it&#39;s &#x27;quoted&#x27;')).toEqual([]);
  });
  it('does not take a fragment inside a link as a tag', () => {
    expect(extractHashtags('see https://shop.example/#BuyGiftCard25 and HTTP://x.example/a#b')).toEqual([]);
    expect(extractHashtags('see https://shop.example/ #BuyGiftCard25')).toEqual(['buygiftcard25']);
  });
  it('takes the tag after ## or after a dash or slash', () => {
    expect(extractHashtags('##one -#two /#three')).toEqual(['one', 'two', 'three']);
  });
  it('lists a tag repeated in other cases once', () => {
    expect(extractHashtags('#BuyX #buyx #BUYX #Other #buyX')).toEqual(['buyx', 'other']);
  });
  it('finds nothing in a text without tags, nor in a lone #', () => {
    expect(extractHashtags('no tags here # at all')).toEqual([]);
    expect(hasHashtag('#', '#')).toBe(false);
    expect(hasHashtag('#BuyX', '')).toBe(false);
  });
});

describe('normalizeHashtag and isValidHashtag', () => {
  it('drops the leading # or ＃ and folds case', () => {
    expect(normalizeHashtag('#BuyGiftCard25')).toBe('buygiftcard25');
    expect(normalizeHashtag('＃BuyGiftCard25')).toBe('buygiftcard25');
    expect(normalizeHashtag('BuyGiftCard25')).toBe('buygiftcard25');
  });
  it('is idempotent on every single code point (a case fold must not need a second pass, as ẞ → ß → ss would)', () => {
    const unstable: string[] = [];
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const once = normalizeHashtag(String.fromCodePoint(cp));
      if (normalizeHashtag(once) !== once) unstable.push(cp.toString(16));
    }
    expect(unstable).toEqual([]);
  });
  it('accepts only what a post can carry as one whole tag', () => {
    expect(isValidHashtag('#BuyGiftCard25')).toBe(true);
    expect(isValidHashtag('BuyGiftCard25')).toBe(true);
    expect(isValidHashtag('#東京')).toBe(true);
    for (const bad of ['', '#', '#Buy Gift', '#Buy-Gift', '#half½', '#a.b', ' #BuyX'])
      expect(isValidHashtag(bad), bad).toBe(false);
  });
});

describe('confirmHashtagFor', () => {
  it.each([
    ['#BuyKindleFireHD', '#ConfirmKindleFireHD'],
    ['#BuyGiftCard25', '#ConfirmGiftCard25'],
    ['#buyKindle', '#ConfirmKindle'],
    ['#BUYKINDLE', '#ConfirmKINDLE'],
    ['#buykindle', '#Confirmkindle'],
    ['#Buy_25', '#Confirm_25'],
    ['＃ＢｕｙＧｉｆｔ', '#ConfirmGift'],
    ['BuyGift', '#ConfirmGift'],
  ])('derives %s → %s', (buy, confirm) => expect(confirmHashtagFor(buy)).toBe(confirm));
  it('puts Confirm in front of a tag that does not start with Buy', () => {
    expect(confirmHashtagFor('#GiftCard')).toBe('#ConfirmGiftCard');
    expect(confirmHashtagFor('#Buy')).toBe('#ConfirmBuy');
  });
  it('does not cut Buy out of a word that merely starts with it (#BuyersClub)', () => {
    expect(confirmHashtagFor('#BuyersClub')).toBe('#ConfirmBuyersClub');
  });
});

describe('handles', () => {
  it('normalises: trimmed, one @ or ＠ dropped, NFKC, lower case', () => {
    expect(normalizeHandle('  @Jack_Dorsey ')).toBe('jack_dorsey');
    expect(normalizeHandle('＠ｊａｃｋ')).toBe('jack');
    expect(normalizeHandle('jack')).toBe('jack');
    expect(normalizeHandle('@@jack')).toBe('@jack');
  });
  it('X: 1–15 letters, digits or underscores', () => {
    expect(isValidHandle('X', '@Jack_2013')).toBe(true);
    expect(isValidHandle('X', 'a'.repeat(15))).toBe(true);
    for (const bad of ['', '@', 'a'.repeat(16), 'jack.d', 'jäck', 'ja ck', '@@jack']) expect(isValidHandle('X', bad), bad).toBe(false);
  });
  it('Instagram: 1–30 letters, digits, dots or underscores, no dot at an end, no two dots in a row', () => {
    expect(isValidHandle('INSTAGRAM', '@Jack.Dorsey_1')).toBe(true);
    expect(isValidHandle('INSTAGRAM', 'a'.repeat(30))).toBe(true);
    for (const bad of ['', 'a'.repeat(31), '.jack', 'jack.', 'ja..ck', 'ja-ck', 'jäck'])
      expect(isValidHandle('INSTAGRAM', bad), bad).toBe(false);
  });
});

describe('verification codes', () => {
  it('are HB- and six characters without 0/O/1/I/L', () => {
    for (let i = 0; i < 200; i++) expect(generateVerificationCode()).toMatch(/^HB-[2-9A-HJKMNP-Z]{6}$/);
    expect(VERIFICATION_CODE_ALPHABET).not.toMatch(/[01OIL]/);
  });
  it('take their characters from the injected source', () => {
    let i = 0;
    expect(generateVerificationCode(() => i++)).toBe('HB-234567');
    expect(generateVerificationCode((n) => n - 1)).toBe('HB-ZZZZZZ');
  });
  it('are found anywhere in a text, in any case, upper-cased, each once', () => {
    expect(findVerificationCodes('verifying my hashback: HB-7K4Q9M.')).toEqual(['HB-7K4Q9M']);
    expect(findVerificationCodes('hb-7k4q9m (HB-7K4Q9M) and HB-22ZZ22')).toEqual(['HB-7K4Q9M', 'HB-22ZZ22']);
  });
  it('are found written as a hashtag, without the dash, or with a dash a phone substituted', () => {
    expect(findVerificationCodes('#HB7K4Q9M')).toEqual(['HB-7K4Q9M']);
    expect(findVerificationCodes('HB\u20137K4Q9M')).toEqual(['HB-7K4Q9M']);
    expect(findVerificationCodes('ＨＢ－７Ｋ４Ｑ９Ｍ')).toEqual(['HB-7K4Q9M']);
  });
  it('are not found glued to other letters or digits, too long, or with a look-alike character', () => {
    expect(findVerificationCodes('XHB-7K4Q9M HB-7K4Q9MM HB-7K4Q9 HB-7K4Q0M HB-7K4QOM')).toEqual([]);
  });
});

/** A Luhn-valid number of `length` digits starting with `first` (2–9: what a network issues). */
function card(first: number, body: number[], length: number): string {
  const stem = [first, ...body].slice(0, length - 1).join('').padEnd(length - 1, '0');
  for (let check = 0; check <= 9; check++) if (luhnValid(stem + check)) return stem + check;
  throw new Error('unreachable');
}

describe('redactCardNumbers', () => {
  it('replaces a card number, grouped or not, with [redacted] and counts it', () => {
    expect(redactCardNumbers('my card is 4242 4242 4242 4242 lol')).toEqual({ text: `my card is ${POST_CARD_REDACTED} lol`, redacted: 1 });
    expect(redactCardNumbers('5555-5555-5555-4444 and 378282246310005 #BuyGiftCard25')).toEqual({
      text: `${POST_CARD_REDACTED} and ${POST_CARD_REDACTED} #BuyGiftCard25`,
      redacted: 2,
    });
    expect(redactCardNumbers('#4242424242424242')).toEqual({ text: `#${POST_CARD_REDACTED}`, redacted: 1 });
  });
  it('leaves uuids, hex digests, prices and short numbers alone', () => {
    const text = 'id 42424242-4242-4242-4242-424242424242 sha a3f1c2d4e5b6a7980112233445566778 $15.00 call 555-0100 #BuyGiftCard25';
    expect(redactCardNumbers(text)).toEqual({ text, redacted: 0 });
  });
  it('leaves a number that fails the Luhn check alone', () => {
    expect(redactCardNumbers('4242 4242 4242 4241')).toEqual({ text: '4242 4242 4242 4241', redacted: 0 });
  });
});

describe('properties', () => {
  /** Characters that stay tag characters through NFKC and case folding, of several scripts. */
  const tagChar = fc.constantFrom(
    ...'abcxyzABCXYZ0189_',
    'é', 'ü', 'ß', 'ẞ', 'İ', 'ı', 'Σ', 'ς', 'σ', 'Ａ', '２', 'ﬁ', '東', 'ك', '٣', 'ǅ', 'K',
  );
  const tag = fc.string({ unit: tagChar, minLength: 1, maxLength: 20 });
  const tagWithMarks = fc.tuple(tag, fc.constantFrom('', '\u0301', '\u0308')).map(([t, m]) => t + m);
  const anyText = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 }));

  it('finds a tag appended to any text after a space', () => {
    fc.assert(
      fc.property(anyText, tagWithMarks, (text, t) => {
        expect(isValidHashtag(t)).toBe(true);
        expect(hasHashtag(`${text} #${t}`, t)).toBe(true);
        expect(hasHashtag(`${text} #${t}`, `#${t}`)).toBe(true);
      }),
      runs,
    );
  });
  it('finds a tag in its full-width form', () => {
    fc.assert(
      fc.property(tag, (t) => {
        expect(hasHashtag(`＃${fullWidth(t)}`, t)).toBe(true);
      }),
      runs,
    );
  });
  it('no longer matches once a tag character is appended', () => {
    const textWithoutHash = fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map((s) => s.replace(/#/g, ''));
    fc.assert(
      fc.property(textWithoutHash, tag, tagChar, (text, t, c) => {
        expect(hasHashtag(`${text} #${t}${c}`, t)).toBe(false);
      }),
      runs,
    );
  });
  it('is not a tag when glued to a letter, digit or _ on its left', () => {
    fc.assert(
      fc.property(tagChar, tag, (c, t) => {
        expect(extractHashtags(`${c}#${t}`)).toEqual([]);
      }),
      runs,
    );
  });
  it('normalises idempotently, and every extracted tag is its own normal form', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        expect(normalizeHashtag(normalizeHashtag(s))).toBe(normalizeHashtag(s));
        for (const t of extractHashtags(s)) {
          expect(normalizeHashtag(t)).toBe(t);
          expect(isValidHashtag(t)).toBe(true);
        }
      }),
      runs,
    );
  });
  it('lists each tag once', () => {
    fc.assert(
      fc.property(fc.array(tag, { maxLength: 8 }), (tags) => {
        const found = extractHashtags(tags.map((t) => `#${t}`).join(' ') + ' ' + tags.map((t) => `#${t.toUpperCase()}`).join(' '));
        expect(new Set(found).size).toBe(found.length);
      }),
      runs,
    );
  });
  it('derives a confirm hashtag that is valid and never the buy hashtag', () => {
    fc.assert(
      fc.property(tag, (t) => {
        const confirm = confirmHashtagFor(`#${t}`);
        expect(isValidHashtag(confirm)).toBe(true);
        expect(normalizeHashtag(confirm)).not.toBe(normalizeHashtag(t));
      }),
      runs,
    );
  });
  it('normalises handles idempotently, except for one more leading @', () => {
    fc.assert(
      fc.property(anyText, (s) => {
        const once = normalizeHandle(s);
        if (!once.startsWith('@')) expect(normalizeHandle(once)).toBe(once);
      }),
      runs,
    );
  });
  it('finds every generated verification code, whatever surrounds it', () => {
    const source = fc.array(fc.nat(), { minLength: 6, maxLength: 6 });
    const around = fc.string({ unit: 'grapheme-ascii', maxLength: 20 }).map((s) => s.replace(/[0-9A-Za-z_]+$|^[0-9A-Za-z_]+/g, ''));
    fc.assert(
      fc.property(source, around, around, (picks, before, after) => {
        let i = 0;
        const code = generateVerificationCode((n) => picks[i++]! % n);
        expect(findVerificationCodes(`${before} ${code.toLowerCase()} ${after}`)).toContain(code);
        expect(findVerificationCodes(`${before}#${code.replace('-', '')}${after}`)).toContain(code);
      }),
      runs,
    );
  });

  const digit = fc.integer({ min: 0, max: 9 });
  const cardNumber = fc
    .record({
      first: fc.integer({ min: 2, max: 9 }),
      body: fc.array(digit, { minLength: 18, maxLength: 18 }),
      length: fc.integer({ min: 13, max: 19 }),
      grouping: fc.constantFrom('', ' ', '-'),
    })
    .map(({ first, body, length, grouping }) => (card(first, body, length).match(/.{1,4}/g) ?? []).join(grouping));
  const word = fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }), fc.constantFrom('#BuyGiftCard25', '$15', 'HB-7K4Q9M'));
  const digitFreeWord = word.map((w) => w.replace(/[0-9]/g, '') || 'x');

  it('leaves no card number behind, and a second pass finds nothing', () => {
    const piece = fc.oneof(cardNumber, word, fc.uuid());
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 10 }), fc.constantFrom(' ', '', '\n', ' - '), (pieces, glue) => {
        const once = redactCardNumbers(pieces.join(glue));
        expect(containsCardNumber(once.text)).toBe(false);
        expect(redactCardNumbers(once.text)).toEqual({ text: once.text, redacted: 0 });
      }),
      runs,
    );
  });
  it('removes every digit of each card number set apart by words, and keeps the words', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(digitFreeWord, cardNumber), { maxLength: 6 }), digitFreeWord, (pairs, last) => {
        const text = pairs.map(([w, n]) => `${w} ${n} `).join('') + last;
        const { text: out, redacted } = redactCardNumbers(text);
        expect(redacted).toBe(pairs.length);
        expect(out).toBe(pairs.map(([w]) => `${w} ${POST_CARD_REDACTED} `).join('') + last);
      }),
      runs,
    );
  });
  it('keeps text without digits, and uuids, exactly as it was', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(digitFreeWord, fc.uuid()), { maxLength: 10 }), (pieces) => {
        const text = pieces.join(' ');
        expect(redactCardNumbers(text)).toEqual({ text, redacted: 0 });
      }),
      runs,
    );
  });
});
