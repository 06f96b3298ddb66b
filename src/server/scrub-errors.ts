/**
 * GraphQL's own error messages can quote the values a client sent ("Int cannot represent …:
 * 4242424242424242"). Every error message, on every transport, is scrubbed of card numbers
 * before it leaves the server; and an error never carries the JSON parser's own message about a
 * malformed body, which quotes the body itself.
 */
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { scrubCardNumbers } from '../modules/cards/card-number.js';

function scrubbed<E extends Error>(error: E): E | GraphQLError {
  const message = scrubCardNumbers(error.message);
  if (message === error.message) return error;
  return error instanceof GraphQLError
    ? new GraphQLError(message, { nodes: error.nodes, path: error.path, extensions: error.extensions })
    : new GraphQLError(message);
}

/**
 * Yoga answers a malformed JSON body with `extensions.originalError`: the parser's message, and
 * V8's quotes the start of the body (`"{"query": "{ offers 4242…" is not valid JSON`). The top
 * message ("POST body sent invalid JSON.") says all a client needs, so the original goes.
 */
function withoutOriginalError(error: GraphQLError): GraphQLError {
  if (!(error instanceof GraphQLError) || !error.extensions || !('originalError' in error.extensions)) return error;
  const { originalError: _quotesTheBody, ...extensions } = error.extensions;
  return new GraphQLError(scrubCardNumbers(error.message), { nodes: error.nodes, path: error.path, extensions });
}

function resultWithoutOriginalErrors<R>(result: R): R {
  if (Array.isArray(result)) return result.map((r) => resultWithoutOriginalErrors(r)) as R;
  if (!result || typeof result !== 'object' || Symbol.asyncIterator in result) return result;
  const errors = (result as { errors?: readonly GraphQLError[] }).errors;
  if (!errors?.some((e) => e instanceof GraphQLError && e.extensions && 'originalError' in e.extensions)) return result;
  return { ...result, errors: errors.map(withoutOriginalError) };
}

export function useCardNumberScrubbing(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      const cleaned = resultWithoutOriginalErrors(result);
      if (cleaned !== result) setResult(cleaned);
    },
    onParse() {
      return ({ result, replaceParseResult }) => {
        if (result instanceof GraphQLError) replaceParseResult(scrubbed(result));
      };
    },
    onValidate() {
      return ({ result, setResult }) => {
        if (result.length > 0) setResult(result.map((e: Error) => scrubbed(e)));
      };
    },
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (Symbol.asyncIterator in result || !result.errors) return;
          setResult({ ...result, errors: result.errors.map((e) => scrubbed(e) as GraphQLError) });
        },
      };
    },
  };
}
