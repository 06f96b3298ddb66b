/**
 * Text Postgres cannot store never reaches a resolver: a NUL character (U+0000) in any string of
 * an operation, in its variables or in a string literal of its document, refuses the whole
 * operation before it runs, with BAD_USER_INPUT and HTTP 400. Postgres `text` cannot hold U+0000
 * ("invalid byte sequence for encoding UTF8: 0x00"): without this the statement failed midway, the
 * client read a masked INTERNAL_SERVER_ERROR, and a batch (ingestTransactions, ingestPosts) lost
 * every item. One check for every operation on every transport (HTTP, SSE and graphql-ws all run
 * through yoga's envelop), so a new field or argument is covered without anyone remembering to.
 * Only NUL is refused: tab, newline and the other control characters are stored as sent.
 */
import { GraphQLError, visit, BREAK, type DocumentNode, type ExecutionResult, type StringValueNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { truncate } from '../lib/text.js';
import { scrubCardNumbers } from '../modules/cards/card-number.js';

const NUL = '\u0000';

/** Longest place named in a refusal. */
const MAX_WHERE = 80;

/** Path (keys and indexes) to the first string in `value` holding a NUL, or null when there is none. */
function nulPath(value: unknown): (string | number)[] | null {
  if (typeof value === 'string') return value.includes(NUL) ? [] : null;
  if (value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulPath(value[i]);
      if (found) return [i, ...found];
    }
    return null;
  }
  for (const key of Object.keys(value)) {
    const found = nulPath((value as Record<string, unknown>)[key]);
    if (found) return [key, ...found];
  }
  return null;
}

/** The first string literal of `document` holding a NUL (a `\u0000` escape, or the raw character), or null. */
function nulLiteral(document: DocumentNode): StringValueNode | null {
  let found: StringValueNode | null = null;
  visit(document, {
    StringValue(node) {
      if (!node.value.includes(NUL)) return undefined;
      found = node;
      return BREAK;
    },
  });
  return found;
}

/**
 * The refusal: where the NUL is, never the text around it. The place is made of the client's own
 * keys, so it is cut short and scrubbed here: the refusal ends the operation before the plugins
 * that tidy and scrub answers see it.
 */
function refusal(where: string, node?: StringValueNode): ExecutionResult {
  const place = truncate(scrubCardNumbers(where), MAX_WHERE);
  return {
    errors: [
      new GraphQLError(`${place} holds a NUL character (U+0000), which text cannot contain; remove it and send the operation again.`, {
        nodes: node,
        extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
      }),
    ],
  };
}

/** The refusal for an operation holding a NUL in a literal or a variable, or null when it holds none. */
function nulCharacterRefusal(
  document: DocumentNode,
  variables: Record<string, unknown> | null | undefined,
  literalsChecked: WeakMap<DocumentNode, StringValueNode | null>,
): ExecutionResult | null {
  // yoga keeps parsed documents: each one is walked once.
  let literal = literalsChecked.get(document);
  if (literal === undefined) {
    literal = nulLiteral(document);
    literalsChecked.set(document, literal);
  }
  if (literal) return refusal('A string in the document', literal);
  const path = variables ? nulPath(variables) : null;
  if (path) return refusal(`The variable $${path.join('.')}`);
  return null;
}

/**
 * Refuses an operation holding a NUL before it executes or subscribes. Place it after the
 * operation limits: the variables it walks are then bounded in size and depth.
 */
export function useNulCharacterGuard(): Plugin {
  const literalsChecked = new WeakMap<DocumentNode, StringValueNode | null>();
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const refused = nulCharacterRefusal(args.document, args.variableValues, literalsChecked);
      if (refused) setResultAndStopExecution(refused);
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const refused = nulCharacterRefusal(args.document, args.variableValues, literalsChecked);
      if (refused) setResultAndStopExecution(refused);
    },
  };
}
