/**
 * An enum whose values are known only once every module has loaded (error codes, partner
 * scopes: each module declares its own). Fields name it through `ref()`, which Pothos calls when
 * it builds the schema (field thunks are lazy); src/schema/index.ts calls `define` before that.
 */
import type { EnumRef } from '@pothos/core';
import { builder, type SchemaTypes } from './builder.js';

type Ref<T> = EnumRef<PothosSchemaTypes.ExtendDefaultTypes<SchemaTypes>, T, T>;

export interface LateEnum<T extends string> {
  define(values: Record<string, { value?: T; description: string }>): void;
  ref(): Ref<T>;
}

export function lateEnum<T extends string>(name: string, description: string): LateEnum<T> {
  let ref: Ref<T> | undefined;
  return {
    define(values) {
      if (ref) throw new Error(`the ${name} enum is already defined`);
      ref = builder.enumType(name, { description, values }) as unknown as Ref<T>;
    },
    ref() {
      if (!ref) throw new Error(`the ${name} enum is used before src/schema/index.ts defined it`);
      return ref;
    },
  };
}
