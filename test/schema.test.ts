import fs from 'node:fs';
import { isEnumType, isInputObjectType, isInterfaceType, isObjectType, isScalarType, type GraphQLObjectType } from 'graphql';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeGlobalId } from '../src/lib/ids.js';
import { isoString } from '../src/schema/common.js';
import { printSchemaSdl, schema } from '../src/schema/index.js';

describe('schema', () => {
  it('matches the committed schema/schema.graphql (run `npm run codegen` after changing it)', () => {
    const committed = fs.readFileSync(new URL('../schema/schema.graphql', import.meta.url), 'utf8');
    expect(printSchemaSdl()).toBe(committed);
  });

  it('has no field or argument for a CVV, anywhere', () => {
    const names: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (!(isObjectType(type) || isInterfaceType(type) || isInputObjectType(type))) continue;
      for (const field of Object.values(type.getFields())) {
        names.push(field.name, ...('args' in field ? field.args.map((a: { name: string }) => a.name) : []));
      }
    }
    expect(names.length).toBeGreaterThan(200);
    expect(names.filter((n) => /cvv|cvc|securitycode|cardcode/i.test(n))).toEqual([]);
  });

  it('describes every type, field, argument and enum value', () => {
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || (isScalarType(type) && ['String', 'Int', 'Boolean', 'ID', 'Float'].includes(type.name))) continue;
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of 'args' in field ? field.args : []) {
            if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
          }
        }
      }
      if (isEnumType(type)) {
        for (const value of type.getValues()) if (!value.description) missing.push(`${type.name}.${value.name}`);
      }
    }
    expect(missing).toEqual([]);
  });
  it('reads connection cursors through a resolver, never inline (a failing cursor getter is an error, not a request that never answers)', () => {
    const unresolved: string[] = [];
    let edges = 0;
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type)) continue;
      const names = type.name === 'PageInfo' ? ['startCursor', 'endCursor'] : type.name.endsWith('Edge') ? ['cursor'] : [];
      if (type.name.endsWith('Edge')) edges++;
      for (const name of names) if (!type.getFields()[name]?.resolve) unresolved.push(`${type.name}.${name}`);
    }
    expect(edges).toBeGreaterThan(5);
    expect(unresolved).toEqual([]);
  });

  it('resolves every node id at once (no promise) to the global id of its type and row', () => {
    const node = schema.getType('Node');
    const nodeTypes = Object.values(schema.getTypeMap()).filter((t) => isObjectType(t) && t.getInterfaces().some((i) => i === node));
    expect(nodeTypes.length).toBeGreaterThan(10);
    const row = { id: '4f6c1a2e-8b1d-4c3e-9f00-123456789abc' };
    for (const type of nodeTypes) {
      const id = (type as GraphQLObjectType).getFields().id!.resolve!(row, {}, {}, {} as never);
      expect(id, type.name).toBe(encodeGlobalId(type.name, row.id));
    }
  });
});

describe('DateTime', () => {
  it('serializes every instant exactly as Date.prototype.toISOString does', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date(Date.UTC(-5000, 0, 1)), max: new Date(Date.UTC(15000, 0, 1)), noInvalidDate: true }), (date) => {
        expect(isoString(date)).toBe(date.toISOString());
      }),
      { numRuns: 5000 },
    );
    expect(() => isoString(new Date(Number.NaN))).toThrow(RangeError);
  });
});
