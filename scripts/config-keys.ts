import type { z } from 'zod';
import { ConfigShape } from '../src/config/schema.js';

function unwrap(s: z.ZodTypeAny): z.ZodTypeAny {
  const d = s._def as { typeName: string; innerType?: z.ZodTypeAny; schema?: z.ZodTypeAny };
  if (d.typeName === 'ZodDefault' || d.typeName === 'ZodOptional' || d.typeName === 'ZodNullable')
    return unwrap(d.innerType!);
  if (d.typeName === 'ZodEffects') return unwrap(d.schema!);
  return s;
}

/** Every key path of the configuration schema, e.g. `targets[].pricing.hourly_usd`. */
export function configKeyPaths(schema: z.ZodTypeAny = ConfigShape, prefix = ''): string[] {
  const s = unwrap(schema);
  const d = s._def as { typeName: string; type?: z.ZodTypeAny; shape?: () => Record<string, z.ZodTypeAny> };
  if (d.typeName === 'ZodObject') {
    return Object.entries(d.shape!()).flatMap(([k, v]) => {
      const path = prefix ? `${prefix}.${k}` : k;
      const inner = configKeyPaths(v, path);
      return inner.length ? [path, ...inner] : [path];
    });
  }
  if (d.typeName === 'ZodArray') {
    const el = unwrap(d.type!);
    return (el._def as { typeName: string }).typeName === 'ZodObject' ? configKeyPaths(el, `${prefix}[]`) : [];
  }
  return [];
}
