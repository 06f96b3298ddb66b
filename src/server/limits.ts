/**
 * Operation limits, the same on HTTP, SSE and graphql-ws (all three run through yoga's envelop):
 *
 * - at parse: a token cap (graphql-armor);
 * - at validation: depth (counted once per fragment, so linear), aliases and directives
 *   (graphql-armor), and a cap on root fields of one name, so `{ a0: x … a999: x }` is refused
 *   before it runs; introspection passes in development and is refused in production;
 * - before execution, when the variables are known: a shape check on the variables (a wide or
 *   deep object is refused before graphql-js coerces and quotes it), then the operation's cost,
 *   where a list multiplies what it selects by its `first` (or the length of its ids). The cost
 *   is refused above the limit, charged to the caller's rate limit, and reported in
 *   `extensions.cost { requested limit }`.
 *
 * graphql-armor's own cost rule cannot see variables (`first: $n` would count as 1), and it has no
 * notion of connections, so the cost is ours. Every error leaves here tidy: at most
 * MAX_ERRORS, each message cut to MAX_MESSAGE characters, and in production no "Did you mean …?".
 */
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import {
  getNamedType,
  getNullableType,
  getOperationAST,
  GraphQLError,
  isCompositeType,
  isInterfaceType,
  isLeafType,
  isListType,
  isObjectType,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type ASTVisitor,
  type DocumentNode,
  type ExecutionResult,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValueNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from '../context.js';
import { RateLimitExceeded, rateLimitHeaders, type LimitState, type RateLimits } from '../rate-limits.js';

export const OPERATION_LIMITS = {
  tokens: 5_000,
  depth: 12,
  aliases: 15,
  directives: 10,
  /** Root fields of one name (aliased or not) in one operation. */
  sameRootField: 5,
  /** Keys of one object, values in all, and nesting, of an operation's variables. */
  variableKeys: 100,
  variableValues: 20_000,
  variableDepth: 16,
} as const;

/** What a list without `first` or ids is assumed to hold, and what a mutation field adds. */
export const COST = { defaultListSize: 10, mutation: 10 } as const;

export const MAX_ERRORS = 5;
export const MAX_MESSAGE = 200;

const limitError = (message: string, code: string, extensions: Record<string, unknown> = {}) =>
  new GraphQLError(message, { extensions: { code, ...extensions } });

/** Reports armor's rejections as validation errors (rather than throwing) with plain wording. */
const report = (context: ValidationContext | null, error: GraphQLError) =>
  context?.reportError(new GraphQLError(error.message.replace(/^Syntax Error: /, ''), { extensions: { code: 'OPERATION_LIMIT' } }));
const armor = { propagateOnRejection: false, onReject: [report] };

/** Refuses more than `max` root fields of one name in an operation (fragments at the root counted). */
export function sameRootFieldRule(max: number) {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation) {
      const counts = new Map<string, number>();
      const seen = new Set<string>();
      const count = (set: SelectionSetNode) => {
        for (const selection of set.selections) {
          if (selection.kind === Kind.FIELD) {
            counts.set(selection.name.value, (counts.get(selection.name.value) ?? 0) + 1);
          } else if (selection.kind === Kind.INLINE_FRAGMENT) {
            count(selection.selectionSet);
          } else if (!seen.has(selection.name.value)) {
            seen.add(selection.name.value);
            const fragment = context.getFragment(selection.name.value);
            if (fragment) count(fragment.selectionSet);
          }
        }
      };
      count(operation.selectionSet);
      for (const [name, n] of counts) {
        if (n > max) {
          context.reportError(
            new GraphQLError(`The operation selects ${name} ${n} times; the limit is ${max} per operation.`, {
              nodes: [operation],
              extensions: { code: 'OPERATION_LIMIT' },
            }),
          );
        }
      }
    },
  });
}

/** Refuses variables wider, larger or deeper than OPERATION_LIMITS allow; null when they fit. */
export function variablesProblem(variables: unknown): string | null {
  let values = 0;
  const walk = (value: unknown, depth: number): string | null => {
    if (++values > OPERATION_LIMITS.variableValues) return `The variables hold more than ${OPERATION_LIMITS.variableValues} values.`;
    if (depth > OPERATION_LIMITS.variableDepth) return `The variables nest deeper than ${OPERATION_LIMITS.variableDepth} levels.`;
    if (value === null || typeof value !== 'object') return null;
    const entries = Array.isArray(value) ? value : Object.keys(value);
    if (!Array.isArray(value) && entries.length > OPERATION_LIMITS.variableKeys) {
      return `An object in the variables has more than ${OPERATION_LIMITS.variableKeys} keys.`;
    }
    for (const item of Array.isArray(value) ? value : Object.values(value)) {
      const problem = walk(item, depth + 1);
      if (problem) return problem;
    }
    return null;
  };
  return walk(variables, 0);
}

