/**
 * What an operation asks of a field's result, read from the document, so that a list resolver can
 * read only the columns its page needs. Fragments are followed and their type conditions and
 * `@skip`/`@include` are ignored: the names found are a superset of what will be resolved, which is
 * the safe direction for choosing columns.
 */
import { Kind, type FieldNode, type FragmentDefinitionNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

export class Selection {
  private constructor(
    /** Field nodes by field name (every alias of a name together). */
    private readonly fields: Map<string, FieldNode[]>,
    private readonly fragments: Readonly<Record<string, FragmentDefinitionNode>>,
  ) {}

  /** The selection of the field `info` is resolving, followed down `path` (e.g. edges → node). */
  static of(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>, ...path: string[]): Selection {
    let selection = new Selection(subfields(info.fieldNodes, info.fragments), info.fragments);
    for (const name of path) selection = selection.below(name);
    return selection;
  }

  /** Names of the fields selected here. */
  names(): IterableIterator<string> {
    return this.fields.keys();
  }

  has(name: string): boolean {
    return this.fields.has(name);
  }

  /** What is selected below the field `name` (all its occurrences together). */
  below(name: string): Selection {
    return new Selection(subfields(this.fields.get(name) ?? [], this.fragments), this.fragments);
  }
}

function subfields(nodes: readonly FieldNode[], fragments: Readonly<Record<string, FragmentDefinitionNode>>): Map<string, FieldNode[]> {
  const found = new Map<string, FieldNode[]>();
  const seen = new Set<string>();
  const visit = (set: SelectionSetNode | undefined) => {
    for (const s of set?.selections ?? []) {
      if (s.kind === Kind.FIELD) {
        const list = found.get(s.name.value);
        if (list) list.push(s);
        else found.set(s.name.value, [s]);
      } else if (s.kind === Kind.INLINE_FRAGMENT) visit(s.selectionSet);
      else if (!seen.has(s.name.value)) {
        seen.add(s.name.value);
        visit(fragments[s.name.value]?.selectionSet);
      }
    }
  };
  for (const node of nodes) visit(node.selectionSet);
  return found;
}

/**
 * The columns a selection reads, from a table of what each field reads: `null` (every column)
 * when a selected field is not in the table, so a field added without an entry is never starved.
 */
export function columnsOf<C extends string>(
  selection: Selection,
  table: Readonly<Record<string, readonly C[]>>,
  always: readonly C[],
): C[] | null {
  const columns = new Set<C>(always);
  for (const name of selection.names()) {
    if (name === '__typename') continue;
    const read = Object.hasOwn(table, name) ? table[name] : undefined;
    if (!read) return null;
    for (const column of read) columns.add(column);
  }
  return [...columns];
}
