/**
 * GraphQL's own error messages can quote the values a client sent ("Int cannot represent …:
 * 4242424242424242"). Every error message, on every transport, is scrubbed of card numbers
 * before it leaves the server. (A malformed body is answered without quoting it by the request
 * parser in http-edge.ts.)
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

export function useCardNumberScrubbing(): Plugin {
  return {
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