function argumentValue(node: ValueNode | undefined, variables: Record<string, unknown>): unknown {
  if (!node) return undefined;
  switch (node.kind) {
    case Kind.VARIABLE:
      return variables[node.name.value];
    case Kind.INT:
      return Number(node.value);
    case Kind.LIST:
      return node.values;
    default:
      return undefined;
  }
}

/** How many items a list field selects: its `first`, else the length of a list argument, else a default. */
function listSize(field: FieldNode, definition: GraphQLField<unknown, unknown>, variables: Record<string, unknown>): number {
  const given = (name: string) => argumentValue(field.arguments?.find((a) => a.name.value === name)?.value, variables);
  const first = definition.args.find((a) => a.name === 'first');
  if (first) {
    const value = given('first') ?? first.defaultValue;
    return typeof value === 'number' && Number.isFinite(value) ? Math.max(0, value) : COST.defaultListSize;
  }
  for (const arg of definition.args) {
    if (!isListType(getNullableType(arg.type))) continue;
    const value = given(arg.name);
    if (Array.isArray(value)) return value.length;
  }
  return COST.defaultListSize;
}

/**
 * The cost of an operation: an object field costs 1 plus what it selects; a leaf costs nothing;
 * a list or connection costs 1 plus its size times what one item selects (inside a connection,
 * `edges` and `nodes` are already counted by the connection's `first`); a mutation field adds
 * COST.mutation. Each fragment is costed once per type it is spread on.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> = {},
): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const memo = new Map<string, number>();
  const walk = (set: SelectionSetNode | undefined, parent: GraphQLNamedType | null | undefined, inProgress: Set<string>): number => {
    if (!set || !parent || !isCompositeType(parent)) {
      return 0;
    }
    let total = 0;
    for (const selection of set.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        total += walk(selection.selectionSet, type, inProgress);
      } else if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment || inProgress.has(name)) continue;
        let cost = memo.get(name);
        if (cost === undefined) {
          cost = walk(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value), new Set([...inProgress, name]));
          memo.set(name, cost);
        }
        total += cost;
      } else {
        if (selection.name.value.startsWith('__')) continue; // introspection: refused in production
        const definition = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[selection.name.value] : undefined;
        if (!definition) continue;
        const type = getNamedType(definition.type);
        if (isLeafType(type)) continue;
        const inner = walk(selection.selectionSet, type, inProgress);
        const isList = isListType(getNullableType(definition.type));
        const isConnection = definition.args.some((a) => a.name === 'first');
        const insideConnection = /(Connection|Edge)$/.test(parent.name);
        const size = isConnection || (isList && !insideConnection) ? listSize(selection, definition, variables) : 1;
        total += 1 + size * inner;
      }
    }
    return total;
  };
  const root = operation.operation === 'mutation' ? schema.getMutationType() : operation.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
  let cost = walk(operation.selectionSet, root, new Set());
  if (operation.operation === 'mutation') {
    cost += COST.mutation * operation.selectionSet.selections.filter((s) => s.kind === Kind.FIELD && !s.name.value.startsWith('__')).length;
  }
  return Math.ceil(cost);
}

/** At most MAX_ERRORS errors, messages cut to MAX_MESSAGE characters, suggestions gone in production. */
export function tidyErrors<E extends GraphQLError>(errors: readonly E[], production: boolean): GraphQLError[] {
  const tidy = (error: GraphQLError): GraphQLError => {
    let message = production ? error.message.replace(/\s*Did you mean [^?]*\?/g, '') : error.message;
    if (message.length > MAX_MESSAGE) message = `${message.slice(0, MAX_MESSAGE - 1)}…`;
    if (message === error.message) return error;
    return new GraphQLError(message, { nodes: error.nodes, path: error.path, extensions: error.extensions, originalError: error.originalError });
  };
  const kept = errors.slice(0, MAX_ERRORS).map(tidy);
  if (errors.length > MAX_ERRORS) {
    kept.push(new GraphQLError(`…and ${errors.length - MAX_ERRORS} more errors.`, { extensions: { code: 'TOO_MANY_ERRORS' } }));
  }
  return kept;
}

function tidyResult(result: ExecutionResult, production: boolean): ExecutionResult | undefined {
  if (!result.errors?.length) return undefined;
  const errors = tidyErrors(result.errors, production);
  if (errors.length === result.errors.length && errors.every((e, i) => e === result.errors![i])) return undefined;
  return { ...result, errors };
}

/** The rate-limit budget and key an operation is charged to. */
function budgetOf(rateLimits: RateLimits, ctx: Context) {
  const { principal } = ctx;
  switch (principal.kind) {
    case 'anonymous':
      return { budget: rateLimits.operations.anonymous, key: ctx.clientAddress };
    case 'user':
      return { budget: rateLimits.operations.user, key: principal.userId };
    default:
      return { budget: rateLimits.operations.apiKey, key: principal.apiKeyId };
  }
}

