import fs from 'node:fs';
import { isEnumType, isInputObjectType, isInterfaceType, isObjectType, isScalarType, Kind, type GraphQLObjectType, type GraphQLScalarType } from 'graphql';
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

  const dateTime = schema.getType('DateTime') as GraphQLScalarType;
  const parsed = (value: string) => (dateTime.parseValue(value) as Date).toISOString();
  const fromLiteral = (value: string) => (dateTime.parseLiteral({ kind: Kind.STRING, value }) as Date).toISOString();

  it('refuses calendar fields that do not round-trip (Feb 30, Jun 31, 24:00) instead of rolling them over', () => {
    for (const value of ['2027-02-30T00:00:00Z', '2027-02-29T12:00:00Z', '2027-06-31T00:00:00Z', '2027-01-01T24:00:00Z', '2027-12-31T24:00:00+01:00', '2027-01-01T23:59:60Z']) {
      expect(() => dateTime.parseValue(value), value).toThrow(/DateTime must be an ISO-8601 date and time/);
      expect(() => dateTime.parseLiteral({ kind: Kind.STRING, value }), value).toThrow(/DateTime must be an ISO-8601 date and time/);
    }
  });

  it('refuses years outside 0001–9999, written or once the offset is applied (Postgres has no year 0)', () => {
    for (const value of ['0000-01-01T00:00:00Z', '0000-12-31T23:59:59.999Z', '0001-01-01T00:30:00+01:00', '9999-12-31T23:00:00-05:00']) {
      expect(() => dateTime.parseValue(value), value).toThrow(/DateTime must be an ISO-8601 date and time/);
    }
  });

  it('accepts what is valid: offsets, fractional seconds, Z, no seconds, Feb 29 of a leap year, the first and last instants', () => {
    expect(parsed('2026-12-01T09:00:00Z')).toBe('2026-12-01T09:00:00.000Z');
    expect(parsed('2026-12-01T09:00Z')).toBe('2026-12-01T09:00:00.000Z');
    expect(parsed('2026-12-01T09:00:00.123456789+05:30')).toBe('2026-12-01T03:30:00.123Z');
    expect(parsed('2027-01-01T00:30:00+01:00')).toBe('2026-12-31T23:30:00.000Z');
    expect(parsed('2026-12-31T23:30:00-01:00')).toBe('2027-01-01T00:30:00.000Z');
    expect(parsed('2028-02-29T23:59:59.999Z')).toBe('2028-02-29T23:59:59.999Z');
    expect(parsed('0001-01-01T00:00:00Z')).toBe('0001-01-01T00:00:00.000Z');
    expect(fromLiteral('9999-12-31T23:59:59.999Z')).toBe('9999-12-31T23:59:59.999Z');
  });

  it('round-trips every instant it serializes', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('0001-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }), (date) => {
        expect((dateTime.parseValue(isoString(date)) as Date).getTime()).toBe(date.getTime());
      }),
      { numRuns: 2000 },
    );
  });
});
