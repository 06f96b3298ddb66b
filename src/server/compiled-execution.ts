/**
 * Queries run compiled (graphql-jit through @envelop/graphql-jit): each document is compiled once
 * into a function that resolves its selection without graphql-js's generic walk over the AST,
 * and kept for as long as yoga's parse cache keeps the document (compiled queries are held per
 * document object). The profile of the public feed put graphql-js's executor at about 13% of a
 * request's CPU.
 *
 * Variables are still checked by graphql-js first, so a bad variable reads exactly as before
 * (graphql-jit words its coercion errors differently and without "Did you mean" hints in
 * development). Mutations and subscriptions keep graphql-js: a mutation runs once per document
 * anyway, and subscriptions are shared by the live fan-out, which executes them itself.
 */
import { useGraphQlJit } from '@envelop/graphql-jit';
import { getOperationAST, getVariableValues, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const isQuery = (document: DocumentNode, operationName: string | null | undefined) =>
  getOperationAST(document, operationName ?? undefined)?.operation === 'query';

/** Two plugins, in this order, before any plugin that wraps the executor (the response cache). */
export function useCompiledQueries(): Plugin[] {
  const compiled = useGraphQlJit(
    {},
    {
      enableIf: (args) => isQuery(args.document, args.operationName),
      // A document graphql-jit cannot compile is answered with its errors; the operation log has them.
      onError: () => undefined,
    },
  ) as Plugin;
  const variablesFirst: Plugin = {
    onExecute({ args, executeFn, setExecuteFn }) {
      const operation = getOperationAST(args.document, args.operationName ?? undefined);
      if (operation?.operation !== 'query' || !operation.variableDefinitions?.length) return;
      setExecuteFn((execution) => {
        const { errors } = getVariableValues(execution.schema, operation.variableDefinitions ?? [], execution.variableValues ?? {}, { maxErrors: 50 });
        return errors ? { errors } : executeFn(execution);
      });
    },
  };
  return [compiled, variablesFirst];
}
