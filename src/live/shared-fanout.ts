/**
 * Shared fan-out: graphql-ws subscriptions that would receive the same thing share one execution
 * and one serialised frame per event. Subscribers are grouped by (document, operation name,
 * variables, audience); the first of a group runs the operation through the whole envelop
 * pipeline (limits, masking, logging) and its results are written, already serialised, to every
 * socket of the group. Each subscriber still goes through admission (limits, rate charge,
 * metrics) on its own; it just does not execute or serialise anything per event.
 *
 * Only root subscription fields that declare `extensions: { sharedFanout: true }` are shared: a
 * field promises by it that its stream depends on nothing but its arguments and the caller's
 * audience (no `after:` replay, nothing read from the socket). The audience is who the caller is,
 * as far as any resolver can tell: everyone anonymous is one audience, a user is its own, an API
 * key (merchant, partner, admin) is its own. So a viewer-dependent field (`viewerHasActivated`,
 * a merchant's `activationCount`, a merchant's drafts) is only ever shared between subscriptions
 * of the same user or key.
 *
 * Credentials still hold per subscriber: a group of one API key ends when the key is revoked
 * (every member's socket closes with 4403); a user's members each watch their own token's expiry.
 * A socket that lets more than MAX_SOCKET_BUFFER bytes pile up is closed (4008), as before.
 */
import { getOperationAST, Kind, type DocumentNode, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { WebSocket } from 'ws';
import type { Context, Principal } from '../context.js';
import type { Logger } from '../logger.js';
import { CLOSE_FORBIDDEN, CLOSE_SLOW_CONSUMER, MAX_SOCKET_BUFFER, onStreamRegistered, watchCredentials } from './streams.js';

/** The field extension by which a root subscription field allows sharing. */
export const SHARED_FANOUT = 'sharedFanout';

/** Sockets written per turn of the event loop: a large group does not stall HTTP requests. */
const SEND_SLICE = 1000;

const DONE: IteratorResult<ExecutionResult> = { value: undefined, done: true };

/** What a joined subscriber's context lets go of: the parts made for its one operation. */
const IDLE_CONTEXT = { logger: undefined, connection: undefined, connectionParams: undefined, params: undefined, req: undefined, socket: undefined, requestId: undefined };

/** What the WebSocket transport adds to an operation's context (see app.ts). */
interface SocketContext {
  socket?: WebSocket;
  /** The graphql-ws id of the operation. */
  operationId?: string;
}

/**
 * Who the caller is, as far as resolvers can tell: the part of the grouping key that keeps one
 * viewer's answers from another. A user's tokens all say the same; an API key's scopes and
 * merchant are the key's.
 */
export function audienceOf(principal: Principal): string {
  switch (principal.kind) {
    case 'anonymous':
      return 'anonymous';
    case 'user':
      return `user:${principal.userId}`;
    default:
      return `key:${principal.apiKeyId}`;
  }
}

/** Numbers for parsed documents: yoga's parser cache hands out one DocumentNode per query text. */
const documentIds = new WeakMap<DocumentNode, number>();
let nextDocumentId = 1;
function documentId(document: DocumentNode): number {
  let id = documentIds.get(document);
  if (id === undefined) documentIds.set(document, (id = nextDocumentId++));
  return id;
}

/** The grouping key of a shareable subscription, or null when it is not shareable. */
export function shareKey(args: {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null;
  variableValues?: Record<string, unknown> | null;
  principal: Principal;
}): string | null {
  const operation = getOperationAST(args.document, args.operationName ?? undefined);
  if (operation?.operation !== 'subscription') return null;
  const [root, ...more] = operation.selectionSet.selections;
  if (!root || more.length > 0 || root.kind !== Kind.FIELD) return null;
  const field = args.schema.getSubscriptionType()?.getFields()[root.name.value];
  if (field?.extensions?.[SHARED_FANOUT] !== true) return null;
  return JSON.stringify([documentId(args.document), args.operationName ?? null, args.variableValues ?? null, audienceOf(args.principal)]);
}

/** The principal a group runs as: a user's without its token's expiry (each member watches its own). */
function groupPrincipal(principal: Principal): Principal {
  return principal.kind === 'user' ? { kind: 'user', userId: principal.userId } : principal;
}

/** A complete unmasked, unfragmented WebSocket text frame (RFC 6455 §5.2) holding `text`. */
function textFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81; // FIN, text
  if (header === 2) frame[1] = length;
  else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  frame.write(text, header);
  return frame;
}

/** What of ws's socket the fast path reads (ws 8: the TCP socket and the frame sender's queue). */
interface WsInternals {
  _socket?: { write(chunk: Buffer): boolean } | null;
  _sender?: { _queue?: unknown[] };
}

