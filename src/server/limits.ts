/**
 * Operation limits for every transport: a token cap at parse time and a depth cap at validation,
 * so one request cannot make the server walk an unbounded document. In production, the schema is
 * not introspectable and validation messages do not suggest field names.
 */
import {
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  parse,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';

export const MAX_TOKENS = 5_000;
export const MAX_DEPTH = 12;

/** Refuses operations nested deeper than `max` fields (fragments followed, cycles cut). */
export function depthLimitRule(max: number) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    const depthOf = (set: SelectionSetNode | undefined, seen: Set<string>): number => {
      if (!set) return 0;
      let deepest = 0;
      for (const selection of set.selections) {
        if (selection.kind === Kind.FIELD) {
          deepest = Math.max(deepest, 1 + depthOf(selection.selectionSet, seen));
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          deepest = Math.max(deepest, depthOf(selection.selectionSet, seen));
        } else if (!seen.has(selection.name.value)) {
          const fragment = fragments.get(selection.name.value);
          deepest = Math.max(deepest, depthOf(fragment?.selectionSet, new Set([...seen, selection.name.value])));
        }
      }
      return deepest;
    };
    return {
      OperationDefinition(operation) {
        const depth = depthOf(operation.selectionSet, new Set());
        if (depth > max) {
          context.reportError(new GraphQLError(`The operation is ${depth} levels deep; the limit is ${max}.`, { nodes: [operation] }));
        }
      },
    };
  };
}

export function useOperationLimits(options: { production: boolean }): Plugin {
  return {
    onParse({ setParseFn }) {
      setParseFn((source, parseOptions) => parse(source, { ...parseOptions, maxTokens: MAX_TOKENS }));
    },
    onValidate({ addValidationRule }) {
      addValidationRule(depthLimitRule(MAX_DEPTH));
      if (options.production) addValidationRule(NoSchemaIntrospectionCustomRule);
      return ({ result, setResult }) => {
        if (!options.production || result.length === 0) return;
        // "Did you mean …?" would describe the schema to whoever guesses at it.
        setResult(result.map((e) => new GraphQLError(e.message.replace(/ Did you mean .*\?$/, ''), { nodes: e.nodes })));
      };
    },
  };
}