export function rateLimitedError(state: LimitState): GraphQLError {
  return new GraphQLError(`Rate limit exceeded; try again in ${state.resetSeconds} s.`, {
    extensions: {
      code: 'RATE_LIMITED',
      http: { status: 429, headers: { 'Retry-After': String(state.resetSeconds), ...rateLimitHeaders(state) } },
    },
  });
}

/** Where each HTTP request's rate limit stands, for its response headers. */
const limitStates = new WeakMap<Request, LimitState>();

export function useOperationLimits(options: { production: boolean; maxCost: number; rateLimits: RateLimits }): Plugin<Context> {
  const { production, maxCost, rateLimits } = options;
  /** An operation without variables costs the same every time: worked out once per document (yoga keeps parsed documents). */
  const fixedCosts = new WeakMap<OperationDefinitionNode, number>();
  const costOf = (schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>) => {
    if (operation.variableDefinitions?.length) return operationCost(schema, document, operation, variables);
    let cost = fixedCosts.get(operation);
    if (cost === undefined) {
      cost = operationCost(schema, document, operation);
      fixedCosts.set(operation, cost);
    }
    return cost;
  };
  /** Checks the variables and the cost, charges the caller; an error result when refused. */
  const admit = async (args: {
    schema: GraphQLSchema;
    document: DocumentNode;
    operationName?: string | null;
    variableValues?: Record<string, unknown> | null;
    contextValue: Context & { request?: Request };
  }): Promise<{ refused?: ExecutionResult; cost: { requested: number; limit: number } }> => {
    const problem = variablesProblem(args.variableValues ?? {});
    const limit = maxCost;
    if (problem) return { refused: { errors: [limitError(problem, 'OPERATION_LIMIT')] }, cost: { requested: 0, limit } };
    const operation = getOperationAST(args.document, args.operationName ?? undefined);
    const requested = operation ? costOf(args.schema, args.document, operation, args.variableValues ?? {}) : 0;
    const cost = { requested, limit };
    if (requested > limit) {
      return {
        refused: {
          errors: [limitError(`The operation costs ${requested}; the limit is ${limit}. Ask for fewer items (first) or fewer fields.`, 'COST_LIMIT', { cost })],
          extensions: { cost },
        },
        cost,
      };
    }
    const { budget, key } = budgetOf(rateLimits, args.contextValue);
    try {
      const state = await budget.charge(key, Math.max(1, requested));
      if (args.contextValue.request) limitStates.set(args.contextValue.request, state);
    } catch (error) {
      if (!(error instanceof RateLimitExceeded)) throw error;
      args.contextValue.logger.warn({ policy: error.state.policy, principal: args.contextValue.principal.kind }, 'rate limited');
      return { refused: { errors: [rateLimitedError(error.state)], extensions: { cost } }, cost };
    }
    return { cost };
  };

  return {
    onPluginInit({ addPlugin }) {
      addPlugin(maxTokensPlugin({ n: OPERATION_LIMITS.tokens, propagateOnRejection: true }));
    },
    onValidate({ addValidationRule }) {
      addValidationRule(maxDepthRule({ n: OPERATION_LIMITS.depth, ...armor }));
      addValidationRule(maxAliasesRule({ n: OPERATION_LIMITS.aliases, ...armor }));
      addValidationRule(maxDirectivesRule({ n: OPERATION_LIMITS.directives, ...armor }));
      addValidationRule(sameRootFieldRule(OPERATION_LIMITS.sameRootField));
      if (production) addValidationRule(NoSchemaIntrospectionCustomRule);
      return ({ result, setResult }) => {
        if (result.length > 0) setResult(tidyErrors(result, production));
      };
    },
    onParse() {
      return ({ result, replaceParseResult }) => {
        if (result instanceof GraphQLError) replaceParseResult(tidyErrors([result], production)[0]!);
      };
    },
    async onExecute({ args, setResultAndStopExecution }) {
      const { refused, cost } = await admit(args as never);
      if (refused) {
        setResultAndStopExecution(refused);
        return;
      }
      return {
        onExecuteDone({ result, setResult }) {
          if (Symbol.asyncIterator in result) return;
          const tidied = tidyResult(result, production) ?? result;
          setResult({ ...tidied, extensions: { ...tidied.extensions, cost } });
        },
      };
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      const { refused } = await admit(args as never);
      if (refused) {
        setResultAndStopExecution(refused);
        return;
      }
      return {
        onSubscribeResult({ result, setResult }) {
          if (Symbol.asyncIterator in result) return;
          const tidied = tidyResult(result, production);
          if (tidied) setResult(tidied);
        },
      };
    },
    onResponse({ request, response }) {
      const state = limitStates.get(request);
      if (!state) return;
      for (const [name, value] of Object.entries(rateLimitHeaders(state))) response.headers.set(name, value);
    },
  };
}