/**
 * Writes a prepared frame: one write of one buffer shared by every member, where ws.send would
 * frame the payload again and write header and payload separately for each socket (a third of
 * the fan-out's CPU). Only while ws has nothing queued of its own (it queues only while it
 * compresses, which this server never does), so frames keep their order; otherwise ws sends it.
 */
function sendFrame(socket: WebSocket, frame: Buffer): void {
  const internals = socket as unknown as WsInternals;
  if (internals._socket && internals._sender?._queue?.length === 0) internals._socket.write(frame);
  else socket.send(frame.subarray(frame[1] === 126 ? 4 : frame[1] === 127 ? 10 : 2), { binary: false });
}

/** One subscriber: the iterator graphql-ws holds (it never yields; frames go to the socket directly). */
class Member implements AsyncIterableIterator<ExecutionResult> {
  private resolve: ((result: IteratorResult<ExecutionResult>) => void) | undefined;
  private reject: ((error: unknown) => void) | undefined;
  private failure: { error: unknown } | undefined;
  finished = false;
  stopWatching: () => void = () => undefined;

  constructor(
    readonly socket: WebSocket,
    readonly id: string,
    private readonly group: Group,
  ) {}

  next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.finished) {
      const failure = this.failure;
      this.failure = undefined;
      return failure ? Promise.reject(failure.error) : Promise.resolve(DONE);
    }
    return new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** No more events: graphql-ws completes the operation (or reports `failure`). */
  finish(failure?: { error: unknown }): void {
    if (this.finished) return;
    this.finished = true;
    this.stopWatching();
    const { resolve, reject } = this;
    this.resolve = this.reject = undefined;
    if (!resolve) this.failure = failure;
    else if (failure) reject!(failure.error);
    else resolve(DONE);
  }

  /** The client completed the operation or went away. */
  return(): Promise<IteratorResult<ExecutionResult>> {
    this.group.leave(this);
    this.finish();
    return Promise.resolve(DONE);
  }

  throw(): Promise<IteratorResult<ExecutionResult>> {
    return this.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** Subscribers with one key, and the one operation that computes their frames. */
class Group {
  readonly members = new Set<Member>();
  /** Its stream is registered on the bus: members receive every event from now on. */
  live = false;
  closed = false;
  source: AsyncIterator<ExecutionResult> | undefined;
  /** What the group's operation sees as its connection: closing it closes every member's socket. */
  readonly connection = {
    close: (code: number, reason: string) => {
      for (const member of this.members) member.socket.close(code, reason);
    },
    // Each member's own socket is checked before every write (see broadcast).
    bufferedAmount: () => 0,
  };

  constructor(
    private readonly fanout: SharedFanout,
    readonly key: string,
  ) {}

  add(socket: WebSocket, id: string, principal: Principal): Member {
    const member = new Member(socket, id, this);
    if (principal.kind === 'user' && principal.expiresAt) {
      member.stopWatching = watchCredentials(principal, undefined, (reason) => socket.close(CLOSE_FORBIDDEN, reason));
    }
    this.members.add(member);
    return member;
  }

  leave(member: Member): void {
    if (!this.members.delete(member) || this.members.size > 0) return;
    // The last one left: stop the operation (its bus listener goes with it).
    this.retire();
    void this.source?.return?.()?.catch?.(() => undefined);
  }

  /** No one may join any more; the next subscriber with this key starts a new group. */
  retire(): void {
    this.closed = true;
    this.fanout.forget(this);
  }

  async run(): Promise<void> {
    let failure: { error: unknown } | undefined;
    try {
      for (;;) {
        const step = await this.source!.next();
        if (step.done || this.closed) break;
        await this.broadcast(step.value);
      }
    } catch (error) {
      failure = { error };
    }
    this.retire();
    for (const member of this.members) member.finish(failure);
  }

  /** Serialises the result once and writes it to every member's socket, a slice at a time. */
  private async broadcast(result: ExecutionResult): Promise<void> {
    this.fanout.executions++;
    const payload = JSON.stringify(result);
    let frameId: string | undefined;
    let frame: Buffer | undefined;
    const members = [...this.members];
    for (let i = 0; i < members.length; i++) {
      if (i > 0 && i % SEND_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const member = members[i]!;
      const { socket } = member;
      if (member.finished || socket.readyState !== socket.OPEN) continue;
      if (socket.bufferedAmount > MAX_SOCKET_BUFFER) {
        this.fanout.logger.warn({ group: this.key }, 'slow subscriber disconnected');
        socket.close(CLOSE_SLOW_CONSUMER, 'Too slow: the event buffer is full; reconnect with your last cursor');
        continue;
      }
      // Members of one client library often use the same operation ids: reuse the frame then.
      if (member.id !== frameId) {
        frameId = member.id;
        frame = textFrame(`{"id":${JSON.stringify(member.id)},"type":"next","payload":${payload}}`);
      }
      sendFrame(socket, frame!);
    }
  }
}

/** A subscriber whose operation is about to run as the first of a new group. */
interface Founder {
  group: Group;
  socket: WebSocket;
  id: string;
  principal: Principal;
}

/** The instance's shared groups. */
export class SharedFanout {
  /** Off: every subscription runs its own operation, as without this module (benchmarks compare). */
  enabled = true;
  /** Results executed and serialised for groups: one per event per group. */
  executions = 0;
  private readonly groups = new Map<string, Group>();
  private readonly founders = new WeakMap<object, Founder>();
  /** Subscribers that joined a group, until graphql-ws takes their stream (see adopt). */
  private readonly joined = new WeakMap<object, Member>();

  constructor(readonly logger: Logger) {}

  /** Subscribers of groups whose stream is registered (each receives every event from now on). */
  get subscribers(): number {
    let count = 0;
    for (const group of this.groups.values()) if (group.live) count += group.members.size;
    return count;
  }

  /** Groups whose stream is registered: each holds one bus listener for all its subscribers. */
  get liveGroups(): number {
    let count = 0;
    for (const group of this.groups.values()) if (group.live) count++;
    return count;
  }

  forget(group: Group): void {
    if (this.groups.get(group.key) === group) this.groups.delete(group.key);
  }

  /**
   * The envelop plugin, last in the list (after admission by the others): a subscriber of an
   * existing group joins it instead of running the operation; the first one runs it as the group.
   */
  plugin(): Plugin<Context> {
    return {
      onSubscribe: ({ args, subscribeFn, setSubscribeFn }) => {
        if (!this.enabled) return;
        const ctx = args.contextValue as Context & SocketContext;
        const { socket, operationId } = ctx;
        if (!socket || operationId === undefined || this.founders.has(ctx)) return;
        const key = shareKey({ ...args, principal: ctx.principal });
        if (key === null) return;
        setSubscribeFn((subscribeArgs) => {
          const group = this.groups.get(key);
          if (!group || group.closed) {
            this.found(ctx, key, socket, operationId);
            return subscribeFn(subscribeArgs);
          }
          const member = group.add(socket, operationId, ctx.principal);
          this.joined.set(ctx, member);
          return member;
        });
      },
    };
  }

  /** Prepares `ctx` to run as a new group's operation (its connection and principal become the group's). */
  private found(ctx: Context & SocketContext, key: string, socket: WebSocket, id: string): void {
    const group = new Group(this, key);
    this.founders.set(ctx, { group, socket, id, principal: ctx.principal });
    ctx.connection = group.connection;
    ctx.principal = groupPrincipal(ctx.principal);
    onStreamRegistered.set(ctx, () => {
      group.live = true;
    });
  }

  /**
   * What graphql-ws iterates for an operation (app.ts calls it with every WebSocket result): the
   * result itself, unless the operation was founding a group; then the group starts with this
   * result as its source and the founder is its first member.
   */
  adopt(contextValue: unknown, result: unknown): unknown {
    const joiner = this.joined.get(contextValue as object);
    if (joiner) {
      // graphql-ws holds the bare member (not the pipeline's wrappers around a stream that never
      // yields) and, through its arguments, this context for as long as the subscriber stays:
      // keep only what the context shares with every other operation.
      this.joined.delete(contextValue as object);
      Object.assign(contextValue as object, IDLE_CONTEXT);
      return joiner;
    }
    const founder = this.founders.get(contextValue as object);
    if (!founder) return result;
    this.founders.delete(contextValue as object);
    if (result === null || typeof result !== 'object' || !(Symbol.asyncIterator in result)) return result; // refused: graphql-ws reports it
    const source = (result as AsyncIterable<ExecutionResult>)[Symbol.asyncIterator]();
    const existing = this.groups.get(founder.group.key);
    if (existing && !existing.closed) {
      // Another subscriber founded the same group meanwhile: join it and drop this operation.
      void source.return?.()?.catch?.(() => undefined);
      return existing.add(founder.socket, founder.id, founder.principal);
    }
    const { group } = founder;
    group.source = source;
    this.groups.set(group.key, group);
    const member = group.add(founder.socket, founder.id, founder.principal);
    // The context outlives the founder in the group: it must not keep the founder's socket.
    const ctx = contextValue as Context & SocketContext & { req?: unknown };
    ctx.socket = undefined;
    ctx.req = undefined;
    void group.run();
    return member;
  }
}
